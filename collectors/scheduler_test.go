package collectors

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

// flaky fails its first run, panics in its second and then succeeds, emitting one event and one
// reject per run.
type flaky struct {
	mu   sync.Mutex
	runs int
	done chan struct{}
}

func (f *flaky) Name() string { return "flaky" }

func (f *flaky) Run(ctx context.Context, em Emitter) (Stats, error) {
	f.mu.Lock()
	f.runs++
	n := f.runs
	f.mu.Unlock()
	switch n {
	case 1:
		return Stats{}, errors.New("upstream down")
	case 2:
		panic("boom")
	}
	o := newOut(ctx, em, "flaky", testNow, 10)
	o.read()
	o.event(&schemas.Substitution{ComponentID: "C1", AltComponentID: "C2", AsOf: testNow}, "x:1", nil)
	o.read()
	o.rejectKind(schemas.KindSubstitution, "x:2", "bad_number", "qualification_days: nope", []byte("raw"))
	if err := o.flush(); err != nil {
		return o.stats, err
	}
	if n == 4 {
		close(f.done)
	}
	return o.stats, nil
}

func TestScheduleRetriesAndCounts(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	met, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	m := &collectorstest.Memory{}
	finished := make(chan struct{})
	go func() {
		Schedule(ctx, []Scheduled{{Collector: f, Interval: 5 * time.Millisecond}}, m, met,
			slog.New(slog.NewTextHandler(&logs, nil)))
		close(finished)
	}()
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduler did not keep running after failures")
	}
	cancel()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("Schedule did not return after cancel")
	}
	if got := testutil.ToFloat64(met.runs.WithLabelValues("flaky", ResultError)); got != 2 {
		t.Errorf("error runs %v", got)
	}
	if got := testutil.ToFloat64(met.runs.WithLabelValues("flaky", ResultSuccess)); got < 2 {
		t.Errorf("success runs %v", got)
	}
	if got := testutil.ToFloat64(met.emitted.WithLabelValues("flaky")); got < 2 {
		t.Errorf("emitted %v", got)
	}
	if got := testutil.ToFloat64(met.rejected.WithLabelValues("flaky", "bad_number")); got < 2 {
		t.Errorf("rejected %v", got)
	}
	if got := testutil.ToFloat64(met.lastSuccess.WithLabelValues("flaky")); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success %v", got)
	}
	if !strings.Contains(logs.String(), "upstream down") || !strings.Contains(logs.String(), "panicked: boom") {
		t.Errorf("logs: %s", logs.String())
	}
	// promtool-style lint of the metric names and help.
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	for _, name := range []string{"chainwatch_collector_run_duration_seconds", "chainwatch_collector_runs_total",
		"chainwatch_collector_records_emitted_total", "chainwatch_collector_records_rejected_total",
		"chainwatch_collector_last_success_timestamp_seconds"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n == 0 {
			t.Errorf("%s: %d %v", name, n, err)
		}
	}
	// A second registration on the same registerer fails cleanly.
	if _, err := NewMetrics(reg); err == nil {
		t.Error("double registration accepted")
	}
}

func TestImportRecordsMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	met, _ := NewMetrics(reg)
	opts := testOpts()
	opts.Metrics = met
	importT(t, ImportAvailability, "../testdata/availability/distributor_a.csv", opts)
	if got := testutil.ToFloat64(met.rejected.WithLabelValues("import_availability", "bad_number")); got != 1 {
		t.Errorf("bad_number %v", got)
	}
	if got := testutil.ToFloat64(met.runs.WithLabelValues("import_availability", ResultSuccess)); got != 1 {
		t.Errorf("runs %v", got)
	}
}

func TestRegistryFromConfig(t *testing.T) {
	cfg := DefaultConfig()
	r, err := NewRegistry(cfg, testDeps())
	if err != nil || len(r.Scheduled()) != 0 {
		t.Fatalf("defaults: %v %v", r.Names(), err)
	}
	cfg.Comtrade = comtradeTestConfig("http://127.0.0.1:1")
	cfg.Procurement.Enabled, cfg.Procurement.URLs = true, []string{"http://127.0.0.1:1/ocds.json"}
	cfg.Availability.Enabled, cfg.Availability.Dir = true, t.TempDir()
	r, err = NewRegistry(cfg, testDeps())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.Names(), ",") != "availability,comtrade,procurement" {
		t.Errorf("names %v", r.Names())
	}
	for _, s := range r.Scheduled() {
		if s.Interval <= 0 {
			t.Errorf("%s has no interval", s.Collector.Name())
		}
	}
	if _, err := r.Lookup("nope"); err == nil {
		t.Error("unknown collector found")
	}
	cfg.Comtrade.Reporters = []string{"ZZZ"}
	if _, err := NewRegistry(cfg, testDeps()); err == nil {
		t.Error("unknown reporter accepted")
	}
}

func TestImportProgressLogsWithoutTerminal(t *testing.T) {
	var logs bytes.Buffer
	opts := testOpts()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	opts.ProgressInterval = time.Millisecond
	f, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	opts.Progress = f // a regular file is not a terminal: plain log lines
	// A slow emitter keeps the import running across a few progress ticks.
	slow := &slowEmitter{Memory: &collectorstest.Memory{}, delay: 3 * time.Millisecond}
	st, err := Import(context.Background(), ImportTrade, "../testdata/trade/comtrade_csv/cobalt_trade_data.csv", slow,
		withBatch(opts, 5))
	if err != nil || st.Emitted != 86 {
		t.Fatalf("%+v %v", st, err)
	}
	out := logs.String()
	if !strings.Contains(out, "import progress") || !strings.Contains(out, "import finished") || !strings.Contains(out, "percent=") {
		t.Errorf("logs: %s", out)
	}
	if fi, _ := f.Stat(); fi.Size() != 0 {
		t.Error("progress bar drawn on a non-terminal")
	}
}

func withBatch(o ImportOptions, n int) ImportOptions { o.BatchSize = n; return o }

type slowEmitter struct {
	*collectorstest.Memory
	delay time.Duration
}

func (s *slowEmitter) Emit(ctx context.Context, envs ...schemas.Envelope) error {
	time.Sleep(s.delay)
	return s.Memory.Emit(ctx, envs...)
}

func TestEmitterFailureStopsImport(t *testing.T) {
	m := &collectorstest.Memory{Err: errors.New("kafka down")}
	_, err := Import(context.Background(), ImportTrade, "../testdata/trade/comtrade_csv/gallium_trade_data.csv", m, testOpts())
	if err == nil || !strings.Contains(err.Error(), "kafka down") {
		t.Fatalf("err %v", err)
	}
}

func TestImportUnknownKind(t *testing.T) {
	if _, err := Import(context.Background(), "widgets", "../testdata", &collectorstest.Memory{}, testOpts()); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := Import(context.Background(), ImportTrade, "../testdata/nope.csv", &collectorstest.Memory{}, testOpts()); err == nil {
		t.Error("missing file accepted")
	}
}
