package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/schemas"
)

// recordsEnv is a config on an in-process broker (franz-go kfake) with the topics created.
func recordsEnv(t *testing.T) (context.Context, config.Config) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := config.Default()
	cfg.Kafka.Brokers, cfg.Kafka.TopicPrefix, cfg.Kafka.BatchTimeout = c.ListenAddrs(), "unit", 5*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	if err := bus.EnsureTopics(ctx, cfg.Kafka); err != nil {
		t.Fatal(err)
	}
	return ctx, cfg
}

// emitWith produces envs with the producer of cfg set to encoding.
func emitWith(t *testing.T, ctx context.Context, cfg config.Config, encoding string, envs []schemas.Envelope) {
	t.Helper()
	cfg.Kafka.Encoding = encoding
	p := bus.NewProducer(cfg.Kafka, nil)
	defer p.Close()
	if err := p.Emit(ctx, envs...); err != nil {
		t.Fatal(err)
	}
}

// records runs `chainwatch records args` and returns its lines.
func records(t *testing.T, ctx context.Context, cfg config.Config, args ...string) []recordLine {
	t.Helper()
	var out bytes.Buffer
	if err := Command(ctx, "records", Invocation{Args: args, Config: cfg, Stdout: &out, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatalf("records %v: %v", args, err)
	}
	return parseRecordLines(t, out.Bytes())
}

func parseRecordLines(t *testing.T, b []byte) []recordLine {
	t.Helper()
	var lines []recordLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l recordLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// `chainwatch records` prints every event of every encoding once, each envelope exactly as the
// JSON encoding writes it (so the output is the topics in JSON Lines), the events the sink would
// reject with the sink's reason and their bytes, and dead-letter records; --tail, --max and kinds
// narrow it, --follow goes on with new records.
func TestRecordsCommand(t *testing.T) {
	ctx, cfg := recordsEnv(t)
	var envs []schemas.Envelope
	for i := range 45 {
		envs = append(envs, loadgen.Event(i, time.Now()))
	}
	emitWith(t, ctx, cfg, bus.EncodingProtobuf, envs[:30])
	emitWith(t, ctx, cfg, bus.EncodingJSON, envs[30:])
	// a tampered JSON event, a protobuf pack whose second event is not an Envelope, a reject
	tampered := loadgen.Bad(7, time.Now(), nil)
	good := loadgen.Event(1000*3, time.Now())
	rec, err := schemas.RecordOf(&good)
	if err != nil {
		t.Fatal(err)
	}
	pack, err := schemas.AppendProtoEvent(nil, &good, rec)
	if err != nil {
		t.Fatal(err)
	}
	pack = append(pack, 0x0a, 3, 'a', 'b', 'c')
	cfg.Kafka.Encoding = bus.EncodingProtobuf
	p := bus.NewProducer(cfg.Kafka, nil)
	defer p.Close()
	trade := schemas.KindTrade.Topic("unit")
	if err := p.WriteRaw(ctx, kafka.Message{Topic: trade, Value: tampered.Value},
		kafka.Message{Topic: trade, Value: pack, Headers: bus.ProtoPackHeaders()}); err != nil {
		t.Fatal(err)
	}
	reject := schemas.Rejected{RejectID: "r1", Stage: schemas.StageCollect, Source: "unit", Reason: "bad_row",
		Detail: "a row the collector rejected", Raw: []byte("x,y"), ReceivedAt: time.Now().UTC().Truncate(time.Second)}
	if err := p.Reject(ctx, reject); err != nil {
		t.Fatal(err)
	}

	lines := records(t, ctx, cfg)
	wantJSON := map[string]string{} // event id → the envelope as the JSON encoding writes it
	for _, e := range append(slices.Clone(envs), good) {
		wantJSON[e.EventID] = string(loadgen.Encode(e))
	}
	formats := map[string]int{}
	var bad []recordLine
	var rejected []*schemas.Rejected
	for _, l := range lines {
		formats[l.Format]++
		switch {
		case l.Rejected != nil:
			rejected = append(rejected, l.Rejected)
		case l.Reason != "":
			bad = append(bad, l)
		default:
			got, err := json.Marshal(l.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := wantJSON[l.Envelope.EventID]
			if !ok {
				t.Fatalf("%s/%d/%d event %d: %s was not produced, or printed twice", l.Topic, l.Partition, l.Offset, l.Event, got)
			}
			if string(got) != want {
				t.Errorf("%s/%d/%d event %d (%s):\n got %s\nwant %s", l.Topic, l.Partition, l.Offset, l.Event, l.Format, got, want)
			}
			if l.Topic != l.Envelope.Kind.Topic("unit") {
				t.Errorf("a %s event on %s", l.Envelope.Kind, l.Topic)
			}
			delete(wantJSON, l.Envelope.EventID)
		}
	}
	if len(wantJSON) > 0 {
		t.Errorf("%d produced events not printed", len(wantJSON))
	}
	if len(bad) != 2 || bad[0].Reason != tampered.Reason || bad[0].Event != 0 || !bytes.Equal(bad[0].Raw, tampered.Value) ||
		bad[1].Reason != "bad_protobuf" || bad[1].Event != 2 || bad[1].Format != "protobuf" || string(bad[1].Raw) != "abc" {
		t.Errorf("the events the sink would reject: %+v", bad)
	}
	if len(rejected) != 1 || rejected[0].RejectID != reject.RejectID || rejected[0].Reason != reject.Reason ||
		!bytes.Equal(rejected[0].Raw, reject.Raw) {
		t.Errorf("dead-letter lines: %+v, want the reject", rejected)
	}
	if formats["protobuf"] < 31 || formats["json_lines"] == 0 || formats["json"] < 2 {
		t.Errorf("formats printed: %v, want protobuf packs, JSON Lines packs and JSON records", formats)
	}

	// kinds, --tail, --max
	tradeLines := records(t, ctx, cfg, string(schemas.KindTrade))
	lastOf := map[int]int64{}
	for _, l := range tradeLines {
		if l.Topic != trade {
			t.Fatalf("records trade_flow printed a line of %s", l.Topic)
		}
		lastOf[l.Partition] = max(lastOf[l.Partition], l.Offset)
	}
	tail := records(t, ctx, cfg, "--tail", "1", string(schemas.KindTrade))
	for _, l := range tail {
		if l.Offset != lastOf[l.Partition] {
			t.Errorf("--tail 1 printed %s/%d/%d, not the partition's last record (%d)", l.Topic, l.Partition, l.Offset, lastOf[l.Partition])
		}
	}
	if len(tail) == 0 || len(tail) >= len(tradeLines) {
		t.Errorf("--tail 1 printed %d of the topic's %d lines", len(tail), len(tradeLines))
	}
	if got := records(t, ctx, cfg, "--max", "5"); len(got) != 5 {
		t.Errorf("--max 5 printed %d lines", len(got))
	}
	// docs/operations.md: records deadletter | jq 'select(.rejected.reason == "bad_row")'
	var dl bytes.Buffer
	if err := Command(ctx, "records", Invocation{Args: []string{"deadletter"}, Config: cfg, Stdout: &dl, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	var generic struct {
		Rejected struct {
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	if err := json.Unmarshal(dl.Bytes(), &generic); err != nil || generic.Rejected.Reason != "bad_row" {
		t.Errorf("records deadletter printed %s (%v), want one line with .rejected.reason bad_row", dl.Bytes(), err)
	}
	for _, args := range [][]string{{"no_such_kind"}, {"--tail", "-1"}, {"--bogus"}} {
		if err := Command(ctx, "records", Invocation{Args: args, Config: cfg, Stdout: &bytes.Buffer{}, Log: slog.New(slog.DiscardHandler)}); err == nil {
			t.Errorf("records %v: no error", args)
		}
	}

	// --follow: an event produced after the start is printed; the command ends with its context
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Command(fctx, "records", Invocation{Args: []string{"--follow", "trade", "supply_link"}, Config: cfg, Stdout: out, Log: slog.New(slog.DiscardHandler)})
	}()
	late := loadgen.Event(3*1000+2, time.Now()) // a supply link
	if late.Kind != schemas.KindSupplyLink {
		t.Fatalf("loadgen event is a %s", late.Kind)
	}
	time.Sleep(200 * time.Millisecond)
	emitWith(t, ctx, cfg, bus.EncodingProtobuf, []schemas.Envelope{late})
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), late.EventID); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("--follow did not print the event produced after it started; printed:\n%s", out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("records --follow, after its context ended: %v", err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
