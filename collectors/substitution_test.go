package collectors

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

func findSub(subs []*schemas.Substitution, comp string) *schemas.Substitution {
	for _, s := range subs {
		if s.ComponentID == comp {
			return s
		}
	}
	return nil
}

func TestSubstitutionCSV(t *testing.T) {
	opts := testOpts()
	opts.HomeCountry = "CHN"
	m, st := importT(t, ImportSubstitution, "../testdata/substitution/substitutions.csv", opts)
	if st.Read != 9 || st.Emitted != 3 || st.RejectedTotal() != 6 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "missing_field", ":5", "alt_component_id")
	wantReject(t, m, "missing_field", ":6", "component_id")
	wantReject(t, m, "bad_number", ":7", "qualification_days")
	wantReject(t, m, "bad_number", ":8", "qualification_days")
	wantReject(t, m, "bad_bool", ":9", "domestic")
	wantReject(t, m, "bad_country", ":10", "country")
	subs := decodeAll[*schemas.Substitution](t, m.Events)
	c1, c2, c3 := findSub(subs, "C1"), findSub(subs, "C2"), findSub(subs, "C3")
	if c1 == nil || c1.AltComponentID != "C1-CN" || c1.AltSupplierID != "S2" || c1.EnterpriseID != "E1" || c1.QualificationDays != 180 ||
		!c1.Domestic || c1.Country != "CHN" || c1.Notes != "斯达半导 IGBT 国产替代" || !c1.AsOf.Equal(time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("C1 %+v", c1)
	}
	if c2 == nil || c2.Country != "CHN" || !c2.Domestic || c2.EnterpriseID != "" {
		t.Errorf("C2 (country name, domestic from home country) %+v", c2)
	}
	if c3 == nil || c3.AltComponentID != "" || c3.AltSupplierID != "S3" || c3.Domestic {
		t.Errorf("C3 %+v", c3)
	}
}

func TestSubstitutionYAML(t *testing.T) {
	opts := testOpts()
	opts.HomeCountry = "CHN"
	m, st := importT(t, ImportSubstitution, "../testdata/substitution/substitutions.yaml", opts)
	if st.Read != 5 || st.Emitted != 3 || st.RejectedTotal() != 2 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "missing_field", "substitutions.yaml:14", "alt_component_id")
	wantReject(t, m, "bad_row", "substitutions.yaml:15", "mapping")
	subs := decodeAll[*schemas.Substitution](t, m.Events)
	if c2 := findSub(subs, "C2"); c2 == nil || c2.QualificationDays != 91 || !c2.Domestic {
		t.Errorf("C2 %+v", c2)
	}
	// Same natural keys as the CSV form.
	mc, _ := importT(t, ImportSubstitution, "../testdata/substitution/substitutions.csv", opts)
	for i := 0; i < 3; i++ {
		if m.Events[i].EventID != mc.Events[i].EventID {
			t.Errorf("event %d differs between CSV and YAML", i)
		}
	}
}

// A substitution CSV record that does not parse is rejected with its source lines.
func TestSubstitutionBadCSVCarriesRaw(t *testing.T) {
	p := filepath.Join(t.TempDir(), "subs.csv")
	body := "component_id,alt_component_id\nC1,C1-CN\nC2,\"bad \"quote\"\nC3,C3-CN\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	m, st := importT(t, ImportSubstitution, p, testOpts())
	if st.Rejected["bad_csv"] != 1 || len(m.Rejects) != 1 {
		t.Fatalf("stats %+v rejects %+v", st, m.Rejects)
	}
	if got := string(m.Rejects[0].Raw); got != `C2,"bad "quote"` {
		t.Errorf("raw %q", got)
	}
}
