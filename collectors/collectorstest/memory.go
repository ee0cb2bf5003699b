// Package collectorstest has test helpers for collectors: an in-memory Emitter, a counting
// Emitter that keeps nothing (for memory tests and benchmarks) and a generator for large OCDS
// release packages.
package collectorstest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/chainwatch/chainwatch/schemas"
)

// Memory is an Emitter that keeps everything it is given. Safe for concurrent use.
type Memory struct {
	mu       sync.Mutex
	Events   []schemas.Envelope
	Rejects  []schemas.Rejected
	Calls    int   // Emit + Reject calls
	MaxBatch int   // largest batch seen
	Err      error // if set, Emit and Reject return it
}

// Emit implements collectors.Emitter.
func (m *Memory) Emit(_ context.Context, envs ...schemas.Envelope) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	m.Calls++
	m.MaxBatch = max(m.MaxBatch, len(envs))
	m.Events = append(m.Events, envs...)
	return nil
}

// Reject implements collectors.Emitter.
func (m *Memory) Reject(_ context.Context, rejects ...schemas.Rejected) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	m.Calls++
	m.MaxBatch = max(m.MaxBatch, len(rejects))
	m.Rejects = append(m.Rejects, rejects...)
	return nil
}

// Snapshot returns copies of the events and rejects so far.
func (m *Memory) Snapshot() ([]schemas.Envelope, []schemas.Rejected) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]schemas.Envelope(nil), m.Events...), append([]schemas.Rejected(nil), m.Rejects...)
}

// Reasons counts rejects by reason.
func (m *Memory) Reasons() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, r := range m.Rejects {
		out[r.Reason]++
	}
	return out
}

// ByKind returns the events of one kind.
func (m *Memory) ByKind(k schemas.Kind) []schemas.Envelope {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []schemas.Envelope
	for _, e := range m.Events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// DuplicateIDs returns the event ids seen more than once, sorted.
func (m *Memory) DuplicateIDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]int{}
	for _, e := range m.Events {
		seen[e.EventID]++
	}
	var out []string
	for id, n := range seen {
		if n > 1 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Decode decodes every event's payload, checking each against schemas.Decode (envelope, payload
// and event id).
func Decode[T schemas.Record](envs []schemas.Envelope) ([]T, error) {
	out := make([]T, 0, len(envs))
	for _, e := range envs {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		_, rec, err := schemas.Decode(b, e.Kind)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", e.EventID, err)
		}
		t, ok := rec.(T)
		if !ok {
			return nil, fmt.Errorf("event %s: payload is %T", e.EventID, rec)
		}
		out = append(out, t)
	}
	return out, nil
}

// Counter is an Emitter that only counts (and sums payload bytes); it keeps nothing.
type Counter struct {
	Events, Rejects, PayloadBytes atomic.Int64
}

// Emit implements collectors.Emitter.
func (c *Counter) Emit(_ context.Context, envs ...schemas.Envelope) error {
	c.Events.Add(int64(len(envs)))
	var n int64
	for i := range envs {
		n += int64(len(envs[i].Payload))
	}
	c.PayloadBytes.Add(n)
	return nil
}

// Reject implements collectors.Emitter.
func (c *Counter) Reject(_ context.Context, rejects ...schemas.Rejected) error {
	c.Rejects.Add(int64(len(rejects)))
	return nil
}
