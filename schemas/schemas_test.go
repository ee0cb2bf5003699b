package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invopop/jsonschema"
	sjs "github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite schemas/jsonschema/*.json from the Go types")

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func samples() []Record {
	w := 225165.0
	v := 32791847.0
	lt := 84.0
	q := 170000.0
	return []Record{
		&TradeFlow{ReporterM49: 842, ReporterISO3: "USA", PartnerM49: 156, PartnerISO3: "CHN", Flow: "M", HSCode: "811292",
			Classification: "H6", Year: 2023, CustomsCode: "C00", ValueUSD: 32791847, NetWeightKg: &w, QtyUnit: "kg"},
		&ProductionStat{Commodity: "cobalt", Country: "Congo (Kinshasa)", CountryISO3: "COD", Stage: "mine", Year: 2023, Quantity: &q, Unit: "metric tons", Estimated: true},
		&ProductionStat{Commodity: "gallium", Country: "United States", CountryISO3: "USA", Stage: "refinery", Year: 2023, Unit: "kilograms", Flag: "W"},
		&ProcurementAward{OCID: "ocds-b5fd17-1", ReleaseID: "r1", AwardID: "a1", Date: now, SupplierIDs: []string{"GB-COH-1"},
			SupplierNames: []string{"Acme"}, SupplierCountries: []string{"GBR"}, ItemIDs: []string{"1"}, ItemDescriptions: []string{"chips"},
			ItemSchemes: []string{"CPV"}, ItemCodes: []string{"30236000"}, Value: &v, Currency: "GBP"},
		&ComponentAvailability{PartNumber: "STM32F407VGT6", Manufacturer: "STMicroelectronics", Distributor: "dist", Stock: 0, LeadTimeDays: &lt, Lifecycle: LifecycleNRND, AsOf: now},
		&SupplyNode{NodeType: NodeComponent, NodeID: "C1", Name: "FPGA", Category: CategoryHighEndChip, HSCode: "854231", Chokepoint: true, AsOf: now},
		&SupplyNode{NodeType: NodeEnterprise, NodeID: "E1", Name: "链主 A", Country: "CHN", Domestic: true, ChainLeader: true, Tags: []string{"专精特新"}, AsOf: now},
		&SupplyLink{LinkType: LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1", Share: 1, Qualification: "qualified", AsOf: now},
		&SupplyLink{LinkType: LinkBOM, ProductID: "P1", ComponentID: "C1", QtyPerUnit: 2, AsOf: now},
		&Substitution{ComponentID: "C1", AltSupplierID: "S9", QualificationDays: 120, Domestic: true, Country: "CHN", AsOf: now},
	}
}

func TestRoundTripAndDeterministicID(t *testing.T) {
	for _, rec := range samples() {
		env, err := NewEnvelope("test", rec, now)
		if err != nil {
			t.Fatalf("%s: %v", rec.Kind(), err)
		}
		b, _ := json.Marshal(env)
		env2, rec2, err := Decode(b, rec.Kind())
		if err != nil {
			t.Fatalf("%s decode: %v", rec.Kind(), err)
		}
		if env2.EventID != env.EventID || rec2.NaturalKey() != rec.NaturalKey() {
			t.Errorf("%s: round trip changed id or key", rec.Kind())
		}
		again, _ := NewEnvelope("test", rec, now.Add(time.Hour))
		if again.EventID != env.EventID {
			t.Errorf("%s: event id depends on ingest time", rec.Kind())
		}
		other, _ := NewEnvelope("other-source", rec, now)
		if other.EventID == env.EventID {
			t.Errorf("%s: event id ignores the source", rec.Kind())
		}
		spec, _ := Lookup(rec.Kind())
		vals := AppendEnvelope(nil, &env2)
		vals = rec2.AppendValues(vals)
		if len(vals) != len(spec.AllColumns()) {
			t.Errorf("%s: %d values for %d columns", rec.Kind(), len(vals), len(spec.AllColumns()))
		}
	}
}

func TestValidationNamesFields(t *testing.T) {
	cases := []struct {
		rec  Record
		want []string
	}{
		{&TradeFlow{Flow: "Q", HSCode: "12345", Year: 1800, ValueUSD: -1, ReporterISO3: "us"}, []string{"flow:", "hs_code:", "year:", "value_usd:", "reporter_iso3:"}},
		{&ProductionStat{}, []string{"commodity:", "country:", "stage:", "unit:", "year:", "quantity:"}},
		{&ProcurementAward{SupplierIDs: []string{"x"}}, []string{"ocid:", "award_id:", "release_id:", "date:", "supplier_ids:"}},
		{&ComponentAvailability{Stock: -1, Lifecycle: "zombie"}, []string{"part_number:", "stock:", "lifecycle:", "as_of:"}},
		{&SupplyNode{NodeType: NodeComponent, Category: "gizmo"}, []string{"node_id:", "category:", "as_of:"}},
		{&SupplyLink{LinkType: LinkSupplies, Share: 1.5}, []string{"enterprise_id:", "supplier_id:", "share:", "qualification:"}},
		{&SupplyLink{LinkType: "owns"}, []string{"link_type:"}},
		{&Substitution{}, []string{"component_id:", "alt_component_id:", "as_of:"}},
	}
	for _, c := range cases {
		err := c.rec.Validate()
		if err == nil {
			t.Errorf("%s: no error", c.rec.Kind())
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q: %v", c.rec.Kind(), w, err)
			}
		}
	}
}

func TestDecodeReasons(t *testing.T) {
	env, _ := NewEnvelope("t", samples()[0], now)
	good, _ := json.Marshal(env)
	mut := func(f func(*Envelope)) []byte { e := env; f(&e); b, _ := json.Marshal(e); return b }
	cases := map[string][]byte{
		"bad_json":      []byte("{"),
		"bad_envelope":  mut(func(e *Envelope) { e.SchemaVersion = 7 }),
		"kind_mismatch": mut(func(e *Envelope) { e.Kind = KindProduction }),
		"bad_payload":   mut(func(e *Envelope) { e.Payload = json.RawMessage(`{"flow":"M","x":1}`) }),
		"invalid":       mut(func(e *Envelope) { e.EventID = "0123" }),
	}
	if _, _, err := Decode(good, KindTrade); err != nil {
		t.Fatal(err)
	}
	for reason, b := range cases {
		want := KindTrade
		_, _, err := Decode(b, want)
		var de *DecodeError
		if !errors.As(err, &de) || de.Reason != reason {
			t.Errorf("want reason %s, got %v", reason, err)
		}
	}
}

func TestMigrationsParse(t *testing.T) {
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 || migs[0].Version != 1 {
		t.Fatalf("migrations: %+v", migs)
	}
	all, err := MigrationDDL()
	if err != nil {
		t.Fatal(err)
	}
	ddl := strings.Join(all, "\n")
	for _, k := range Kinds() {
		spec, _ := Lookup(k)
		for _, col := range spec.AllColumns() {
			if !strings.Contains(ddl, "    "+col+" ") && !strings.Contains(ddl, "ADD COLUMN "+col+" ") {
				t.Errorf("table %s: column %s missing from the DDL", spec.Table, col)
			}
		}
	}
	for _, banned := range []string{"LowCardinality", "DateTime64", "TTL ", "Map("} {
		for _, m := range migs {
			for _, s := range m.Statements {
				if strings.Contains(s, banned) {
					t.Errorf("migration %d uses %s, which ClickHouse 18.16 does not run", m.Version, banned)
				}
			}
		}
	}
}

func generateSchemas() map[string][]byte {
	out := map[string][]byte{}
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true}
	add := func(name string, v any, title string) {
		s := r.Reflect(v)
		s.ID = jsonschema.ID("https://chainwatch.dev/schemas/" + name)
		s.Title = title
		b, _ := json.MarshalIndent(s, "", "  ")
		out[name] = append(b, '\n')
	}
	add("envelope.v1.json", &Envelope{}, "chainwatch event envelope v1")
	add("rejected.v1.json", &Rejected{}, "chainwatch dead-letter record v1")
	for _, k := range Kinds() {
		spec, _ := Lookup(k)
		add(string(k)+".v1.json", spec.New(), "chainwatch "+string(k)+" payload v1")
	}
	return out
}

// TestJSONSchemasUpToDate keeps schemas/jsonschema in step with the Go types (go test -run JSONSchemas -update).
func TestJSONSchemasUpToDate(t *testing.T) {
	for name, b := range generateSchemas() {
		p := filepath.Join("jsonschema", name)
		if *update {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(have, b) {
			t.Errorf("%s is stale: run go test ./schemas -run JSONSchemas -update", p)
		}
	}
}

// TestSamplesMatchJSONSchemas validates every sample payload against its committed JSON Schema.
func TestSamplesMatchJSONSchemas(t *testing.T) {
	c := sjs.NewCompiler()
	for _, rec := range samples() {
		name := string(rec.Kind()) + ".v1.json"
		sch, err := c.Compile(filepath.Join("jsonschema", name))
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		b, _ := json.Marshal(rec)
		doc, err := sjs.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s sample does not match its schema: %v", rec.Kind(), err)
		}
	}
}

// TestAvailabilityOfferKey: SKU (else packaging) is part of the natural key; a record with neither
// keeps the version-1 key, so old feeds collapse onto their stored rows.
func TestAvailabilityOfferKey(t *testing.T) {
	base := ComponentAvailability{PartNumber: "LM358DR", Manufacturer: "TI", Distributor: "DigiKey", Lifecycle: LifecycleActive, AsOf: now}
	ct, tr, tube, none := base, base, base, base
	ct.SKU, tr.SKU, tube.Packaging = "296-1395-1-ND", "296-1395-2-ND", "Tube"
	keys := map[string]bool{}
	for _, r := range []*ComponentAvailability{&ct, &tr, &tube, &none} {
		keys[EventID("digikey", KindAvailability, r.NaturalKey())] = true
	}
	if len(keys) != 4 {
		t.Fatalf("offers collapse: %d distinct ids", len(keys))
	}
	if none.NaturalKey() != "DigiKey|TI|LM358DR|2026-11-23T10:00:00Z" {
		t.Errorf("version-1 key changed: %s", none.NaturalKey())
	}
	u := base
	u.Lifecycle, u.StockUnknown = LifecycleUnknown, true
	if err := u.Validate(); err != nil {
		t.Errorf("unknown lifecycle / stock: %v", err)
	}
	u.Stock = 5
	if err := u.Validate(); err == nil || !strings.Contains(err.Error(), "stock:") {
		t.Errorf("stock with stock_unknown: %v", err)
	}
}

// The natural keys of every kind, spelled out: they determine the event ids of stored rows, so
// they must not change (the key is written into the hashed buffer, appendKey, not joined).
func TestNaturalKeysUnchanged(t *testing.T) {
	q := 5.0
	for _, c := range []struct {
		rec  Record
		want string
	}{
		{&TradeFlow{ReporterM49: 842, PartnerM49: 156, Flow: "M", HSCode: "811292", Year: 2023, ValueUSD: 5, Quantity: &q}, "842|156|0|M|811292|2023|0||0"},
		{&TradeFlow{ReporterM49: 0, PartnerM49: 65535, Partner2M49: 4, Flow: "RX", HSCode: "81", Year: 1988, Month: 12, CustomsCode: "C01", MOTCode: 2100}, "0|65535|4|RX|81|1988|12|C01|2100"},
		{&ProductionStat{Commodity: "gallium", Country: "China", Stage: "mine", Year: 2023}, "gallium|China|mine|2023"},
		{&ProcurementAward{OCID: "ocds-213czf-1", AwardID: "a|1"}, "ocds-213czf-1|a|1"},
		{&ComponentAvailability{PartNumber: "P1", Manufacturer: "ST", Distributor: "X", AsOf: now}, "X|ST|P1|2026-11-23T10:00:00Z"},
		{&ComponentAvailability{PartNumber: "P1", Manufacturer: "ST", Distributor: "X", SKU: "S", Packaging: "Tube", AsOf: now.In(time.FixedZone("", 3600))}, "X|ST|P1|S|2026-11-23T10:00:00Z"},
		{&ComponentAvailability{PartNumber: "P1", Manufacturer: "ST", Distributor: "X", Packaging: "Tube", AsOf: now}, "X|ST|P1|pkg:Tube|2026-11-23T10:00:00Z"},
		{&SupplyNode{NodeType: NodeComponent, NodeID: "C1"}, "component|C1"},
		{&SupplyLink{LinkType: LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1"}, "supplies|E1||C1|S1"},
		{&Substitution{ComponentID: "C1", AltSupplierID: "S2"}, "C1||S2|"},
	} {
		if got := c.rec.NaturalKey(); got != c.want {
			t.Errorf("%s: natural key %q, want %q", c.rec.Kind(), got, c.want)
		}
		if got := string(appendKey([]byte("p"), c.rec)); got != "p"+c.want {
			t.Errorf("%s: appendKey %q, want %q", c.rec.Kind(), got, "p"+c.want)
		}
	}
}

// The sink's allocation-free event-id check agrees with EventID, for short keys and for keys longer
// than its stack buffer, and rejects any other id.
func TestEventIDMatches(t *testing.T) {
	for _, rec := range []Record{
		&SupplyNode{NodeType: NodeSupplier, NodeID: ""},
		&SupplyNode{NodeType: NodeSupplier, NodeID: "S1"},
		&SupplyNode{NodeType: NodeSupplier, NodeID: strings.Repeat("long-natural-key|", 40)},
		&TradeFlow{ReporterM49: 842, PartnerM49: 156, Flow: "M", HSCode: "811292", Year: 2023},
	} {
		nk, kind := rec.NaturalKey(), rec.Kind()
		id := EventID("src", kind, nk)
		if !eventIDMatches(id, "src", kind, rec) {
			t.Errorf("key %.20q: own id %s rejected", nk, id)
		}
		for _, bad := range []string{id[:31] + "x", id[:31], id + "0", "", EventID("src", KindProduction, nk), EventID("src2", kind, nk), EventID("src", kind, nk+"|")} {
			if eventIDMatches(bad, "src", kind, rec) {
				t.Errorf("key %.20q: wrong id %q accepted", nk, bad)
			}
		}
	}
}

// Reset keeps the columns' capacity; Release frees it and keeps the column types.
func TestColumnsResetKeepsReleaseFrees(t *testing.T) {
	c := NewColumns(2)
	for i := range 100 {
		if err := c.AppendRow([]any{fmt.Sprint(i), uint16(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c.Reset()
	if c.Len() != 0 || c.Cap() < 100 {
		t.Fatalf("after Reset: len %d cap %d, want 0 and >= 100", c.Len(), c.Cap())
	}
	c.Release()
	if c.Len() != 0 || c.Cap() != 0 {
		t.Fatalf("after Release: len %d cap %d, want 0 and 0", c.Len(), c.Cap())
	}
	if err := c.AppendRow([]any{"x", "not a uint16"}); err == nil {
		t.Fatal("Release forgot the column types")
	}
	if err := c.AppendRow([]any{"x", uint16(1)}); err != nil || c.Len() != 1 || c.Column(0).([]string)[0] != "x" {
		t.Fatalf("append after Release: %v, len %d", err, c.Len())
	}
}

// A dead-letter record is a Rejected with its reject id and reason; anything else is an error
// (the sink stores it as bad_deadletter with that error as the detail).
func TestDecodeDeadLetter(t *testing.T) {
	r, err := DecodeDeadLetter([]byte(`{"reject_id":"t/0/1","stage":"sink","reason":"bad_json","detail":"d","raw":"eA=="}`))
	if err != nil || r.RejectID != "t/0/1" || r.Reason != "bad_json" || string(r.Raw) != "x" {
		t.Fatalf("a good record: %+v, %v", r, err)
	}
	for _, v := range []string{`{"reject_id":"t/0/1"}`, `{"reason":"bad_json"}`, `not json`, ``} {
		if _, err := DecodeDeadLetter([]byte(v)); err == nil {
			t.Errorf("%q: no error", v)
		}
	}
}
