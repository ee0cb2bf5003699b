// Package deploy holds the tests of chainwatch's deployment assets: the Prometheus rules
// (promtool check/test rules), the Grafana provisioning files and dashboards (static checks, and
// every ClickHouse panel query run against ClickHouse 18.16 and a current engine through chdb).
package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"gopkg.in/yaml.v3"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report/reporttest"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

const (
	clickhouseUID = "chainwatch-clickhouse"
	prometheusUID = "chainwatch-prometheus"
)

// ---- dashboards -----------------------------------------------------------------------------------

type target struct {
	Datasource struct{ Type, UID string } `json:"datasource"`
	RefID      string                     `json:"refId"`
	RawSQL     string                     `json:"rawSql"`
	Format     *int                       `json:"format"`
	Expr       string                     `json:"expr"`
}

type panel struct {
	ID      int      `json:"id"`
	Type    string   `json:"type"`
	Title   string   `json:"title"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"`
	Grid    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
}

type variable struct {
	Name       string                     `json:"name"`
	Type       string                     `json:"type"`
	Query      string                     `json:"query"`
	Multi      bool                       `json:"multi"`
	IncludeAll bool                       `json:"includeAll"`
	Datasource struct{ Type, UID string } `json:"datasource"`
}

type dashboard struct {
	file       string
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

func (d *dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" {
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func loadDashboards(t *testing.T) []*dashboard {
	t.Helper()
	files, err := filepath.Glob("grafana/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	var out []*dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := &dashboard{file: f}
		if err := json.Unmarshal(b, d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, d)
	}
	return out
}

var (
	varRef        = regexp.MustCompile(`\$\{(\w+):singlequote\}`)
	anyVarRef     = regexp.MustCompile(`\$\{?(\w+)|\[\[(\w+)`)
	macroRef      = regexp.MustCompile(`\$__(\w+)`)
	knownMacros   = map[string]bool{"timeFilter": true, "timeFilter_ms": true, "fromTime": true, "toTime": true, "fromTime_ms": true, "toTime_ms": true, "dateFilter": true, "dateTimeFilter": true, "dt": true, "timeInterval": true, "timeInterval_ms": true, "interval_s": true}
	chUnsupported = []string{"$__timeInterval", "toStartOfInterval", "LowCardinality", "DateTime64", "JSONExtract", " OVER (", " WITH "}
)

func TestDashboardsStatic(t *testing.T) {
	ds := loadDashboards(t)
	want := map[string]bool{"chainwatch-overview": false, "chainwatch-single-source": false, "chainwatch-chokepoints": false, "chainwatch-pipeline": false, "chainwatch-chain-map": false}
	uids, titles := map[string]bool{}, map[string]bool{}
	vars := map[string]bool{}
	for _, d := range ds {
		if uids[d.UID] || titles[d.Title] || d.UID == "" || d.Title == "" {
			t.Errorf("%s: uid %q / title %q missing or duplicate", d.file, d.UID, d.Title)
		}
		uids[d.UID], titles[d.Title] = true, true
		if _, ok := want[d.UID]; ok {
			want[d.UID] = true
		}
		defined := map[string]bool{}
		for _, v := range d.Templating.List {
			defined[v.Name] = true
			vars[v.Name] = true
			if v.Type == "query" && v.Datasource.UID != clickhouseUID {
				t.Errorf("%s: variable %s uses datasource %q", d.file, v.Name, v.Datasource.UID)
			}
		}
		ids := map[int]bool{}
		for _, p := range d.allPanels() {
			if ids[p.ID] || p.Grid == nil || p.Title == "" || len(p.Targets) == 0 {
				t.Errorf("%s: panel %d %q: duplicate id, no gridPos, no title or no targets", d.file, p.ID, p.Title)
			}
			ids[p.ID] = true
			for _, tg := range p.Targets {
				switch tg.Datasource.UID {
				case clickhouseUID:
					if tg.Datasource.Type != "grafana-clickhouse-datasource" || tg.RawSQL == "" || tg.Format == nil || (*tg.Format != 0 && *tg.Format != 1) {
						t.Errorf("%s: panel %q: bad ClickHouse target %+v", d.file, p.Title, tg)
					}
					checkSQLRefs(t, d.file+": "+p.Title, tg.RawSQL, defined)
				case prometheusUID:
					if tg.Datasource.Type != "prometheus" || tg.Expr == "" {
						t.Errorf("%s: panel %q: bad Prometheus target %+v", d.file, p.Title, tg)
					}
				default:
					t.Errorf("%s: panel %q: unknown datasource %q", d.file, p.Title, tg.Datasource.UID)
				}
			}
		}
		for _, v := range d.Templating.List {
			checkSQLRefs(t, d.file+": variable "+v.Name, v.Query, defined)
		}
	}
	for uid, ok := range want {
		if !ok {
			t.Errorf("dashboard %s missing", uid)
		}
	}
	for _, v := range []string{"industry", "region", "enterprise"} {
		if !vars[v] {
			t.Errorf("no dashboard defines variable %s", v)
		}
	}
}

// checkSQLRefs: variables only as ${name:singlequote} of a defined variable; only known macros; no
// construct ClickHouse 18.16 lacks.
func checkSQLRefs(t *testing.T, where, sql string, defined map[string]bool) {
	t.Helper()
	stripped := varRef.ReplaceAllStringFunc(sql, func(m string) string {
		name := varRef.FindStringSubmatch(m)[1]
		if !defined[name] {
			t.Errorf("%s: variable %s is not defined", where, name)
		}
		return "''"
	})
	stripped = macroRef.ReplaceAllStringFunc(stripped, func(m string) string {
		if !knownMacros[strings.TrimPrefix(m, "$__")] {
			t.Errorf("%s: unknown macro %s", where, m)
		}
		return ""
	})
	if m := anyVarRef.FindString(stripped); m != "" {
		t.Errorf("%s: write variables as ${name:singlequote} (found %q)", where, m)
	}
	for _, bad := range chUnsupported {
		if strings.Contains(sql, bad) {
			t.Errorf("%s: %q does not run on ClickHouse 18.16", where, bad)
		}
	}
}

// ---- macro and variable expansion (as grafana-clickhouse-datasource v4 and Grafana do) -------------

type timeRange struct {
	from, to time.Time
	interval time.Duration
}

// expandMacros replaces the plugin's macros the way pkg/macros of grafana-clickhouse-datasource does.
func expandMacros(sql string, tr timeRange) (string, error) {
	dt := func(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
	dt64 := func(t time.Time) string { return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", t.UnixMilli()) }
	date := func(t time.Time) string { return fmt.Sprintf("toDate('%s')", t.UTC().Format("2006-01-02")) }
	secs := max(int(tr.interval.Seconds()), 1)
	funcs := map[string]func(args []string) (string, error){
		"timeFilter": func(a []string) (string, error) {
			return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], dt(tr.from), a[0], dt(tr.to)), nil
		},
		"timeFilter_ms": func(a []string) (string, error) {
			return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], dt64(tr.from), a[0], dt64(tr.to)), nil
		},
		"dateFilter": func(a []string) (string, error) {
			return fmt.Sprintf("%s >= %s AND %s <= %s", a[0], date(tr.from), a[0], date(tr.to)), nil
		},
		"dateTimeFilter": func(a []string) (string, error) {
			if len(a) != 2 {
				return "", fmt.Errorf("dateTimeFilter wants 2 arguments")
			}
			return fmt.Sprintf("(%s >= %s AND %s <= %s) AND (%s >= %s AND %s <= %s)", a[0], date(tr.from), a[0], date(tr.to),
				a[1], dt(tr.from), a[1], dt(tr.to)), nil
		},
		"timeInterval": func(a []string) (string, error) {
			return fmt.Sprintf("toStartOfInterval(toDateTime(%s), INTERVAL %d second)", a[0], secs), nil
		},
		"timeInterval_ms": func(a []string) (string, error) {
			return fmt.Sprintf("toStartOfInterval(toDateTime64(%s, 3), INTERVAL %d millisecond)", a[0], max(tr.interval.Milliseconds(), 1)), nil
		},
	}
	funcs["dt"] = funcs["dateTimeFilter"]
	plain := map[string]string{"fromTime_ms": dt64(tr.from), "toTime_ms": dt64(tr.to), "fromTime": dt(tr.from), "toTime": dt(tr.to),
		"interval_s": fmt.Sprint(secs)}
	var b strings.Builder
	for i := 0; i < len(sql); {
		if !strings.HasPrefix(sql[i:], "$__") {
			b.WriteByte(sql[i])
			i++
			continue
		}
		j := i + 3
		for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || sql[j] >= '0' && sql[j] <= '9') {
			j++
		}
		name := sql[i+3 : j]
		if f, ok := funcs[name]; ok && j < len(sql) && sql[j] == '(' {
			depth, k := 0, j
			var args []string
			start := j + 1
			for ; k < len(sql); k++ {
				switch sql[k] {
				case '(':
					depth++
				case ')':
					depth--
				case ',':
					if depth == 1 {
						args = append(args, strings.TrimSpace(sql[start:k]))
						start = k + 1
					}
				}
				if depth == 0 {
					break
				}
			}
			if k == len(sql) {
				return "", fmt.Errorf("unclosed $__%s(", name)
			}
			args = append(args, strings.TrimSpace(sql[start:k]))
			out, err := f(args)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = k + 1
			continue
		}
		if v, ok := plain[name]; ok {
			b.WriteString(v)
			i = j
			continue
		}
		return "", fmt.Errorf("unknown macro $__%s", name)
	}
	return b.String(), nil
}

// expandVars replaces ${name:singlequote} with the selected values, quoted and comma-separated
// (Grafana's singlequote format; "All" selects every option).
func expandVars(sql string, sel map[string][]string) (string, error) {
	var err error
	out := varRef.ReplaceAllStringFunc(sql, func(m string) string {
		name := varRef.FindStringSubmatch(m)[1]
		vals, ok := sel[name]
		if !ok || len(vals) == 0 {
			err = fmt.Errorf("no value for variable %s", name)
			return m
		}
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = "'" + strings.ReplaceAll(v, "'", `\'`) + "'"
		}
		return strings.Join(q, ",")
	})
	return out, err
}

func TestExpandMacros(t *testing.T) {
	tr := timeRange{from: time.Unix(1000, 0), to: time.Unix(2000, 0), interval: time.Minute}
	got, err := expandMacros("SELECT $__timeInterval(at) t FROM x WHERE $__timeFilter(toDateTime(at)) AND a < $__toTime AND b > $__fromTime_ms LIMIT $__interval_s", tr)
	want := "SELECT toStartOfInterval(toDateTime(at), INTERVAL 60 second) t FROM x WHERE toDateTime(at) >= toDateTime(1000) AND toDateTime(at) <= toDateTime(2000) AND a < toDateTime(2000) AND b > fromUnixTimestamp64Milli(1000000) LIMIT 60"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
	if _, err := expandMacros("SELECT $__bogus", tr); err == nil {
		t.Fatal("unknown macro accepted")
	}
	v, err := expandVars("x IN (${r:singlequote})", map[string][]string{"r": {"a", "b'c"}})
	if err != nil || v != `x IN ('a','b\'c')` {
		t.Fatalf("vars: %q %v", v, err)
	}
}

// ---- the integration check ------------------------------------------------------------------------

type namedQuery struct{ name, sql string }

// TestDashboardSQLIntegration runs every ClickHouse panel query of every dashboard, with the
// macros and variables expanded, against ClickHouse 18.16 loaded with the demo data, then the same
// statements on chdb (current ClickHouse). Every query must succeed and return rows — once with
// every variable at "All" and once with one industry, region and enterprise selected.
func TestDashboardSQLIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ds, err := reporttest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	tr := timeRange{from: reporttest.Anchor.Add(-30 * 24 * time.Hour), to: reporttest.Anchor, interval: time.Hour}
	rowsOf := func(sql string) (int, [][]string, error) {
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			return 0, nil, err
		}
		defer rows.Close()
		n := 0
		var vals [][]string
		for rows.Next() {
			n++
			var s string
			if len(rows.Columns()) == 1 {
				if err := rows.Scan(&s); err == nil {
					vals = append(vals, []string{s})
				}
			}
		}
		return n, vals, rows.Err()
	}
	scenarios := []struct {
		name string
		pick map[string]string // variable → the one value to select ("" = All)
	}{
		{"all", map[string]string{"enterprise": "ENT-SZME"}},
		{"one", map[string]string{"industry": "semiconductors", "region": "Jiangsu", "enterprise": "ENT-WXPK"}},
	}
	var queries []namedQuery
	for _, d := range loadDashboards(t) {
		for _, sc := range scenarios {
			sel := map[string][]string{}
			for _, v := range d.Templating.List {
				q, err := expandVars(v.Query, sel)
				if err == nil {
					q, err = expandMacros(q, tr)
				}
				if err != nil {
					t.Fatalf("%s: variable %s: %v", d.file, v.Name, err)
				}
				_, vals, err := rowsOf(q)
				if err != nil {
					t.Fatalf("%s: variable %s query fails on ClickHouse 18.16: %v\n%s", d.file, v.Name, err, q)
				}
				var opts []string
				for _, r := range vals {
					opts = append(opts, r[0])
				}
				if len(opts) == 0 {
					t.Fatalf("%s: variable %s has no options", d.file, v.Name)
				}
				if p := sc.pick[v.Name]; p != "" {
					if !contains(opts, p) {
						t.Fatalf("%s: variable %s: %q not among %v", d.file, v.Name, p, opts)
					}
					opts = []string{p}
				} else if !v.IncludeAll {
					opts = opts[:1]
				}
				sel[v.Name] = opts
				queries = append(queries, namedQuery{fmt.Sprintf("%s [%s] variable %s", d.file, sc.name, v.Name), q})
			}
			for _, p := range d.allPanels() {
				for _, tg := range p.Targets {
					if tg.Datasource.UID != clickhouseUID {
						continue
					}
					q, err := expandVars(tg.RawSQL, sel)
					if err == nil {
						q, err = expandMacros(q, tr)
					}
					if err != nil {
						t.Errorf("%s: %q: %v", d.file, p.Title, err)
						continue
					}
					name := fmt.Sprintf("%s [%s] %q/%s", filepath.Base(d.file), sc.name, p.Title, tg.RefID)
					if p.Type == "nodegraph" {
						checkNodeGraphFrame(ctx, t, conn, name, tg.RefID, q)
					}
					n, _, err := rowsOf(q)
					switch {
					case err != nil:
						t.Errorf("%s fails on ClickHouse 18.16: %v\n%s", name, err, q)
					case n == 0:
						t.Errorf("%s returns no rows on ClickHouse 18.16\n%s", name, q)
					}
					queries = append(queries, namedQuery{name, q})
				}
			}
		}
	}
	t.Logf("%d dashboard queries ran on ClickHouse 18.16", len(queries))

	var cq []reporttest.Query
	for _, q := range queries {
		cq = append(cq, reporttest.Query{Name: q.name, SQL: q.sql})
	}
	rep := reporttest.RunChDB(t, ds, cq)
	for _, r := range rep.Results {
		switch {
		case r.Error != "":
			t.Errorf("chdb %s: %s fails: %s", rep.Version, r.Name, r.Error)
		case r.Rows == 0:
			t.Errorf("chdb %s: %s returns no rows", rep.Version, r.Name)
		}
	}
}

// nodeGraphFields are the fields Grafana's Node Graph panel reads from each frame, by refId.
var nodeGraphFields = map[string][]string{"nodes": {"id", "title", "subtitle", "mainstat", "color"}, "edges": {"id", "source", "target"}}

// checkNodeGraphFrame fails unless a Node Graph target (refId nodes or edges) returns exactly
// the fields the panel reads, in order.
func checkNodeGraphFrame(ctx context.Context, t *testing.T, conn driver.Conn, name, ref, sql string) {
	t.Helper()
	want, ok := nodeGraphFields[ref]
	if !ok {
		t.Errorf("%s: a nodegraph target's refId must be nodes or edges", name)
		return
	}
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return // reported by the caller
	}
	defer rows.Close()
	if got := rows.Columns(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: node graph fields %v, want %v", name, got, want)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ---- provisioning ---------------------------------------------------------------------------------

func TestGrafanaProvisioning(t *testing.T) {
	var dsf struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type string
			JSONData        map[string]any    `yaml:"jsonData"`
			Secure          map[string]string `yaml:"secureJsonData"`
		}
	}
	b, err := os.ReadFile("grafana/provisioning/datasources/clickhouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &dsf); err != nil {
		t.Fatal(err)
	}
	if dsf.APIVersion != 1 || len(dsf.Datasources) != 1 {
		t.Fatalf("datasources: %+v", dsf)
	}
	c := dsf.Datasources[0]
	if c.Type != "grafana-clickhouse-datasource" || c.UID != clickhouseUID || c.JSONData["port"] != 9000 ||
		c.JSONData["protocol"] != "native" || c.JSONData["defaultDatabase"] != "chainwatch" || c.Secure["password"] == "" {
		t.Errorf("clickhouse datasource: %+v", c)
	}
	b, err = os.ReadFile("grafana/provisioning/datasources/prometheus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dsf.Datasources = nil
	if err := yaml.Unmarshal(b, &dsf); err != nil || len(dsf.Datasources) != 1 || dsf.Datasources[0].UID != prometheusUID {
		t.Errorf("prometheus datasource: %v %+v", err, dsf)
	}
	var prov struct {
		Providers []struct {
			Name, Type string
			Options    struct{ Path string }
		}
	}
	b, err = os.ReadFile("grafana/provisioning/dashboards/chainwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &prov); err != nil || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path == "" {
		t.Errorf("dashboard provider: %v %+v", err, prov)
	}
}

// ---- Prometheus rules -----------------------------------------------------------------------------

// knownMetrics are the metric families chainwatch exposes (sink, lag poller, collectors, notifiers,
// exposure collector); rules and dashboards may only use these.
var knownMetrics = []string{
	"chainwatch_sink_records_consumed_total", "chainwatch_sink_events_consumed_total", "chainwatch_sink_rows_inserted_total", "chainwatch_sink_rejected_total",
	"chainwatch_sink_step_errors_total", "chainwatch_sink_fetch_errors_total", "chainwatch_sink_commits_total",
	"chainwatch_sink_batch_records", "chainwatch_sink_flush_duration_seconds", "chainwatch_sink_last_insert_timestamp_seconds",
	"chainwatch_sink_consumer_lag_records", "chainwatch_sink_open_insert_rows", "chainwatch_sink_rewinds_total",
	"chainwatch_collector_run_duration_seconds", "chainwatch_collector_runs_total", "chainwatch_collector_records_emitted_total",
	"chainwatch_collector_records_rejected_total", "chainwatch_collector_last_success_timestamp_seconds",
	"chainwatch_notifications_total", "chainwatch_notifications_failed_total", "chainwatch_notification_latency_seconds",
	exposure.MetricExposures, exposure.MetricChokepoints, exposure.MetricExposureFlags, exposure.MetricTopExposure,
	exposure.MetricMaxScore, exposure.MetricLatestRun, exposure.MetricDataIngested, exposure.MetricRefreshSuccess,
	exposure.MetricRefreshSeconds, exposure.MetricRefreshErrors, exposure.MetricRefreshUnchanged, exposure.MetricLocalSourcingUnchanged,
}

var metricName = regexp.MustCompile(`chainwatch_[a-z0-9_]+`)

func checkMetricNames(t *testing.T, where, expr string) {
	t.Helper()
	for _, m := range metricName.FindAllString(expr, -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
		if !contains(knownMetrics, m) && !contains(knownMetrics, base) {
			t.Errorf("%s uses unknown metric %s", where, m)
		}
	}
}

func requirePromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	reporttest.RequireTool(t, "promtool", "run deploy/local/tools.sh", err == nil)
	return p
}

// TestPrometheusRules runs promtool check rules and promtool test rules, checks the metric names,
// and syntax-checks every PromQL expression of the dashboards (as recording rules).
func TestPrometheusRules(t *testing.T) {
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Record, Expr string
			}
		}
	}
	b, err := os.ReadFile("prometheus/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			checkMetricNames(t, "rule "+r.Alert, r.Expr)
			alerts = append(alerts, r.Alert)
		}
	}
	sort.Strings(alerts)
	for _, want := range []string{"ChainwatchPipelineStalled", "ChainwatchConsumerLagGrowing", "ChainwatchDataStale",
		"ChainwatchCollectorStale", "ChainwatchCriticalExposures", "ChainwatchNotifierFailing"} {
		if !contains(alerts, want) {
			t.Errorf("rules.yml lacks alert %s", want)
		}
	}
	// Each alert has a scenario in rules_test.yml.
	tb, err := os.ReadFile("prometheus/rules_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if !strings.Contains(string(tb), "alertname: "+a+"\n") {
			t.Errorf("rules_test.yml does not test %s", a)
		}
	}
	// Dashboard PromQL, as recording rules for promtool's parser.
	var rec strings.Builder
	rec.WriteString("groups:\n  - name: dashboard-exprs\n    rules:\n")
	n := 0
	for _, d := range loadDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if tg.Datasource.UID == prometheusUID {
					checkMetricNames(t, d.file+": "+p.Title, tg.Expr)
					n++
					fmt.Fprintf(&rec, "      - record: chainwatch:dashboard_expr_%d\n        expr: %q\n", n, tg.Expr)
				}
			}
		}
	}
	promtool := requirePromtool(t)
	dir := t.TempDir()
	exprs := filepath.Join(dir, "dashboard_exprs.yml")
	if err := os.WriteFile(exprs, []byte(rec.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "rules", "prometheus/rules.yml"},
		{"test", "rules", "prometheus/rules_test.yml"},
		{"check", "rules", exprs},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		} else {
			t.Logf("promtool %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
		}
	}
}
