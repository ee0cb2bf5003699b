package collectors

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/schemas"
)

// SourceSubstitution is the default envelope source of substitution lists.
const SourceSubstitution = "substitution"

// SubstitutionColumns are the canonical columns of a substitution list (替代清单).
var SubstitutionColumns = []string{"component_id", "alt_component_id", "alt_supplier_id", "enterprise_id",
	"qualification_days", "domestic", "country", "notes", "as_of"}

var substitutionAliases = map[string][]string{
	"component_id":        {"component_id", "component", "原器件", "原物料"},
	"alt_component_id":    {"alt_component_id", "alternative_component_id", "alt_component", "替代器件", "替代物料"},
	"alt_supplier_id":     {"alt_supplier_id", "alternative_supplier_id", "alt_supplier", "替代供应商"},
	"enterprise_id":       {"enterprise_id", "enterprise", "企业"},
	"qualification_days":  {"qualification_days", "qualification_lead_time_days", "qualification_lead_days", "验证周期"},
	"qualification_weeks": {"qualification_weeks", "qualification_lead_time_weeks"},
	"domestic":            {"domestic", "国产"},
	"country":             {"country", "country_iso3", "国家"},
	"notes":               {"notes", "note", "comment", "备注"},
	"as_of":               {"as_of", "asof", "date"},
}

type substitutionConv struct {
	o           *out
	countries   *m49.Table
	asOf        time.Time
	homeCountry string
}

func (c *substitutionConv) row(r tabRow) error {
	c.o.read()
	s, rej := c.convert(r)
	if rej != nil {
		return c.o.rejectKind(schemas.KindSubstitution, r.loc, rej.reason, rej.detail, r.raw)
	}
	return c.o.event(s, r.loc, func() []byte { return r.raw })
}

func (c *substitutionConv) bad(loc, detail string, raw []byte) error {
	c.o.read()
	return c.o.rejectKind(schemas.KindSubstitution, loc, "bad_row", detail, raw)
}

func (c *substitutionConv) convert(r tabRow) (*schemas.Substitution, *rejectErr) {
	s := &schemas.Substitution{ComponentID: r.get("component_id"), AltComponentID: r.get("alt_component_id"),
		AltSupplierID: r.get("alt_supplier_id"), EnterpriseID: r.get("enterprise_id"), Notes: r.get("notes"), AsOf: c.asOf}
	if s.ComponentID == "" {
		return nil, rejectf("missing_field", "component_id: required")
	}
	if s.AltComponentID == "" && s.AltSupplierID == "" {
		return nil, rejectf("missing_field", "alt_component_id: alt_component_id or alt_supplier_id is required")
	}
	if v := r.get("qualification_days"); v != "" {
		f, err := parseNumber(strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(v), "days"), "d"))
		if err != nil {
			return nil, rejectf("bad_number", "qualification_days: %v", err)
		}
		s.QualificationDays = f
	} else if v := r.get("qualification_weeks"); v != "" {
		f, err := parseNumber(v)
		if err != nil {
			return nil, rejectf("bad_number", "qualification_weeks: %v", err)
		}
		s.QualificationDays = f * 7
	}
	if s.QualificationDays < 0 {
		return nil, rejectf("bad_number", "qualification_days: %v is negative", s.QualificationDays)
	}
	if v := r.get("country"); v != "" {
		ct, ok := c.countries.Resolve(v)
		if !ok || ct.ISO3 == "" {
			return nil, rejectf("bad_country", "country: %q is not a known country (ISO alpha-3 code or name)", v)
		}
		s.Country = ct.ISO3
	}
	if v := r.get("domestic"); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return nil, rejectf("bad_bool", "domestic: %v", err)
		}
		s.Domestic = b
	} else if c.homeCountry != "" && s.Country == c.homeCountry {
		s.Domestic = true
	}
	if v := r.get("as_of"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return nil, rejectf("bad_date", "as_of: %v", err)
		}
		s.AsOf = t
	}
	return s, nil
}

// maxSubstitutionCSV bounds a CSV substitution list, which is read whole.
const maxSubstitutionCSV = 64 << 20

// importSubstitutionCSV reads a CSV substitution list. The list (替代清单: small) is read whole, so
// that a record that does not parse is rejected with its source lines as raw bytes.
func importSubstitutionCSV(c *substitutionConv, r io.Reader, name string) error {
	data, err := io.ReadAll(io.LimitReader(r, maxSubstitutionCSV+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxSubstitutionCSV {
		return fmt.Errorf("%s: a substitution list over %d MiB is not read", name, maxSubstitutionCSV>>20)
	}
	again := func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	badCSV := func(loc, detail string, _ []byte) error {
		c.o.read()
		return c.o.rejectKind(schemas.KindSubstitution, loc, "bad_csv", detail, csvSourceLines(again, name, loc, detail))
	}
	return eachCSVRow(bytes.NewReader(data), name, substitutionAliases, c.row, badCSV)
}

// importSubstitutionYAML reads a YAML substitution list: a top-level "substitutions" list (and an
// optional "as_of"), or a bare list.
func importSubstitutionYAML(c *substitutionConv, r io.Reader, name string) error {
	doc, err := yamlDoc(r, name)
	if err != nil {
		return err
	}
	seq := doc
	if s := yamlSection(doc, "as_of"); s != nil && s.Value != "" {
		t, err := parseTime(s.Value)
		if err != nil {
			return err
		}
		c.asOf = t
	}
	if s := yamlSection(doc, "substitutions"); s != nil {
		seq = s
	} else if s := yamlSection(doc, "替代清单"); s != nil {
		seq = s
	}
	if seq.Kind == 0 || (seq.Kind == doc.Kind && seq == doc && len(doc.Content) == 0) {
		return nil
	}
	return yamlRows(seq, name, substitutionAliases, c.row, c.bad)
}
