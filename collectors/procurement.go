package collectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/schemas"
)

// SourceOCDS is the default envelope source of procurement awards.
const SourceOCDS = "ocds"

type ocdsOrg struct {
	ID         flexString `json:"id"`
	Name       string     `json:"name"`
	Identifier *struct {
		ID        flexString `json:"id"`
		Scheme    string     `json:"scheme"`
		LegalName string     `json:"legalName"`
	} `json:"identifier"`
	Address *struct {
		CountryName string `json:"countryName"`
	} `json:"address"`
	Roles []string `json:"roles"`
}

func (p *ocdsOrg) id() string {
	if id := strings.TrimSpace(string(p.ID)); id != "" {
		return id
	}
	if p.Identifier != nil {
		return strings.TrimSpace(string(p.Identifier.ID))
	}
	return ""
}

func (p *ocdsOrg) name() string {
	if n := strings.TrimSpace(p.Name); n != "" {
		return n
	}
	if p.Identifier != nil {
		return strings.TrimSpace(p.Identifier.LegalName)
	}
	return ""
}

func (p *ocdsOrg) countryName() string {
	if p.Address == nil {
		return ""
	}
	return strings.TrimSpace(p.Address.CountryName)
}

type ocdsClassification struct {
	Scheme      string     `json:"scheme"`
	ID          flexString `json:"id"`
	Description string     `json:"description"`
}

type ocdsItem struct {
	ID             flexString          `json:"id"`
	Description    string              `json:"description"`
	Classification *ocdsClassification `json:"classification"`
}

// flexFloat accepts a JSON number, a numeric string or null.
type flexFloat struct {
	v   float64
	set bool
}

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*f = flexFloat{}
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return typeErr(b, "a finite number")
	}
	*f = flexFloat{v: v, set: true}
	return nil
}

type ocdsAward struct {
	ID     flexString `json:"id"`
	Status string     `json:"status"`
	Date   *string    `json:"date"`
	Value  *struct {
		Amount   flexFloat `json:"amount"`
		Currency *string   `json:"currency"`
	} `json:"value"`
	Suppliers []ocdsOrg  `json:"suppliers"`
	Items     []ocdsItem `json:"items"`
	Loc       string     `json:"_cw_loc"` // set by the compiler (keptAward.Loc): where the award last came from
}

type ocdsRelease struct {
	OCID    string     `json:"ocid"`
	ID      flexString `json:"id"`
	Date    *string    `json:"date"`
	Parties []ocdsOrg  `json:"parties"`
	Buyer   *ocdsOrg   `json:"buyer"`
	Tender  *struct {
		Items          []ocdsItem          `json:"items"`
		Classification *ocdsClassification `json:"classification"`
	} `json:"tender"`
	Awards []ocdsAward `json:"awards"`
}

// ocdsConv turns OCDS releases into ProcurementAward events: releases go to the compiler (one
// compiled release per ocid, ocdscompile.go), record compiledReleases are converted as they are.
type ocdsConv struct {
	o         *out
	countries *m49.Table
	comp      *ocdsCompiler
}

var orgIDPrefixRe = regexp.MustCompile(`^([A-Z]{2})-[A-Za-z0-9]+-`)

// country resolves a party to an ISO alpha-3 code: address.countryName (name, alpha-2 or alpha-3),
// else the org-id prefix of its identifier ("GB-COH-…" → GBR); otherwise the name as given.
func (c *ocdsConv) country(org *ocdsOrg, party *ocdsOrg) string {
	for _, p := range []*ocdsOrg{party, org} {
		if p == nil {
			continue
		}
		if n := p.countryName(); n != "" {
			if ct, ok := c.countries.Resolve(n); ok && ct.ISO3 != "" {
				return ct.ISO3
			}
		}
	}
	for _, p := range []*ocdsOrg{party, org} {
		if p == nil {
			continue
		}
		ids := []string{p.id()}
		if p.Identifier != nil {
			ids = append(ids, string(p.Identifier.ID), p.Identifier.Scheme)
		}
		for _, id := range ids {
			if m := orgIDPrefixRe.FindStringSubmatch(id + "-"); m != nil {
				if ct, ok := c.countries.ByISO2(m[1]); ok {
					return ct.ISO3
				}
			}
		}
	}
	for _, p := range []*ocdsOrg{party, org} {
		if p != nil && p.countryName() != "" {
			return p.countryName()
		}
	}
	return ""
}

func parseOCDSDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return parseTime(s)
}

// release reads one release (raw JSON) in its kept form: a release that cannot be used is rejected
// (or, without awards and ocid, skipped); any other is handed to the compiler under its ocid.
// Award fields are checked when the compiled release is converted.
func (c *ocdsConv) release(raw []byte, loc string) error {
	reject := func(reason, detail string) error {
		c.o.read()
		return c.o.rejectKind(schemas.KindProcurement, loc, reason, detail, raw)
	}
	if key := dupJSONKey(raw); key != "" {
		return reject("duplicate_key", key+": given twice in one object")
	}
	var k keptRelease
	if err := json.Unmarshal(raw, &k); err != nil {
		return reject("bad_json", jsonFieldErr(err))
	}
	ocid, err := rawString("ocid", k.OCID, false)
	if err != nil {
		return reject("bad_json", err.Error())
	}
	relID, err := rawString("id", k.ID, true)
	if err != nil {
		return reject("bad_json", err.Error())
	}
	awards := len(k.Awards)
	switch {
	case ocid == "" && awards == 0:
		c.o.read()
		c.o.skip()
		return nil
	case ocid == "":
		return reject("missing_field", "ocid: required")
	case relID == "" && awards > 0:
		return reject("missing_field", "id: the release id is required")
	}
	rel := ocdsPendingRel{id: relID, loc: loc}
	ds, err := rawString("date", k.Date, false)
	if err != nil {
		return reject("bad_date", err.Error())
	}
	if ds != "" {
		d, err := parseOCDSDate(ds)
		if err != nil {
			return reject("bad_date", "date: "+err.Error())
		}
		rel.date, rel.hasDate = d, true
	}
	k.tidy(loc)
	if rel.tree, err = json.Marshal(&k); err != nil {
		return fmt.Errorf("%s: %w", loc, err)
	}
	units := max(1, awards)
	for range units {
		c.o.read()
	}
	return c.comp.add(ocid, int64(units), rel)
}

// rows converts a (compiled) release into one event per award and returns how many awards it had
// (each is an event or a reject). relDate is the (compiled) release date, compiledAt the version
// of the rows; loc and raw give each award's location and raw bytes for its reject.
func (c *ocdsConv) rows(r *ocdsRelease, relID string, relDate, compiledAt time.Time,
	loc func(int) string, raw func(int) []byte) (int, error) {
	parties := map[string]*ocdsOrg{}
	var buyerParty *ocdsOrg
	for i := range r.Parties {
		p := &r.Parties[i]
		if id := p.id(); id != "" {
			parties[id] = p
		}
		for _, role := range p.Roles {
			if role == "buyer" && buyerParty == nil {
				buyerParty = p
			}
		}
	}
	var buyerID, buyerName string
	if r.Buyer != nil {
		buyerID, buyerName = r.Buyer.id(), r.Buyer.name()
	}
	if buyerID == "" && buyerParty != nil {
		buyerID = buyerParty.id()
	}
	if buyerName == "" {
		if p := parties[buyerID]; p != nil {
			buyerName = p.name()
		} else if buyerParty != nil {
			buyerName = buyerParty.name()
		}
	}
	ocid := strings.TrimSpace(r.OCID)
	for i := range r.Awards {
		a := &r.Awards[i]
		ev, rej := c.award(r, a, i, ocid, relID, buyerID, buyerName, relDate, parties)
		if rej != nil {
			if err := c.o.rejectKind(schemas.KindProcurement, loc(i), rej.reason, rej.detail, raw(i)); err != nil {
				return i + 1, err
			}
			continue
		}
		ev.CompiledAt = compiledAt
		if compiledAt.IsZero() {
			ev.CompiledAt = ev.Date
		}
		if err := c.o.event(ev, loc(i), func() []byte { return raw(i) }); err != nil {
			return i + 1, err
		}
	}
	return len(r.Awards), nil
}

func (c *ocdsConv) award(r *ocdsRelease, a *ocdsAward, i int, ocid, relID, buyerID, buyerName string,
	relDate time.Time, parties map[string]*ocdsOrg) (*schemas.ProcurementAward, *rejectErr) {
	ev := &schemas.ProcurementAward{OCID: ocid, ReleaseID: relID, AwardID: strings.TrimSpace(string(a.ID)),
		Status: strings.TrimSpace(a.Status), BuyerID: buyerID, BuyerName: buyerName,
		SupplierIDs: []string{}, SupplierNames: []string{}, SupplierCountries: []string{},
		ItemIDs: []string{}, ItemDescriptions: []string{}, ItemSchemes: []string{}, ItemCodes: []string{}}
	if ev.AwardID == "" {
		return nil, rejectf("missing_field", "awards[%d].id: required", i)
	}
	switch {
	case a.Date != nil && strings.TrimSpace(*a.Date) != "":
		d, err := parseOCDSDate(*a.Date)
		if err != nil {
			return nil, rejectf("bad_date", "awards[%d].date: %v", i, err)
		}
		ev.Date = d
	case !relDate.IsZero():
		ev.Date = relDate
	default:
		return nil, rejectf("missing_field", "awards[%d].date: no award date and no release date", i)
	}
	for j := range a.Suppliers {
		s := &a.Suppliers[j]
		id := s.id()
		party := parties[id]
		name := s.name()
		if name == "" && party != nil {
			name = party.name()
		}
		if id == "" && name == "" {
			return nil, rejectf("missing_field", "awards[%d].suppliers[%d]: neither id nor name", i, j)
		}
		ev.SupplierIDs = append(ev.SupplierIDs, id)
		ev.SupplierNames = append(ev.SupplierNames, name)
		ev.SupplierCountries = append(ev.SupplierCountries, c.country(s, party))
	}
	items := a.Items
	var tenderCl *ocdsClassification
	if r.Tender != nil {
		if len(items) == 0 {
			items = r.Tender.Items
		}
		tenderCl = r.Tender.Classification
	}
	for _, it := range items {
		cl := it.Classification
		if cl == nil {
			cl = tenderCl
		}
		ev.ItemIDs = append(ev.ItemIDs, strings.TrimSpace(string(it.ID)))
		desc := strings.TrimSpace(it.Description)
		scheme, code := "", ""
		if cl != nil {
			scheme, code = strings.TrimSpace(cl.Scheme), strings.TrimSpace(string(cl.ID))
			if desc == "" {
				desc = strings.TrimSpace(cl.Description)
			}
		}
		ev.ItemDescriptions = append(ev.ItemDescriptions, desc)
		ev.ItemSchemes = append(ev.ItemSchemes, scheme)
		ev.ItemCodes = append(ev.ItemCodes, code)
	}
	if len(items) == 0 && tenderCl != nil {
		// The classification of the whole tender stands for its items.
		ev.ItemIDs = append(ev.ItemIDs, "tender")
		ev.ItemDescriptions = append(ev.ItemDescriptions, strings.TrimSpace(tenderCl.Description))
		ev.ItemSchemes = append(ev.ItemSchemes, strings.TrimSpace(tenderCl.Scheme))
		ev.ItemCodes = append(ev.ItemCodes, strings.TrimSpace(string(tenderCl.ID)))
	}
	if a.Value != nil && a.Value.Amount.set {
		cur := ""
		if a.Value.Currency != nil {
			cur = strings.ToUpper(strings.TrimSpace(*a.Value.Currency))
		}
		switch {
		case cur != "":
			v := a.Value.Amount.v
			ev.Value, ev.Currency = &v, cur
		case a.Value.Amount.v == 0:
			// amount 0 without a currency: the publisher's placeholder for "no value yet".
		default:
			return nil, rejectf("missing_field", "awards[%d].value.currency: required when an amount is given", i)
		}
	}
	return ev, nil
}

// compiledRelease converts the compiledRelease of a record as it is (it is not merged with other
// releases of its ocid).
func (c *ocdsConv) compiledRelease(raw []byte, loc string) error {
	var r ocdsRelease
	if err := json.Unmarshal(raw, &r); err != nil {
		c.o.read()
		return c.o.rejectKind(schemas.KindProcurement, loc, "bad_json", jsonFieldErr(err), raw)
	}
	ocid, relID := strings.TrimSpace(r.OCID), strings.TrimSpace(string(r.ID))
	reject := func(reason, detail string) error {
		c.o.read()
		return c.o.rejectKind(schemas.KindProcurement, loc, reason, detail, raw)
	}
	switch {
	case len(r.Awards) == 0:
		c.o.read()
		c.o.skip()
		return nil
	case ocid == "":
		return reject("missing_field", "ocid: required")
	case relID == "":
		return reject("missing_field", "id: the release id is required")
	}
	var relDate time.Time
	if r.Date != nil && strings.TrimSpace(*r.Date) != "" {
		d, err := parseOCDSDate(*r.Date)
		if err != nil {
			return reject("bad_date", "date: "+err.Error())
		}
		relDate = d
	}
	for range r.Awards {
		c.o.read()
	}
	_, err := c.rows(&r, relID, relDate, relDate,
		func(i int) string { return fmt.Sprintf("%s.awards[%d]", loc, i) }, func(int) []byte { return raw })
	return err
}

// record handles one element of records[]: its compiledRelease, else its embedded releases.
func (c *ocdsConv) record(raw []byte, loc string) error {
	var rec struct {
		OCID            string            `json:"ocid"`
		CompiledRelease json.RawMessage   `json:"compiledRelease"`
		Releases        []json.RawMessage `json:"releases"`
	}
	if k := dupJSONKey(raw); k != "" {
		c.o.read()
		return c.o.rejectKind(schemas.KindProcurement, loc, "duplicate_key", k+": given twice in one object", raw)
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		c.o.read()
		return c.o.rejectKind(schemas.KindProcurement, loc, "bad_json", jsonFieldErr(err), raw)
	}
	if len(rec.CompiledRelease) > 0 && string(rec.CompiledRelease) != "null" {
		return c.compiledRelease(rec.CompiledRelease, loc+".compiledRelease")
	}
	embedded := 0
	for j, rr := range rec.Releases {
		var probe struct {
			OCID string `json:"ocid"`
		}
		if json.Unmarshal(rr, &probe) == nil && probe.OCID != "" {
			embedded++
			if err := c.release(rr, fmt.Sprintf("%s.releases[%d]", loc, j)); err != nil {
				return err
			}
		}
	}
	if embedded == 0 {
		c.o.read()
		return c.o.rejectKind(schemas.KindProcurement, loc, "unsupported_record",
			"compiledRelease: missing, and releases[] holds only linked releases (url), not release data", raw)
	}
	return nil
}

// importOCDS reads a release package, a record package, a JSON array of releases, or JSON Lines
// (one release, record or package per line), streaming: one release or record is parsed at a time;
// of each release only the fields the award rows need are held (DefaultOCDSPendingBytes at most)
// until the end of the file, when the releases of each ocid are compiled (OCDS merge) and the
// compiled release becomes one row per award. A record's compiledRelease is used as it is. Text
// that is not UTF-8 is decoded as ISO-8859-1.
func importOCDS(o *out, r io.Reader, name string, countries *m49.Table) error {
	return importOCDSLimit(o, r, name, countries, DefaultOCDSPendingBytes)
}

// importOCDSLimit is importOCDS with a bound on the pending release state (bytes).
func importOCDSLimit(o *out, r io.Reader, name string, countries *m49.Table, limit int) error {
	c := &ocdsConv{o: o, countries: countries}
	c.comp = newOCDSCompiler(c, limit)
	err := c.file(r, name)
	if ferr := c.comp.finish(); ferr != nil {
		return errors.Join(err, fmt.Errorf("%s: %w", name, ferr))
	}
	return err
}

// file reads one file or response into the compiler.
func (c *ocdsConv) file(r io.Reader, name string) error {
	br := bufio.NewReaderSize(textReader(r), 1<<20)
	first, err := firstByte(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	if first == '{' {
		head, jsonl, err := ocdsHead(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rd := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(head), br), 1<<20)
		if jsonl {
			return c.jsonLines(rd, name)
		}
		return c.stream(rd, name)
	}
	return c.stream(br, name)
}

// maxOCDSHead bounds what ocdsHead reads to tell JSON Lines from one document.
const maxOCDSHead = 4 << 20

// ocdsHead reads the first two lines of an OCDS file starting with '{' (at most maxOCDSHead bytes)
// and reports whether it is JSON Lines: one of them is a complete JSON value on its own (a
// pretty-printed or minified document never has one; a JSON Lines file whose first line is
// nested too deep or broken still has its second), or the first line is longer than
// maxOCDSHead and names an "ocid" at its top level (a release, not a package). head is what was
// read, to be read again.
func ocdsHead(br *bufio.Reader) (head []byte, jsonl bool, err error) {
	start := 0
	for line := 0; line < 2 && len(head) < maxOCDSHead; line++ {
		for {
			b, err := br.ReadSlice('\n')
			head = append(head, b...)
			if errors.Is(err, bufio.ErrBufferFull) && len(head) < maxOCDSHead {
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
				return head, false, err
			}
			break
		}
		if t := bytes.TrimSpace(head[start:]); len(t) > 0 && t[0] == '{' && json.Valid(t) {
			return head, true, nil
		}
		if len(head) >= maxOCDSHead {
			return head, topLevelKey(head, "ocid"), nil
		}
		start = len(head)
	}
	return head, false, nil
}

// topLevelKey reports whether the (possibly cut) JSON object in b has key at its top level.
func topLevelKey(b []byte, key string) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		if t == key {
			return true
		}
		if skipValue(dec) != nil {
			return false
		}
	}
	return false
}

// jsonLines handles one JSON value per line.
func (c *ocdsConv) jsonLines(br *bufio.Reader, name string) error {
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			line++
			b = bytes.TrimSpace(b)
			loc := fmt.Sprintf("%s:%d", name, line)
			if len(b) > 0 {
				if err := c.value(b, loc); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", name, line+1, err)
		}
	}
}

// value dispatches one JSON object: a package, a record or a release.
func (c *ocdsConv) value(b []byte, loc string) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		c.o.read()
		return c.o.rejectKind(schemas.KindProcurement, loc, "bad_json", err.Error(), b)
	}
	_, hasReleases := probe["releases"]
	_, hasRecords := probe["records"]
	_, hasCompiled := probe["compiledRelease"]
	_, hasOCID := probe["ocid"]
	switch {
	case (hasReleases || hasRecords) && !hasOCID:
		return c.stream(bufio.NewReader(bytes.NewReader(b)), loc)
	case hasCompiled || hasReleases:
		return c.record(b, loc)
	default:
		return c.release(b, loc)
	}
}

// stream walks a package (or an array of releases) token by token.
func (c *ocdsConv) stream(br *bufio.Reader, name string) error {
	dec := json.NewDecoder(br)
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	array := func(key string, fn func([]byte, string) error) error {
		i := 0
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("%s: %s[%d]: %w", name, key, i, err)
			}
			if err := fn(raw, fmt.Sprintf("%s#%s[%d]", name, key, i)); err != nil {
				return err
			}
			i++
		}
		_, err := dec.Token()
		return err
	}
	if tok == json.Delim('[') {
		return array("releases", c.release)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%s: not an OCDS package: starts with %v", name, tok)
	}
	found := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		key, _ := kt.(string)
		switch key {
		case "releases", "records":
			t, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%s: %s: %w", name, key, err)
			}
			if t == nil {
				continue
			}
			if t != json.Delim('[') {
				return fmt.Errorf("%s: %s is not an array", name, key)
			}
			found = true
			fn := c.release
			if key == "records" {
				fn = c.record
			}
			if err := array(key, fn); err != nil {
				return err
			}
		default:
			if err := skipValue(dec); err != nil {
				return fmt.Errorf("%s: %s: %w", name, key, err)
			}
		}
	}
	if !found {
		return fmt.Errorf("%s: not an OCDS release or record package (no releases or records)", name)
	}
	return nil
}
