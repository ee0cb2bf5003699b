package collectors

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/schemas"
)

// usgsCommodity names the commodity of an MCS world file (mcs2024-<code>_world.csv). Files that
// hold several materials in separate Type blocks carry qualifiers: the first whose match is in the
// row's Type names the material.
type usgsCommodity struct {
	name    string
	qualify []usgsQualifier
}

type usgsQualifier struct{ match, commodity string }

var usgsCommodities = map[string]usgsCommodity{
	"abras": {"abrasives", []usgsQualifier{{"fused aluminum oxide", "fused aluminum oxide"}, {"silicon carbide", "silicon carbide"}}},
	"alumi": {name: "aluminum"}, "antim": {name: "antimony"}, "arsen": {name: "arsenic"}, "asbes": {name: "asbestos"},
	"barit": {name: "barite"}, "bauxi": {name: "bauxite and alumina"}, "beryl": {name: "beryllium"},
	"bismu": {name: "bismuth"}, "boron": {name: "boron"}, "bromi": {name: "bromine"}, "cadmi": {name: "cadmium"},
	"cemen": {name: "cement"}, "chrom": {name: "chromium"},
	"clays": {"clays", []usgsQualifier{{"bentonite", "clays: bentonite"}, {"fuller", "clays: fuller's earth"}, {"kaolin", "clays: kaolin"}}},
	"cobal": {name: "cobalt"}, "coppe": {name: "copper"}, "diamo": {name: "diamond (industrial)"},
	"diato": {name: "diatomite"}, "felds": {name: "feldspar"},
	"feore": {"iron ore", []usgsQualifier{{"usable ore", "iron ore (usable ore)"}, {"iron content", "iron ore (iron content)"}}},
	"fepig": {name: "iron oxide pigments"},
	"feste": {"iron and steel", []usgsQualifier{{"pig iron", "pig iron"}, {"raw steel", "raw steel"}}},
	"fluor": {name: "fluorspar"}, "galli": {name: "gallium"}, "garne": {name: "garnet (industrial)"},
	"gemst": {name: "gemstones"}, "germa": {name: "germanium"}, "gold": {name: "gold"}, "graph": {name: "graphite (natural)"},
	"gypsu": {name: "gypsum"}, "heliu": {name: "helium"}, "indiu": {name: "indium"}, "iodin": {name: "iodine"},
	"kyani": {name: "kyanite"}, "lead": {name: "lead"}, "lime": {name: "lime"}, "lithi": {name: "lithium"},
	"manga": {name: "manganese"}, "mercu": {name: "mercury"}, "mgcomp": {name: "magnesium compounds"},
	"mgmet": {name: "magnesium metal"},
	"mica":  {"mica", []usgsQualifier{{"scrap", "mica (scrap and flake)"}, {"sheet", "mica (sheet)"}}},
	"molyb": {name: "molybdenum"}, "nicke": {name: "nickel"}, "niobi": {name: "niobium"}, "nitro": {name: "nitrogen (fixed), ammonia"},
	"peat": {name: "peat"}, "perli": {name: "perlite"}, "phosp": {name: "phosphate rock"},
	"plati": {"platinum-group metals", []usgsQualifier{{"palladium", "palladium"}, {"platinum", "platinum"}}},
	"potas": {name: "potash"}, "pumic": {name: "pumice and pumicite"}, "raree": {name: "rare earths"},
	"rheni": {name: "rhenium"}, "salt": {name: "salt"}, "sandi": {name: "sand and gravel (industrial)"},
	"selen": {name: "selenium"}, "silve": {name: "silver"},
	"simet": {"silicon", []usgsQualifier{{"ferrosilicon", "silicon (ferrosilicon)"}, {"silicon metal", "silicon metal"}}},
	"sodaa": {name: "soda ash"}, "stond": {name: "stone (dimension)"}, "stron": {name: "strontium"},
	"sulfu": {name: "sulfur"}, "talc": {name: "talc and pyrophyllite"}, "tanta": {name: "tantalum"},
	"tellu": {name: "tellurium"},
	"timin": {"titanium mineral concentrates", []usgsQualifier{{"ilmentite and rutile", "titanium mineral concentrates"},
		{"ilmenite", "ilmenite"}, {"rutile", "rutile"}}},
	"tin": {name: "tin"}, "titan": {name: "titanium"}, "tungs": {name: "tungsten"}, "vanad": {name: "vanadium"},
	"vermi": {name: "vermiculite"}, "wolla": {name: "wollastonite"}, "zeoli": {name: "zeolites"}, "zinc": {name: "zinc"},
	"zirco": {name: "zirconium and hafnium"}, "zirco-hafni": {name: "zirconium and hafnium"},
}

var (
	usgsFileRe = regexp.MustCompile(`(?i)^(mcs\d{4})-([a-z]+(?:-[a-z]+)*)_world\.csv(\.gz)?$`)
	usgsColRe  = regexp.MustCompile(`^(prod|cap)_(?:([a-z]+)_)?(kg|t|kt|mt|mmt|mct|kct|mcm)(?:_(est))?_(\d{4})$`)
	usgsUnits  = map[string]string{"kg": "kg", "t": "t", "kt": "kt", "mt": "Mt", "mmt": "Mt", "mct": "million carats",
		"kct": "thousand carats", "mcm": "million m3"}
	footDigitsRe = regexp.MustCompile(`\s*\d+$`)
	mineRe       = regexp.MustCompile(`\b(mine|mne)\b`)
)

// IsUSGSWorldFile reports whether a file name is an MCS world production table.
func IsUSGSWorldFile(name string) bool { return usgsFileRe.MatchString(filepath.Base(name)) }

// usgsSource is the envelope source for an MCS file: "usgs-mcs2024".
func usgsSource(name string) string {
	if m := usgsFileRe.FindStringSubmatch(filepath.Base(name)); m != nil {
		return "usgs-" + strings.ToLower(m[1])
	}
	return "usgs-mcs"
}

type usgsCol struct {
	idx       int
	header    string
	capacity  bool
	qualifier string
	unit      string
	estimated bool
	year      int
}

// importUSGS reads one USGS MCS world table (mcs<year>-<code>_world.csv).
func importUSGS(o *out, r io.Reader, name string, countries *m49.Table) error {
	m := usgsFileRe.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return fmt.Errorf("%s: not an MCS world table: the file name must look like mcs2024-<code>_world.csv", name)
	}
	code := strings.ToLower(m[2])
	com, ok := usgsCommodities[code]
	if !ok {
		com = usgsCommodity{name: code}
	}
	c := newCSV(textReader(r), name)
	if err := c.readHeader(); err != nil {
		return err
	}
	countryIdx, typeIdx := c.col("country"), c.col("type")
	if typeIdx < 0 && len(c.header) > 2 {
		typeIdx = 2 // the fluorspar file has its Type value in the header cell
	}
	notesIdx := c.col("prod_notes", "prod_note")
	if countryIdx < 0 {
		return fmt.Errorf("%s: no Country column", name)
	}
	var cols []usgsCol
	for i, h := range c.header {
		mm := usgsColRe.FindStringSubmatch(normHeader(h))
		if mm == nil {
			continue
		}
		y, _ := strconv.Atoi(mm[5])
		cols = append(cols, usgsCol{idx: i, header: strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), capacity: mm[1] == "cap",
			qualifier: mm[2], unit: usgsUnits[mm[3]], estimated: mm[4] == "est", year: y})
	}
	if len(cols) == 0 {
		return fmt.Errorf("%s: no Prod_<unit>_<year> or Cap_<unit>_<year> columns in %q", name, strings.Join(c.header, ","))
	}
	seen := map[string]string{}
	bad := func(loc, detail string, raw []byte) error {
		o.read()
		return o.rejectKind(schemas.KindProduction, loc, "bad_csv", detail, raw)
	}
	return c.each(bad, func(rec []string, loc string) error {
		raw := csvLine(rec)
		rawCountry := get(rec, countryIdx)
		typ := get(rec, typeIdx)
		if typeIdx == 2 && c.index["type"] != 2 && typ == "" {
			typ = strings.TrimSpace(c.header[2])
		}
		country, iso, footnote, _ := usgsCountry(rawCountry, countries)
		notes := get(rec, notesIdx)
		for _, col := range cols {
			o.read()
			loc := loc + "#" + col.header // one record per cell: the column keeps reject ids apart
			if country == "" {
				if err := o.rejectKind(schemas.KindProduction, loc, "missing_field", "Country: empty", raw); err != nil {
					return err
				}
				continue
			}
			ps := &schemas.ProductionStat{Commodity: usgsCommodityName(com, typ, col.qualifier), Country: country,
				CountryISO3: iso, Stage: usgsStage(typ, col.capacity), Year: uint16(col.year), Unit: col.unit,
				Estimated: col.estimated || footnote == "e"}
			if notes != "" && strings.Contains(strings.ToLower(notes), "estimated") && strings.Contains(notes, strconv.Itoa(col.year)) {
				ps.Estimated = true
			}
			cell := get(rec, col.idx)
			q, flag, est, valueNote, rej := usgsValue(col.header, cell)
			if rej != nil {
				if err := o.rejectKind(schemas.KindProduction, loc, rej.reason, rej.detail, raw); err != nil {
					return err
				}
				continue
			}
			ps.Quantity, ps.Flag, ps.Estimated = q, flag, ps.Estimated || est
			ps.Note = joinNotes(typ, valueNote, notes)
			k := ps.NaturalKey()
			if prev, dup := seen[k]; dup {
				if err := o.rejectKind(schemas.KindProduction, loc, "duplicate",
					fmt.Sprintf("%s: %s %s %s %d already given at %s", col.header, ps.Commodity, ps.Country, ps.Stage, ps.Year, prev), raw); err != nil {
					return err
				}
				continue
			}
			seen[k] = loc
			if err := o.event(ps, loc, func() []byte { return raw }); err != nil {
				return err
			}
		}
		return nil
	})
}

func joinNotes(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	s := strings.Join(out, "; ")
	if len(s) > 1000 {
		cut := 1000
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func usgsCommodityName(c usgsCommodity, typ, headerQual string) string {
	name := c.name
	if len(c.qualify) > 0 {
		lt := strings.ToLower(typ)
		matched := false
		for _, q := range c.qualify {
			if strings.Contains(lt, q.match) {
				name, matched = q.commodity, true
				break
			}
		}
		if !matched && typ != "" {
			name = c.name + " (" + strings.ToLower(strings.TrimSpace(typ)) + ")"
		}
	}
	if headerQual != "" {
		name += " (" + headerQual + ")"
	}
	return name
}

// usgsStage derives the stage from the Type text: capacity, refinery, smelter, mine, plant or
// production.
func usgsStage(typ string, capacityCol bool) string {
	t := strings.ToLower(typ)
	switch {
	case capacityCol:
		return "capacity"
	case strings.Contains(t, "capacity") && !strings.Contains(t, "production"):
		return "capacity"
	case strings.Contains(t, "refinery"):
		return "refinery"
	case strings.Contains(t, "smelter"):
		return "smelter"
	case mineRe.MatchString(t):
		return "mine"
	case strings.Contains(t, "plant"):
		return "plant"
	}
	return "production"
}

// usgsCountry cleans a Country cell: footnote digits and letters removed, "World total (rounded)"
// → "World" (with its qualifier: "World (natural)"), the name matched to ISO alpha-3 where it is a
// country. A qualifier after the country ("India (ocher)", "Argentina, crude ore") is returned and
// kept in the name as "India (ocher)", "Argentina (crude ore)".
func usgsCountry(s string, t *m49.Table) (name, iso3, footnote, qualifier string) {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ")
	base := strings.TrimSpace(footDigitsRe.ReplaceAllString(s, ""))
	if base == "" {
		return "", "", "", ""
	}
	low := strings.ToLower(base)
	if strings.HasPrefix(low, "world") {
		rest := strings.TrimSpace(base[len("world"):])
		rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(rest, "total"), "Total"))
		rest = strings.TrimSpace(strings.ReplaceAll(rest, "(rounded)", ""))
		rest = strings.Trim(footDigitsRe.ReplaceAllString(rest, ""), "(), ")
		rest = strings.Trim(strings.TrimSuffix(strings.TrimSuffix(rest, "rounded"), ","), "(), ")
		if rest != "" {
			return "World (" + rest + ")", "", "", ""
		}
		return "World", "", "", ""
	}
	if strings.HasPrefix(low, "other countries") {
		return "Other countries", "", "", strings.Trim(strings.TrimSpace(base[len("other countries"):]), "()")
	}
	if c, fn, ok := exactOrFootnote(base, t); ok {
		return strings.TrimSpace(base[:len(base)-len(fn)]), c.ISO3, fn, ""
	}
	if i := strings.IndexAny(base, "(,"); i > 0 {
		head := strings.TrimSpace(base[:i])
		if c, fn, ok := exactOrFootnote(head, t); ok {
			// Keep the qualifier in the name: a country can have several rows ("United States
			// (extracted from natural gas)", "United States (from Cliffside Field)").
			q := strings.Trim(strings.TrimSpace(base[i:]), "(), ")
			name := strings.TrimSpace(head[:len(head)-len(fn)])
			if q != "" {
				name += " (" + q + ")"
			}
			return name, c.ISO3, fn, q
		}
	}
	return base, "", "", ""
}

// exactOrFootnote matches s exactly (normalised), or without a trailing footnote letter.
func exactOrFootnote(s string, t *m49.Table) (m49.Country, string, bool) {
	if c, ok := t.Exact(s); ok {
		return c, "", true
	}
	if n := len(s); n > 3 && s[n-1] >= 'a' && s[n-1] <= 'z' {
		if c, ok := t.Exact(s[:n-1]); ok {
			return c, s[n-1:], true
		}
	}
	return m49.Country{}, "", false
}

// usgsValue parses a quantity cell: numbers with thousands separators, W (withheld), NA, XX (not
// applicable), dashes, ">"/"<" bounds, "Less than ½ unit", an "e" prefix (estimated), ranges and
// "Included in ..." (flag "included").
func usgsValue(header, s string) (q *float64, flag string, estimated bool, note string, rej *rejectErr) {
	v := strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", " "))
	low := strings.ToLower(v)
	switch {
	case v == "":
		return nil, "NA", false, "", nil
	case v == "W":
		return nil, "W", false, "", nil
	case low == "na" || low == "n/a" || low == "not available":
		return nil, "NA", false, "", nil
	case v == "XX":
		return nil, "XX", false, "", nil
	case v == "—" || v == "–" || v == "-" || v == "--":
		return nil, "--", false, "", nil
	case strings.HasPrefix(low, "included"):
		return nil, "included", false, v, nil
	case strings.HasPrefix(low, "less than ½") || strings.HasPrefix(low, "less than 1/2"):
		h := 0.5
		return &h, "<", false, v, nil
	}
	if strings.HasPrefix(v, "e") && len(v) > 1 && v[1] >= '0' && v[1] <= '9' {
		estimated = true
		v = v[1:]
	}
	for _, b := range []string{">", "<"} {
		if strings.HasPrefix(v, b) {
			num := strings.TrimSpace(strings.TrimPrefix(v, b))
			if i := strings.IndexAny(num, " ."); i > 0 && !isNumberish(num) {
				num = strings.TrimRight(num[:i], ".")
			}
			f, err := parseNumber(num)
			if err != nil {
				return nil, "", false, "", rejectf("bad_number", "%s: %q is not a number or a known marker", header, s)
			}
			return &f, b, estimated, "", nil
		}
	}
	if lo, hi, ok := strings.Cut(strings.ReplaceAll(v, "–", "-"), "-"); ok && lo != "" {
		if _, err1 := parseNumber(lo); err1 == nil {
			if _, err2 := parseNumber(hi); err2 == nil {
				return nil, "range", estimated, "range " + strings.TrimSpace(lo) + "-" + strings.TrimSpace(hi), nil
			}
		}
	}
	f, err := parseNumber(v)
	if err != nil {
		return nil, "", false, "", rejectf("bad_number", "%s: %q is not a number or a known marker", header, s)
	}
	if f < 0 {
		return nil, "", false, "", rejectf("bad_number", "%s: %q is negative", header, s)
	}
	return &f, "", estimated, "", nil
}

func isNumberish(s string) bool { _, err := parseNumber(s); return err == nil }
