package schemas_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/schemas"
)

// The hand-written decoder gives the reflective decoder's result on every record of every kind,
// well-formed or not, and takes the fast path on what the producers write.
func TestFastDecodeMatchesReflective(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var values [][]byte
	kinds := map[schemas.Kind]int{}
	synth.Generate(synth.Config{Edges: 3000, TradeRows: 2000, Seed: 3, Now: now}, func(r schemas.Record) {
		env, err := schemas.NewEnvelope("synth", r, now)
		if err != nil {
			t.Fatal(err)
		}
		kinds[env.Kind]++
		values = append(values, loadgen.Encode(env))
	})
	if len(kinds) != len(schemas.Kinds()) {
		t.Fatalf("synth covers %d kinds, want all %d", len(kinds), len(schemas.Kinds()))
	}
	for _, v := range values {
		for _, shared := range []bool{false, true} {
			env, rec, ok := schemas.DecodeEnvelopeFast(v, shared)
			if !ok || rec == nil {
				t.Fatalf("envelope and payload not on the fast path in one pass: %s", v)
			}
			if _, ok := schemas.DecodePayloadFast(env.Kind, env.Payload, shared); !ok {
				t.Fatalf("payload not on the fast path: %s", v)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		m := loadgen.Bad(i, now, r)
		values = append(values, m.Value)
	}
	// hand-made oddities: escapes, nulls, unknown and differently-cased keys, numbers of the wrong
	// type, trailing garbage, white space
	good := string(values[0])
	for _, v := range []string{
		strings.Replace(good, `"source":"synth"`, `"source":"syn\u0074h"`, 1),
		strings.Replace(good, `"source":"synth"`, `"Source":"synth"`, 1),
		strings.Replace(good, `"source":"synth"`, `"source":null`, 1),
		strings.Replace(good, `"schema_version":1`, `"schema_version":1.0`, 1),
		strings.Replace(good, `"schema_version":1`, `"schema_version":01`, 1),
		strings.Replace(good, `"schema_version":1`, `"extra":[1,{"a":"}"}],"schema_version":1`, 1),
		strings.Replace(good, `"payload":`, `"kind":"production","payload":`, 1),
		strings.Replace(good, `}}`, `},"kind":"production"}`, 1),
		strings.Replace(good, `}}`, `},"payload":{}}`, 1),
		good + " x", " " + good + "\n", good[:len(good)-1], "{}", "[]", "null", "",
	} {
		values = append(values, []byte(v))
	}
	for _, v := range values {
		compareDecoders(t, v)
	}
}

func compareDecoders(t *testing.T, v []byte) {
	t.Helper()
	for _, want := range append(schemas.Kinds(), "") {
		compareDecoded(t, v, want, schemas.Decode)
		compareDecoded(t, v, want, schemas.DecodeShared)
	}
}

func compareDecoded(t *testing.T, v []byte, want schemas.Kind, dec func([]byte, schemas.Kind) (schemas.Envelope, schemas.Record, error)) {
	t.Helper()
	{
		e1, r1, err1 := dec(slices.Clone(v), want)
		e2, r2, err2 := schemas.DecodeReflective(v, want)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("%s (want %q): fast err %v, reflective err %v", v, want, err1, err2)
		}
		p1, p2 := e1.Payload, e2.Payload
		e1.Payload, e2.Payload = nil, nil
		if !reflect.DeepEqual(e1, e2) || (err1 == nil && !json.Valid(p1)) || (err1 == nil && string(p1) != string(p2)) {
			t.Fatalf("%s: envelopes differ:\n%+v %s\n%+v %s", v, e1, p1, e2, p2)
		}
		if !reflect.DeepEqual(r1, r2) {
			t.Fatalf("%s: records differ:\n%#v\n%#v", v, r1, r2)
		}
	}
}

// Every JSON field of every payload type has a fast setter (a missing one would silently send the
// kind down the slow path), listed in the order the JSON encoding writes the fields (another order
// would cost the decoder a map lookup per key).
func TestFastFieldsCoverPayloads(t *testing.T) {
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		typ := reflect.TypeOf(spec.New()).Elem()
		var want []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				want = append(want, name)
			}
		}
		if have := schemas.FastFieldKeys(k); !slices.Equal(have, want) {
			t.Errorf("%s: fast setters for %v, want the JSON fields in order %v (schemas/fastfields.go)", k, have, want)
		}
		if have := reflect.TypeOf(schemas.FastFieldsNew(k)).Elem(); have != typ {
			t.Errorf("%s: the fast decoder makes a %v, the spec a %v (schemas/fastfields.go)", k, have, typ)
		}
	}
}
