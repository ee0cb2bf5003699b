package detectors

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/chstore"
)

// carryOver is a run's findings that are unchanged since the detector's previous run (the same
// findingHash): ClickHouse copies them from that run's rows (INSERT … SELECT) instead of the
// daemon encoding and sending them again. A copied row gets the new run's run_id and computed_at,
// prev_score = its score and delta = 0 (what a full write stores for an unchanged score), and the
// new run's window where the old row had the old run's window. The rows of the new run that are
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

// sentTable names the external table (sent with the statement, ClickHouse's "external data") that
// holds a carried write's sent findings.
const sentTable = "chainwatch_sent_findings"

// FindingColumnTypes are the findings table's column types, in FindingColumns order (schemas/
// migrations/0002_findings.sql): the sent findings' external table is declared with them.
var FindingColumnTypes = []string{"String", "DateTime", "String", "String", "String", "String",
	"String", "String", "String", "String", "String", "UInt8", "Float64", "Nullable(Float64)", "Float64",
	"Array(String)", "Array(String)", "Array(Float64)", "Array(Float64)", "Array(Float64)", "Array(Float64)", "Array(Float64)",
	"Array(String)", "Nullable(Float64)", "Nullable(Float64)", "String", "Array(String)", "DateTime", "DateTime"}

// copySQL is the INSERT … SELECT of a carryOver. With sent (the name of a table holding the sent
// findings), the one statement also inserts those, after the copied rows (UNION ALL), and the copy
// leaves out their subjects (GLOBAL NOT IN: in cluster mode the Distributed findings table is read
// on every shard, which need the set, not the table). Every expression's alias differs from the
// column names: a column-named alias would be what the WHERE clause reads.
func (c carryOver) copySQL(sent string) string {
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
	cols := strings.Join(FindingColumns, ", ")
	var b strings.Builder
	b.WriteString("INSERT INTO findings (" + cols + ") SELECT " + strings.Join(sel, ", ") +
		" FROM findings WHERE detector = " + chstore.Quote(c.Detector) + " AND run_id = " + chstore.Quote(c.PrevRunID))
	if sent != "" {
		b.WriteString(" AND (subject_type, subject) GLOBAL NOT IN (SELECT subject_type, subject FROM " + sent + ")")
	}
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
	if sent != "" {
		b.WriteString(" UNION ALL SELECT " + cols + " FROM " + sent)
	}
	return b.String()
}

// writeFindingsCarried stores a run's findings as the sent ones (changed or new) plus the carried
// ones, copied inside ClickHouse from the previous run, in one INSERT … SELECT: the sent findings
// go with the statement as an external table. One statement makes one part: on ClickHouse 18.16 a
// findings part costs about 50-90 ms of server CPU whatever its rows (a file pair per column,
// docs/benchmarks.md), which a separate insert of the few sent rows paid again.
func writeFindingsCarried(ctx context.Context, conn driver.Conn, sent []Finding, c carryOver) error {
	if len(sent) == 0 {
		// no external table: an empty one would not reach the server
		if err := conn.Exec(ctx, c.copySQL("")); err != nil {
			return fmt.Errorf("findings: copy the unchanged findings of run %s: %w", c.PrevRunID, err)
		}
		return nil
	}
	tbl, err := sentFindings(sent)
	if err != nil {
		return err
	}
	if err := conn.Exec(clickhouse.Context(ctx, clickhouse.WithExternalTable(tbl)), c.copySQL(sentTable)); err != nil {
		return fmt.Errorf("findings: store %d sent findings and copy the unchanged ones of run %s: %w", len(sent), c.PrevRunID, err)
	}
	return nil
}

// sentFindings returns the findings as the external table sentTable, column by column.
func sentFindings(fs []Finding) (*ext.Table, error) {
	cols := make([]func(*ext.Table) error, len(FindingColumns))
	for i, name := range FindingColumns {
		cols[i] = ext.Column(name, column.Type(FindingColumnTypes[i]))
	}
	tbl, err := ext.NewTable(sentTable, cols...)
	if err != nil {
		return nil, fmt.Errorf("findings: sent findings table: %w", err)
	}
	var fc findingCols
	if err := fc.fill(fs, func(i int) driver.BatchColumn { return extColumn{tbl.Block().Columns[i]} }); err != nil {
		return nil, fmt.Errorf("sent findings: %w", err)
	}
	return tbl, nil
}

// extColumn is a column of an external table as a driver.BatchColumn (for findingCols.fill).
type extColumn struct{ c column.Interface }

func (e extColumn) Append(v any) error {
	_, err := e.c.Append(v)
	return err
}

func (e extColumn) AppendRow(v any) error { return e.c.AppendRow(v) }
