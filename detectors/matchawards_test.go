package detectors

import (
	"slices"
	"testing"
	"time"
)

// TestMatchAwards: an award counts for a supply-map enterprise named by buyer id, else by buyer
// name (case and surrounding spaces ignored), for each item id or code that is a component, and for
// each supplier named by node id, else by supplier name; what matches nothing is left out. The
// name indexes are made only when an award needs one: an award matched by ids alone gives the same
// pairs as before, and a later award's names still match.
func TestMatchAwards(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	b := NewBuilder(fixtureConfig(), now)
	for _, r := range fixtureRecords(now) {
		b.Add(r)
	}
	at := now.AddDate(0, -1, 0)
	for _, a := range []Award{
		// by ids alone: no name is looked up
		{BuyerID: "ENT-A", SupplierIDs: []string{"SUP-DE1"}, ItemIDs: []string{"COMP-BOLT"}, Date: at},
		// buyer by name; one supplier by name, one by id; an item code that is no component
		{BuyerID: "buyer-9", BuyerName: "  beta PHONES ", SupplierIDs: []string{"x-1", "SUP-DE1"},
			SupplierNames: []string{" supplier kr1", "whatever"}, ItemIDs: []string{"COMP-CHIP"}, ItemCodes: []string{"854231"}, Date: at},
		// a buyer that is no enterprise, by id or by name
		{BuyerID: "buyer-8", BuyerName: "Nobody Ltd", SupplierIDs: []string{"SUP-DE1"}, ItemIDs: []string{"COMP-CHIP"}, Date: at},
		// a supplier that is no node, by id or by name; a supplier id without a name
		{BuyerID: "ENT-A", SupplierIDs: []string{"y-2", "z-3"}, SupplierNames: []string{"No Such Supplier"}, ItemIDs: []string{"COMP-CHIP"}, Date: at},
		// the same supplier again for a pair: listed once
		{BuyerID: "ENT-B", SupplierIDs: []string{"SUP-DE1"}, ItemIDs: []string{"COMP-CHIP"}, Date: at},
	} {
		b.AddAward(a, "active")
	}
	in := b.Inputs()
	got := map[string][]string{}
	for k, sups := range (&Analysis{in: in}).matchAwards() {
		ent, comp := pairOf(k)
		for _, s := range sups {
			got[in.ID(ent)+"|"+in.ID(comp)] = append(got[in.ID(ent)+"|"+in.ID(comp)], in.ID(s))
		}
	}
	for _, s := range got {
		slices.Sort(s)
	}
	want := map[string][]string{
		"ENT-A|COMP-BOLT": {"SUP-DE1"},
		"ENT-B|COMP-CHIP": {"SUP-DE1", "SUP-KR1"},
		"ENT-B|COMP-GA":   {"SUP-KR1"}, // the fixture's award: supplier kr-001, named "Supplier KR1"
	}
	if len(got) != len(want) {
		t.Errorf("pairs %v, want %v", got, want)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: suppliers %v, want %v", k, got[k], w)
		}
	}
}
