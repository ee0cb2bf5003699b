// Package archive writes alert lifecycle events to ClickHouse table alert_events
// (schemas/migrations/0003_alerts.sql), which the weekly digest counts.
package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/internal/chstore"
)

// InsertSQL is the explicit-column insert used with PrepareBatch.
const InsertSQL = "INSERT INTO alert_events (event_id, fingerprint, alert_name, enterprise_id, component_id, " +
	"category, severity, status, score, flags, run_id, starts_at, at, recorded_at)"

// ClickHouse is an alerts.EventSink.
type ClickHouse struct {
	conn driver.Conn
	now  func() time.Time
}

// New returns a sink writing through conn.
func New(conn driver.Conn) *ClickHouse { return &ClickHouse{conn: conn, now: time.Now} }

// WriteAlertEvents implements alerts.EventSink: one native batch.
func (c *ClickHouse) WriteAlertEvents(ctx context.Context, events []alerts.Event) error {
	rows := make([][]any, 0, len(events))
	rec := c.now().UTC().Truncate(time.Second)
	for _, e := range events {
		flags := e.Flags
		if flags == nil {
			flags = []string{}
		}
		rows = append(rows, []any{e.EventID, e.Fingerprint, e.AlertName, e.EnterpriseID, e.ComponentID,
			e.Category, e.Severity, e.Status, e.Score, flags, e.RunID, e.StartsAt.UTC(), e.At.UTC(), rec})
	}
	if err := chstore.Insert(ctx, c.conn, InsertSQL, rows); err != nil {
		return fmt.Errorf("archive alert events: %w", err)
	}
	return nil
}
