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
		packed := packSupplies(in)
		if (packed == nil) != many {
			t.Fatalf("%d ids: packed keys %v", len(in.ids), packed != nil)
		}
		a.sortSupplies(ix, packed)
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

// TestGraphMemo: a run whose ids and graph links are the same as the memo's takes the graph, its
// nodes and betweenness without building the graph; any change to the links or the ids builds it
// (and may still reuse the betweenness when the graph came out the same). After every step the
// graph, nodes, betweenness and findings equal an analysis without the memo.
func TestGraphMemo(t *testing.T) {
	cfg := benchConfig()
	cfg.MaxFindingsPerDetector = 2000
	base := memoNetwork(t, 20000)
	var ent, comp string // a pair with no link: its new stocks link adds a graph edge
	linked := map[[2]string]bool{}
	for _, r := range base {
		if l, ok := r.(*schemas.SupplyLink); ok {
			if l.LinkType == schemas.LinkMakes && ent == "" {
				ent = l.EnterpriseID
			}
			linked[[2]string{l.EnterpriseID, l.ComponentID}] = true
		}
	}
	for _, r := range base {
		if l, ok := r.(*schemas.SupplyLink); ok && l.LinkType == schemas.LinkSupplies && !linked[[2]string{ent, l.ComponentID}] {
			comp = l.ComponentID
			break
		}
	}
	memo := NewBetweennessMemo()
	every := func(n int, f func(l *schemas.SupplyLink) *schemas.SupplyLink) func(int, schemas.SupplyLink) *schemas.SupplyLink {
		return func(i int, l schemas.SupplyLink) *schemas.SupplyLink {
			if i%n == 0 {
				return f(&l)
			}
			return &l
		}
	}
	firstOf := func(kind string, f func(l *schemas.SupplyLink) *schemas.SupplyLink) func(int, schemas.SupplyLink) *schemas.SupplyLink {
		done := false
		return func(_ int, l schemas.SupplyLink) *schemas.SupplyLink {
			if !done && l.LinkType == kind && (kind != schemas.LinkSupplies || l.Qualification == "qualified") {
				done = true
				return f(&l)
			}
			return &l
		}
	}
	reversed := slices.Clone(base)
	slices.Reverse(reversed)
	extra := append(slices.Clone(base), &schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: ent, ComponentID: comp,
		InventoryUnits: 10, ConsumptionPerDay: 1, AsOf: memoNow})
	renamed, sup := renameFirstSupplier(base)
	if a, b := memoInputs(cfg, base, nil, nil), memoInputs(cfg, renamed, nil, nil); len(a.ids) != len(b.ids) ||
		a.Lookup(sup) != b.Lookup("~"+sup) || graphLinksDigest(a) != graphLinksDigest(b) {
		t.Fatal("the renamed supplier is interned elsewhere: the step would not test the ids digest")
	}
	seeded := cfg
	seeded.Chokepoint.BetweennessSeed++
	steps := []struct {
		name        string
		recs        []schemas.Record
		edit        func(int, schemas.SupplyLink) *schemas.SupplyLink
		graphReused bool
		sameGraph   bool    // the graph equals the previous step's
		cfg         *Config // nil: cfg
	}{
		{"first run", base, nil, false, false, nil},
		{"the same records", base, nil, true, true, nil},
		{"link attributes changed", base, every(10, func(l *schemas.SupplyLink) *schemas.SupplyLink {
			l.InventoryUnits, l.Share, l.ConsumptionPerDay = l.InventoryUnits/2, l.Share/3, l.ConsumptionPerDay+1
			return l
		}), true, true, nil},
		{"a new stocks link", extra, nil, false, false, nil},
		{"back to the base records", base, nil, false, false, nil},
		{"a makes link dropped", base, firstOf(schemas.LinkMakes, func(*schemas.SupplyLink) *schemas.SupplyLink { return nil }), false, false, nil},
		{"a qualified link disqualified", base, firstOf(schemas.LinkSupplies, func(l *schemas.SupplyLink) *schemas.SupplyLink {
			l.Qualification = "disqualified"
			return l
		}), false, false, nil},
		{"back to the base records", base, nil, false, false, nil},
		{"a bom link dropped", base, firstOf(schemas.LinkBOM, func(*schemas.SupplyLink) *schemas.SupplyLink { return nil }), false, false, nil},
		{"back to the base records", base, nil, false, false, nil},
		{"a supplier renamed", renamed, nil, false, false, nil},
		{"back to the base records", base, nil, false, false, nil},
		{"another betweenness seed", base, nil, false, true, &seeded},
		{"back to the first seed", base, nil, false, true, nil},
		{"records reversed (other ids, the same graph)", reversed, nil, false, true, nil},
		{"reversed again", reversed, nil, true, true, nil},
	}
	var prev *Graph
	for _, st := range steps {
		recs := st.recs
		if st.edit != nil { // once: the edits keep state
			recs = editRecords(st.recs, func(i int, r schemas.Record) schemas.Record {
				if l, ok := r.(*schemas.SupplyLink); ok {
					if c := st.edit(i, *l); c != nil {
						return c
					}
					return nil
				}
				return r
			})
		}
		c := cfg
		if st.cfg != nil {
			c = *st.cfg
		}
		withMemo := memoInputs(c, recs, memo, nil)
		fresh := memoInputs(c, recs, nil, nil)
		am, err := withMemo.Analysis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		af, err := fresh.Analysis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if am.GraphReused != st.graphReused || af.GraphReused {
			t.Errorf("%s: graph reused %v (fresh %v), want %v", st.name, am.GraphReused, af.GraphReused, st.graphReused)
		}
		same := prev != nil && reflect.DeepEqual(prev, af.Graph)
		if same != st.sameGraph {
			t.Fatalf("%s: the graph equals the previous step's: %v, want %v (the step does not test what it says)", st.name, same, st.sameGraph)
		}
		if st.sameGraph && !am.BetweennessReused && st.cfg == nil && st.name != "back to the first seed" {
			t.Errorf("%s: the same graph did not reuse the betweenness", st.name)
		}
		prev = af.Graph
		if !reflect.DeepEqual(am.Graph, af.Graph) || !reflect.DeepEqual(am.graphNodes, af.graphNodes) ||
			!reflect.DeepEqual(am.Betweenness, af.Betweenness) {
			t.Fatalf("%s: the graph (%v), its nodes (%v) or betweenness (%v) differ from a fresh analysis", st.name,
				reflect.DeepEqual(am.Graph, af.Graph), reflect.DeepEqual(am.graphNodes, af.graphNodes), reflect.DeepEqual(am.Betweenness, af.Betweenness))
		}
		if !reflect.DeepEqual(runAll(t, withMemo), runAll(t, fresh)) {
			t.Fatalf("%s: the findings differ from a fresh analysis's", st.name)
		}
	}
	if memo.GraphHits() != 3 {
		t.Errorf("%d graph hits, want 3", memo.GraphHits())
	}
}

// renameFirstSupplier returns the records with the first supplier's id prefixed by "~" wherever it
// occurs (nodes, links on both ends, substitutions, awards), and that id: the same links over the
// same interned indexes, another id string, which sorts last.
func renameFirstSupplier(base []schemas.Record) ([]schemas.Record, string) {
	var renamed []schemas.Record
	var sup string
	for _, r := range base {
		switch x := r.(type) {
		case *schemas.SupplyNode:
			if x.NodeType == "supplier" && sup == "" {
				sup = x.NodeID
			}
			if x.NodeID == sup {
				c := *x
				c.NodeID = "~" + sup
				r = &c
			}
		case *schemas.SupplyLink:
			if (x.SupplierID == sup || x.EnterpriseID == sup) && sup != "" {
				c := *x
				if c.SupplierID == sup {
					c.SupplierID = "~" + sup
				}
				if c.EnterpriseID == sup { // a tier-2 link: the supplier buys too
					c.EnterpriseID = "~" + sup
				}
				r = &c
			}
		case *schemas.Substitution:
			if x.AltSupplierID == sup && sup != "" {
				c := *x
				c.AltSupplierID = "~" + sup
				r = &c
			}
		case *schemas.ProcurementAward:
			if i := slices.Index(x.SupplierIDs, sup); i >= 0 && sup != "" {
				c := *x
				c.SupplierIDs = slices.Clone(x.SupplierIDs)
				c.SupplierIDs[i] = "~" + sup
				r = &c
			}
		}
		renamed = append(renamed, r)
	}
	return renamed, sup
}

// TestSuppliersAggregates checks the suppliers step against a direct count over the pairs with
// maps (sets of enterprises per supplier): pairs, sole pairs, enterprises, chain leaders and
// betweenness, for every supplier node, in id order.
func TestSuppliersAggregates(t *testing.T) {
	in := memoInputs(benchConfig(), memoNetwork(t, 8000), nil, nil)
	a, err := in.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ pairs, sole, ents, leaders int }
	w := map[int32]*want{}
	entSets := map[int32]map[int32]bool{}
	for i := range a.Pairs {
		p := &a.Pairs[i]
		for _, s := range p.Suppliers {
			if w[s.Sup] == nil {
				w[s.Sup], entSets[s.Sup] = &want{}, map[int32]bool{}
			}
			w[s.Sup].pairs++
			if len(p.Suppliers) == 1 {
				w[s.Sup].sole++
			}
			entSets[s.Sup][p.Ent] = true
		}
	}
	for sup, es := range entSets {
		for e := range es {
			w[sup].ents++
			if info := in.Enterprises[e]; info != nil && info.ChainLeader {
				w[sup].leaders++
			}
		}
	}
	if len(a.Sups) != len(in.Suppliers) {
		t.Fatalf("%d supplier metrics, %d supplier nodes", len(a.Sups), len(in.Suppliers))
	}
	multi, leaders := 0, 0
	for i, m := range a.Sups {
		if i > 0 && in.ID(a.Sups[i-1].Sup) >= in.ID(m.Sup) {
			t.Fatalf("suppliers not in id order at %d", i)
		}
		x := w[m.Sup]
		if x == nil {
			x = &want{}
		}
		if m.Pairs != x.pairs || m.SolePairs != x.sole || m.Enterprises != x.ents || m.ChainLeaders != x.leaders {
			t.Fatalf("supplier %s: pairs %d sole %d enterprises %d leaders %d, want %+v", in.ID(m.Sup), m.Pairs, m.SolePairs, m.Enterprises, m.ChainLeaders, *x)
		}
		if m.Info != in.Suppliers[m.Sup] || m.Foreign != !in.isDomestic(m.Info) {
			t.Fatalf("supplier %s: node attributes", in.ID(m.Sup))
		}
		if x.ents > 1 {
			multi++
		}
		leaders += x.leaders
	}
	if multi == 0 || leaders == 0 {
		t.Fatalf("the network has %d suppliers of several enterprises and %d chain-leader links: the test checks little", multi, leaders)
	}
}
