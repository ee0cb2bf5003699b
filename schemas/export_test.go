package schemas

import (
	"fmt"
	"reflect"
	"strings"
)

// Hooks for the external tests of the fast decoder (fastjson_test.go).
var (
	DecodeReflective   = func(v []byte, k Kind) (Envelope, Record, error) { return decode(v, k, false, false) }
	DecodeEnvelopeFast = decodeEnvelopeFast
	DecodePayloadFast  = decodePayloadFast
	// FastFieldKeys lists the keys of kind's fast setters, in their order.
	FastFieldKeys = func(k Kind) []string {
		var out []string
		for _, f := range fastFields[k].fields {
			out = append(out, f.name)
		}
		return out
	}
	// FastFieldsNew is an empty record from kind's fast setters' fieldSet.
	FastFieldsNew = func(k Kind) Record { return fastFields[k].new() }
)

// ProtoFile is schemas/proto/chainwatch/v1/events.proto as the field lists of fastfields.go and
// protoPayloads make it (TestProtoFileMatchesFields).
func ProtoFile() string {
	var b strings.Builder
	b.WriteString(`// Code generated from schemas/fastfields.go and schemas/protobuf.go by
// go test ./schemas -run TestProtoFileMatchesFields -update; DO NOT EDIT.
//
// chainwatch's events in protobuf: a Kafka record with the header
// content-type: ` + ProtoPackContentType + `
// holds a Pack, the events of its topic's kind (docs/operations.md, "Kafka records").
// Field numbers never change; a new field gets the next number.
syntax = "proto3";

package chainwatch.v1;

import "google/protobuf/timestamp.proto";

message Pack {
  repeated Envelope events = 1;
}

message Envelope {
  int32 schema_version = 1;
  string event_id = 2;
  string source = 3;
  string kind = 4;
  google.protobuf.Timestamp occurred_at = 5;
  google.protobuf.Timestamp ingested_at = 6;
  // the payload, named as the event's kind
  oneof payload {
`)
	for _, p := range protoPayloads {
		fmt.Fprintf(&b, "    %s %s = %d;\n", protoMessage(p.kind), p.name, p.num)
	}
	b.WriteString("  }\n}\n")
	for _, p := range protoPayloads {
		fmt.Fprintf(&b, "\nmessage %s {\n", protoMessage(p.kind))
		for i, f := range fastFields[p.kind].fields {
			fmt.Fprintf(&b, "  %s %s = %d;\n", f.c.pb.typ, f.name, i+1)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func protoMessage(k Kind) string { return reflect.TypeOf(fastFields[k].new()).Elem().Name() }

// ProtoKinds are the kinds with a payload message, in the .proto's order.
func ProtoKinds() []Kind {
	var out []Kind
	for _, p := range protoPayloads {
		out = append(out, p.kind)
	}
	return out
}

// Update is the -update flag (schemas_test.go): rewrite the generated files.
func Update() bool { return *update }
