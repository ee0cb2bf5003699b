package exposure_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report/reporttest"
	"github.com/chainwatch/chainwatch/internal/sink"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// representative registers the other packages' metric families with the names the alert rules use
// (collectors, notifiers, the sink's lag gauge), as the daemon would.
func representative(reg prometheus.Registerer) {
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chainwatch_sink_consumer_lag_records",
		Help: "Records in Kafka not yet committed by the sink's consumer group, by topic."}, []string{"topic"})
	lag.WithLabelValues("chainwatch.trade").Set(12)
	runDur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chainwatch_collector_run_duration_seconds",
		Help: "Duration of one collector run."}, []string{"collector"})
	runDur.WithLabelValues("comtrade").Observe(3.2)
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_collector_runs_total",
		Help: "Collector runs by result."}, []string{"collector", "result"})
	runs.WithLabelValues("comtrade", "ok").Inc()
	emitted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_collector_records_emitted_total",
		Help: "Records a collector emitted."}, []string{"collector"})
	emitted.WithLabelValues("comtrade").Add(100)
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_collector_records_rejected_total",
		Help: "Records a collector rejected, by reason."}, []string{"collector", "reason"})
	rejected.WithLabelValues("comtrade", "invalid").Add(2)
	last := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chainwatch_collector_last_success_timestamp_seconds",
		Help: "Unix time of the collector's last successful run."}, []string{"collector"})
	last.WithLabelValues("comtrade").SetToCurrentTime()
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_notifications_total",
		Help: "Notifications sent, by integration."}, []string{"integration"})
	sent.WithLabelValues("email").Inc()
	failed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainwatch_notifications_failed_total",
		Help: "Notifications that failed, by integration and reason."}, []string{"integration", "reason"})
	failed.WithLabelValues("email", "timeout")
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chainwatch_notification_latency_seconds",
		Help: "Latency of notification delivery."}, []string{"integration"})
	lat.WithLabelValues("email").Observe(0.4)
	reg.MustRegister(lag, runDur, runs, emitted, rejected, last, sent, failed, lat)
}

func TestCollectorIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds, err := reporttest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo data: %s", ds.Summary())

	rec := &reporttest.Recorder{Q: conn}
	cfg := exposure.DefaultConfig()
	cfg.TopN = 5
	cfg.MaxLabelValues = 3 // five regions in the demo: two fold into "other"
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sink.New(sink.DefaultConfig(), "chainwatch", nil, nil, nil, reg, slog.Default())
	representative(reg)
	c, err := exposure.NewCollector(exposure.NewStore(rec, cfg), reg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)

	for _, want := range []string{
		`chainwatch_top_exposure_score{component="CMP-LITHO",enterprise="ENT-SZME",rank="1"} 92`,
		`chainwatch_exposure_max_score 92`,
		`chainwatch_exposures{category="machine_tool",industry="semiconductors",region="Jiangsu",severity="critical"} 1`,
		`region="other"`,
		`chainwatch_exposure_flags{flag="single_source"}`,
		`chainwatch_chokepoints{category="machine_tool",severity="critical"} 2`,
		`chainwatch_data_last_ingested_timestamp_seconds{source="usgs-mcs2024",table="production_stats"}`,
		`chainwatch_exposure_latest_run_timestamp_seconds{detector="exposure"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(text, "99") && strings.Contains(text, `rank="1"} 99`) {
		t.Errorf("the failed run's partial findings leaked into the metrics")
	}
	if n := strings.Count(text, "chainwatch_top_exposure_score{"); n != cfg.TopN {
		t.Errorf("top exposure series = %d, want top_n %d", n, cfg.TopN)
	}
	regions := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "chainwatch_exposures{") {
			i := strings.Index(line, `region="`)
			regions[line[i+8:i+8+strings.Index(line[i+8:], `"`)]] = true
		}
	}
	if len(regions) > cfg.MaxLabelValues+1 {
		t.Errorf("region label values %v exceed max_label_values %d + other", regions, cfg.MaxLabelValues)
	}

	// promtool check metrics on the real scrape.
	promtool, err := exec.LookPath("promtool")
	reporttest.RequireTool(t, "promtool", "run deploy/local/tools.sh", err == nil)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// The same SQL on a current ClickHouse engine.
	rep := reporttest.RunChDB(t, ds, rec.Queries("collector"))
	for _, r := range rep.Results {
		if r.Error != "" {
			t.Errorf("chdb: %s failed: %s", r.Name, r.Error)
		}
	}
}

// TestStoreFindingsIntegration: filters, pagination, as-of reads and the failed-run guard.
func TestStoreFindingsIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	ds, err := reporttest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	st := exposure.NewStore(conn, exposure.DefaultConfig())
	all, total, err := st.Findings(ctx, exposure.Filter{}, exposure.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if total != 26 || len(all) != 26 {
		t.Fatalf("latest exposures: total %d, page %d, want 26", total, len(all))
	}
	for _, f := range all {
		if f.Score == reporttest.FailedRunScore {
			t.Fatalf("finding of the failed run read: %+v", f)
		}
		if len(f.Terms) == 0 || f.Terms[0].Name == "" {
			t.Fatalf("terms not read: %+v", f)
		}
	}
	if all[0].Subject != "ENT-SZME|CMP-LITHO" {
		t.Errorf("highest = %s", all[0].Subject)
	}
	p2, _, err := st.Findings(ctx, exposure.Filter{}, exposure.Page{Limit: 10, Offset: 10})
	if err != nil || len(p2) != 10 || p2[0].Subject != all[10].Subject {
		t.Fatalf("page 2: %v %d", err, len(p2))
	}
	js, _, err := st.Findings(ctx, exposure.Filter{Region: "Jiangsu", MinScore: 70, Flag: "single_source"}, exposure.Page{Sort: "-delta", Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range js {
		if f.Region != "Jiangsu" || f.Score < 70 || !f.HasFlag("single_source") {
			t.Errorf("filter leak: %+v", f)
		}
	}
	old, _, err := st.Findings(ctx, exposure.Filter{AsOf: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)}, exposure.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 25 { // the MLCC exposure of Hefei appears in week 47
		t.Errorf("as-of read: %d findings, want 25", len(old))
	}
}

// queryCounter counts the queries that match.
type queryCounter struct {
	q     exposure.Querier
	match func(query string) bool
	n     atomic.Int64
}

func (c *queryCounter) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	if c.match(query) {
		c.n.Add(1)
	}
	return c.q.Query(ctx, query, args...)
}

// TestCollectorReadsFindingsAfterRunsIntegration: a refresh reads the findings only when a
// detector run succeeded since the last read (none at all: nothing to read), and serves the same
// series otherwise; a new run's findings show at the next refresh.
func TestCollectorReadsFindingsAfterRunsIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	q := &queryCounter{q: conn, match: func(s string) bool { return strings.Contains(s, "FROM findings ") }} // the latest-findings chain
	reg := prometheus.NewRegistry()
	c, err := exposure.NewCollector(exposure.NewStore(q, exposure.DefaultConfig()), reg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(step string, wantReads bool, wantMax, wantUnchanged float64) {
		t.Helper()
		before := q.n.Load()
		if err := c.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if read := q.n.Load() > before; read != wantReads {
			t.Errorf("%s: findings read %v (%d queries), want %v", step, read, q.n.Load()-before, wantReads)
		}
		if v, ok := testenv.Value(t, reg, exposure.MetricMaxScore, nil); !ok || v != wantMax {
			t.Errorf("%s: %s = %v (present %v), want %v", step, exposure.MetricMaxScore, v, ok, wantMax)
		}
		if v, _ := testenv.Value(t, reg, exposure.MetricRefreshUnchanged, nil); v != wantUnchanged {
			t.Errorf("%s: %s = %v, want %v", step, exposure.MetricRefreshUnchanged, v, wantUnchanged)
		}
	}

	refresh("no run yet", false, 0, 0)
	ds, err := reporttest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	refresh("after the demo's runs", true, 92, 0)
	top := func() float64 {
		v, _ := testenv.Value(t, reg, exposure.MetricTopExposure, map[string]string{"rank": "1", "enterprise": "ENT-SZME", "component": "CMP-LITHO"})
		return v
	}
	if top() != 92 {
		t.Errorf("top exposure = %v, want 92", top())
	}
	refresh("no run since", false, 92, 1)
	if top() != 92 {
		t.Errorf("no run since: top exposure = %v, want 92", top())
	}

	// A delta run of exposure on the last full run: the top finding's score goes to 95.
	last := reporttest.RunTimes()[len(reporttest.RunTimes())-1]
	at := last.Add(9 * time.Hour)
	next := &reporttest.Dataset{Tables: []string{"findings", "detector_runs"}, Rows: map[string][]reporttest.Row{}}
	for _, r := range ds.Rows["findings"] {
		if r["detector"] == "exposure" && r["subject"] == "ENT-SZME|CMP-LITHO" && r["run_id"] == reporttest.RunID(last) {
			f := maps.Clone(r)
			f["run_id"], f["computed_at"], f["score"] = reporttest.RunID(at), at, 95.0
			next.Rows["findings"] = append(next.Rows["findings"], f)
		}
	}
	if len(next.Rows["findings"]) != 1 {
		t.Fatalf("the demo's last exposure run has %d rows for ENT-SZME|CMP-LITHO, want 1", len(next.Rows["findings"]))
	}
	next.Rows["detector_runs"] = []reporttest.Row{{"run_id": reporttest.RunID(at), "detector": "exposure", "started_at": at,
		"finished_at": at.Add(time.Minute), "findings": uint32(1), "status": "ok", "error": "", "window_from": at.AddDate(-3, 0, 0),
		"window_to": at, "base_run_id": reporttest.RunID(last), "computed_at": at}}
	if err := next.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	refresh("after a new run", true, 95, 1)
	if top() != 95 {
		t.Errorf("after a new run: top exposure = %v, want 95", top())
	}
	refresh("no run since the new one", false, 95, 2)
}
