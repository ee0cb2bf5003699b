package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/schemas"
)

const prefix = "t"

type fakeFetcher struct {
	mu          sync.Mutex
	msgs        chan kafka.Message
	committed   map[string]int64 // "topic/partition" -> highest committed offset
	failCommits int
}

func newFetcher() *fakeFetcher {
	return &fakeFetcher{msgs: make(chan kafka.Message, 100000), committed: map[string]int64{}}
}

func (f *fakeFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	select {
	case m := <-f.msgs:
		return m, nil
	case <-ctx.Done():
		return kafka.Message{}, ctx.Err()
	}
}

func (f *fakeFetcher) CommitMessages(_ context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failCommits > 0 {
		f.failCommits--
		return errors.New("commit: coordinator not available")
	}
	for _, m := range msgs {
		k := m.Topic + "/" + string(rune('0'+m.Partition))
		if m.Offset > f.committed[k] {
			f.committed[k] = m.Offset
		}
	}
	return nil
}

func (f *fakeFetcher) commits() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int64{}
	for k, v := range f.committed {
		out[k] = v
	}
	return out
}

type fakeStore struct {
	mu    sync.Mutex
	down  bool
	rows  map[string]int
	calls int
}

func (s *fakeStore) Insert(_ context.Context, sql string, cols *schemas.Columns) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down {
		return errors.New("dial tcp: connection refused")
	}
	if s.rows == nil {
		s.rows = map[string]int{}
	}
	s.rows[sql] += cols.Len()
	return nil
}

func (s *fakeStore) set(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }
func (s *fakeStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.rows {
		n += v
	}
	return n
}

type fakeDLQ struct {
	mu  sync.Mutex
	got []schemas.Rejected
}

func (d *fakeDLQ) Reject(_ context.Context, rs ...schemas.Rejected) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, rs...)
	return nil
}

func cfg() Config {
	c := DefaultConfig()
	c.BatchRows = 100
	c.FlushInterval = 20 * time.Millisecond
	c.RetryMin = 5 * time.Millisecond
	c.RetryMax = 20 * time.Millisecond
	c.ShutdownWait = time.Second
	return c
}

func msg(i int) kafka.Message {
	env := loadgen.Event(i, time.Unix(1_700_000_000, 0))
	return kafka.Message{Topic: env.Kind.Topic(prefix), Partition: i % 2, Offset: int64(i), Value: loadgen.Encode(env)}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSinkBatchesRejectsAndCommits(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{}, &fakeDLQ{}
	reg := prometheus.NewRegistry()
	s := New(cfg(), prefix, f, st, dlq, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 0; i < 250; i++ {
		f.msgs <- msg(i)
	}
	bad := kafka.Message{Topic: schemas.KindTrade.Topic(prefix), Partition: 1, Offset: 1001, Value: []byte("{nope")}
	f.msgs <- bad
	dead := kafka.Message{Topic: schemas.DeadLetterTopic(prefix), Partition: 0, Offset: 7, Value: []byte("not json")}
	f.msgs <- dead
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "all rows stored", func() bool { return st.total() == 251 }) // 250 events + 1 rejected row
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(dlq.got) != 1 || dlq.got[0].Reason != "bad_json" || dlq.got[0].RejectID != schemas.SinkRejectID(bad.Topic, 1, 1001) || string(dlq.got[0].Raw) != "{nope" {
		t.Errorf("dead-letter: %+v", dlq.got)
	}
	c := f.commits()
	if c[bad.Topic+"/1"] != 1001 || c[dead.Topic+"/0"] != 7 {
		t.Errorf("commits: %v", c)
	}
	if got := testutil.ToFloat64(s.m.rejected.WithLabelValues("bad_json")); got != 1 {
		t.Errorf("rejected metric = %v", got)
	}
	if got := testutil.ToFloat64(s.m.inserted.WithLabelValues(schemas.RejectedTable)); got != 1 {
		t.Errorf("rejected table rows metric = %v", got)
	}
}

// While the store is down nothing is committed; when it returns, the held batch is stored and committed.
func TestSinkHoldsBatchWhileStoreDown(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{down: true}, &fakeDLQ{}
	s := New(cfg(), prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 0; i < 50; i++ {
		f.msgs <- msg(i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "retries", func() bool { st.mu.Lock(); defer st.mu.Unlock(); return st.calls >= 5 })
	if len(f.commits()) != 0 {
		t.Fatalf("committed while the store was down: %v", f.commits())
	}
	f.mu.Lock()
	f.failCommits = 2 // the commit also fails twice before it goes through
	f.mu.Unlock()
	st.set(false)
	waitFor(t, "stored", func() bool { return st.total() == 50 })
	want := map[string]int64{}
	for i := 0; i < 50; i++ {
		m := msg(i)
		want[m.Topic+"/"+string(rune('0'+m.Partition))] = m.Offset
	}
	waitFor(t, "committed", func() bool { return fmt.Sprint(f.commits()) == fmt.Sprint(want) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Shutdown while the store is down: Run gives up after shutdown_wait, reports the unflushed records,
// and commits nothing (they are redelivered).
func TestSinkShutdownWithUnflushedBatch(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{down: true}, &fakeDLQ{}
	c := cfg()
	c.ShutdownWait = 100 * time.Millisecond
	s := New(c, prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 0; i < 10; i++ {
		f.msgs <- msg(i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "attempts", func() bool { st.mu.Lock(); defer st.mu.Unlock(); return st.calls >= 2 })
	cancel()
	err := <-done
	if err == nil {
		t.Fatal("want an error naming the unflushed records")
	}
	if len(f.commits()) != 0 {
		t.Fatalf("committed unflushed records: %v", f.commits())
	}
}

func BenchmarkSinkDecodeAndBatch(b *testing.B) {
	msgs := make([]kafka.Message, 10000)
	for i := range msgs {
		msgs[i] = msg(i)
	}
	s := New(cfg(), prefix, newFetcher(), &fakeStore{}, &fakeDLQ{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.add(msgs[i%len(msgs)])
		if s.b.n == len(msgs) {
			s.b.reset()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSinkDecodeAndBatchPacked is BenchmarkSinkDecodeAndBatch over packed records of 8
// events (kafka.events_per_record's default): one op is one event.
func BenchmarkSinkDecodeAndBatchPacked(b *testing.B) {
	const per = 8
	var msgs []kafka.Message
	for i := 0; i < 10000; i += 3 * per { // every third loadgen event is a trade event: one topic
		m := kafka.Message{Topic: schemas.KindTrade.Topic(prefix), Offset: int64(i),
			Headers: bus.PackedHeaders()}
		for j := 0; j < per; j++ {
			if j > 0 {
				m.Value = append(m.Value, '\n')
			}
			m.Value = append(m.Value, msg(i+3*j).Value...)
		}
		msgs = append(msgs, m)
	}
	benchDecodePacks(b, msgs, per)
}

// benchDecodePacks decodes and batches msgs, packs of per events each, over and over: one op is
// one event.
func benchDecodePacks(b *testing.B, msgs []kafka.Message, per int) {
	s := New(cfg(), prefix, newFetcher(), &fakeStore{}, &fakeDLQ{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.ReportAllocs()
	b.ResetTimer()
	var slot []event // a chunk slot's pack, reused as the decode pipe does
	for i := 0; i < b.N; i += per {
		d := s.decode(msgs[(i/per)%len(msgs)], slot)
		if d.pack == nil || d.pack[0].reject != nil {
			b.Fatalf("not decoded: %+v", d)
		}
		s.apply(d)
		slot = recycled(d.pack)
		if s.b.n >= 10000 {
			s.b.reset()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSinkDecodeAndBatchProto is BenchmarkSinkDecodeAndBatchPacked over protobuf packs of
// the same events (kafka.encoding's default): one op is one event.
func BenchmarkSinkDecodeAndBatchProto(b *testing.B) {
	const per = 8
	var msgs []kafka.Message
	for i := 0; i < 10000; i += 3 * per { // every third loadgen event is a trade event: one topic
		var is []int
		for j := 0; j < per; j++ {
			is = append(is, i+3*j)
		}
		msgs = append(msgs, kafka.Message{Topic: schemas.KindTrade.Topic(prefix), Offset: int64(i),
			Headers: bus.ProtoPackHeaders(), Value: protoPack(b, time.Unix(1_700_000_000, 0), is...)})
	}
	benchDecodePacks(b, msgs, per)
}

// The consumer-group timeouts come from config: after a kill -9 the partitions move after
// kafka.session_timeout, not kafka-go's 30 s default.
func TestReaderUsesGroupTimeouts(t *testing.T) {
	kc := bus.DefaultConfig()
	kc.SessionTimeout = 7 * time.Second
	sc := DefaultConfig()
	sc.FetchMaxBytes, sc.QueueCapacity, sc.FetchMaxWait = 3<<20, 777, 90*time.Millisecond
	r := NewReader(kc, sc, []string{"t.trade.v1"}, nil)
	defer r.Close()
	c := r.Config()
	if c.SessionTimeout != 7*time.Second || c.RebalanceTimeout != 7*time.Second || c.HeartbeatInterval != 1400*time.Millisecond || c.CommitInterval != 0 {
		t.Fatalf("reader config: session %s rebalance %s heartbeat %s commit %s", c.SessionTimeout, c.RebalanceTimeout, c.HeartbeatInterval, c.CommitInterval)
	}
	// the consumer's memory comes from sink config: per-partition fetch size and the queue
	if c.MaxBytes != 3<<20 || c.QueueCapacity != 777 || c.MaxWait != 90*time.Millisecond {
		t.Fatalf("reader config: max bytes %d queue %d max wait %s", c.MaxBytes, c.QueueCapacity, c.MaxWait)
	}
}

// OnStored reports every batch with its stored kinds and whether the sink is behind (a backlog
// being drained): 250 queued records with batch_rows 100 make two full batches and a partial one,
// each reporting its availability rows first and then its other kinds; then a partial batch of
// one availability record whose partition's high-water mark is 500 records ahead is behind too
// (one call: nothing else is left to report). Counts in = stored.
func TestSinkOnStoredReportsFullBatches(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{}, &fakeDLQ{}
	c := cfg()
	c.FlushInterval = 200 * time.Millisecond
	s := New(c, prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var mu sync.Mutex
	var calls []string
	var records int
	s.OnStored(func(kinds []schemas.Kind, behind bool) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, fmt.Sprint(kinds, behind))
		if len(kinds) == 0 {
			t.Errorf("batch with events reported no kinds")
		}
	})
	for i := 0; i < 250; i++ {
		f.msgs <- msg(i)
		records++
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "three batches", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 6 })
	m := msg(1000) // availability
	m.HighWaterMark = m.Offset + 501
	f.msgs <- m
	records++
	waitFor(t, "four batches", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 7 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{
		"[availability] true", "[supply_link trade] true",
		"[availability] true", "[supply_link trade] true",
		"[availability] false", "[supply_link trade] false",
		"[availability] true",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
	if st.total()+len(dlq.got) != records || len(dlq.got) != 0 {
		t.Errorf("in %d, stored %d, rejected %d", records, st.total(), len(dlq.got))
	}
}

// A batch holding availability rows is flushed urgent_flush after the first of them, not at
// flush_interval; a batch of trade rows only waits for flush_interval. Counts in = stored.
func TestSinkFlushesAvailabilityUrgently(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{}, &fakeDLQ{}
	c := cfg()
	c.FlushInterval, c.UrgentFlush = time.Minute, 20*time.Millisecond
	s := New(c, prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	stored := make(chan []schemas.Kind, 4)
	var tradeAtFirst []int // trade rows stored when the availability rows were reported
	s.OnStored(func(kinds []schemas.Kind, _ bool) {
		if slices.Contains(kinds, schemas.KindAvailability) {
			spec, _ := schemas.Lookup(schemas.KindTrade)
			st.mu.Lock()
			tradeAtFirst = append(tradeAtFirst, st.rows[spec.InsertSQL()])
			st.mu.Unlock()
		}
		stored <- kinds
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	f.msgs <- msg(0) // trade
	select {
	case k := <-stored:
		t.Fatalf("trade-only batch flushed before flush_interval: %v", k)
	case <-time.After(300 * time.Millisecond):
	}
	f.msgs <- msg(1) // availability
	// the availability rows are reported as soon as they are stored, before the trade rows
	for _, want := range [][]schemas.Kind{{schemas.KindAvailability}, {schemas.KindTrade}} {
		select {
		case k := <-stored:
			if fmt.Sprint(k) != fmt.Sprint(want) {
				t.Errorf("stored kinds %v, want %v", k, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("batch with availability rows not flushed within 5 s (flush_interval 1 min)")
		}
	}
	if fmt.Sprint(tradeAtFirst) != "[0]" {
		t.Errorf("trade rows stored when the availability rows were reported: %v, want [0]", tradeAtFirst)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st.total() != 2 || len(dlq.got) != 0 {
		t.Errorf("in 2, stored %d, rejected %d", st.total(), len(dlq.got))
	}
}

// A kind absent from a committed batch gives its column memory back; a kind in it keeps its capacity.
func TestSinkReleasesColumnsOfAbsentKinds(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{}, &fakeDLQ{}
	s := New(cfg(), prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b := s.b
	for i := 0; i < 30; i++ {
		s.add(msg(3 * i))   // trade
		s.add(msg(3*i + 1)) // availability
	}
	if err := s.flush(context.Background(), b, false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		s.add(msg(3 * i)) // trade only
	}
	if err := s.flush(context.Background(), b, false); err != nil {
		t.Fatal(err)
	}
	if c := b.rows[schemas.KindAvailability].Cap(); c != 0 {
		t.Errorf("availability columns hold capacity %d after a batch without availability", c)
	}
	if c := b.rows[schemas.KindTrade].Cap(); c < 30 {
		t.Errorf("trade columns capacity %d, want kept (>= 30)", c)
	}
	if st.total() != 90 || len(dlq.got) != 0 {
		t.Errorf("in 90, stored %d, rejected %d", st.total(), len(dlq.got))
	}
}

type orderStore struct {
	mu  sync.Mutex
	ids map[string][]string // insert SQL → event ids (column 0), in insert order
}

func (s *orderStore) Insert(_ context.Context, sql string, cols *schemas.Columns) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids[sql] = append(s.ids[sql], cols.Column(0).([]string)...)
	return nil
}

func (s *orderStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.ids {
		n += len(v)
	}
	return n
}

// With 1 and with 4 decoders every record is stored once, in fetch order within each table, a bad
// record among them is rejected in place, and the commits cover every partition: counts in = stored
// + rejected.
func TestSinkDecodersKeepOrder(t *testing.T) {
	for _, decoders := range []int{1, 4} {
		t.Run(fmt.Sprint(decoders), func(t *testing.T) {
			f, st, dlq := newFetcher(), &orderStore{ids: map[string][]string{}}, &fakeDLQ{}
			c := cfg()
			c.Decoders, c.BatchRows = decoders, 37
			s := New(c, prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			want := map[string][]string{}
			const n = 1000
			for i := 0; i < n; i++ {
				m := msg(i)
				if i == 500 {
					m.Value = []byte("{bad")
				} else {
					env := loadgen.Event(i, time.Unix(1_700_000_000, 0))
					spec, _ := schemas.Lookup(env.Kind)
					want[spec.InsertSQL()] = append(want[spec.InsertSQL()], env.EventID)
				}
				f.msgs <- m
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- s.Run(ctx) }()
			waitFor(t, "all stored", func() bool { return st.total() == n-1 })
			waitFor(t, "committed", func() bool { c := f.commits(); return c[msg(998).Topic+"/0"] == 998 && c[msg(999).Topic+"/1"] == 999 })
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			stored := st.total()
			st.mu.Lock()
			defer st.mu.Unlock()
			for sql, ids := range want {
				if fmt.Sprint(st.ids[sql]) != fmt.Sprint(ids) {
					t.Errorf("%.40s: stored ids out of order or missing (%d stored, %d sent)", sql, len(st.ids[sql]), len(ids))
				}
			}
			if len(dlq.got) != 1 || dlq.got[0].Offset != 500 || stored+len(dlq.got) != n {
				t.Errorf("in %d, stored %d, rejected %d (%+v)", n, stored, len(dlq.got), dlq.got)
			}
		})
	}
}

// add decodes m into the batch as the collecting goroutine does (decode, then apply); it returns the
// record's kind (empty for rejects and dead letters).
func (s *Sink) add(m kafka.Message) schemas.Kind { return s.apply(s.decode(m, nil)) }

// urgentFirst puts availability before every other kind, whatever their names, and the rest by
// name (today "availability" also sorts first by name: the order must not hang on that).
func TestUrgentFirst(t *testing.T) {
	kinds := []schemas.Kind{schemas.KindTrade, "aardvark", schemas.KindAvailability, schemas.KindSupplyLink, schemas.KindProcurement}
	slices.SortFunc(kinds, urgentFirst)
	if got := fmt.Sprint(kinds); got != "[availability aardvark procurement supply_link trade]" {
		t.Errorf("order %s", got)
	}
}

// TestSinkPackedRecords: a packed record's events are rows of their own; a bad line is rejected on
// its own (id topic/partition/offset/line, its line as raw bytes) and the pack's other events are
// stored; blank lines are no events; events in = stored + rejected, and records are counted apart.
func TestSinkPackedRecords(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{}, &fakeDLQ{}
	s := New(cfg(), prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	topic := schemas.KindTrade.Topic(prefix)
	var value []byte
	for i := 0; i < 5; i++ {
		env := loadgen.Event(3*i, time.Unix(1_700_000_000, 0))
		if env.Kind != schemas.KindTrade {
			t.Fatalf("loadgen event %d is %s", 3*i, env.Kind)
		}
		value = append(append(value, loadgen.Encode(env)...), '\n')
		if i == 2 {
			value = append(value, "{\"schema_version\":1,\"nope\r\n\r\n"...) // line 4: bad; line 5: blank
		}
	}
	packed := []kafka.Header{{Key: "Content-Type", Value: []byte(schemas.PackedContentType)}}
	f.msgs <- kafka.Message{Topic: topic, Partition: 0, Offset: 10, Value: value, Headers: packed}
	f.msgs <- msg(30) // a plain record after it
	f.msgs <- kafka.Message{Topic: topic, Partition: 1, Offset: 4, Value: []byte("\n \n"), Headers: packed}
	runUntilCommitted(t, s, f, 2)
	if got := st.total(); got != 6 {
		t.Errorf("stored %d rows, want 6 (5 of the pack, 1 plain)", got)
	}
	if len(dlq.got) != 2 {
		t.Fatalf("dead letters: %+v", dlq.got)
	}
	r := dlq.got[0]
	if r.RejectID != topic+"/0/10/4" || r.Reason != "bad_json" || string(r.Raw) != "{\"schema_version\":1,\"nope\r" ||
		!strings.HasPrefix(r.Detail, "line 4 of a packed record: ") || r.Offset != 10 {
		t.Errorf("the pack's bad line: %+v", r)
	}
	if r := dlq.got[1]; r.RejectID != topic+"/1/4" || r.Reason != "bad_json" { // a pack of no event
		t.Errorf("the empty pack: %+v", r)
	}
	wantConsumed(t, s, topic, 8, 3) // 6 stored + 2 rejected
}

// wantConsumed checks the events and records s counted consumed from topic.
func wantConsumed(t *testing.T, s *Sink, topic string, events, records float64) {
	t.Helper()
	e, r := testutil.ToFloat64(s.m.events.WithLabelValues(topic)), testutil.ToFloat64(s.m.consumed.WithLabelValues(topic))
	if e != events || r != records {
		t.Errorf("events consumed %v, records %v; want %v and %v", e, r, events, records)
	}
}

// runUntilCommitted runs s until f has seen n commits, then stops it.
func runUntilCommitted(t *testing.T, s *Sink, f *fakeFetcher, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "committed", func() bool { return len(f.commits()) == n })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// protoPack is a protobuf pack of the loadgen events i (schemas.AppendProtoEvent).
func protoPack(t testing.TB, now time.Time, is ...int) []byte {
	var b []byte
	for _, i := range is {
		env := loadgen.Event(i, now)
		rec, err := schemas.RecordOf(&env)
		if err != nil {
			t.Fatal(err)
		}
		if b, err = schemas.AppendProtoEvent(b, &env, rec); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestSinkProtoPacks: a protobuf pack's events are stored, a bad one is rejected alone (its id
// topic/partition/offset/N, its Envelope message as raw bytes), a broken frame rejects the rest of
// the record as one event, and a pack without events is rejected whole: events in = stored +
// rejected.
func TestSinkProtoPacks(t *testing.T) {
	f, st, dlq := newFetcher(), &fakeStore{}, &fakeDLQ{}
	s := New(cfg(), prefix, f, st, dlq, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	topic := schemas.KindTrade.Topic(prefix)
	now := time.Unix(1_700_000_000, 0)
	bad := []byte{0x0a, 0x03, 0x08, 0x01, 0x48} // an events field holding schema_version 1 and a cut tag
	value := append(append(protoPack(t, now, 0, 3, 6), bad...), protoPack(t, now, 9, 12)...)
	value = append(value, 0x0a, 0x7f, 0x01) // a frame longer than the rest
	pack := bus.ProtoPackHeaders()
	f.msgs <- kafka.Message{Topic: topic, Partition: 0, Offset: 10, Value: value, Headers: pack}
	f.msgs <- msg(30) // a plain JSON record after it
	f.msgs <- kafka.Message{Topic: topic, Partition: 1, Offset: 4, Value: nil, Headers: pack}
	runUntilCommitted(t, s, f, 2)
	if got := st.total(); got != 6 {
		t.Errorf("stored %d rows, want 6 (5 of the pack, 1 plain)", got)
	}
	if len(dlq.got) != 3 {
		t.Fatalf("dead letters: %+v", dlq.got)
	}
	if r := dlq.got[0]; r.RejectID != topic+"/0/10/4" || r.Reason != "bad_protobuf" || string(r.Raw) != string(bad[2:]) ||
		!strings.HasPrefix(r.Detail, "event 4 of a protobuf pack: ") || r.Offset != 10 {
		t.Errorf("the pack's bad event: %+v", r)
	}
	if r := dlq.got[1]; r.RejectID != topic+"/0/10/7" || r.Reason != "bad_protobuf" || string(r.Raw) != "\x0a\x7f\x01" {
		t.Errorf("the broken frame: %+v", r)
	}
	if r := dlq.got[2]; r.RejectID != topic+"/1/4" || r.Reason != "bad_protobuf" { // a pack of no event
		t.Errorf("the empty pack: %+v", r)
	}
	wantConsumed(t, s, topic, 9, 3) // 6 stored + 3 rejected
}

// A batch's lag counts the records past it as its events per record: ten records of 16 events
// behind a batch of packs are 160 events of backlog, as they would be sent one per record.
func TestBatchLagCountsPackedEvents(t *testing.T) {
	for _, tc := range []struct {
		n, records int
		past       int64
		want       int64
	}{{n: 16, records: 1, past: 10, want: 160}, {n: 100, records: 100, past: 10, want: 10}, {n: 0, records: 0, past: 10, want: 10}} {
		b := newBatch()
		b.n, b.records = tc.n, tc.records
		keepLast(b.last, kafka.Message{Topic: "t", Offset: 5, HighWaterMark: 5 + tc.past + 1})
		if got := b.lag(); got != tc.want {
			t.Errorf("%d events in %d records, %d records past: lag %d, want %d", tc.n, tc.records, tc.past, got, tc.want)
		}
	}
}

// A dead-letter record that is not a reject (not JSON, or without its id and reason) becomes a
// reject of its own, bad_deadletter, naming the record it came from and carrying its bytes.
func TestSinkDecodesBadDeadLetter(t *testing.T) {
	now := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	s := New(cfg(), prefix, newFetcher(), &fakeStore{}, &fakeDLQ{}, nil, slog.New(slog.DiscardHandler))
	s.now = func() time.Time { return now }
	for _, v := range []string{"not json", `{"reason":"bad_json"}`} {
		m := kafka.Message{Topic: schemas.DeadLetterTopic(prefix), Partition: 2, Offset: 7, Key: []byte("k"), Value: []byte(v)}
		_, derr := schemas.DecodeDeadLetter(m.Value)
		want := schemas.Rejected{RejectID: schemas.SinkRejectID(m.Topic, 2, 7), Stage: schemas.StageSink,
			Topic: m.Topic, Partition: 2, Offset: 7, Key: "k", Reason: "bad_deadletter", Detail: derr.Error(),
			Raw: m.Value, ReceivedAt: now}
		d := s.decode(m, nil)
		if d.dead == nil || !reflect.DeepEqual(*d.dead, want) {
			t.Errorf("%q: got %+v, want %+v", v, d.dead, want)
		}
	}
}
