package collectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/schemas"
)

// SourceSupplyMap is the default envelope source of supply maps.
const SourceSupplyMap = "supplymap"

// Supply map sections, in processing order (each section may refer to the ones before it). In a
// directory each is one CSV file named <section>.csv; in YAML each is a top-level list.
var SupplyMapSections = []string{"enterprises", "components", "suppliers", "products", "bom", "supplies", "inventory"}

// SupplyMapColumns are the canonical columns of each section (docs/collectors.md).
var SupplyMapColumns = map[string][]string{
	"enterprises": {"id", "name", "country", "region", "industry", "chain_leader", "tags", "as_of"},
	"components":  {"id", "name", "category", "hs_code", "chokepoint", "as_of"},
	"suppliers":   {"id", "name", "country", "domestic", "region", "tags", "as_of"},
	"products":    {"id", "name", "enterprise_id", "industry", "as_of"},
	"bom":         {"product_id", "component_id", "qty_per_unit", "as_of"},
	"supplies":    {"supplier_id", "enterprise_id", "component_id", "share", "qualification", "as_of"},
	"inventory":   {"enterprise_id", "component_id", "inventory_units", "consumption_per_day", "as_of"},
}

var supplyMapAliases = map[string][]string{
	"name":                {"name", "名称"},
	"country":             {"country", "country_iso3", "国家"},
	"region":              {"region", "地区", "区域"},
	"industry":            {"industry", "行业"},
	"chain_leader":        {"chain_leader", "链主"},
	"tags":                {"tags", "tag", "标签"},
	"category":            {"category", "类别"},
	"hs_code":             {"hs_code", "hs"},
	"chokepoint":          {"chokepoint", "卡点"},
	"domestic":            {"domestic", "国产"},
	"enterprise_id":       {"enterprise_id", "enterprise"},
	"product_id":          {"product_id", "product"},
	"component_id":        {"component_id", "component"},
	"supplier_id":         {"supplier_id", "supplier"},
	"qty_per_unit":        {"qty_per_unit", "qty", "quantity"},
	"share":               {"share", "share_pct"},
	"qualification":       {"qualification", "qualification_status"},
	"inventory_units":     {"inventory_units", "inventory", "stock"},
	"consumption_per_day": {"consumption_per_day", "daily_consumption"},
	"as_of":               {"as_of", "asof", "date"},
}

// idAliases are the id columns accepted per entity section.
var idAliases = map[string][]string{
	"enterprises": {"id", "enterprise_id", "node_id", "code"},
	"components":  {"id", "component_id", "node_id", "code", "part_number"},
	"suppliers":   {"id", "supplier_id", "node_id", "code"},
	"products":    {"id", "product_id", "node_id", "code"},
}

var categoryWords = map[string]string{
	"关键材料": schemas.CategoryKeyMaterial, "高端芯片": schemas.CategoryHighEndChip, "工业软件": schemas.CategoryIndustrialSoftware,
	"基础零部件": schemas.CategoryBaseComponent, "基础元器件": schemas.CategoryBaseComponent, "工业母机": schemas.CategoryMachineTool,
	"机床": schemas.CategoryMachineTool, "其他": schemas.CategoryOther,
}

var qualificationWords = map[string]string{
	"qualified": "qualified", "approved": "qualified", "合格": "qualified", "已认证": "qualified",
	"in_progress": "in_progress", "pending": "in_progress", "qualifying": "in_progress", "认证中": "in_progress",
	"disqualified": "disqualified", "rejected": "disqualified", "不合格": "disqualified",
}

// supplyMapProc turns supply map rows into SupplyNode / SupplyLink events and checks references.
type supplyMapProc struct {
	o           *out
	countries   *m49.Table
	asOf        time.Time
	homeCountry string
	ids         map[string]map[string]string // section → id → location of its definition
	bom         *bomGraph                    // accepted BOM edges (bomgraph.go)
}

func newSupplyMapProc(o *out, countries *m49.Table, asOf time.Time, homeCountry string) *supplyMapProc {
	p := &supplyMapProc{o: o, countries: countries, asOf: asOf.UTC(), homeCountry: homeCountry, ids: map[string]map[string]string{}}
	for _, s := range []string{"enterprises", "components", "suppliers", "products"} {
		p.ids[s] = map[string]string{}
	}
	return p
}

func sectionKind(section string) schemas.Kind {
	switch section {
	case "bom", "supplies", "inventory":
		return schemas.KindSupplyLink
	}
	return schemas.KindSupplyNode
}

func (p *supplyMapProc) bad(section string) func(loc, detail string, raw []byte) error {
	return func(loc, detail string, raw []byte) error {
		p.o.read()
		return p.o.rejectKind(sectionKind(section), loc, "bad_row", detail, raw)
	}
}

// badCSV rejects a CSV record that does not parse. Its raw bytes are the source lines of the record
// (from the line loc names to the line of the parse error), read again from path: the CSV reader
// does not hand them out.
func (p *supplyMapProc) badCSV(section, path string, open func(string) (io.ReadCloser, error)) func(loc, detail string, _ []byte) error {
	return func(loc, detail string, _ []byte) error {
		p.o.read()
		return p.o.rejectKind(sectionKind(section), loc, "bad_csv", detail, csvSourceLines(open, path, loc, detail))
	}
}

// maxRejectRaw bounds the raw bytes a bad_csv reject carries (an unterminated quote runs to the end
// of the file).
const maxRejectRaw = 64 << 10

var csvParseErrLine = regexp.MustCompile(`parse error on line (\d+)`)

// csvSourceLines returns lines from..to of path (from: the number after the last ':' of loc; to: the
// line of the parse error in detail, else from), at most maxRejectRaw bytes; nil if the file
// cannot be read again.
func csvSourceLines(open func(string) (io.ReadCloser, error), path, loc, detail string) []byte {
	from, err := strconv.Atoi(loc[strings.LastIndexByte(loc, ':')+1:])
	if err != nil || from < 1 {
		return nil
	}
	to := from
	if m := csvParseErrLine.FindStringSubmatch(detail); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > to {
			to = n
		}
	}
	rc, err := open(path)
	if err != nil {
		return nil
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	var out []byte
	for line := 1; line <= to && len(out) < maxRejectRaw; line++ {
		b, err := br.ReadBytes('\n')
		if line >= from {
			out = append(out, b...)
		}
		if err != nil {
			break
		}
	}
	if len(out) > maxRejectRaw {
		out = out[:maxRejectRaw]
	}
	return bytes.TrimRight(out, "\r\n")
}

func (p *supplyMapProc) rowAsOf(r tabRow) (time.Time, *rejectErr) {
	if s := r.get("as_of"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return time.Time{}, rejectf("bad_date", "as_of: %v", err)
		}
		return t, nil
	}
	return p.asOf, nil
}

// ref checks that id names a known entity of section.
func (p *supplyMapProc) ref(field, section, id string) *rejectErr {
	if id == "" {
		return rejectf("missing_field", "%s: required", field)
	}
	if _, ok := p.ids[section][id]; !ok {
		return rejectf("unknown_reference", "%s: unknown %s %q", field, strings.TrimSuffix(section, "s"), id)
	}
	return nil
}

func (p *supplyMapProc) country(field, s string, required bool) (string, *rejectErr) {
	if s == "" {
		if required {
			return "", rejectf("missing_field", "%s: required", field)
		}
		return "", nil
	}
	c, ok := p.countries.Resolve(s)
	if !ok || c.ISO3 == "" {
		return "", rejectf("bad_country", "%s: %q is not a known country (ISO alpha-3 code or name)", field, s)
	}
	return c.ISO3, nil
}

// row handles one row of a section.
func (p *supplyMapProc) row(section string, r tabRow) error {
	p.o.read()
	recs, rej := p.convert(section, r)
	if rej != nil {
		return p.o.rejectKind(sectionKind(section), r.loc, rej.reason, rej.detail, r.raw)
	}
	for i, rec := range recs {
		if i > 0 {
			p.o.read() // a row of several records (a product: its node and its makes link) reads each
		}
		if err := p.o.event(rec, r.loc, func() []byte { return r.raw }); err != nil {
			return err
		}
	}
	return nil
}

func (p *supplyMapProc) convert(section string, r tabRow) ([]schemas.Record, *rejectErr) {
	asOf, rej := p.rowAsOf(r)
	if rej != nil {
		return nil, rej
	}
	var id string
	if ids, ok := idAliases[section]; ok {
		for _, a := range ids {
			if id = r.get(a); id != "" {
				break
			}
		}
		if id == "" {
			return nil, rejectf("missing_field", "id: required")
		}
		if prev, dup := p.ids[section][id]; dup {
			return nil, rejectf("duplicate", "id: %q is already defined at %s", id, prev)
		}
	}
	var out []schemas.Record
	if _, ok := idAliases[section]; ok {
		out, rej = p.convertNode(section, id, r, asOf)
	} else {
		out, rej = p.convertLink(section, r, asOf)
	}
	if rej != nil {
		return nil, rej
	}
	// Validate before registering the id, so an invalid entity does not satisfy later references.
	for _, rec := range out {
		if err := rec.Validate(); err != nil {
			return nil, rejectf("invalid", "%v", err)
		}
	}
	if id != "" {
		p.ids[section][id] = r.loc
	}
	return out, nil
}

func (p *supplyMapProc) convertNode(section, id string, r tabRow, asOf time.Time) ([]schemas.Record, *rejectErr) {
	var out []schemas.Record
	var rej *rejectErr
	switch section {
	case "enterprises":
		n := &schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: id, Name: r.get("name"), Region: r.get("region"),
			Industry: r.get("industry"), Tags: splitList(r.get("tags")), AsOf: asOf}
		if n.Country, rej = p.country("country", r.get("country"), false); rej != nil {
			return nil, rej
		}
		if n.ChainLeader, rej = boolField(r, "chain_leader"); rej != nil {
			return nil, rej
		}
		out = append(out, n)
	case "components":
		n := &schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: id, Name: r.get("name"), AsOf: asOf,
			Category: strings.ToLower(r.get("category"))}
		if c, ok := categoryWords[n.Category]; ok {
			n.Category = c
		}
		if n.Category == "" {
			n.Category = schemas.CategoryOther
		}
		if !slices.Contains(schemas.Categories, n.Category) {
			return nil, rejectf("bad_category", "category: %q is not one of %s", r.get("category"), strings.Join(schemas.Categories, ", "))
		}
		if hs := r.get("hs_code"); hs != "" {
			if n.HSCode, rej = hsCode("hs_code", hs); rej != nil {
				return nil, rej
			}
		}
		if n.Chokepoint, rej = boolField(r, "chokepoint"); rej != nil {
			return nil, rej
		}
		out = append(out, n)
	case "suppliers":
		n := &schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: id, Name: r.get("name"), Region: r.get("region"),
			Tags: splitList(r.get("tags")), AsOf: asOf}
		if n.Country, rej = p.country("country", r.get("country"), true); rej != nil {
			return nil, rej
		}
		if r.get("domestic") == "" {
			n.Domestic = p.homeCountry != "" && n.Country == p.homeCountry
		} else if n.Domestic, rej = boolField(r, "domestic"); rej != nil {
			return nil, rej
		}
		out = append(out, n)
	case "products":
		n := &schemas.SupplyNode{NodeType: schemas.NodeProduct, NodeID: id, Name: r.get("name"), Industry: r.get("industry"), AsOf: asOf}
		out = append(out, n)
		if e := r.get("enterprise_id"); e != "" {
			if rej := p.ref("enterprise_id", "enterprises", e); rej != nil {
				return nil, rej
			}
			out = append(out, &schemas.SupplyLink{LinkType: schemas.LinkMakes, EnterpriseID: e, ProductID: id, AsOf: asOf})
		}
	default:
		return nil, rejectf("bad_row", "unknown section %q", section)
	}
	return out, nil
}

func (p *supplyMapProc) convertLink(section string, r tabRow, asOf time.Time) ([]schemas.Record, *rejectErr) {
	var out []schemas.Record
	var rej *rejectErr
	switch section {
	case "bom":
		l := &schemas.SupplyLink{LinkType: schemas.LinkBOM, ProductID: r.get("product_id"), ComponentID: r.get("component_id"), AsOf: asOf}
		if rej := p.bomParent(l.ProductID); rej != nil {
			return nil, rej
		}
		if rej := p.ref("component_id", "components", l.ComponentID); rej != nil {
			return nil, rej
		}
		if l.QtyPerUnit, rej = numField(r, "qty_per_unit", 1); rej != nil {
			return nil, rej
		}
		if rej := p.bomEdge(l); rej != nil {
			return nil, rej
		}
		out = append(out, l)
	case "supplies":
		l := &schemas.SupplyLink{LinkType: schemas.LinkSupplies, SupplierID: r.get("supplier_id"),
			EnterpriseID: r.get("enterprise_id"), ComponentID: r.get("component_id"), AsOf: asOf}
		if rej := p.ref("supplier_id", "suppliers", l.SupplierID); rej != nil {
			return nil, rej
		}
		if rej := p.ref("enterprise_id", "enterprises", l.EnterpriseID); rej != nil {
			return nil, rej
		}
		if rej := p.ref("component_id", "components", l.ComponentID); rej != nil {
			return nil, rej
		}
		if l.Share, rej = numField(r, "share", 1); rej != nil {
			return nil, rej
		}
		q := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(r.get("qualification")), " ", "_"))
		if q == "" {
			q = "qualified"
		}
		if w, ok := qualificationWords[q]; ok {
			q = w
		} else {
			return nil, rejectf("bad_qualification", "qualification: %q is not one of qualified, in_progress, disqualified", r.get("qualification"))
		}
		l.Qualification = q
		out = append(out, l)
	case "inventory":
		l := &schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: r.get("enterprise_id"), ComponentID: r.get("component_id"), AsOf: asOf}
		if rej := p.ref("enterprise_id", "enterprises", l.EnterpriseID); rej != nil {
			return nil, rej
		}
		if rej := p.ref("component_id", "components", l.ComponentID); rej != nil {
			return nil, rej
		}
		if l.InventoryUnits, rej = numField(r, "inventory_units", 0); rej != nil {
			return nil, rej
		}
		if l.ConsumptionPerDay, rej = numField(r, "consumption_per_day", 0); rej != nil {
			return nil, rej
		}
		out = append(out, l)
	default:
		return nil, rejectf("bad_row", "unknown section %q", section)
	}
	return out, nil
}

func boolField(r tabRow, field string) (bool, *rejectErr) {
	b, err := parseBool(r.get(field))
	if err != nil {
		return false, rejectf("bad_bool", "%s: %v", field, err)
	}
	return b, nil
}
func numField(r tabRow, field string, def float64) (float64, *rejectErr) {
	s := r.get(field)
	if s == "" {
		return def, nil
	}
	pct := strings.HasSuffix(s, "%")
	f, err := parseNumber(strings.TrimSuffix(s, "%"))
	if err != nil {
		return 0, rejectf("bad_number", "%s: %v", field, err)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// importSupplyMapDir reads <dir>/<section>.csv for every section present.
func importSupplyMapDir(p *supplyMapProc, dir string, open func(string) (io.ReadCloser, error)) (int, error) {
	files := 0
	for _, s := range SupplyMapSections {
		path := filepath.Join(dir, s+".csv")
		rc, err := open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return files, err
		}
		files++
		err = eachCSVRow(rc, path, supplyMapAliases, func(r tabRow) error { return p.row(s, r) }, p.badCSV(s, path, open))
		rc.Close()
		if err != nil {
			return files, err
		}
	}
	if files == 0 {
		return 0, fmt.Errorf("%s: no supply map files (%s)", dir, strings.Join(sectionFiles(), ", "))
	}
	return files, nil
}

func sectionFiles() []string {
	var out []string
	for _, s := range SupplyMapSections {
		out = append(out, s+".csv")
	}
	return out
}

// importSupplyMapYAML reads a YAML supply map: top-level lists named like the sections.
func importSupplyMapYAML(p *supplyMapProc, r io.Reader, name string) error {
	doc, err := yamlDoc(r, name)
	if err != nil {
		return err
	}
	if s := yamlSection(doc, "as_of"); s != nil && s.Value != "" {
		t, err := parseTime(s.Value)
		if err != nil {
			return fmt.Errorf("%s: as_of: %w", name, err)
		}
		p.asOf = t
	}
	for _, s := range SupplyMapSections {
		if err := yamlRows(yamlSection(doc, s), name, supplyMapAliases, func(r tabRow) error { return p.row(s, r) }, p.bad(s)); err != nil {
			return err
		}
	}
	return nil
}

// SupplyMap is a supply map held as rows per section (the CSV columns); the Willems converter
// builds one.
type SupplyMap struct {
	Sections map[string][]Row
}

// Add appends a row to a section.
func (m *SupplyMap) Add(section string, r Row) {
	if m.Sections == nil {
		m.Sections = map[string][]Row{}
	}
	m.Sections[section] = append(m.Sections[section], r)
}

// WriteCSV writes the map as <dir>/<section>.csv files (the import format).
func (m *SupplyMap) WriteCSV(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range SupplyMapSections {
		rows := m.Sections[s]
		if len(rows) == 0 {
			continue
		}
		f, err := os.Create(filepath.Join(dir, s+".csv"))
		if err != nil {
			return err
		}
		if err := writeCSVRows(f, SupplyMapColumns[s], rows); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// emit runs every row through the processor.
func (m *SupplyMap) emit(p *supplyMapProc, name string) error {
	for _, s := range SupplyMapSections {
		for i, row := range m.Sections[s] {
			row := row
			loc := fmt.Sprintf("%s#%s[%d]", name, s, i)
			get := aliasGetter(supplyMapAliases, func(n string) (string, bool) { v, ok := row[n]; return v, ok })
			raw, err := json.Marshal(row) // the row as a JSON object: the raw bytes of its reject
			if err != nil {
				return fmt.Errorf("%s: %w", loc, err)
			}
			if err := p.row(s, tabRow{loc: loc, raw: raw, get: get}); err != nil {
				return err
			}
		}
	}
	return nil
}
