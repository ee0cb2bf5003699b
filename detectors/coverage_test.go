package detectors

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

func TestProductionConcentration(t *testing.T) {
	cases := []struct {
		name         string
		named        map[string]float64
		other, world float64
		top          Share
		hhi, total   float64
		remainder    float64
		ofWorld      bool
	}{
		// cobalt 2023: DRC 170 000 of the World total 230 000 (listed rows 229 300 incl. Other 6 600)
		{"world total used", map[string]float64{"COD": 170000, "IDN": 17000}, 6600, 230000,
			Share{"COD", 170000.0 / 230000}, (170000.0*170000 + 17000*17000) / (230000.0 * 230000), 230000, 230000 - 187000, true},
		// listed rows above a rounded World total within 5 %: still the World total (rare earths)
		{"rounded world below listed within tolerance", map[string]float64{"CHN": 240000, "USA": 113320}, 0, 350000,
			Share{"CHN", 240000.0 / 350000}, (240000.0*240000 + 113320*113320) / (350000.0 * 350000), 350000, 0, true},
		// far above: the World row describes something else; shares of the listed rows
		{"world total inconsistent", map[string]float64{"A": 60, "B": 40}, 0, 50,
			Share{"A", 0.6}, 0.6*0.6 + 0.4*0.4, 100, 0, false},
		// no World row: shares of the listed rows, "Other countries" in the denominator, fragmented
		{"no world total", map[string]float64{"A": 50, "B": 30}, 20, 0,
			Share{"A", 0.5}, 0.25 + 0.09, 100, 20, false},
		{"nothing", map[string]float64{}, 0, 0, Share{}, 0, 0, 0, false},
	}
	for _, c := range cases {
		pc := ProductionConcentration(c.named, c.other, c.world)
		var top Share
		if len(pc.Producers) > 0 {
			top = pc.Producers[0]
		}
		if top.Key != c.top.Key || math.Abs(top.Value-c.top.Value) > 1e-12 || math.Abs(pc.HHI-c.hhi) > 1e-12 ||
			pc.Total != c.total || math.Abs(pc.Remainder-c.remainder) > 1e-9 || pc.OfWorld != c.ofWorld {
			t.Errorf("%s: got top %v HHI %v total %v remainder %v ofWorld %v; want %v %v %v %v %v",
				c.name, top, pc.HHI, pc.Total, pc.Remainder, pc.OfWorld, c.top, c.hhi, c.total, c.remainder, c.ofWorld)
		}
	}
}

func TestPartnerConcentration(t *testing.T) {
	cases := []struct {
		name                string
		partners            map[string]float64
		world               float64
		top                 Share
		hhi, cov, remainder float64
		ofWorld             bool
	}{
		{"world row: shares of World, remainder fragmented", map[string]float64{"KOR": 30, "JPN": 10}, 100,
			Share{"KOR", 0.3}, 0.09 + 0.01, 0.4, 60, true},
		{"full coverage", map[string]float64{"KOR": 75, "JPN": 25}, 100, Share{"KOR", 0.75}, 0.625, 1, 0, true},
		{"no world row (BACI): shares of the listed partners", map[string]float64{"KOR": 30, "JPN": 10}, 0,
			Share{"KOR", 0.75}, 0.625, 1, 0, false},
		{"partners far above World: listed shares", map[string]float64{"KOR": 30, "JPN": 10}, 20,
			Share{"KOR", 0.75}, 0.625, 1, 0, false},
	}
	for _, c := range cases {
		s, hhi, cov, rem, ofWorld := PartnerConcentration(c.partners, c.world)
		if s[0] != c.top || math.Abs(hhi-c.hhi) > 1e-12 || math.Abs(cov-c.cov) > 1e-12 || math.Abs(rem-c.remainder) > 1e-9 || ofWorld != c.ofWorld {
			t.Errorf("%s: got %v HHI %v coverage %v remainder %v ofWorld %v", c.name, s, hhi, cov, rem, ofWorld)
		}
	}
}

func TestDependencyRuleCovered(t *testing.T) {
	hit := func(y int, cov float64, known bool) YearTrade {
		return YearTrade{Year: y, ImportHHI: 0.6, ExportHHI: 0.5, Imports: 200, Exports: 100, Coverage: cov, CoverageKnown: known}
	}
	cases := []struct {
		name         string
		series       []YearTrade
		hits         int
		fires        bool
		uncovered    int
		insufficient bool
	}{
		{"covered years fire", []YearTrade{hit(2021, 0.9, true), hit(2022, 0.6, true), hit(2023, 0.5, true)}, 3, true, 0, false},
		{"coverage not assessed (no World row) counts", []YearTrade{hit(2022, 0, false), hit(2023, 0, false)}, 2, true, 0, false},
		{"one uncovered year, still fires on two covered", []YearTrade{hit(2021, 0.2, true), hit(2022, 0.9, true), hit(2023, 0.9, true)}, 2, true, 1, false},
		{"uncovered years: insufficient instead of firing", []YearTrade{hit(2021, 0.2, true), hit(2022, 0.4, true), hit(2023, 0.9, true)}, 1, false, 2, true},
		{"a plain miss is not insufficient", []YearTrade{{Year: 2022, ImportHHI: 0.1, ExportHHI: 0.5, Imports: 2, Exports: 1, Coverage: 1, CoverageKnown: true}}, 0, false, 0, false},
	}
	for _, c := range cases {
		d := DependencyRuleCovered(c.series, 0.4, 0.4, 1, 2, 3, 0.5)
		if d.Hits != c.hits || d.Fires != c.fires || d.Uncovered != c.uncovered || d.Insufficient != c.insufficient {
			t.Errorf("%s: got %+v, want hits %d fires %v uncovered %d insufficient %v", c.name, d, c.hits, c.fires, c.uncovered, c.insufficient)
		}
	}
}

func TestCountryISO3Qualifiers(t *testing.T) {
	for name, want := range map[string]string{
		"United States (from Cliffside Field)":       "USA",
		"United States (extracted from natural gas)": "USA",
		"Congo (Kinshasa)":                           "COD",
		"Korea, Republic ofe":                        "KOR",
		"Argentina, crude ore":                       "ARG",
		"Atlantis (deep)":                            "ATLANTIS (DEEP)",
	} {
		if got := countryISO3(name); got != want {
			t.Errorf("countryISO3(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestMinImportCoverageValidated(t *testing.T) {
	cfg := DefaultConfig()
	if cfg.Chokepoint.MinImportCoverage != 0.5 {
		t.Errorf("default min_import_coverage %v, want 0.5", cfg.Chokepoint.MinImportCoverage)
	}
	for _, v := range []float64{-0.1, 1.5, math.NaN()} {
		cfg.Chokepoint.MinImportCoverage = v
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "chokepoint.min_import_coverage") {
			t.Errorf("min_import_coverage %v: error %v, want one naming chokepoint.min_import_coverage", v, err)
		}
	}
	cfg.Chokepoint.MinImportCoverage = 0
	if err := cfg.Validate(); err != nil {
		t.Errorf("min_import_coverage 0 (floor off): %v", err)
	}
}

// importCoverageInputs: CHN imports HS 811292 in 2021..2023 from KOR (and, with a World row, more
// from unlisted partners); KOR is the only world exporter, so every other term of the rule holds.
func importCoverageInputs(t *testing.T, koreaShare float64, withWorld bool) *ConcMetrics {
	t.Helper()
	cfg := DefaultConfig()
	b := NewBuilder(cfg, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	for y := uint16(2021); y <= 2023; y++ {
		b.Add(&schemas.TradeFlow{ReporterM49: 156, ReporterISO3: "CHN", PartnerM49: 410, PartnerISO3: "KOR", Flow: "M", HSCode: "811292", Year: y, ValueUSD: 1000 * koreaShare})
		if withWorld {
			b.Add(&schemas.TradeFlow{ReporterM49: 156, ReporterISO3: "CHN", PartnerM49: 0, Flow: "M", HSCode: "811292", Year: y, ValueUSD: 1000})
		}
		b.Add(&schemas.TradeFlow{ReporterM49: 410, ReporterISO3: "KOR", PartnerM49: 0, Flow: "X", HSCode: "811292", Year: y, ValueUSD: 5000})
	}
	a, err := b.Inputs().Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range a.HS {
		if c.Key == "811292" {
			return c
		}
	}
	t.Fatal("no HS 811292 metrics")
	return nil
}

func TestImportHHIWorldDenominator(t *testing.T) {
	cfg := DefaultConfig()
	in := &Inputs{Cfg: cfg}
	// Korea 80 % of World imports: HHI 0.64, coverage 0.8, the rule fires (3 of 3 years)
	c := importCoverageInputs(t, 0.8, true)
	if math.Abs(c.ImportHHI-0.64) > 1e-12 || math.Abs(c.ImportCoverage-0.8) > 1e-12 || !c.Dependency {
		t.Errorf("80%%: import HHI %v coverage %v dependency %v, want 0.64 0.8 true", c.ImportHHI, c.ImportCoverage, c.Dependency)
	}
	det := concTerms(in, c)[1].Detail
	if !strings.Contains(det, "share of imports from World 1000 USD") || !strings.Contains(det, "unlisted remainder 200 USD (20.0%)") {
		t.Errorf("import_hhi detail %q does not show the World denominator and the unlisted remainder", det)
	}
	// Korea 45 % of World imports: below the 0.5 floor in every year — insufficient coverage, no flag
	c = importCoverageInputs(t, 0.45, true)
	if c.Dependency || !c.Dep.Insufficient {
		t.Errorf("45%%: dependency %v insufficient %v, want false true", c.Dependency, c.Dep.Insufficient)
	}
	dep := concTerms(in, c)[3]
	if dep.Name != "dependency" || dep.Weight != 0 || !strings.Contains(dep.Detail, "insufficient coverage") {
		t.Errorf("45%%: dependency term %+v, want n/a: insufficient coverage", dep)
	}
	// no World row (BACI-like): shares of the listed partners, as before
	c = importCoverageInputs(t, 0.45, false)
	if c.ImportHHI != 1 || c.ImportCoverageKnown || !c.Dependency {
		t.Errorf("no World row: import HHI %v coverage known %v dependency %v, want 1 false true", c.ImportHHI, c.ImportCoverageKnown, c.Dependency)
	}
}
