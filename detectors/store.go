package detectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// FindingColumns are the findings table's columns a reader selects, in order; a write also sends
// removed (writeColumns).
var FindingColumns = []string{"run_id", "computed_at", "detector", "subject_type", "subject", "subject_name",
	"enterprise_id", "component_id", "category", "industry", "region", "chain_leader", "score", "prev_score", "delta",
	"flags", "term_names", "term_values", "term_norms", "term_weights", "term_contributions", "term_shares",
	"term_details", "tts_days", "ttr_days", "alternates_json", "products", "window_from", "window_to"}

// writeColumns are the columns a findings write sends: FindingColumns, then removed (1 on a delta
// run's tombstones, store_runs.go).
var writeColumns = append(FindingColumns[:len(FindingColumns):len(FindingColumns)], "removed")

// RunColumns are the detector_runs table's columns.
var RunColumns = []string{"run_id", "detector", "started_at", "finished_at", "findings", "status", "error",
	"window_from", "window_to", "base_run_id", "computed_at"}

// Run statuses in detector_runs.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// insertChunk bounds the rows of one native block. The driver keeps each pooled connection's
// block and compression buffers at the size of the largest block it sent: blocks of 5,000
// findings left about 40 MB of them on the five connections of a 1M-edge run's writes, live from
// run to run, where 1,000 leave about a fifth (the server squashes the blocks of an INSERT into
// its parts either way).
const insertChunk = 1000

// WriteFindings inserts findings (a full run's) as one INSERT of native blocks of insertChunk rows:
// per block one typed slice per column (batch.Column(i).Append), sent with Flush. The batch's
// column buffers and the chunk's slices are reused from block to block (a new batch per block grew
// every buffer from zero again: the findings write was a third of a 1M-edge run's allocations).
func WriteFindings(ctx context.Context, conn driver.Conn, fs []Finding) error {
	return writeFindings(ctx, conn, fs, len(fs))
}

// writeFindings is WriteFindings where the rows from fs[tombstones] on are a delta run's
// tombstones (removed = 1; tombstone).
func writeFindings(ctx context.Context, conn driver.Conn, fs []Finding, tombstones int) error {
	if len(fs) == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO findings ("+strings.Join(writeColumns, ", ")+")")
	if err != nil {
		return fmt.Errorf("findings: prepare: %w", err)
	}
	var fc findingCols
	for start := 0; start < len(fs); start += insertChunk {
		end := min(start+insertChunk, len(fs))
		if err := fc.fill(fs[start:end], tombstones-start, b.Column); err != nil {
			return errors.Join(err, b.Abort())
		}
		if end < len(fs) {
			if err := b.Flush(); err != nil {
				return errors.Join(fmt.Errorf("findings: send rows %d-%d: %w", start, end, err), b.Abort())
			}
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("findings: send %d rows: %w", len(fs), err)
	}
	return nil
}

// appendColumn appends a chunk's column. Array columns go row by row: the driver appends a typed
// row ([]string, []float64) without reflection, while a whole [][]T goes through reflect.Value
// element by element.
func appendColumn(c driver.BatchColumn, col any) error {
	switch rows := col.(type) {
	case [][]string:
		for _, r := range rows {
			if err := c.AppendRow(r); err != nil {
				return err
			}
		}
		return nil
	case [][]float64:
		for _, r := range rows {
			if err := c.AppendRow(r); err != nil {
				return err
			}
		}
		return nil
	}
	return c.Append(col)
}

// findingCols holds a chunk of findings column by column, in FindingColumns order. The terms'
// per-finding arrays are cut from shared blocks (strs, nums), not allocated one by one.
type findingCols struct {
	runID, detector, subjectType, subject, subjectName, enterprise, component []string
	category, industry, region, alternates                                    []string
	computedAt, windowFrom, windowTo                                          []time.Time
	chainLeader, removed                                                      []uint8
	score, delta                                                              []float64
	prevScore, tts, ttr                                                       []*float64
	flags, termNames, termDetails, products                                   [][]string
	termValues, termNorms, termWeights, termContribs, termShares              [][]float64
	strs                                                                      []string
	nums                                                                      []float64
}

// reset empties the chunk for n rows, keeping the slices' memory (the batch has copied the last
// chunk's values).
func (c *findingCols) reset(n int) {
	c.runID, c.detector, c.subjectType, c.subject = sized(c.runID, n), sized(c.detector, n), sized(c.subjectType, n), sized(c.subject, n)
	c.subjectName, c.enterprise, c.component = sized(c.subjectName, n), sized(c.enterprise, n), sized(c.component, n)
	c.category, c.industry, c.region, c.alternates = sized(c.category, n), sized(c.industry, n), sized(c.region, n), sized(c.alternates, n)
	c.computedAt, c.windowFrom, c.windowTo = sized(c.computedAt, n), sized(c.windowFrom, n), sized(c.windowTo, n)
	c.chainLeader, c.removed, c.score, c.delta = sized(c.chainLeader, n), sized(c.removed, n), sized(c.score, n), sized(c.delta, n)
	c.prevScore, c.tts, c.ttr = sized(c.prevScore, n), sized(c.tts, n), sized(c.ttr, n)
	c.flags, c.termNames, c.termDetails, c.products = sized(c.flags, n), sized(c.termNames, n), sized(c.termDetails, n), sized(c.products, n)
	c.termValues, c.termNorms, c.termWeights = sized(c.termValues, n), sized(c.termNorms, n), sized(c.termWeights, n)
	c.termContribs, c.termShares = sized(c.termContribs, n), sized(c.termShares, n)
	c.strs, c.nums = c.strs[:0], c.nums[:0]
}

// sized returns s emptied, with room for n elements.
func sized[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// cut returns the next n elements of the shared block *buf (a new block when it is full; the
// slices cut before keep the old one).
func cut[T any](buf *[]T, n int) []T {
	if cap(*buf)-len(*buf) < n {
		*buf = make([]T, 0, max(n, 1<<16))
	}
	l := len(*buf)
	*buf = (*buf)[:l+n]
	return (*buf)[l : l+n : l+n]
}

func (c *findingCols) add(f *Finding, removed uint8) error {
	n := len(f.Terms)
	names, details := cut(&c.strs, n), cut(&c.strs, n)
	vals, norms, ws, cs, ss := cut(&c.nums, n), cut(&c.nums, n), cut(&c.nums, n), cut(&c.nums, n), cut(&c.nums, n)
	for i, t := range f.Terms {
		names[i], details[i] = t.Name, t.Detail
		vals[i], norms[i], ws[i], cs[i], ss[i] = t.Value, t.Norm, t.Weight, t.Contribution, t.Share
	}
	aj := "[]"
	if len(f.Alternates) > 0 {
		b, err := json.Marshal(f.Alternates)
		if err != nil {
			return fmt.Errorf("findings: alternates of %s: %w", f.Subject, err)
		}
		aj = string(b)
	}
	c.runID, c.computedAt, c.detector = append(c.runID, f.RunID), append(c.computedAt, f.ComputedAt.UTC()), append(c.detector, f.Detector)
	c.subjectType, c.subject, c.subjectName = append(c.subjectType, f.SubjectType), append(c.subject, f.Subject), append(c.subjectName, f.SubjectName)
	c.enterprise, c.component = append(c.enterprise, f.EnterpriseID), append(c.component, f.ComponentID)
	c.category, c.industry, c.region = append(c.category, f.Category), append(c.industry, f.Industry), append(c.region, f.Region)
	c.chainLeader, c.score, c.prevScore = append(c.chainLeader, b2u8(f.ChainLeader)), append(c.score, f.Score), append(c.prevScore, f.PrevScore)
	c.delta, c.flags = append(c.delta, f.Delta()), append(c.flags, nzs(f.Flags))
	c.termNames, c.termValues, c.termNorms = append(c.termNames, names), append(c.termValues, vals), append(c.termNorms, norms)
	c.termWeights, c.termContribs, c.termShares = append(c.termWeights, ws), append(c.termContribs, cs), append(c.termShares, ss)
	c.termDetails, c.tts, c.ttr = append(c.termDetails, details), append(c.tts, f.TTSDays), append(c.ttr, f.TTRDays)
	c.alternates, c.products = append(c.alternates, aj), append(c.products, nzs(f.Products))
	c.windowFrom, c.windowTo = append(c.windowFrom, clampTime(f.WindowFrom)), append(c.windowTo, clampTime(f.WindowTo))
	c.removed = append(c.removed, removed)
	return nil
}

// fill empties the chunk, adds fs to it (from fs[tombstones] on as tombstones), and appends its
// columns, in writeColumns order, to column(i) (a batch's columns).
func (c *findingCols) fill(fs []Finding, tombstones int, column func(i int) driver.BatchColumn) error {
	c.reset(len(fs))
	for i := range fs {
		if err := c.add(&fs[i], b2u8(i >= tombstones)); err != nil {
			return err
		}
	}
	for i, col := range c.columns() {
		if err := appendColumn(column(i), col); err != nil {
			return fmt.Errorf("findings: column %s: %w", writeColumns[i], err)
		}
	}
	return nil
}

// columns returns the typed slices in writeColumns order.
func (c *findingCols) columns() []any {
	return []any{c.runID, c.computedAt, c.detector, c.subjectType, c.subject, c.subjectName,
		c.enterprise, c.component, c.category, c.industry, c.region, c.chainLeader, c.score, c.prevScore, c.delta,
		c.flags, c.termNames, c.termValues, c.termNorms, c.termWeights, c.termContribs, c.termShares,
		c.termDetails, c.tts, c.ttr, c.alternates, c.products, c.windowFrom, c.windowTo, c.removed}
}

// clampTime keeps a time inside ClickHouse DateTime's range (1970..2105).
func clampTime(t time.Time) time.Time {
	t = t.UTC()
	if t.Before(time.Unix(0, 0)) {
		return time.Unix(0, 0).UTC()
	}
	return t
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func nzs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RunRecord is one row of detector_runs.
type RunRecord struct {
	RunID      string
	Detector   string
	StartedAt  time.Time
	FinishedAt time.Time
	Findings   uint32
	Status     string
	Error      string
	WindowFrom time.Time
	WindowTo   time.Time
	BaseRunID  string    // a delta run's base (store_runs.go); "" for a full run
	ComputedAt time.Time // the computed_at of the run's findings (zero: StartedAt)
}

// WriteRuns records finished detector runs in one insert.
func WriteRuns(ctx context.Context, conn driver.Conn, recs []RunRecord) error {
	if len(recs) == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO detector_runs ("+strings.Join(RunColumns, ", ")+")")
	if err != nil {
		return fmt.Errorf("detector_runs: prepare: %w", err)
	}
	for _, r := range recs {
		at := r.ComputedAt
		if at.IsZero() {
			at = r.StartedAt
		}
		if err := b.Append(r.RunID, r.Detector, r.StartedAt.UTC(), r.FinishedAt.UTC(), r.Findings, r.Status, r.Error,
			clampTime(r.WindowFrom), clampTime(r.WindowTo), r.BaseRunID, clampTime(at)); err != nil {
			return errors.Join(fmt.Errorf("detector_runs: append: %w", err), b.Abort())
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("detector_runs: send %d rows: %w", len(recs), err)
	}
	return nil
}

// PreviousRuns returns, per detector, the newest successful run id older than before (absent:
// none), in one query.
func PreviousRuns(ctx context.Context, conn driver.Conn, detectors []string, before string) (map[string]string, error) {
	out := make(map[string]string, len(detectors))
	rows, err := conn.Query(ctx, "SELECT detector, max(run_id) FROM detector_runs WHERE has(?, detector) AND status = 'ok' AND run_id < ? GROUP BY detector",
		detectors, before)
	if err != nil {
		return nil, fmt.Errorf("previous runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, id string
		if err := rows.Scan(&d, &id); err != nil {
			return nil, fmt.Errorf("previous runs: %w", err)
		}
		out[d] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("previous runs: %w", err)
	}
	return out, nil
}

// previousScores returns the subjects of one run of a detector with their scores (no digests).
func previousScores(ctx context.Context, conn driver.Conn, detector, runID string) (map[subjectKey]subjectState, error) {
	out := map[subjectKey]subjectState{}
	if runID == "" {
		return out, nil
	}
	rows, err := conn.Query(ctx, "SELECT subject_type, subject, score FROM "+RunsFindingsTable(detector, runID))
	if err != nil {
		return nil, fmt.Errorf("previous scores of %s: %w", detector, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st, s string
		var sc float64
		if err := rows.Scan(&st, &s, &sc); err != nil {
			return nil, fmt.Errorf("previous scores of %s: scan: %w", detector, err)
		}
		out[subjectKey{st, s}] = subjectState{score: sc}
	}
	return out, rows.Err()
}

// Filter selects findings for LatestFindings. Zero fields do not filter.
type Filter struct {
	Detectors    []string
	SubjectType  string
	Subject      string
	EnterpriseID string
	ComponentID  string
	Category     string
	Industry     string
	Region       string
	ChainLeader  bool     // only findings about chain leaders
	AnyFlags     []string // at least one of these flags
	MinScore     float64
	Limit        int // 0 = no limit
}

// LatestFindings returns the findings of the latest successful run of each detector that match f,
// highest score first (then detector, subject type, subject).
func LatestFindings(ctx context.Context, conn driver.Conn, f Filter) ([]Finding, error) {
	where := []string{"1"}
	var args []any
	if len(f.Detectors) > 0 {
		where = append(where, "has(?, detector)")
		args = append(args, f.Detectors)
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("subject_type", f.SubjectType)
	eq("subject", f.Subject)
	eq("enterprise_id", f.EnterpriseID)
	eq("component_id", f.ComponentID)
	eq("category", f.Category)
	eq("industry", f.Industry)
	eq("region", f.Region)
	if f.ChainLeader {
		where = append(where, "chain_leader = 1")
	}
	if len(f.AnyFlags) > 0 {
		where = append(where, "hasAny(flags, ?)")
		args = append(args, f.AnyFlags)
	}
	if f.MinScore > 0 {
		where = append(where, "score >= ?")
		args = append(args, f.MinScore)
	}
	q := "SELECT " + strings.Join(FindingColumns, ", ") + " FROM " + LatestFindingsTable(time.Time{}, f.Detectors...) + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY score DESC, detector, subject_type, subject"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("latest findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		fd, err := ScanFinding(rows)
		if err != nil {
			return nil, fmt.Errorf("latest findings: %w", err)
		}
		out = append(out, fd)
	}
	return out, rows.Err()
}

// ScanFinding reads one row selected as FindingColumns (in that order) into a Finding: the one place
// that turns a findings row back into terms, alternates and flags (readers: LatestFindings, the API,
// the exposure metrics, the digest).
func ScanFinding(rows driver.Rows) (Finding, error) {
	var fd Finding
	var chainLeader uint8
	var delta float64
	var names, details []string
	var vals, norms, ws, cs, ss []float64
	var altJSON string
	if err := rows.Scan(&fd.RunID, &fd.ComputedAt, &fd.Detector, &fd.SubjectType, &fd.Subject, &fd.SubjectName,
		&fd.EnterpriseID, &fd.ComponentID, &fd.Category, &fd.Industry, &fd.Region, &chainLeader, &fd.Score,
		&fd.PrevScore, &delta, &fd.Flags, &names, &vals, &norms, &ws, &cs, &ss, &details, &fd.TTSDays, &fd.TTRDays,
		&altJSON, &fd.Products, &fd.WindowFrom, &fd.WindowTo); err != nil {
		return fd, fmt.Errorf("scan finding: %w", err)
	}
	fd.ChainLeader = chainLeader == 1
	if fd.Flags == nil {
		fd.Flags = []string{}
	}
	fd.Terms = make([]Term, len(names))
	for i := range names {
		fd.Terms[i] = Term{Name: names[i], Value: at(vals, i), Norm: at(norms, i), Weight: at(ws, i),
			Contribution: at(cs, i), Share: at(ss, i), Detail: atS(details, i)}
	}
	if altJSON != "" && altJSON != "[]" && altJSON != "null" {
		if err := json.Unmarshal([]byte(altJSON), &fd.Alternates); err != nil {
			return fd, fmt.Errorf("finding %s/%s: alternates_json: %w", fd.Detector, fd.Subject, err)
		}
	}
	fd.ComputedAt, fd.WindowFrom, fd.WindowTo = fd.ComputedAt.UTC(), fd.WindowFrom.UTC(), fd.WindowTo.UTC()
	return fd, nil
}

func at(s []float64, i int) float64 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func atS(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
