package detectors

import (
	"context"
	"slices"
	"testing"
)

// TestCompareComps: a component keeps the run number it has been the same since only when its
// chokepoint score, availability and chokepoint flags all equal the last run's, under the same
// ids; and a detector's reuse takes a pair or component only when it has been the same since the
// detector's previous run, which the memo must know.
func TestCompareComps(t *testing.T) {
	memo := NewPairMemo()
	comps := func() []*CompMetrics {
		return []*CompMetrics{
			{Comp: 1, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 2, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 3, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 4, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
			{Comp: 5, ChokeScore: 40, Availability: 0.5, chokeFlags: []string{"a"}},
		}
	}
	analysis := func(runID string, ids uint64) *Analysis {
		in := &Inputs{pairMemo: memo, runID: runID}
		return &Analysis{in: in, idsDigest: ids, Comps: comps(), seq: memo.beginRun(runID)}
	}
	a := analysis("run-1", 7)
	a.compareComps()
	if !slices.Equal(a.compSince, []uint64{1, 1, 1, 1, 1}) {
		t.Fatalf("first run: %v", a.compSince)
	}
	b := analysis("run-2", 7)
	b.Comps[1].ChokeScore = 40.000001
	b.Comps[2].Availability = 0.75
	b.Comps[3].chokeFlags = []string{"a", "b"}
	b.Comps[4].Comp = 6 // a component the last run did not have
	b.compareComps()
	if !slices.Equal(b.compSince, []uint64{1, 2, 2, 2, 2}) {
		t.Fatalf("second run: %v", b.compSince)
	}
	c := analysis("run-3", 7)
	c.Comps[1].ChokeScore = 40.000001 // as in run 2
	c.Comps[4].Comp = 6
	c.compareComps()
	if !slices.Equal(c.compSince, []uint64{1, 2, 3, 3, 2}) {
		t.Fatalf("third run: %v", c.compSince)
	}
	d := analysis("run-4", 8) // other ids: nothing carries over
	d.compareComps()
	if !slices.Equal(d.compSince, []uint64{4, 4, 4, 4, 4}) {
		t.Fatalf("other ids: %v", d.compSince)
	}

	// a reuse against run-2 (number 2) takes what has been the same since run 2 or before
	c.Pairs = []PairMetrics{{Comp: 1}, {Comp: 2}, {Comp: 3}}
	c.compIdx = map[int32]int32{1: 0, 2: 1, 3: 2}
	c.pairComp = []int32{0, 1, 2}
	c.pairSince = []uint64{2, 2, 3}
	prev := func(runID string) context.Context {
		return withPrevFindings(context.Background(), &prevFindings{runID: runID, subjects: map[subjectKey]subjectState{
			{SubjectEnterpriseComponent, "e|c1"}: {score: 10, hash: 1},
			{SubjectEnterpriseComponent, "e|c2"}: {score: 20, hash: 2},
			{SubjectEnterpriseComponent, "e|c3"}: {score: 30, hash: 3},
		}})
	}
	r := c.pairFindingReuse(prev("run-2"), true)
	for i, want := range []bool{true, true, false} {
		f, ok := r.finding(NameExposure, int32(i), "e|c"+string(rune('1'+i)))
		if ok != want || ok && (!f.reused || f.reusedHash != uint64(i+1) || f.Score != float64(10*(i+1))) {
			t.Errorf("pair %d: reference %v %+v, want %v", i, ok, f, want)
		}
	}
	c.compSince[1] = 3 // the second pair's component changed in run 3
	if _, ok := r.finding(NameExposure, 1, "e|c2"); ok {
		t.Error("a pair whose component changed since the previous run was taken")
	}
	if _, ok := c.pairFindingReuse(prev("run-2"), false).finding(NameSingleSource, 1, "e|c2"); !ok {
		t.Error("without the component check, the unchanged pair was not taken")
	}
	if c.pairFindingReuse(prev("run-0"), false) != nil || c.pairFindingReuse(prev("run-3"), false) != nil ||
		c.pairFindingReuse(context.Background(), false) != nil {
		t.Fatal("a reuse against a run the memo does not know, against the run itself, or with none")
	}
}
