package alerts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
)

// TestStandbyFailoverSendsOnce: two daemons share one alerts state dir; only the lease holder
// notifies. The leader notifies a group; it loses the lease (Standby) and the other resumes from
// the shared state: the same findings send nothing again, a new alert is sent once, and the
// daemon on standby refuses acks and evaluations.
func TestStandbyFailoverSendsOnce(t *testing.T) {
	cfg := testConfig(t)
	a := start(t, cfg, alerttest.NewClock(t0), nil)
	b := start(t, cfg, alerttest.NewClock(t0), nil)
	if err := b.m.Standby(); err != nil {
		t.Fatal(err)
	}
	evaluate(t, a.m, 0, finding("ENT-1", "C1", 65))
	a.tick(t, 30*time.Second)
	first := lastCall(t, a.rec, 1)

	if _, err := b.m.Ack(first.Alerts[0].Fingerprint, "ops", "seen", time.Time{}); !errors.Is(err, alerts.ErrStandby) {
		t.Fatalf("ack on standby: %v, want ErrStandby", err)
	}
	if err := b.m.Evaluate(t.Context(), nil, t0); !errors.Is(err, alerts.ErrStandby) {
		t.Fatalf("evaluate on standby: %v, want ErrStandby", err)
	}
	b.tick(t, 31*time.Second) // a standby tick sends nothing
	lastCall(t, b.rec, 0)

	// Failover: a loses the lease, b gains it and reloads the shared state.
	if err := a.m.Standby(); err != nil {
		t.Fatal(err)
	}
	if err := b.m.Resume(); err != nil {
		t.Fatal(err)
	}
	evaluate(t, b.m, time.Minute, finding("ENT-1", "C1", 65))
	b.tick(t, 2*time.Minute)
	b.tick(t, 2*time.Minute+cfg.GroupInterval)
	lastCall(t, b.rec, 0) // already sent by a: deduplicated against a's notification log

	evaluate(t, b.m, 10*time.Minute, finding("ENT-1", "C1", 65), finding("ENT-1", "C2", 70))
	b.tick(t, 10*time.Minute+cfg.GroupInterval)
	if got := lastCall(t, b.rec, 1); got.Firing() != 2 {
		t.Fatalf("after the new alert: %d firing in the notification, want 2", got.Firing())
	}
	a.tick(t, 20*time.Minute) // the former leader stays quiet
	lastCall(t, a.rec, 1)
	if v := b.m.Alerts(alerts.Filter{}); len(v) != 2 {
		t.Fatalf("the new leader's alerts: %d, want 2", len(v))
	}
}
