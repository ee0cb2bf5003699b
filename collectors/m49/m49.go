// Package m49 maps UN M49 country codes, ISO 3166 alpha-3 codes and country names onto each other.
//
// The table is built from the UN Comtrade reporters reference list (reporters.json, embedded; see
// PROVENANCE.txt) plus a short list of additions and aliases kept in this file. Name lookup folds
// case and accents, ignores punctuation, and tolerates the footnote digits and letters statistical
// tables glue to names ("Japane", "Other countries4", "Korea, Republic ofe").
package m49

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

//go:embed reporters.json
var reportersJSON []byte

// World is the M49 code of the world aggregate.
const World = 0

// Country is one entry of the table.
type Country struct {
	M49      uint16
	ISO3     string // ISO 3166 alpha-3; empty for groups and areas without one
	ISO2     string
	Name     string
	Historic bool // the code expired (e.g. 280 Fed. Rep. of Germany (...1990))
}

// Table is an immutable lookup table; build it once with New and share it.
type Table struct {
	byCode map[uint16]Country
	byISO3 map[string]Country
	byISO2 map[string]Country
	byName map[string]Country
}

type reporter struct {
	ReporterCode int     `json:"reporterCode"`
	Desc         string  `json:"reporterDesc"`
	Text         string  `json:"text"`
	Note         string  `json:"reporterNote"`
	ISO2         string  `json:"reporterCodeIsoAlpha2"`
	ISO3         string  `json:"reporterCodeIsoAlpha3"`
	Expired      *string `json:"entryExpiredDate"`
	IsGroup      bool    `json:"isGroup"`
}

// extras are codes the reporters list lacks. alias marks a second numeric code of a country that
// the list already has (ISO numeric vs. Comtrade's reporter code): it maps to the ISO3 but ByISO3
// keeps returning the Comtrade code.
var extras = []struct {
	code        uint16
	iso3, iso2  string
	name, alias string
}{
	{0, "", "", "World", ""},
	{158, "TWN", "TW", "Taiwan", ""},
	{630, "PRI", "PR", "Puerto Rico", ""},
	{899, "", "", "Areas, nes", ""},
	{840, "USA", "US", "United States of America", "alias"},
	{250, "FRA", "FR", "France", "alias"},
	{578, "NOR", "NO", "Norway", "alias"},
	{756, "CHE", "CH", "Switzerland", "alias"},
}

// aliases are further names (normalised by Normalize) → M49 code.
var aliases = map[string]uint16{
	"united states": 842, "united states of america": 842, "us": 842, "u s": 842, "u s a": 842, "america": 842,
	"russia": 643, "korea republic of": 410, "republic of korea": 410, "south korea": 410, "korea south": 410,
	"korea": 410, "korea north": 408, "north korea": 408, "burma": 104, "congo kinshasa": 180, "dr congo": 180,
	"drc": 180, "congo brazzaville": 178, "laos": 418, "vietnam": 704, "turkey": 792, "bolivia": 68,
	"tanzania": 834, "moldova": 498, "czech republic": 203, "ivory coast": 384, "hong kong": 344, "macau": 446,
	"macao": 446, "uk": 826, "great britain": 826, "britain": 826, "england": 826, "scotland": 826, "wales": 826,
	"northern ireland": 826, "swaziland": 748, "macedonia": 807, "cape verde": 132, "east timor": 626,
	"brunei": 96, "palestine": 275, "holland": 528, "the netherlands": 528, "chinese taipei": 158,
	"taiwan province of china": 158, "mainland china": 156, "prc": 156, "peoples republic of china": 156,
	"china mainland": 156, "iran islamic republic of": 364, "syrian arab republic": 760, "united kingdom of great britain and northern ireland": 826,
	"中国": 156, "美国": 842, "日本": 392, "韩国": 410, "德国": 276, "台湾": 158, "英国": 826, "法国": 251,
	"荷兰": 528, "新加坡": 702, "马来西亚": 458, "越南": 704, "印度": 699, "俄罗斯": 643, "澳大利亚": 36,
	"加拿大": 124, "瑞士": 757, "以色列": 376, "意大利": 380, "泰国": 764, "墨西哥": 484, "巴西": 76,
	"智利": 152, "印度尼西亚": 360, "刚果金": 180, "南非": 710, "中国台湾": 158, "中国香港": 344,
}

// New parses the embedded reference list.
func New() (*Table, error) {
	var doc struct {
		Results []reporter `json:"results"`
	}
	if err := json.Unmarshal(reportersJSON, &doc); err != nil {
		return nil, fmt.Errorf("m49: parse reporters.json: %w", err)
	}
	t := &Table{byCode: map[uint16]Country{}, byISO3: map[string]Country{}, byISO2: map[string]Country{},
		byName: map[string]Country{}}
	for _, r := range doc.Results {
		if r.ReporterCode < 0 || r.ReporterCode > 999 {
			continue
		}
		c := Country{M49: uint16(r.ReporterCode), Name: strings.TrimSpace(r.Desc), Historic: r.Expired != nil && *r.Expired != ""}
		iso3 := strings.TrimSpace(r.ISO3)
		if !r.IsGroup && iso3Re.MatchString(iso3) {
			c.ISO3 = iso3
			c.ISO2 = strings.TrimSpace(r.ISO2)
		}
		t.add(c, r.Desc, r.Text, r.Note)
	}
	// "Guadeloupe (Overseas France)", "Bolivia (Plurinational State of)": the head alone is a name
	// too, unless it already names something else.
	for _, r := range doc.Results {
		if i := strings.IndexByte(r.Desc, '('); i > 0 && !strings.Contains(r.Desc, "...") {
			k := Normalize(r.Desc[:i])
			if _, taken := t.byName[k]; !taken {
				if c, ok := t.byCode[uint16(r.ReporterCode)]; ok {
					t.byName[k] = c
				}
			}
		}
	}
	for _, e := range extras {
		c := Country{M49: e.code, ISO3: e.iso3, ISO2: e.iso2, Name: e.name}
		if e.alias != "" {
			if _, ok := t.byCode[e.code]; !ok {
				t.byCode[e.code] = c
			}
			continue
		}
		t.add(c, e.name)
	}
	for name, code := range aliases {
		if c, ok := t.byCode[code]; ok {
			t.byName[Normalize(name)] = c
		}
	}
	return t, nil
}

// MustNew is New for callers that treat a broken embedded table as a programming error.
func MustNew() *Table {
	t, err := New()
	if err != nil {
		panic(err)
	}
	return t
}

func (t *Table) add(c Country, names ...string) {
	if old, ok := t.byCode[c.M49]; !ok || old.Historic && !c.Historic {
		t.byCode[c.M49] = c
	}
	if c.ISO3 != "" {
		if old, ok := t.byISO3[c.ISO3]; !ok || old.Historic && !c.Historic {
			t.byISO3[c.ISO3] = c
		}
		if c.ISO2 != "" {
			if old, ok := t.byISO2[c.ISO2]; !ok || old.Historic && !c.Historic {
				t.byISO2[c.ISO2] = c
			}
		}
	}
	for _, n := range names {
		if n == "" || n == "None" {
			continue
		}
		k := Normalize(n)
		if old, ok := t.byName[k]; !ok || old.Historic && !c.Historic {
			t.byName[k] = c
		}
	}
}

var (
	iso3Re      = regexp.MustCompile(`^[A-Z]{3}$`)
	iso2Re      = regexp.MustCompile(`^[A-Z]{2}$`)
	digitsRe    = regexp.MustCompile(`^[0-9]{1,3}$`)
	trailDigits = regexp.MustCompile(`[\s0-9]+$`)
)

// ByM49 returns the country of an M49 code.
func (t *Table) ByM49(code uint16) (Country, bool) { c, ok := t.byCode[code]; return c, ok }

// ISO3 returns the ISO alpha-3 code of an M49 code, or "" (groups, World, unknown codes).
func (t *Table) ISO3(code uint16) string { return t.byCode[code].ISO3 }

// ByISO3 returns the current country with that alpha-3 code (case-insensitive).
func (t *Table) ByISO3(iso3 string) (Country, bool) {
	c, ok := t.byISO3[strings.ToUpper(strings.TrimSpace(iso3))]
	return c, ok
}

// ByISO2 returns the current country with that alpha-2 code (case-insensitive).
func (t *Table) ByISO2(iso2 string) (Country, bool) {
	c, ok := t.byISO2[strings.ToUpper(strings.TrimSpace(iso2))]
	return c, ok
}

// Exact looks a name up after Normalize only, without the footnote and qualifier fallbacks of ByName.
func (t *Table) Exact(name string) (Country, bool) {
	c, ok := t.byName[Normalize(strings.ReplaceAll(name, "\u00a0", " "))]
	return c, ok
}

// ByName looks a country name up, tolerant of case, accents, punctuation, trailing footnote digits,
// a trailing footnote letter ("Japane" → Japan, footnote "e"), a parenthetical qualifier
// ("Brazil (beneficiated)") and a qualifier after a comma ("Argentina, crude ore").
// footnote is the footnote letter that had to be removed, if any.
func (t *Table) ByName(name string) (c Country, footnote string, ok bool) {
	raw := strings.TrimSpace(strings.ReplaceAll(name, "\u00a0", " "))
	raw = strings.TrimSpace(trailDigits.ReplaceAllString(raw, ""))
	if raw == "" {
		return Country{}, "", false
	}
	if c, ok := t.byName[Normalize(raw)]; ok {
		return c, "", true
	}
	if c, f, ok := t.footnoted(raw); ok {
		return c, f, true
	}
	if i := strings.IndexByte(raw, '('); i > 0 {
		if c, f, ok := t.ByName(raw[:i]); ok {
			return c, f, true
		}
	}
	if i := strings.IndexByte(raw, ','); i > 0 {
		if c, f, ok := t.ByName(raw[:i]); ok {
			return c, f, true
		}
	}
	return Country{}, "", false
}

func (t *Table) footnoted(raw string) (Country, string, bool) {
	last := raw[len(raw)-1]
	if len(raw) < 4 || last < 'a' || last > 'z' {
		return Country{}, "", false
	}
	if c, ok := t.byName[Normalize(raw[:len(raw)-1])]; ok {
		return c, string(last), true
	}
	return Country{}, "", false
}

// Resolve accepts an M49 code ("156"), an ISO alpha-3 ("CHN") or alpha-2 ("CN") code, or a name.
func (t *Table) Resolve(s string) (Country, bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Country{}, false
	case digitsRe.MatchString(s):
		n, _ := strconv.Atoi(s)
		return t.ByM49(uint16(n))
	case iso3Re.MatchString(s):
		if c, ok := t.ByISO3(s); ok {
			return c, true
		}
	case iso2Re.MatchString(s):
		if c, ok := t.ByISO2(s); ok {
			return c, true
		}
	}
	c, _, ok := t.ByName(s)
	return c, ok
}

// Normalize folds a name for lookup: accents removed, lower case, "&" → "and", apostrophes
// dropped, other punctuation → space, spaces collapsed, a leading "the " dropped.
func Normalize(s string) string {
	folded, _, err := transform.String(transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err == nil {
		s = folded
	}
	s = strings.ToLower(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString(" and ")
			space = false
		case r == '\'' || r == '’' || r == '`':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	return strings.TrimPrefix(out, "the ")
}
