// Package sink lands every Kafka event in ClickHouse: a consumer group reads the kind topics and the
// dead-letter topic, batches by size and time, inserts through the native protocol (PrepareBatch
// with an explicit column list, Append, Send), and only then commits offsets.
//
// Delivery is at-least-once; duplicates collapse in ClickHouse because every table is a
// ReplacingMergeTree keyed by event id (or reject id), so the effect is exactly-once.
//
// A record that fails to decode or validate becomes a schemas.Rejected, is written to the dead-letter
// topic (before its offset is committed), and from there lands in the `rejected` table with its
// reason and raw bytes. The batch carries on. When ClickHouse (or Kafka) is down the sink backs off and
// retries the same batch without committing anything, and resumes by itself. On shutdown it drains:
// it stops fetching, flushes and commits what it holds, within sink.shutdown_wait.
//
// While it is behind (draining a backlog), a sink whose store and fetcher allow it (StreamStore,
// Rewinder) sends its batches as blocks of one INSERT per table kept open across them, and
// commits their offsets when those INSERTs end (sink.insert_rows, sink.insert_max_age, or caught
// up): ClickHouse stores a backlog in few parts, at half the server CPU on 18.16. The batches
// sent are not kept: when such an INSERT fails after its first batch, the sink goes back to the
// group's committed offsets and fetches them again.
package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/schemas"
)

// Fetcher is the consumer side of Kafka (a *kafka.Reader in a consumer group).
type Fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Store inserts a columnar batch of full rows into a table through one native batch.
type Store interface {
	Insert(ctx context.Context, insertSQL string, cols *schemas.Columns) error
}

// StreamStore is a Store that can also keep one INSERT per statement open across batches
// (chstore.InsertStreams): Write sends a block, End stores what the open INSERTs carried (rows by
// statement), Abort drops them. Detach hands the open INSERTs over to a function that ends them
// as End does, possibly while Write opens the next ones.
type StreamStore interface {
	Store
	Write(ctx context.Context, insertSQL string, cols *schemas.Columns) error
	End() (map[string]int, error)
	Abort()
	Detach() (end func() (map[string]int, error))
}

// Rewinder is a Fetcher that can start over from the consumer group's committed offsets
// (GroupReader): what was fetched and not committed is fetched again.
type Rewinder interface {
	Rewind(ctx context.Context) error
}

// DeadLetter receives records the sink rejects (the Kafka producer).
type DeadLetter interface {
	Reject(ctx context.Context, rejects ...schemas.Rejected) error
}

// RejectReasons are the reasons the sink gives (schemas.DecodeError classes plus unknown_topic).
var RejectReasons = []string{"bad_json", "bad_envelope", "bad_payload", "invalid", "kind_mismatch", "unknown_topic"}

// Sink is one consumer loop. Build it with New and call Run.
type Sink struct {
	cfg      Config
	kinds    map[string]schemas.Kind
	dlqTopic string
	fetch    Fetcher
	store    Store
	dlq      DeadLetter
	log      *slog.Logger
	m        *Metrics
	now      func() time.Time

	b     *batch // being filled by collect
	spare *batch // the other buffer: being flushed, or idle

	onStored func(kinds []schemas.Kind, behind bool) // as a batch's rows land: the kinds stored (OnStored)

	consumedBy map[string]prometheus.Counter // m.consumed by topic, without a label lookup per record
	eventsBy   map[string]prometheus.Counter // m.events by topic
	pipe       *decodePipe                   // the decode workers (sink.decoders > 1), started by Run

	// INSERTs kept open across batches while behind (nil: one INSERT per batch)
	streams    StreamStore
	rewinder   Rewinder
	grp        group         // the batches in the open INSERTs (the flush goroutine's)
	grpOpen    atomic.Bool   // grp holds batches (or a batch on its way), or ending is set: collect cuts an idle wait short to end them
	ending     chan error    // the previous group's INSERTs ending in the background: its result, once (nil: none)
	rewindWait time.Duration // the next pause before fetching again after a failed open INSERT
	tail       bool          // the last message collected ended a backlog: nothing past it (collect's)
	tables     map[string]string
}

// group is what the open INSERTs carry: their batches' offsets and kinds.
type group struct {
	batches int
	records int
	rows    int // sent in the open INSERTs (records less rejects)
	started time.Time
	last    map[tp]kafka.Message
	kinds   []schemas.Kind
}

// rewindError: an INSERT kept open across batches failed after its first batch; those batches
// must be fetched again.
type rewindError struct{ err error }

func (e *rewindError) Error() string { return "open insert failed: " + e.err.Error() }
func (e *rewindError) Unwrap() error { return e.err }

func (s *Sink) consumed(topic string) prometheus.Counter {
	return cached(s.consumedBy, s.m.consumed, topic)
}

func (s *Sink) events(topic string) prometheus.Counter { return cached(s.eventsBy, s.m.events, topic) }

// cached is vec's counter for topic, kept in by so a record needs no label lookup.
func cached(by map[string]prometheus.Counter, vec *prometheus.CounterVec, topic string) prometheus.Counter {
	c, ok := by[topic]
	if !ok {
		c = vec.WithLabelValues(topic)
		by[topic] = c
	}
	return c
}

// OnStored sets f to be called as a batch's rows land, with the kinds stored since the last call
// (sorted) and whether the sink is behind: the batch was full (batch_rows events), or its
// partitions' high-water marks are at least batch_rows events past the batch, counting each record
// past it as the batch's events per record (a backlog is being drained). A batch holding
// availability rows inserts them first and reports them at once, before its other tables and its
// commit (they wake the event-driven detectors, which read nothing else of the batch: under load a
// bulk trade insert took 0.4 s); every batch then reports its other kinds after its commit (none
// when it held only rejects), unless it had none left to report. Batches that went into INSERTs
// kept open (behind, with a StreamStore) report their kinds, availability among them, when those
// INSERTs end. f runs on the flush path: it must not block. Call before Run.
func (s *Sink) OnStored(f func(kinds []schemas.Kind, behind bool)) { s.onStored = f }

// New builds a sink reading the topics of prefix (kinds + dead-letter) from fetch, with its metrics
// registered on reg (nil: unregistered).
func New(cfg Config, topicPrefix string, fetch Fetcher, store Store, dlq DeadLetter, reg prometheus.Registerer, log *slog.Logger) *Sink {
	return NewWithMetrics(cfg, topicPrefix, fetch, store, dlq, NewMetrics(reg), log)
}

// NewWithMetrics is New with shared metrics, for several sink workers in one process.
func NewWithMetrics(cfg Config, topicPrefix string, fetch Fetcher, store Store, dlq DeadLetter, m *Metrics, log *slog.Logger) *Sink {
	kinds := map[string]schemas.Kind{}
	for _, k := range schemas.Kinds() {
		kinds[k.Topic(topicPrefix)] = k
	}
	s := &Sink{cfg: cfg, kinds: kinds, dlqTopic: schemas.DeadLetterTopic(topicPrefix), fetch: fetch, store: store,
		dlq: dlq, log: log, m: m, now: time.Now, consumedBy: map[string]prometheus.Counter{}, eventsBy: map[string]prometheus.Counter{}}
	s.b, s.spare = newBatch(), newBatch()
	s.tables = map[string]string{}
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		s.tables[spec.InsertSQL()] = spec.Table
	}
	ss, okStore := store.(StreamStore)
	rw, okFetch := fetch.(Rewinder)
	if okStore && okFetch && cfg.InsertRows > cfg.BatchRows {
		s.streams, s.rewinder = ss, rw
	}
	s.rewindWait = cfg.RetryMin
	s.m.openRows.Set(0)
	// Pre-create the series so dashboards and alert rules see zeros, not absent metrics.
	for topic, k := range kinds {
		spec, _ := schemas.Lookup(k)
		s.m.consumed.WithLabelValues(topic)
		s.m.events.WithLabelValues(topic)
		s.m.inserted.WithLabelValues(spec.Table)
	}
	s.m.consumed.WithLabelValues(s.dlqTopic)
	s.m.events.WithLabelValues(s.dlqTopic)
	s.m.inserted.WithLabelValues(schemas.RejectedTable)
	for _, r := range RejectReasons {
		s.m.rejected.WithLabelValues(r)
	}
	return s
}

// NewReader returns the consumer-group reader for cfg (all kind topics and the dead-letter topic),
// with the fetch size, queue and wait of sc. kafka-go's own messages go to log: errors at warn, the
// rest at debug.
func NewReader(cfg bus.Config, sc Config, topics []string, log *slog.Logger) *kafka.Reader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return kafka.NewReader(kafka.ReaderConfig{
		Logger: kafka.LoggerFunc(func(msg string, args ...any) {
			if log.Enabled(context.Background(), slog.LevelDebug) { // kafka-go logs on every fetch
				log.Debug("kafka reader: " + fmt.Sprintf(msg, args...))
			}
		}),
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Warn("kafka reader: " + fmt.Sprintf(msg, args...))
		}),
		Brokers:           cfg.Brokers,
		GroupID:           cfg.GroupID,
		GroupTopics:       topics,
		QueueCapacity:     sc.QueueCapacity,
		MinBytes:          1,
		MaxBytes:          sc.FetchMaxBytes,
		MaxWait:           sc.FetchMaxWait,
		CommitInterval:    0, // commits are explicit and synchronous, after the insert
		SessionTimeout:    cfg.SessionTimeout,
		RebalanceTimeout:  cfg.SessionTimeout,
		HeartbeatInterval: cfg.SessionTimeout / 5,
		StartOffset:       kafka.FirstOffset,
		Dialer:            cfg.ConsumerDialer(), // TLS and SASL from kafka.tls / kafka.sasl
		JoinGroupBackoff:  time.Second,
		ReadBackoffMin:    100 * time.Millisecond,
		ReadBackoffMax:    2 * time.Second,
	})
}

// GroupReader is the sink's consumer-group reader (NewReader) that can start over from the group's
// committed offsets: Rewind closes the reader, which leaves the group, and joins it again with a
// new one. Close it when done.
type GroupReader struct {
	mk func() *kafka.Reader
	mu sync.Mutex
	r  *kafka.Reader
}

// NewGroupReader returns a GroupReader of NewReader(cfg, sc, topics, log).
func NewGroupReader(cfg bus.Config, sc Config, topics []string, log *slog.Logger) *GroupReader {
	mk := func() *kafka.Reader { return NewReader(cfg, sc, topics, log) }
	return &GroupReader{mk: mk, r: mk()}
}

func (g *GroupReader) reader() *kafka.Reader {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r
}

// FetchMessage implements Fetcher.
func (g *GroupReader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	return g.reader().FetchMessage(ctx)
}

// CommitMessages implements Fetcher.
func (g *GroupReader) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	return g.reader().CommitMessages(ctx, msgs...)
}

// Rewind implements Rewinder. Call it when no FetchMessage or CommitMessages is running.
func (g *GroupReader) Rewind(context.Context) error {
	g.mu.Lock()
	old := g.r
	g.r = g.mk()
	g.mu.Unlock()
	if err := old.Close(); err != nil {
		return fmt.Errorf("close the reader: %w", err)
	}
	return nil
}

// Close closes the reader.
func (g *GroupReader) Close() error { return g.reader().Close() }

type tp struct {
	topic     string
	partition int
}

// batch holds what was fetched since the last commit. Its slices are reused between flushes.
type batch struct {
	n        int                               // events fetched (rows in: a packed record's events each)
	records  int                               // Kafka records fetched
	rows     map[schemas.Kind]*schemas.Columns // decoded events by kind, column by column
	rejected *schemas.Columns                  // rows for the rejected table (from the dead-letter topic)
	toDLQ    []schemas.Rejected                // sink rejects to publish before commit
	last     map[tp]kafka.Message              // highest message per partition, to commit
	reasons  map[string]int                    // reject reasons of this batch, for metrics
	started  time.Time
	scratch  []any // one row's values on their way into the columns
}

func newBatch() *batch {
	b := &batch{rows: map[schemas.Kind]*schemas.Columns{}, last: map[tp]kafka.Message{},
		rejected: schemas.NewColumns(len(schemas.RejectedColumns))}
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		b.rows[k] = schemas.NewColumns(len(schemas.EnvelopeColumns) + len(spec.Columns))
	}
	return b
}

// lag is about how many events the partitions of the batch held past it when they were fetched:
// the records past it, times the batch's events per record (packed records hold several), so a
// backlog of packed records counts as behind as the same events one per record would.
func (b *batch) lag() int64 {
	var n int64
	for _, m := range b.last {
		n += max(0, m.HighWaterMark-m.Offset-1)
	}
	if b.records > 0 && b.n > b.records {
		n = n * int64(b.n) / int64(b.records)
	}
	return n
}

func (b *batch) reset() {
	b.n, b.records = 0, 0
	for _, c := range b.rows {
		c.Reset()
	}
	b.rejected.Reset()
	b.toDLQ = b.toDLQ[:0]
	clear(b.last)
	clear(b.reasons)
	b.started = time.Time{}
}

// Run consumes until ctx is cancelled, then drains and returns. Fetching and decoding the next batch
// overlaps with storing the previous one; batches are stored and committed strictly in order, and at
// most two are held (besides the blocks sent in INSERTs still open). It returns an error only when
// a held batch could not be stored and committed within shutdown_wait (those records are
// redelivered on the next start, nothing is lost).
func (s *Sink) Run(ctx context.Context) error {
	// Flushes outlive ctx by up to shutdown_wait, so a drain finishes what it holds.
	fctx, cancel := drainContext(ctx, s.cfg.ShutdownWait)
	defer cancel()
	if s.cfg.Decoders > 1 {
		s.pipe = s.startDecoders(ctx, s.cfg.Decoders)
		defer func() { s.pipe.stop() }()
	}
	var inflight chan error
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		return err
	}
	unflushed := func(err error) error {
		return fmt.Errorf("sink: shutdown with records unflushed (they will be redelivered): %w", err)
	}
	for {
		s.collect(ctx)
		if err := wait(); err != nil {
			var rw *rewindError
			if !errors.As(err, &rw) || ctx.Err() != nil {
				return unflushed(errors.Join(err, s.awaitEnding()))
			}
			if err := s.rewind(ctx, rw); err != nil {
				return unflushed(err)
			}
			continue
		}
		final := ctx.Err() != nil
		if s.b.n > 0 || s.grpOpen.Load() {
			b := s.b
			s.b, s.spare = s.spare, b
			if _, stream := s.behind(b, final); stream {
				s.grpOpen.Store(true) // before the next collect starts, which then ends it if idle
			}
			inflight = make(chan error, 1)
			go func() { inflight <- s.flush(fctx, b, final) }()
		}
		if final {
			if err := wait(); err != nil {
				return unflushed(err)
			}
			s.log.Info("sink drained and stopped")
			return nil
		}
	}
}

// rewind starts over from the committed offsets after an INSERT kept open across batches failed:
// what the sink holds is dropped (it was never committed), the fetcher goes back to the group's
// committed offsets, and the batches are fetched again, after a pause that doubles from
// retry_min to retry_max while the open INSERTs keep failing.
func (s *Sink) rewind(ctx context.Context, cause *rewindError) error {
	s.m.rewinds.Inc()
	s.log.Warn("sink: an insert kept open across batches failed; fetching its batches again from the committed offsets",
		"err", cause.err, "backoff", s.rewindWait)
	if s.pipe != nil {
		s.pipe.stop()
	}
	_ = s.awaitEnding() // stored and committed, or fetched again with the rest
	s.b.reset()
	s.spare.reset()
	s.grp = group{}
	s.grpOpen.Store(false)
	s.tail = false
	s.m.openRows.Set(0)
	if !sleep(ctx, s.rewindWait) {
		return errors.Join(cause, ctx.Err())
	}
	s.rewindWait = min(2*s.rewindWait, s.cfg.RetryMax)
	if err := s.retry(ctx, "rewind", func() error { return s.rewinder.Rewind(ctx) }); err != nil {
		return err
	}
	if s.pipe != nil {
		s.pipe = s.startDecoders(ctx, s.cfg.Decoders)
	}
	return nil
}

// drainContext returns a context that ends wait after ctx ends.
func drainContext(ctx context.Context, wait time.Duration) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(wait, cancel)
		context.AfterFunc(dctx, func() { t.Stop() })
	})
	return dctx, func() { stop(); cancel() }
}

// collect fetches until batch_rows events or flush_interval after the first message, or ctx ends.
// The flush deadline is one context per batch, not one per message.
func (s *Sink) collect(ctx context.Context) {
	fctx, cancel := context.WithCancel(ctx) // cancelled at flush_interval after the first message
	defer cancel()
	var deadline *time.Timer
	var urgentAt time.Time // when the batch's first availability row came (zero: none yet)
	if s.grpOpen.Load() {  // INSERTs are open: if nothing comes, end them flush_interval from now
		wait := s.cfg.FlushInterval
		if s.tail { // or sooner if the last batch ended the backlog
			wait = tailWait
		}
		deadline = time.AfterFunc(wait, cancel)
	}
	defer func() {
		if deadline != nil {
			deadline.Stop()
		}
	}()
	for s.b.n < s.cfg.BatchRows {
		d, err := s.next(fctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			s.m.fetchErrors.Inc()
			s.log.Warn("kafka fetch failed", "err", err)
			if s.pipe == nil && !sleep(fctx, s.cfg.RetryMin) { // the decode pipe's fetcher backs off itself
				return
			}
			continue
		}
		if s.b.n == 0 {
			s.b.started = s.now()
			if deadline != nil {
				deadline.Stop()
			}
			deadline = time.AfterFunc(s.cfg.FlushInterval, cancel)
			urgentAt = time.Time{}
		}
		if s.apply(d) == schemas.KindAvailability && urgentAt.IsZero() {
			urgentAt = s.now() // flush soon: availability rows wake the detectors
			deadline.Reset(s.due(urgentAt, false))
		}
		// The end of a backlog: INSERTs are open and every partition of the batch had nothing past
		// its last message. The batch then goes tailWait after its last message, not at
		// flush_interval, and ends those INSERTs: the backlog is stored and committed that much
		// sooner. A message that shows more behind it gives the batch its deadline back.
		t := caughtUp(d.m) && s.b.lag() == 0
		if (t || s.tail) && s.grpOpen.Load() {
			deadline.Reset(s.due(urgentAt, t))
		}
		s.tail = t
	}
}

// due is how long from now the batch being collected may wait: flush_interval after its first
// message, urgent_flush after its first availability row (urgentAt, if any), tailWait with tail.
func (s *Sink) due(urgentAt time.Time, tail bool) time.Duration {
	now := s.now()
	wait := s.cfg.FlushInterval - now.Sub(s.b.started)
	if !urgentAt.IsZero() {
		wait = min(wait, s.cfg.UrgentFlush-now.Sub(urgentAt))
	}
	if tail {
		wait = min(wait, tailWait)
	}
	return max(wait, 0)
}

// tailWait is how long a batch at the end of a backlog waits for one more message (collect). A
// backlog's messages come from the decode pipe within its chunk wait (chunkWait) of each other.
const tailWait = 10 * chunkWait

// next returns the next fetched message, decoded: from the decode workers, or fetched and decoded
// here with sink.decoders 1.
func (s *Sink) next(ctx context.Context) (decoded, error) {
	if s.pipe == nil {
		m, err := s.fetch.FetchMessage(ctx)
		if err != nil {
			return decoded{}, err
		}
		return s.decode(m, nil), nil
	}
	return s.pipe.next(ctx)
}

// decodePipe: one goroutine fetches and deals the messages, in chunks, round-robin to the decoders;
// next reads their chunks back round-robin, so the records come out in fetch order. A chunk is one
// channel hand-off each way for up to chunkSize messages, where one per message cost the daemon
// more CPU than the decoders' parallel work saved (docs/benchmarks.md).
type decodePipe struct {
	outs   []chan []decoded
	i      int       // the output next reads from
	cur    []decoded // the chunk next is handing out
	pos    int
	free   chan []decoded // handed-out chunks, for the fetcher to fill again
	done   <-chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// stop ends the pipe's goroutines and waits for them; what they held is dropped.
func (p *decodePipe) stop() {
	p.cancel()
	p.wg.Wait()
}

const (
	decodeQueue = 8 // chunks queued per decoder, each way: at most 1,024 messages
	// chunkSize is the most messages in one chunk. The fetcher sends a chunk early when the last
	// message's partition had nothing more at its fetch (caughtUp), when the next
	// message takes chunkWait to come, or on a fetch error, so a chunk never waits for a backlog
	// that is not there.
	chunkSize = 128
	chunkWait = 2 * time.Millisecond
	// chunkBytes ends a chunk early by its records' values: packed records (up to
	// kafka.events_per_record events each) go a few to a chunk, so the decoders' queues hold about
	// as many events, and as much memory, as with one event per record.
	chunkBytes = 64 << 10
)

func (s *Sink) startDecoders(ctx context.Context, n int) *decodePipe {
	ctx, cancel := context.WithCancel(ctx)
	p := &decodePipe{outs: make([]chan []decoded, n), done: ctx.Done(), cancel: cancel,
		free: make(chan []decoded, n*(2*decodeQueue+2)+2)}
	ins := make([]chan []decoded, n)
	p.wg.Add(n + 1)
	for i := range n {
		ins[i], p.outs[i] = make(chan []decoded, decodeQueue), make(chan []decoded, decodeQueue)
		go func(in <-chan []decoded, out chan<- []decoded) {
			defer p.wg.Done()
			for c := range in {
				for j := range c {
					if c[j].err == nil {
						c[j] = s.decode(c[j].m, c[j].pack)
					}
				}
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}(ins[i], p.outs[i])
	}
	go func() {
		defer p.wg.Done()
		defer func() {
			for _, in := range ins {
				close(in)
			}
		}()
		i := 0
		var c []decoded
		size := 0                // the chunk's values, in bytes
		var cctx context.Context // ends chunkWait after the chunk's first message
		ccancel := func() {}
		defer func() { ccancel() }()
		send := func() bool {
			ccancel()
			cctx, ccancel = nil, func() {}
			select {
			case ins[i] <- c:
			case <-ctx.Done():
				return false
			}
			i, c, size = (i+1)%n, nil, 0
			return true
		}
		for {
			if c == nil {
				select {
				case c = <-p.free:
				default:
					c = make([]decoded, 0, chunkSize)
				}
			}
			fctx := ctx
			if len(c) > 0 {
				if cctx == nil {
					cctx, ccancel = chunkDeadline(ctx)
				}
				fctx = cctx
			}
			m, err := s.fetch.FetchMessage(fctx)
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil && fctx != ctx && fctx.Err() != nil: // nothing came within chunkWait
				if !send() {
					return
				}
				continue
			}
			// A fetch error keeps its place in the order. A recycled chunk's slots keep their
			// packs' memory (next), for the decoders to fill again.
			if len(c) < cap(c) {
				c = c[:len(c)+1]
				c[len(c)-1].m, c[len(c)-1].err = m, err
			} else {
				c = append(c, decoded{m: m, err: err})
			}
			size += len(m.Value)
			if err != nil || len(c) == chunkSize || size >= chunkBytes || caughtUp(m) {
				if !send() {
					return
				}
			}
			if err != nil && !sleep(ctx, s.cfg.RetryMin) {
				return
			}
		}
	}()
	return p
}

// caughtUp: m was its partition's last message when it was fetched. A high-water mark of 0 is
// unknown (not from a broker): the chunk then waits for chunkSize or chunkWait.
func caughtUp(m kafka.Message) bool { return m.HighWaterMark > 0 && m.HighWaterMark-m.Offset <= 1 }

// chunkDeadline is the context of the fetches that may add to a started chunk.
func chunkDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, chunkWait)
}

func (p *decodePipe) next(ctx context.Context) (decoded, error) {
	if p.pos == len(p.cur) {
		select {
		case c := <-p.outs[p.i]:
			p.i = (p.i + 1) % len(p.outs)
			if p.cur != nil {
				// Drop the messages' references before the chunk is filled again; the packs'
				// memory stays in their slots, for the next messages' events, and so do their
				// events' records, which the batch no longer uses (apply copied their values into
				// its columns), for those events to be decoded into (decode).
				for j := range p.cur {
					p.cur[j] = decoded{pack: recycled(p.cur[j].pack)}
				}
				select {
				case p.free <- p.cur[:0]:
				default:
				}
			}
			p.cur, p.pos = c, 0
		case <-ctx.Done():
			return decoded{}, ctx.Err()
		case <-p.done:
			return decoded{}, context.Canceled
		}
	}
	d := p.cur[p.pos]
	p.pos++
	return d, d.err
}

// recycled is pack emptied for another message's events: its events' references to their message
// dropped, their records kept for those events to be decoded into (decode).
func recycled(pack []event) []event {
	for i := range pack {
		pack[i] = event{rec: pack[i].rec}
	}
	return pack[:0]
}

// decoded is one fetched message, decoded (by a decode worker, in any goroutine): either a
// rejected-table row from the dead-letter topic (dead), or the record's event (event: a row or a
// sink reject), or a packed record's events (pack).
type decoded struct {
	m    kafka.Message
	err  error // a fetch error: no message
	dead *schemas.Rejected
	event
	pack []event // a packed record's events, in their order (nil: not packed)
}

// event is one event of a record: a row of kind (env, rec) or a sink reject.
type event struct {
	kind   schemas.Kind
	env    schemas.Envelope
	rec    schemas.Record
	reject *schemas.Rejected
	line   int    // its line in a JSON Lines pack, its place in a protobuf pack (0: not packed)
	proto  bool   // an event of a protobuf pack
	raw    []byte // its bytes: the record's value, its line of a pack, or its Envelope message
}

// decode turns m into a decoded record. It touches no sink state but the read-only topic maps, so
// several decode workers run it at once. A packed record's events go into pack's memory when it
// has some (a recycled chunk slot's; appends grow it as needed), else into a new slice sized by
// the record's lines.
func (s *Sink) decode(m kafka.Message, pack []event) decoded {
	d := decoded{m: m}
	if m.Topic == s.dlqTopic {
		r, err := schemas.DecodeDeadLetter(m.Value)
		if err != nil {
			r = *s.rejected(m, "", "bad_deadletter", err)
		}
		if r.ReceivedAt.IsZero() {
			r.ReceivedAt = s.now().UTC()
		}
		d.dead = &r
		return d
	}
	kind, ok := s.kinds[m.Topic]
	if !ok {
		d.reject = s.rejected(m, "", "unknown_topic", fmt.Errorf("topic %q carries no known kind", m.Topic))
		return d
	}
	switch bus.RecordFormat(m.Headers) {
	case bus.FormatJSONLines:
		d.pack = pack[:0]
		if cap(pack) == 0 {
			d.pack = make([]event, 0, bytes.Count(m.Value, []byte{'\n'})+1)
		}
		for line, v := range schemas.PackedLines(m.Value) {
			d.pack = append(d.pack, event{line: line, raw: v})
			s.decodeEvent(m, kind, &d.pack[len(d.pack)-1], nil)
		}
		if len(d.pack) > 0 {
			return d
		}
		d.pack = nil // no event in it: rejected as an unpacked record of that value would be
	case bus.FormatProtoPack:
		d.pack = pack[:0]
		schemas.ProtoPackEvents(m.Value, func(i int, v []byte, err error) bool {
			var reuse schemas.Record // the record a recycled slot's event held, to decode into
			if n := len(d.pack); n < cap(d.pack) {
				reuse = d.pack[:n+1][n].rec
			}
			d.pack = append(d.pack, event{line: i, raw: v, proto: true})
			e := &d.pack[len(d.pack)-1]
			if err != nil {
				e.reject = s.eventRejected(m, e, "", "bad_protobuf", err)
				return false
			}
			s.decodeEvent(m, kind, e, reuse)
			return true
		})
		if len(d.pack) > 0 {
			return d
		}
		d.pack = nil
		d.reject = s.rejected(m, "", "bad_protobuf", errors.New("a protobuf pack without events"))
		return d
	}
	d.raw = m.Value
	s.decodeEvent(m, kind, &d.event, nil)
	return d
}

// decodeEvent decodes e's bytes as an event of kind; a protobuf event's payload goes into reuse
// when it is a record of that kind (schemas.DecodeProtoReuse).
func (s *Sink) decodeEvent(m kafka.Message, kind schemas.Kind, e *event, reuse schemas.Record) {
	// kafka-go gives each message its own value: the strings may share it
	var env schemas.Envelope
	var rec schemas.Record
	var err error
	if e.proto {
		env, rec, err = schemas.DecodeProtoReuse(e.raw, kind, true, reuse)
	} else {
		env, rec, err = schemas.DecodeShared(e.raw, kind)
	}
	if err != nil {
		reason := "invalid"
		var de *schemas.DecodeError
		if errors.As(err, &de) {
			reason = de.Reason
		}
		e.reject = s.eventRejected(m, e, env.Source, reason, err)
		return
	}
	e.kind, e.env, e.rec = kind, env, rec
}

// apply adds a decoded message to the batch (the collecting goroutine only); it returns the
// record's kind (empty for rejects and dead letters; availability if any of a pack's events is).
func (s *Sink) apply(d decoded) schemas.Kind {
	m := d.m
	s.b.records++
	s.consumed(m.Topic).Inc()
	keepLast(s.b.last, m)
	switch {
	case d.dead != nil:
		s.b.n++
		s.events(m.Topic).Inc()
		s.b.scratch = d.dead.AppendValues(s.b.scratch[:0])
		s.appendRow(m, s.b.rejected)
		return ""
	case d.pack != nil:
		var kind schemas.Kind
		for i := range d.pack {
			if k := s.applyEvent(m, &d.pack[i]); k != "" && kind != schemas.KindAvailability {
				kind = k
			}
		}
		return kind
	}
	return s.applyEvent(m, &d.event)
}

// applyEvent adds one event of m to the batch.
func (s *Sink) applyEvent(m kafka.Message, e *event) schemas.Kind {
	s.b.n++
	s.events(m.Topic).Inc()
	if e.reject != nil {
		s.addReject(e.reject)
		return ""
	}
	// A row that does not fit the columns' types is a bug in a payload type's appendColumns; the
	// record is rejected rather than stopping the sink.
	if err := s.b.rows[e.kind].AppendRecord(&e.env, e.rec); err != nil {
		s.addReject(s.eventRejected(m, e, "", "invalid", err))
		return ""
	}
	return e.kind
}

// appendRow moves the scratch row (a dead letter's) into cols. A row that does not fit the columns'
// types is a bug in AppendValues; the record is rejected rather than stopping the sink.
func (s *Sink) appendRow(m kafka.Message, cols *schemas.Columns) bool {
	err := cols.AppendRow(s.b.scratch)
	clear(s.b.scratch)
	if err != nil {
		s.addReject(s.rejected(m, "", "invalid", err))
		return false
	}
	return true
}

func (s *Sink) rejected(m kafka.Message, source, reason string, err error) *schemas.Rejected {
	return &schemas.Rejected{
		RejectID: schemas.SinkRejectID(m.Topic, int32(m.Partition), m.Offset), Stage: schemas.StageSink,
		Source: source, Kind: s.kinds[m.Topic], Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset,
		Key: string(m.Key), Reason: reason, Detail: err.Error(), Raw: m.Value, ReceivedAt: s.now().UTC(),
	}
}

// eventRejected is rejected for e of m: a packed event's reject has its own id
// (schemas.PackedRejectID), its line (its Envelope message) as raw bytes, and its place named in
// the detail.
func (s *Sink) eventRejected(m kafka.Message, e *event, source, reason string, err error) *schemas.Rejected {
	r := s.rejected(m, source, reason, err)
	if e.line > 0 {
		r.RejectID = schemas.PackedRejectID(m.Topic, int32(m.Partition), m.Offset, e.line)
		r.Raw = e.raw
		if e.proto {
			r.Detail = fmt.Sprintf("event %d of a protobuf pack: %s", e.line, r.Detail)
		} else {
			r.Detail = fmt.Sprintf("line %d of a packed record: %s", e.line, r.Detail)
		}
	}
	return r
}

func (s *Sink) addReject(r *schemas.Rejected) {
	if s.b.reasons == nil {
		s.b.reasons = map[string]int{}
	}
	s.b.reasons[r.Reason]++
	s.b.toDLQ = append(s.b.toDLQ, *r)
}

// urgentFirst orders a batch's kinds for its inserts: availability first (its rows wake the
// event-driven detectors), then by name.
func urgentFirst(a, b schemas.Kind) int {
	switch {
	case a == b:
		return 0
	case a == schemas.KindAvailability:
		return -1
	case b == schemas.KindAvailability:
		return 1
	}
	return strings.Compare(string(a), string(b))
}

// flush publishes rejects, inserts every table, then commits; each step retries with backoff until
// it succeeds or ctx ends. Steps that succeeded are not repeated.
//
// A batch of a sink that is behind, unless final, goes into the open INSERTs instead (dead letters
// still get INSERTs of their own): its offsets are committed when those end. Its availability rows
// go with the rest: while the sink is behind the detectors' wake-up is held anyway (until it has
// caught up, or for at most its hold), and an INSERT of their own per batch cost the server a part
// each and stalled the flush while it wrote it (docs/benchmarks.md).
// A batch that is not behind goes into the open INSERTs as their last, and ends them. An empty
// batch only ends them. A *rewindError says the open INSERTs failed and the batches they carried
// must be fetched again.
func (s *Sink) flush(ctx context.Context, b *batch, final bool) error {
	start := s.now()
	if err := s.retry(ctx, "deadletter", func() error { return s.dlq.Reject(ctx, b.toDLQ...) }); err != nil {
		return err
	}
	kinds := make([]schemas.Kind, 0, len(b.rows))
	for k, r := range b.rows {
		if r.Len() > 0 {
			kinds = append(kinds, k)
		}
	}
	slices.SortFunc(kinds, urgentFirst)
	behind, stream := s.behind(b, final)
	// The end of a backlog: a batch that is not behind, while INSERTs are open, goes into them as
	// their last blocks, and they end now (no INSERTs and parts of its own).
	closing := !stream && s.streams != nil && b.n > 0 && s.grp.batches > 0
	if !stream && !closing {
		if err := s.awaitEnding(); err != nil {
			return err
		}
		if s.grp.batches > 0 {
			if err := s.endGroup(ctx, false); err != nil {
				return err
			}
		}
	}
	reported := 0 // kinds[:reported] went to onStored already
	if stream || closing {
		if err := s.writeGroup(ctx, b, kinds); err != nil {
			return err
		}
	} else {
		for i, k := range kinds {
			spec, _ := schemas.Lookup(k)
			cols := b.rows[k]
			if err := s.retry(ctx, spec.Table, func() error { return s.store.Insert(ctx, spec.InsertSQL(), cols) }); err != nil {
				return err
			}
			s.m.inserted.WithLabelValues(spec.Table).Add(float64(cols.Len()))
			cols.Reset() // stored: not repeated if a later step fails
			if k == schemas.KindAvailability && s.onStored != nil {
				s.onStored(kinds[:i+1], behind)
				reported = i + 1
			}
		}
	}
	if b.rejected.Len() > 0 {
		if err := s.retry(ctx, schemas.RejectedTable, func() error {
			return s.store.Insert(ctx, schemas.RejectedInsertSQL(), b.rejected)
		}); err != nil {
			return err
		}
		s.m.inserted.WithLabelValues(schemas.RejectedTable).Add(float64(b.rejected.Len()))
		b.rejected.Reset()
	}
	s.m.lastInsert.SetToCurrentTime()
	for r, n := range b.reasons {
		s.m.rejected.WithLabelValues(r).Add(float64(n))
	}
	clear(b.reasons)
	b.toDLQ = b.toDLQ[:0]
	for k, cols := range b.rows { // a kind absent from this batch gives its memory back
		if !slices.Contains(kinds, k) && cols.Cap() > 0 {
			cols.Release()
		}
	}
	if b.n > 0 {
		s.m.batchRows.Observe(float64(b.n))
	}
	if stream || closing {
		g := &s.grp
		if g.last == nil {
			g.last = map[tp]kafka.Message{}
		}
		for _, m := range b.last {
			keepLast(g.last, m)
		}
		g.records += b.n
		for _, k := range kinds {
			if !slices.Contains(g.kinds, k) {
				g.kinds = append(g.kinds, k)
			}
		}
		b.reset()
		if closing {
			return s.endGroup(ctx, false)
		}
		if g.records >= s.cfg.InsertRows || s.now().Sub(g.started) >= s.cfg.InsertMaxAge {
			return s.endGroup(ctx, true)
		}
		return nil
	}
	if err := s.commit(ctx, b.last); err != nil {
		return err
	}
	if s.onStored != nil && reported < len(kinds) {
		s.onStored(kinds[reported:], behind)
	}
	if b.n > 0 {
		s.m.flushSeconds.Observe(s.now().Sub(start).Seconds())
	}
	b.reset()
	return nil
}

// behind: b is a full batch, or its partitions held a batch more past it. stream: b goes to
// the open INSERTs (a sink with StreamStore, behind, not its last batch before a stop).
func (s *Sink) behind(b *batch, final bool) (behind, stream bool) {
	behind = b.n >= s.cfg.BatchRows || b.lag() >= int64(s.cfg.BatchRows)
	return behind, s.streams != nil && behind && !final && b.n > 0
}

// writeGroup sends the batch's rows as blocks of the open INSERTs. A failure on the open INSERTs'
// first batch drops them and sends the batch again (it is still held), backing off as retry does;
// a failure on a later batch is a *rewindError.
func (s *Sink) writeGroup(ctx context.Context, b *batch, kinds []schemas.Kind) error {
	first := s.grp.batches == 0
	write := func() error {
		for _, k := range kinds {
			spec, _ := schemas.Lookup(k)
			if err := s.streams.Write(ctx, spec.InsertSQL(), b.rows[k]); err != nil {
				s.abortOpen()
				return fmt.Errorf("%s: %w", spec.Table, err)
			}
		}
		return nil
	}
	if first {
		if err := s.retry(ctx, "open_insert", write); err != nil {
			return err
		}
		s.grp.started = s.now()
	} else if err := write(); err != nil {
		s.m.stepErrors.WithLabelValues("open_insert").Inc()
		return &rewindError{err}
	}
	sent := 0
	for _, k := range kinds {
		sent += b.rows[k].Len()
		b.rows[k].Reset() // sent: the server holds them until the INSERT ends
	}
	s.grp.batches++
	s.grp.rows += sent
	s.grpOpen.Store(true)
	s.m.openRows.Add(float64(sent))
	return nil
}

// endGroup ends the open INSERTs, then commits the offsets of the batches they carried and reports
// their kinds stored, as behind with async. If the INSERTs fail, those batches are fetched again
// (*rewindError). With async (a full group while the sink is still behind) that happens in the
// background: the next batches go to new INSERTs meanwhile, so the server writes this group's
// parts while it receives the next group's blocks, and the sink keeps fetching. Every later commit
// and end waits for it first (awaitEnding), so offsets are still committed in order and never
// past a row not stored.
func (s *Sink) endGroup(ctx context.Context, async bool) error {
	if err := s.awaitEnding(); err != nil {
		return err
	}
	g := s.grp
	s.grp = group{}
	end := s.streams.Detach()
	finish := func() error {
		start := s.now()
		stored, err := end()
		s.m.openRows.Sub(float64(g.rows))
		if err != nil {
			s.m.stepErrors.WithLabelValues("open_insert").Inc()
			return &rewindError{err}
		}
		for q, n := range stored {
			s.m.inserted.WithLabelValues(s.tables[q]).Add(float64(n))
		}
		if err := s.commit(ctx, g.last); err != nil {
			return err
		}
		s.m.lastInsert.SetToCurrentTime()
		s.m.flushSeconds.Observe(s.now().Sub(start).Seconds())
		if s.onStored != nil && len(g.kinds) > 0 {
			slices.SortFunc(g.kinds, urgentFirst)
			s.onStored(g.kinds, async) // ended in the background while behind, else caught up, idle or stopping
		}
		return nil
	}
	if async {
		done := make(chan error, 1)
		s.ending = done
		go func() { done <- finish() }()
		return nil // grpOpen stays set until awaitEnding
	}
	s.grpOpen.Store(false)
	if err := finish(); err != nil {
		return err
	}
	s.rewindWait = s.cfg.RetryMin
	return nil
}

// awaitEnding waits for the group ending in the background, if any. If it failed, the open
// INSERTs are dropped too (their batches come after it), and the error is a *rewindError or a
// commit that could not be made before ctx ended.
func (s *Sink) awaitEnding() error {
	if s.ending == nil {
		return nil
	}
	err := <-s.ending
	s.ending = nil
	if err != nil {
		s.abortOpen()
		s.grp = group{}
		s.grpOpen.Store(false)
		return err
	}
	s.grpOpen.Store(s.grp.batches > 0)
	s.rewindWait = s.cfg.RetryMin
	return nil
}

// abortOpen drops the open INSERTs and the rows they carried from the gauge.
func (s *Sink) abortOpen() {
	s.streams.Abort()
	s.m.openRows.Sub(float64(s.grp.rows))
	s.grp.rows = 0
}

// keepLast keeps m in last if it is its partition's highest message.
func keepLast(last map[tp]kafka.Message, m kafka.Message) {
	k := tp{m.Topic, m.Partition}
	if prev, ok := last[k]; !ok || m.Offset > prev.Offset {
		last[k] = m
	}
}

// commit commits the highest message of each partition (none: nothing to do), retrying.
func (s *Sink) commit(ctx context.Context, last map[tp]kafka.Message) error {
	if len(last) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(last))
	for _, m := range last {
		msgs = append(msgs, m)
	}
	if err := s.retry(ctx, "commit", func() error { return s.fetch.CommitMessages(ctx, msgs...) }); err != nil {
		return err
	}
	s.m.commits.Inc()
	return nil
}

// retry runs f until it succeeds or ctx ends, backing off from retry_min to retry_max.
func (s *Sink) retry(ctx context.Context, what string, f func() error) error {
	wait := s.cfg.RetryMin
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			if attempt > 1 {
				s.log.Info("sink step recovered", "step", what, "attempts", attempt)
			}
			return nil
		}
		s.m.stepErrors.WithLabelValues(what).Inc()
		s.log.Warn("sink step failed; retrying", "step", what, "attempt", attempt, "backoff", wait, "err", err)
		if !sleep(ctx, wait) {
			return fmt.Errorf("sink: %s: %w", what, errors.Join(err, ctx.Err()))
		}
		wait = min(wait*2, s.cfg.RetryMax)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Metrics are the sink's Prometheus metrics, shared by the workers of a process.
type Metrics struct {
	consumed     *prometheus.CounterVec
	events       *prometheus.CounterVec
	inserted     *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	stepErrors   *prometheus.CounterVec
	fetchErrors  prometheus.Counter
	commits      prometheus.Counter
	batchRows    prometheus.Histogram
	flushSeconds prometheus.Histogram
	lastInsert   prometheus.Gauge
	openRows     prometheus.Gauge
	rewinds      prometheus.Counter
}

// NewMetrics creates the sink metrics and registers them on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_sink_records_consumed_total",
			Help: "Kafka records read by the sink, by topic (a packed record holds several events)."}, []string{"topic"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_sink_events_consumed_total",
			Help: "Events read by the sink (rows in: stored + rejected), by topic; a dead letter is one."}, []string{"topic"}),
		inserted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_sink_rows_inserted_total",
			Help: "Rows sent to ClickHouse (rows stored), by table; re-sent duplicates collapse in the table."}, []string{"table"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_sink_rejected_total",
			Help: "Records the sink rejected to the dead-letter topic, by reason."}, []string{"reason"}),
		stepErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_sink_step_errors_total",
			Help: "Failed attempts of a flush step (a table insert, deadletter, commit); each is retried."}, []string{"step"}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "chainwatch_sink_fetch_errors_total",
			Help: "Kafka fetch errors."}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{Name: "chainwatch_sink_commits_total",
			Help: "Offset commits, each after the rows of its batches were stored (one batch, or the batches of the INSERTs kept open)."}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "chainwatch_sink_batch_records",
			Help: "Events (rows in, rejects included) per committed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "chainwatch_sink_flush_duration_seconds",
			Help: "Time to store and commit one batch, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}),
		lastInsert: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chainwatch_sink_last_insert_timestamp_seconds",
			Help: "Unix time of the last successful batch insert."}),
		openRows: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chainwatch_sink_open_insert_rows",
			Help: "Rows sent in INSERTs kept open across batches (sink.insert_rows): stored, and their offsets committed, when those end."}),
		rewinds: prometheus.NewCounter(prometheus.CounterOpts{Name: "chainwatch_sink_rewinds_total",
			Help: "Times an INSERT kept open across batches failed and the sink fetched its batches again from the committed offsets."}),
	}
	if reg != nil {
		reg.MustRegister(m.consumed, m.events, m.inserted, m.rejected, m.stepErrors, m.fetchErrors, m.commits, m.batchRows, m.flushSeconds, m.lastInsert,
			m.openRows, m.rewinds)
	}
	return m
}
