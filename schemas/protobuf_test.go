package schemas_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/schemas"
)

const protoPath = "proto/chainwatch/v1/events.proto"

// TestProtoFileMatchesFields keeps the committed .proto in step with the field lists the codec
// uses (go test ./schemas -run TestProtoFileMatchesFields -update). A field moved, renamed or
// retyped changes the file, and with it the wire format: the diff shows it in review.
func TestProtoFileMatchesFields(t *testing.T) {
	want := schemas.ProtoFile()
	if schemas.Update() {
		if err := os.MkdirAll(filepath.Dir(protoPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(protoPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(protoPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != want {
		t.Errorf("%s is stale: run go test ./schemas -run TestProtoFileMatchesFields -update", protoPath)
	}
	if len(schemas.ProtoKinds()) != len(schemas.Kinds()) {
		t.Errorf("payload messages for %v, kinds %v", schemas.ProtoKinds(), schemas.Kinds())
	}
}

// protoEvents are valid events of every kind: a synthetic network's records and edge cases (nil and
// empty lists, optional numbers set to 0, every flag, -0, times with nanoseconds and before 1970,
// strings in Chinese), each with its envelope.
func protoEvents(t testing.TB) ([]schemas.Envelope, []schemas.Record) {
	now := time.Date(2026, 6, 1, 12, 30, 5, 123456789, time.UTC)
	var recs []schemas.Record
	synth.Generate(synth.Config{Edges: 2000, TradeRows: 2000, Seed: 11, Now: now}, func(r schemas.Record) { recs = append(recs, r) })
	zero, negZero, w := 0.0, 0.0, 12.5
	negZero = -negZero
	old := time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC)
	recs = append(recs,
		&schemas.TradeFlow{ReporterM49: 156, PartnerM49: 0, Flow: "M", HSCode: "810520", Year: 2024, NetWeightKg: &w, Quantity: &zero, Estimated: true, MOTCode: 65535, ValueUSD: negZero},
		&schemas.ProductionStat{Commodity: "稀土", Country: "中国", Stage: "mine", Year: 2024, Unit: "t", Quantity: &zero, Estimated: true, Note: "估计"},
		&schemas.ProcurementAward{OCID: "ocds-x", ReleaseID: "r1", AwardID: "a1", Date: old, SupplierIDs: []string{}, SupplierNames: []string{"", "甲"}, CompiledAt: now},
		&schemas.ComponentAvailability{PartNumber: "P1", Manufacturer: "TI", Distributor: "mouser", StockUnknown: true, Stock: -1, Lifecycle: schemas.LifecycleEOL, LeadTimeDays: &zero, AsOf: now},
		&schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: "S1", Name: "甲", Domestic: true, ChainLeader: true, Chokepoint: true, Tags: []string{"专精特新"}, AsOf: now},
	)
	var envs []schemas.Envelope
	var kept []schemas.Record
	for _, r := range recs {
		env, err := schemas.NewEnvelope("test-proto", r, now)
		if err != nil {
			continue // an edge case the validation refuses; the synth records all pass
		}
		envs, kept = append(envs, env), append(kept, r)
	}
	if len(kept) < len(recs)-5 {
		t.Fatalf("%d of %d records valid", len(kept), len(recs))
	}
	return envs, kept
}

// stored is what the sink stores of an event: its row, as the columns of its table hold it.
func stored(t testing.TB, env *schemas.Envelope, rec schemas.Record) []any {
	spec, _ := schemas.Lookup(rec.Kind())
	c := schemas.NewColumns(len(spec.AllColumns()))
	if err := c.AppendRecord(env, rec); err != nil {
		t.Fatal(err)
	}
	var row []any
	for i := range c.Width() {
		row = append(row, c.Column(i))
	}
	return row
}

// jsonStored decodes env's JSON (the sink's other path) into its stored row.
func jsonStored(t testing.TB, env *schemas.Envelope) []any {
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	jenv, jrec, err := schemas.Decode(b, env.Kind)
	if err != nil {
		t.Fatal(err)
	}
	return stored(t, &jenv, jrec)
}

func packOf(t testing.TB, envs []schemas.Envelope, recs []schemas.Record) []byte {
	var pack []byte
	for i := range envs {
		rec, err := schemas.RecordOf(&envs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rec, recs[i]) && !reflect.DeepEqual(stored(t, &envs[i], rec), stored(t, &envs[i], recs[i])) {
			t.Fatalf("RecordOf: %+v, want %+v", rec, recs[i])
		}
		if pack, err = schemas.AppendProtoEvent(pack, &envs[i], rec); err != nil {
			t.Fatal(err)
		}
	}
	return pack
}

// decodePack decodes every event of a pack.
func decodePack(t testing.TB, pack []byte) (envs []schemas.Envelope, recs []schemas.Record) {
	schemas.ProtoPackEvents(pack, func(i int, ev []byte, err error) bool {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		env, rec, err := schemas.DecodeProto(ev, "", i%2 == 0)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		envs, recs = append(envs, env), append(recs, rec)
		return true
	})
	return envs, recs
}

// TestProtoStoresWhatJSONStores: every event written as protobuf and read back is stored exactly as
// its JSON is, row for row (the shared strings of every other event included).
func TestProtoStoresWhatJSONStores(t *testing.T) {
	envs, recs := protoEvents(t)
	pack := packOf(t, envs, recs)
	jsonBytes := 0
	for i := range envs {
		b, _ := json.Marshal(&envs[i])
		jsonBytes += len(b)
	}
	t.Logf("%d events: %d bytes of protobuf, %d of JSON", len(envs), len(pack), jsonBytes)
	denvs, drecs := decodePack(t, pack)
	if len(drecs) != len(recs) {
		t.Fatalf("%d events decoded, want %d", len(drecs), len(recs))
	}
	kinds := map[schemas.Kind]bool{}
	for i := range envs {
		kinds[recs[i].Kind()] = true
		if got, want := stored(t, &denvs[i], drecs[i]), jsonStored(t, &envs[i]); !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d (%s): stored %v from protobuf, %v from JSON", i, recs[i].Kind(), got, want)
		}
	}
	if len(kinds) != len(schemas.Kinds()) {
		t.Fatalf("events of %d kinds, want all %d", len(kinds), len(schemas.Kinds()))
	}
}

// TestDecodeProtoReuse: an event decoded into a record it reuses is the event decoded into a new
// record, whatever the reused record held (every other event's fields, all set or none), and a
// record of another kind is not reused.
func TestDecodeProtoReuse(t *testing.T) {
	envs, recs := protoEvents(t)
	pack := packOf(t, envs, recs)
	var events [][]byte
	schemas.ProtoPackEvents(pack, func(_ int, ev []byte, err error) bool {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
		return true
	})
	last := map[schemas.Kind]schemas.Record{} // the record of the kind's event before
	reused := 0
	for i, ev := range events {
		want, wantRec, err := schemas.DecodeProto(ev, "", true)
		if err != nil {
			t.Fatal(err)
		}
		k := wantRec.Kind()
		for _, old := range []schemas.Record{last[k], recs[(i+1)%len(recs)]} { // the same kind's last record; any other record
			env, rec, err := schemas.DecodeProtoReuse(ev, "", true, old)
			if err != nil {
				t.Fatalf("event %d (%s): %v", i, k, err)
			}
			if got, wantRow := stored(t, &env, rec), stored(t, &want, wantRec); !reflect.DeepEqual(got, wantRow) {
				t.Fatalf("event %d (%s) decoded into a reused %T: stored %v, want %v", i, k, old, got, wantRow)
			}
			switch sameKind := old != nil && old.Kind() == k; {
			case sameKind && rec != old:
				t.Fatalf("event %d (%s): a record of its kind was not reused", i, k)
			case !sameKind && rec == old:
				t.Fatalf("event %d (%s): a %T was reused", i, k, old)
			case sameKind:
				reused++
			}
		}
		_, last[k], _ = schemas.DecodeProto(ev, "", true) // a record nobody else holds, for the next
	}
	if reused < len(events)/2 {
		t.Fatalf("%d of %d events decoded into a reused record", reused, len(events))
	}
}

// compileProto compiles the committed .proto with protocompile (the reference: a protobuf
// library's own reading of the file).
func compileProto(t testing.TB) protoreflect.FileDescriptor {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{"proto"}})}
	files, err := c.Compile(context.Background(), "chainwatch/v1/events.proto")
	if err != nil {
		t.Fatal(err)
	}
	return files[0]
}

// noUnknown fails when m or a message in it holds fields its descriptor does not know.
func noUnknown(t testing.TB, m protoreflect.Message) {
	if len(m.GetUnknown()) > 0 {
		t.Fatalf("%s: unknown fields %x", m.Descriptor().FullName(), m.GetUnknown())
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				noUnknown(t, v.List().Get(i).Message())
			}
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			noUnknown(t, v.Message())
		}
		return true
	})
}

// TestProtoMatchesReference proves the codec against protobuf-go reading the committed .proto:
//   - what chainwatch writes parses as a Pack with no unknown field anywhere, and protobuf-go's
//     own encoding of that message decodes to the same rows;
//   - an event a producer of its own writes from the .proto (here protojson fills the message from
//     the event's JSON, protobuf-go encodes it) is stored as the JSON event is.
func TestProtoMatchesReference(t *testing.T) {
	fd := compileProto(t)
	packDesc, envDesc := fd.Messages().ByName("Pack"), fd.Messages().ByName("Envelope")
	envs, recs := protoEvents(t)
	pack := packOf(t, envs, recs)

	ref := dynamicpb.NewMessage(packDesc)
	if err := proto.Unmarshal(pack, ref); err != nil {
		t.Fatal(err)
	}
	noUnknown(t, ref)
	if n := ref.Get(packDesc.Fields().ByName("events")).List().Len(); n != len(envs) {
		t.Fatalf("protobuf-go reads %d events, want %d", n, len(envs))
	}
	again, err := proto.MarshalOptions{Deterministic: true}.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	denvs, drecs := decodePack(t, again)
	for i := range envs {
		if got, want := stored(t, &denvs[i], drecs[i]), jsonStored(t, &envs[i]); !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d re-encoded by protobuf-go: stored %v, want %v", i, got, want)
		}
	}

	oneof := map[schemas.Kind]string{}
	for i := 0; i < envDesc.Oneofs().ByName("payload").Fields().Len(); i++ {
		f := envDesc.Oneofs().ByName("payload").Fields().Get(i)
		kind, _ := strings.CutPrefix(string(f.ParentFile().SourceLocations().ByDescriptor(f).TrailingComments), " kind ")
		oneof[schemas.Kind(strings.TrimSpace(kind))] = string(f.Name())
	}
	for i := range envs {
		b, _ := json.Marshal(&envs[i])
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatal(err)
		}
		f := envDesc.Fields().ByName(protoreflect.Name(envs[i].Kind)) // the payload field is named as its kind
		if f == nil || f.ContainingOneof() == nil || f.ContainingOneof().Name() != "payload" {
			t.Fatalf("no payload field for kind %s in the .proto", envs[i].Kind)
		}
		name := string(f.Name())
		obj[name] = obj["payload"]
		delete(obj, "payload")
		b, _ = json.Marshal(obj)
		m := dynamicpb.NewMessage(envDesc)
		if err := protojson.Unmarshal(b, m); err != nil {
			t.Fatalf("protojson: %v\n%s", err, b)
		}
		ev, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		one := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), ev)
		denvs, drecs := decodePack(t, one)
		if got, want := stored(t, &denvs[0], drecs[0]), jsonStored(t, &envs[i]); !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d written by protobuf-go from its JSON: stored %v, want %v", i, got, want)
		}
	}
}

// TestDecodeProtoReasons: each way an event can be wrong is rejected with its reason.
func TestDecodeProtoReasons(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	link := &schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1", Share: 1, Qualification: "qualified", AsOf: now}
	env, err := schemas.NewEnvelope("test", link, now)
	if err != nil {
		t.Fatal(err)
	}
	event := func(mod func(e *schemas.Envelope, r *schemas.SupplyLink)) []byte {
		e, r := env, *link
		if mod != nil {
			mod(&e, &r)
		}
		b, err := schemas.AppendProtoEvent(nil, &e, &r)
		if err != nil {
			t.Fatal(err)
		}
		_, typ, n := protowire.ConsumeTag(b)
		if typ != protowire.BytesType {
			t.Fatal("not a pack's events field")
		}
		v, _ := protowire.ConsumeBytes(b[n:])
		return v
	}
	good := event(nil)
	if _, _, err := schemas.DecodeProto(good, schemas.KindSupplyLink, false); err != nil {
		t.Fatal(err)
	}
	field := func(b []byte, num protowire.Number, typ protowire.Type, v []byte) []byte {
		return append(protowire.AppendTag(b, num, typ), v...)
	}
	// the payload of good, to change it
	payload := func(extra []byte) []byte {
		var out []byte
		for b := good; len(b) > 0; {
			num, typ, n := protowire.ConsumeTag(b)
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if num == 21 {
				v, _ := protowire.ConsumeBytes(b[n:])
				out = protowire.AppendBytes(protowire.AppendTag(out, 21, protowire.BytesType), append(append([]byte{}, v...), extra...))
			} else {
				out = append(out, b[:n+m]...)
			}
			b = b[n+m:]
		}
		return out
	}
	strip := func(drop protowire.Number) []byte {
		var out []byte
		for b := good; len(b) > 0; {
			num, typ, n := protowire.ConsumeTag(b)
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if num != drop {
				out = append(out, b[:n+m]...)
			}
			b = b[n+m:]
		}
		return out
	}
	badUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), []byte{0xff, 0xfe})
	for _, tc := range []struct {
		name, reason, detail string
		value                []byte
		topic                schemas.Kind
	}{
		{"truncated", "bad_protobuf", "unexpected EOF", good[:len(good)-3], ""},
		{"unknown envelope field", "bad_protobuf", "unknown field 9", field(append([]byte{}, good...), 9, protowire.VarintType, []byte{1}), ""},
		{"wrong wire type", "bad_protobuf", "wire type", field(nil, 2, protowire.VarintType, []byte{1}), ""},
		{"event id not UTF-8", "bad_protobuf", "UTF-8", append(append([]byte{}, good...), badUTF8...), ""},
		{"no payload", "bad_envelope", "payload: missing", strip(21), ""},
		{"payload of another kind", "bad_envelope", "a supply_link payload in a trade event", event(func(e *schemas.Envelope, _ *schemas.SupplyLink) { e.Kind = schemas.KindTrade }), ""},
		{"topic of another kind", "kind_mismatch", "topic carries", good, schemas.KindTrade},
		{"newer schema version", "bad_envelope", "schema_version", event(func(e *schemas.Envelope, _ *schemas.SupplyLink) { e.SchemaVersion = 9 }), ""},
		{"unknown payload field", "bad_payload", "unknown field 40", payload(protowire.AppendVarint(protowire.AppendTag(nil, 40, protowire.VarintType), 1)), ""},
		{"payload wire type", "bad_payload", "share: wire type", payload(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 1)), ""},
		{"timestamp out of range", "bad_payload", "out of range", payload(protowire.AppendBytes(protowire.AppendTag(nil, 11, protowire.BytesType), protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1<<40))), ""},
		{"invalid record", "invalid", "share", event(func(_ *schemas.Envelope, r *schemas.SupplyLink) { r.Share = 2 }), ""},
		{"event id of another key", "invalid", "event_id", event(func(_ *schemas.Envelope, r *schemas.SupplyLink) { r.SupplierID = "S2" }), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rec, err := schemas.DecodeProto(tc.value, tc.topic, false)
			var de *schemas.DecodeError
			if !errors.As(err, &de) || de.Reason != tc.reason || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("DecodeProto: %v (%T), want reason %s with %q", err, err, tc.reason, tc.detail)
			}
			if rec != nil {
				t.Fatal("a rejected event came with a record")
			}
		})
	}
}

// TestProtoPackEventsFraming: a pack's events come out in order; a broken frame yields its rest as
// one more event with an error, so every byte is decoded or rejected.
func TestProtoPackEventsFraming(t *testing.T) {
	ev := func(s string) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte(s))
	}
	pack := append(ev("a"), ev("bc")...)
	for _, tc := range []struct {
		name  string
		value []byte
		want  string
	}{
		{"two events", pack, "1:a 2:bc"},
		{"empty", nil, ""},
		{"cut length", append(append([]byte{}, pack...), 0x0a, 0x05, 'x'), "1:a 2:bc 3!"},
		{"other field", append(append([]byte{}, ev("a")...), protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 7)...), "1:a 2!"},
	} {
		var got []string
		schemas.ProtoPackEvents(tc.value, func(i int, e []byte, err error) bool {
			if err != nil {
				got = append(got, string(rune('0'+i))+"!")
			} else {
				got = append(got, string(rune('0'+i))+":"+string(e))
			}
			return true
		})
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, s, tc.want)
		}
	}
}

// BenchmarkDecodeProtoTrade decodes one trade event of a protobuf pack, as the sink does.
func BenchmarkDecodeProtoTrade(b *testing.B) {
	envs, recs := protoEvents(b)
	i := slices.IndexFunc(recs, func(r schemas.Record) bool { return r.Kind() == schemas.KindTrade })
	trade := packOf(b, envs[i:i+1], recs[i:i+1])
	_, _, k := protowire.ConsumeTag(trade)
	ev, _ := protowire.ConsumeBytes(trade[k:])
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := schemas.DecodeProto(ev, schemas.KindTrade, true); err != nil {
			b.Fatal(err)
		}
	}
}
