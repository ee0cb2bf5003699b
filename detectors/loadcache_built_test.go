package detectors

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// TestBuiltLinksMatchReplay: the links part (builtLinks) patched with a delta's overlay gives the
// Builder the same ids and edges as replaying the recorded links with the overlay, over a network
// with two stocks links of one pair (the last one wins), overlay versions newer and older than the
// recorded ones, a stocks link added to a known pair, and new keys with new ids.
func TestBuiltLinksMatchReplay(t *testing.T) {
	cfg := benchConfig()
	at := memoNow.Add(-24 * time.Hour)
	nodes := &recorder{}
	for i := range 6 {
		nodes.AddNode(&schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: fmt.Sprintf("E%d", i), AsOf: at})
		nodes.AddNode(&schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: fmt.Sprintf("C%d", i), AsOf: at})
		nodes.AddNode(&schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: fmt.Sprintf("S%d", i), AsOf: at})
	}
	link := func(typ, ent, prod, comp, sup string, share, inv float64, asOf time.Time) schemas.SupplyLink {
		return schemas.SupplyLink{LinkType: typ, EnterpriseID: ent, ProductID: prod, ComponentID: comp, SupplierID: sup,
			Qualification: "qualified", Share: share, InventoryUnits: inv, ConsumptionPerDay: 2, QtyPerUnit: 1, AsOf: asOf}
	}
	var base []schemas.SupplyLink
	for i := range 6 {
		e, c := fmt.Sprintf("E%d", i), fmt.Sprintf("C%d", i)
		base = append(base,
			link(schemas.LinkSupplies, e, "", c, fmt.Sprintf("S%d", i), 0.6, 0, at),
			link(schemas.LinkSupplies, e, "", c, fmt.Sprintf("S%d", (i+1)%6), 0.4, 0, at),
			link(schemas.LinkMakes, e, fmt.Sprintf("P%d", i), "", "", 0, 0, at),
			link(schemas.LinkBOM, "", fmt.Sprintf("P%d", i), c, "", 0, 0, at),
			link(schemas.LinkStocks, e, "", c, "", 0, 100, at))
	}
	for k := range 120 { // more links, so that the deltas stay a small overlay
		base = append(base, link(schemas.LinkSupplies, fmt.Sprintf("E%d", k%6), fmt.Sprintf("F%d", k), fmt.Sprintf("C%d", k%5),
			fmt.Sprintf("S%d", k%4), 0.1, 0, at))
	}
	// two stocks links of the pair (E0, C0): the later one (product P9, a new id) wins
	base = append(base, link(schemas.LinkStocks, "E0", "P9", "C0", "", 0, 300, at))
	rows := &recorder{}
	for i := range base {
		rows.AddLink(&base[i])
	}
	later, earlier := at.Add(time.Hour), at.Add(-time.Hour)
	deltas := [][]schemas.SupplyLink{
		{
			link(schemas.LinkSupplies, "E1", "", "C1", "S1", 0.2, 0, later),    // newer: replaces
			link(schemas.LinkSupplies, "E2", "", "C2", "S2", 0.9, 0, earlier),  // older: the recorded one stays
			link(schemas.LinkStocks, "E0", "", "C0", "", 0, 5, later),          // the first stocks link of (E0, C0): the second still wins
			link(schemas.LinkStocks, "E3", "", "C3", "", 0, 7, later),          // the only one of its pair: replaces
			link(schemas.LinkBOM, "", "P4", "C4", "", 0, 0, later),             // the same edge, newer
			link(schemas.LinkSupplies, "E5", "", "C0", "S-NEW", 0.5, 0, later), // a new key with a new id
			link(schemas.LinkStocks, "E4", "P-NEW", "C4", "", 0, 9, later),     // a new key of a known pair: added last, wins
			link(schemas.LinkMakes, "E-NEW", "P0", "", "", 0, 0, later),        // a new enterprise
			link(schemas.LinkSupplies, "E1", "", "C1", "S2", 0.8, 0, at),       // the same as recorded, a tie
		},
		{
			link(schemas.LinkStocks, "E0", "P9", "C0", "", 0, 11, later), // the second stocks link of (E0, C0): replaces
			link(schemas.LinkSupplies, "E1", "", "C1", "S1", 0.3, 0, at), // older than the overlay's version
			link(schemas.LinkSupplies, "E5", "", "C0", "S-NEW", 0.1, 0, later.Add(time.Hour)),
		},
	}
	edges := func(in *Inputs) string {
		return fmt.Sprintf("ids %v\nsupplies %v\nbom %v\nmakes %v\nstocks %v", in.ids, in.Supplies, in.BOM, in.Makes, in.Stocks)
	}
	// plain: the nodes and the links (with the overlay) replayed into a Builder
	plain := func(r *recorder) string {
		b := NewBuilder(cfg, memoNow)
		b.unique = true
		nodes.replay(b)
		r.replay(b)
		return edges(b.Inputs())
	}
	// parts: a replayer with the last load's parts (nil: none), returning this load's
	parts := func(last builtParts, r *recorder) (string, builtParts) {
		b := NewBuilder(cfg, memoNow)
		b.unique = true
		p := &replayer{b: b, keep: true, last: last}
		p.step(0, nodes)
		p.step(1, r)
		if loadSteps[0].name != "supply_nodes" || loadSteps[1].name != "supply_links" {
			t.Fatal("the test's steps are not the load's first two")
		}
		return edges(b.Inputs()), p.next
	}
	got, first := parts(builtParts{}, rows)
	if want := plain(rows); got != want || first.links == nil {
		t.Fatalf("first load: part %v\n%s\nwant\n%s", first.links != nil, got, want)
	}
	r := rows
	for i, d := range deltas {
		dr := &recorder{}
		for j := range d {
			dr.AddLink(&d[j])
		}
		var ok bool
		if r, ok = r.withLinkDelta(dr); !ok {
			t.Fatalf("delta %d: no overlay", i)
		}
		got, next := parts(first, r)
		if want := plain(r); got != want {
			t.Fatalf("delta %d: patched part\n%s\nwant\n%s", i, got, want)
		}
		if next.links != first.links {
			t.Fatalf("delta %d: the part was made again", i)
		}
		// a load that makes the part with the overlay already there
		if got, _ := parts(builtParts{}, r); got != plain(r) {
			t.Fatalf("delta %d: the part made with an overlay differs from the replay", i)
		}
	}
	if !reflect.DeepEqual(first.links.stockLast, []bool{false, true, true, true, true, true, true}) {
		t.Fatalf("stockLast %v", first.links.stockLast)
	}
}
