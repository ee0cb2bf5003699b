package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/schemas"
)

// Event is one event of a kind topic's record, as RecordEvents yields it.
type Event struct {
	// N is its place in the record: the line of a JSON Lines record, its place in a protobuf pack
	// (both from 1, as in a rejected event's id), 0 for a record of one JSON envelope.
	N int
	// Raw is its bytes: a JSON envelope, or an Envelope message (sharing the record's value).
	Raw      []byte
	Envelope schemas.Envelope
	Record   schemas.Record
	// Err is why it was not stored: a *schemas.DecodeError with the sink's reason.
	Err error
}

// RecordEvents yields the events of a record of a kind topic, in the format its headers declare,
// each decoded and validated as the sink does (copying its strings: the events outlive the
// record). A record that holds no event (a pack with none) yields one Event with Err set, as the
// sink rejects it: nothing in a record goes unreported.
func RecordEvents(m kafka.Message, kind schemas.Kind) iter.Seq[Event] {
	return func(yield func(Event) bool) {
		switch RecordFormat(m.Headers) {
		case FormatJSONLines:
			n := 0
			for line, v := range schemas.PackedLines(m.Value) {
				n++
				env, rec, err := schemas.Decode(v, kind)
				if !yield(Event{N: line, Raw: v, Envelope: env, Record: rec, Err: err}) {
					return
				}
			}
			if n > 0 {
				return
			}
		case FormatProtoPack:
			n := 0
			ok := true
			schemas.ProtoPackEvents(m.Value, func(i int, v []byte, err error) bool {
				n++
				e := Event{N: i, Raw: v}
				if err != nil {
					e.Err = &schemas.DecodeError{Reason: "bad_protobuf", Err: err}
				} else {
					e.Envelope, e.Record, e.Err = schemas.DecodeProto(v, kind, false)
				}
				ok = yield(e)
				return ok
			})
			if n == 0 && ok {
				yield(Event{Raw: m.Value, Err: &schemas.DecodeError{Reason: "bad_protobuf", Err: errors.New("a protobuf pack without events")}})
			}
			return
		}
		env, rec, err := schemas.Decode(m.Value, kind) // one JSON envelope, or a pack of no line
		yield(Event{Raw: m.Value, Envelope: env, Record: rec, Err: err})
	}
}

// ReadOptions says where Read starts in each partition and when it stops.
type ReadOptions struct {
	// Tail starts each partition this many records before its end; 0 starts at its first record.
	Tail int64
	// Follow keeps reading past the ends until ctx is done; otherwise Read stops at the ends it
	// found when it started.
	Follow bool
	// Idle bounds the wait for the next record of a partition that has not reached its end
	// (without Follow); 0 means 10 s.
	Idle time.Duration
}

// Read reads topics without a consumer group (nothing is committed) and calls fn with each
// record: without Follow partition by partition, topics in the order given, partitions by id;
// with Follow every partition at once, fn never called concurrently. It returns fn's first error,
// or nil when it has read to the ends (without Follow) or ctx is done (with Follow).
func Read(ctx context.Context, cfg Config, topics []string, opt ReadOptions, fn func(kafka.Message) error) error {
	parts, err := partitionRanges(ctx, cfg, topics, opt.Tail)
	if err != nil {
		return err
	}
	if opt.Idle <= 0 {
		opt.Idle = 10 * time.Second
	}
	if !opt.Follow {
		for _, p := range parts {
			if err := readRange(ctx, cfg, p, opt.Idle, fn); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() {
			r := partitionReader(cfg, p)
			defer r.Close()
			if err := r.SetOffset(p.start); err != nil {
				cancel(fmt.Errorf("kafka read %s/%d: %w", p.topic, p.partition, err))
				return
			}
			for {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						cancel(fmt.Errorf("kafka read %s/%d: %w", p.topic, p.partition, err))
					}
					return
				}
				mu.Lock()
				err = fn(m)
				mu.Unlock()
				if err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// partRange is the offsets of one partition that Read reads: [start, end).
type partRange struct {
	topic      string
	partition  int
	start, end int64
}

// partitionRanges lists the partitions of topics with their first offset to read (tail records
// before the end, or the first) and their end, topics in the given order, partitions by id.
func partitionRanges(ctx context.Context, cfg Config, topics []string, tail int64) ([]partRange, error) {
	c := client(cfg)
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("kafka read: metadata: %w", err)
	}
	for _, t := range md.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("kafka read: topic %s: %w", t.Name, t.Error)
		}
	}
	offs, err := endOffsets(ctx, c, md)
	if err != nil {
		return nil, fmt.Errorf("kafka read: %w", err)
	}
	var out []partRange
	for _, topic := range topics {
		ps := offs.Topics[topic]
		slices.SortFunc(ps, func(a, b kafka.PartitionOffsets) int { return cmp.Compare(a.Partition, b.Partition) })
		for _, po := range ps {
			if po.Error != nil {
				return nil, fmt.Errorf("kafka read: %s/%d: %w", topic, po.Partition, po.Error)
			}
			start := po.FirstOffset
			if tail > 0 {
				start = max(po.FirstOffset, po.LastOffset-tail)
			}
			out = append(out, partRange{topic, po.Partition, start, po.LastOffset})
		}
	}
	return out, nil
}

func partitionReader(cfg Config, p partRange) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Brokers, Topic: p.topic, Partition: p.partition,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 250 * time.Millisecond, Dialer: cfg.ConsumerDialer()})
}

// readRange reads one partition's records from start up to end; a record that does not come
// within idle is an error (a partition that cannot be read to the end it reported).
func readRange(ctx context.Context, cfg Config, p partRange, idle time.Duration, fn func(kafka.Message) error) error {
	if p.start >= p.end {
		return nil
	}
	r := partitionReader(cfg, p)
	defer r.Close()
	if err := r.SetOffset(p.start); err != nil {
		return fmt.Errorf("kafka read %s/%d: %w", p.topic, p.partition, err)
	}
	next := p.start
	for next < p.end {
		fctx, cancel := context.WithTimeout(ctx, idle)
		m, err := r.FetchMessage(fctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no record at offset %d within %s (the partition ended at %d when the read began)", next, idle, p.end)
			}
			return fmt.Errorf("kafka read %s/%d: %w", p.topic, p.partition, err)
		}
		if m.Offset >= p.end {
			return nil
		}
		if err := fn(m); err != nil {
			return err
		}
		next = m.Offset + 1
	}
	return nil
}
