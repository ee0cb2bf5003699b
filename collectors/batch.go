package collectors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// DefaultBatchSize is how many envelopes or rejects go to the Emitter per call unless configured.
const DefaultBatchSize = 500

// out batches one source's events and rejects to an Emitter and keeps its Stats. Parsers call
// record / reject / skip for every source record; nothing is dropped silently.
type out struct {
	ctx      context.Context
	em       Emitter
	source   string
	now      time.Time
	size     int
	envs     []schemas.Envelope
	rejs     []schemas.Rejected
	stats    Stats
	progress *atomic.Int64 // records read, for the progress reporter (may be nil)
	seen     *eventSet     // event ids emitted so far in this import / run; nil: not counted
}

func newOut(ctx context.Context, em Emitter, source string, now time.Time, size int) *out {
	if size <= 0 {
		size = DefaultBatchSize
	}
	return &out{ctx: ctx, em: em, source: source, now: now.UTC(), size: size}
}

// eventSet remembers the event ids of one import or run (16 bytes each), so a record whose id
// collapses into an earlier one is counted as a duplicate.
type eventSet struct {
	mu  sync.Mutex
	ids map[[16]byte]struct{}
}

func newEventSet() *eventSet { return &eventSet{ids: map[[16]byte]struct{}{}} }

// add records id and reports whether it was new.
func (s *eventSet) add(id string) bool {
	var k [16]byte
	if _, err := hex.Decode(k[:], []byte(id)); err != nil || len(id) != 32 {
		h := sha256.Sum256([]byte(id))
		copy(k[:], h[:16])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[k]; ok {
		return false
	}
	s.ids[k] = struct{}{}
	return true
}

// read counts one source record.
func (o *out) read() {
	o.stats.Read++
	if o.progress != nil {
		o.progress.Add(1)
	}
}

// event validates rec and queues its envelope; an invalid record becomes a reject with reason
// "invalid" and the validation error (which names the field) as detail. It does not count a read.
func (o *out) event(rec schemas.Record, loc string, raw func() []byte) error {
	env, err := schemas.NewEnvelope(o.source, rec, o.now)
	if err != nil {
		return o.rejectKind(rec.Kind(), loc, "invalid", err.Error(), raw())
	}
	if len(env.Payload) > MaxEventBytes {
		// the kind in the location keeps apart the rejects of one row's several records
		return o.rejectKind(rec.Kind(), loc+"#"+string(rec.Kind()), "too_large", fmt.Sprintf("%s: the record is %d bytes as an event, over the %d-byte limit (Kafka's message.max.bytes is about 1 MB)",
			largestField(env.Payload), len(env.Payload), MaxEventBytes), raw())
	}
	o.envs = append(o.envs, env)
	if o.seen == nil || o.seen.add(env.EventID) {
		o.stats.Emitted++
	} else {
		o.stats.Duplicates++
	}
	if len(o.envs) >= o.size {
		return o.flushEnvs()
	}
	return nil
}

// rejectKind queues a reject of a record meant for kind. It does not count a read.
func (o *out) rejectKind(kind schemas.Kind, loc, reason, detail string, raw []byte) error {
	if raw == nil {
		raw = []byte{}
	}
	raw, detail = boundReject(raw, detail)
	o.rejs = append(o.rejs, schemas.Rejected{
		RejectID:   schemas.CollectRejectID(o.source, loc, raw),
		Stage:      schemas.StageCollect,
		Source:     o.source,
		Kind:       kind,
		Location:   loc,
		Reason:     reason,
		Detail:     detail,
		Raw:        raw,
		ReceivedAt: o.now,
	})
	o.stats.reject(reason)
	if len(o.rejs) >= o.size {
		return o.flushRejects()
	}
	return nil
}

func (o *out) skip() { o.stats.Skipped++ }

func (o *out) flushEnvs() error {
	if len(o.envs) == 0 {
		return nil
	}
	if err := o.em.Emit(o.ctx, o.envs...); err != nil {
		return fmt.Errorf("emit %d events: %w", len(o.envs), err)
	}
	o.envs = o.envs[:0]
	return nil
}

func (o *out) flushRejects() error {
	if len(o.rejs) == 0 {
		return nil
	}
	if err := o.em.Reject(o.ctx, o.rejs...); err != nil {
		return fmt.Errorf("emit %d rejects: %w", len(o.rejs), err)
	}
	o.rejs = o.rejs[:0]
	return nil
}

// flush hands everything queued to the Emitter.
func (o *out) flush() error {
	if err := o.flushEnvs(); err != nil {
		return err
	}
	return o.flushRejects()
}

// MaxEventBytes bounds one event's payload: a bigger record (a 20 MB name) is rejected as
// too_large instead of failing the Kafka producer and with it the whole import.
const MaxEventBytes = 512 << 10

// Bounds of a reject's raw bytes and detail (a dead-letter record must fit a Kafka message too).
const (
	maxRejectDetail  = 4 << 10
	maxRejectRawKept = 256 << 10
)

// boundReject cuts raw and detail to their bounds, saying so at the end.
func boundReject(raw []byte, detail string) ([]byte, string) {
	if n := len(raw); n > maxRejectRawKept {
		raw = fmt.Appendf(raw[:maxRejectRawKept:maxRejectRawKept], "... (%d bytes in all, cut)", n)
	}
	if n := len(detail); n > maxRejectDetail {
		detail = strings.ToValidUTF8(detail[:maxRejectDetail], "") + fmt.Sprintf("... (%d bytes in all, cut)", n)
	}
	return raw, detail
}

// largestField names the top-level field of a JSON payload with the longest value.
func largestField(payload []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return "payload"
	}
	best, size := "payload", -1
	for k, v := range m {
		if len(v) > size || (len(v) == size && k < best) {
			best, size = k, len(v)
		}
	}
	return best
}

// rejectErr is a parse error with its reject reason; parsers return it from per-record helpers.
type rejectErr struct {
	reason string
	detail string
}

func (e *rejectErr) Error() string { return e.reason + ": " + e.detail }

func rejectf(reason, format string, args ...any) *rejectErr {
	return &rejectErr{reason: reason, detail: fmt.Sprintf(format, args...)}
}
