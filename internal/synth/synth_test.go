package synth

import (
	"math"
	"sort"
	"testing"

	"github.com/chainwatch/chainwatch/schemas"
)

func TestGenerateValidDeterministicHeavyTailed(t *testing.T) {
	var recs []schemas.Record
	st := Generate(Config{Edges: 10000, Seed: 1}, func(r schemas.Record) { recs = append(recs, r) })
	if st.Records != len(recs) {
		t.Fatalf("stats %d vs %d records", st.Records, len(recs))
	}
	if math.Abs(float64(st.Links)-10000)/10000 > 0.15 {
		t.Errorf("links %d, want ≈ 10000", st.Links)
	}
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			t.Fatalf("%s %s: %v", r.Kind(), r.NaturalKey(), err)
		}
	}
	// deterministic
	n := 0
	Generate(Config{Edges: 10000, Seed: 1}, func(r schemas.Record) {
		if n < len(recs) && r.NaturalKey() != recs[n].NaturalKey() {
			t.Fatalf("record %d differs between runs", n)
		}
		n++
	})
	// heavy tails: the most used component serves far more buyers than the median one
	users := map[string]int{}
	countries := map[string]int{}
	for _, r := range recs {
		if l, ok := r.(*schemas.SupplyLink); ok && l.LinkType == schemas.LinkSupplies {
			users[l.ComponentID]++
		}
		if s, ok := r.(*schemas.SupplyNode); ok && s.NodeType == schemas.NodeSupplier {
			countries[s.Country]++
		}
	}
	var deg []int
	for _, d := range users {
		deg = append(deg, d)
	}
	sort.Ints(deg)
	if deg[len(deg)-1] < 10*deg[len(deg)/2] {
		t.Errorf("degree distribution not heavy-tailed: max %d, median %d", deg[len(deg)-1], deg[len(deg)/2])
	}
	if countries["CHN"] < 3*countries["FRA"] {
		t.Errorf("country shares not skewed: %v", countries)
	}
	t.Logf("stats %+v; component degree max %d median %d", st, deg[len(deg)-1], deg[len(deg)/2])
}
