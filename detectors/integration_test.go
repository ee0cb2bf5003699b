package detectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// insertRecords writes records into their tables exactly as the sink does: envelope + payload
// columns through PrepareBatch(spec.InsertSQL()) + Append + Send.
func insertRecords(t testing.TB, ctx context.Context, conn driver.Conn, now time.Time, recs []schemas.Record) {
	t.Helper()
	byKind := map[schemas.Kind][]schemas.Record{}
	for _, r := range recs {
		byKind[r.Kind()] = append(byKind[r.Kind()], r)
	}
	for kind, rs := range byKind {
		spec, _ := schemas.Lookup(kind)
		// A pooled connection the driver hands out can already be closed ("use of closed network
		// connection" on the first read, seen once in a CI run); the insert is idempotent (the
		// tables keep one version per key), so it is tried again on a fresh connection.
		var err error
		for try := range 3 {
			if err = insertKind(ctx, conn, spec.InsertSQL(), rs, now); err == nil {
				break
			}
			t.Logf("insert %s (try %d): %v", spec.Table, try+1, err)
		}
		if err != nil {
			t.Fatalf("insert %s: %v", spec.Table, err)
		}
	}
}

func insertKind(ctx context.Context, conn driver.Conn, sql string, rs []schemas.Record, now time.Time) error {
	b, err := conn.PrepareBatch(ctx, sql)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	for _, r := range rs {
		env, err := schemas.NewEnvelope("test-fixture", r, now)
		if err != nil {
			return errors.Join(fmt.Errorf("envelope %s: %w", r.NaturalKey(), err), b.Abort())
		}
		if err := b.Append(r.AppendValues(schemas.AppendEnvelope(nil, &env))...); err != nil {
			return errors.Join(fmt.Errorf("append: %w", err), b.Abort())
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

func TestDetectorsIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	insertRecords(t, ctx, conn, now, fixtureRecords(now))

	promReg := prometheus.NewRegistry()
	r, err := NewRunner(conn, fixtureConfig(), promReg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	r.Now = func() time.Time { return now }

	// first run: every detector
	sum1, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatalf("run 1: %v", err)
	}
	if len(sum1.Detectors) != 5 {
		t.Fatalf("run 1 summary: %+v", sum1)
	}
	latest, err := LatestFindings(ctx, conn, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]Finding{}
	for _, f := range latest {
		if f.RunID != sum1.RunID {
			t.Errorf("finding of run %s, want %s", f.RunID, sum1.RunID)
		}
		if f.PrevScore != nil {
			t.Errorf("first run: %s %s has prev_score %v", f.Detector, f.Subject, *f.PrevScore)
		}
		got[f.Detector] = append(got[f.Detector], f)
	}
	checkFixture(t, got)

	// ClickHouse aggregation and the in-memory path agree on every finding and term
	mem := runFixtureInMemory(t, now)
	for det, fs := range mem {
		ch := bySubject(got[det])
		if len(ch) != len(fs) {
			t.Errorf("%s: %d findings from ClickHouse, %d in memory", det, len(ch), len(fs))
		}
		for i := range fs {
			m := &fs[i]
			c := ch[m.Subject]
			if c == nil {
				continue
			}
			if !near(c.Score, m.Score) || len(c.Terms) != len(m.Terms) {
				t.Errorf("%s %s: score %.6f (CH) vs %.6f (memory)", det, m.Subject, c.Score, m.Score)
				continue
			}
			for j := range m.Terms {
				if c.Terms[j].Name != m.Terms[j].Name || !near(c.Terms[j].Value, m.Terms[j].Value) || !near(c.Terms[j].Contribution, m.Terms[j].Contribution) {
					t.Errorf("%s %s term %d: %+v (CH) vs %+v (memory)", det, m.Subject, j, c.Terms[j], m.Terms[j])
				}
			}
		}
	}

	// second run of one detector (`chainwatch detect tts_ttr`): prev_score and delta are stored (the
	// finding is unchanged: a delta run carries it)
	r.Now = func() time.Time { return now.Add(time.Second) }
	sum2, err := r.RunOnce(ctx, NameTTSTTR)
	if err != nil {
		t.Fatalf("run 2: %v", err)
	}
	if len(sum2.Detectors) != 1 || sum2.Detectors[0].Findings != 1 || sum2.RunID <= sum1.RunID {
		t.Fatalf("run 2 summary: %+v (run 1 %s)", sum2, sum1.RunID)
	}
	tts, err := LatestFindings(ctx, conn, Filter{Detectors: []string{NameTTSTTR}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tts) != 1 || tts[0].RunID != sum2.RunID || tts[0].PrevScore == nil || !near(*tts[0].PrevScore, 75) {
		t.Fatalf("run 2 tts_ttr findings: %+v", tts)
	}
	var delta float64
	if err := conn.QueryRow(ctx, "SELECT delta FROM "+RunsFindingsTable(NameTTSTTR, sum2.RunID)).Scan(&delta); err != nil || delta != 0 {
		t.Errorf("stored delta %v (err %v), want 0", delta, err)
	}
	// the other detectors' latest run is still run 1
	all, err := LatestFindings(ctx, conn, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(latest) {
		t.Errorf("latest findings after run 2: %d, want %d", len(all), len(latest))
	}
	// filters
	fl, err := LatestFindings(ctx, conn, Filter{EnterpriseID: "ENT-A", AnyFlags: []string{FlagSingleSource}, MinScore: 50, ChainLeader: true})
	if err != nil {
		t.Fatal(err)
	}
	var subs []string
	for _, f := range fl {
		subs = append(subs, f.Detector+":"+f.Subject)
	}
	sort.Strings(subs)
	if want := []string{"exposure:ENT-A|COMP-CHIP", "single_source:ENT-A|COMP-CHIP"}; len(subs) != 2 || subs[0] != want[0] || subs[1] != want[1] {
		t.Errorf("filtered findings %v, want %v", subs, want)
	}
	var runs uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM detector_runs WHERE status = 'ok'").Scan(&runs); err != nil || runs != 6 {
		t.Errorf("detector_runs ok rows %d (err %v), want 6", runs, err)
	}
	// metrics on the injected registry
	mfs, err := promReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		seen[mf.GetName()] = true
		if mf.GetName() == "chainwatch_detectors_findings_total" {
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == NameTTSTTR && m.GetCounter().GetValue() != 2 {
					t.Errorf("tts_ttr findings_total %v, want 2", m.GetCounter().GetValue())
				}
			}
		}
	}
	for _, n := range []string{"chainwatch_detectors_run_duration_seconds", "chainwatch_detectors_findings_total",
		"chainwatch_detectors_errors_total", "chainwatch_detectors_last_success_timestamp_seconds",
		"chainwatch_detectors_last_run_findings", "chainwatch_detectors_load_duration_seconds",
		"chainwatch_detectors_gc_after_run_duration_seconds"} {
		if !seen[n] {
			t.Errorf("metric %s not registered", n)
		}
	}
	// each run started a collection as it ended (the second none if the first's still ran)
	if !testenv.Until(10*time.Second, 20*time.Millisecond, func() bool {
		return histogramCount(t, promReg, "chainwatch_detectors_gc_after_run_duration_seconds") >= 1
	}) {
		t.Fatal("no collection observed 10 s after two runs ended")
	}
}

// TestWriteFindingsBlocksIntegration: a write of more findings than one native block goes out as
// several blocks of one INSERT whose buffers are reused; every row must come back with its own
// terms (0 to 7 of them), alternates and nullable figures, none mixed up with another block's.
func TestWriteFindingsBlocksIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	n := 2*insertChunk + 123
	fs := make([]Finding, n)
	for i := range fs {
		f := &fs[i]
		*f = Finding{RunID: "r-blocks", ComputedAt: now, Detector: NameSingleSource, SubjectType: SubjectEnterpriseComponent,
			Subject: fmt.Sprintf("E%06d|C%03d", i, i%997), Score: float64(i%100) + 0.5, WindowFrom: now, WindowTo: now,
			Flags: []string{fmt.Sprintf("f%d", i%5)}, Products: []string{}, Alternates: []Alternate{}}
		for k := range i % 8 {
			f.Terms = append(f.Terms, Term{Name: fmt.Sprintf("t%d", k), Value: float64(i*10 + k), Norm: 0.5, Weight: 1,
				Contribution: float64(k), Share: 0.1, Detail: fmt.Sprintf("detail %d of %d", k, i)})
		}
		if i%3 == 0 {
			f.PrevScore = ptr(float64(i))
			f.Alternates = []Alternate{{SupplierID: fmt.Sprintf("S%d", i), QualificationDays: float64(i % 365), Origin: "supply_map"}}
		}
	}
	if err := WriteFindings(ctx, conn, fs); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT subject, term_names, term_details, term_values, alternates_json, prev_score, flags
FROM findings WHERE run_id = 'r-blocks' ORDER BY subject`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var subject, alts string
		var names, details, flags []string
		var values []float64
		var prev *float64
		if err := rows.Scan(&subject, &names, &details, &values, &alts, &prev, &flags); err != nil {
			t.Fatal(err)
		}
		f := &fs[got] // subjects sort in write order
		if subject != f.Subject || len(names) != len(f.Terms) || len(details) != len(f.Terms) || len(values) != len(f.Terms) ||
			(prev == nil) != (f.PrevScore == nil) || flags[0] != f.Flags[0] {
			t.Fatalf("row %d: %s %v %v %v %v, want %+v", got, subject, names, details, values, prev, f)
		}
		for k, tm := range f.Terms {
			if names[k] != tm.Name || details[k] != tm.Detail || values[k] != tm.Value {
				t.Fatalf("row %d term %d: %s %q %v, want %+v", got, k, names[k], details[k], values[k], tm)
			}
		}
		if want := fmt.Sprintf(`"supplier_id":"S%d"`, got); (got%3 == 0) != strings.Contains(alts, want) {
			t.Fatalf("row %d alternates %s", got, alts)
		}
		got++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("%d rows read back, want %d", got, n)
	}
}
