package detectors

import (
	"context"
	"math"
	"sort"
	"testing"
	"time"
)

func runFixtureInMemory(t *testing.T, now time.Time) map[string][]Finding {
	t.Helper()
	cfg := fixtureConfig()
	b := NewBuilder(cfg, now)
	for _, r := range fixtureRecords(now) {
		if err := r.Validate(); err != nil {
			t.Fatalf("fixture record %s invalid: %v", r.NaturalKey(), err)
		}
		b.Add(r)
	}
	reg, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dets, _ := reg.Select()
	out, err := RunAll(context.Background(), b.Inputs(), dets)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func bySubject(fs []Finding) map[string]*Finding {
	m := map[string]*Finding{}
	for i := range fs {
		m[fs[i].Subject] = &fs[i]
	}
	return m
}

func termOf(f *Finding, name string) *Term {
	for i := range f.Terms {
		if f.Terms[i].Name == name {
			return &f.Terms[i]
		}
	}
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// checkFixture asserts exactly the expected findings of fixtureRecords, their flags, the key figures
// and the top terms.
func checkFixture(t *testing.T, got map[string][]Finding) {
	t.Helper()
	for det, want := range wantFixture {
		fs := bySubject(got[det])
		var gotSubjects, wantSubjects []string
		for s := range fs {
			gotSubjects = append(gotSubjects, s)
		}
		for s := range want {
			wantSubjects = append(wantSubjects, s)
		}
		sort.Strings(gotSubjects)
		sort.Strings(wantSubjects)
		if len(gotSubjects) != len(wantSubjects) {
			for _, f := range got[det] {
				t.Logf("%s %s score %.2f flags %v top %v", det, f.Subject, f.Score, f.Flags, TopTerms(&f, 3))
			}
			t.Errorf("%s: subjects %v, want %v", det, gotSubjects, wantSubjects)
			continue
		}
		for s, flags := range want {
			f := fs[s]
			if f == nil {
				t.Errorf("%s: missing %s (got %v)", det, s, gotSubjects)
				continue
			}
			for _, fl := range flags {
				if !f.HasFlag(fl) {
					t.Errorf("%s %s: flags %v lack %s", det, s, f.Flags, fl)
				}
			}
			// the contract: contributions add up to the score, shares to 1
			sumC, sumS := 0.0, 0.0
			for _, tm := range f.Terms {
				sumC += tm.Contribution
				sumS += tm.Share
			}
			if !near(sumC, f.Score) || (f.Score > 0 && !near(sumS, 1)) {
				t.Errorf("%s %s: Σ contributions %.6f vs score %.6f, Σ shares %.6f", det, s, sumC, f.Score, sumS)
			}
		}
	}

	ss := bySubject(got[NameSingleSource])
	if f := ss["ENT-A|COMP-CHIP"]; f != nil {
		// weights top 1, hhi 2, country 1, foreign 1, single 2, no_alternate 1 (Σ 8): all terms are 1
		// but no_alternate (a substitute exists) → 100 × 7/8
		if !near(f.Score, 87.5) {
			t.Errorf("single_source ENT-A|COMP-CHIP score %.4f, want 87.5", f.Score)
		}
		if top := TopTerms(f, 2); len(top) != 2 || top[0] != "single_source" || top[1] != "supplier_hhi" {
			t.Errorf("single_source ENT-A|COMP-CHIP top terms %v, want [single_source supplier_hhi]", top)
		}
		if !f.ChainLeader || f.Industry != "ev" || f.Region != "Jiangsu" || f.Category != "high_end_chip" {
			t.Errorf("dimensions: %+v", f)
		}
		if len(f.Alternates) != 1 || f.Alternates[0].SupplierID != "SUP-CN9" || !f.Alternates[0].Domestic ||
			f.Alternates[0].QualificationDays != 120 || f.Alternates[0].Origin != "substitution" || !near(f.Alternates[0].HHIAfter, 0.5) {
			t.Errorf("alternates %+v", f.Alternates)
		}
		if len(f.Products) != 1 || f.Products[0] != "PROD-EV1" {
			t.Errorf("products %v", f.Products)
		}
	}
	if f := ss["ENT-B|COMP-GA"]; f != nil {
		// 0.7 / 0.3 from the map, SUP-KR1 via the award at the smallest share (0.3): 0.7,0.3,0.3 → /1.3
		want := (0.49 + 0.09 + 0.09) / (1.3 * 1.3)
		if tm := termOf(f, "supplier_hhi"); tm == nil || !near(tm.Value, want) {
			t.Errorf("ENT-B|COMP-GA supplier_hhi %+v, want %.6f", tm, want)
		}
		if tm := termOf(f, "single_source"); tm == nil || tm.Value != 3 {
			t.Errorf("ENT-B|COMP-GA suppliers %+v, want 3 (one through the award)", tm)
		}
	}
	tt := bySubject(got[NameTTSTTR])
	if f := tt["ENT-A|COMP-CHIP"]; f != nil {
		if f.TTSDays == nil || *f.TTSDays != 30 || f.TTRDays == nil || *f.TTRDays != 120 || !near(f.Score, 75) {
			t.Errorf("tts_ttr ENT-A|COMP-CHIP: tts %v ttr %v score %v", f.TTSDays, f.TTRDays, f.Score)
		}
		if tm := termOf(f, "tts_gap"); tm == nil || tm.Value != 90 {
			t.Errorf("tts_gap %+v", tm)
		}
	}
	ck := bySubject(got[NameChokepoint])
	if f := ck["854231"]; f != nil {
		// exporters TWN 800, KOR 100, USA 100, MYS 100 (mirror), CHN 100 → /1200
		wantX := (800.0*800 + 4*100*100) / (1200.0 * 1200)
		wantM := (700.0*700 + 50*50 + 50*50 + 100*100) / (900.0 * 900)
		if tm := termOf(f, "world_hhi"); tm == nil || !near(tm.Value, wantX) {
			t.Errorf("854231 world_hhi %+v, want %.6f", tm, wantX)
		}
		if tm := termOf(f, "import_hhi"); tm == nil || !near(tm.Value, wantM) {
			t.Errorf("854231 import_hhi %+v, want %.6f", tm, wantM)
		}
		if tm := termOf(f, "dependency"); tm == nil || tm.Value != 3 {
			t.Errorf("854231 dependency %+v, want 3 years", tm)
		}
	}
	if f := ck["COMP-CHIP"]; f != nil {
		if tm := termOf(f, "foreign_control"); tm == nil || tm.Value != 1 || tm.Norm != 1 {
			t.Errorf("COMP-CHIP foreign_control %+v", tm)
		}
		if tm := termOf(f, "reach"); tm == nil || tm.Value != 4 { // ENT-A chain leader ×3 + ENT-B
			t.Errorf("COMP-CHIP reach %+v, want 4", tm)
		}
	}
	av := bySubject(got[NameAvailability])
	if f := av["ACME|M8X20"]; f != nil {
		if tm := termOf(f, "lead_time_jump"); tm == nil || !near(tm.Value, 3) || !near(tm.Norm, 2.0/3) {
			t.Errorf("lead_time_jump %+v", tm)
		}
		if tm := termOf(f, "stock_collapse"); tm == nil || !near(tm.Value, 0.1) || !near(tm.Norm, 0.9) {
			t.Errorf("stock_collapse %+v", tm)
		}
		if f.ComponentID != "COMP-BOLT" || f.Category != "base_component" {
			t.Errorf("part dims %+v", f)
		}
	}
	ex := bySubject(got[NameExposure])
	if f := ex["ENT-A|COMP-CHIP"]; f != nil {
		if top := TopTerms(f, 1); len(top) != 1 || top[0] != "supplier_hhi" && top[0] != "chokepoint" {
			t.Errorf("exposure ENT-A|COMP-CHIP top %v", top)
		}
		if f.SubjectType != SubjectEnterpriseComponent || len(f.Alternates) == 0 {
			t.Errorf("exposure pair %+v", f)
		}
	}
}

func TestFixtureInMemory(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	got := runFixtureInMemory(t, now)
	checkFixture(t, got)
	if t.Failed() {
		for det, fs := range got {
			for _, f := range fs {
				t.Logf("%s %s %.2f %v", det, f.Subject, f.Score, f.Flags)
			}
		}
	}
}
