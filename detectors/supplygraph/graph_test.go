package supplygraph_test

import (
	"errors"
	"github.com/chainwatch/chainwatch/detectors/supplygraph"
	"slices"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

func TestCycleIsRejectedNamingTheCycle(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := supplygraph.NewBuilder()
	for _, id := range []string{"A", "B", "C", "D"} {
		b.Add(&schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: id, Category: schemas.CategoryOther, AsOf: at})
	}
	for _, e := range [][2]string{{"D", "A"}, {"A", "B"}, {"B", "C"}, {"C", "A"}} {
		b.Add(&schemas.SupplyLink{LinkType: schemas.LinkBOM, ProductID: e[0], ComponentID: e[1], QtyPerUnit: 1, AsOf: at})
	}
	_, err := b.Build()
	var ce *supplygraph.CycleError
	if !errors.As(err, &ce) || !slices.Equal(ce.Path, []string{"A", "B", "C", "A"}) {
		t.Fatalf("err %v, want the cycle A → B → C → A", err)
	}
	if r := ce.Rejected("test"); r.Reason != "bom_cycle" || r.Detail != "bom: bom cycle: A → B → C → A" {
		t.Errorf("rejected %+v", r)
	}
}

// TestDemoMapTierN: the demo map's single sources and criticality, checked against the CSV rows by
// hand: S-AMD supplies C-FPGA at share 1 to all three enterprises, so removing it cuts
// E-NEV/P-EV-SEDAN, E-ROBOT/P-ROBOT-6AX and E-SEMI/P-ETCHER: 3 products, 3 enterprises, 2 of them
// 链主 (weight 3): score = (3 + 1 + 3) + (3 + 1 + 3) = 14.
func TestDemoMapTierN(t *testing.T) {
	g, _ := importGraph(t, "supplymap", "../../deploy/demo/supplymap")
	var amd supplygraph.Criticality
	for _, c := range g.Criticalities(3) {
		if c.Kind == supplygraph.KindSupplier && c.ID == "S-AMD" {
			amd = c
		}
	}
	if amd.ProductsCut != 3 || amd.EnterprisesCut != 3 || amd.LeadersCut != 2 || amd.Score != 14 ||
		!slices.Equal(amd.Cut, []string{"E-NEV/P-EV-SEDAN", "E-ROBOT/P-ROBOT-6AX", "E-SEMI/P-ETCHER"}) {
		t.Errorf("S-AMD criticality %+v", amd)
	}
	// C-IGBT for P-EV-DRIVE: Infineon share 1, StarPower share 0 (in progress) → one active source.
	found := false
	for _, f := range g.SingleSources() {
		if f.Enterprise == "E-NEV" && f.Input == "C-IGBT" {
			found = f.Source == "S-INFINEON" && f.SourceKind == supplygraph.SourceSupplier && slices.Contains(f.Products, "P-EV-DRIVE")
		}
		if f.Input == "C-COBALT" || f.Input == "C-BEARING" || f.Input == "C-EDA" {
			t.Errorf("%s has two active suppliers, flagged %+v", f.Input, f)
		}
	}
	if !found {
		t.Error("E-NEV C-IGBT (Infineon only) not flagged")
	}
}

// TestRemovedMaterialCutsBoughtContent: removing C-GALLIUM also removes the bought GaN devices that
// contain it, so P-EV-DRIVE (E-NEV, via C-GAN-HEMT) and both E-SEMI products are cut: 3 products,
// 2 enterprises, both 链主: score = 3·3 + 2·3 = 15.
func TestRemovedMaterialCutsBoughtContent(t *testing.T) {
	g, _ := importGraph(t, "supplymap", "../../deploy/demo/supplymap")
	c := g.Remove(supplygraph.KindItem, g.Item("C-GALLIUM"), 3)
	if !slices.Equal(c.Cut, []string{"E-NEV/P-EV-DRIVE", "E-SEMI/P-ETCHER", "E-SEMI/P-LITHO-TRACK"}) || c.Score != 15 {
		t.Fatalf("%+v", c)
	}
}
