package bus_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/sink"
	"github.com/chainwatch/chainwatch/schemas"
)

// fakeKafka runs an in-process broker (franz-go kfake) for fast, hermetic tests of the Kafka layer.
func fakeKafka(t *testing.T) bus.Config {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := bus.DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cfg.TopicPrefix = "unit"
	cfg.GroupID = "unit-sink"
	cfg.BatchTimeout = 5 * time.Millisecond
	return cfg
}

// TestProduceConsumeCommit: topics are created, events and rejects go to their topics keyed by id,
// a consumer group reads them all, and after a commit the group's lag is zero.
func TestProduceConsumeCommit(t *testing.T) {
	for _, enc := range []string{bus.EncodingProtobuf, bus.EncodingJSON} {
		t.Run(enc, func(t *testing.T) { testProduceConsumeCommit(t, enc) })
	}
}

func testProduceConsumeCommit(t *testing.T, encoding string) {
	cfg := fakeKafka(t)
	cfg.Encoding = encoding
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, cfg); err != nil { // idempotent
		t.Fatalf("second EnsureTopics: %v", err)
	}
	p := bus.NewProducer(cfg, nil)
	defer p.Close()
	now := time.Now()
	var envs []schemas.Envelope
	for i := 0; i < 300; i++ {
		envs = append(envs, loadgen.Event(i, now))
	}
	if err := p.Emit(ctx, envs...); err != nil {
		t.Fatal(err)
	}
	if err := p.Reject(ctx, schemas.Rejected{RejectID: "r1", Stage: schemas.StageCollect, Source: "x", Reason: "invalid", Detail: "flow: bad", Raw: []byte("a,b")}); err != nil {
		t.Fatal(err)
	}
	r := sink.NewReader(cfg, sink.DefaultConfig(), bus.Topics(cfg.TopicPrefix), nil)
	defer r.Close()
	seen := map[string]int{}    // events by topic
	records := map[string]int{} // records by topic
	byKey := map[string]string{}
	kinds := map[string]schemas.Kind{}
	for _, k := range schemas.Kinds() {
		kinds[k.Topic("unit")] = k
	}
	order := map[int][]string{} // the trade events' ids by partition, as read
	for n := 0; n < 301; {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("after %d: %v", n, err)
		}
		records[m.Topic]++
		if prev, ok := byKey[string(m.Key)]; ok && prev != m.Topic {
			t.Errorf("key %s on two topics", m.Key)
		}
		byKey[string(m.Key)] = m.Topic
		if m.Topic == schemas.DeadLetterTopic("unit") {
			n++
			seen[m.Topic]++
		}
		if f := bus.RecordFormat(m.Headers); m.Topic != schemas.DeadLetterTopic("unit") &&
			(f == bus.FormatProtoPack) != (encoding == bus.EncodingProtobuf) {
			t.Fatalf("%s offset %d: record format %d, kafka.encoding %s", m.Topic, m.Offset, f, encoding)
		}
		for i, env := range recordEvents(t, m, kinds[m.Topic]) {
			n++
			seen[m.Topic]++
			if i == 0 && string(m.Key) != env.EventID {
				t.Errorf("%s offset %d: key %s, first event %s", m.Topic, m.Offset, m.Key, env.EventID)
			}
			if m.Topic == schemas.KindTrade.Topic("unit") {
				order[m.Partition] = append(order[m.Partition], env.EventID)
			}
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if seen[schemas.KindTrade.Topic("unit")] != 100 || seen[schemas.DeadLetterTopic("unit")] != 1 {
		t.Errorf("events per topic: %v", seen)
	}
	// 100 events of a topic in one Emit: packs of kafka.events_per_record (8), then the rest.
	if want := (100 + cfg.EventsPerRecord - 1) / cfg.EventsPerRecord; cfg.EventsPerRecord < 2 ||
		records[schemas.KindTrade.Topic("unit")] != want || records[schemas.DeadLetterTopic("unit")] != 1 {
		t.Errorf("records per topic: %v", records)
	}
	for p, got := range order {
		var want []string // the trade events of p's records, in the order emitted
		for _, e := range envs {
			if slices.Contains(got, e.EventID) {
				want = append(want, e.EventID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("partition %d's events out of their emitted order:\n got %v\nwant %v", p, got, want)
		}
	}
	lag, err := bus.Lag(ctx, cfg, cfg.GroupID, bus.Topics(cfg.TopicPrefix))
	if err != nil {
		t.Fatal(err)
	}
	for topic, n := range lag {
		if n != 0 {
			t.Errorf("lag %s = %d", topic, n)
		}
	}
}

// producerOn creates cfg's topics and returns a producer on them, closed when t ends, and a context
// that ends then too (or after 30 s).
func producerOn(t *testing.T, cfg bus.Config) (context.Context, *bus.Producer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := bus.EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	p := bus.NewProducer(cfg, nil)
	t.Cleanup(func() { p.Close() })
	return ctx, p
}

// recordEvents decodes the events of a kind topic's record, whatever its format (none for the
// dead-letter topic's); every one must be valid.
func recordEvents(t *testing.T, m kafka.Message, kind schemas.Kind) []schemas.Envelope {
	t.Helper()
	if kind == "" {
		return nil
	}
	var out []schemas.Envelope
	for e := range bus.RecordEvents(m, kind) {
		if e.Err != nil {
			t.Fatalf("%s offset %d event %d: %v", m.Topic, m.Offset, e.N, e.Err)
		}
		out = append(out, e.Envelope)
	}
	return out
}

// TestProducerPackLimits: a record holds at most kafka.record_bytes of envelopes (one larger
// envelope gets a record of its own), and kafka.events_per_record 1 writes one event a record (as
// plain JSON with kafka.encoding json), in both encodings.
func TestProducerPackLimits(t *testing.T) {
	for _, tc := range []struct {
		name, encoding  string
		perRecord, size int
	}{{"record_bytes", bus.EncodingProtobuf, 32, 1024}, {"one per record", bus.EncodingProtobuf, 1, 256 << 10},
		{"json record_bytes", bus.EncodingJSON, 64, 2048}, {"json one per record", bus.EncodingJSON, 1, 256 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fakeKafka(t)
			cfg.EventsPerRecord, cfg.RecordBytes, cfg.Encoding = tc.perRecord, tc.size, tc.encoding
			ctx, p := producerOn(t, cfg)
			var envs []schemas.Envelope
			for i := 0; i < 60; i++ {
				envs = append(envs, loadgen.Event(3*i, time.Now())) // every third loadgen event: one kind
			}
			if err := p.Emit(ctx, envs...); err != nil {
				t.Fatal(err)
			}
			r := sink.NewReader(cfg, sink.DefaultConfig(), []string{envs[0].Kind.Topic("unit")}, nil)
			defer r.Close()
			records, maxSize, maxEvents := 0, 0, 0
			for n := 0; n < len(envs); {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					t.Fatalf("after %d events: %v", n, err)
				}
				records++
				events := len(recordEvents(t, m, envs[0].Kind))
				if packed := bus.RecordFormat(m.Headers) == bus.FormatJSONLines; tc.encoding == bus.EncodingJSON && (events > 1) != packed {
					t.Fatalf("a JSON record of %d events, packed: %v", events, packed)
				}
				n += events
				maxSize, maxEvents = max(maxSize, len(m.Value)), max(maxEvents, events)
			}
			switch {
			case tc.perRecord == 1 && (records != len(envs) || maxEvents != 1):
				t.Errorf("events_per_record 1: %d records, up to %d events each", records, maxEvents)
			case tc.perRecord > 1 && (maxSize > tc.size || maxEvents < 2 || records < 2):
				t.Errorf("record_bytes %d: %d records, up to %d bytes and %d events each", tc.size, records, maxSize, maxEvents)
			}
		})
	}
}

// An envelope whose payload does not decode (a producer's bug) cannot be written as protobuf: it
// goes as JSON in a record of its own, for the sink to reject with its reason, and the other
// events of the Emit go in their pack as usual.
func TestProducerSendsUndecodablePayloadAsJSON(t *testing.T) {
	cfg := fakeKafka(t)
	ctx, p := producerOn(t, cfg)
	good := loadgen.Event(0, time.Now())
	bad := good
	bad.Payload = []byte(`{"reporter_m49":"not a number"}`)
	if err := p.Emit(ctx, good, bad, loadgen.Event(3, time.Now())); err != nil {
		t.Fatal(err)
	}
	r := sink.NewReader(cfg, sink.DefaultConfig(), []string{good.Kind.Topic("unit")}, nil)
	defer r.Close()
	var packed, plain int
	for n := 0; n < 3; {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch bus.RecordFormat(m.Headers) {
		case bus.FormatProtoPack:
			packed++
			n += len(recordEvents(t, m, good.Kind))
		case bus.FormatJSON:
			plain++
			n++
			_, _, err := schemas.Decode(m.Value, good.Kind)
			var de *schemas.DecodeError
			if !errors.As(err, &de) || de.Reason != "bad_payload" {
				t.Fatalf("the undecodable event: %v, want a bad_payload reject", err)
			}
		default:
			t.Fatalf("a record of format %d", bus.RecordFormat(m.Headers))
		}
	}
	if plain != 1 || packed < 1 {
		t.Fatalf("%d protobuf records, %d plain JSON records; want the bad event alone as JSON", packed, plain)
	}
}
