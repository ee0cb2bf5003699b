package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/smtpsink"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// TestClusterFailoverIntegration: 300k distinct events (plus 30k re-sends) through two daemons in one
// consumer group into the 2x2 ClickHouse cluster (deploy/local/cluster.sh), with alerts on: email to
// an in-process SMTP server, one alerts state dir shared by both daemons (as compose and Helm mount
// it), and the demo supply map, which raises B计划 alerts for three enterprises. POST
// /-/detect?wait=true on the follower is forwarded to the leader and answers with the leader's run.
// Mid-stream one broker and one ClickHouse replica are SIGKILLed and the leading daemon is stopped;
// the other takes the lease. Afterwards the distinct counts are exact, no detector interval slot has
// more than one scheduled run, and every alert group got exactly one email (none twice, none missing).
func TestClusterFailoverIntegration(t *testing.T) {
	cl := testenv.RequireCluster(t)
	const n, resend = 300_000, 30_000
	cfg := config.Default()
	cfg.ClickHouse.Addr, cfg.ClickHouse.Cluster = cl.ClickHouse, cl.Name
	cfg.ClickHouse.Database = "cwcluster_" + testenv.Suffix()
	cfg.Kafka.Brokers, cfg.Kafka.ReplicationFactor, cfg.Kafka.Partitions = cl.Kafka, 3, 6
	cfg.Kafka.TopicPrefix, cfg.Kafka.GroupID = "cw"+testenv.Suffix(), "cwcluster-"+testenv.Suffix()
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.API.Tokens = testAPIConfig().Tokens
	cfg.Sink.FlushInterval, cfg.Sink.RetryMax = 300*time.Millisecond, 2*time.Second
	cfg.Detectors.Interval = 4 * time.Second
	cfg.Digest.Enabled = false
	smtp, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	cfg.Alerts = clusterAlerts(cfg.Alerts, t.TempDir(), smtp.Port())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		cl.StartNode(t, "kafka-2")
		cl.StartNode(t, "ch-s2r2")
	})

	type daemon struct {
		app *App
		reg *prometheus.Registry
	}
	var ds []daemon
	for range 2 {
		reg := prometheus.NewRegistry()
		a, err := New(ctx, cfg, Options{Log: testLogger(t), Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, daemon{a, reg})
	}
	conn, err := chstore.Open(ctx, func() chstore.Config { c := cfg.ClickHouse; c.CreateDB = false; return c }(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.ClickHouse.Database+" ON CLUSTER "+cl.Name)
	})

	base := importDemo(t, conn, cfg.Kafka) // alerts for the demo enterprises, raised by the first leader
	triggered := detectOnFollower(t, [2]*App{ds[0].app, ds[1].app}, ds[0].reg, ds[1].reg)
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	if _, err := smtp.Wait(wctx, 1); err != nil {
		t.Fatalf("no alert email from the first leader: %v", err)
	}

	var produced atomic.Int64
	prodErr := make(chan error, 1)
	start := time.Now()
	go func() { prodErr <- produce(ctx, cfg.Kafka, n, resend, &produced) }()
	for produced.Load() < n/3 {
		time.Sleep(100 * time.Millisecond)
	}
	leader := leaderOf(t, ds[0].reg, ds[1].reg)
	emailsBefore := len(smtp.Messages())
	cl.KillNode(t, "kafka-2")
	cl.KillNode(t, "ch-s2r2")
	killedAt := time.Now()
	if err := ds[leader].app.Stop(ctx); err != nil {
		t.Logf("stopping daemon %d: %v", leader, err)
	}
	survivor := ds[1-leader]
	t.Logf("at %d produced: killed kafka-2, ch-s2r2 and stopped leading daemon %d", produced.Load(), leader)
	if err := <-prodErr; err != nil {
		t.Fatal(err)
	}
	got := waitCounts(t, conn, 10*time.Minute, func(c map[string]uint64) bool { return sumEvents(c) >= base+n })
	elapsed := time.Since(start)
	time.Sleep(2 * cfg.Detectors.Interval) // a few more slots for the survivor
	if s := sumEvents(tableCounts(t, conn)); s != base+n {
		t.Errorf("distinct events stored %d, want %d + %d demo rows (%v)", s, n, base, got)
	}
	if gauge(t, survivor.reg, "chainwatch_lease_held") != 1 {
		t.Error("the surviving daemon does not hold the lease")
	}
	checkSlots(t, conn, cfg.Detectors.Interval, killedAt, triggered)
	checkEmails(t, smtp, survivor.app, emailsBefore)
	if err := survivor.app.Stop(ctx); err != nil {
		t.Logf("stopping survivor: %v", err)
	}
	t.Logf("%d distinct events (+%d re-sends) stored exactly in %s across 2 shards, through a broker, a replica and a daemon failure",
		n, resend, elapsed.Round(time.Second))
}

func produce(ctx context.Context, kc bus.Config, n, resend int, produced *atomic.Int64) error {
	prod := bus.NewProducer(kc, nil)
	defer prod.Close()
	now := time.Now().UTC().Truncate(time.Second)
	msgs := make([]kafka.Message, 0, 5000)
	for i := 0; i < n+resend; i++ {
		env := loadgen.Event(i%n, now)
		msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(kc.TopicPrefix), Key: env.Key(), Value: loadgen.Encode(env)})
		if len(msgs) == cap(msgs) || i == n+resend-1 {
			if err := writeRetrying(ctx, prod, msgs); err != nil {
				return err
			}
			produced.Add(int64(len(msgs)))
			msgs = msgs[:0]
		}
	}
	return nil
}

// writeRetrying re-sends a whole batch until Kafka takes it, as collectors do: while a killed broker's
// partitions move to new leaders some records fail; re-sent records collapse in ClickHouse.
func writeRetrying(ctx context.Context, prod *bus.Producer, msgs []kafka.Message) error {
	var err error
	for range 60 {
		if err = prod.WriteRaw(ctx, msgs...); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("kafka: batch still failing after 60 attempts: %.300w", err)
}

// triggeredRuns are the runs POST /-/detect started: the ids its answers named, and the window
// (from, to; zero: none) of answers that were 503 because the lease moved while the run they waited
// for was under way. Such an answer names no run, and the run it started may still have completed
// (its detectors' rows written before the lease ended), so a run started in that window is not
// counted as a slot's scheduled run.
type triggeredRuns struct {
	ids      []string
	from, to time.Time
}

// checkSlots: no detectors.interval slot has more than one completed scheduled detector run (run_id,
// every detector ok; the runs triggered by POST /-/detect are not scheduled; a run cut short by the
// end of a lease is run again, see slotDone), and the survivor ran after the failover.
func checkSlots(t *testing.T, conn driver.Conn, interval time.Duration, killedAt time.Time, triggered triggeredRuns) {
	t.Helper()
	secs := uint32(interval / time.Second)
	rows, err := conn.Query(context.Background(), "SELECT toUInt32(min(started_at)) AS started, run_id FROM detector_runs GROUP BY run_id HAVING countIf(status != 'ok') = 0 ORDER BY started")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perSlot := map[uint32]int{}
	after := 0
	for rows.Next() {
		var started uint32
		var runID string
		if err := rows.Scan(&started, &runID); err != nil {
			t.Fatal(err)
		}
		slot := started / secs
		if slices.Contains(triggered.ids, runID) {
			continue
		}
		if !triggered.from.IsZero() && int64(started) >= triggered.from.Unix() && int64(started) <= triggered.to.Unix() {
			t.Logf("run %s started while a POST /-/detect was answered 503 (the lease moved): not a scheduled run", runID)
			continue
		}
		perSlot[slot]++
		if int64(slot)*int64(secs) > killedAt.Unix() {
			after++
		}
	}
	for s, c := range perSlot {
		if c > 1 {
			t.Errorf("slot %d has %d detector runs, want 1", s, c)
		}
	}
	if after == 0 {
		t.Error("no detector run after the failover")
	}
	t.Logf("%d detector runs in %d slots, %d after the failover", len(perSlot), len(perSlot), after)
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	if m := testenv.Metric(t, reg, name); m != nil {
		return m.GetGauge().GetValue()
	}
	return -1
}

// demoRoutes are the email recipients of the demo enterprises; other enterprises (the load
// generator's) get no email: only groups with known, stable alerts are counted.
var demoRoutes = map[string]string{"E-NEV": "nev@chainwatch.test", "E-ROBOT": "robot@chainwatch.test", "E-SEMI": "semi@chainwatch.test"}

// clusterAlerts: email to the SMTP sink on port, state in dir (shared by the daemons), quick
// grouping and one repeat per hour (so a second email of a group within the test is a duplicate).
func clusterAlerts(c alerts.Config, dir string, port int) alerts.Config {
	c.Enabled, c.StateDir = true, dir
	c.Tick, c.GroupWait, c.GroupInterval, c.RepeatInterval = 100*time.Millisecond, 200*time.Millisecond, 500*time.Millisecond, time.Hour
	c.Default = alerts.RouteConfig{Lang: "en", MinSeverity: "warning", Channels: []string{"email"}}
	c.Enterprises = map[string]alerts.RouteConfig{}
	for ent, to := range demoRoutes {
		c.Enterprises[ent] = alerts.RouteConfig{Email: []string{to}}
	}
	c.Email.Enabled = true
	c.Email.SMTP.Host, c.Email.SMTP.Port, c.Email.SMTP.Mode, c.Email.SMTP.Auth = "127.0.0.1", port, "plain", "none"
	c.Email.SMTP.Timeout = 5 * time.Second
	return c
}

// leaderOf waits until exactly one of the daemons holds the lease and returns its index.
func leaderOf(t *testing.T, regs ...*prometheus.Registry) int {
	t.Helper()
	leader := -1
	if !testenv.Until(time.Minute, 100*time.Millisecond, func() bool {
		held := 0
		for i, reg := range regs {
			if gauge(t, reg, "chainwatch_lease_held") == 1 {
				leader = i
				held++
			}
		}
		return held == 1
	}) {
		t.Fatal("not exactly one daemon holds the lease")
	}
	return leader
}

// detectOnFollower posts /-/detect?wait=true to the follower: the follower forwards it to the
// leader, which runs the detectors; the answer names the leader and the run, which is in
// detector_runs. Each attempt asks the lease gauges who leads at that moment. A 503 (leader not
// advertised yet, or the run cut short by a lease rebalance) is retried, and so is an answer served
// by another daemon than that leader (the lease moved between the gauges and the request: the
// daemon asked may have become the leader and served it itself). It returns the ids of every run
// the requests started: the one answered with 200 last.
func detectOnFollower(t *testing.T, apps [2]*App, regs ...*prometheus.Registry) triggeredRuns {
	t.Helper()
	type answer struct {
		RunID     string           `json:"run_id"`
		Error     string           `json:"error"`
		Detectors []map[string]any `json:"detectors"`
	}
	var status int
	var hdr http.Header
	var out answer
	var leader *App
	start := time.Now()
	var runs triggeredRuns
attempts:
	for range 60 {
		posted := time.Now()
		l := leaderOf(t, regs...)
		leader = apps[l]
		req, _ := http.NewRequest("POST", "http://"+apps[1-l].Addr()+"/-/detect?wait=true", nil)
		req.Header.Set("Authorization", "Bearer "+cliOpToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, hdr, out = resp.StatusCode, resp.Header, answer{} // a fresh answer: decoding merges into what is there
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("decoding the answer (%d): %v", status, err)
		}
		if out.RunID != "" {
			runs.ids = append(runs.ids, out.RunID)
		}
		switch {
		case status == http.StatusServiceUnavailable:
			t.Logf("follower: 503 %s (Retry-After %s)", out.Error, hdr.Get("Retry-After"))
			if out.RunID == "" && strings.Contains(out.Error, "lost the detector lease") {
				if runs.from.IsZero() {
					runs.from = posted
				}
				runs.to = time.Now()
			}
		case status == http.StatusOK && hdr.Get(leaderHeader) != leader.route.self:
			t.Logf("run %s served by %q, not by the leader %s the gauges named: the lease moved; asking again",
				out.RunID, hdr.Get(leaderHeader), leader.route.self)
		default:
			break attempts
		}
		time.Sleep(time.Second)
	}
	if status != http.StatusOK || out.RunID == "" || len(out.Detectors) == 0 || hdr.Get(leaderHeader) != leader.route.self {
		t.Fatalf("POST /-/detect?wait=true on the follower: %d %+v, served by %q, want 200 with the run of the leader %s",
			status, out, hdr.Get(leaderHeader), leader.route.self)
	}
	var rows uint64
	if err := leader.conn.QueryRow(context.Background(), "SELECT count() FROM detector_runs WHERE run_id = ?", out.RunID).Scan(&rows); err != nil || rows == 0 {
		t.Fatalf("run %s of the forwarded detect is not in detector_runs (%d, %v)", out.RunID, rows, err)
	}
	t.Logf("POST /-/detect?wait=true on the follower: served by the leader %s, run %s (%d detectors) in %s",
		leader.route.self, out.RunID, len(out.Detectors), time.Since(start).Round(time.Millisecond))
	return runs
}

// checkEmails: across the failover no group was notified twice with the same content, and no
// notification the alerts' dedup rule owes is missing (alerts/nflog.go: a group is notified again
// when an alert is new or escalated since its last notification, or one it listed as firing is
// resolved, or a firing alert names an alternate the group was not told of; a de-escalation alone
// is not notified). The streamed data moves scores while the test
// runs, so groups are legitimately notified more than once. Checked on the emails received, against
// the alerts on the new leader at the end: each firing alert (at or above the route's warning) is in
// its group's last email at that severity or higher, and no alert resolved now is listed there as
// firing.
func checkEmails(t *testing.T, smtp *smtpsink.Sink, survivor *App, before int) {
	t.Helper()
	// The new leader's evaluation follows its first detector run after the failover (reading the
	// findings back, then Evaluate), which on the loaded cluster may still be under way now.
	if !testenv.Until(2*time.Minute, 500*time.Millisecond, func() bool {
		return counterSum(t, survivor.reg, "chainwatch_alerts_evaluations_total") > 0
	}) {
		t.Fatal("the new leader never evaluated alerts (waited 2 min): the duplicate check is empty")
	}
	var msgs []smtpsink.Message
	var missing []string
	testenv.Until(30*time.Second, 500*time.Millisecond, func() bool { // an owed flush may be a tick away
		msgs = smtp.Messages()
		last := map[string]emailContent{}
		for _, m := range msgs {
			c := emailAlerts(t, m)
			last[c.group] = c
		}
		missing = owedNotifications(survivor.mgr, last)
		return len(missing) == 0
	})
	var prev = map[string]string{}
	named := map[string]map[string]bool{} // group → "component alternate" named in its emails so far
	perGroup := map[string]int{}
	for i, m := range msgs {
		c := emailAlerts(t, m)
		perGroup[c.group]++
		if named[c.group] == nil {
			named[c.group] = map[string]bool{}
		}
		// the same alerts again are owed only for an alternate the group has not been told of
		// (alerts/nflog.go): the substitution list can land after the first detector run
		var newAlts []string
		for _, n := range c.named {
			if !named[c.group][n] {
				newAlts = append(newAlts, n)
			}
			named[c.group][n] = true
		}
		if p, ok := prev[c.group]; ok && p == c.sig {
			if len(newAlts) == 0 {
				t.Errorf("email %d to %s repeats the group's previous notification (%s)", i, c.group, c.sig)
			} else {
				t.Logf("email %d to %s: the same alerts, with alternates not named before: %v", i, c.group, newAlts)
			}
		}
		prev[c.group] = c.sig
	}
	t.Logf("alert emails: %d (%d before the leader was stopped, %d after), per group %v", len(msgs), before, len(msgs)-before, perGroup)
	for ent := range demoRoutes {
		if perGroup[ent] == 0 {
			t.Errorf("%s: no email", ent)
		}
	}
	for _, m := range missing {
		t.Errorf("missing notification: %s", m)
	}
}

// owedNotifications lists what the groups' last emails lack by the dedup rule (see checkEmails).
func owedNotifications(mgr *alerts.Manager, last map[string]emailContent) []string {
	var out []string
	for ent := range demoRoutes {
		firing := mgr.Alerts(alerts.Filter{EnterpriseID: ent, State: "firing", MinSeverity: alerts.SeverityWarning})
		if len(firing) == 0 {
			out = append(out, ent+" has no firing alert on the new leader: the check is empty")
		}
		for _, a := range firing {
			if sent, ok := last[ent].firing[a.ComponentID]; !ok || sent < a.Severity {
				out = append(out, fmt.Sprintf("%s × %s firing %s, its last email lists it as %q", ent, a.ComponentID, a.Severity, sent))
			}
		}
		for _, a := range mgr.Alerts(alerts.Filter{EnterpriseID: ent, State: "resolved"}) {
			if _, ok := last[ent].firing[a.ComponentID]; ok {
				out = append(out, fmt.Sprintf("%s × %s resolved, its last email lists it as firing", ent, a.ComponentID))
			}
		}
	}
	return out
}

type emailContent struct {
	group  string
	firing map[string]alerts.Severity // component → severity
	sig    string                     // the firing and resolved entries, sorted
	named  []string                   // "component alternate": the alternates each firing alert names
}

// emailAlerts: an alert email's group (X-Chainwatch-Group), its firing alerts (the "[SEVERITY]
// component" lines of the text part), the alternates each names (the "  N. label — …" lines
// under it) and the entries of its resolved section.
func emailAlerts(t *testing.T, m smtpsink.Message) emailContent {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	part, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart() // text/plain, decoded
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(part)
	if err != nil {
		t.Fatal(err)
	}
	body, resolvedPart := string(text), ""
	if k := strings.LastIndex(body, "=\n"); k >= 0 && !strings.HasPrefix(body[k+2:], "[") { // the resolved section
		body, resolvedPart = body[:k], body[k+2:]
	}
	c := emailContent{group: msg.Header.Get("X-Chainwatch-Group"), firing: map[string]alerts.Severity{}}
	var entries []string
	for _, l := range alertLine.FindAllStringSubmatch(body, -1) {
		sev, err := alerts.ParseSeverity(strings.ToLower(l[1]))
		if err != nil {
			t.Fatalf("email to %s: alert line [%s] %s: %v", c.group, l[1], l[2], err)
		}
		c.firing[l[2]] = sev
		entries = append(entries, l[1]+" "+l[2])
	}
	comp := ""
	for _, line := range strings.Split(body, "\n") {
		if l := alertLine.FindStringSubmatch(line); l != nil {
			comp = l[2]
		} else if l := altItemLine.FindStringSubmatch(line); l != nil && comp != "" {
			c.named = append(c.named, comp+" "+l[1])
		}
	}
	slices.Sort(entries)
	var resolved []string
	for _, l := range resolvedLine.FindAllStringSubmatch(resolvedPart, -1) {
		resolved = append(resolved, "RESOLVED "+l[1])
	}
	slices.Sort(resolved)
	c.sig = strings.Join(append(entries, resolved...), ", ")
	return c
}

var (
	alertLine    = regexp.MustCompile(`(?m)^\[([A-Z]+)\] (\S+)`)
	resolvedLine = regexp.MustCompile(`(?m)^  - (\S+)`)
	altItemLine  = regexp.MustCompile(`^  \d+\. (.+?) — `)
)

// counterSum sums a counter family's series.
func counterSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				s += m.GetCounter().GetValue()
			}
		}
	}
	return s
}
