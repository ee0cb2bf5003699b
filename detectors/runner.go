package detectors

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
)

// Runner loads Inputs from ClickHouse, runs the registered detectors and writes each detector's
// findings and its detector_runs row. One RunOnce is one versioned run (one run_id).
type Runner struct {
	conn driver.Conn
	cfg  Config
	log  *slog.Logger
	reg  *Registry
	m    *metrics
	// Now is the clock (tests may replace it).
	Now func() time.Time
	// last holds, per detector, the scores this runner wrote in its latest successful run, so the
	// next run reads its prev_score from memory instead of the findings table.
	last   map[string]runScores
	lastMu sync.Mutex
	cache  *LoadCache
	memo   *BetweennessMemo
	pairs  *PairMemo
	// rescored counts the detector runs scored again without references (Runner.prepare).
	rescored atomic.Int64
	// collecting is set while the collection started by the end of a run runs (collectGarbage).
	collecting atomic.Bool
}

// runScores are one run's subjects: subject_type\x00subject → score and findingHash, and the
// run's window (the hashes' reference).
type runScores struct {
	runID    string
	window   runWindow
	subjects map[subjectKey]subjectState
	hashed   bool // false when read back from the findings table (scores only)
	chain    runChain
}

// runChain is where a stored run sits in its chain (store_runs.go): the full run it builds on
// (its own id when it is full; "" when unknown, read back from the findings table), the UTC day
// of that base, the rows the base wrote, and the delta runs since the base with the rows they
// wrote (findings and tombstones).
type runChain struct {
	base      string
	baseDay   int64
	baseRows  int
	deltas    int
	deltaRows int
}

// Bounds of a chain: a run is written in full when the detector's last full run was on an earlier
// UTC day (so each day starts with a full snapshot, which the dashboards' daily history reads), or
// when maxChainDeltas delta runs already build on it, or when the delta rows would pass half the
// base's rows. A reader of a run reads its base and all the deltas up to it, so these bound what
// a read costs beyond the run's own findings. (maxDeltaShare is a variable for the tests that
// compare long chains of delta runs with full runs.)
const maxChainDeltas = 96

var maxDeltaShare = 0.5

// utcDay is t's day number (Unix days, UTC).
func utcDay(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// after returns the chain of the run a write plans: a full run starts a chain, a delta run of rows
// rows extends prev's.
func (c runChain) after(w findingsWrite, runID string, computedAt time.Time) runChain {
	if w.base == "" {
		return runChain{base: runID, baseDay: utcDay(computedAt), baseRows: len(w.sent)}
	}
	c.deltas++
	c.deltaRows += len(w.sent) + len(w.gone)
	return c
}

// subjectKey is a finding's subject: its type and id (the two strings of the finding, no copy).
type subjectKey struct{ typ, subject string }

type subjectState struct {
	score float64
	hash  uint64
}

type metrics struct {
	duration    *prometheus.HistogramVec
	findings    *prometheus.CounterVec
	lastFinds   *prometheus.GaugeVec
	errors      *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	load        prometheus.Histogram
	tables      *prometheus.CounterVec
	betweenness *prometheus.CounterVec
	pairs       *prometheus.CounterVec
	stored      *prometheus.CounterVec
	gc          prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, names []string) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chainwatch_detectors_run_duration_seconds", Help: "Wall time of one detector run (scoring and writing).",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}, []string{"detector"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_detectors_findings_total", Help: "Findings written, by detector."}, []string{"detector"}),
		lastFinds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chainwatch_detectors_last_run_findings", Help: "Findings of the detector's last successful run."}, []string{"detector"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_detectors_errors_total", Help: "Failed detector runs (load, scoring or write)."}, []string{"detector"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chainwatch_detectors_last_success_timestamp_seconds", Help: "Unix time of the detector's last successful run."}, []string{"detector"}),
		load: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chainwatch_detectors_load_duration_seconds", Help: "Wall time of loading the detectors' inputs from ClickHouse.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}),
		tables: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_detectors_load_steps_total",
			Help: "Input queries per run, by outcome: read from ClickHouse, reused from memory (table unchanged since the last run), or delta (only the keys changed since the last read, patched into memory)."},
			[]string{"step", "outcome"}),
		betweenness: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_detectors_betweenness_total",
			Help: "Graph betweenness per run, by outcome: computed, or reused from the runner's last run (graph unchanged)."},
			[]string{"outcome"}),
		pairs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_detectors_pairs_total",
			Help: "Enterprise × component pairs analysed, by how: computed, or reused from the runner's last run (the pair's inputs unchanged)."},
			[]string{"how"}),
		stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_detectors_findings_stored_total",
			Help: "Findings stored, by detector and how: sent by the daemon (new or changed since the detector's previous run, or every finding of a full run), or carried: unchanged, stored by a delta run as the rows of its chain, not written again."},
			[]string{"detector", "how"}),
		gc: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chainwatch_detectors_gc_after_run_duration_seconds",
			Help:    "Wall time of the garbage collection a detector run starts as it ends: the run's garbage is collected while the daemon waits for the next run, not during it.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}),
	}
	m.betweenness.WithLabelValues("computed")
	m.betweenness.WithLabelValues("reused")
	m.pairs.WithLabelValues("computed")
	m.pairs.WithLabelValues("reused")
	for _, s := range loadSteps {
		m.tables.WithLabelValues(s.name, "read")
		m.tables.WithLabelValues(s.name, "reused")
		if s.delta != nil {
			m.tables.WithLabelValues(s.name, "delta")
		}
	}
	for _, n := range names {
		m.duration.WithLabelValues(n)
		m.findings.WithLabelValues(n)
		m.lastFinds.WithLabelValues(n)
		m.errors.WithLabelValues(n)
		m.lastSuccess.WithLabelValues(n)
		m.stored.WithLabelValues(n, "sent")
		m.stored.WithLabelValues(n, "carried")
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.duration, m.findings, m.lastFinds, m.errors, m.lastSuccess, m.load, m.tables, m.betweenness, m.pairs, m.stored, m.gc} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("detectors: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// NewRunner builds the registry of enabled detectors and registers the metrics on reg (nil: not
// registered). cfg must have passed config validation.
func NewRunner(conn driver.Conn, cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Runner, error) {
	r, err := NewRegistry(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg, r.Names())
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rn := &Runner{conn: conn, cfg: cfg, log: log, reg: r, m: m, Now: time.Now, last: map[string]runScores{}}
	if cfg.LoadCache {
		rn.cache, rn.memo, rn.pairs = NewLoadCache(), NewBetweennessMemo(), NewPairMemo()
	}
	return rn, nil
}

// Registry returns the runner's detectors.
func (r *Runner) Registry() *Registry { return r.reg }

// DetectorSummary is the outcome of one detector in a run.
type DetectorSummary struct {
	Detector string
	Findings int
	// Carried of the Findings were unchanged since the detector's previous run and stay stored as
	// the rows of the run's chain (a delta run, store_runs.go); the others were sent. Reused of the
	// Carried were not even built again: their subject's inputs had not changed (findingreuse.go).
	Carried  int
	Reused   int
	Duration time.Duration
	Err      error
}

// RunSummary is the outcome of RunOnce.
type RunSummary struct {
	RunID      string
	StartedAt  time.Time
	FinishedAt time.Time
	Load       time.Duration
	Reused     []string // input tables replayed from memory (unchanged since the runner's last run)
	Delta      []string // input tables patched with the keys changed since the runner's last read
	// Betweenness is "computed", "reused" (the graph was the same as in the runner's last run) or ""
	// (no detector needed the graph).
	Betweenness string
	// Pairs is the number of enterprise × component pairs analysed, PairsReused how many of them
	// took their metrics from the runner's last run (PairMemo); both 0 when no detector needed them.
	Pairs, PairsReused int
	Detectors          []DetectorSummary
}

// NewRunID returns a run id that sorts by time: "20060102T150405.000Z-" + 8 hex digits.
func NewRunID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

// RunOnce runs the named detectors (all enabled ones when none are named) as one run: load inputs,
// score, write findings (with prev_score from each detector's previous successful run) and a
// detector_runs row per detector. A failing detector does not stop the others; the error returned
// joins every failure.
func (r *Runner) RunOnce(ctx context.Context, names ...string) (RunSummary, error) {
	dets, err := r.reg.Select(names...)
	if err != nil {
		return RunSummary{}, err
	}
	defer r.collectGarbage()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	start := r.Now().UTC()
	sum := RunSummary{RunID: NewRunID(start), StartedAt: start}
	selected := make([]string, len(dets)) // the detectors' names, in registry order
	for i, d := range dets {
		selected[i] = d.Name()
	}
	prev := r.previousRuns(ctx, selected, sum.RunID)
	t0 := time.Now()
	in, ls, err := r.cache.Load(ctx, r.conn, r.cfg, start)
	sum.Load, sum.Reused, sum.Delta = time.Since(t0), ls.Reused, ls.Delta
	for outcome, steps := range map[string][]string{"read": ls.Read, "reused": ls.Reused, "delta": ls.Delta} {
		for _, t := range steps {
			r.m.tables.WithLabelValues(t, outcome).Inc()
		}
	}
	r.m.load.Observe(sum.Load.Seconds())
	if in != nil {
		in.betweenness, in.pairMemo, in.runID = r.memo, r.pairs, sum.RunID
	}
	if err != nil {
		recs := make([]RunRecord, len(dets))
		for i, d := range dets {
			r.m.errors.WithLabelValues(d.Name()).Inc()
			sum.Detectors = append(sum.Detectors, DetectorSummary{Detector: d.Name(), Err: err})
			recs[i] = RunRecord{RunID: sum.RunID, Detector: d.Name(), StartedAt: start,
				FinishedAt: r.Now(), Status: StatusError, Error: err.Error(), WindowFrom: start, WindowTo: start}
		}
		sum.FinishedAt = r.Now().UTC()
		return sum, errors.Join(fmt.Errorf("run %s: %w", sum.RunID, err), r.record(ctx, recs))
	}
	// The detectors score concurrently, at most one per CPU (scoreParallelism), each started in
	// scoreOrder as a slot frees; the first to ask for the analysis computes it while the others
	// wait for it (Inputs.Analysis), and each detector only reads it. Each detector's findings are
	// written as soon as it has scored, while the others still score, a full write after the full
	// write before it (its batch buffers are a large part of a run's memory); the delta runs'
	// rows, a few thousand in a rescore, are written together once all have scored (writeDeltas).
	// The run rows of all the detectors are written together once every write has ended (one
	// insert: on ClickHouse 18.16 each costs about 25 ms of server CPU), so the run's detectors
	// become readable at once. The summaries stay in registry order.
	done := make([]finished, len(dets))
	var writing sync.WaitGroup
	var fullWrite sync.Mutex
	scoring := make(chan struct{}, scoreParallelism())
	for _, i := range r.scoreOrder(selected) {
		d := dets[i]
		scoring <- struct{}{}
		writing.Add(1)
		go func() {
			defer writing.Done()
			store := r.runOne(ctx, d, in, prev, sum.RunID, start, &fullWrite)
			<-scoring
			done[i] = store()
		}()
	}
	writing.Wait()
	r.writeDeltas(ctx, done, sum.RunID)
	sum.Detectors = r.commit(ctx, done)
	sum.Betweenness, sum.Pairs, sum.PairsReused = analysisOutcome(in)
	if sum.Betweenness != "" {
		r.m.betweenness.WithLabelValues(sum.Betweenness).Inc()
	}
	r.m.pairs.WithLabelValues("reused").Add(float64(sum.PairsReused))
	r.m.pairs.WithLabelValues("computed").Add(float64(sum.Pairs - sum.PairsReused))
	var errs []error
	for _, ds := range sum.Detectors {
		if ds.Err != nil {
			errs = append(errs, fmt.Errorf("run %s: detector %s: %w", sum.RunID, ds.Detector, ds.Err))
		}
	}
	sum.FinishedAt = r.Now().UTC()
	return sum, errors.Join(errs...)
}

// collectGarbage starts a garbage collection on a goroutine of its own, unless the one the last
// run started still runs. A run leaves most of what it allocated as garbage (about 400 MB in a
// rescore at 1M edges: the findings, their explanations, the scratch of the analysis); collected
// at once, while the daemon waits for its next run, it is not collected during that run, when the
// heap nears its limit (GOMEMLIMIT). At 1M edges under a GOMEMLIMIT of 920 MiB a rescore
// collected twice, about 0.1 s of its wall time (docs/benchmarks.md). The collection takes a
// quarter of the CPUs while it marks, as any collection does, and blocks no other goroutine.
func (r *Runner) collectGarbage() {
	if !r.collecting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer r.collecting.Store(false)
		t0 := time.Now()
		runtime.GC()
		r.m.gc.Observe(time.Since(t0).Seconds())
	}()
}

// prevRuns is the previous successful run of each detector of a run, read in one query that
// starts with the run, beside its load, instead of one query in each detector's write. It is the
// newest run before this run's id: the daemon starts a run only when its last one has ended, so no
// run of this runner finishes in between.
type prevRuns struct {
	done chan struct{}
	ids  map[string]string
	err  error
}

// previousRuns starts reading the previous runs of the named detectors.
func (r *Runner) previousRuns(ctx context.Context, names []string, runID string) *prevRuns {
	p := &prevRuns{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.ids, p.err = PreviousRuns(ctx, r.conn, names, runID)
	}()
	return p
}

// of returns the previous run id of a detector ("" if none), once read.
func (p *prevRuns) of(ctx context.Context, detector string) (string, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if p.err != nil {
		return "", p.err
	}
	return p.ids[detector], nil
}

// scoreParallelism is how many detectors score at once: one per CPU (GOMAXPROCS), at least one.
func scoreParallelism() int { return max(1, runtime.GOMAXPROCS(0)) }

// scoreOrder returns the order (indexes into names) in which a run starts its detectors: by the
// number of findings of the detector's previous run in this runner, largest first.
func (r *Runner) scoreOrder(names []string) []int {
	r.lastMu.Lock()
	defer r.lastMu.Unlock()
	return scoreOrder(names, func(name string) (int, bool) {
		l, ok := r.last[name]
		return len(l.subjects), ok
	})
}

// scoreOrder orders detectors largest first: those without a previous run (size unknown) in the
// order given, then the others by their previous run's findings, most first, ties in the order
// given. A detector's write trails its scoring and runs beside the scoring of the others; a full
// run's write is in proportion to its findings (before delta runs, a rescore's writes were
// ClickHouse copying the unchanged findings, in proportion to their number). The run ends when the
// last write does, so the detectors start in decreasing order of their writes (Jackson's rule for
// jobs with delivery times): the large writes overlap the scoring of the others, and the smallest
// comes last. At 1M edges the last to score was exposure, with
// 50,000 findings to store, and is now chokepoint, with 18,000 (docs/benchmarks.md).
func scoreOrder(names []string, size func(name string) (int, bool)) []int {
	type job struct {
		i, n  int
		known bool
	}
	jobs := make([]job, len(names))
	for i, name := range names {
		n, ok := size(name)
		jobs[i] = job{i, n, ok}
	}
	slices.SortStableFunc(jobs, func(a, b job) int {
		if a.known != b.known {
			if !a.known {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.n, a.n)
	})
	order := make([]int, len(jobs))
	for k, j := range jobs {
		order[k] = j.i
	}
	return order
}

// analysisOutcome says what the run's analysis reused: whether it computed the betweenness or
// reused it ("" without a graph), and how many pairs it has and how many of them it reused.
func analysisOutcome(in *Inputs) (betweenness string, pairs, reused int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	a := in.analysis
	switch {
	case a == nil:
		return "", 0, 0
	case a.Graph == nil:
		betweenness = ""
	case a.BetweennessReused:
		betweenness = "reused"
	default:
		betweenness = "computed"
	}
	return betweenness, len(a.Pairs), a.PairsReused
}

// runOne scores one detector and returns the step that stores its findings and returns its run
// row (written with the run's others, commit).
func (r *Runner) runOne(ctx context.Context, d Detector, in *Inputs, prev *prevRuns, runID string, computedAt time.Time, fullWrite *sync.Mutex) func() finished {
	name := d.Name()
	t0 := time.Now()
	started := r.Now().UTC()
	ds := DetectorSummary{Detector: name}
	// The detector may take unchanged findings from this runner's previous run of it
	// (findingreuse.go).
	r.lastMu.Lock()
	last, ok := r.last[name]
	r.lastMu.Unlock()
	dctx, refsFrom := ctx, ""
	if ok && last.hashed {
		dctx, refsFrom = withPrevFindings(ctx, &prevFindings{runID: last.runID, subjects: last.subjects}), last.runID
	}
	fs, err := d.Run(dctx, in)
	// The rest (the previous run, the digests, the write) runs in the writer goroutine, while the
	// next detector scores.
	return func() finished {
		if err != nil {
			return r.fail(ds, err, t0, started, runID, in)
		}
		w, cur, prevID, err := r.prepare(ctx, d, fs, refsFrom, in, prev, runID, computedAt)
		if err != nil {
			return r.fail(ds, err, t0, started, runID, in)
		}
		if w.base == "" {
			fullWrite.Lock()
			defer fullWrite.Unlock()
		}
		return r.store(ctx, w, cur, prevID, ds, t0, started, computedAt, in)
	}
}

// prepare gives a detector's findings their run id, computed_at and prev_score (from the
// detector's previous successful run), digests them, and plans their write.
func (r *Runner) prepare(ctx context.Context, d Detector, fs []Finding, refsFrom string, in *Inputs, prevRuns *prevRuns, runID string, computedAt time.Time) (findingsWrite, runScores, string, error) {
	name := d.Name()
	prevID, err := prevRuns.of(ctx, name)
	if err != nil {
		return findingsWrite{}, runScores{}, "", err
	}
	prev, err := r.previousRun(ctx, name, prevID)
	if err != nil {
		return findingsWrite{}, runScores{}, "", err
	}
	window := windowOf(in.WindowFrom, in.WindowTo)
	cur := stampRun(fs, prev, runID, computedAt, window)
	if !r.cfg.DeltaRuns {
		prev.chain = runChain{} // no base: every run is full
	}
	w := planWrite(fs, cur, prev, computedAt)
	if countReused(fs) > 0 && (w.base == "" || prev.runID != refsFrom) {
		// The references name rows of run refsFrom, and this write does not carry from it (another
		// run came in between, or the run is written in full): score again, building every
		// finding (ctx carries no previous run).
		r.rescored.Add(1)
		if fs, err = d.Run(ctx, in); err != nil {
			return findingsWrite{}, runScores{}, "", err
		}
		cur = stampRun(fs, prev, runID, computedAt, window)
		w = planWrite(fs, cur, prev, computedAt)
	}
	cur.chain = prev.chain.after(w, runID, computedAt)
	return w, cur, prevID, nil
}

// stampRun gives the findings their run id, computed_at and prev_score, and returns the run's
// subjects with their digests. A run with two findings for one subject is not hashed: the next run
// is not a delta run on it (a subject's newest row in the chain would stand for both findings).
func stampRun(fs []Finding, prev runScores, runID string, computedAt time.Time, window runWindow) runScores {
	cur := runScores{runID: runID, window: window, hashed: true, subjects: make(map[subjectKey]subjectState, len(fs))}
	var h hasher
	// the previous scores the findings point to, in one allocation (one per finding was 140,000
	// allocations in a rescore at 1M edges)
	prevScores := make([]float64, len(fs))
	for i := range fs {
		f := &fs[i]
		f.RunID, f.ComputedAt = runID, computedAt
		key := subjectKey{f.SubjectType, f.Subject}
		if f.reused {
			// a reference carries the score and digest its subject had in the run it names; when
			// that is not prev, the findings are scored again (Runner.prepare)
			prevScores[i] = f.Score
			f.PrevScore = &prevScores[i]
			cur.subjects[key] = subjectState{score: f.Score, hash: f.reusedHash}
			continue
		}
		if p, ok := prev.subjects[key]; ok {
			prevScores[i] = p.score
			f.PrevScore = &prevScores[i]
		}
		cur.subjects[key] = subjectState{score: f.Score, hash: h.finding(f, window)}
	}
	cur.hashed = len(cur.subjects) == len(fs)
	return cur
}

// findingsWrite is how a run's findings are stored (store_runs.go): a full run sends all; a delta
// run sends the new and changed ones and a tombstone for each subject gone since the previous run,
// and carries the rest (the rows of its chain).
type findingsWrite struct {
	all  []Finding
	sent []Finding
	gone []subjectKey // a delta run's subjects of the previous run that are gone
	base string       // a delta run's base (the full run of its chain); "" for a full run
}

// planWrite splits a run's findings into the sent and the carried ones. A run is a delta run only
// on a previous run this runner wrote and still remembers with hashes (another process's run, or
// none, means a full run), when every subject of both runs is unique, some finding is unchanged,
// and the chain stays within its bounds (runChain).
func planWrite(fs []Finding, cur, prev runScores, computedAt time.Time) findingsWrite {
	w := findingsWrite{all: fs, sent: fs}
	pc := prev.chain
	if !prev.hashed || !cur.hashed || prev.runID == "" || pc.base == "" || pc.baseDay != utcDay(computedAt) || pc.deltas >= maxChainDeltas {
		return w
	}
	var changed []Finding
	for i := range fs {
		if fs[i].reused { // unchanged since the run it names; when that is not prev, Runner.prepare scores again
			continue
		}
		key := subjectKey{fs[i].SubjectType, fs[i].Subject}
		if p, ok := prev.subjects[key]; !ok || p.hash != cur.subjects[key].hash {
			changed = append(changed, fs[i])
		}
	}
	if len(changed) == len(fs) {
		return w
	}
	var gone []subjectKey
	for k := range prev.subjects {
		if _, ok := cur.subjects[k]; !ok {
			gone = append(gone, k)
		}
	}
	if float64(pc.deltaRows+len(changed)+len(gone)) > maxDeltaShare*float64(pc.baseRows) {
		return w
	}
	slices.SortFunc(gone, func(a, b subjectKey) int { return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.subject, b.subject)) })
	w.sent, w.gone, w.base = changed, gone, pc.base
	return w
}

// finished is one detector's part of a run once it has scored and stored its findings (or
// failed): its run row, still to be written, and what the runner records once it is.
type finished struct {
	ds    DetectorSummary
	rec   RunRecord
	cur   *runScores // the run's subjects, nil when it failed
	sent  int
	prev  string      // the previous run it compared with
	delta *deltaWrite // a delta run's rows, written with the run's other delta runs' (writeDeltas)
}

// deltaWrite is a delta run's rows, still to be written: its sent findings and its tombstones, and
// what a failure of the write needs.
type deltaWrite struct {
	sent, gone  []Finding
	t0, started time.Time
	in          *Inputs
}

// store writes one detector's scored findings and returns its run row, to be written with the
// run's others (commit).
func (r *Runner) store(ctx context.Context, w findingsWrite, cur runScores, prevID string, ds DetectorSummary,
	t0, started, computedAt time.Time, in *Inputs) finished {
	runID, fs := cur.runID, w.all
	var dw *deltaWrite
	if w.base != "" {
		dw = &deltaWrite{sent: w.sent, gone: make([]Finding, len(w.gone)), t0: t0, started: started, in: in}
		for i, k := range w.gone {
			dw.gone[i] = Finding{RunID: runID, ComputedAt: computedAt, Detector: ds.Detector, SubjectType: k.typ,
				Subject: k.subject, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo}
		}
	} else if err := WriteFindings(ctx, r.conn, fs); err != nil {
		return r.fail(ds, err, t0, started, runID, in)
	}
	ds.Findings, ds.Carried, ds.Reused, ds.Duration = len(fs), len(fs)-len(w.sent), countReused(fs), time.Since(t0)
	return finished{ds: ds, cur: &cur, sent: len(w.sent), prev: prevID, delta: dw,
		rec: RunRecord{RunID: runID, Detector: ds.Detector, StartedAt: started, FinishedAt: r.Now(),
			Findings: uint32(len(fs)), Status: StatusOK, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo,
			BaseRunID: w.base, ComputedAt: computedAt}}
}

// writeDeltas writes the rows of the run's delta runs, every detector's, in one insert once all
// have scored: on ClickHouse 18.16 a findings part costs about 50-90 ms of server CPU whatever its
// rows (docs/benchmarks.md), and a rescore's delta runs write a few thousand rows in all. When the
// insert fails, each of them failed.
func (r *Runner) writeDeltas(ctx context.Context, done []finished, runID string) {
	var sent, gone []Finding
	for _, f := range done {
		if f.delta != nil {
			sent, gone = append(sent, f.delta.sent...), append(gone, f.delta.gone...)
		}
	}
	err := writeFindings(ctx, r.conn, append(sent, gone...), len(sent))
	for i, f := range done {
		if dw := f.delta; dw != nil {
			if err != nil {
				done[i] = r.fail(f.ds, fmt.Errorf("delta run: %w", err), dw.t0, dw.started, runID, dw.in)
				continue
			}
			done[i].ds.Duration, done[i].rec.FinishedAt, done[i].delta = time.Since(dw.t0), r.Now(), nil
		}
	}
}

// fail returns a failed detector run: its summary, and its run row saying why.
func (r *Runner) fail(ds DetectorSummary, err error, t0, started time.Time, runID string, in *Inputs) finished {
	ds.Err, ds.Duration = err, time.Since(t0)
	return finished{ds: ds, rec: RunRecord{RunID: runID, Detector: ds.Detector, StartedAt: started, FinishedAt: r.Now(),
		Status: StatusError, Error: err.Error(), WindowFrom: in.WindowFrom, WindowTo: in.WindowTo}}
}

// commit writes the run rows of a run's detectors in one insert, then records each stored run in
// memory (the next run's previous run), the metrics and the log. When the run rows cannot be
// written, every detector of the run failed: its findings are never read.
func (r *Runner) commit(ctx context.Context, done []finished) []DetectorSummary {
	recs := make([]RunRecord, len(done))
	for i, f := range done {
		recs[i] = f.rec
	}
	werr := r.record(ctx, recs)
	out := make([]DetectorSummary, len(done))
	for i, f := range done {
		ds, name := f.ds, f.ds.Detector
		out[i] = ds
		if ds.Err != nil || werr != nil {
			if werr != nil {
				out[i].Err = errors.Join(ds.Err, werr)
			}
			r.m.errors.WithLabelValues(name).Inc()
			continue
		}
		r.lastMu.Lock()
		r.last[name] = *f.cur
		r.lastMu.Unlock()
		r.m.stored.WithLabelValues(name, "sent").Add(float64(f.sent))
		r.m.stored.WithLabelValues(name, "carried").Add(float64(ds.Carried))
		r.m.duration.WithLabelValues(name).Observe(ds.Duration.Seconds())
		r.m.findings.WithLabelValues(name).Add(float64(ds.Findings))
		r.m.lastFinds.WithLabelValues(name).Set(float64(ds.Findings))
		r.m.lastSuccess.WithLabelValues(name).Set(float64(r.Now().Unix()))
		r.log.Info("detector run", "run_id", f.rec.RunID, "detector", name, "findings", ds.Findings, "carried", ds.Carried,
			"reused", ds.Reused, "prev_run", f.prev, "duration", ds.Duration)
	}
	return out
}

// previousRun returns the subjects of the detector's run prevID: from memory, with their
// findingHash, when it is this runner's own latest run, else the scores from the findings table
// (another daemon or an earlier process).
func (r *Runner) previousRun(ctx context.Context, detector, prevID string) (runScores, error) {
	r.lastMu.Lock()
	l, ok := r.last[detector]
	r.lastMu.Unlock()
	if ok && l.runID == prevID && prevID != "" {
		return l, nil
	}
	subjects, err := previousScores(ctx, r.conn, detector, prevID)
	if err != nil {
		return runScores{}, err
	}
	return runScores{runID: prevID, subjects: subjects}, nil
}

// record writes run rows in one insert.
func (r *Runner) record(ctx context.Context, recs []RunRecord) error {
	// the run rows must be written even when ctx timed out: give them their own short deadline.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return WriteRuns(wctx, r.conn, recs)
}

// Loop runs all enabled detectors now and then every cfg.Interval until ctx ends. A failed run is
// logged (with its run id) and retried at the next tick; Loop returns ctx's error.
func (r *Runner) Loop(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		sum, err := r.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("detector run failed", "run_id", sum.RunID, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
