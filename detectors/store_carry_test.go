package detectors

import (
	"context"
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

// storedRun reads every finding of one run, with its stored delta, sorted by subject.
func storedRun(t *testing.T, ctx context.Context, conn driver.Conn, cond string) ([]Finding, []float64) {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(FindingColumns, ", ")+", delta FROM findings WHERE "+cond+
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

// TestWriteFindingsCarriedIntegration: the copy inside ClickHouse gives the unchanged findings the
// new run's id, computed_at, prev_score = score, delta 0 and the new run's window (a window of
// their own is kept); the sent findings are stored as sent, the gone subject is not copied, and
// subjects with quotes, backslashes, question marks and line breaks survive the statement.
func TestWriteFindingsCarriedIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t1 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	w1, w2 := windowOf(t1.AddDate(0, 0, -90), t1), windowOf(t2.AddDate(0, 0, -90), t2)
	mk := func(subject string, score float64, runID string, at time.Time, own bool) Finding {
		f := hashFixture()
		f.Detector, f.Subject, f.Score, f.RunID, f.ComputedAt = NameSingleSource, subject, score, runID, at
		f.WindowFrom, f.WindowTo = at.AddDate(0, 0, -90), at
		if own {
			f.WindowFrom, f.WindowTo = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
		}
		return f
	}
	odd := "E'1\\|C?1\nline"
	prev := []Finding{mk("gone", 10, "run1", t1, false), mk("changed", 20, "run1", t1, false),
		mk("own-window", 30, "run1", t1, true), mk(odd, 40, "run1", t1, false)}
	if err := WriteFindings(ctx, conn, prev); err != nil {
		t.Fatal(err)
	}
	// another detector's rows of run1 must not be copied
	other := mk("changed", 99, "run1", t1, false)
	other.Detector = NameExposure
	if err := WriteFindings(ctx, conn, []Finding{other}); err != nil {
		t.Fatal(err)
	}
	changed, added := mk("changed", 25, "run2", t2, false), mk("new", 50, "run2", t2, false)
	changed.PrevScore, added.PrevScore = ptr(20.0), nil
	c := carryOver{Detector: NameSingleSource, PrevRunID: "run1", RunID: "run2", ComputedAt: t2, PrevWindow: w1, Window: w2,
		Removed: []string{SubjectEnterpriseComponent + "\x00gone"}}
	if err := writeFindingsCarried(ctx, conn, []Finding{changed, added}, c); err != nil {
		t.Fatal(err)
	}
	got, deltas := storedRun(t, ctx, conn, "run_id = 'run2'")
	ownCopy, oddCopy := mk("own-window", 30, "run2", t2, true), mk(odd, 40, "run2", t2, false)
	ownCopy.PrevScore, oddCopy.PrevScore = ptr(30.0), ptr(40.0)
	want := []Finding{changed, oddCopy, added, ownCopy}
	slices.SortFunc(want, func(a, b Finding) int { return strings.Compare(a.Subject, b.Subject) })
	for i := range want {
		want[i].ComputedAt = want[i].ComputedAt.UTC()
	}
	if len(got) != len(want) {
		t.Fatalf("run2 has %d findings, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("finding %q:\n got %+v\nwant %+v", want[i].Subject, got[i], want[i])
		}
		if d := want[i].Delta(); deltas[i] != d {
			t.Errorf("finding %q: stored delta %v, want %v", want[i].Subject, deltas[i], d)
		}
	}
	// run3 sends nothing: every finding of run2 is copied
	t3 := t2.Add(time.Hour)
	c3 := carryOver{Detector: NameSingleSource, PrevRunID: "run2", RunID: "run3", ComputedAt: t3, PrevWindow: w2, Window: w2}
	if err := writeFindingsCarried(ctx, conn, nil, c3); err != nil {
		t.Fatal(err)
	}
	got3, _ := storedRun(t, ctx, conn, "run_id = 'run3'")
	if len(got3) != len(want) {
		t.Fatalf("run3 has %d findings, want the %d of run2", len(got3), len(want))
	}
	for i := range got3 {
		if got3[i].Subject != want[i].Subject || got3[i].Score != want[i].Score || got3[i].PrevScore == nil || *got3[i].PrevScore != want[i].Score {
			t.Errorf("run3 finding %d: %+v, want %q with score and prev_score %v", i, got3[i], want[i].Subject, want[i].Score)
		}
	}
}

// TestFindingColumnTypesIntegration: the sent findings' external table is declared with the
// findings table's own column types.
func TestFindingColumnTypesIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'findings'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var n, ty string
		if err := rows.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		types[n] = ty
	}
	if len(types) != len(FindingColumns) || len(FindingColumnTypes) != len(FindingColumns) {
		t.Fatalf("findings has %d columns, FindingColumns %d, FindingColumnTypes %d", len(types), len(FindingColumns), len(FindingColumnTypes))
	}
	for i, c := range FindingColumns {
		if types[c] != FindingColumnTypes[i] {
			t.Errorf("column %s: table type %q, FindingColumnTypes says %q", c, types[c], FindingColumnTypes[i])
		}
	}
}

// TestRunnerCarryOverIntegration runs the detectors three times on two databases with the same
// data: one runner that copies its unchanged findings (A), and a fresh runner each time, which
// has no previous run in memory and writes every finding (B). After a change of 1/20 of the
// supplies and stocks links (less inventory, half the share, every other one disqualified; with a
// cap on findings, so some subjects leave the top and others enter), and
// after a run with nothing changed but the clock, every stored finding of A must equal B's: score,
// terms, alternates, prev_score, delta, windows, computed_at.
func TestRunnerCarryOverIntegration(t *testing.T) {
	connA, _ := testenv.ClickHouse(t)
	connB, _ := testenv.ClickHouse(t)
	carryOverAB(t, connA, connB)
}

// TestClusterCarryOverIntegration is TestRunnerCarryOverIntegration with the copying runner on the
// 2×2 cluster (the copy reads and writes the Distributed findings table, with distributed_product_mode
// = global) and the full writes on the single server.
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

// carryOverAB is the body of the carry-over comparisons: A copies, B writes every finding. A, one
// runner over all the runs, also reuses its unchanged pairs' metrics (PairMemo); B, a fresh runner
// each time, computes them all.
func carryOverAB(t *testing.T, connA, connB driver.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ingested := time.Now().UTC().Truncate(time.Second)
	recs := memoNetwork(t, 3000)
	for _, conn := range []driver.Conn{connA, connB} {
		insertRecords(t, ctx, conn, ingested.Add(-2*time.Hour), recs)
	}
	cfg := benchConfig()
	cfg.MaxFindingsPerDetector = 400
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
			copied, reused = copied+d.Copied, reused+d.Reused
		}
		for _, d := range sumB.Detectors {
			if d.Copied != 0 || d.Reused != 0 {
				t.Errorf("%s: B, a runner without a previous run in memory, copied %d findings of %s (%d not built)", step, d.Copied, d.Detector, d.Reused)
			}
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
		gotA, deltaA := storedRun(t, ctx, connA, LatestRunsCondition(time.Time{}))
		gotB, deltaB := storedRun(t, ctx, connB, LatestRunsCondition(time.Time{}))
		if len(gotA) == 0 || len(gotA) != len(gotB) {
			t.Fatalf("%s: A stored %d findings, B %d", step, len(gotA), len(gotB))
		}
		for i := range gotA {
			gotA[i].RunID, gotB[i].RunID = "", ""
			if !reflect.DeepEqual(gotA[i], gotB[i]) || deltaA[i] != deltaB[i] {
				t.Fatalf("%s: finding %s/%s differs:\ncopying runner %+v (delta %v)\n  full writes %+v (delta %v)", step,
					gotA[i].Detector, gotA[i].Subject, gotA[i], deltaA[i], gotB[i], deltaB[i])
			}
		}
		lastA = gotA
		t.Logf("%s: %d findings, %d copied (%d not built again), %d of %d pairs reused", step, len(gotA), copied, reused, sumA.PairsReused, sumA.Pairs)
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
	if err := connA.QueryRow(ctx, "SELECT count() FROM findings WHERE run_id = ? AND (detector, subject_type, subject) NOT IN "+
		"(SELECT detector, subject_type, subject FROM findings WHERE run_id = ?)", runs[0], runs[1]).Scan(&gone); err != nil {
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

	// Another 1/20 changed, and the list of gone subjects allowed no byte: every detector with a
	// gone subject falls back to a full write, so A, having taken findings as references, scores
	// those detectors again building every finding.
	changeLinks(10, 48*time.Hour)
	old := maxRemovedBytes
	maxRemovedBytes = 0
	defer func() { maxRemovedBytes = old }()
	before := runnerA.rescored.Load()
	run("another change, the copy falls back to full writes", memoNow.Add(3*time.Hour), true, false)
	if runnerA.rescored.Load() == before {
		t.Error("no detector was scored again: the fallback with references is not exercised")
	}
}

// TestCarryOverSQLOnCurrentClickHouseIntegration runs the copy statement on a current ClickHouse
// engine (chdb; production targets current ClickHouse, the tests' server is 18.16): the sent
// subject and the gone one are not copied, the unchanged one is, with the run's columns rewritten.
func TestCarryOverSQLOnCurrentClickHouseIntegration(t *testing.T) {
	setup, err := schemas.MigrationDDL()
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	w1, w2 := windowOf(t1.AddDate(0, 0, -90), t1), windowOf(t2.AddDate(0, 0, -90), t2)
	row := func(run, subject string, score float64, w runWindow) string {
		return "INSERT INTO findings (run_id, detector, subject_type, subject, score, window_from, window_to) VALUES (" +
			chstore.Quote(run) + ", 'single_source', 'enterprise_component', " + chstore.Quote(subject) + ", " +
			strconv.FormatFloat(score, 'f', -1, 64) + ", toDateTime(" + strconv.FormatInt(w.from, 10) + "), toDateTime(" +
			strconv.FormatInt(w.to, 10) + "))"
	}
	// the sent finding is in a table named as the external table the daemon sends with the statement
	setup = append(setup, row("run1", "gone", 10, w1), row("run1", "sent", 20, w1), row("run1", "it's \\ ?", 30, w1),
		"CREATE TABLE "+sentTable+" AS findings",
		strings.Replace(row("run2", "sent", 25, w2), "INSERT INTO findings", "INSERT INTO "+sentTable, 1))
	c := carryOver{Detector: NameSingleSource, PrevRunID: "run1", RunID: "run2", ComputedAt: t2, PrevWindow: w1, Window: w2,
		Removed: []string{SubjectEnterpriseComponent + "\x00gone"}}
	out := testenv.Chdb(t, setup, []string{
		c.copySQL(sentTable),
		"SELECT subject FROM findings WHERE run_id = 'run2'",
		"SELECT subject FROM findings WHERE run_id = 'run2' AND subject = 'it''s \\\\ ?' AND prev_score = score AND delta = 0 AND " +
			"computed_at = toDateTime(" + strconv.FormatInt(t2.Unix(), 10) + ") AND window_from = toDateTime(" +
			strconv.FormatInt(w2.from, 10) + ") AND window_to = toDateTime(" + strconv.FormatInt(w2.to, 10) + ")",
		"SELECT subject FROM findings WHERE run_id = 'run2' AND subject = 'sent' AND score = 25",
	})
	if len(out.SetupErrors) > 0 {
		t.Fatalf("chdb %s: setup errors %v", out.Version, out.SetupErrors)
	}
	for i, r := range out.Results {
		if r.Error != "" {
			t.Fatalf("chdb %s: query %d: %s", out.Version, i, r.Error)
		}
	}
	if got := out.Results[1].Rows; got != 2 {
		t.Errorf("chdb %s: run2 has %d findings, want 2 (the sent one and the copied one)", out.Version, got)
	}
	if got := out.Results[3].Rows; got != 1 {
		t.Errorf("chdb %s: run2 has %d findings of the sent subject, want 1 with the sent score", out.Version, got)
	}
	if got := out.Results[2].Rows; got != 1 {
		t.Errorf("chdb %s: the copied finding does not have the new run's columns", out.Version)
	}
}
