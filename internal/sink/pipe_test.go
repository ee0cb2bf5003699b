package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/schemas"
)

// chunkFetcher serves its queue (a message or a fetch error each) and blocks when it is empty; it
// records, per call, whether the fetch could add to a started chunk (its context has a deadline).
type chunkFetcher struct {
	queue     chan decoded
	mu        sync.Mutex
	deadlines []bool
}

func (f *chunkFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	_, dl := ctx.Deadline()
	f.mu.Lock()
	f.deadlines = append(f.deadlines, dl)
	f.mu.Unlock()
	select {
	case d := <-f.queue:
		return d.m, d.err
	case <-ctx.Done():
		return kafka.Message{}, ctx.Err()
	}
}

func (f *chunkFetcher) CommitMessages(context.Context, ...kafka.Message) error { return nil }

// The decode pipe hands the fetched messages to the decoders in chunks, and out again in fetch
// order: a backlog in full chunks of chunkSize; the rest when no message came within chunkWait;
// at once after a message that was its partition's last (the next fetch then has no deadline);
// at once with a fetch error, which keeps its place in the order.
func TestDecodePipeChunks(t *testing.T) {
	f := &chunkFetcher{queue: make(chan decoded, 1000)}
	const backlog = 2*chunkSize + 44
	for i := range backlog {
		f.queue <- decoded{m: msg(i)} // high-water mark 0: unknown
	}
	s := New(cfg(), prefix, f, &fakeStore{}, &fakeDLQ{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := s.startDecoders(ctx, 3)
	defer p.stop()
	var sizes []int
	next := func(want int64) decoded {
		t.Helper()
		d, err := p.next(ctx)
		if d.m.Offset != want {
			t.Fatalf("got offset %d (err %v), want %d: out of fetch order", d.m.Offset, err, want)
		}
		if p.pos == 1 {
			sizes = append(sizes, len(p.cur))
		}
		return d
	}
	for i := range backlog {
		if d := next(int64(i)); d.kind == "" || d.rec == nil {
			t.Fatalf("message %d was not decoded: %+v", i, d.reject)
		}
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int{chunkSize, chunkSize, 44}) {
		t.Errorf("chunk sizes %v, want [%d %d 44]", sizes, chunkSize, chunkSize)
	}

	// A caught-up partition's message goes alone, without waiting for more: the fetch that got it
	// was already waiting (it is not recorded again), the one after it has no chunk deadline.
	waitFor(t, "the fetcher waiting", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return !f.deadlines[len(f.deadlines)-1] })
	f.mu.Lock()
	f.deadlines = nil
	f.mu.Unlock()
	m := msg(1000)
	m.HighWaterMark = m.Offset + 1
	f.queue <- decoded{m: m}
	sizes = nil
	next(1000)
	waitFor(t, "the fetch after it", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.deadlines) == 1 })
	f.mu.Lock()
	if fmt.Sprint(f.deadlines) != "[false]" {
		t.Errorf("fetches with a chunk deadline: %v, want none (the chunk went at once)", f.deadlines)
	}
	f.mu.Unlock()
	// A fetch error ends its chunk, in its place.
	fail := errors.New("broker gone")
	f.queue <- decoded{m: msg(1001)}
	f.queue <- decoded{err: fail}
	f.queue <- decoded{m: msg(1002)}
	sizes = nil
	next(1001)
	if _, err := p.next(ctx); !errors.Is(err, fail) {
		t.Fatalf("want the fetch error after offset 1001, got %v", err)
	}
	next(1002)
	if fmt.Sprint(sizes) != "[2 1]" {
		t.Errorf("chunk sizes %v, want [2 1]", sizes)
	}
}

// A chunk slot keeps its pack's memory for the next messages' events (decode, decodePipe.next):
// packed records of 1 to 9 events (JSON Lines and protobuf packs in turn), some lines not JSON
// and some events not protobuf, go through the pipe many times over
// its chunks, and each comes out with exactly its own events, in line order, its rejects where
// its bad lines are and nowhere else; and the slots' memory is used again, the protobuf events'
// records too (decoded into the records of the events applied before, each record exactly its
// event's).
func TestDecodePipeReusesPacks(t *testing.T) {
	f := &chunkFetcher{queue: make(chan decoded, 4096)}
	s := New(cfg(), prefix, f, &fakeStore{}, &fakeDLQ{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := s.startDecoders(ctx, 2)
	defer p.stop()
	type line struct {
		id  string // the event id ("" for a bad line)
		bad bool
		rec schemas.Record // the event's record, decoded from its JSON
	}
	const records = 3000
	want := make([][]line, records)
	go func() {
		for r := range records {
			m := kafka.Message{Topic: schemas.KindTrade.Topic(prefix), Offset: int64(r), Headers: bus.PackedHeaders()}
			proto := r%2 == 1 // every other record a protobuf pack
			if proto {
				m.Headers = bus.ProtoPackHeaders()
			}
			for j := range r%9 + 1 {
				if j > 0 && !proto {
					m.Value = append(m.Value, '\n')
				}
				if (r+j)%7 == 3 {
					bad := "{bad"
					if proto {
						bad = "\x0a\x02\x48\x01" // an event of an unknown field
					}
					m.Value = append(m.Value, bad...)
					want[r] = append(want[r], line{bad: true})
					continue
				}
				i := 3 * (r*9 + j) // every third loadgen event is a trade event
				v := msg(i).Value
				env, rec, err := schemas.Decode(v, schemas.KindTrade)
				if err != nil {
					panic(err)
				}
				if proto {
					v = protoPack(t, time.Unix(1_700_000_000, 0), i)
				}
				m.Value = append(m.Value, v...)
				want[r] = append(want[r], line{id: env.EventID, rec: rec})
			}
			select {
			case f.queue <- decoded{m: m}:
			case <-ctx.Done():
				return
			}
		}
	}()
	reused, recsReused := 0, 0
	seen := map[*event]bool{}
	seenRecs := map[schemas.Record]bool{}
	for r := range records {
		d, err := p.next(ctx)
		if err != nil || d.m.Offset != int64(r) {
			t.Fatalf("record %d: got offset %d, err %v", r, d.m.Offset, err)
		}
		if len(d.pack) != len(want[r]) {
			t.Fatalf("record %d: %d events, want %d", r, len(d.pack), len(want[r]))
		}
		for j, e := range d.pack {
			w := want[r][j]
			switch {
			case e.line != j+1:
				t.Fatalf("record %d event %d: line %d", r, j, e.line)
			case w.bad && (e.reject == nil || e.rec != nil):
				t.Fatalf("record %d line %d: a bad line, decoded as %+v", r, j+1, e.env)
			case !w.bad && (e.reject != nil || e.rec == nil || e.env.EventID != w.id):
				t.Fatalf("record %d line %d: event %q (reject %v), want %q", r, j+1, e.env.EventID, e.reject, w.id)
			case !w.bad && !reflect.DeepEqual(e.rec, w.rec):
				t.Fatalf("record %d line %d: record %+v, want %+v", r, j+1, e.rec, w.rec)
			}
			if e.rec != nil {
				if seenRecs[e.rec] {
					recsReused++
				}
				seenRecs[e.rec] = true
			}
		}
		if seen[&d.pack[0]] {
			reused++
		}
		seen[&d.pack[0]] = true
	}
	if reused == 0 {
		t.Fatal("no chunk slot's pack memory was used again")
	}
	if recsReused == 0 {
		t.Fatal("no event's record was used again")
	}
	t.Logf("%d records decoded into a record used before", recsReused)
}
