package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/archive"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

func TestArchiveIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	cfg := alerts.DefaultConfig()
	cfg.StateDir = t.TempDir()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sink := &recording{next: archive.New(conn)}
	m, err := alerts.NewManager(cfg, nil, nil, nil, alerts.WithEventSink(sink), alerts.WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	f1 := alerts.SampleFinding(t0)
	f2 := alerts.SampleFinding(t0)
	f2.ComponentID, f2.Score = "CAP-0402", 65
	if err := m.Evaluate(ctx, []detectors.Finding{f1, f2}, t0); err != nil {
		t.Fatal(err)
	}
	f2.Score = 85 // escalation
	if err := m.Evaluate(ctx, []detectors.Finding{f2}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Re-sending the same transition collapses (same event_id).
	if err := archive.New(conn).WriteAlertEvents(ctx, sink.events); err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]uint64{"firing": 3, "resolved": 1} {
		n, err := chstore.Count(ctx, conn, "alert_events", "status = ?", status)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s events: %d, want %d", status, n, want)
		}
	}
	var ent, sev string
	var flags []string
	if err := conn.QueryRow(ctx, "SELECT enterprise_id, severity, flags FROM alert_events FINAL WHERE status = 'resolved'").Scan(&ent, &sev, &flags); err != nil {
		t.Fatal(err)
	}
	if ent != "ENT-DEMO" || sev != "critical" || len(flags) != 3 {
		t.Errorf("resolved event %s %s %v", ent, sev, flags)
	}
}

type recording struct {
	next   alerts.EventSink
	events []alerts.Event
}

func (r *recording) WriteAlertEvents(ctx context.Context, evs []alerts.Event) error {
	r.events = append(r.events, evs...)
	return r.next.WriteAlertEvents(ctx, evs)
}
