package detectors

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/schemas"
)

// memoNetwork is a synthetic network's records, in generation order.
func memoNetwork(t *testing.T, edges int) []schemas.Record {
	t.Helper()
	var recs []schemas.Record
	synth.Generate(synth.Config{Edges: edges, TradeRows: 2 * edges, Seed: 11, Now: memoNow}, func(r schemas.Record) {
		recs = append(recs, r)
	})
	return recs
}

var memoNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// memoInputs builds Inputs from recs, passing each supply link through edit first (nil: dropped).
func memoInputs(cfg Config, recs []schemas.Record, memo *BetweennessMemo, edit func(i int, l schemas.SupplyLink) *schemas.SupplyLink) *Inputs {
	b := NewBuilder(cfg, memoNow)
	n := 0
	for _, r := range recs {
		if l, ok := r.(*schemas.SupplyLink); ok && edit != nil {
			c := edit(n, *l)
			n++
			if c == nil {
				continue
			}
			r = c
		}
		b.Add(r)
	}
	in := b.Inputs()
	in.betweenness = memo
	return in
}

// TestBetweennessMemo: a run whose graph is unchanged (only link attributes moved, records
// reordered so the interned ids differ) reuses the memo, and its betweenness and every detector's
// findings equal a run without the memo; a run with one link fewer computes afresh.
func TestBetweennessMemo(t *testing.T) {
	cfg := benchConfig()
	cfg.MaxFindingsPerDetector = 2000
	recs := memoNetwork(t, 20000)
	memo := NewBetweennessMemo()
	first := memoInputs(cfg, recs, memo, nil)
	a1, err := first.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a1.BetweennessReused || memo.Hits() != 0 {
		t.Fatal("the first run reused a memo")
	}

	// the same graph: every 10th link's inventory halved, records in reverse order
	rev := slices.Clone(recs)
	slices.Reverse(rev)
	halve := func(i int, l schemas.SupplyLink) *schemas.SupplyLink {
		if i%10 == 0 {
			l.InventoryUnits /= 2
		}
		return &l
	}
	withMemo := memoInputs(cfg, rev, memo, halve)
	fresh := memoInputs(cfg, rev, nil, halve)
	if withMemo.ID(0) == first.ID(0) {
		t.Fatal("the reordered records interned the same first id: the test does not vary the ids")
	}
	got, want := runAll(t, withMemo), runAll(t, fresh)
	a2, _ := withMemo.Analysis(context.Background())
	af, _ := fresh.Analysis(context.Background())
	if !a2.BetweennessReused || memo.Hits() != 1 {
		t.Fatalf("unchanged graph: reused %v, hits %d", a2.BetweennessReused, memo.Hits())
	}
	if !reflect.DeepEqual(a2.Betweenness, af.Betweenness) {
		t.Fatal("reused betweenness differs from a fresh computation")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("findings with the reused betweenness differ from a fresh run")
	}
	if !slices.ContainsFunc(a2.Betweenness.Norm, func(x float64) bool { return x > 0 }) {
		t.Fatal("no node has betweenness: the comparison proves nothing")
	}

	// one supply link (a supplies edge) fewer: a different graph
	dropped := false
	drop := func(_ int, l schemas.SupplyLink) *schemas.SupplyLink {
		if !dropped && l.LinkType == "supplies" {
			dropped = true
			return nil
		}
		return &l
	}
	changed := memoInputs(cfg, recs, memo, drop)
	a3, err := changed.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a3.BetweennessReused || memo.Hits() != 1 {
		t.Fatalf("changed graph reused the memo (hits %d)", memo.Hits())
	}
	dropped = false
	a4, _ := memoInputs(cfg, recs, nil, drop).Analysis(context.Background())
	if !reflect.DeepEqual(a3.Betweenness, a4.Betweenness) {
		t.Fatal("recomputed betweenness differs from a fresh computation")
	}
}

// TestBetweennessMemoSettings: other sampling settings or another worker count miss the memo.
func TestBetweennessMemoSettings(t *testing.T) {
	cfg := benchConfig()
	recs := memoNetwork(t, 3000)
	memo := NewBetweennessMemo()
	if _, err := memoInputs(cfg, recs, memo, nil).Analysis(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.Chokepoint.BetweennessSeed++
	a, err := memoInputs(cfg2, recs, memo, nil).Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.BetweennessReused {
		t.Fatal("another seed reused the memo")
	}
	a, _ = memoInputs(cfg2, recs, memo, nil).Analysis(context.Background())
	if !a.BetweennessReused {
		t.Fatal("the same seed again did not reuse the memo")
	}
	var nilMemo *BetweennessMemo
	if _, ok := nilMemo.lookup(nil, nil, nil, cfg.Chokepoint); ok || nilMemo.Hits() != 0 {
		t.Fatal("a nil memo returned a result")
	}
}

// TestSortPairKeys: the ranked sort gives the order of comparing the id strings, on ids interned in
// an order unrelated to their strings.
func TestSortPairKeys(t *testing.T) {
	in := &Inputs{index: map[string]int32{}}
	r := rand.New(rand.NewPCG(3, 5))
	var keys []uint64
	seen := map[uint64]bool{}
	for range 5000 {
		e := in.intern(fmt.Sprintf("E-%d", r.IntN(300)))
		c := in.intern(fmt.Sprintf("C-%d", r.IntN(2000)))
		if k := pairKey(e, c); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	want := slices.Clone(keys)
	slices.SortFunc(want, func(x, y uint64) int {
		ex, cx := pairOf(x)
		ey, cy := pairOf(y)
		return cmp.Or(strings.Compare(in.ID(ex), in.ID(ey)), strings.Compare(in.ID(cx), in.ID(cy)))
	})
	sortPairKeys(in, keys)
	if !slices.Equal(keys, want) {
		t.Fatal("sortPairKeys differs from sorting by the id strings")
	}
}

// TestSortSupplies: the packed sort and the sort by fields (taken with 2²¹ ids or more) give the
// order (component, enterprise, supplier, position in Supplies), duplicates of the three included.
func TestSortSupplies(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	in := &Inputs{index: map[string]int32{}}
	for i := range 400 {
		in.intern(fmt.Sprint("id-", i))
	}
	for range 20000 {
		in.Supplies = append(in.Supplies, SupplyEdge{Ent: int32(r.IntN(40)), Comp: int32(40 + r.IntN(200)), Sup: int32(240 + r.IntN(160))})
	}
	want := make([]int32, len(in.Supplies))
	for i := range want {
		want[i] = int32(i)
	}
	slices.SortStableFunc(want, func(i, j int32) int {
		x, y := in.Supplies[i], in.Supplies[j]
		return cmp.Or(cmp.Compare(x.Comp, y.Comp), cmp.Compare(x.Ent, y.Ent), cmp.Compare(x.Sup, y.Sup))
	})
	for _, many := range []bool{false, true} {
		if many {
			in.ids = append(in.ids, make([]string, 1<<21)...)
		}
		a := &Analysis{in: in}
		ix := &pairIndex{}
		a.sortSupplies(ix)
		if !slices.Equal(ix.order, want) {
			t.Fatalf("%d ids: the order differs from the stable sort by (component, enterprise, supplier)", len(in.ids))
		}
		pairs := map[uint64]bool{}
		for _, e := range in.Supplies {
			pairs[pairKey(e.Ent, e.Comp)] = true
		}
		if ix.numGroups != len(pairs) {
			t.Fatalf("%d ids: %d pairs counted, want %d", len(in.ids), ix.numGroups, len(pairs))
		}
	}
}
