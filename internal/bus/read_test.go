package bus_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/schemas"
)

// RecordEvents yields what the sink would store or reject of each format, and a record with no
// event still yields one rejected event.
func TestRecordEvents(t *testing.T) {
	good := loadgen.Event(0, time.Now())
	proto, err := schemas.AppendProtoEvent(nil, &good, mustRecord(t, good))
	if err != nil {
		t.Fatal(err)
	}
	// proto is one framed event of a pack (AppendProtoEvent); a pack is such events in a row
	packOf := func(events ...[]byte) []byte { return slices.Concat(events...) }
	notAnEnvelope := []byte{0x0a, 3, 'a', 'b', 'c'} // an event whose bytes are not an Envelope
	line := loadgen.Encode(good)
	for _, tc := range []struct {
		name    string
		m       kafka.Message
		want    []int    // each event's N
		reasons []string // each event's reason ("" stored)
	}{
		{"json", kafka.Message{Value: line}, []int{0}, []string{""}},
		{"json bad", kafka.Message{Value: line[:20]}, []int{0}, []string{"bad_json"}},
		{"json lines", kafka.Message{Headers: bus.PackedHeaders(), Value: slices.Concat(line, []byte("\n\nnot json\n"), line)},
			[]int{1, 3, 4}, []string{"", "bad_json", ""}},
		{"json lines without a line", kafka.Message{Headers: bus.PackedHeaders(), Value: []byte("\n \n")}, []int{0}, []string{"bad_json"}},
		{"protobuf", kafka.Message{Headers: bus.ProtoPackHeaders(), Value: packOf(proto, notAnEnvelope, proto)},
			[]int{1, 2, 3}, []string{"", "bad_protobuf", ""}},
		{"protobuf broken frame", kafka.Message{Headers: bus.ProtoPackHeaders(), Value: append(packOf(proto), 0xff)},
			[]int{1, 2}, []string{"", "bad_protobuf"}},
		{"protobuf without events", kafka.Message{Headers: bus.ProtoPackHeaders()}, []int{0}, []string{"bad_protobuf"}},
		{"protobuf of another kind", kafka.Message{Headers: bus.ProtoPackHeaders(), Value: packOf(proto)}, []int{1}, []string{"kind_mismatch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind := good.Kind
			if tc.name == "protobuf of another kind" {
				kind = schemas.KindAvailability
			}
			var ns []int
			var reasons []string
			for e := range bus.RecordEvents(tc.m, kind) {
				ns = append(ns, e.N)
				r := ""
				var de *schemas.DecodeError
				switch {
				case errors.As(e.Err, &de):
					r = de.Reason
				case e.Err != nil:
					t.Fatalf("event %d: %v is not a DecodeError", e.N, e.Err)
				case e.Envelope.EventID != good.EventID || e.Record == nil:
					t.Fatalf("event %d: %+v, want the good event", e.N, e.Envelope)
				}
				reasons = append(reasons, r)
			}
			if !slices.Equal(ns, tc.want) || !slices.Equal(reasons, tc.reasons) {
				t.Fatalf("events %v reasons %q, want %v %q", ns, reasons, tc.want, tc.reasons)
			}
		})
	}
}

func mustRecord(t *testing.T, env schemas.Envelope) schemas.Record {
	t.Helper()
	rec, err := schemas.RecordOf(&env)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// Read reads every partition to the end it found, or the last records of each with Tail, and with
// Follow goes on with records produced after it started, until its context ends.
func TestRead(t *testing.T) {
	cfg := fakeKafka(t)
	cfg.EventsPerRecord = 1
	ctx, p := producerOn(t, cfg)
	var envs []schemas.Envelope
	for i := range 30 {
		envs = append(envs, loadgen.Event(3*i, time.Now())) // trade events only
	}
	if err := p.Emit(ctx, envs...); err != nil {
		t.Fatal(err)
	}
	topic := schemas.KindTrade.Topic(cfg.TopicPrefix)
	read := func(opt bus.ReadOptions) (ids []string, lastOf map[int]int64) {
		lastOf = map[int]int64{}
		err := bus.Read(ctx, cfg, []string{topic}, opt, func(m kafka.Message) error {
			if o, ok := lastOf[m.Partition]; ok && m.Offset != o+1 {
				t.Errorf("partition %d: offset %d after %d", m.Partition, m.Offset, o)
			}
			lastOf[m.Partition] = m.Offset
			for _, env := range recordEvents(t, m, schemas.KindTrade) {
				ids = append(ids, env.EventID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, lastOf
	}
	all, lastOf := read(bus.ReadOptions{})
	want := make([]string, 0, len(envs))
	for _, e := range envs {
		want = append(want, e.EventID)
	}
	if !sameSet(all, want) {
		t.Fatalf("read %d events, want the %d produced, each once", len(all), len(want))
	}
	if len(lastOf) < 2 {
		t.Fatalf("the events went to %d partitions; the test wants several", len(lastOf))
	}
	tail, tailLast := read(bus.ReadOptions{Tail: 1})
	if len(tail) != len(lastOf) || !maps.Equal(tailLast, lastOf) {
		t.Fatalf("--tail 1 read %d events ending at %v, want one per partition ending at %v", len(tail), tailLast, lastOf)
	}

	// Follow: what is there, then an event produced while it reads, then it stops with its context.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var seen []string
	late := loadgen.Event(3*1000, time.Now())
	done := make(chan error, 1)
	go func() {
		done <- bus.Read(fctx, cfg, []string{topic}, bus.ReadOptions{Follow: true}, func(m kafka.Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, env := range recordEvents(t, m, schemas.KindTrade) {
				seen = append(seen, env.EventID)
			}
			return nil
		})
	}()
	has := func(n int, id string) bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n && (id == "" || slices.Contains(seen, id))
	}
	waitFor(t, func() bool { return has(len(envs), "") })
	if err := p.Emit(ctx, late); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return has(len(envs)+1, late.EventID) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Read with Follow, after its context ended: %v", err)
	}

	// fn's error ends the read and is returned
	stop := errors.New("stop")
	if err := bus.Read(ctx, cfg, []string{topic}, bus.ReadOptions{}, func(kafka.Message) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Read returned %v, want fn's error", err)
	}
	if err := bus.Read(ctx, cfg, []string{"unit.no-such-topic"}, bus.ReadOptions{}, func(kafka.Message) error { return nil }); err == nil {
		t.Fatal("Read of a topic that does not exist: no error")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
