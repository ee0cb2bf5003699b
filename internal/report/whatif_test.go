package report

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors/whatif"
)

func TestWhatIfSection(t *testing.T) {
	var got []whatif.Subject
	var gotStart time.Time
	s := &Service{whatIf: func(_ context.Context, subs []whatif.Subject, start time.Time) ([]whatif.ChokepointRun, error) {
		got, gotStart = subs, start
		return []whatif.ChokepointRun{
			{Subject: subs[0], Scenario: whatif.Scenario{Name: "what would stop if component C-FPGA failed for 90 d"},
				Stops: []whatif.Stop{{Enterprise: "E-NEV", Product: "P-EV-SEDAN", FirstStop: start.AddDate(0, 0, 45), DaysStopped: 45, Action: "hold ≥ 9000 units of C-FPGA at E-NEV (has 9000)"}}},
			{Subject: subs[1], Note: "no shock can be built for hs 854231"},
		}, nil
	}}
	week, err := ParseWeek("2026-W47")
	if err != nil {
		t.Fatal(err)
	}
	d := &Digest{Title: "t", Lang: "en", Week: week, To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Timezone: "UTC"}
	for _, id := range []string{"C-FPGA", "854231", "gallium", "C-EDA"} {
		d.Chokepoints = append(d.Chokepoints, Item{SubjectType: "component", Subject: id})
	}
	g := &gen{s: s, d: d}
	if err := g.whatIfSection(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != WhatIfTop || got[2].ID != "gallium" || !gotStart.Equal(d.To) || len(d.WhatIf) != 2 {
		t.Fatalf("subjects %+v start %s runs %d", got, gotStart, len(d.WhatIf))
	}
	md, err := Render(d, "md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## What would stop if… (top chokepoints)", "| E-NEV | P-EV-SEDAN | 2027-01-07 | 45.0 | hold ≥ 9000 units", "no shock can be built for hs 854231"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	html, err := Render(d, "html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `<section id="whatif">`) || !strings.Contains(string(html), "P-EV-SEDAN") {
		t.Errorf("html lacks the section")
	}
	d.WhatIf = nil
	md, _ = Render(d, "md")
	if strings.Contains(string(md), "What would stop") {
		t.Error("section rendered while off")
	}
}
