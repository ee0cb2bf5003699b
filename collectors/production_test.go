package collectors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/schemas"
)

func findStat(stats []*schemas.ProductionStat, commodity, country, stage string, year uint16) *schemas.ProductionStat {
	for _, s := range stats {
		if s.Commodity == commodity && s.Country == country && s.Stage == stage && s.Year == year {
			return s
		}
	}
	return nil
}

func TestUSGSGallium(t *testing.T) {
	m, st := importT(t, ImportProduction, "../testdata/production/usgs_mcs2024/mcs2024-galli_world.csv", testOpts())
	// 7 rows × (Prod 2022, Prod est 2023, Cap 2023); the 9 all-comma lines are blank.
	if st.Read != 21 || st.Emitted != 21 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	if m.Events[0].Source != "usgs-mcs2024" {
		t.Errorf("source %q", m.Events[0].Source)
	}
	stats := decodeAll[*schemas.ProductionStat](t, m.Events)
	china := findStat(stats, "gallium", "China", "production", 2023)
	world := findStat(stats, "gallium", "World", "production", 2023)
	if china == nil || world == nil || !ptrEq(china.Quantity, 600000) || !ptrEq(world.Quantity, 610000) ||
		china.Unit != "kg" || china.CountryISO3 != "CHN" || !china.Estimated || world.CountryISO3 != "" {
		t.Fatalf("china %+v world %+v", china, world)
	}
	// PROVENANCE: China's share 98.4 %.
	if share := *china.Quantity / *world.Quantity; share < 0.983 || share > 0.985 {
		t.Errorf("share %.4f", share)
	}
	// Footnote letters: "Japane" → Japan, estimated; "Korea, Republic ofe" → Korea, Republic of.
	jp := findStat(stats, "gallium", "Japan", "production", 2022)
	kr := findStat(stats, "gallium", "Korea, Republic of", "production", 2022)
	if jp == nil || jp.CountryISO3 != "JPN" || !jp.Estimated || kr == nil || kr.CountryISO3 != "KOR" || !ptrEq(kr.Quantity, 2000) {
		t.Errorf("japan %+v korea %+v", jp, kr)
	}
	// 2022 is not an "est" column, but the note says China was estimated in 2022 too.
	if c := findStat(stats, "gallium", "China", "production", 2022); c == nil || !c.Estimated {
		t.Errorf("china 2022 %+v", c)
	}
	// "United\u00a0States" (no-break space) is the United States; capacity column; thousands separator.
	us := findStat(stats, "gallium", "United States", "production", 2023)
	other := findStat(stats, "gallium", "Other countries", "capacity", 2023)
	if us == nil || us.CountryISO3 != "USA" || !ptrEq(us.Quantity, 0) || other == nil || !ptrEq(other.Quantity, 88000) || other.CountryISO3 != "" {
		t.Errorf("us %+v other %+v", us, other)
	}
	// World rows are not countries.
	for _, s := range stats {
		if strings.HasPrefix(strings.ToLower(s.Country), "world") && s.Country != "World" {
			t.Errorf("world row kept its label: %q", s.Country)
		}
	}
}

func TestUSGSDirectory(t *testing.T) {
	m, st := importT(t, ImportProduction, "../testdata/production/usgs_mcs2024", testOpts())
	// 14 world tables (the T5 salient table is not one and is skipped by name).
	if st.Files != 14 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	if d := m.DuplicateIDs(); len(d) != 0 {
		t.Fatalf("duplicate event ids %v", d)
	}
	stats := decodeAll[*schemas.ProductionStat](t, m.Events)
	// PROVENANCE known answers (2023 estimates): leading country / world total.
	known := []struct {
		commodity, country, stage string
		lead, world               float64
	}{
		{"graphite (natural)", "China", "mine", 1230000, 1600000},
		{"rare earths", "China", "mine", 240000, 350000},
		{"tungsten", "China", "mine", 63000, 78000},
		{"antimony", "China", "mine", 40000, 83000},
		{"cobalt", "Congo (Kinshasa)", "mine", 170000, 230000},
		{"lithium", "Australia", "mine", 86000, 180000},
		{"nickel", "Indonesia", "mine", 1800000, 3600000},
	}
	for _, k := range known {
		lead := findStat(stats, k.commodity, k.country, k.stage, 2023)
		world := findStat(stats, k.commodity, "World", k.stage, 2023)
		if lead == nil || world == nil || !ptrEq(lead.Quantity, k.lead) || !ptrEq(world.Quantity, k.world) || lead.CountryISO3 == "" {
			t.Errorf("%s: lead %+v world %+v", k.commodity, lead, world)
		}
	}
	// Withheld, not available, not applicable.
	if s := findStat(stats, "lithium", "United States", "mine", 2023); s == nil || s.Quantity != nil || s.Flag != "W" {
		t.Errorf("lithium US %+v", s)
	}
	if s := findStat(stats, "germanium", "China", "refinery", 2023); s == nil || s.Quantity != nil || s.Flag != "NA" {
		t.Errorf("germanium China %+v", s)
	}
	if s := findStat(stats, "boron", "World", "production", 2023); s == nil || s.Flag != "XX" {
		t.Errorf("boron world %+v", s)
	}
	// A material qualifier glued to the country ("Argentina, crude ore").
	if s := findStat(stats, "boron", "Argentina (crude ore)", "production", 2023); s == nil || s.CountryISO3 != "ARG" || !ptrEq(s.Quantity, 130) {
		t.Errorf("boron Argentina %+v", s)
	}
	// Several materials in one file; header qualifiers; "World total, natural".
	for _, c := range []string{"palladium", "platinum"} {
		if s := findStat(stats, c, "South Africa", "mine", 2023); s == nil || s.CountryISO3 != "ZAF" {
			t.Errorf("%s: %+v", c, s)
		}
	}
	if s := findStat(stats, "titanium (pigment)", "China", "capacity", 2023); s == nil || !ptrEq(s.Quantity, 5500000) {
		t.Errorf("titanium pigment capacity %+v", s)
	}
	if s := findStat(stats, "soda ash", "World (synthetic)", "production", 2023); s == nil || !ptrEq(s.Quantity, 42000) {
		t.Errorf("soda ash world synthetic %+v", s)
	}
	if s := findStat(stats, "antimony", "World", "mine", 2022); s == nil || !ptrEq(s.Quantity, 83100) {
		t.Errorf(`"World total (rounded)10": %+v`, s)
	}
	// Graphite: "72,000" with a thousands separator.
	if s := findStat(stats, "graphite (natural)", "Brazil", "mine", 2022); s == nil || !ptrEq(s.Quantity, 72000) {
		t.Errorf("graphite Brazil %+v", s)
	}
}

func TestUSGSBadFile(t *testing.T) {
	m, st := importT(t, ImportProduction, "../testdata/production/bad/mcs2024-tungs_world.csv", testOpts())
	if st.Read != 12 || st.Emitted != 7 || st.RejectedTotal() != 5 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "duplicate", ":3#Prod_t_est_2023", "Prod_t_est_2023")
	wantReject(t, m, "missing_field", ":4#Prod_t_2022", "Country")
	wantReject(t, m, "missing_field", ":4#Prod_t_est_2023", "Country")
	ids := map[string]bool{}
	for _, r := range m.Rejects {
		if ids[r.RejectID] {
			t.Errorf("reject id %s twice", r.RejectID)
		}
		ids[r.RejectID] = true
	}
	n := 0
	for _, r := range m.Rejects {
		if r.Reason == "bad_number" {
			n++
			if !strings.Contains(r.Detail, "Prod_t_2022") && !strings.Contains(r.Detail, "Prod_t_est_2023") {
				t.Errorf("bad_number detail %q names no column", r.Detail)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d bad_number rejects", n)
	}
	stats := decodeAll[*schemas.ProductionStat](t, m.Events)
	if s := findStat(stats, "tungsten", "China", "mine", 2023); s == nil || !ptrEq(s.Quantity, 2000) || !s.Estimated {
		t.Errorf("e-prefixed %+v", s)
	}
	if s := findStat(stats, "tungsten", "China", "mine", 2022); s == nil || !ptrEq(s.Quantity, 1500) || s.Estimated {
		t.Errorf("1,500 %+v", s)
	}
	if s := findStat(stats, "tungsten", "Atlantis", "mine", 2022); s == nil || s.Quantity != nil || s.Flag != "range" || !strings.Contains(s.Note, "1,000-2,000") {
		t.Errorf("range %+v", s)
	}
	if s := findStat(stats, "tungsten", "Atlantis", "mine", 2023); s == nil || !ptrEq(s.Quantity, 500) || s.Flag != ">" {
		t.Errorf("> %+v", s)
	}
	if s := findStat(stats, "tungsten", "Peru", "mine", 2022); s == nil || s.Flag != "--" {
		t.Errorf("dash %+v", s)
	}
	if s := findStat(stats, "tungsten", "World", "mine", 2023); s == nil || !ptrEq(s.Quantity, 0.5) || s.Flag != "<" {
		t.Errorf("less than half %+v", s)
	}
}

// TestUSGSAllSharedTables imports every MCS 2024 world table of ../shared/data when it is there:
// no rejects, no natural key twice.
func TestUSGSAllSharedTables(t *testing.T) {
	dir := "../../shared/data/usgs_mcs2024_world"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared data not present")
	}
	m, st := importT(t, ImportProduction, dir, testOpts())
	if st.Files != 77 || st.RejectedTotal() != 0 || st.Emitted < 2500 {
		t.Fatalf("stats %+v", st)
	}
	if d := m.DuplicateIDs(); len(d) != 0 {
		t.Fatalf("%d duplicate event ids", len(d))
	}
}

func TestUSGSValue(t *testing.T) {
	cases := []struct {
		in   string
		q    *float64
		flag string
		est  bool
		bad  bool
	}{
		{"1,234", f64(1234), "", false, false},
		{"  NA", nil, "NA", false, false},
		{"W", nil, "W", false, false},
		{"XX", nil, "XX", false, false},
		{"—", nil, "--", false, false},
		{">2,000,000. In addition to the countries listed", f64(2000000), ">", false, false},
		{"e5,000", f64(5000), "", true, false},
		{"Included in World total.", nil, "included", false, false},
		{"Less than ½ unit.", f64(0.5), "<", false, false},
		{"1,000–2,000", nil, "range", false, false},
		{"twelve", nil, "", false, true},
	}
	for _, c := range cases {
		q, flag, est, _, rej := usgsValue("Prod_t_2022", c.in)
		if (rej != nil) != c.bad || flag != c.flag || est != c.est || (q == nil) != (c.q == nil) || (q != nil && *q != *c.q) {
			t.Errorf("%q: q %v flag %q est %v rej %v", c.in, q, flag, est, rej)
		}
	}
}

func f64(v float64) *float64 { return &v }

// A folder import reads every MCS world table, including a code with a hyphen
// (mcs20xx-zirco-hafni_world.csv), and lists every other entry as skipped with its reason.
func TestUSGSFolderListsSkippedFiles(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../testdata/production/usgs_mcs2024/mcs2024-galli_world.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mcs2024-galli_world.csv", "mcs2025-zirco-hafni_world.csv"} {
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "MCS2024_Fig2_Net_Import_Reliance.csv"), []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "meta"), 0o755); err != nil {
		t.Fatal(err)
	}
	m, st := importT(t, ImportProduction, dir, testOpts())
	if st.Files != 2 || st.Emitted == 0 {
		t.Fatalf("stats %+v", st)
	}
	zr := 0
	for _, p := range decodeAll[*schemas.ProductionStat](t, m.Events) {
		if p.Commodity == "zirconium and hafnium" {
			zr++
		}
	}
	if zr == 0 {
		t.Errorf("the hyphenated world table was not imported")
	}
	if len(st.SkippedFiles) != 2 || !strings.HasPrefix(st.SkippedFiles[0], "MCS2024_Fig2_Net_Import_Reliance.csv: does not match") ||
		!strings.HasPrefix(st.SkippedFiles[1], "meta: a directory") {
		t.Errorf("skipped files %q", st.SkippedFiles)
	}
}
