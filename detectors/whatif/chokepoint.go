package whatif

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Subject is a chokepoint finding's subject. Types are those of detectors' findings
// (detectors.SubjectComponent "component", SubjectHS "hs", SubjectMaterial "material",
// SubjectSupplier "supplier"); whatif cannot import detectors (internal/config composes whatif).
type Subject struct {
	Type string `json:"subject_type"`
	ID   string `json:"subject"`
}

// ChokepointRun answers "what would stop if this chokepoint failed": the scenario built for it and
// the stops it causes (sorted by first stop).
type ChokepointRun struct {
	Subject  Subject  `json:"subject"`
	Scenario Scenario `json:"scenario"`
	Stops    []Stop   `json:"stops"`
	// Note says why no scenario could be built (then Stops is empty).
	Note string `json:"note,omitempty"`
}

// ChokepointScenario builds the shock of a chokepoint subject, starting at start and lasting days:
//
//	component: every active supplier of it down;  supplier: that supplier down;
//	material:  export restriction (share 1) by its top producing country (USGS);
//	hs:        export restriction (share 1) of the HS code by its top exporter (partner of the
//	           largest imports, Comtrade).
func (en *Engine) ChokepointScenario(s Subject, start time.Time, days float64) (Scenario, error) {
	d := Date{start}
	sc := Scenario{Name: fmt.Sprintf("what would stop if %s %s failed for %g d", s.Type, s.ID, days)}
	switch s.Type {
	case "component":
		it := en.G.Item(s.ID)
		if it < 0 {
			return sc, fmt.Errorf("component %s is not in the supply graph", s.ID)
		}
		sups := map[string]bool{}
		for _, k := range en.supPairs[it] {
			for _, sp := range en.G.ActiveSupplies(k) {
				sups[en.G.Sups[sp.Supplier].ID] = true
			}
		}
		for _, id := range slices.Sorted(maps.Keys(sups)) {
			sc.Shocks = append(sc.Shocks, Shock{Type: ShockSupplier, Supplier: id, Start: d, DurationDays: days})
		}
	case "supplier":
		sc.Shocks = []Shock{{Type: ShockSupplier, Supplier: s.ID, Start: d, DurationDays: days}}
	case "material":
		if c, ok := en.X.TopProducer(s.ID); ok {
			sc.Shocks = []Shock{{Type: ShockExport, Country: c, Material: s.ID, Share: 1, Start: d, DurationDays: days}}
		}
	case "hs":
		if c, ok := en.X.TopExporter(s.ID); ok {
			sc.Shocks = []Shock{{Type: ShockExport, Country: c, HSCode: s.ID, Share: 1, Start: d, DurationDays: days}}
		}
	}
	if len(sc.Shocks) == 0 {
		return sc, fmt.Errorf("no shock can be built for %s %s (no suppliers, producers or trade data)", s.Type, s.ID)
	}
	return sc, nil
}

// WhatWouldStop runs the chokepoint scenario of every subject. A subject without a scenario gets
// a note instead of stops.
func (en *Engine) WhatWouldStop(subjects []Subject, start time.Time, days float64) ([]ChokepointRun, error) {
	var out []ChokepointRun
	for _, s := range subjects {
		sc, err := en.ChokepointScenario(s, start, days)
		if err != nil {
			out = append(out, ChokepointRun{Subject: s, Scenario: sc, Note: err.Error()})
			continue
		}
		res, err := en.Run(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, ChokepointRun{Subject: s, Scenario: sc, Stops: res.Stops})
	}
	return out, nil
}

// TopExporter is the partner with the largest imports of hs summed over reporters (latest year of
// each reporter), if any.
func (x *Exposure) TopExporter(hs string) (string, bool) {
	tot := map[string]float64{}
	for k, v := range x.imports {
		if k.hs == hs {
			for p, val := range v.byPartner {
				tot[p] += val
			}
		}
	}
	if len(tot) == 0 {
		return "", false
	}
	return slices.MaxFunc(slices.Sorted(maps.Keys(tot)), func(a, b string) int {
		return cmp.Or(cmp.Compare(tot[a], tot[b]), cmp.Compare(b, a))
	}), true
}
