package detectors

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestHHI(t *testing.T) {
	cases := []struct {
		name   string
		values []float64
		want   float64
	}{
		{"empty", nil, 0},
		{"all zero", []float64{0, 0}, 0},
		{"monopoly", []float64{1}, 1},
		{"two equal", []float64{0.5, 0.5}, 0.5},
		{"four equal", []float64{25, 25, 25, 25}, 0.25},
		{"not normalised", []float64{70, 30}, 0.58},                           // 0.49 + 0.09
		{"fractions not summing to 1", []float64{0.7, 0.3, 0.3}, 0.67 / 1.69}, // renormalised
		{"negative ignored", []float64{-5, 1, 1}, 0.5},
		{"US DOJ example 30/30/20/20", []float64{30, 30, 20, 20}, 0.26},
	}
	for _, c := range cases {
		if got := HHI(c.values); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: HHI(%v) = %v, want %v", c.name, c.values, got, c.want)
		}
	}
	if got := EffectiveNumber(0.25); got != 4 {
		t.Errorf("EffectiveNumber(0.25) = %v", got)
	}
	if got := HHIPartial([]float64{60, 20}, 100); math.Abs(got-0.4) > 1e-12 { // 0.36 + 0.04, 20 atomistic
		t.Errorf("HHIPartial = %v, want 0.4", got)
	}
	s := SharesOf(map[string]float64{"CHN": 3, "USA": 1, "ZZZ": 0})
	if len(s) != 2 || s[0].Key != "CHN" || s[0].Value != 0.75 || math.Abs(HHIShares(s)-0.625) > 1e-12 {
		t.Errorf("SharesOf = %+v", s)
	}
}

func TestImportReliance(t *testing.T) {
	cases := []struct {
		m, x, p float64
		want    float64
		ok      bool
	}{
		{100, 0, 0, 1, true},            // all imported (USGS: 100%)
		{100, 20, 20, 0.8, true},        // 80 / 100
		{50, 10, 60, 0.4, true},         // 40 / 100
		{10, 50, 100, -40.0 / 60, true}, // net exporter: negative ("E" in USGS tables)
		{0, 0, 0, 0, false},             // no apparent consumption
		{10, 30, 10, 0, false},          // negative consumption
	}
	for _, c := range cases {
		got, ok := ImportReliance(c.m, c.x, c.p)
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("IR(M=%v, X=%v, P=%v) = %v, %v; want %v, %v", c.m, c.x, c.p, got, ok, c.want, c.ok)
		}
	}
}

func TestDependencyRule(t *testing.T) {
	hit := func(y int) YearTrade {
		return YearTrade{Year: y, ImportHHI: 0.6, ExportHHI: 0.5, Imports: 200, Exports: 100}
	}
	cases := []struct {
		name   string
		series []YearTrade
		hits   int
		fires  bool
	}{
		{"3 of 3", []YearTrade{hit(2021), hit(2022), hit(2023)}, 3, true},
		{"2 of 3", []YearTrade{hit(2021), {Year: 2022, ImportHHI: 0.3, ExportHHI: 0.5, Imports: 2, Exports: 1}, hit(2023)}, 2, true},
		{"1 of 3 (export HHI at threshold is not above)", []YearTrade{hit(2021), {Year: 2022, ImportHHI: 0.6, ExportHHI: 0.4, Imports: 2, Exports: 1},
			{Year: 2023, ImportHHI: 0.6, ExportHHI: 0.5, Imports: 1, Exports: 1}}, 1, false},
		{"old years outside the window", []YearTrade{hit(2018), hit(2019), hit(2023)}, 1, false},
		{"no exports counts as ratio > 1", []YearTrade{{Year: 2022, ImportHHI: 0.9, ExportHHI: 0.9, Imports: 5}, {Year: 2023, ImportHHI: 0.9, ExportHHI: 0.9, Imports: 5}}, 2, true},
		{"no imports never counts", []YearTrade{{Year: 2022, ImportHHI: 0.9, ExportHHI: 0.9}, {Year: 2023, ImportHHI: 0.9, ExportHHI: 0.9}}, 0, false},
		{"missing year is a miss", []YearTrade{hit(2021), hit(2023)}, 2, true},
		{"empty", nil, 0, false},
	}
	for _, c := range cases {
		h, f := DependencyRule(c.series, 0.4, 0.4, 1, 2, 3)
		if h != c.hits || f != c.fires {
			t.Errorf("%s: hits %d fires %v, want %d %v", c.name, h, f, c.hits, c.fires)
		}
	}
}

func TestSupplyRisk(t *testing.T) {
	shares := []Share{{"CHN", 0.8}, {"USA", 0.2}}
	gov := func(c string) float64 {
		if c == "CHN" {
			return 6
		}
		return 2
	}
	tr := func(c string) float64 {
		if c == "CHN" {
			return 1.1
		}
		return 1
	}
	// (0.64×6×1.1 + 0.04×2×1) × (1 − 0.1) × 0.9 = (4.224 + 0.08) × 0.81
	want := (0.64*6*1.1 + 0.04*2) * 0.9 * 0.9
	if got := SupplyRisk(shares, gov, tr, 0.1, 0.9); math.Abs(got-want) > 1e-12 {
		t.Errorf("SupplyRisk = %v, want %v", got, want)
	}
	one := func(string) float64 { return 1 }
	if got := SupplyRisk(shares, one, one, 0, 1); math.Abs(got-HHIShares(shares)) > 1e-12 {
		t.Errorf("with unit factors SupplyRisk must equal the HHI, got %v", got)
	}
}

func TestTTSTTR(t *testing.T) {
	cases := []struct {
		inv, perDay, ttr float64
		tts, gap, norm   float64
		ok, exposed      bool
	}{
		{300, 10, 120, 30, 90, 0.75, true, true},
		{1000, 10, 67.5, 100, 0, 0, true, false},
		{0, 5, 90, 0, 90, 1, true, true},
		{100, 0, 90, 0, 0, 0, false, false}, // no consumption: unbounded TTS
		{100, 50, 0, 2, 0, 0, true, false},  // qualified second source: TTR 0
	}
	for _, c := range cases {
		tts, ok := TimeToSurvive(c.inv, c.perDay)
		if ok != c.ok || math.Abs(tts-c.tts) > 1e-12 {
			t.Errorf("TTS(%v, %v) = %v %v", c.inv, c.perDay, tts, ok)
			continue
		}
		if !ok {
			continue
		}
		gap, norm := TTSGap(tts, c.ttr)
		if math.Abs(gap-c.gap) > 1e-12 || math.Abs(norm-c.norm) > 1e-12 || (tts < c.ttr) != c.exposed {
			t.Errorf("gap(%v, %v) = %v %v, want %v %v", tts, c.ttr, gap, norm, c.gap, c.norm)
		}
	}
}

func TestComposite(t *testing.T) {
	terms := []Term{
		{Name: "a", Norm: 1, Weight: 2},
		{Name: "b", Norm: 0.5, Weight: 1},
		{Name: "c", Norm: 0, Weight: 1},
		{Name: "info", Value: 7, Weight: 0},
		{Name: "clamped", Norm: 3, Weight: 0},
	}
	score := Composite(terms)
	if math.Abs(score-62.5) > 1e-12 { // 100 × (2 + 0.5) / 4
		t.Fatalf("score %v, want 62.5", score)
	}
	wantC := []float64{50, 12.5, 0, 0, 0}
	sumC, sumS := 0.0, 0.0
	for i, tm := range terms {
		if math.Abs(tm.Contribution-wantC[i]) > 1e-12 {
			t.Errorf("%s contribution %v, want %v", tm.Name, tm.Contribution, wantC[i])
		}
		sumC += tm.Contribution
		sumS += tm.Share
	}
	if math.Abs(sumC-score) > 1e-12 || math.Abs(sumS-1) > 1e-12 {
		t.Errorf("Σ contributions %v (score %v), Σ shares %v", sumC, score, sumS)
	}
	if terms[4].Norm != 1 {
		t.Errorf("norm not clamped: %v", terms[4].Norm)
	}
	zero := []Term{{Name: "x", Norm: 0, Weight: 1}}
	if s := Composite(zero); s != 0 || zero[0].Share != 0 {
		t.Errorf("zero score: %v %+v", s, zero)
	}
}

func TestAvailabilitySignals(t *testing.T) {
	if m := EWMA([]float64{10, 20}, 0.5); m != 15 {
		t.Errorf("EWMA = %v", m)
	}
	base, latest, norm, jump := LeadTimeJump([]float64{30, 30, 30, 30, 90}, 0.3, 1.5, 14)
	if base != 30 || latest != 90 || math.Abs(norm-2.0/3) > 1e-12 || !jump {
		t.Errorf("LeadTimeJump = %v %v %v %v", base, latest, norm, jump)
	}
	if _, _, _, jump := LeadTimeJump([]float64{30, 30, 40}, 0.3, 1.5, 14); jump {
		t.Error("30 → 40 days is not a jump at ratio 1.5")
	}
	if _, _, _, jump := LeadTimeJump([]float64{2, 2, 4}, 0.3, 1.5, 14); jump {
		t.Error("2 → 4 days is below the 14-day minimum")
	}
	med, last, norm, collapse := StockCollapse([]float64{1000, 900, 1100, 1000, 100}, 8, 0.25)
	if med != 1000 || last != 100 || math.Abs(norm-0.9) > 1e-12 || !collapse {
		t.Errorf("StockCollapse = %v %v %v %v", med, last, norm, collapse)
	}
	if _, _, _, c := StockCollapse([]float64{1000, 1000, 400}, 8, 0.25); c {
		t.Error("40% of median is not a collapse at fraction 0.25")
	}
	if Median([]float64{3, 1, 2, 10}) != 2.5 {
		t.Error("median")
	}
	for s, want := range map[string]float64{"active": 0, "nrnd": 0.25, "last_time_buy": 0.5, "eol": 0.75, "obsolete": 1} {
		if LifecycleSeverity(s) != want {
			t.Errorf("LifecycleSeverity(%s)", s)
		}
	}
}

func TestHHIAfterSwitch(t *testing.T) {
	cases := []struct {
		shares []float64
		alt    int
		want   float64
	}{
		{[]float64{1}, -1, 0.5},                       // sole source split with a new one
		{[]float64{0.8, 0.2}, 1, 0.4*0.4 + 0.6*0.6},   // half of 0.8 moves to the second
		{[]float64{0.8, 0.2}, -1, 0.16 + 0.04 + 0.16}, // a third, new supplier
		{[]float64{0.5, 0.5}, 0, 0.5},                 // the top itself: no change
		{nil, -1, 0},
	}
	for _, c := range cases {
		if got := HHIAfterSwitch(c.shares, c.alt); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("HHIAfterSwitch(%v, %d) = %v, want %v", c.shares, c.alt, got, c.want)
		}
	}
}

func TestRankAlternates(t *testing.T) {
	alts := []Alternate{
		{SupplierID: "F-fast", QualificationDays: 30, HHIAfter: 0.5},
		{SupplierID: "D-slow", Domestic: true, QualificationDays: 120, HHIAfter: 0.5},
		{SupplierID: "D-fast", Domestic: true, QualificationDays: 60, HHIAfter: 0.6},
		{SupplierID: "D-fast-lowhhi", Domestic: true, QualificationDays: 60, HHIAfter: 0.4},
	}
	rankAlternates(alts, true, false)
	want := []string{"D-fast-lowhhi", "D-fast", "D-slow", "F-fast"}
	for i, w := range want {
		if alts[i].SupplierID != w {
			t.Fatalf("domestic first: %v", alts)
		}
	}
	rankAlternates(alts, false, false)
	if alts[0].SupplierID != "F-fast" {
		t.Errorf("fastest first: %v", alts)
	}
}

// TestUnknownStockIsNotZero: days on which every offer said "Call" (stock unknown) do not enter
// the stock series, so they cannot look like a collapse; known days still do.
func TestUnknownStockIsNotZero(t *testing.T) {
	cfg := DefaultConfig()
	now := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	build := func(lastUnknown bool) *PartMetrics {
		b := NewBuilder(cfg, now)
		for d := 0; d < 6; d++ {
			stock := 1000.0
			if d == 5 {
				stock = 0
				if lastUnknown {
					stock = math.NaN()
				}
			}
			b.AddAvailability("ACME", "P1", "C1", now.AddDate(0, 0, d-6), stock, 30, "active")
		}
		a, err := b.Inputs().Analysis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range a.Parts {
			return p
		}
		t.Fatal("no part")
		return nil
	}
	if p := build(false); !p.Collapse {
		t.Errorf("a real zero after 1000s must collapse: %+v", p)
	}
	if p := build(true); p.Collapse || p.StockLatest != 1000 {
		t.Errorf("an unknown last day must not collapse (latest known stock 1000): %+v", p)
	}
}
