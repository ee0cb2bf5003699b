package detectors

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/chainwatch/chainwatch/schemas"
)

// editRecords returns copies of the records passed through edit (nil: dropped). edit gets a copy
// of each supply link, node, substitution and award, and may change it.
func editRecords(recs []schemas.Record, edit func(i int, r schemas.Record) schemas.Record) []schemas.Record {
	out := make([]schemas.Record, 0, len(recs))
	for i, r := range recs {
		switch x := r.(type) {
		case *schemas.SupplyLink:
			c := *x
			r = &c
		case *schemas.SupplyNode:
			c := *x
			r = &c
		case *schemas.Substitution:
			c := *x
			r = &c
		case *schemas.ProcurementAward:
			c := *x
			c.SupplierIDs = slices.Clone(x.SupplierIDs)
			r = &c
		}
		if r = edit(i, r); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// TestPairMemoMatchesFresh runs the analysis with one pair memo over a series of changes, and after
// each compares the pairs and every detector's findings with an analysis of the same records
// without the memo. It also checks that each change reused the pairs it should: all of them when
// nothing changed, most of them after a change to some links, none when the ids, a node, the
// substitution list or the configuration changed.
func TestPairMemoMatchesFresh(t *testing.T) {
	cfg := benchConfig()
	cfg.MaxFindingsPerDetector = 3000
	base := memoNetwork(t, 20000)
	memo := NewPairMemo()
	old, oldBlock := pairChunkMin, parallelBlock
	pairChunkMin, parallelBlock = 1000, 100 // several workers, each counting its reused pairs
	defer func() { pairChunkMin, parallelBlock = old, oldBlock }()
	build := func(cfg Config, recs []schemas.Record, memo *PairMemo) (*Inputs, *Analysis) {
		t.Helper()
		in := memoInputs(cfg, recs, nil, nil)
		in.pairMemo = memo
		a, err := in.Analysis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return in, a
	}
	keep := func(_ int, r schemas.Record) schemas.Record { return r }
	nth := func(kind string, every int, f func(l *schemas.SupplyLink)) func(int, schemas.Record) schemas.Record {
		n := 0
		return func(_ int, r schemas.Record) schemas.Record {
			if l, ok := r.(*schemas.SupplyLink); ok && l.LinkType == kind {
				if n%every == 0 {
					f(l)
				}
				n++
			}
			return r
		}
	}
	firstQualified := func(to string) func(int, schemas.Record) schemas.Record {
		done := false
		return func(_ int, r schemas.Record) schemas.Record {
			if l, ok := r.(*schemas.SupplyLink); ok && !done && l.LinkType == "supplies" && l.Qualification == "qualified" {
				l.Qualification, done = to, true
			}
			return r
		}
	}
	firstOf := func(match func(schemas.Record) bool, f func(schemas.Record) schemas.Record) func(int, schemas.Record) schemas.Record {
		done := false
		return func(_ int, r schemas.Record) schemas.Record {
			if !done && match(r) {
				done = true
				return f(r)
			}
			return r
		}
	}
	isKind := func(kind string) func(schemas.Record) bool {
		return func(r schemas.Record) bool {
			l, ok := r.(*schemas.SupplyLink)
			return ok && l.LinkType == kind
		}
	}
	isSupplierNode := func(r schemas.Record) bool {
		n, ok := r.(*schemas.SupplyNode)
		return ok && n.NodeType == "supplier"
	}
	var lastSupplier string
	var qual *schemas.SupplyLink // the first qualified supplies link
	for _, r := range base {
		if n, ok := r.(*schemas.SupplyNode); ok && n.NodeType == "supplier" {
			lastSupplier = n.NodeID
		}
		if l, ok := r.(*schemas.SupplyLink); ok && qual == nil && l.LinkType == "supplies" && l.Qualification == "qualified" {
			qual = l
		}
	}
	renamed, _ := renameFirstSupplier(base)
	cfgAlts := cfg
	cfgAlts.Exposure.MaxAlternates++

	type reuse int
	const (
		all  reuse = iota
		some       // some, not all
		most       // more than half, perhaps all
		none
	)
	steps := []struct {
		name  string
		cfg   Config
		edit  func(int, schemas.Record) schemas.Record
		reuse reuse
	}{
		{"first run", cfg, keep, none},
		{"nothing changed", cfg, keep, all},
		{"every 10th supplies share halved", cfg, nth("supplies", 10, func(l *schemas.SupplyLink) { l.Share /= 2 }), some},
		{"every 7th stocks inventory down", cfg, nth("stocks", 7, func(l *schemas.SupplyLink) { l.InventoryUnits *= 0.3 }), some},
		{"a qualified link in qualification", cfg, firstQualified("in_progress"), some},
		{"a qualified link disqualified", cfg, firstQualified("disqualified"), some},
		{"back to the base records", cfg, keep, some},
		{"a supplies link dropped", cfg, firstOf(isKind("supplies"), func(schemas.Record) schemas.Record { return nil }), most},
		{"a bom link dropped", cfg, firstOf(isKind("bom"), func(schemas.Record) schemas.Record { return nil }), most},
		{"a makes link dropped", cfg, firstOf(isKind("makes"), func(schemas.Record) schemas.Record { return nil }), all},
		{"back to the base records", cfg, keep, most},
		{"a stocks link dropped", cfg, firstOf(isKind("stocks"), func(schemas.Record) schemas.Record { return nil }), most},
		{"a supplies link to another supplier", cfg, firstOf(isKind("supplies"), func(r schemas.Record) schemas.Record {
			r.(*schemas.SupplyLink).SupplierID = lastSupplier
			return r
		}), most},
		{"the awards name another supplier", cfg, func(_ int, r schemas.Record) schemas.Record {
			if a, ok := r.(*schemas.ProcurementAward); ok && len(a.SupplierIDs) > 0 {
				a.SupplierIDs = []string{lastSupplier}
			}
			return r
		}, some},
		{"back to the base records", cfg, keep, some},
		// the pair (ent, comp) keeps its links; the candidates of comp, from other enterprises, go
		{"one component's other qualified links disqualified", cfg, func(_ int, r schemas.Record) schemas.Record {
			if l, ok := r.(*schemas.SupplyLink); ok && l.LinkType == "supplies" && l.ComponentID == qual.ComponentID &&
				l.EnterpriseID != qual.EnterpriseID && l.Qualification == "qualified" {
				l.Qualification = "disqualified"
			}
			return r
		}, some},
		{"back to the base records", cfg, keep, some},
		{"a supplier's country", cfg, firstOf(isSupplierNode, func(r schemas.Record) schemas.Record {
			r.(*schemas.SupplyNode).Country = "ZZZ"
			return r
		}), none},
		{"back again", cfg, keep, none},
		{"a substitution's days", cfg, firstOf(func(r schemas.Record) bool { _, ok := r.(*schemas.Substitution); return ok },
			func(r schemas.Record) schemas.Record {
				r.(*schemas.Substitution).QualificationDays++
				return r
			}), none},
		{"back again", cfg, keep, none},
		{"a supplier renamed (the same interned indexes)", cfg, func(i int, _ schemas.Record) schemas.Record { return renamed[i] }, none},
		{"back again", cfg, keep, none},
		{"max_alternates", cfgAlts, keep, none},
		{"max_alternates again", cfgAlts, keep, all},
		{"records reversed (other interned ids)", cfgAlts, nil, none},
	}
	// The pair layout (pairLayout) is made again when the supplies links' keys, the stocks' or the
	// award pairs, or the ids change, and shared otherwise (dropping a bom or makes link changes
	// none of them here).
	layoutMade := map[string]bool{"first run": true, "a supplies link dropped": true, "a stocks link dropped": true,
		"a supplies link to another supplier": true, "a supplier renamed (the same interned indexes)": true,
		"records reversed (other interned ids)": true}
	for i, st := range steps {
		var recs []schemas.Record
		if st.edit == nil {
			recs = slices.Clone(base)
			slices.Reverse(recs)
		} else {
			recs = editRecords(base, st.edit)
		}
		inM, aM := build(st.cfg, recs, memo)
		inF, aF := build(st.cfg, recs, nil)
		if len(aM.Pairs) < 1000 {
			t.Fatalf("%s: only %d pairs", st.name, len(aM.Pairs))
		}
		if aF.PairsReused != 0 {
			t.Fatalf("%s: an analysis without a memo reused %d pairs", st.name, aF.PairsReused)
		}
		t.Logf("%s: %d of %d pairs reused, layout shared %v", st.name, aM.PairsReused, len(aM.Pairs), aM.layoutShared)
		// the step after one that made it (the first run aside) has other inputs than the memo's
		made := layoutMade[st.name] || i > 1 && layoutMade[steps[i-1].name]
		if aM.layoutShared == made || aF.layoutShared {
			t.Errorf("%s: layout shared %v, want %v", st.name, aM.layoutShared, !made)
		}
		switch n := aM.PairsReused; {
		case st.reuse == all && n != len(aM.Pairs), st.reuse == none && n != 0,
			st.reuse == some && (n == 0 || n == len(aM.Pairs)), st.reuse == most && 2*n <= len(aM.Pairs):
			t.Errorf("%s: %d of %d pairs reused", st.name, n, len(aM.Pairs))
		}
		if !reflect.DeepEqual(aM.Pairs, aF.Pairs) {
			for i := range aM.Pairs {
				if !reflect.DeepEqual(aM.Pairs[i], aF.Pairs[i]) {
					t.Fatalf("%s: pair %d differs from a fresh analysis:\nmemo  %+v\nfresh %+v", st.name, i, aM.Pairs[i], aF.Pairs[i])
				}
			}
			t.Fatalf("%s: %d pairs with the memo, %d fresh", st.name, len(aM.Pairs), len(aF.Pairs))
		}
		// the components: their shape and pair aggregates taken from the memo's step where those
		// stay the same (compMemo), all when nothing changed, none when no pair was reused
		t.Logf("%s: %d of %d components' pair aggregates reused", st.name, aM.CompsReused, len(aM.Comps))
		switch n := aM.CompsReused; {
		case aF.CompsReused != 0, st.reuse == none && n != 0, st.name == "nothing changed" && n != len(aM.Comps),
			st.name == "every 10th supplies share halved" && (n == 0 || n == len(aM.Comps)):
			t.Errorf("%s: %d of %d components' aggregates reused (%d without the memo)", st.name, n, len(aM.Comps), aF.CompsReused)
		}
		if !reflect.DeepEqual(aM.Comps, aF.Comps) {
			for i := range aM.Comps {
				if !reflect.DeepEqual(aM.Comps[i], aF.Comps[i]) {
					t.Fatalf("%s: component %d differs from a fresh analysis:\nmemo  %+v\nfresh %+v", st.name, i, *aM.Comps[i], *aF.Comps[i])
				}
			}
			t.Fatalf("%s: %d components with the memo, %d fresh", st.name, len(aM.Comps), len(aF.Comps))
		}
		if got, want := runAll(t, inM), runAll(t, inF); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the findings differ from a fresh analysis's", st.name)
		}
	}
}

// TestPairGlobalDigestCoversNodeAndSub changes each field of a node and of a substitution-list
// entry in turn: every change must change the run digest, so a field added to NodeInfo or Sub and
// not digested fails here.
func TestPairGlobalDigestCoversNodeAndSub(t *testing.T) {
	in := NewBuilder(benchConfig(), memoNow).Inputs()
	for _, s := range []string{"e", "s", "c", "x"} {
		in.intern(s)
	}
	node := NodeInfo{Name: "n", Country: "CHN", Region: "r", Industry: "i", Category: "k", HSCode: "h",
		Tags: []string{"t"}, Province: "p", RegionGroup: "g"}
	sub := Sub{Comp: 2, AltComp: -1, AltSup: 1, Ent: -1, Days: 10, Country: "DEU", Notes: "n"}
	setup := func(n NodeInfo, s Sub) uint64 {
		n1, n2, n3 := n, n, n
		in.Enterprises = map[int32]*NodeInfo{0: &n1}
		in.Suppliers = map[int32]*NodeInfo{1: &n2}
		in.Components = map[int32]*NodeInfo{2: &n3}
		in.Subs = []Sub{s}
		return pairGlobalDigest(in, idsDigest(in.ids))
	}
	want := setup(node, sub)
	if setup(node, sub) != want {
		t.Fatal("the digest is not deterministic")
	}
	changed := func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "!")
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Float64:
			v.SetFloat(v.Float() + 1)
		case reflect.Int32:
			v.SetInt(3 - v.Int())
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.ValueOf("more")))
		default:
			t.Fatalf("no change for a %s field", v.Kind())
		}
	}
	nt := reflect.TypeOf(node)
	for i := range nt.NumField() {
		n := node
		n.Tags = slices.Clone(node.Tags)
		changed(reflect.ValueOf(&n).Elem().Field(i))
		if setup(n, sub) == want {
			t.Errorf("NodeInfo.%s is not in the digest", nt.Field(i).Name)
		}
	}
	st := reflect.TypeOf(sub)
	for i := range st.NumField() {
		s := sub
		changed(reflect.ValueOf(&s).Elem().Field(i))
		if setup(node, s) == want {
			t.Errorf("Sub.%s is not in the digest", st.Field(i).Name)
		}
	}
	// the same node under another role, and an id string changed
	n1 := node
	in.Enterprises, in.Suppliers = map[int32]*NodeInfo{}, map[int32]*NodeInfo{0: &n1}
	if pairGlobalDigest(in, idsDigest(in.ids)) == want {
		t.Error("moving a node from enterprises to suppliers keeps the digest")
	}
	setup(node, sub)
	in.ids[3] = "y"
	if pairGlobalDigest(in, idsDigest(in.ids)) == want {
		t.Error("an id string is not in the digest")
	}
	for _, ids := range [][]string{{"e", "s", "c"}, {"e", "s", "cx", ""}, {"es", "", "c", "y"}} {
		if idsDigest(ids) == idsDigest(in.ids) {
			t.Errorf("ids %q and %q have one digest", ids, in.ids)
		}
	}
}

// TestPairGlobalDigestCachedNodes: with the nodes part of a cached load (Inputs.built.nodes), the
// run digest takes the part's node digest, taken once: it is the digest of the maps themselves,
// for each part, and a part's later calls do not compute it again.
func TestPairGlobalDigestCachedNodes(t *testing.T) {
	in := NewBuilder(benchConfig(), memoNow).Inputs()
	for _, s := range []string{"e", "s", "c"} {
		in.intern(s)
	}
	seen := map[uint64]string{}
	for _, country := range []string{"CHN", "DEU", "USA"} {
		in.Enterprises = map[int32]*NodeInfo{0: {Name: "e", Country: country}}
		in.Suppliers = map[int32]*NodeInfo{1: {Name: "s", Country: "JPN"}}
		in.Components = map[int32]*NodeInfo{2: {Name: "c", HSCode: "854231"}}
		in.built.nodes = nil
		want := pairGlobalDigest(in, idsDigest(in.ids))
		in.built.nodes = &builtNodes{ent: in.Enterprises, sup: in.Suppliers, comp: in.Components}
		if got := pairGlobalDigest(in, idsDigest(in.ids)); got != want {
			t.Errorf("%s: the cached part's digest %x, the maps' %x", country, got, want)
		}
		if prev, ok := seen[want]; ok {
			t.Errorf("%s and %s have one digest", country, prev)
		}
		seen[want] = country
		// taken once: a change the part is not told of does not reach its digest (no load changes
		// a part's maps; a changed table is a new part)
		in.Enterprises[0].Country = "FRA"
		if got := pairGlobalDigest(in, idsDigest(in.ids)); got != want {
			t.Errorf("%s: the part's digest was taken again", country)
		}
	}
}
