package detectors

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/chstore"
)

// carryOver is a run's findings that are unchanged since the detector's previous run (the same
// findingHash): ClickHouse copies them from that run's rows (INSERT … SELECT) instead of the
// daemon encoding and sending them again. A copied row gets the new run's run_id and computed_at,
// prev_score = its score and delta = 0 (what a full write stores for an unchanged score), and the
// new run's window where the old row had the old run's window. The rows of the new run that were
// sent (the changed and new findings) and the subjects that are gone are not copied.
type carryOver struct {
	Detector   string
	PrevRunID  string
	RunID      string
	ComputedAt time.Time
	PrevWindow runWindow
	Window     runWindow
	Removed    []string // subject_type\x00subject of the previous run's findings that are gone
}

// maxRemovedBytes bounds the quoted list of gone subjects in the copy statement, well inside
// ClickHouse's default max_query_size (256 KiB); a run with more goes as a full write. (A variable
// for the tests of that fallback.)
var maxRemovedBytes = 128 << 10

// removedListBytes is the length the gone subjects take in the copy statement: each quoted as
// copySQL quotes it, with its ", ".
func removedListBytes(keys []string) int {
	n := 0
	for _, k := range keys {
		n += len(chstore.Quote(k)) + len(", ")
	}
	return n
}

// copySQL is the INSERT … SELECT of a carryOver. Every expression's alias differs from the column
// names: a column-named alias would be what the WHERE clause reads.
func (c carryOver) copySQL() string {
	dt := func(sec int64) string { return "toDateTime(" + strconv.FormatInt(sec, 10) + ")" }
	oldWindow := "(window_from = " + dt(c.PrevWindow.from) + " AND window_to = " + dt(c.PrevWindow.to) + ")"
	sel := make([]string, len(FindingColumns))
	for i, col := range FindingColumns {
		switch col {
		case "run_id":
			sel[i] = chstore.Quote(c.RunID) + " AS carry_run_id"
		case "computed_at":
			sel[i] = dt(clampTime(c.ComputedAt).Unix()) + " AS carry_computed_at"
		case "prev_score":
			sel[i] = "toNullable(score) AS carry_prev_score"
		case "delta":
			sel[i] = "toFloat64(0) AS carry_delta"
		case "window_from":
			sel[i] = "if(" + oldWindow + ", " + dt(c.Window.from) + ", window_from) AS carry_window_from"
		case "window_to":
			sel[i] = "if(" + oldWindow + ", " + dt(c.Window.to) + ", window_to) AS carry_window_to"
		default:
			sel[i] = col
		}
	}
	var b strings.Builder
	b.WriteString("INSERT INTO findings (" + strings.Join(FindingColumns, ", ") + ") SELECT " + strings.Join(sel, ", ") +
		" FROM findings WHERE detector = " + chstore.Quote(c.Detector) + " AND run_id = " + chstore.Quote(c.PrevRunID) +
		" AND (subject_type, subject) NOT IN (SELECT subject_type, subject FROM findings WHERE detector = " +
		chstore.Quote(c.Detector) + " AND run_id = " + chstore.Quote(c.RunID) + ")")
	if len(c.Removed) > 0 {
		b.WriteString(" AND concat(subject_type, '\\0', subject) NOT IN (")
		for i, k := range c.Removed {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(chstore.Quote(k))
		}
		b.WriteString(")")
	}
	return b.String()
}

// writeFindingsCarried stores a run's findings as the sent ones (changed or new, written as
// WriteFindings does) plus the carried ones, copied inside ClickHouse from the previous run.
// The sent rows go first: the copy skips the subjects the new run already has.
func writeFindingsCarried(ctx context.Context, conn driver.Conn, sent []Finding, c carryOver) error {
	if err := WriteFindings(ctx, conn, sent); err != nil {
		return err
	}
	if err := conn.Exec(ctx, c.copySQL()); err != nil {
		return fmt.Errorf("findings: copy the unchanged findings of run %s: %w", c.PrevRunID, err)
	}
	return nil
}
