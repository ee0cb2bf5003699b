package detectors

import (
	"context"
	"testing"
)

// TestCompareComps: a component counts as the same only when its chokepoint score, availability
// and chokepoint flags all equal the last run's, under the same ids; the comparison names the run
// it was made against, and a reuse needs that run to be the detector's previous one.
func TestCompareComps(t *testing.T) {
	memo := NewPairMemo()
	in := &Inputs{pairMemo: memo, runID: "run-1"}
	comps := func() []*CompMetrics {
		return []*CompMetrics{
			{Comp: 1, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 2, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 3, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 4, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 5, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
		}
	}
	a := &Analysis{in: in, idsDigest: 7, Comps: comps()}
	a.compareComps()
	if a.compSame != nil {
		t.Fatal("the first run compared its components with nothing")
	}
	in.runID = "run-2"
	b := &Analysis{in: in, idsDigest: 7, Comps: comps()}
	b.Comps[1].ChokeScore = 40.000001
	b.Comps[2].Availability = 0.75
	b.Comps[3].chokeFlags = []string{"a", "b"}
	b.Comps[4].Comp = 6 // a component the last run did not have
	b.compareComps()
	if want := []bool{true, false, false, false, false}; b.compsFrom != "run-1" || len(b.compSame) != len(want) {
		t.Fatalf("compared with %q: %v", b.compsFrom, b.compSame)
	} else {
		for i := range want {
			if b.compSame[i] != want[i] {
				t.Errorf("component %d: same %v, want %v", b.Comps[i].Comp, b.compSame[i], want[i])
			}
		}
	}
	in.runID = "run-3"
	c := &Analysis{in: in, idsDigest: 8, Comps: comps()}
	c.compareComps()
	if c.compSame != nil {
		t.Fatal("components under other ids compared as the same")
	}

	// the reuse of a detector run takes only a previous run the analysis compared with
	b.pairSame, b.pairsFrom = []bool{true}, "run-1"
	ctx := withPrevFindings(context.Background(), &prevFindings{runID: "run-1", subjects: map[string]subjectState{}})
	if b.pairFindingReuse(ctx, true) == nil || b.pairFindingReuse(ctx, false) == nil {
		t.Fatal("no reuse against the run compared with")
	}
	other := withPrevFindings(context.Background(), &prevFindings{runID: "run-0", subjects: map[string]subjectState{}})
	if b.pairFindingReuse(other, false) != nil || b.pairFindingReuse(context.Background(), false) != nil {
		t.Fatal("a reuse against another run, or none")
	}
	b.compsFrom = "run-0"
	if b.pairFindingReuse(ctx, true) != nil || b.pairFindingReuse(ctx, false) == nil {
		t.Fatal("the exposure's reuse must also have its components compared with the same run")
	}
}
