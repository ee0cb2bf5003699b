package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// benchNow is the clock of the detector bench: synth data is generated relative to it and the
// runner scores as of it.
var benchNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// detChild is what one child process reports: a full run (load from ClickHouse, every detector,
// findings written), then, after a 1% change of the supply links, an incremental run.
type detChild struct {
	Wall        float64 `json:"wall_s"`
	Load        float64 `json:"load_s"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	Findings    int     `json:"findings"`
	Incremental float64 `json:"incremental_s"`
	IncrMode    string  `json:"incremental_mode"`
	Changed     int     `json:"changed_rows"`
	// IncrPeakRSSMiB is the peak RSS of the rescore after the change, the runner's memory from the
	// first run (load cache, memos, scores) included (VmHWM reset before it).
	IncrPeakRSSMiB float64 `json:"incremental_peak_rss_mib"`
	// IncrGoCPU and IncrClickHouseCPU are the CPU seconds (user + system) that this process and the
	// local ClickHouse server (its pid file under the project's state dir; -1: not found) used
	// during that rescore, background merges included: on two cores a rescore cannot take less
	// than their sum over two.
	IncrGoCPU         float64 `json:"incremental_go_cpu_s"`
	IncrClickHouseCPU float64 `json:"incremental_clickhouse_cpu_s"`
	// Later are the rescores after that one, each after another 1% change (other links) ingested
	// an hour after the one before (the daemon's interval); LaterMode is the last one's load.
	Later     []float64 `json:"later_rescores_s,omitempty"`
	LaterMode string    `json:"later_mode,omitempty"`
	// GCAfterRun is the mean wall time of the garbage collections the runner started as its runs
	// ended (Runner.collectGarbage), GCsAfterRun how many there were: the rescores above do not
	// include them.
	GCAfterRun  float64 `json:"gc_after_run_s"`
	GCsAfterRun int     `json:"gcs_after_run"`
}

type detSize struct {
	Edges     int        `json:"edges"`
	Links     int        `json:"links"`
	TradeRows int        `json:"trade_rows"`
	Rows      int        `json:"rows"`
	InsertS   float64    `json:"insert_s"`
	MemLimit  string     `json:"gomemlimit"` // the children's GOMEMLIMIT ("" = none)
	Runs      []detChild `json:"runs"`
	// Unlimited is one more run without GOMEMLIMIT (when the runs have one): Go's default pacing.
	Unlimited   *detChild `json:"run_without_gomemlimit,omitempty"`
	Wall        float64   `json:"median_wall_s"`
	Load        float64   `json:"median_load_s"`
	PeakRSSMiB  float64   `json:"median_peak_rss_mib"`
	Incremental float64   `json:"median_incremental_s"`
	IncrRSSMiB  float64   `json:"median_incremental_peak_rss_mib"`
	IncrGoCPU   float64   `json:"median_incremental_go_cpu_s"`
	IncrCHCPU   float64   `json:"median_incremental_clickhouse_cpu_s"`
	// Later is the median over the runs of each run's median later rescore (detChild.Later).
	Later float64 `json:"median_later_rescore_s,omitempty"`
	// LocalSourcing is the exposure metrics' local-sourcing read on this map (bench_regional).
	LocalSourcing *localSourcingBench `json:"local_sourcing,omitempty"`
}

type detSummary struct {
	Sizes    []detSize `json:"sizes"`
	Exponent float64   `json:"exponent"` // least-squares slope of log(wall) on log(links)
}

func benchDetConfig() detectors.Config {
	cfg := detectors.DefaultConfig()
	cfg.Chokepoint.Materials = map[string]detectors.ChokepointMaterial{"cobalt": {HSCodes: []string{"810520", "282200"}, SubstitutionIndex: 0.9}}
	return cfg
}

func benchDetectors(t *testing.T, runs int) *detSummary {
	spec := os.Getenv("CHAINWATCH_BENCH_EDGES")
	if spec == "" {
		spec = "10000,100000,1000000"
	}
	sum := &detSummary{}
	for _, s := range strings.Split(spec, ",") {
		edges, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("CHAINWATCH_BENCH_EDGES: %v", err)
		}
		t.Run(fmt.Sprintf("detectors-%d", edges), func(t *testing.T) {
			sum.Sizes = append(sum.Sizes, benchDetectorSize(t, edges, runs))
		})
	}
	var xs, ys []float64
	for _, s := range sum.Sizes {
		if s.Wall > 0 {
			xs, ys = append(xs, math.Log(float64(s.Links))), append(ys, math.Log(s.Wall))
		}
	}
	sum.Exponent = slope(xs, ys)
	return sum
}

func slope(xs, ys []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(xs))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	return num / den
}

// benchDetectorSize stores one synthetic network in a database, then runs the detectors in `runs`
// fresh child processes on a fresh copy of it each (so peak RSS is the child's own; the 1% change of
// one run does not leak into the next).
func benchDetectorSize(t *testing.T, edges, runs int) detSize {
	conn, ch := testenv.ClickHouse(t)
	leftovers.db(ch.Database, nil)
	ctx := context.Background()
	start := time.Now()
	st, rows := insertSynth(t, conn, edges)
	size := detSize{Edges: edges, Links: st.Links, TradeRows: st.ByKind[schemas.KindTrade], Rows: rows, InsertS: time.Since(start).Seconds()}
	t.Logf("%d edges: %d rows stored in %.1f s", edges, rows, size.InsertS)
	size.LocalSourcing = benchLocalSourcing(t, conn)
	t.Logf("%d edges: local sourcing %+v", edges, *size.LocalSourcing)
	size.MemLimit = benchMemLimit()
	run := func(r int, limit string) detChild {
		db := fmt.Sprintf("%s_r%d", ch.Database, r)
		copyDatabase(t, conn, ch.Database, db)
		waitMergesDone(t, conn, 3*time.Minute)
		c := runDetChild(t, db, fmt.Sprintf("det-%d-%d", edges, r), limit)
		leftovers.db(db, func() { _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db) })
		t.Logf("%d edges run %d (GOMEMLIMIT %q): %+v", edges, r, limit, c)
		return c
	}
	var walls, loads, rss, incr, incrRSS, goCPU, chCPU, later []float64
	for r := range runs {
		c := run(r, size.MemLimit)
		size.Runs = append(size.Runs, c)
		walls, loads, rss, incr = append(walls, c.Wall), append(loads, c.Load), append(rss, c.PeakRSSMiB), append(incr, c.Incremental)
		incrRSS, goCPU, chCPU = append(incrRSS, c.IncrPeakRSSMiB), append(goCPU, c.IncrGoCPU), append(chCPU, c.IncrClickHouseCPU)
		if len(c.Later) > 0 {
			later = append(later, median(c.Later))
		}
	}
	if len(later) > 0 {
		size.Later = median(later)
	}
	if size.MemLimit != "" { // one more run, without the limit
		c := run(runs, "")
		size.Unlimited = &c
	}
	size.Wall, size.Load, size.PeakRSSMiB, size.Incremental = median(walls), median(loads), median(rss), median(incr)
	size.IncrRSSMiB, size.IncrGoCPU, size.IncrCHCPU = median(incrRSS), median(goCPU), median(chCPU)
	return size
}

// benchMemLimit is the detector children's GOMEMLIMIT: CHAINWATCH_BENCH_GOMEMLIMIT, "off" for none,
// by default 920MiB, the Helm chart's rule (about 90% of the container's memory limit) for the
// 1 GiB the target allows.
func benchMemLimit() string {
	switch v := os.Getenv("CHAINWATCH_BENCH_GOMEMLIMIT"); v {
	case "":
		return "920MiB"
	case "off":
		return ""
	default:
		return v
	}
}

// copyDatabase creates db with the same tables as from (migrated) and copies the input tables.
func copyDatabase(t *testing.T, conn driver.Conn, from, to string) {
	t.Helper()
	ctx := context.Background()
	cfg := testenv.ClickHouseConfig(t)
	cfg.Database = to
	c, err := chstore.Open(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := chstore.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		cols := strings.Join(spec.AllColumns(), ", ")
		if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s) SELECT %s FROM %s.%s", to, spec.Table, cols, cols, from, spec.Table)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitMergesDone waits until the server runs no merge, at most max: the merges of the copy just
// made (and of the parts an earlier bench part left) are the bench's own setup, and would otherwise
// run beside the child's runs and take a varying part of the two cores (0.6 s of ClickHouse CPU
// during a 10k-edge rescore of 0.04 s of Go CPU). The merges the runs' own writes cause still
// run beside them, and count.
func waitMergesDone(t *testing.T, conn driver.Conn, max time.Duration) {
	t.Helper()
	start := time.Now()
	var n uint64
	if testenv.Until(max, 200*time.Millisecond, func() bool {
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.merges").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	}) {
		t.Logf("merges settled in %.1f s", time.Since(start).Seconds())
		return
	}
	t.Logf("%d merges still running after %s: the runs start anyway", n, max)
}

// insertSynth writes a synth network of `edges` links and 5 × edges trade rows to ClickHouse through
// the chstore insert helper, 100,000 rows a batch.
func insertSynth(t *testing.T, conn driver.Conn, edges int) (synth.Stats, int) {
	t.Helper()
	ctx := context.Background()
	bufs := map[schemas.Kind][][]any{}
	var err error
	n := 0
	flush := func(k schemas.Kind) {
		spec, _ := schemas.Lookup(k)
		if err == nil {
			err = chstore.Insert(ctx, conn, spec.InsertSQL(), bufs[k])
		}
		bufs[k] = bufs[k][:0]
	}
	st := synth.Generate(synth.Config{Edges: edges, TradeRows: 5 * edges, Seed: 1, Now: benchNow}, func(rec schemas.Record) {
		env, e := schemas.NewEnvelope("bench", rec, benchNow)
		if e != nil {
			err = e
			return
		}
		spec, _ := schemas.Lookup(env.Kind)
		row := rec.AppendValues(schemas.AppendEnvelope(make([]any, 0, len(spec.AllColumns())), &env))
		n++
		if bufs[env.Kind] = append(bufs[env.Kind], row); len(bufs[env.Kind]) >= 100_000 {
			flush(env.Kind)
		}
	})
	for k := range bufs {
		flush(k)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, n
}

func runDetChild(t *testing.T, db, name, memLimit string) detChild {
	t.Helper()
	if memLimit == "" {
		memLimit = "off" // the runtime's spelling; also overrides a GOMEMLIMIT of the bench's own
	}
	var c detChild
	benchChild(t, "TestBenchDetectorsChild", "BENCHCHILD", &c,
		"CHAINWATCH_BENCH_CHILD_DB="+db, "CHAINWATCH_BENCH_CHILD_NAME="+name, "GOMEMLIMIT="+memLimit)
	return c
}

// benchChild runs test (a TestBench…Child of this binary) in a process of its own, with env added
// to this one's, and decodes into out the JSON it printed on the line starting with prefix.
func benchChild(t *testing.T, test, prefix string, out any, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.timeout=60m")
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	if dir := os.Getenv("CHAINWATCH_BENCH_CHILD_LOGS"); dir != "" {
		// the child's whole output (GODEBUG=gctrace=1 goes there too), one file per child
		name := filepath.Join(dir, fmt.Sprintf("%s-%d.log", test, time.Now().UnixNano()))
		if werr := os.WriteFile(name, b, 0o644); werr != nil {
			t.Fatalf("%s: %v", test, werr)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", test, err, b)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if js, ok := strings.CutPrefix(l, prefix+" "); ok {
			if err := json.Unmarshal([]byte(js), out); err != nil {
				t.Fatalf("%s: %v", test, err)
			}
			return
		}
	}
	t.Fatalf("%s printed no result:\n%s", test, b)
}

// TestBenchDetectorsChild is one detector run in its own process (started by the bench).
func TestBenchDetectorsChild(t *testing.T) {
	db := os.Getenv("CHAINWATCH_BENCH_CHILD_DB")
	if db == "" {
		t.Skip("started by TestBench")
	}
	ctx := context.Background()
	cfg := testenv.ClickHouseConfig(t)
	cfg.Database = db
	conn, err := chstore.Open(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name := os.Getenv("CHAINWATCH_BENCH_CHILD_NAME")
	stopProf := childProfile(t, name)
	reg := prometheus.NewRegistry()
	runner, err := detectors.NewRunner(conn, benchDetConfig(), reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	runner.Now = func() time.Time { return benchNow }
	start := time.Now()
	sum, err := runner.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := detChild{Wall: time.Since(start).Seconds(), PeakRSSMiB: float64(procStatusKiB(os.Getpid(), "VmHWM")) / 1024}
	for _, d := range sum.Detectors {
		res.Findings += d.Findings
	}
	stopProf()
	// the load step alone (RunSummary.Load is measured on the runner's clock, fixed here)
	lstart := time.Now()
	if _, err := detectors.Load(ctx, conn, benchDetConfig(), benchNow); err != nil {
		t.Fatal(err)
	}
	res.Load = time.Since(lstart).Seconds()
	// "5" resets the process's peak RSS (VmHWM) to its current RSS (proc(5), clear_refs)
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", os.Getpid()), []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
	var cpu incrCPU
	childHeapProfile(t, profileName(name, ".incremental.before"))
	stopProf = childProfile(t, profileName(name, ".incremental"))
	res.Changed, res.Incremental, res.IncrMode, cpu = benchIncremental(t, conn, runner)
	stopProf()
	childHeapProfile(t, profileName(name, ".incremental"))
	res.IncrGoCPU, res.IncrClickHouseCPU = cpu.goSec, cpu.clickhouseSec
	res.IncrPeakRSSMiB = float64(procStatusKiB(os.Getpid(), "VmHWM")) / 1024
	res.Later, res.LaterMode = benchLaterRescores(t, conn, runner, benchRescores())
	res.GCsAfterRun, res.GCAfterRun = gcsAfterRun(t, reg, 2+len(res.Later))
	b, _ := json.Marshal(res)
	fmt.Printf("BENCHCHILD %s\n", b)
}

// profileName is the name of a child's profiles of one of its steps: name and the step's suffix
// ("" for none: a child without a name writes no profile).
func profileName(name, suffix string) string {
	if name == "" {
		return ""
	}
	return name + suffix
}

// childHeapProfile writes the heap profile (live objects, and all allocations so far) to
// <CHAINWATCH_BENCH_PPROF>/<name>.heap.pprof, after a collection: the rescore's allocations are
// the difference of the profiles written before and after it (go tool pprof -diff_base). That
// collection also changes the rescore's timing, so profiled runs are not the figures.
func childHeapProfile(t *testing.T, name string) {
	dir := os.Getenv("CHAINWATCH_BENCH_PPROF")
	if dir == "" || name == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name+".heap.pprof"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
}

func childProfile(t *testing.T, name string) func() {
	dir := os.Getenv("CHAINWATCH_BENCH_PPROF")
	if dir == "" || name == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// benchIncremental changes 1% of the supply links (a new version: half the inventory and half the
// share, as_of a day later, ingested now) and times the rescore of what changed, an hour later on
// the runner's clock.
func benchIncremental(t *testing.T, conn driver.Conn, runner *detectors.Runner) (int, float64, string, incrCPU) {
	t.Helper()
	return benchRescore(t, conn, runner, 0, time.Now().UTC())
}

// benchRescore is the k-th rescore after the first run (k from 0): it stores a new version of the
// (7+k)-th hundredth of the supply links, ingested at ingested, and times the rescore k+1 hours
// after the first run on the runner's clock (a run at the same clock would get a run id of the same
// second, which need not sort after the last run's), with the CPU this process and the local
// ClickHouse server used meanwhile.
func benchRescore(t *testing.T, conn driver.Conn, runner *detectors.Runner, k int, ingested time.Time) (int, float64, string, incrCPU) {
	t.Helper()
	changed := benchChange(t, conn, 7+k, ingested)
	runner.Now = func() time.Time { return benchNow.Add(time.Duration(1+k) * time.Hour) }
	chPID := localClickHousePID(t)
	go0, ch0 := procCPUSeconds(os.Getpid()), procCPUSeconds(chPID)
	start := time.Now()
	mode, err := incrementalRun(context.Background(), runner)
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start).Seconds()
	cpu := incrCPU{goSec: procCPUSeconds(os.Getpid()) - go0, clickhouseSec: -1}
	if ch1 := procCPUSeconds(chPID); chPID > 0 && ch0 >= 0 && ch1 >= 0 {
		cpu.clickhouseSec = ch1 - ch0
	}
	return changed, wall, mode, cpu
}

// benchRescores is how many rescores follow the first one in a detector child:
// CHAINWATCH_BENCH_RESCORES, by default 5.
func benchRescores() int {
	if n, err := strconv.Atoi(os.Getenv("CHAINWATCH_BENCH_RESCORES")); err == nil && n >= 0 {
		return n
	}
	return 5
}

// benchLaterRescores times n more rescores after the first (benchIncremental), each after a new
// version of another 1% of the supply links ingested an hour after the change before (the daemon's
// interval, so each change is a delta of its own: a change within deltaMargin of the one before
// would be read again with it). It returns the times and the last rescore's load.
func benchLaterRescores(t *testing.T, conn driver.Conn, runner *detectors.Runner, n int) ([]float64, string) {
	t.Helper()
	var walls []float64
	mode := ""
	ingested := time.Now().UTC()
	for k := 1; k <= n; k++ {
		_, wall, m, _ := benchRescore(t, conn, runner, k, ingested.Add(time.Duration(k)*time.Hour))
		walls, mode = append(walls, wall), m
	}
	return walls, mode
}

// gcsAfterRun returns how many collections the runner started as its runs ended, and their mean
// wall time, once runs of them are done (a run does not start one while the last still runs: after
// ten seconds it returns what there is).
func gcsAfterRun(t *testing.T, reg *prometheus.Registry, runs int) (int, float64) {
	t.Helper()
	var n int
	var sum float64
	testenv.Until(10*time.Second, 50*time.Millisecond, func() bool {
		if m := testenv.Metric(t, reg, "chainwatch_detectors_gc_after_run_duration_seconds"); m != nil {
			n, sum = int(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()
		}
		return n >= runs
	})
	if n == 0 {
		return 0, 0
	}
	return n, sum / float64(n)
}

// incrCPU is the CPU time a rescore took: this process's and the local ClickHouse server's.
type incrCPU struct{ goSec, clickhouseSec float64 }

// localClickHousePID is the pid of the ClickHouse server that deploy/local/clickhouse.sh started
// (its pid file under $CHAINWATCH_STATE, default the repository's .state), 0 when there is none.
func localClickHousePID(t *testing.T) int {
	state := os.Getenv("CHAINWATCH_STATE")
	if state == "" {
		state = filepath.Join(repoRoot(t), ".state")
	}
	pid, err := readPID(filepath.Join(state, "clickhouse", "clickhouse.pid"))
	if err != nil {
		return 0
	}
	return pid
}

// benchChange stores a new version of 1% of the supply links (the slice-th hundredth of their keys),
// ingested at ingested, and returns how many.
func benchChange(t *testing.T, conn driver.Conn, slice int, ingested time.Time) int {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT link_type, enterprise_id, product_id, component_id, supplier_id, qty_per_unit,
    share, qualification, inventory_units, consumption_per_day, as_of
FROM supply_links WHERE cityHash64(enterprise_id, product_id, component_id, supplier_id) % 100 = ?`, uint64(slice))
	if err != nil {
		t.Fatal(err)
	}
	var batch [][]any
	for rows.Next() {
		var l schemas.SupplyLink
		if err := rows.Scan(&l.LinkType, &l.EnterpriseID, &l.ProductID, &l.ComponentID, &l.SupplierID, &l.QtyPerUnit,
			&l.Share, &l.Qualification, &l.InventoryUnits, &l.ConsumptionPerDay, &l.AsOf); err != nil {
			t.Fatal(err)
		}
		l.InventoryUnits /= 2
		l.Share /= 2
		l.AsOf = l.AsOf.Add(24 * time.Hour)
		env, err := schemas.NewEnvelope("bench", &l, ingested)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, l.AppendValues(schemas.AppendEnvelope(nil, &env)))
	}
	rows.Close()
	spec, _ := schemas.Lookup(schemas.KindSupplyLink)
	if err := chstore.Insert(ctx, conn, spec.InsertSQL(), batch); err != nil {
		t.Fatal(err)
	}
	return len(batch)
}

// incrementalRun is the runner's next run after the change: tables unchanged since its last run are
// replayed from memory (detectors.LoadCache), the changed ones re-read, then a rescore that takes the
// unchanged pairs' metrics and findings from the last run (detectors.PairMemo, findingreuse.go).
func incrementalRun(ctx context.Context, runner *detectors.Runner) (string, error) {
	sum, err := runner.RunOnce(ctx)
	stored, copied, notBuilt := 0, 0, 0
	for _, d := range sum.Detectors {
		stored, copied, notBuilt = stored+d.Findings, copied+d.Carried, notBuilt+d.Reused
	}
	return fmt.Sprintf("reused %s, delta %s, betweenness %s, %d of %d pairs reused, %d of %d findings carried from the previous run (%d not built again)",
		strings.Join(sum.Reused, "+"), strings.Join(sum.Delta, "+"), sum.Betweenness, sum.PairsReused, sum.Pairs, copied, stored, notBuilt), err
}

func printDetectors(d *detSummary) {
	fmt.Printf("\ndetectors, real path (load from ClickHouse + full rescore of 5 detectors + findings written)\n")
	fmt.Printf("%-9s %-9s %-10s %-10s %-9s %-11s %-10s %-10s %s\n", "edges", "links", "trade", "insert_s", "load_s", "total_s", "rss_MiB", "incr_rss", "incremental_s (1% links)")
	for _, s := range d.Sizes {
		mode := ""
		if len(s.Runs) > 0 {
			mode = s.Runs[0].IncrMode
		}
		fmt.Printf("%-9d %-9d %-10d %-10.1f %-9.2f %-11.2f %-10.0f %-10.0f %.2f (%s)\n", s.Edges, s.Links, s.TradeRows, s.InsertS, s.Load, s.Wall, s.PeakRSSMiB, s.IncrRSSMiB, s.Incremental, mode)
	}
	for _, s := range d.Sizes {
		if len(s.Runs) > 0 && len(s.Runs[0].Later) > 0 {
			fmt.Printf("%-9d the %d rescores after it, each after another 1%% change an hour later: median %.2f s (first run: %s; last: %s)\n",
				s.Edges, len(s.Runs[0].Later), s.Later, fmtSeconds(s.Runs[0].Later), s.Runs[0].LaterMode)
		}
	}
	for _, s := range d.Sizes {
		if u := s.Unlimited; u != nil {
			fmt.Printf("%-9d without GOMEMLIMIT (the runs above: %s): total_s %.2f, rss_MiB %.0f, incremental_s %.2f\n", s.Edges, s.MemLimit, u.Wall, u.PeakRSSMiB, u.Incremental)
		}
	}
	for _, s := range d.Sizes {
		if s.IncrCHCPU >= 0 {
			fmt.Printf("%-9d the rescore's CPU (median): go %.2f s, clickhouse %.2f s (merges included): at least %.2f s on %d cores\n",
				s.Edges, s.IncrGoCPU, s.IncrCHCPU, (s.IncrGoCPU+s.IncrCHCPU)/float64(runtime.NumCPU()), runtime.NumCPU())
			if len(s.Runs) > 0 && s.Runs[0].GCsAfterRun > 0 {
				fmt.Printf("%-9d not in the times above: the collection each run starts as it ends, %.2f s of wall time (mean of %d, first child)\n",
					s.Edges, s.Runs[0].GCAfterRun, s.Runs[0].GCsAfterRun)
			}
		}
	}
	for _, s := range d.Sizes {
		if l := s.LocalSourcing; l != nil {
			fmt.Printf("%-9d exposure metrics' local-sourcing read (%d leaders, median of 3): whole map twice %.2f s, %.0f MiB allocated; leaders' links %.2f s, %.0f MiB; unchanged %.3f s, %.1f MiB\n",
				s.Edges, l.Leaders, l.WholeMapS, l.WholeMapMiB, l.LeadersS, l.LeadersMiB, l.UnchangedS, l.UnchangedMiB)
		}
	}
	fmt.Printf("growth exponent (log-log slope of total_s on links): %.2f (target <= 1.1; 1M edges target <= 10 s, <= 1024 MiB; incremental <= 1 s)\n", d.Exponent)
}

// fmtSeconds lists durations as "1.23 / 1.31 / …".
func fmtSeconds(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(parts, " / ")
}
