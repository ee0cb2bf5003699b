package whatif

import (
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors/supplygraph"
	"github.com/chainwatch/chainwatch/schemas"
)

var asOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func node(typ, id, country string, leader bool) *schemas.SupplyNode {
	n := &schemas.SupplyNode{NodeType: typ, NodeID: id, Name: id, Country: country, ChainLeader: leader, AsOf: asOf}
	if typ == schemas.NodeComponent {
		n.Category = schemas.CategoryOther
	}
	return n
}

func link(typ, ent, prod, comp, sup string, qty, share float64, qual string) *schemas.SupplyLink {
	return &schemas.SupplyLink{LinkType: typ, EnterpriseID: ent, ProductID: prod, ComponentID: comp, SupplierID: sup,
		QtyPerUnit: qty, Share: share, Qualification: qual, AsOf: asOf}
}

func stock(ent, comp string, units, perDay float64) *schemas.SupplyLink {
	return &schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: ent, ComponentID: comp, InventoryUnits: units, ConsumptionPerDay: perDay, AsOf: asOf}
}

// fourTier is material GA → wafer W (E1, JPN) → chip C (E2, KOR) → module MOD (E3, DEU) → product
// P (E4, the 链主, USA). E1 buys GA from S-CN (CHN, share 1) and qualifies S-AU (in progress); E3
// buys 40% of C from S-DE and makes… no, takes 60% in-house from E2; E4 also buys a screw X from
// S-US, which no shock touches.
func fourTier(t *testing.T) *supplygraph.Graph {
	t.Helper()
	b := supplygraph.NewBuilder()
	ga := node(schemas.NodeComponent, "GA", "", false)
	ga.Category, ga.HSCode = schemas.CategoryKeyMaterial, "811292"
	recs := []schemas.Record{
		node(schemas.NodeEnterprise, "E1", "JPN", false), node(schemas.NodeEnterprise, "E2", "KOR", false),
		node(schemas.NodeEnterprise, "E3", "DEU", false), node(schemas.NodeEnterprise, "E4", "USA", true),
		node(schemas.NodeSupplier, "S-CN", "CHN", false), node(schemas.NodeSupplier, "S-AU", "AUS", false),
		node(schemas.NodeSupplier, "S-DE", "DEU", false), node(schemas.NodeSupplier, "S-US", "USA", false),
		ga, node(schemas.NodeComponent, "W", "", false), node(schemas.NodeComponent, "C", "", false),
		node(schemas.NodeComponent, "MOD", "", false), node(schemas.NodeComponent, "X", "", false),
		node(schemas.NodeProduct, "W", "", false), node(schemas.NodeProduct, "C", "", false),
		node(schemas.NodeProduct, "MOD", "", false), node(schemas.NodeProduct, "P", "", false),
		link(schemas.LinkMakes, "E1", "W", "", "", 0, 0, ""), link(schemas.LinkMakes, "E2", "C", "", "", 0, 0, ""),
		link(schemas.LinkMakes, "E3", "MOD", "", "", 0, 0, ""), link(schemas.LinkMakes, "E4", "P", "", "", 0, 0, ""),
		link(schemas.LinkBOM, "", "W", "GA", "", 0.01, 0, ""), link(schemas.LinkBOM, "", "C", "W", "", 0.25, 0, ""),
		link(schemas.LinkBOM, "", "MOD", "C", "", 4, 0, ""), link(schemas.LinkBOM, "", "P", "MOD", "", 1, 0, ""),
		link(schemas.LinkBOM, "", "P", "X", "", 8, 0, ""),
		link(schemas.LinkSupplies, "E1", "", "GA", "S-CN", 0, 1, "qualified"),
		link(schemas.LinkSupplies, "E1", "", "GA", "S-AU", 0, 0, "in_progress"),
		link(schemas.LinkSupplies, "E3", "", "C", "S-DE", 0, 0.4, "qualified"),
		link(schemas.LinkSupplies, "E4", "", "X", "S-US", 0, 1, "qualified"),
		stock("E1", "GA", 300, 10), stock("E2", "W", 200, 10), stock("E3", "C", 60, 5), stock("E4", "MOD", 12, 5),
	}
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			t.Fatalf("%T %+v: %v", r, r, err)
		}
		b.Add(r)
	}
	g, err := b.Build()
	if err != nil || len(b.Skipped) > 0 {
		t.Fatalf("build: %v %v", err, b.Skipped)
	}
	return g
}

func gallium(days float64) Scenario {
	return Scenario{Name: "gallium", Shocks: []Shock{{Type: ShockExport, Country: "CHN", Material: "gallium", Share: 1,
		Start: Date{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, DurationDays: days}}}
}

func day(n float64) time.Time {
	return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n * 24 * float64(time.Hour)))
}

// TestFourTierKnownAnswer works the buffer arithmetic out by hand (day 0 = 2027-01-01, shock
// lasts 120 d, QualifiedSwitchDays set to 30, InProgressDays 90):
//
//	E1/GA: S-CN (CHN) share 1 lost → loss 100% on [0,120). Stock 300 ÷ (10/d × 1) = 30 d → short
//	       from day 30. Alternate S-AU in progress, ready day 0 + 90 = 90 → W stops [30,90): 60 d, 100%.
//	E2/W:  W comes only from E1 → loss 100% on [30,90). Stock 200 ÷ 10 = 20 d → runs out day 50;
//	       no alternate → C stops [50,90): 40 d, 100%.
//	E3/C:  60% in-house from E2 (S-DE has 40%) → loss 60% on [50,90). Stock 60 ÷ (5 × 0.6 = 3/d)
//	       = 20 d → runs out day 70; S-DE (qualified, not hit) ready day 50 + 30 = 80 → MOD short
//	       [70,80): 10 d, 60%.
//	E4/MOD: MOD only from E3 → loss 60% on [70,80). Stock 12 ÷ (5 × 0.6 = 3/d) = 4 d → runs out
//	       day 74 → P short [74,80): 6 d, 60%. To avoid it E4 needs 3/d × 10 d = 30 units of MOD.
func TestFourTierKnownAnswer(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QualifiedSwitchDays = 30
	en := New(fourTier(t), nil, cfg)
	res, err := en.Run(gallium(120))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ent, prod         string
		from, days, short float64
		arith             string
	}{
		{"E1", "W", 30, 60, 1, "E1/GA: stock 300 u ÷ (10 u/d × 100.0% lost) = 30.0 d cover from 2027-01-01"},
		{"E2", "C", 50, 40, 1, "E2/W: stock 200 u ÷ (10 u/d × 100.0% lost) = 20.0 d cover from 2027-01-31"},
		{"E3", "MOD", 70, 10, 0.6, "E3/C: stock 60 u ÷ (5 u/d × 60.0% lost) = 20.0 d cover from 2027-02-20"},
		{"E4", "P", 74, 6, 0.6, "E4/MOD: stock 12 u ÷ (5 u/d × 60.0% lost) = 4.0 d cover from 2027-03-12"},
	}
	if len(res.Stops) != len(want) {
		t.Fatalf("%d stops, want %d: %+v", len(res.Stops), len(want), res.Stops)
	}
	for i, w := range want {
		s := res.Stops[i]
		if s.Enterprise != w.ent || s.Product != w.prod || !s.FirstStop.Equal(day(w.from)) || s.DaysStopped != w.days || s.Shortfall != w.short {
			t.Errorf("stop %d = %s/%s from %s for %.2f d short %.2f, want %s/%s from %s for %.0f d short %.1f",
				i, s.Enterprise, s.Product, s.FirstStop.Format(time.DateOnly), s.DaysStopped, s.Shortfall,
				w.ent, w.prod, day(w.from).Format(time.DateOnly), w.days, w.short)
		}
		if last := s.Arithmetic[len(s.Arithmetic)-1]; !strings.HasPrefix(last, w.arith) {
			t.Errorf("%s/%s arithmetic %q, want prefix %q", w.ent, w.prod, last, w.arith)
		}
		if len(s.Arithmetic) != i+2 || s.Arithmetic[0] != "supplier S-CN is in CHN: share 100% × restricted 100% = 100.0% lost" {
			t.Errorf("%s/%s: %d arithmetic lines, want the loss and one per buffer on the path (%d): %q", w.ent, w.prod, len(s.Arithmetic), i+2, s.Arithmetic)
		}
		if s.Path[0] != "CHN export restriction on gallium (100% lost)" || s.Path[len(s.Path)-1] != w.ent+"/"+w.prod {
			t.Errorf("%s/%s path %q", w.ent, w.prod, s.Path)
		}
	}
	p := res.Stops[3]
	if !p.ChainLeader || p.Action != "hold ≥ 30 units of MOD at E4 (has 12) or qualify a second source within 4.0 d" {
		t.Errorf("E4/P: leader %v action %q", p.ChainLeader, p.Action)
	}
	if !strings.Contains(res.Stops[0].Arithmetic[1], "alternate supplier S-AU (qualification in progress) ready after 90 d (2027-04-01)") {
		t.Errorf("E1/W: %q", res.Stops[0].Arithmetic)
	}
}

// TestShortShockAbsorbed: a 25 d restriction is inside E1's 30 d of cover, nothing stops.
func TestShortShockAbsorbed(t *testing.T) {
	en := New(fourTier(t), nil, DefaultConfig())
	res, err := en.Run(gallium(25))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stops) != 0 || len(res.Absorbed) != 1 || !strings.Contains(res.Absorbed[0], "E1/GA: stock 300 u") {
		t.Fatalf("stops %+v absorbed %q", res.Stops, res.Absorbed)
	}
}

func TestSupplierSiteAndLeadTimeShocks(t *testing.T) {
	en := New(fourTier(t), nil, DefaultConfig())
	start := Date{day(0)}
	cases := []struct {
		shock      Shock
		first      string // "E/P" of the first stop
		from, days float64
	}{
		// S-US has all of X, E4 has no stock of X and no alternate: P stops at once for 10 d.
		{Shock{Type: ShockSupplier, Supplier: "S-US", Start: start, DurationDays: 10}, "E4/P", 0, 10},
		// E3 down 20 d: MOD out [0,20) at E3; E4: 12 ÷ 5 = 2.4 d cover → P short [2.4, 20).
		{Shock{Type: ShockSite, Site: "E3", Start: start, DurationDays: 20}, "E3/MOD", 0, 20},
		// S-CN lead time 30 d × 3 → no deliveries for 60 d (shock 100 d): E1 cover 30 d → W short [30,60).
		{Shock{Type: ShockLeadTime, Supplier: "S-CN", Factor: 3, LeadTimeDays: 30, Start: start, DurationDays: 100}, "E1/W", 30, 30},
	}
	for _, c := range cases {
		res, err := en.Run(Scenario{Shocks: []Shock{c.shock}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Stops) == 0 {
			t.Fatalf("%s: no stops", c.shock)
		}
		s := res.Stops[0]
		if s.Enterprise+"/"+s.Product != c.first || !s.FirstStop.Equal(day(c.from)) || s.DaysStopped != c.days {
			t.Errorf("%s: first stop %s/%s %s %.2f d, want %s %s %.0f d", c.shock, s.Enterprise, s.Product,
				s.FirstStop.Format(time.DateOnly), s.DaysStopped, c.first, day(c.from).Format(time.DateOnly), c.days)
		}
		if c.shock.Type == ShockSite {
			p := res.Stops[1]
			if p.Product != "P" || p.DaysStopped != 17.6 || p.FirstStop.Sub(day(2.4)).Abs() > time.Second {
				t.Errorf("site E3 down: E4/P %+v, want short from day 2.4 for 17.6 d", p)
			}
		}
	}
}

// TestReverseStress: the fastest single stop of the 链主 product P is S-US down (no stock of X,
// no alternate): 0 days.
func TestReverseStress(t *testing.T) {
	en := New(fourTier(t), nil, DefaultConfig())
	out, err := en.ReverseStress(day(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !out[0].Found || out[0].Product != "P" || out[0].Shock.Type != ShockSupplier ||
		out[0].Shock.Supplier != "S-US" || out[0].DaysToStop != 0 {
		t.Fatalf("reverse stress %+v", out)
	}
	if out[0].Candidates < 4+4 {
		t.Errorf("only %d candidates", out[0].Candidates)
	}
}

func TestScenarioValidate(t *testing.T) {
	_, err := ParseScenario(strings.NewReader("name: x\nshocks:\n  - type: export_restriction\n    start: 2027-01-01\n    duration_days: 0\n    share: 2\n  - type: boom\n    start: 2027-01-01\n    duration_days: 3\n"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"shocks[0].duration_days: must be > 0", "shocks[0].country: required", "shocks[0].material: material or hs_code is required",
		"shocks[0].share: must be in (0, 1]", "shocks[1].type:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	sc, err := ParseScenario(strings.NewReader("name: ok\nshocks:\n  - {type: lead_time, supplier: S, start: 2027-02-03, duration_days: 5}\n"))
	if err != nil || sc.Shocks[0].Factor != 2 || sc.Shocks[0].Start.Format(time.DateOnly) != "2027-02-03" {
		t.Fatalf("%+v %v", sc, err)
	}
}

func TestWhatWouldStop(t *testing.T) {
	en := New(fourTier(t), nil, DefaultConfig())
	runs, err := en.WhatWouldStop([]Subject{{"component", "X"}, {"component", "NOPE"}, {"material", "gallium"}}, day(0), 30)
	if err != nil {
		t.Fatal(err)
	}
	// X: its only supplier S-US down 30 d; E4 has no stock of X → P stops at once for 30 d.
	if len(runs) != 3 || len(runs[0].Stops) != 1 || runs[0].Stops[0].Product != "P" || runs[0].Stops[0].DaysStopped != 30 ||
		runs[0].Scenario.Shocks[0].Supplier != "S-US" {
		t.Fatalf("X: %+v", runs[0])
	}
	if runs[1].Note == "" || runs[2].Note == "" { // no such component; no production data for gallium
		t.Errorf("notes: %q %q", runs[1].Note, runs[2].Note)
	}
}
