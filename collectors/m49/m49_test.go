package m49

import "testing"

func TestTable(t *testing.T) {
	tb, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for code, iso := range map[uint16]string{156: "CHN", 842: "USA", 276: "DEU", 180: "COD", 410: "KOR", 0: "", 490: "", 97: "",
		699: "IND", 280: "DEU", 158: "TWN", 840: "USA", 251: "FRA"} {
		if got := tb.ISO3(code); got != iso {
			t.Errorf("ISO3(%d) = %q, want %q", code, got, iso)
		}
	}
	for iso, code := range map[string]uint16{"DEU": 276, "IND": 699, "USA": 842, "FRA": 251, "chn": 156, "TWN": 158} {
		if c, ok := tb.ByISO3(iso); !ok || c.M49 != code {
			t.Errorf("ByISO3(%s) = %d %v, want %d", iso, c.M49, ok, code)
		}
	}
	cases := []struct {
		name, iso, foot string
	}{
		{"China", "CHN", ""}, {"CHINA", "CHN", ""}, {"Japane", "JPN", "e"}, {"Russiae", "RUS", "e"},
		{"Korea, Republic ofe", "KOR", "e"}, {"Korea, North", "PRK", ""}, {"New Caledonia11", "NCL", ""},
		{"United\u00a0States", "USA", ""}, {"Congo (Kinshasa)", "COD", ""}, {"Burma", "MMR", ""},
		{"Brazil (beneficiated)", "BRA", ""}, {"Argentina, crude ore", "ARG", ""}, {"Côte d’Ivoire", "CIV", ""},
		{"MÉXICO", "MEX", ""}, {"Türkiye", "TUR", ""}, {"Turkey", "TUR", ""}, {"Viet Nam", "VNM", ""},
		{"England", "GBR", ""}, {"中国", "CHN", ""}, {"Guadeloupe", "GLP", ""}, {"Bolivia", "BOL", ""},
		{"Chile", "CHL", ""}, {"Greece", "GRC", ""},
	}
	for _, c := range cases {
		got, foot, ok := tb.ByName(c.name)
		if !ok || got.ISO3 != c.iso || foot != c.foot {
			t.Errorf("ByName(%q) = %+v %q %v, want %s %q", c.name, got, foot, ok, c.iso, c.foot)
		}
	}
	for _, bad := range []string{"Atlantis", "Other countries4", "World total (rounded)", ""} {
		if c, _, ok := tb.ByName(bad); ok && c.ISO3 != "" {
			t.Errorf("ByName(%q) = %+v", bad, c)
		}
	}
	for in, iso := range map[string]string{"156": "CHN", "CHN": "CHN", "CN": "CHN", "Germany": "DEU", "GB": "GBR", "MX": "MEX"} {
		if c, ok := tb.Resolve(in); !ok || c.ISO3 != iso {
			t.Errorf("Resolve(%q) = %+v", in, c)
		}
	}
	if _, ok := tb.Exact("Japane"); ok {
		t.Error("Exact tolerates footnotes")
	}
}
