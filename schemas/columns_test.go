package schemas_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/schemas"
)

// TestAppendRecordMatchesAppendRow: the typed path (AppendRecord) must append exactly what the
// boxed row path (AppendRow of AppendEnvelope + AppendValues) appends, column by column and type by
// type, for records of every kind: a synthetic network (every kind) and hand-made edge cases (nil
// slices and pointers, zero times, every flag set).
func TestAppendRecordMatchesAppendRow(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	byKind := map[schemas.Kind][]schemas.Record{}
	synth.Generate(synth.Config{Edges: 3000, TradeRows: 3000, Seed: 7, Now: now}, func(r schemas.Record) {
		byKind[r.Kind()] = append(byKind[r.Kind()], r)
	})
	w := 12.5
	for _, r := range []schemas.Record{
		&schemas.TradeFlow{ReporterM49: 156, Flow: "M", HSCode: "810520", Year: 2024, NetWeightKg: &w, Estimated: true},
		&schemas.TradeFlow{ReporterM49: 842, Flow: "X", HSCode: "28", Year: 2023},
		&schemas.ProductionStat{Commodity: "cobalt", Country: "Congo", Year: 2024, Estimated: true},
		&schemas.ProcurementAward{OCID: "ocds-x", AwardID: "a1"},
		&schemas.ProcurementAward{OCID: "ocds-y", AwardID: "a2", SupplierIDs: []string{"S1", "S2"}, Date: now},
		&schemas.ComponentAvailability{PartNumber: "P1", Manufacturer: "TI", StockUnknown: true, AsOf: now},
		&schemas.ComponentAvailability{PartNumber: "P2", Manufacturer: "ADI"},
		&schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: "S1", Domestic: true, ChainLeader: true, Chokepoint: true, Tags: []string{"专精特新"}},
		&schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: "C1"},
		&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1", Share: 1, Qualification: "qualified"},
		&schemas.Substitution{ComponentID: "C1", AltSupplierID: "S2", Domestic: true},
	} {
		byKind[r.Kind()] = append(byKind[r.Kind()], r)
	}
	for _, k := range schemas.Kinds() {
		recs := byKind[k]
		if len(recs) < 2 {
			t.Fatalf("%s: %d records, the check needs several", k, len(recs))
		}
		spec, _ := schemas.Lookup(k)
		width := len(spec.AllColumns())
		boxed, typed := schemas.NewColumns(width), schemas.NewColumns(width)
		for _, r := range recs {
			env := testEnvelope(r, now)
			if err := boxed.AppendRow(r.AppendValues(schemas.AppendEnvelope(nil, &env))); err != nil {
				t.Fatalf("%s AppendRow: %v", k, err)
			}
			if err := typed.AppendRecord(&env, r); err != nil {
				t.Fatalf("%s AppendRecord: %v", k, err)
			}
		}
		if boxed.Len() != len(recs) || typed.Len() != len(recs) {
			t.Fatalf("%s: %d / %d rows, want %d", k, boxed.Len(), typed.Len(), len(recs))
		}
		for i := range width {
			if b, ty := boxed.Column(i), typed.Column(i); !reflect.DeepEqual(b, ty) {
				t.Errorf("%s column %s: AppendRecord %T differs from AppendRow %T", k, spec.AllColumns()[i], ty, b)
			}
		}
	}
}

// TestAppendRecordRollsBack: a row that does not fit the columns' types is refused whole.
func TestAppendRecordRollsBack(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	link := &schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1", Share: 1, Qualification: "qualified", AsOf: now}
	env := testEnvelope(link, now)
	spec, _ := schemas.Lookup(schemas.KindSupplyLink)
	c := schemas.NewColumns(len(spec.AllColumns()))
	if err := c.AppendRecord(&env, link); err != nil {
		t.Fatal(err)
	}
	// a production row into the links' columns: the envelope fits, the payload does not
	prod := &schemas.ProductionStat{Commodity: "cobalt", Country: "Congo", Year: 2024}
	penv := testEnvelope(prod, now)
	if err := c.AppendRecord(&penv, prod); err == nil {
		t.Fatal("a production row was appended to the supply links' columns")
	}
	if c.Len() != 1 {
		t.Fatalf("%d rows after the refused one, want 1", c.Len())
	}
	for i := range c.Width() {
		if n := reflect.ValueOf(c.Column(i)).Len(); n != 1 {
			t.Fatalf("column %s holds %d values after the refused row, want 1", spec.AllColumns()[i], n)
		}
	}
}

// testEnvelope is the envelope of r without validation (the edge cases need not be valid records).
func testEnvelope(r schemas.Record, now time.Time) schemas.Envelope {
	return schemas.Envelope{SchemaVersion: 1, EventID: schemas.EventID("test", r.Kind(), r.NaturalKey()), Source: "test",
		Kind: r.Kind(), OccurredAt: r.OccurredAt(), IngestedAt: now}
}
