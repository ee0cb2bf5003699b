package schemas

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"google.golang.org/protobuf/encoding/protowire"
)

// The binary format of events on Kafka: protocol buffers, as schemas/proto/chainwatch/v1/events.proto
// describes them (TestProtoFileMatchesFields writes that file from the field lists of
// fastfields.go and fails when it differs, so the numbers of a field never change unnoticed).
//
// A record whose header ContentTypeHeader is ProtoPackContentType holds a Pack: a message of
// repeated Envelope (field 1), each an event of the topic's kind, whose payload is the oneof field
// of its kind (protoPayloads). A payload message's field numbers are the places of its fields in
// fastFields, from 1; strings are UTF-8, times are google.protobuf.Timestamp, the *float64 fields
// are proto3 `optional double`. Any protobuf library writes such records from the .proto file;
// chainwatch's producer writes them by default (kafka.encoding: protobuf) because the sink decodes
// them in a fraction of JSON's time (docs/benchmarks.md). The decoder is stricter than protobuf's
// rule to skip unknown fields: an unknown field rejects its event, as an unknown JSON key does,
// so nothing a producer sent is dropped unnoticed.

// ProtoPackContentType is the content type of a record that holds a protobuf Pack.
const ProtoPackContentType = "application/vnd.chainwatch.pack.v1+protobuf"

// protoPayloads are the oneof payload fields of Envelope: a kind, its field number and name.
var protoPayloads = []struct {
	kind Kind
	num  protowire.Number
	name string
}{
	{KindTrade, 16, "trade"},
	{KindProduction, 17, "production"},
	{KindProcurement, 18, "procurement"},
	{KindAvailability, 19, "availability"},
	{KindSupplyNode, 20, "supply_node"},
	{KindSupplyLink, 21, "supply_link"},
	{KindSubstitution, 22, "substitution"},
}

// The Envelope message's own fields.
const (
	pbSchemaVersion protowire.Number = 1
	pbEventID       protowire.Number = 2
	pbSource        protowire.Number = 3
	pbKind          protowire.Number = 4
	pbOccurredAt    protowire.Number = 5
	pbIngestedAt    protowire.Number = 6
	pbPackEvents    protowire.Number = 1 // Pack.events
)

// Timestamp's range (google/protobuf/timestamp.proto): 0001-01-01 to 9999-12-31 UTC.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

// pbValue is one field's value as read from the wire: a varint or fixed64 in u, bytes in b.
type pbValue struct {
	u uint64
	b []byte
}

// pbCodec is how one payload field is written and read in protobuf's wire format.
type pbCodec struct {
	typ  string         // its type in the .proto file
	wire protowire.Type // its wire type
	// enc appends the field of rec as field num, or nothing for its zero value (proto3 implicit
	// presence; the optional ones when nil).
	enc func(rec any, b []byte, num protowire.Number) []byte
	// dec sets the field of rec from a value of the field's wire type; shared as in DecodeShared.
	dec func(rec any, v pbValue, shared bool) error
}

func pbString(b []byte, shared bool) (string, error) {
	if !utf8.Valid(b) {
		return "", errors.New("string is not valid UTF-8")
	}
	if shared {
		return view(b), nil
	}
	return string(b), nil
}

func pbStr[T any](get func(*T) *string) pbCodec {
	return pbCodec{typ: "string", wire: protowire.BytesType,
		enc: func(r any, b []byte, num protowire.Number) []byte {
			if v := *get(r.(*T)); v != "" {
				b = protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
			}
			return b
		},
		dec: func(r any, v pbValue, shared bool) (err error) {
			*get(r.(*T)), err = pbString(v.b, shared)
			return err
		}}
}

func pbStrs[T any](get func(*T) *[]string) pbCodec {
	return pbCodec{typ: "repeated string", wire: protowire.BytesType,
		enc: func(r any, b []byte, num protowire.Number) []byte {
			for _, v := range *get(r.(*T)) {
				b = protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
			}
			return b
		},
		dec: func(r any, v pbValue, shared bool) error {
			s, err := pbString(v.b, shared)
			p := get(r.(*T))
			*p = append(*p, s)
			return err
		}}
}

// appendVarintField appends field num as a varint, or nothing for 0 (proto3 implicit presence).
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v != 0 {
		b = protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
	}
	return b
}

func pbUint[T any, U uint8 | uint16](bits int, get func(*T) *U) pbCodec {
	return pbCodec{typ: "uint32", wire: protowire.VarintType,
		enc: func(r any, b []byte, num protowire.Number) []byte {
			return appendVarintField(b, num, uint64(*get(r.(*T))))
		},
		dec: func(r any, v pbValue, _ bool) error {
			if v.u >= 1<<bits {
				return fmt.Errorf("%d is out of range for uint%d", v.u, bits)
			}
			*get(r.(*T)) = U(v.u)
			return nil
		}}
}

func pbInt64[T any](get func(*T) *int64) pbCodec {
	return pbCodec{typ: "int64", wire: protowire.VarintType,
		enc: func(r any, b []byte, num protowire.Number) []byte {
			return appendVarintField(b, num, uint64(*get(r.(*T))))
		},
		dec: func(r any, v pbValue, _ bool) error {
			*get(r.(*T)) = int64(v.u)
			return nil
		}}
}

func appendDouble(b []byte, num protowire.Number, v float64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(b, num, protowire.Fixed64Type), math.Float64bits(v))
}

func pbFloat[T any](get func(*T) *float64) pbCodec {
	return pbCodec{typ: "double", wire: protowire.Fixed64Type,
		enc: func(r any, b []byte, num protowire.Number) []byte {
			if v := *get(r.(*T)); math.Float64bits(v) != 0 { // -0 is written, as protobuf-go does
				b = appendDouble(b, num, v)
			}
			return b
		},
		dec: func(r any, v pbValue, _ bool) error {
			*get(r.(*T)) = math.Float64frombits(v.u)
			return nil
		}}
}

func pbFloatPtr[T any](get func(*T) **float64) pbCodec {
	return pbCodec{typ: "optional double", wire: protowire.Fixed64Type,
		enc: func(r any, b []byte, num protowire.Number) []byte {
			if v := *get(r.(*T)); v != nil {
				b = appendDouble(b, num, *v)
			}
			return b
		},
		dec: func(r any, v pbValue, _ bool) error {
			f := math.Float64frombits(v.u)
			*get(r.(*T)) = &f
			return nil
		}}
}

func pbBool[T any](get func(*T) *bool) pbCodec {
	return pbCodec{typ: "bool", wire: protowire.VarintType,
		enc: func(r any, b []byte, num protowire.Number) []byte {
			if *get(r.(*T)) {
				return appendVarintField(b, num, 1)
			}
			return b
		},
		dec: func(r any, v pbValue, _ bool) error {
			*get(r.(*T)) = v.u != 0
			return nil
		}}
}

func pbTime[T any](get func(*T) *time.Time) pbCodec {
	return pbCodec{typ: "google.protobuf.Timestamp", wire: protowire.BytesType,
		enc: func(r any, b []byte, num protowire.Number) []byte { return appendTimestamp(b, num, *get(r.(*T))) },
		dec: func(r any, v pbValue, _ bool) (err error) {
			*get(r.(*T)), err = decodeTimestamp(v.b)
			return err
		}}
}

// appendTimestamp appends t as a google.protobuf.Timestamp field, or nothing for the zero time.
func appendTimestamp(b []byte, num protowire.Number, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return appendNested(b, num, func(b []byte) []byte {
		return appendVarintField(appendVarintField(b, 1, uint64(t.Unix())), 2, uint64(t.Nanosecond()))
	})
}

// decodeTimestamp reads a google.protobuf.Timestamp message as a UTC time.
func decodeTimestamp(b []byte) (time.Time, error) {
	var secs, nanos int64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return time.Time{}, protowire.ParseError(n)
		}
		b = b[n:]
		if (num != 1 && num != 2) || typ != protowire.VarintType {
			return time.Time{}, fmt.Errorf("timestamp: unknown field %d of wire type %d", num, typ)
		}
		u, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return time.Time{}, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 {
			secs = int64(u)
		} else {
			nanos = int64(int32(u))
		}
	}
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > 999_999_999 {
		return time.Time{}, fmt.Errorf("timestamp: %d s %d ns is out of range (0001-01-01 to 9999-12-31)", secs, nanos)
	}
	return time.Unix(secs, nanos).UTC(), nil
}

// appendNested appends field num holding the message body writes, with its length in front.
func appendNested(b []byte, num protowire.Number, body func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	start := len(b)
	b = body(b)
	n := len(b) - start
	k := protowire.SizeVarint(uint64(n))
	var pad [binaryMaxVarint]byte
	b = append(b, pad[:k]...)
	copy(b[start+k:], b[start:start+n])
	protowire.AppendVarint(b[start:start], uint64(n))
	return b
}

const binaryMaxVarint = 10

// consumeField reads one field's tag and value of b; n is the bytes read (negative: an error).
func consumeField(b []byte) (num protowire.Number, typ protowire.Type, v pbValue, n int) {
	// the usual field: a one-byte tag, and a one-byte varint or a length under 128 (protowire's
	// functions for the rest)
	if len(b) >= 2 && b[0] < 0x80 && b[0] >= 8 && b[1] < 0x80 {
		num, typ = protowire.Number(b[0]>>3), protowire.Type(b[0]&7)
		switch {
		case typ == protowire.VarintType:
			return num, typ, pbValue{u: uint64(b[1])}, 2
		case typ == protowire.BytesType && len(b) >= 2+int(b[1]):
			return num, typ, pbValue{b: b[2 : 2+int(b[1]) : 2+int(b[1])]}, 2 + int(b[1])
		}
	}
	num, typ, n = protowire.ConsumeTag(b)
	if n < 0 {
		return 0, 0, v, n
	}
	var m int
	switch typ {
	case protowire.VarintType:
		v.u, m = protowire.ConsumeVarint(b[n:])
	case protowire.Fixed64Type:
		v.u, m = protowire.ConsumeFixed64(b[n:])
	case protowire.BytesType:
		v.b, m = protowire.ConsumeBytes(b[n:])
	default:
		m = protowire.ConsumeFieldValue(num, typ, b[n:])
	}
	if m < 0 {
		return 0, 0, v, m
	}
	return num, typ, v, n + m
}

// decodeProto reads a payload message of the field set's type, into reuse if it is a record of
// that type (fieldSet.renew).
func (fs *fieldSet) decodeProto(b []byte, shared bool, reuse Record) (Record, error) {
	rec := fs.renew(reuse)
	for len(b) > 0 {
		num, typ, v, n := consumeField(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num < 1 || int(num) > len(fs.fields) {
			return nil, fmt.Errorf("unknown field %d", num)
		}
		f := &fs.fields[num-1]
		if typ != f.c.pb.wire {
			return nil, fmt.Errorf("%s: wire type %d, want %d (%s)", f.name, typ, f.c.pb.wire, f.c.pb.typ)
		}
		if err := f.c.pb.dec(rec, v, shared); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return rec, nil
}

// appendProto appends rec's fields as a payload message (rec is of the field set's type).
func (fs *fieldSet) appendProto(b []byte, rec Record) []byte {
	for i := range fs.fields {
		b = fs.fields[i].c.pb.enc(rec, b, protowire.Number(i+1))
	}
	return b
}

func payloadField(k Kind) (protowire.Number, bool) {
	for _, p := range protoPayloads {
		if p.kind == k {
			return p.num, true
		}
	}
	return 0, false
}

// payloadOf is the kind of Envelope's payload field num, or "".
func payloadOf(num protowire.Number) Kind {
	for _, p := range protoPayloads {
		if p.num == num {
			return p.kind
		}
	}
	return ""
}

// AppendProtoEvent appends env with rec as its payload as one Envelope message of a Pack (its
// events field, tag and length included): a Pack's value is such fields one after the other.
// rec is env's payload decoded (RecordOf).
func AppendProtoEvent(b []byte, env *Envelope, rec Record) ([]byte, error) {
	fs := fastFields[rec.Kind()]
	num, ok := payloadField(rec.Kind())
	if fs == nil || !ok {
		return b, fmt.Errorf("protobuf: kind %q has no payload message", rec.Kind())
	}
	return appendNested(b, pbPackEvents, func(b []byte) []byte {
		b = appendVarintField(b, pbSchemaVersion, uint64(int64(int32(env.SchemaVersion))))
		if env.EventID != "" {
			b = protowire.AppendString(protowire.AppendTag(b, pbEventID, protowire.BytesType), env.EventID)
		}
		if env.Source != "" {
			b = protowire.AppendString(protowire.AppendTag(b, pbSource, protowire.BytesType), env.Source)
		}
		if env.Kind != "" {
			b = protowire.AppendString(protowire.AppendTag(b, pbKind, protowire.BytesType), string(env.Kind))
		}
		b = appendTimestamp(b, pbOccurredAt, env.OccurredAt)
		b = appendTimestamp(b, pbIngestedAt, env.IngestedAt)
		return appendNested(b, num, func(b []byte) []byte { return fs.appendProto(b, rec) })
	}), nil
}

// RecordOf decodes env's JSON payload (the producer's, to write it as protobuf).
func RecordOf(env *Envelope) (Record, error) {
	if rec, ok := decodePayloadFast(env.Kind, env.Payload, false); ok {
		return rec, nil
	}
	spec, ok := Lookup(env.Kind)
	if !ok {
		return nil, fmt.Errorf("kind: unknown %q", env.Kind)
	}
	rec := spec.New()
	if err := json.Unmarshal(env.Payload, rec); err != nil {
		return nil, fmt.Errorf("%s payload: %w", env.Kind, err)
	}
	return rec, nil
}

// ProtoPackEvents yields the events of a Pack's value, numbered from 1 in their order, each as
// its Envelope message's bytes (sharing value's memory). A value that is not a well-formed Pack
// from some point on (a bad tag or length, a field other than events) yields its rest as one
// more event with err set, so it is rejected and counted, never dropped.
func ProtoPackEvents(value []byte, yield func(i int, event []byte, err error) bool) {
	for i := 1; len(value) > 0; i++ {
		num, typ, v, n := consumeField(value)
		var err error
		switch {
		case n < 0:
			err = fmt.Errorf("pack: %w", protowire.ParseError(n))
		case num != pbPackEvents || typ != protowire.BytesType:
			err = fmt.Errorf("pack: field %d of wire type %d, want the events (1, bytes)", num, typ)
		}
		if err != nil {
			yield(i, value, err)
			return
		}
		if !yield(i, v.b, nil) {
			return
		}
		value = value[n:]
	}
}

// DecodeProto decodes one Envelope message (an event of a Pack) and validates it as Decode does
// a JSON envelope; wantKind, if non-empty, is the kind the topic carries. With shared, its strings
// share value's memory (DecodeShared's contract). Errors are DecodeErrors: "bad_protobuf" for an
// envelope that is not well-formed protobuf (or has a field this version does not know),
// "bad_payload" for such a payload, then Decode's own reasons.
func DecodeProto(value []byte, wantKind Kind, shared bool) (Envelope, Record, error) {
	return DecodeProtoReuse(value, wantKind, shared, nil)
}

// DecodeProtoReuse is DecodeProto that decodes the payload into reuse, cleared first, when reuse
// is a record of the event's kind (else into a new record, as DecodeProto): a decoder of many
// events hands back a record it is done with instead of allocating one per event. Nothing else
// may hold reuse: the record returned may be it, and on error it may hold part of the event.
func DecodeProtoReuse(value []byte, wantKind Kind, shared bool, reuse Record) (Envelope, Record, error) {
	var env Envelope
	var payload []byte
	var payloadKind Kind
	for b := value; len(b) > 0; {
		num, typ, v, n := consumeField(b)
		if n < 0 {
			return env, nil, &DecodeError{"bad_protobuf", protowire.ParseError(n)}
		}
		b = b[n:]
		var kind Kind // of a payload field
		if num > pbIngestedAt {
			kind = payloadOf(num)
		}
		if num > pbIngestedAt && kind == "" || num < pbSchemaVersion {
			return env, nil, &DecodeError{"bad_protobuf", fmt.Errorf("envelope: unknown field %d", num)}
		}
		want := protowire.BytesType
		if num == pbSchemaVersion {
			want = protowire.VarintType
		}
		if typ != want {
			return env, nil, &DecodeError{"bad_protobuf", fmt.Errorf("envelope field %d: wire type %d, want %d", num, typ, want)}
		}
		var err error
		switch num {
		case pbSchemaVersion:
			env.SchemaVersion = int(int32(v.u))
		case pbEventID:
			env.EventID, err = pbString(v.b, shared)
		case pbSource:
			env.Source, err = pbString(v.b, shared)
		case pbKind:
			if !utf8.Valid(v.b) {
				err = errors.New("string is not valid UTF-8")
			}
			env.Kind = kindOf(v.b)
		case pbOccurredAt:
			env.OccurredAt, err = decodeTimestamp(v.b)
		case pbIngestedAt:
			env.IngestedAt, err = decodeTimestamp(v.b)
		default:
			payloadKind, payload = kind, v.b
		}
		if err != nil {
			return env, nil, &DecodeError{"bad_protobuf", fmt.Errorf("envelope field %d: %w", num, err)}
		}
	}
	errs := env.headerErrors()
	if payloadKind == "" {
		errs = append(errs, errors.New("payload: missing"))
	} else if env.Kind != payloadKind && env.Kind != "" {
		errs = append(errs, fmt.Errorf("payload: a %s payload in a %s event", payloadKind, env.Kind))
	}
	if err := errors.Join(errs...); err != nil {
		return env, nil, &DecodeError{"bad_envelope", err}
	}
	if wantKind != "" && env.Kind != wantKind {
		return env, nil, &DecodeError{"kind_mismatch", fmt.Errorf("topic carries %q, record says %q", wantKind, env.Kind)}
	}
	rec, err := fastFields[env.Kind].decodeProto(payload, shared, reuse)
	if err != nil {
		return env, nil, &DecodeError{"bad_payload", err}
	}
	if err := checkRecord(&env, rec); err != nil {
		return env, nil, err
	}
	return env, rec, nil
}
