package collectors

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/schemas"
)

// Envelope sources of the trade collectors. The Comtrade API and Comtrade file exports share one
// source, so the same record from either collapses onto one event id.
const (
	SourceComtrade = "comtrade"
	SourceBACI     = "baci"
)

// comtradeRecord is one UN Comtrade v1 data record (API JSON "data" element or a CSV row).
type comtradeRecord struct {
	TypeCode           string     `json:"typeCode"`
	FreqCode           string     `json:"freqCode"`
	RefYear            flexInt    `json:"refYear"`
	RefMonth           flexInt    `json:"refMonth"`
	Period             flexString `json:"period"`
	ReporterCode       flexInt    `json:"reporterCode"`
	ReporterISO        string     `json:"reporterISO"`
	FlowCode           string     `json:"flowCode"`
	PartnerCode        flexInt    `json:"partnerCode"`
	PartnerISO         string     `json:"partnerISO"`
	Partner2Code       flexInt    `json:"partner2Code"`
	ClassificationCode string     `json:"classificationCode"`
	CmdCode            flexString `json:"cmdCode"`
	CustomsCode        string     `json:"customsCode"`
	MotCode            flexInt    `json:"motCode"`
	QtyUnitCode        flexInt    `json:"qtyUnitCode"`
	QtyUnitAbbr        string     `json:"qtyUnitAbbr"`
	Qty                *float64   `json:"qty"`
	IsQtyEstimated     flexBool   `json:"isQtyEstimated"`
	IsAltQtyEstimated  flexBool   `json:"isAltQtyEstimated"`
	NetWgt             *float64   `json:"netWgt"`
	IsNetWgtEstimated  flexBool   `json:"isNetWgtEstimated"`
	CIFValue           *float64   `json:"cifvalue"`
	FOBValue           *float64   `json:"fobvalue"`
	PrimaryValue       *float64   `json:"primaryValue"`
}

// flexInt accepts a JSON number, a numeric string, or null (0).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != float64(int64(v)) {
		return typeErr(b, "an integer")
	}
	*f = flexInt(v)
	return nil
}

// flexString accepts a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	*f = flexString(b)
	return nil
}

// flexBool accepts true/false, "True"/"False" and null.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(b), `"`)) {
	case "true", "1":
		*f = true
	case "false", "0", "null", "":
		*f = false
	default:
		return typeErr(b, "a boolean")
	}
	return nil
}

// qtyUnits names Comtrade quantity unit codes when a record carries no abbreviation.
var qtyUnits = map[int64]string{5: "u", 8: "kg"}

var flowCodes = map[string]bool{"M": true, "X": true, "RM": true, "RX": true}

// tradeConv turns Comtrade records into TradeFlow events.
type tradeConv struct{ countries *m49.Table }

// hsCode normalises a commodity code: digits only, an odd length restored with its lost leading
// zero (a CSV tool turned "0301" into "301"), 2/4/6 digits kept as given.
func hsCode(field, s string) (string, *rejectErr) {
	s = strings.TrimSpace(s)
	if s != "" && len(s) <= 5 && len(s)%2 == 1 && allDigits(s) {
		s = "0" + s
	}
	if !schemas.ValidHS(s) {
		return "", rejectf("unsupported_hs_code", "%s: %q is not a 2, 4 or 6 digit HS code", field, s)
	}
	return s, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (c tradeConv) iso(code int64, given string) string {
	given = strings.TrimSpace(given)
	if len(given) == 3 && given != "W00" && given[0] >= 'A' && given[0] <= 'Z' && allUpper(given) {
		return given
	}
	return c.countries.ISO3(uint16(code))
}

func allUpper(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func m49Code(field string, v flexInt) (uint16, *rejectErr) {
	if v < 0 || v > 999 {
		return 0, rejectf("bad_country", "%s: %d is not an M49 code (0..999)", field, v)
	}
	return uint16(v), nil
}

// knownM49 rejects a reporter or partner code the M49 table does not know (a typo, or a code from
// a newer list): it would be stored without a country and never match a supply map.
func knownM49(t *m49.Table, field string, code uint16) *rejectErr {
	if _, ok := t.ByM49(code); !ok {
		return rejectf("bad_country", "%s: %d is not a known M49 area code", field, code)
	}
	return nil
}

func (c tradeConv) flow(r *comtradeRecord) (*schemas.TradeFlow, *rejectErr) {
	t := &schemas.TradeFlow{Classification: strings.TrimSpace(r.ClassificationCode),
		CustomsCode: strings.TrimSpace(r.CustomsCode)}
	var rej *rejectErr
	if t.ReporterM49, rej = m49Code("reporterCode", r.ReporterCode); rej != nil {
		return nil, rej
	}
	if t.PartnerM49, rej = m49Code("partnerCode", r.PartnerCode); rej != nil {
		return nil, rej
	}
	if t.Partner2M49, rej = m49Code("partner2Code", r.Partner2Code); rej != nil {
		return nil, rej
	}
	if rej = knownM49(c.countries, "reporterCode", t.ReporterM49); rej != nil {
		return nil, rej
	}
	if rej = knownM49(c.countries, "partnerCode", t.PartnerM49); rej != nil {
		return nil, rej
	}
	t.ReporterISO3 = c.iso(int64(r.ReporterCode), r.ReporterISO)
	t.PartnerISO3 = c.iso(int64(r.PartnerCode), r.PartnerISO)
	t.Flow = strings.TrimSpace(r.FlowCode)
	if !flowCodes[t.Flow] {
		return nil, rejectf("unsupported_flow", "flowCode: %q is not one of M, X, RM, RX", t.Flow)
	}
	if t.HSCode, rej = hsCode("cmdCode", string(r.CmdCode)); rej != nil {
		return nil, rej
	}
	year, month := int64(r.RefYear), int64(0)
	if p := strings.TrimSpace(string(r.Period)); allDigits(p) {
		switch len(p) {
		case 4:
			year, _ = strconv.ParseInt(p, 10, 64)
		case 6:
			year, _ = strconv.ParseInt(p[:4], 10, 64)
			month, _ = strconv.ParseInt(p[4:], 10, 64)
		}
	}
	if strings.TrimSpace(r.FreqCode) == "M" && month == 0 && r.RefMonth >= 1 && r.RefMonth <= 12 {
		month = int64(r.RefMonth)
	}
	if year <= 0 || year > 65535 {
		return nil, rejectf("bad_period", "period: %q / refYear %d is not a year", r.Period, r.RefYear)
	}
	if month < 0 || month > 12 {
		return nil, rejectf("bad_period", "period: %q has month %d", r.Period, month)
	}
	t.Year, t.Month = uint16(year), uint8(month)
	if r.MotCode < 0 || r.MotCode > 65535 {
		return nil, rejectf("bad_number", "motCode: %d out of range", r.MotCode)
	}
	t.MOTCode = uint16(r.MotCode)
	switch {
	case r.PrimaryValue != nil:
		t.ValueUSD = *r.PrimaryValue
	case (t.Flow == "M" || t.Flow == "RM") && r.CIFValue != nil:
		t.ValueUSD = *r.CIFValue
	case (t.Flow == "X" || t.Flow == "RX") && r.FOBValue != nil:
		t.ValueUSD = *r.FOBValue
	default:
		return nil, rejectf("missing_value", "primaryValue: missing, and no %s value either", map[bool]string{true: "cifvalue", false: "fobvalue"}[t.Flow == "M" || t.Flow == "RM"])
	}
	t.NetWeightKg = r.NetWgt
	if r.Qty != nil && r.QtyUnitCode != -1 {
		t.Quantity = r.Qty
		t.QtyUnit = strings.TrimSpace(r.QtyUnitAbbr)
		if t.QtyUnit == "" || t.QtyUnit == "N/A" {
			if u, ok := qtyUnits[int64(r.QtyUnitCode)]; ok {
				t.QtyUnit = u
			} else {
				t.QtyUnit = "code:" + strconv.FormatInt(int64(r.QtyUnitCode), 10)
			}
		}
	}
	t.Estimated = bool(r.IsQtyEstimated || r.IsNetWgtEstimated || r.IsAltQtyEstimated)
	return t, nil
}

// ---- Comtrade JSON (API response body, or a bare array of records) --------------------------------

// comtradeBody is what decodeComtradeJSON found besides the records.
type comtradeBody struct {
	Count   int64
	HasData bool
	Error   string // the body's "error" (or an APIM "message")
}

// decodeComtradeJSON streams the records of a Comtrade v1 JSON body to fn, one raw element at a time.
func decodeComtradeJSON(r io.Reader, fn func(i int, raw json.RawMessage) error) (comtradeBody, error) {
	var body comtradeBody
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return body, fmt.Errorf("comtrade json: %w", err)
	}
	records := func() error {
		i := 0
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("comtrade json: data[%d]: %w", i, err)
			}
			if err := fn(i, raw); err != nil {
				return err
			}
			i++
		}
		_, err := dec.Token() // ]
		return err
	}
	switch tok {
	case json.Delim('['):
		body.HasData = true
		return body, records()
	case json.Delim('{'):
	default:
		return body, fmt.Errorf("comtrade json: body starts with %v, want an object or array", tok)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return body, fmt.Errorf("comtrade json: %w", err)
		}
		key, _ := kt.(string)
		switch key {
		case "data":
			t, err := dec.Token()
			if err != nil {
				return body, fmt.Errorf("comtrade json: data: %w", err)
			}
			if t == json.Delim('[') {
				body.HasData = true
				if err := records(); err != nil {
					return body, err
				}
			} else if t != nil {
				return body, fmt.Errorf("comtrade json: data is %v, want an array", t)
			}
		case "count":
			var n json.Number
			if err := dec.Decode(&n); err == nil {
				body.Count, _ = n.Int64()
			}
		case "error", "message":
			var s any
			if err := dec.Decode(&s); err != nil {
				return body, fmt.Errorf("comtrade json: %s: %w", key, err)
			}
			if str, ok := s.(string); ok && str != "" {
				body.Error = str
			}
		default:
			if err := skipValue(dec); err != nil {
				return body, fmt.Errorf("comtrade json: %s: %w", key, err)
			}
		}
	}
	return body, nil
}

// skipValue consumes one JSON value from dec without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// importTrade reads a Comtrade export: JSON (an API body or an array of records) or CSV, detected
// from the first byte.
func importTrade(o *out, r io.Reader, name string, countries *m49.Table) error {
	br := bufio.NewReader(textReader(r))
	first, err := firstByte(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	conv := tradeConv{countries: countries}
	if first == '{' || first == '[' {
		body, err := decodeComtradeJSON(br, func(i int, raw json.RawMessage) error {
			o.read()
			loc := fmt.Sprintf("%s#data[%d]", name, i)
			if k := dupJSONKey(raw); k != "" {
				return o.rejectKind(schemas.KindTrade, loc, "duplicate_key", k+": given twice in one object", raw)
			}
			var rec comtradeRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				return o.rejectKind(schemas.KindTrade, loc, "bad_json", jsonFieldErr(err), raw)
			}
			t, rej := conv.flow(&rec)
			if rej != nil {
				return o.rejectKind(schemas.KindTrade, loc, rej.reason, rej.detail, raw)
			}
			return o.event(t, loc, func() []byte { return raw })
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if body.Error != "" {
			return fmt.Errorf("%s: the body reports an error: %s", name, body.Error)
		}
		return nil
	}
	return importComtradeCSV(o, br, name, conv)
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			br.Discard(1)
			continue
		}
		return b[0], nil
	}
}

// jsonFieldErr renders a json.Unmarshal error naming the field.
func jsonFieldErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		if te.Type == nil {
			return fmt.Sprintf("%s: %s", te.Field, te.Value)
		}
		return fmt.Sprintf("%s: %s is not a %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// typeErr is the error of the lenient JSON types (flexInt, flexBool, flexFloat): a
// *json.UnmarshalTypeError, so encoding/json adds the field's path and jsonFieldErr names it.
func typeErr(b []byte, want string) error {
	v := string(b)
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return &json.UnmarshalTypeError{Value: fmt.Sprintf("%s is not %s", v, want)}
}

// comtradeCSVColumns maps comtradeRecord fields to CSV header names (normalised, alternatives).
var comtradeCSVColumns = map[string][]string{
	"typeCode": {"typecode"}, "freqCode": {"freqcode"}, "refYear": {"refyear"}, "refMonth": {"refmonth"},
	"period": {"period"}, "reporterCode": {"reportercode"}, "reporterISO": {"reporteriso"}, "flowCode": {"flowcode"},
	"partnerCode": {"partnercode"}, "partnerISO": {"partneriso"}, "partner2Code": {"partner2code"},
	"classificationCode": {"classificationcode"}, "cmdCode": {"cmdcode"}, "customsCode": {"customscode"},
	"motCode": {"motcode"}, "qtyUnitCode": {"qtyunitcode"}, "qtyUnitAbbr": {"qtyunitabbr"}, "qty": {"qty"},
	"isQtyEstimated": {"isqtyestimated"}, "isAltQtyEstimated": {"isaltqtyestimated"}, "netWgt": {"netwgt", "netwgt_kg"},
	"isNetWgtEstimated": {"isnetwgtestimated"}, "cifvalue": {"cifvalue", "cifvalue_usd"},
	"fobvalue": {"fobvalue", "fobvalue_usd"}, "primaryValue": {"primaryvalue", "primaryvalue_usd"},
}

func importComtradeCSV(o *out, r io.Reader, name string, conv tradeConv) error {
	c := newCSV(r, name)
	if err := c.readHeader(); err != nil {
		return err
	}
	if c.col("i") >= 0 && c.col("j") >= 0 && c.col("k") >= 0 && c.col("v") >= 0 {
		return fmt.Errorf("%s: this is a BACI file (columns t,i,j,k,v,q); import it as kind baci", name)
	}
	idx := map[string]int{}
	for f, names := range comtradeCSVColumns {
		idx[f] = c.col(names...)
	}
	for _, req := range []string{"reporterCode", "partnerCode", "flowCode", "cmdCode", "primaryValue"} {
		if idx[req] < 0 {
			return fmt.Errorf("%s: not a Comtrade CSV: no %s column", name, req)
		}
	}
	bad := func(loc, detail string, raw []byte) error {
		o.read()
		return o.rejectKind(schemas.KindTrade, loc, "bad_csv", detail, raw)
	}
	return c.each(bad, func(rec []string, loc string) error {
		o.read()
		raw := func() []byte { return csvLine(rec) }
		cr, rej := comtradeFromCSV(rec, idx)
		if rej == nil {
			var t *schemas.TradeFlow
			if t, rej = conv.flow(cr); rej == nil {
				return o.event(t, loc, raw)
			}
		}
		return o.rejectKind(schemas.KindTrade, loc, rej.reason, rej.detail, raw())
	})
}

func comtradeFromCSV(rec []string, idx map[string]int) (*comtradeRecord, *rejectErr) {
	r := &comtradeRecord{}
	var rej *rejectErr
	intField := func(f string) flexInt {
		s := get(rec, idx[f])
		if s == "" || rej != nil {
			return 0
		}
		v, err := parseNumber(s)
		if err != nil || v != float64(int64(v)) {
			rej = rejectf("bad_number", "%s: %q is not an integer", f, s)
			return 0
		}
		return flexInt(v)
	}
	numField := func(f string) *float64 {
		if rej != nil {
			return nil
		}
		v, err := optNumber(get(rec, idx[f]))
		if err != nil {
			rej = rejectf("bad_number", "%s: %v", f, err)
		}
		return v
	}
	boolField := func(f string) flexBool {
		b, err := parseBool(get(rec, idx[f]))
		if err != nil && rej == nil {
			rej = rejectf("bad_bool", "%s: %v", f, err)
		}
		return flexBool(b)
	}
	r.TypeCode, r.FreqCode = get(rec, idx["typeCode"]), get(rec, idx["freqCode"])
	r.RefYear, r.RefMonth = intField("refYear"), intField("refMonth")
	r.Period = flexString(get(rec, idx["period"]))
	r.ReporterCode = intField("reporterCode")
	r.ReporterISO = get(rec, idx["reporterISO"])
	r.FlowCode = get(rec, idx["flowCode"])
	r.PartnerCode = intField("partnerCode")
	r.PartnerISO = get(rec, idx["partnerISO"])
	r.Partner2Code = intField("partner2Code")
	r.ClassificationCode = get(rec, idx["classificationCode"])
	r.CmdCode = flexString(get(rec, idx["cmdCode"]))
	r.CustomsCode = get(rec, idx["customsCode"])
	r.MotCode = intField("motCode")
	r.QtyUnitCode = intField("qtyUnitCode")
	if get(rec, idx["qtyUnitCode"]) == "" {
		r.QtyUnitCode = -1
	}
	r.QtyUnitAbbr = get(rec, idx["qtyUnitAbbr"])
	r.Qty = numField("qty")
	r.IsQtyEstimated = boolField("isQtyEstimated")
	r.IsAltQtyEstimated = boolField("isAltQtyEstimated")
	r.NetWgt = numField("netWgt")
	r.IsNetWgtEstimated = boolField("isNetWgtEstimated")
	r.CIFValue = numField("cifvalue")
	r.FOBValue = numField("fobvalue")
	r.PrimaryValue = numField("primaryValue")
	if rej != nil {
		return nil, rej
	}
	return r, nil
}

// ---- BACI -----------------------------------------------------------------------------------------

var baciNameRe = regexp.MustCompile(`(?i)BACI_HS(\d\d)`)

// baciClassification maps the HS revision in a BACI file name (BACI_HS17_Y2022_V202401.csv) to the
// Comtrade classification code.
func baciClassification(name string) string {
	m := baciNameRe.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return ""
	}
	return map[string]string{"92": "H0", "96": "H1", "02": "H2", "07": "H3", "12": "H4", "17": "H5", "22": "H6"}[m[1]]
}

// importBACI reads a BACI-style bulk CSV: t (year), i (exporter), j (importer), k (HS6 product),
// v (value, thousand USD), q (quantity, metric tons). Each row becomes an export flow reported by i.
func importBACI(o *out, r io.Reader, name, classification string, countries *m49.Table) error {
	c := newCSV(textReader(r), name)
	if err := c.readHeader(); err != nil {
		return err
	}
	ti, ii, ji, ki, vi, qi := c.col("t", "year"), c.col("i", "exporter"), c.col("j", "importer"), c.col("k", "product", "hs6"),
		c.col("v", "value"), c.col("q", "quantity")
	if ti < 0 || ii < 0 || ji < 0 || ki < 0 || vi < 0 {
		return fmt.Errorf("%s: not a BACI file: want columns t,i,j,k,v[,q], got %s", name, strings.Join(c.header, ","))
	}
	if classification == "" {
		classification = baciClassification(name)
	}
	bad := func(loc, detail string, raw []byte) error {
		o.read()
		return o.rejectKind(schemas.KindTrade, loc, "bad_csv", detail, raw)
	}
	return c.each(bad, func(rec []string, loc string) error {
		o.read()
		t, rej := baciRow(rec, ti, ii, ji, ki, vi, qi, classification, countries)
		if rej != nil {
			return o.rejectKind(schemas.KindTrade, loc, rej.reason, rej.detail, csvLine(rec))
		}
		return o.event(t, loc, func() []byte { return csvLine(rec) })
	})
}

func baciRow(rec []string, ti, ii, ji, ki, vi, qi int, cl string, countries *m49.Table) (*schemas.TradeFlow, *rejectErr) {
	intCol := func(field string, i int, max int64) (int64, *rejectErr) {
		s := get(rec, i)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > max {
			return 0, rejectf("bad_number", "%s: %q is not an integer in 0..%d", field, s, max)
		}
		return n, nil
	}
	year, rej := intCol("t", ti, 9999)
	if rej != nil {
		return nil, rej
	}
	exp, rej := intCol("i", ii, 999)
	if rej != nil {
		return nil, rej
	}
	imp, rej := intCol("j", ji, 999)
	if rej != nil {
		return nil, rej
	}
	if rej := knownM49(countries, "i", uint16(exp)); rej != nil {
		return nil, rej
	}
	if rej := knownM49(countries, "j", uint16(imp)); rej != nil {
		return nil, rej
	}
	hs, rej := hsCode("k", get(rec, ki))
	if rej != nil {
		return nil, rej
	}
	v, err := parseNumber(get(rec, vi))
	if err != nil {
		return nil, rejectf("bad_number", "v: %v", err)
	}
	t := &schemas.TradeFlow{ReporterM49: uint16(exp), PartnerM49: uint16(imp), Flow: "X", HSCode: hs,
		Classification: cl, Year: uint16(year), ValueUSD: v * 1000}
	t.ReporterISO3, t.PartnerISO3 = countries.ISO3(t.ReporterM49), countries.ISO3(t.PartnerM49)
	if qi >= 0 {
		q, err := optNumber(get(rec, qi))
		if err != nil {
			return nil, rejectf("bad_number", "q: %v", err)
		}
		if q != nil {
			kg := *q * 1000
			t.Quantity, t.QtyUnit, t.NetWeightKg = q, "t", &kg
		}
	}
	return t, nil
}
