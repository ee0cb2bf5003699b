package alerts

import (
	"testing"
	"time"
)

// TickAt flushes due groups at now (Run must be running: it starts the queues' workers).
func (m *Manager) TickAt(now time.Time) {
	<-m.started
	m.tick(now)
}

// WaitIdle waits until every queued notification has been processed.
func (m *Manager) WaitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for m.pending.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("notifications still pending: %d", m.pending.Load())
		}
		time.Sleep(time.Millisecond)
	}
}
