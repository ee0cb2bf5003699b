package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/schemas"
)

// logFetcher serves a fixed log of messages in order, commits like a consumer group, and rewinds
// to the committed offsets: what follows them is served again, in the log's order. Every commit
// is checked against the store: a committed offset must not pass a row that is not stored.
type logFetcher struct {
	mu        sync.Mutex
	log       []kafka.Message
	queue     []kafka.Message
	committed map[tp]int64 // highest committed offset (-1: none)
	wake      chan struct{}
	store     *streamStore
	rewinds   int
	bad       []string // commits that passed an unstored row
}

func newLogFetcher(msgs []kafka.Message, st *streamStore) *logFetcher {
	return &logFetcher{log: msgs, queue: slices.Clone(msgs), committed: map[tp]int64{}, wake: make(chan struct{}, 1), store: st}
}

func (f *logFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	for {
		f.mu.Lock()
		if len(f.queue) > 0 {
			m := f.queue[0]
			f.queue = f.queue[1:]
			f.mu.Unlock()
			return m, nil
		}
		f.mu.Unlock()
		select {
		case <-f.wake:
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		}
	}
}

func (f *logFetcher) CommitMessages(_ context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	stored := f.store.storedIDs()
	for _, m := range msgs {
		k := tp{m.Topic, m.Partition}
		if prev, ok := f.committed[k]; !ok || m.Offset > prev {
			f.committed[k] = m.Offset
		}
	}
	for _, m := range f.log { // every record below a committed offset must be stored
		if c, ok := f.committed[tp{m.Topic, m.Partition}]; ok && m.Offset <= c && !stored[eventID(m)] {
			f.bad = append(f.bad, fmt.Sprintf("%s/%d@%d", m.Topic, m.Partition, m.Offset))
		}
	}
	return nil
}

func (f *logFetcher) Rewind(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rewinds++
	f.queue = f.queue[:0]
	for _, m := range f.log {
		if c, ok := f.committed[tp{m.Topic, m.Partition}]; !ok || m.Offset > c {
			f.queue = append(f.queue, m)
		}
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return nil
}

func (f *logFetcher) state() (rewinds int, bad []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rewinds, slices.Clone(f.bad)
}

func eventID(m kafka.Message) string {
	env, _, err := schemas.Decode(m.Value, "")
	if err != nil {
		panic(err)
	}
	return env.EventID
}

// streamStore is a StreamStore in memory: complete inserts store at once, open ones when they
// end. failWrites and failEnds list the calls (counted from 1) that fail.
type streamStore struct {
	mu                   sync.Mutex
	stored               map[string]int // event id -> times stored
	open                 map[string][]string
	writes, ends         int
	failWrites, failEnds []int
	inserts              int            // complete inserts of event tables
	insertsBy            map[string]int // complete inserts by statement
	endedGroups          int
	endDelay             time.Duration // how long an end takes (the server writing the parts)
	ending               bool          // an end is under way
	overlaps             int           // ends begun while another was under way
	writesWhileEnding    int           // blocks written while an end was under way
}

func newStreamStore() *streamStore {
	return &streamStore{stored: map[string]int{}, open: map[string][]string{}, insertsBy: map[string]int{}}
}

func ids(cols *schemas.Columns) []string { return slices.Clone(cols.Column(0).([]string)) }

func (s *streamStore) Insert(_ context.Context, sql string, cols *schemas.Columns) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insertsBy[sql]++
	if sql != schemas.RejectedInsertSQL() {
		s.inserts++
		for _, id := range ids(cols) {
			s.stored[id]++
		}
	}
	return nil
}

func (s *streamStore) Write(_ context.Context, sql string, cols *schemas.Columns) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.ending {
		s.writesWhileEnding++
	}
	if slices.Contains(s.failWrites, s.writes) {
		return errors.New("write: broken pipe")
	}
	s.open[sql] = append(s.open[sql], ids(cols)...)
	return nil
}

func (s *streamStore) End() (map[string]int, error) { return s.Detach()() }

func (s *streamStore) Detach() func() (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	open := s.open
	s.open = map[string][]string{}
	return func() (map[string]int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.ends++
		if s.ending {
			s.overlaps++ // two ends at once
		}
		s.ending = true
		s.mu.Unlock()
		time.Sleep(s.endDelay) // the server writing the parts
		s.mu.Lock()
		s.ending = false
		if slices.Contains(s.failEnds, s.ends) {
			return nil, errors.New("end insert: unexpected EOF")
		}
		out := map[string]int{}
		for sql, got := range open {
			for _, id := range got {
				s.stored[id]++
			}
			out[sql] = len(got)
		}
		s.endedGroups++
		return out, nil
	}
}

func (s *streamStore) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.open)
}

func (s *streamStore) storedIDs() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for id := range s.stored {
		out[id] = true
	}
	return out
}

func (s *streamStore) counts() (distinct, groups, inserts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stored), s.endedGroups, s.inserts
}

func streamCfg() Config {
	c := cfg()
	c.InsertRows = 1000
	c.InsertMaxAge = 10 * c.ShutdownWait
	return c
}

// runStream runs a sink over n messages already on the fetcher until every event is stored, and
// returns its metrics registry.
func runStream(t *testing.T, c Config, n int, st *streamStore) (*logFetcher, *Sink) {
	t.Helper()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = msg(i)
	}
	f := newLogFetcher(msgs, st)
	s := New(c, prefix, f, st, &fakeDLQ{}, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if s.streams == nil {
		t.Fatal("the sink does not keep inserts open with a StreamStore and a Rewinder")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "every event stored and committed", func() bool {
		d, _, _ := st.counts()
		f.mu.Lock()
		last := f.committed[tp{msgs[n-1].Topic, msgs[n-1].Partition}]
		f.mu.Unlock()
		return d == n && last == msgs[n-1].Offset
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, bad := f.state(); len(bad) > 0 {
		t.Errorf("%d commits passed unstored rows, first %s", len(bad), bad[0])
	}
	return f, s
}

// A backlog goes into INSERTs kept open across batches: 2,500 records in batches of 100 land in
// three open-INSERT groups (1,000 + 1,000 + the rest, ended when the sink caught up or stopped),
// availability rows with them (no INSERT of its own), and nothing committed before it is stored.
func TestSinkKeepsInsertsOpenWhileBehind(t *testing.T) {
	st := newStreamStore()
	f, s := runStream(t, streamCfg(), 2500, st)
	distinct, groups, inserts := st.counts()
	if distinct != 2500 {
		t.Errorf("stored %d distinct events, want 2500", distinct)
	}
	if groups < 2 || groups > 4 {
		t.Errorf("%d open-insert groups ended, want 2-4 for 2,500 records at insert_rows 1,000", groups)
	}
	// 25 batches, every one behind or the backlog's end: all of them in the open INSERTs.
	if inserts != 0 {
		t.Errorf("%d complete inserts while draining a backlog, want none", inserts)
	}
	if r, _ := f.state(); r != 0 {
		t.Errorf("%d rewinds without a failure", r)
	}
	for _, k := range []schemas.Kind{schemas.KindTrade, schemas.KindAvailability} {
		spec, _ := schemas.Lookup(k)
		if got := testutil.ToFloat64(s.m.inserted.WithLabelValues(spec.Table)); got < 833 {
			t.Errorf("rows inserted metric for %s = %v, want >= 833", k, got)
		}
	}
	if got := testutil.ToFloat64(s.m.openRows); got != 0 {
		t.Errorf("open insert rows after the drain = %v", got)
	}
}

// An open INSERT failing after its first batch (a write of a later batch, or its end) sends the
// sink back to the committed offsets; every event is stored in the end and no commit passed an
// unstored row. A failure on the first batch of a group is retried in place, without a rewind.
func TestSinkRewindsWhenAnOpenInsertFails(t *testing.T) {
	st := newStreamStore()
	st.failWrites = []int{1, 7, 30}
	st.failEnds = []int{1}
	f, s := runStream(t, streamCfg(), 2500, st)
	rewinds, _ := f.state()
	if distinct, _, _ := st.counts(); distinct != 2500 {
		t.Errorf("stored %d distinct events, want 2500", distinct)
	}
	// write 1 fails on a group's first batch (retried in place); write 7 and 30 and the first
	// end fail later in a group. The end runs while the next group is written, so its failure
	// and a write's may end in one rewind.
	if rewinds != 3 && rewinds != 2 {
		t.Errorf("%d rewinds, want 3 (two later writes, one end), or 2", rewinds)
	}
	if got := testutil.ToFloat64(s.m.rewinds); got != float64(rewinds) {
		t.Errorf("rewinds metric %v, fetcher saw %d", got, rewinds)
	}
	if got := testutil.ToFloat64(s.m.stepErrors.WithLabelValues("open_insert")); got != 4 {
		t.Errorf("open_insert step errors = %v, want 4", got)
	}
}

// A full group ends in the background while the next batches go to new INSERTs: blocks are
// written while an end is under way, never two ends at once, every commit waits for the end of
// what it covers (logFetcher checks each), and the open-rows gauge returns to 0.
func TestSinkEndsGroupWhileNextFills(t *testing.T) {
	st := newStreamStore()
	st.endDelay = 20 * time.Millisecond
	f, s := runStream(t, streamCfg(), 5000, st)
	distinct, groups, _ := st.counts()
	st.mu.Lock()
	overlaps, during := st.overlaps, st.writesWhileEnding
	st.mu.Unlock()
	if distinct != 5000 || groups < 4 {
		t.Errorf("stored %d distinct events in %d groups, want 5000 in at least 4", distinct, groups)
	}
	if during == 0 {
		t.Error("no block was written while a group ended: the ends do not overlap the next group")
	}
	if overlaps != 0 {
		t.Errorf("%d ends began while another was under way", overlaps)
	}
	if r, _ := f.state(); r != 0 {
		t.Errorf("%d rewinds without a failure", r)
	}
	if got := testutil.ToFloat64(s.m.openRows); got != 0 {
		t.Errorf("open insert rows after the drain = %v", got)
	}
}

// insert_rows at or below batch_rows, or a store or fetcher without the seams: one INSERT per batch.
func TestSinkOneInsertPerBatchWithoutStreams(t *testing.T) {
	c := streamCfg()
	c.InsertRows = c.BatchRows
	st := newStreamStore()
	f := newLogFetcher(nil, st)
	if s := New(c, prefix, f, st, &fakeDLQ{}, nil, slog.New(slog.DiscardHandler)); s.streams != nil {
		t.Error("insert_rows = batch_rows keeps inserts open")
	}
	if s := New(streamCfg(), prefix, newFetcher(), st, &fakeDLQ{}, nil, slog.New(slog.DiscardHandler)); s.streams != nil {
		t.Error("a fetcher that cannot rewind keeps inserts open")
	}
}

// The end of a backlog is stored and committed as soon as every partition shows nothing past
// its last message (tailWait), not flush_interval later, also when the backlog was one full batch
// (the open INSERTs' first); a last message with more behind it (the rest not fetched yet) keeps
// its batch waiting for flush_interval. The last batch goes into the open INSERTs (no
// INSERT of its own, availability rows neither), and their end is reported as caught up (not
// behind), which releases the detectors' held wake-up.
func TestSinkEndsBacklogWhenCaughtUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		behind int64 // records past each partition's last message, by its high-water mark
	}{{"caught up", 2550, 0}, {"one full batch", 100, 0}, {"more behind", 2550, 50}} {
		t.Run(tc.name, func(t *testing.T) {
			c := streamCfg()
			c.FlushInterval = time.Minute
			n := tc.n
			msgs := make([]kafka.Message, n)
			end := map[tp]int64{}
			for i := range msgs {
				msgs[i] = msg(i)
				end[tp{msgs[i].Topic, msgs[i].Partition}] = msgs[i].Offset + 1
			}
			for i := range msgs {
				msgs[i].HighWaterMark = end[tp{msgs[i].Topic, msgs[i].Partition}] + tc.behind
			}
			st := newStreamStore()
			f := newLogFetcher(msgs, st)
			s := New(c, prefix, f, st, &fakeDLQ{}, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
			var mu sync.Mutex
			lastBehind := true
			reported := map[schemas.Kind]bool{}
			s.OnStored(func(kinds []schemas.Kind, behind bool) {
				mu.Lock()
				defer mu.Unlock()
				lastBehind = behind
				for _, k := range kinds {
					reported[k] = true
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- s.Run(ctx) }()
			committed := func() bool {
				f.mu.Lock()
				defer f.mu.Unlock()
				for k, e := range end {
					if f.committed[k] != e-1 {
						return false
					}
				}
				return true
			}
			if tc.behind == 0 {
				waitFor(t, "the backlog stored and committed well before flush_interval", committed)
				mu.Lock()
				if lastBehind {
					t.Error("the backlog's end was reported behind: the detectors' wake-up stays held")
				}
				if !reported[schemas.KindAvailability] {
					t.Error("the backlog's availability rows were never reported stored: the detectors are not woken")
				}
				mu.Unlock()
				st.mu.Lock()
				for sql, k := range st.insertsBy {
					t.Errorf("%d INSERTs of their own for %.40s…: the last batch did not go into the open INSERTs", k, sql)
				}
				st.mu.Unlock()
			} else {
				time.Sleep(300 * time.Millisecond)
				if committed() {
					t.Error("a batch whose partitions had more behind it was committed before flush_interval")
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if distinct, _, _ := st.counts(); distinct != n || !committed() {
				t.Errorf("after the drain: %d of %d events stored, committed to the end %v", distinct, n, committed())
			}
			if _, bad := f.state(); len(bad) > 0 {
				t.Errorf("%d commits passed unstored rows, first %s", len(bad), bad[0])
			}
		})
	}
}
