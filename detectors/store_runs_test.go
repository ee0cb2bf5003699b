package detectors

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// storedRun reads every finding of a findings table expression (RunsFindingsTable,
// LatestFindingsTable), with its delta, sorted by detector and subject.
func storedRun(t *testing.T, ctx context.Context, conn driver.Conn, table string) ([]Finding, []float64) {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(FindingColumns, ", ")+", delta FROM "+table+
		" ORDER BY detector, subject_type, subject")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var fs []Finding
	var deltas []float64
	for rows.Next() {
		f, err := ScanFinding(&extraColumn{Rows: rows, extra: &deltas})
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return fs, deltas
}

// extraColumn scans one more column (the stored delta, which ScanFinding recomputes) after a
// finding's columns.
type extraColumn struct {
	driver.Rows
	extra *[]float64
}

func (e *extraColumn) Scan(dest ...any) error {
	var d float64
	if err := e.Rows.Scan(append(dest, &d)...); err != nil {
		return err
	}
	*e.extra = append(*e.extra, d)
	return nil
}

// queryStrings returns the one String column of a query's rows.
func queryStrings(t *testing.T, ctx context.Context, conn driver.Conn, q string, args ...any) []string {
	t.Helper()
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameLatest requires the latest findings of A (delta runs) and B (full runs) to be equal but for
// their run ids, delta included, and returns A's.
func sameLatest(t *testing.T, ctx context.Context, step string, connA, connB driver.Conn) []Finding {
	t.Helper()
	gotA, deltaA := storedRun(t, ctx, connA, LatestFindingsTable(time.Time{}))
	gotB, deltaB := storedRun(t, ctx, connB, LatestFindingsTable(time.Time{}))
	if len(gotA) == 0 || len(gotA) != len(gotB) {
		t.Fatalf("%s: A has %d findings, B %d", step, len(gotA), len(gotB))
	}
	for i := range gotA {
		gotA[i].RunID, gotB[i].RunID = "", ""
		if !reflect.DeepEqual(gotA[i], gotB[i]) || deltaA[i] != deltaB[i] {
			t.Fatalf("%s: finding %s/%s differs:\n delta runs %+v (delta %v)\n  full runs %+v (delta %v)", step,
				gotA[i].Detector, gotA[i].Subject, gotA[i], deltaA[i], gotB[i], deltaB[i])
		}
	}
	return gotA
}

// writeRun stores one run of a detector as the runner does: its rows (from fs[tombstones] on as
// tombstones), then its run row.
func writeRun(t *testing.T, ctx context.Context, conn driver.Conn, rec RunRecord, fs []Finding, tombstones int) {
	t.Helper()
	if err := writeFindings(ctx, conn, fs, tombstones); err != nil {
		t.Fatal(err)
	}
	if err := WriteRuns(ctx, conn, []RunRecord{rec}); err != nil {
		t.Fatal(err)
	}
}

// TestDeltaRunsIntegration: a delta run stores its changed and new findings and a tombstone per
// gone subject; read through RunFindingsSQL, its unchanged findings are the base's rows with the
// run's id, computed_at, prev_score = score, delta 0 and the run's window (a window of their own
// is kept), the gone subject is not there, and subjects with quotes, backslashes, question marks
// and line breaks survive. A run that sends nothing reads as the one before it; a failed run's
// rows are never read, and the earlier runs still read as they were written.
func TestDeltaRunsIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t1 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	mk := func(subject string, score float64, runID string, at time.Time, own bool) Finding {
		f := hashFixture()
		f.Detector, f.Subject, f.Score, f.RunID, f.ComputedAt = NameSingleSource, subject, score, runID, at
		f.WindowFrom, f.WindowTo = at.AddDate(0, 0, -90), at
		if own {
			f.WindowFrom, f.WindowTo = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
		}
		return f
	}
	rec := func(runID string, at time.Time, base, status string) RunRecord {
		return RunRecord{RunID: runID, Detector: NameSingleSource, StartedAt: at, FinishedAt: at.Add(time.Minute), Status: status,
			WindowFrom: at.AddDate(0, 0, -90), WindowTo: at, BaseRunID: base, ComputedAt: at}
	}
	odd := "E'1\\|C?1\nline"
	prev := []Finding{mk("gone", 10, "run1", t1, false), mk("changed", 20, "run1", t1, false),
		mk("own-window", 30, "run1", t1, true), mk(odd, 40, "run1", t1, false)}
	writeRun(t, ctx, conn, rec("run1", t1, "", StatusOK), prev, len(prev))
	// another detector's rows of run1 must not be read as single_source's
	other := mk("changed", 99, "run1", t1, false)
	other.Detector = NameExposure
	if err := WriteFindings(ctx, conn, []Finding{other}); err != nil {
		t.Fatal(err)
	}
	changed, added := mk("changed", 25, "run2", t2, false), mk("new", 50, "run2", t2, false)
	changed.PrevScore, added.PrevScore = ptr(20.0), nil
	gone := Finding{RunID: "run2", ComputedAt: t2, Detector: NameSingleSource, SubjectType: SubjectEnterpriseComponent, Subject: "gone",
		WindowFrom: t2.AddDate(0, 0, -90), WindowTo: t2}
	writeRun(t, ctx, conn, rec("run2", t2, "run1", StatusOK), []Finding{changed, added, gone}, 2)
	got, deltas := storedRun(t, ctx, conn, RunsFindingsTable(NameSingleSource, "run2"))
	ownCopy, oddCopy := mk("own-window", 30, "run2", t2, true), mk(odd, 40, "run2", t2, false)
	ownCopy.PrevScore, oddCopy.PrevScore = ptr(30.0), ptr(40.0)
	want := []Finding{changed, oddCopy, added, ownCopy}
	slices.SortFunc(want, func(a, b Finding) int { return strings.Compare(a.Subject, b.Subject) })
	for i := range want {
		want[i].ComputedAt = want[i].ComputedAt.UTC()
	}
	check := func(step string, got []Finding, deltas []float64, want []Finding) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d findings, want %d: %+v", step, len(got), len(want), got)
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: finding %q:\n got %+v\nwant %+v", step, want[i].Subject, got[i], want[i])
			}
			if d := want[i].Delta(); deltas[i] != d {
				t.Errorf("%s: finding %q: delta %v, want %v", step, want[i].Subject, deltas[i], d)
			}
		}
	}
	check("run2", got, deltas, want)

	// run3 fails after writing a row; run4 sends nothing: it reads as run2, unchanged since
	t3, t4 := t2.Add(time.Hour), t2.Add(2*time.Hour)
	writeRun(t, ctx, conn, rec("run3", t3, "run1", StatusError), []Finding{mk("changed", 77, "run3", t3, false)}, 1)
	writeRun(t, ctx, conn, rec("run4", t4, "run1", StatusOK), nil, 0)
	want4 := make([]Finding, len(want))
	for i, f := range want {
		f.RunID, f.ComputedAt, f.PrevScore = "run4", t4, ptr(f.Score)
		if f.Subject != "own-window" {
			f.WindowFrom, f.WindowTo = t4.AddDate(0, 0, -90), t4
		}
		want4[i] = f
	}
	got4, deltas4 := storedRun(t, ctx, conn, RunsFindingsTable(NameSingleSource, "run4"))
	check("run4", got4, deltas4, want4)
	// the latest: run4's findings (the exposure row has no run row: it is never read)
	latest, deltasL := storedRun(t, ctx, conn, LatestFindingsTable(time.Time{}))
	check("latest", latest, deltasL, want4)
	view, deltasV := storedRun(t, ctx, conn, "findings_latest")
	check("the findings_latest view", view, deltasV, want4)
	named, deltasN := storedRun(t, ctx, conn, LatestFindingsTable(time.Time{}, NameSingleSource, NameChokepoint))
	check("latest of single_source and chokepoint", named, deltasN, want4)
	if other, _ := storedRun(t, ctx, conn, LatestFindingsTable(time.Time{}, NameExposure)); len(other) != 0 {
		t.Errorf("latest of exposure alone: %d findings, want none", len(other))
	}
	got3, _ := storedRun(t, ctx, conn, RunsFindingsTable(NameSingleSource, "run3"))
	if len(got3) != 0 {
		t.Errorf("the failed run3 reads as %d findings", len(got3))
	}
	// as of before run2 finished, the latest single_source run is run1, read as written
	asOf, _ := storedRun(t, ctx, conn, LatestFindingsTable(t2.Add(30*time.Second)))
	got1, _ := storedRun(t, ctx, conn, RunsFindingsTable(NameSingleSource, "run1"))
	want1 := slices.Clone(prev)
	slices.SortFunc(want1, func(a, b Finding) int { return strings.Compare(a.Subject, b.Subject) })
	for i := range want1 {
		want1[i].ComputedAt = want1[i].ComputedAt.UTC()
	}
	if !reflect.DeepEqual(got1, want1) || !reflect.DeepEqual(asOf, want1) {
		t.Errorf("run1 (by id, and as of before run2) no longer reads as written:\n got %+v\n as of %+v\nwant %+v", got1, asOf, want1)
	}
}

// TestFindingWriteColumnsIntegration: a findings write sends every column of the table (those of
// the migrations 0002 and 0009), so no column is left to a default by mistake.
func TestFindingWriteColumnsIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for table, cols := range map[string][]string{"findings": writeColumns, "detector_runs": RunColumns} {
		have := queryStrings(t, ctx, conn, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ? ORDER BY name", table)
		if want := slices.Sorted(slices.Values(cols)); !slices.Equal(have, want) {
			t.Errorf("%s has columns %v, a write sends %v", table, have, want)
		}
	}
}

// TestFindingsLatestView: the findings_latest view of migration 0009 is LatestFindingsTable with
// no as-of time, word for word.
func TestFindingsLatestView(t *testing.T) {
	ddl, err := schemas.MigrationDDL()
	if err != nil {
		t.Fatal(err)
	}
	const head = "CREATE VIEW IF NOT EXISTS findings_latest AS"
	var view string
	for _, s := range ddl {
		if strings.HasPrefix(strings.TrimSpace(s), head) {
			view = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), head)), ";")
		}
	}
	if view == "" {
		t.Fatal("no findings_latest view in the migrations")
	}
	if got, want := strings.Join(strings.Fields(view), " "), RunFindingsSQL(LatestRunsSQL(time.Time{})); got != want {
		t.Errorf("the view's query differs from LatestFindingsTable:\nview %s\ngo   %s", got, want)
	}
}

// TestRunnerCarryOverIntegration runs the detectors several times on two databases with the same
// data: one runner that carries its unchanged findings in delta runs (A), and a fresh runner each
// time, which has no previous run in memory and writes every finding in full runs (B). After a change of 1/20 of the
// supplies and stocks links (less inventory, half the share, every other one disqualified; with a
// cap on findings, so some subjects leave the top and others enter), and
// after a run with nothing changed but the clock, every stored finding of A must equal B's: score,
// terms, alternates, prev_score, delta, windows, computed_at.
func TestRunnerCarryOverIntegration(t *testing.T) {
	connA, _ := testenv.ClickHouse(t)
	connB, _ := testenv.ClickHouse(t)
	carryOverAB(t, connA, connB)
}

// TestClusterCarryOverIntegration is TestRunnerCarryOverIntegration with the delta runs on the 2×2
// cluster (their reads join and filter the Distributed findings and detector_runs tables, with
// distributed_product_mode = global; a subject's rows of two runs may sit on two shards) and the
// full runs on the single server.
func TestClusterCarryOverIntegration(t *testing.T) {
	cl := testenv.RequireCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := chstore.DefaultConfig()
	cfg.Cluster, cfg.Database, cfg.Addr, cfg.CreateDB = cl.Name, "cwcarry_"+testenv.Suffix(), cl.ClickHouse[:1], true
	connA, err := chstore.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer connA.Close()
	t.Cleanup(func() {
		_ = connA.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database+" ON CLUSTER "+cl.Name)
	})
	if _, err := chstore.MigrateConfig(ctx, connA, cfg); err != nil {
		t.Fatal(err)
	}
	connB, _ := testenv.ClickHouse(t)
	carryOverAB(t, connA, connB)
}

// abNetwork stores the same synthetic network of edges links in each database, ingested two hours
// before the returned time (the ingest time of the changes the tests make after).
func abNetwork(t *testing.T, ctx context.Context, edges int, conns ...driver.Conn) (time.Time, []schemas.Record) {
	t.Helper()
	ingested := time.Now().UTC().Truncate(time.Second)
	recs := memoNetwork(t, edges)
	for _, conn := range conns {
		insertRecords(t, ctx, conn, ingested.Add(-2*time.Hour), recs)
	}
	return ingested, recs
}

// carryOverAB is the body of the carry-over comparisons: A writes delta runs, B full runs. A, one
// runner over all the runs, also reuses its unchanged pairs' metrics (PairMemo); B, a fresh runner
// each time, computes them all.
func carryOverAB(t *testing.T, connA, connB driver.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ingested, recs := abNetwork(t, ctx, 3000, connA, connB)
	cfg := benchConfig()
	cfg.MaxFindingsPerDetector = 400
	// every run changes many findings here: let the chains grow as long as the runs go (the
	// bound itself: TestPlanWrite)
	old := maxDeltaShare
	maxDeltaShare = 100
	defer func() { maxDeltaShare = old }()
	runnerA, err := NewRunner(connA, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs := []string{}
	var lastA []Finding // A's stored findings after the latest run
	runSome := func(step string, at time.Time, wantCopies, wantReuse bool, names ...string) RunSummary {
		t.Helper()
		runnerA.Now = func() time.Time { return at }
		sumA, err := runnerA.RunOnce(ctx, names...)
		if err != nil {
			t.Fatalf("%s: A: %v", step, err)
		}
		runnerB, err := NewRunner(connB, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		runnerB.Now = runnerA.Now
		sumB, err := runnerB.RunOnce(ctx, names...)
		if err != nil {
			t.Fatalf("%s: B: %v", step, err)
		}
		runs = append(runs, sumA.RunID)
		copied, reused := 0, 0
		for _, d := range sumA.Detectors {
			copied, reused = copied+d.Carried, reused+d.Reused
		}
		for _, d := range sumB.Detectors {
			if d.Carried != 0 || d.Reused != 0 {
				t.Errorf("%s: B, a runner without a previous run in memory, carried %d findings of %s (%d not built)", step, d.Carried, d.Detector, d.Reused)
			}
		}
		// A's run is a delta run exactly when it carried findings, and writes only the sent ones
		var deltaRuns, rowsA uint64
		if err := connA.QueryRow(ctx, "SELECT countIf(base_run_id != '') FROM detector_runs WHERE run_id = ?", sumA.RunID).Scan(&deltaRuns); err != nil {
			t.Fatal(err)
		}
		if err := connA.QueryRow(ctx, "SELECT count() FROM findings WHERE run_id = ? AND removed = 0", sumA.RunID).Scan(&rowsA); err != nil {
			t.Fatal(err)
		}
		carrying, findingsA := 0, 0
		for _, d := range sumA.Detectors {
			findingsA += d.Findings - d.Carried
			if d.Carried > 0 {
				carrying++
			}
		}
		if int(deltaRuns) != carrying || int(rowsA) != findingsA {
			t.Errorf("%s: A wrote %d delta runs for %d detectors that carried findings, and %d rows for %d sent findings", step,
				deltaRuns, carrying, rowsA, findingsA)
		}
		// A takes unchanged findings from its previous run without building them, except in the
		// first run and when the copy falls back to a full write
		if wantReuse != (reused > 0) || reused > copied {
			t.Errorf("%s: A reused %d findings, copied %d", step, reused, copied)
		}
		if wantCopies != (copied > 0) {
			t.Errorf("%s: A copied %d findings", step, copied)
		}
		// A also takes the pairs whose inputs did not change from its last run (PairMemo); B,
		// fresh, computes every pair
		if sumB.PairsReused != 0 || sumA.Pairs != sumB.Pairs || sumA.Pairs == 0 ||
			len(runs) == 1 && sumA.PairsReused != 0 || len(runs) > 1 && sumA.PairsReused == 0 {
			t.Errorf("%s: A reused %d of %d pairs, B %d of %d", step, sumA.PairsReused, sumA.Pairs, sumB.PairsReused, sumB.Pairs)
		}
		gotA := sameLatest(t, ctx, step, connA, connB)
		lastA = gotA
		t.Logf("%s: %d findings, %d carried (%d not built again), %d of %d pairs reused", step, len(gotA), copied, reused, sumA.PairsReused, sumA.Pairs)
		return sumA
	}
	run := func(step string, at time.Time, wantCopies, wantReuse bool) {
		t.Helper()
		runSome(step, at, wantCopies, wantReuse)
	}
	run("first run", memoNow, false, false)

	// 1/20 of the supplies and stocks links (those with n%20 == at), less inventory and half the
	// share, every other one disqualified
	changeLinks := func(at int, asOf time.Duration) {
		var change []schemas.Record
		n := 0
		for _, r := range recs {
			l, ok := r.(*schemas.SupplyLink)
			if !ok || l.LinkType != schemas.LinkSupplies && l.LinkType != schemas.LinkStocks {
				continue
			}
			if n++; n%20 == at {
				c := *l
				c.InventoryUnits, c.Share, c.AsOf = c.InventoryUnits/4, c.Share/2, c.AsOf.Add(asOf)
				if n%40 == at {
					c.Qualification = "disqualified"
				}
				change = append(change, &c)
			}
		}
		for _, conn := range []driver.Conn{connA, connB} {
			insertRecords(t, ctx, conn, ingested, change)
		}
	}
	changeLinks(0, 24*time.Hour)
	run("1/20 of the supplies and stocks links changed", memoNow.Add(time.Hour), true, true)
	// A part of the component of a kept exposure pair goes end-of-life, nothing else changes: the
	// component's exposure findings change in their availability term only
	var part *schemas.ComponentAvailability
	for _, f := range lastA {
		if f.Detector == NameExposure && f.SubjectType == SubjectEnterpriseComponent && part == nil {
			part = &schemas.ComponentAvailability{PartNumber: "EOL-1", Manufacturer: "M", Distributor: "D",
				ComponentID: f.ComponentID, Stock: 10, Lifecycle: schemas.LifecycleEOL, AsOf: memoNow}
		}
	}
	if part == nil {
		t.Fatal("no kept exposure pair")
	}
	for _, conn := range []driver.Conn{connA, connB} {
		insertRecords(t, ctx, conn, ingested, []schemas.Record{part})
	}
	run("a part end-of-life", memoNow.Add(90*time.Minute), true, true)
	var gone uint64
	if err := connA.QueryRow(ctx, "SELECT count() FROM findings WHERE removed = 1 AND run_id IN (?, ?)", runs[1], runs[2]).Scan(&gone); err != nil {
		t.Fatal(err)
	}
	if gone == 0 {
		t.Error("no subject left the capped top between the runs: the test does not exercise the gone subjects")
	}
	// A new bom link: a product that the enterprise of a kept single_source pair makes now holds
	// the pair's component, so that pair's findings change in their products only.
	makes, bom := map[string][]string{}, map[[2]string]bool{}
	for _, r := range recs {
		if l, ok := r.(*schemas.SupplyLink); ok && l.LinkType == schemas.LinkMakes {
			makes[l.EnterpriseID] = append(makes[l.EnterpriseID], l.ProductID)
		} else if ok && l.LinkType == schemas.LinkBOM {
			bom[[2]string{l.ProductID, l.ComponentID}] = true
		}
	}
	var added *schemas.SupplyLink
	for _, f := range lastA {
		for _, p := range makes[f.EnterpriseID] {
			if f.Detector == NameSingleSource && added == nil && !bom[[2]string{p, f.ComponentID}] && len(f.Products) < maxProducts {
				added = &schemas.SupplyLink{LinkType: schemas.LinkBOM, ProductID: p, ComponentID: f.ComponentID, QtyPerUnit: 1, AsOf: memoNow}
			}
		}
	}
	if added == nil {
		t.Fatal("no kept single_source pair whose enterprise makes a product without its component")
	}
	for _, conn := range []driver.Conn{connA, connB} {
		insertRecords(t, ctx, conn, ingested, []schemas.Record{added})
	}
	run("a bom link added (one pair's products), an hour later", memoNow.Add(2*time.Hour), true, true)

	// A run of availability and exposure alone (the event-driven trigger's) after another change,
	// then a full run: single source and TTS/TTR, whose previous run is two runs back, still take
	// the findings of the pairs that have not changed since.
	changeLinks(5, 36*time.Hour)
	runSome("availability and exposure alone, after another change", memoNow.Add(150*time.Minute), true, true, NameAvailability, NameExposure)
	sum := runSome("a full run after the partial one", memoNow.Add(160*time.Minute), true, true)
	for _, d := range sum.Detectors {
		if (d.Detector == NameSingleSource || d.Detector == NameTTSTTR) && d.Reused == 0 {
			t.Errorf("after a partial run, %s took no finding from its own previous run", d.Detector)
		}
	}

	// Another 1/20 changed, a day later (UTC): every detector writes a full run, the day's
	// snapshot, so A, having taken findings as references, scores them again building every
	// finding; the next run is a delta run on that snapshot again.
	changeLinks(10, 48*time.Hour)
	before := runnerA.rescored.Load()
	run("another change, the next day: full runs", memoNow.Add(27*time.Hour), false, false)
	if runnerA.rescored.Load() == before {
		t.Error("no detector was scored again: the full run with references is not exercised")
	}
	changeLinks(15, 72*time.Hour)
	run("another change, an hour later: delta runs on the day's full runs", memoNow.Add(28*time.Hour), true, true)
}

// TestRunFindingsSQLOnCurrentClickHouseIntegration stores the same full, delta and failed runs
// on ClickHouse 18.16 and on a current ClickHouse engine (chdb; production targets current
// ClickHouse), and reads them through RunFindingsSQL on both: by run, the latest, the latest as of
// a time, and the findings_latest view must be what the delta runs mean, alike on both engines.
func TestRunFindingsSQLOnCurrentClickHouseIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t1 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t1.Add(time.Duration(h) * time.Hour) }
	type row struct {
		run, subject string
		score        float64
		prev         *float64
		own          bool // a window of its own
		removed      bool
	}
	type run struct {
		id, base, status string
		h                int
		rows             []row
	}
	runs := []run{
		{"run1", "", StatusOK, 0, []row{{"run1", "a", 10, nil, false, false}, {"run1", "b", 20, nil, true, false}, {"run1", "it's \\ ?", 30, nil, false, false}, {"run1", "z", 5, nil, false, false}}},
		{"run2", "run1", StatusOK, 1, []row{{"run2", "b", 25, ptr(20.0), false, false}, {"run2", "z", 0, nil, false, true}}},
		{"run3", "run1", StatusError, 2, []row{{"run3", "a", 99, ptr(10.0), false, false}}},
		{"run4", "run1", StatusOK, 3, []row{{"run4", "n", 40, nil, false, false}}},
	}
	window := func(r row, h int) (time.Time, time.Time) {
		if r.own {
			return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
		}
		return at(h).AddDate(0, 0, -90), at(h)
	}
	ts := func(t time.Time) string { return "toDateTime(" + strconv.FormatInt(t.Unix(), 10) + ")" }
	setup, err := schemas.MigrationDDL()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		var fs []Finding
		tomb := 0
		for _, x := range r.rows {
			wf, wt := window(x, r.h)
			f := Finding{RunID: x.run, ComputedAt: at(r.h), Detector: NameSingleSource, SubjectType: SubjectEnterpriseComponent,
				Subject: x.subject, Score: x.score, PrevScore: x.prev, WindowFrom: wf, WindowTo: wt}
			prev := "NULL"
			if x.prev != nil {
				prev = strconv.FormatFloat(*x.prev, 'f', -1, 64)
			}
			setup = append(setup, "INSERT INTO findings (run_id, computed_at, detector, subject_type, subject, score, prev_score, delta, "+
				"alternates_json, window_from, window_to, removed) VALUES ("+chstore.Quote(x.run)+", "+ts(at(r.h))+", 'single_source', "+
				"'enterprise_component', "+chstore.Quote(x.subject)+", "+strconv.FormatFloat(x.score, 'f', -1, 64)+", "+prev+", "+
				strconv.FormatFloat(f.Delta(), 'f', -1, 64)+", '[]', "+ts(wf)+", "+ts(wt)+", "+strconv.Itoa(int(b2u8(x.removed)))+")")
			if !x.removed {
				fs = append(fs, f)
				tomb++
			}
		}
		for _, x := range r.rows {
			if x.removed {
				wf, wt := window(x, r.h)
				fs = append(fs, Finding{RunID: x.run, ComputedAt: at(r.h), Detector: NameSingleSource,
					SubjectType: SubjectEnterpriseComponent, Subject: x.subject, WindowFrom: wf, WindowTo: wt})
			}
		}
		rec := RunRecord{RunID: r.id, Detector: NameSingleSource, StartedAt: at(r.h), FinishedAt: at(r.h).Add(time.Minute),
			Status: r.status, WindowFrom: at(r.h).AddDate(0, 0, -90), WindowTo: at(r.h), BaseRunID: r.base, ComputedAt: at(r.h)}
		writeRun(t, ctx, conn, rec, fs, tomb)
		setup = append(setup, "INSERT INTO detector_runs (run_id, detector, started_at, finished_at, findings, status, error, "+
			"window_from, window_to, base_run_id, computed_at) VALUES ("+chstore.Quote(r.id)+", 'single_source', "+ts(at(r.h))+", "+
			ts(at(r.h).Add(time.Minute))+", 0, "+chstore.Quote(r.status)+", '', "+ts(at(r.h).AddDate(0, 0, -90))+", "+ts(at(r.h))+", "+
			chstore.Quote(r.base)+", "+ts(at(r.h))+")")
	}
	line := "concat(run_id, '|', toString(toUInt32(computed_at)), '|', subject, '|', toString(score), '|', " +
		"ifNull(toString(prev_score), 'null'), '|', toString(delta), '|', toString(toUInt32(window_from)), '|', toString(toUInt32(window_to)))"
	tables := map[string]string{
		"run1":                     RunsFindingsTable(NameSingleSource, "run1"),
		"run2 and run4":            RunsFindingsTable(NameSingleSource, "run2", "run4", "run2"),
		"the failed run3":          RunsFindingsTable(NameSingleSource, "run3"),
		"latest":                   LatestFindingsTable(time.Time{}),
		"latest as of before run4": LatestFindingsTable(at(3)),
		"the findings_latest view": "findings_latest",
	}
	u := func(h int) string { return strconv.FormatInt(at(h).Unix(), 10) }
	w := func(h int) string { return strconv.FormatInt(at(h).AddDate(0, 0, -90).Unix(), 10) + "|" + u(h) }
	own := strconv.FormatInt(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), 10) + "|" + strconv.FormatInt(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC).Unix(), 10)
	run2 := []string{"run2|" + u(1) + "|a|10|10|0|" + w(1), "run2|" + u(1) + "|b|25|20|5|" + w(1), "run2|" + u(1) + "|it's \\ ?|30|30|0|" + w(1)}
	run4 := []string{"run4|" + u(3) + "|a|10|10|0|" + w(3), "run4|" + u(3) + "|b|25|25|0|" + w(3), "run4|" + u(3) + "|it's \\ ?|30|30|0|" + w(3), "run4|" + u(3) + "|n|40|null|0|" + w(3)}
	want := map[string][]string{
		"run1":                     {"run1|" + u(0) + "|a|10|null|0|" + w(0), "run1|" + u(0) + "|b|20|null|0|" + own, "run1|" + u(0) + "|it's \\ ?|30|null|0|" + w(0), "run1|" + u(0) + "|z|5|null|0|" + w(0)},
		"run2 and run4":            append(slices.Clone(run2), run4...),
		"the failed run3":          nil,
		"latest":                   run4,
		"latest as of before run4": run2,
		"the findings_latest view": run4,
	}
	names := slices.Sorted(maps.Keys(tables))
	var queries []string
	for _, n := range names {
		queries = append(queries, "SELECT "+line+" FROM "+tables[n]+" ORDER BY run_id, subject")
	}
	out := testenv.Chdb(t, setup, queries)
	if len(out.SetupErrors) > 0 {
		t.Fatalf("chdb %s: setup errors %v", out.Version, out.SetupErrors)
	}
	for i, n := range names {
		old := queryStrings(t, ctx, conn, queries[i])
		if !slices.Equal(old, want[n]) {
			t.Errorf("%s on ClickHouse 18.16:\n got %q\nwant %q", n, old, want[n])
		}
		r := out.Results[i]
		if r.Error != "" {
			t.Fatalf("chdb %s: %s: %s", out.Version, n, r.Error)
		}
		cur := strings.Split(strings.TrimSuffix(r.TSV, "\n"), "\n")
		if r.TSV == "" {
			cur = nil
		}
		if !slices.Equal(cur, want[n]) {
			t.Errorf("%s on chdb %s:\n got %q\nwant %q", n, out.Version, cur, want[n])
		}
	}
}

// TestDeltaWriteFailureIntegration: the delta runs' rows go in one insert once every detector
// has scored; when it fails, each delta run fails (its run row says why, and it is not the next
// run's previous run), and the next run is a delta run on the same full run again, whose findings
// equal those of a runner that writes every finding.
func TestDeltaWriteFailureIntegration(t *testing.T) {
	connA, _ := testenv.ClickHouse(t)
	connB, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ingested, recs := abNetwork(t, ctx, 1500, connA, connB)
	runner, err := NewRunner(connA, benchConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	runner.Now = func() time.Time { return memoNow }
	first, err := runner.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// a new version of one link in 10 (half the share), then the findings table away
	var change []schemas.Record
	for i, r := range recs {
		if l, ok := r.(*schemas.SupplyLink); ok && l.LinkType == schemas.LinkSupplies && i%10 == 0 {
			c := *l
			c.Share, c.AsOf = c.Share/2, c.AsOf.Add(24*time.Hour)
			change = append(change, &c)
		}
	}
	insertRecords(t, ctx, connA, ingested, change)
	if err := connA.Exec(ctx, "RENAME TABLE findings TO findings_away"); err != nil {
		t.Fatal(err)
	}
	runner.Now = func() time.Time { return memoNow.Add(time.Hour) }
	second, err := runner.RunOnce(ctx)
	if err == nil {
		t.Fatal("the run whose delta write failed returned no error")
	}
	if err := connA.Exec(ctx, "RENAME TABLE findings_away TO findings"); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, d := range second.Detectors {
		if d.Err == nil {
			continue
		}
		if !strings.Contains(d.Err.Error(), "delta run") {
			t.Errorf("%s failed with %v, want the delta write's error", d.Detector, d.Err)
		}
		failed++
	}
	var errRows uint64
	if err := connA.QueryRow(ctx, "SELECT count() FROM detector_runs WHERE run_id = ? AND status = 'error' AND error LIKE '%delta run%'",
		second.RunID).Scan(&errRows); err != nil {
		t.Fatal(err)
	}
	if failed == 0 || int(errRows) != failed {
		t.Fatalf("%d detectors failed in the delta write, %d run rows say so", failed, errRows)
	}
	runner.Now = func() time.Time { return memoNow.Add(2 * time.Hour) }
	third, err := runner.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bases := queryStrings(t, ctx, connA, "SELECT DISTINCT base_run_id FROM detector_runs WHERE run_id = ? AND base_run_id != ''", third.RunID)
	if !slices.Equal(bases, []string{first.RunID}) {
		t.Errorf("the run after the failed one builds on %v, want the first run %s", bases, first.RunID)
	}
	// B: fresh runners (full runs) at the first run's time, and after the change at the third's
	for i, at := range []time.Time{memoNow, memoNow.Add(2 * time.Hour)} {
		if i == 1 {
			insertRecords(t, ctx, connB, ingested, change)
		}
		runnerB, err := NewRunner(connB, benchConfig(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		runnerB.Now = func() time.Time { return at }
		if _, err := runnerB.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sameLatest(t, ctx, "after the failed delta write", connA, connB)
}

// TestDeltaRunsOffIntegration: with detectors.delta_runs false (a rolling upgrade from a release
// that reads only full runs), every run is written in full, the unchanged findings too.
func TestDeltaRunsOffIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	insertRecords(t, ctx, conn, time.Now().UTC().Add(-time.Hour), memoNetwork(t, 500))
	for k, on := range []bool{false, true} {
		cfg := benchConfig()
		cfg.DeltaRuns = on
		r, err := NewRunner(conn, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sums []RunSummary
		for h := range 2 {
			r.Now = func() time.Time { return memoNow.Add(time.Duration(2*k+h) * time.Hour) }
			s, err := r.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sums = append(sums, s)
		}
		var deltaRuns, rows uint64
		if err := conn.QueryRow(ctx, "SELECT countIf(base_run_id != '') FROM detector_runs WHERE run_id = ?", sums[1].RunID).Scan(&deltaRuns); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT count() FROM findings WHERE run_id = ?", sums[1].RunID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		carried, findings := 0, 0
		for _, d := range sums[1].Detectors {
			carried, findings = carried+d.Carried, findings+d.Findings
		}
		if on != (deltaRuns > 0) || on != (carried > 0) || !on && int(rows) != findings || on && int(rows) >= findings {
			t.Errorf("delta_runs %v: the second run wrote %d delta runs, %d rows for %d findings, carried %d", on, deltaRuns, rows, findings, carried)
		}
	}
}
