// Package exposure reads the detectors' latest findings from ClickHouse (Store) and exposes a
// bounded-cardinality summary of them as Prometheus metrics (Collector).
//
// "Latest" means: for each detector, the run with the newest computed_at (optionally as of a
// time). Exposures are the findings of api.exposure.detector (enterprise × component), chokepoints
// those of api.exposure.chokepoint_detector. internal/api and internal/report read through Store.
package exposure

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/schemas"
)

// FindingsTable is the detectors' findings table (schemas/migrations/0002_findings.sql).
const FindingsTable = "findings"

// Store reads findings and supply-map facts.
type Store struct {
	q   Querier
	cfg Config
}

// NewStore returns a Store reading through q (a driver.Conn).
func NewStore(q Querier, cfg Config) *Store { return &Store{q: q, cfg: cfg} }

// Config returns the read configuration.
func (s *Store) Config() Config { return s.cfg }

// Querier returns the underlying querier.
func (s *Store) Querier() Querier { return s.q }

// Filter selects findings of the latest runs. Empty fields match everything.
type Filter struct {
	// Detectors; empty means the exposure detector (api.exposure.detector).
	Detectors    []string
	SubjectType  string
	Subject      string
	EnterpriseID string
	ComponentID  string
	Category     string
	Industry     string
	Region       string
	Flag         string
	// Severity keeps findings in that band (critical, high, medium, low).
	Severity string
	MinScore float64
	// ChainLeader keeps findings of chain-leader enterprises only.
	ChainLeader bool
	// AsOf reads the runs that were latest at that time (zero: now).
	AsOf time.Time
}

// Sorts are the accepted sort keys; a leading "-" means descending.
var Sorts = map[string]string{
	"score":      "score",
	"delta":      "delta",
	"enterprise": "enterprise_id",
	"component":  "component_id",
	"subject":    "subject",
	"category":   "category",
	"computed":   "computed_at",
}

// from renders the filter as the latest findings (as of f.AsOf) and a WHERE condition on them:
// "<table> WHERE <condition>", to follow FROM.
func (s *Store) from(f Filter) string {
	return detectors.LatestFindingsTable(f.AsOf, s.detectors(f)...) + " WHERE " + s.where(f)
}

// detectors are the detectors f reads: its own, or the configured one.
func (s *Store) detectors(f Filter) []string {
	if len(f.Detectors) == 0 {
		return []string{s.cfg.Detector}
	}
	return f.Detectors
}

// where renders the filter, but for AsOf, as a WHERE condition.
func (s *Store) where(f Filter) string {
	c := []string{"detector IN " + Strs(s.detectors(f))}
	eq := func(col, v string) {
		if v != "" {
			c = append(c, col+" = "+Str(v))
		}
	}
	eq("subject_type", f.SubjectType)
	eq("subject", f.Subject)
	eq("enterprise_id", f.EnterpriseID)
	eq("component_id", f.ComponentID)
	eq("category", f.Category)
	eq("industry", f.Industry)
	eq("region", f.Region)
	if f.Flag != "" {
		c = append(c, "has(flags, "+Str(f.Flag)+")")
	}
	if f.MinScore > 0 {
		c = append(c, "score >= "+Num(f.MinScore))
	}
	if f.ChainLeader {
		c = append(c, "chain_leader = 1")
	}
	if f.Severity != "" {
		sv := s.cfg.Severity
		switch f.Severity {
		case "critical":
			c = append(c, "score >= "+Num(sv.Critical))
		case "high":
			c = append(c, "score >= "+Num(sv.High), "score < "+Num(sv.Critical))
		case "medium":
			c = append(c, "score >= "+Num(sv.Medium), "score < "+Num(sv.High))
		case "low":
			c = append(c, "score < "+Num(sv.Medium))
		}
	}
	return and(c)
}

// SeveritySQL is a multiIf expression mapping score to the severity band.
func (s *Store) SeveritySQL(col string) string {
	sv := s.cfg.Severity
	return fmt.Sprintf("multiIf(%s >= %s, 'critical', %s >= %s, 'high', %s >= %s, 'medium', 'low')",
		col, Num(sv.Critical), col, Num(sv.High), col, Num(sv.Medium))
}

var findingCols = strings.Join(detectors.FindingColumns, ", ")

// Page asks for rows [Offset, Offset+Limit) in Sort order ("-score" when empty).
type Page struct {
	Sort   string
	Offset int
	Limit  int
}

// OrderBy renders a sort key ("-score") as ORDER BY columns with a stable tiebreak.
func OrderBy(sort string) (string, error) {
	if sort == "" {
		sort = "-score"
	}
	dir := "ASC"
	key := sort
	if strings.HasPrefix(sort, "-") {
		dir, key = "DESC", sort[1:]
	}
	col, ok := Sorts[key]
	if !ok {
		return "", fmt.Errorf("unknown sort %q (one of %s, optionally prefixed with -)", sort, strings.Join(slices.Sorted(maps.Keys(Sorts)), ", "))
	}
	return col + " " + dir + ", detector ASC, subject ASC", nil
}

// Findings returns one page of the latest findings matching f, and how many match in total.
func (s *Store) Findings(ctx context.Context, f Filter, p Page) ([]detectors.Finding, uint64, error) {
	order, err := OrderBy(p.Sort)
	if err != nil {
		return nil, 0, err
	}
	from := s.from(f)
	total, err := s.count(ctx, from)
	if err != nil {
		return nil, 0, err
	}
	if p.Limit <= 0 || uint64(p.Offset) >= total {
		return []detectors.Finding{}, total, nil
	}
	q := "SELECT " + findingCols + " FROM " + from + " ORDER BY " + order +
		" LIMIT " + Int(int64(p.Offset)) + ", " + Int(int64(p.Limit))
	out, err := s.scanFindings(ctx, q)
	return out, total, err
}

func (s *Store) count(ctx context.Context, from string) (uint64, error) {
	rows, err := s.q.Query(ctx, "SELECT count() FROM "+from)
	if err != nil {
		return 0, fmt.Errorf("count findings: %w", err)
	}
	defer rows.Close()
	var n uint64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("count findings: %w", err)
		}
	}
	return n, rows.Err()
}

func (s *Store) scanFindings(ctx context.Context, q string) ([]detectors.Finding, error) {
	rows, err := s.q.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	out := []detectors.Finding{}
	for rows.Next() {
		f, err := detectors.ScanFinding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Names returns the newest name of each supply-map node id in ids (node_type × node_id → name).
// Ids without a node are absent.
func (s *Store) Names(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	q := "SELECT node_id, argMax(name, as_of) FROM supply_nodes WHERE node_id IN " + Strs(dedup(ids)) + " GROUP BY node_id"
	rows, err := s.q.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("read names: %w", err)
		}
		if name != "" {
			out[id] = name
		}
	}
	return out, rows.Err()
}

// NameFindings fills SubjectName from the supply map ("Enterprise / Component" for pairs).
func (s *Store) NameFindings(ctx context.Context, fs []detectors.Finding) error {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.EnterpriseID, f.ComponentID)
	}
	names, err := s.Names(ctx, ids)
	if err != nil {
		return err
	}
	for i := range fs {
		f := &fs[i]
		var parts []string
		for _, id := range []string{f.EnterpriseID, f.ComponentID} {
			if n, ok := names[id]; ok {
				parts = append(parts, n)
			}
		}
		if len(parts) > 0 && f.SubjectName == "" {
			f.SubjectName = strings.Join(parts, " / ")
		}
	}
	return nil
}

// Count is a number of latest findings in one label combination.
type Count struct {
	Severity string
	Category string
	Industry string
	Region   string
	N        uint64
}

// Counts groups the latest findings of detector by severity, category, industry and region.
func (s *Store) Counts(ctx context.Context, detector string, asOf time.Time) ([]Count, error) {
	q := "SELECT " + s.SeveritySQL("score") + " AS severity, category, industry, region, count() FROM " +
		s.from(Filter{Detectors: []string{detector}, AsOf: asOf}) +
		" GROUP BY severity, category, industry, region ORDER BY severity, category, industry, region"
	rows, err := s.q.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("count findings by label: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Severity, &c.Category, &c.Industry, &c.Region, &c.N); err != nil {
			return nil, fmt.Errorf("count findings by label: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FlagCounts counts the latest findings of detector per flag.
func (s *Store) FlagCounts(ctx context.Context, detector string, asOf time.Time) (map[string]uint64, error) {
	q := "SELECT arrayJoin(flags) AS flag, count() FROM " +
		s.from(Filter{Detectors: []string{detector}, AsOf: asOf}) + " GROUP BY flag ORDER BY flag"
	rows, err := s.q.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("count flags: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var flag string
		var n uint64
		if err := rows.Scan(&flag, &n); err != nil {
			return nil, fmt.Errorf("count flags: %w", err)
		}
		out[flag] = n
	}
	return out, rows.Err()
}

// LatestRunIDs returns the newest successful run of each detector (detector → run id): what the
// latest findings are read from (detectors.LatestRunsSQL).
func (s *Store) LatestRunIDs(ctx context.Context) (map[string]string, error) {
	type pair struct{ detector, run string }
	rows, err := queryAll(ctx, s.q, detectors.LatestRunsSQL(time.Time{}), "read the latest runs' ids", func(rows driver.Rows, p *pair) error {
		return rows.Scan(&p.detector, &p.run)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, p := range rows {
		out[p.detector] = p.run
	}
	return out, nil
}

// Run is the newest run of one detector.
type Run struct {
	Detector   string
	RunID      string
	ComputedAt time.Time
	Findings   uint64
}

// Runs returns the latest run of every detector that has findings.
func (s *Store) Runs(ctx context.Context, asOf time.Time) ([]Run, error) {
	q := "SELECT detector, run_id, max(computed_at), count() FROM " + detectors.LatestFindingsTable(asOf) +
		" GROUP BY detector, run_id ORDER BY detector"
	return queryAll(ctx, s.q, q, "read latest runs", func(rows driver.Rows, r *Run) error {
		err := rows.Scan(&r.Detector, &r.RunID, &r.ComputedAt, &r.Findings)
		r.ComputedAt = r.ComputedAt.UTC()
		return err
	})
}

// Freshness is the newest ingested row of one source in one event table.
type Freshness struct {
	Table        string    `json:"table"`
	Source       string    `json:"source"`
	LastIngested time.Time `json:"last_ingested"`
	Rows         uint64    `json:"rows"`
}

// EventTables are the event tables of schemas, in kind order.
func EventTables() []string {
	var out []string
	for _, k := range schemas.Kinds() {
		if spec, ok := schemas.Lookup(k); ok {
			out = append(out, spec.Table)
		}
	}
	return out
}

// Freshness returns max(ingested_at) per event table and source, counting rows ingested at or
// before asOf (zero: all).
func (s *Store) Freshness(ctx context.Context, asOf time.Time) ([]Freshness, error) {
	w := ""
	if !asOf.IsZero() {
		w = " WHERE ingested_at <= " + Time(asOf)
	}
	var parts []string
	for _, t := range EventTables() {
		parts = append(parts, "SELECT "+Str(t)+" AS tbl, source, max(ingested_at) AS last, count() AS n FROM "+t+w+" GROUP BY source")
	}
	q := "SELECT tbl, source, last, n FROM (" + strings.Join(parts, " UNION ALL ") + ") ORDER BY tbl, source"
	return queryAll(ctx, s.q, q, "read data freshness", func(rows driver.Rows, f *Freshness) error {
		err := rows.Scan(&f.Table, &f.Source, &f.LastIngested, &f.Rows)
		f.LastIngested = f.LastIngested.UTC()
		return err
	})
}

// dedup returns the distinct non-empty values of ss, sorted.
func dedup(ss []string) []string {
	out := slices.DeleteFunc(slices.Clone(ss), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// queryAll runs sql and scans every row with scan; what names the read in errors.
func queryAll[T any](ctx context.Context, q Querier, sql, what string, scan func(driver.Rows, *T) error) ([]T, error) {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
