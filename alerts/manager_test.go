package alerts_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func testConfig(t *testing.T) alerts.Config {
	t.Helper()
	cfg := alerts.DefaultConfig()
	cfg.StateDir = t.TempDir()
	cfg.Tick = time.Hour // the tests drive the ticks
	cfg.GroupWait = 30 * time.Second
	cfg.GroupInterval = 5 * time.Minute
	cfg.RepeatInterval = 4 * time.Hour
	cfg.Queue.RetryMin, cfg.Queue.RetryMax = time.Millisecond, 5*time.Millisecond
	cfg.Default.MinSeverity = "info"
	cfg.Default.Email = []string{"ops@example.com"}
	return cfg
}

type harness struct {
	m     *alerts.Manager
	rec   *alerttest.Recorder
	clock *alerttest.Clock
	reg   *prometheus.Registry
	stop  func()
}

func start(t *testing.T, cfg alerts.Config, clock *alerttest.Clock, ns *alerts.Registry, opts ...alerts.Option) *harness {
	t.Helper()
	h := &harness{clock: clock, reg: prometheus.NewRegistry()}
	if ns == nil {
		h.rec = &alerttest.Recorder{}
		ns = alerts.NewRegistry()
		if err := ns.Register("rec", h.rec); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := alerts.NewManager(cfg, ns, h.reg, log, append([]alerts.Option{alerts.WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	h.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	t.Cleanup(h.stop)
	h.m = m
	return h
}

// tick sets the clock, flushes due groups and waits for the notifications.
func (h *harness) tick(t *testing.T, at time.Duration) {
	t.Helper()
	now := t0.Add(at)
	h.clock.Advance(now.Sub(h.clock.Now()))
	h.m.TickAt(now)
	h.m.WaitIdle(t)
}

func finding(ent, comp string, score float64, flags ...string) detectors.Finding {
	f := alerts.SampleFinding(t0)
	f.EnterpriseID, f.ComponentID, f.Subject = ent, comp, ent+"|"+comp
	f.Score = score
	f.Flags = flags
	if f.Flags == nil {
		f.Flags = []string{}
	}
	return f
}

func evaluate(t *testing.T, m *alerts.Manager, at time.Duration, fs ...detectors.Finding) {
	t.Helper()
	if err := m.Evaluate(context.Background(), fs, t0.Add(at)); err != nil {
		t.Fatal(err)
	}
}

func lastCall(t *testing.T, rec *alerttest.Recorder, want int) alerttest.Call {
	t.Helper()
	calls := rec.Calls()
	if len(calls) != want {
		t.Fatalf("notifications: got %d, want %d", len(calls), want)
	}
	if want == 0 {
		return alerttest.Call{}
	}
	return calls[len(calls)-1]
}

func TestLifecycleGroupingDedupeRepeatResolve(t *testing.T) {
	cfg := testConfig(t)
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	m, rec := h.m, h.rec

	evaluate(t, m, 0, finding("ENT-1", "C1", 85), finding("ENT-1", "C2", 65), finding("ENT-2", "C9", 10), finding("", "C5", 99))
	h.tick(t, 10*time.Second)
	lastCall(t, rec, 0) // group_wait not over

	h.tick(t, 30*time.Second)
	c := lastCall(t, rec, 1)
	if c.Firing() != 2 || c.Info.EnterpriseID != "ENT-1" || c.Info.Integration != "rec" || c.Alerts[0].ComponentID != "C1" {
		t.Fatalf("first notification: %+v", c)
	}
	if c.Info.Emails[0] != "ops@example.com" || c.Info.Lang != "zh-CN" {
		t.Errorf("route info: %+v", c.Info)
	}

	h.tick(t, 30*time.Second+5*time.Minute)
	lastCall(t, rec, 1) // nothing new: deduplicated

	evaluate(t, m, 6*time.Minute, finding("ENT-1", "C1", 85), finding("ENT-1", "C2", 65), finding("ENT-1", "C3", 70))
	h.tick(t, 7*time.Minute)
	lastCall(t, rec, 1) // group_interval not over
	h.tick(t, 30*time.Second+10*time.Minute)
	if c := lastCall(t, rec, 2); c.Firing() != 3 {
		t.Fatalf("new alert: %d firing", c.Firing())
	}

	// Escalation warning → critical notifies; a lower score at the same severity does not.
	evaluate(t, m, 11*time.Minute, finding("ENT-1", "C1", 81), finding("ENT-1", "C2", 90), finding("ENT-1", "C3", 70))
	h.tick(t, 30*time.Second+15*time.Minute)
	lastCall(t, rec, 3)

	// C1 clears: exactly one resolution.
	evaluate(t, m, 16*time.Minute, finding("ENT-1", "C2", 90), finding("ENT-1", "C3", 70))
	h.tick(t, 30*time.Second+20*time.Minute)
	c = lastCall(t, rec, 4)
	if c.Resolved() != 1 || c.Alerts[len(c.Alerts)-1].ComponentID != "C1" || c.Firing() != 2 {
		t.Fatalf("resolution: %d resolved, %d firing", c.Resolved(), c.Firing())
	}
	h.tick(t, 30*time.Second+25*time.Minute)
	lastCall(t, rec, 4)

	// repeat_interval re-sends the firing group, without the resolved alert.
	h.tick(t, 4*time.Hour+30*time.Minute)
	if c := lastCall(t, rec, 5); c.Firing() != 2 || c.Resolved() != 0 {
		t.Fatalf("repeat: %d firing %d resolved", c.Firing(), c.Resolved())
	}

	if got := counterValue(t, h.reg, "chainwatch_notifications_total", map[string]string{"integration": "rec"}); got != 5 {
		t.Errorf("chainwatch_notifications_total = %v", got)
	}
	views := m.Alerts(alerts.Filter{EnterpriseID: "ENT-1"})
	if len(views) != 3 {
		t.Errorf("alerts: %d", len(views))
	}
	if v, _ := m.Alert(alerts.Fingerprint("ENT-1", "C1", alerts.AlertName)); v.State != "resolved" || !v.EndsAt.Equal(t0.Add(16*time.Minute)) {
		t.Errorf("C1: %s %v", v.State, v.EndsAt)
	}
	if got := m.Alerts(alerts.Filter{Status: alerts.StatusResolved}); len(got) != 1 {
		t.Errorf("resolved filter: %d", len(got))
	}
	if got := m.Alerts(alerts.Filter{EnterpriseID: "ENT-2"}); len(got) != 0 {
		t.Errorf("score 10 raised an alert")
	}
	if v := gaugeValue(t, h.reg, "chainwatch_alerts", map[string]string{"state": "firing", "severity": "critical"}); v != 1 {
		t.Errorf("firing critical gauge %v", v)
	}
	if v := counterValue(t, h.reg, "chainwatch_alerts_findings_skipped_total", map[string]string{"reason": "no_enterprise"}); v != 1 {
		t.Errorf("skipped no_enterprise %v", v)
	}
}

func TestAckAndSilence(t *testing.T) {
	cfg := testConfig(t)
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	m, rec := h.m, h.rec
	evaluate(t, m, 0, finding("ENT-1", "C1", 85), finding("ENT-1", "C2", 65))
	h.tick(t, 30*time.Second)
	lastCall(t, rec, 1)

	fp1 := alerts.Fingerprint("ENT-1", "C1", alerts.AlertName)
	if _, err := m.Ack(fp1, "", "", time.Time{}); err == nil {
		t.Error("ack without author accepted")
	}
	if _, err := m.Ack("nope", "alice", "", time.Time{}); !errors.Is(err, alerts.ErrNotFound) {
		t.Errorf("ack unknown: %v", err)
	}
	v, err := m.Ack(fp1, "alice", "qualifying GD32", time.Time{})
	if err != nil || v.State != "suppressed" || v.Ack.By != "alice" {
		t.Fatalf("ack: %+v %v", v, err)
	}
	// After repeat_interval only C2 is re-sent.
	h.tick(t, 4*time.Hour+time.Minute)
	if c := lastCall(t, rec, 2); c.Firing() != 1 || c.Alerts[0].ComponentID != "C2" {
		t.Fatalf("acked alert re-sent: %+v", c.Alerts)
	}
	// Silence ENT-1's semiconductors until 7h: a new alert (C3) stays quiet meanwhile.
	s, err := m.AddSilence(alerts.Silence{Matchers: alerts.Matchers{EnterpriseID: "ENT-1", Category: "semiconductors"},
		EndsAt: t0.Add(7 * time.Hour), CreatedBy: "bob", Comment: "supplier audit"})
	if err != nil || s.State != alerts.SilenceActive {
		t.Fatalf("silence: %+v %v", s, err)
	}
	if _, err := m.AddSilence(alerts.Silence{CreatedBy: "x", EndsAt: t0.Add(8 * time.Hour)}); err == nil {
		t.Error("silence without matchers accepted")
	}
	evaluate(t, m, 4*time.Hour+2*time.Minute, finding("ENT-1", "C1", 85), finding("ENT-1", "C2", 65), finding("ENT-1", "C3", 70))
	h.tick(t, 4*time.Hour+7*time.Minute)
	lastCall(t, rec, 2)
	if v, _ := m.Alert(alerts.Fingerprint("ENT-1", "C3", alerts.AlertName)); v.State != "suppressed" {
		t.Errorf("C3 under silence: %s", v.State)
	}
	h.tick(t, 8*time.Hour+10*time.Minute) // the silence ended at 7h
	c := lastCall(t, rec, 3)
	if c.Firing() != 2 { // C2 and C3 (C1 still acked)
		t.Fatalf("after silence end: %d firing", c.Firing())
	}
	if _, err := m.ExpireSilence(s.ID); err != nil {
		t.Fatal(err)
	}
	if got := m.Silences(); len(got) != 1 || got[0].State != alerts.SilenceExpired {
		t.Errorf("silences: %+v", got)
	}

	// A new alert under an active silence is not notified.
	s2, _ := m.AddSilence(alerts.Silence{Matchers: alerts.Matchers{ComponentID: "C4"}, EndsAt: t0.Add(20 * time.Hour), CreatedBy: "bob"})
	evaluate(t, m, 8*time.Hour+11*time.Minute, finding("ENT-1", "C1", 85), finding("ENT-1", "C2", 65), finding("ENT-1", "C3", 70), finding("ENT-1", "C4", 99))
	h.tick(t, 8*time.Hour+16*time.Minute)
	lastCall(t, rec, 3)
	if v, _ := m.Alert(alerts.Fingerprint("ENT-1", "C4", alerts.AlertName)); v.State != "suppressed" || len(v.SilencedBy) != 1 || v.SilencedBy[0] != s2.ID {
		t.Errorf("C4 view: %s %v", v.State, v.SilencedBy)
	}
	// Unsilenced: C4 is new to the notification log → notified.
	if _, err := m.ExpireSilence(s2.ID); err != nil {
		t.Fatal(err)
	}
	h.tick(t, 8*time.Hour+21*time.Minute)
	if c := lastCall(t, rec, 4); c.Alerts[0].ComponentID != "C4" {
		t.Errorf("after unsilence: %+v", c.Alerts[0].ComponentID)
	}
}

func TestNotifierRetriesAndFailureMetrics(t *testing.T) {
	cfg := testConfig(t)
	cfg.Queue.MaxAttempts = 3
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	h.rec.Fail = func(n int) (bool, error) {
		if n <= 2 {
			return true, alerts.Errorf(alerts.ReasonServerError, "boom %d", n)
		}
		return false, nil
	}
	evaluate(t, h.m, 0, finding("ENT-1", "C1", 85))
	h.tick(t, 30*time.Second)
	if lastCall(t, h.rec, 1); h.rec.Tries() != 3 {
		t.Errorf("tries %d", h.rec.Tries())
	}
	if v := counterValue(t, h.reg, "chainwatch_notifications_failed_total", map[string]string{"integration": "rec", "reason": "server_error"}); v != 2 {
		t.Errorf("failed_total %v", v)
	}

	// A permanent failure is not retried, and the group is tried again at the next interval.
	h.rec.Fail = func(n int) (bool, error) {
		if n == 4 {
			return false, alerts.Errorf(alerts.ReasonClientError, "400")
		}
		return false, nil
	}
	evaluate(t, h.m, time.Minute, finding("ENT-1", "C1", 85), finding("ENT-1", "C2", 85))
	h.tick(t, 30*time.Second+5*time.Minute)
	if lastCall(t, h.rec, 1); h.rec.Tries() != 4 {
		t.Errorf("tries %d", h.rec.Tries())
	}
	h.tick(t, 30*time.Second+10*time.Minute)
	if c := lastCall(t, h.rec, 2); c.Firing() != 2 {
		t.Errorf("retry at next interval: %d", c.Firing())
	}
}

func TestEvaluateRunKeepsOtherDetectors(t *testing.T) {
	cfg := testConfig(t)
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	a := finding("ENT-1", "C1", 85)
	a.Detector = "single_source"
	b := finding("ENT-1", "C1", 70)
	b.Detector = "chokepoint"
	if err := h.m.EvaluateRun(context.Background(), nil, []detectors.Finding{a, b}, t0); err != nil {
		t.Fatal(err)
	}
	fp := alerts.Fingerprint("ENT-1", "C1", alerts.AlertName)
	if v, _ := h.m.Alert(fp); strings.Join(v.Detectors, ",") != "chokepoint,single_source" || v.Severity != alerts.SeverityCritical {
		t.Fatalf("detectors %v severity %s", v.Detectors, v.Severity)
	}
	_ = h.m.EvaluateRun(context.Background(), []string{"single_source"}, nil, t0.Add(time.Minute))
	if v, _ := h.m.Alert(fp); v.Status != alerts.StatusFiring || strings.Join(v.Detectors, ",") != "chokepoint" {
		t.Fatalf("after single_source run: %s %v", v.Status, v.Detectors)
	}
	_ = h.m.EvaluateRun(context.Background(), []string{"chokepoint"}, nil, t0.Add(2*time.Minute))
	if v, _ := h.m.Alert(fp); v.Status != alerts.StatusResolved || !v.EndsAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("after chokepoint run: %s %v", v.Status, v.EndsAt)
	}
}

func TestReloadKeepsState(t *testing.T) {
	cfg := testConfig(t)
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	evaluate(t, h.m, 0, finding("ENT-1", "C1", 65))
	h.tick(t, 30*time.Second)
	lastCall(t, h.rec, 1)

	next := cfg
	next.Rules.Thresholds = alerts.SeverityThresholds{Info: 30, Warning: 50, Critical: 60}
	next.Enterprises = map[string]alerts.RouteConfig{"ENT-1": {Name: "Acme", Lang: "en"}}
	if err := h.m.Reload(next, nil); err != nil {
		t.Fatal(err)
	}
	bad := next
	bad.StateDir = t.TempDir()
	if err := h.m.Reload(bad, nil); err == nil {
		t.Error("state_dir change accepted")
	}
	bad = next
	bad.Default.Channels = []string{"nope"}
	if err := h.m.Reload(bad, nil); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown channel: %v", err)
	}
	if v := h.m.Alerts(alerts.Filter{}); len(v) != 1 || v[0].Severity != alerts.SeverityWarning {
		t.Fatalf("state lost on reload: %+v", v)
	}
	// New rules apply from the next evaluation: 65 is now critical → escalation notified in English.
	evaluate(t, h.m, time.Minute, finding("ENT-1", "C1", 65))
	h.tick(t, 30*time.Second+5*time.Minute)
	c := lastCall(t, h.rec, 2)
	if c.Alerts[0].Severity != alerts.SeverityCritical || c.Info.Lang != "en" || c.Info.EnterpriseName != "Acme" {
		t.Errorf("after reload: %s %s %q", c.Alerts[0].Severity, c.Info.Lang, c.Info.EnterpriseName)
	}
}

func TestFlood(t *testing.T) {
	cfg := testConfig(t)
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	fs := alerttest.Flood(10000, 50, t0)
	evaluate(t, h.m, 0, fs...)
	h.tick(t, 30*time.Second)
	calls := h.rec.Calls()
	if len(calls) != 50 {
		t.Fatalf("first flush: %d notifications, want one per enterprise (50)", len(calls))
	}
	seen := map[string]bool{}
	total := 0
	for _, c := range calls {
		seen[c.Info.EnterpriseID] = true
		total += c.Firing()
	}
	if len(seen) != 50 || total != 10000 {
		t.Errorf("groups %d alerts %d", len(seen), total)
	}
	// 10,000 more findings within the same group_interval: nothing until it is over, then ≤ 50.
	more := alerttest.Flood(20000, 50, t0)
	evaluate(t, h.m, time.Minute, more...)
	h.tick(t, 2*time.Minute)
	h.tick(t, 4*time.Minute)
	if n := len(h.rec.Calls()); n != 50 {
		t.Fatalf("notifications inside group_interval: %d", n-50)
	}
	h.tick(t, 30*time.Second+5*time.Minute)
	if n := len(h.rec.Calls()) - 50; n > 50 || n == 0 {
		t.Fatalf("second interval: %d notifications", n)
	}
	if b, err := os.ReadFile(filepath.Join(cfg.StateDir, "alerts.json")); err != nil || len(b) == 0 {
		t.Errorf("state not written: %v", err)
	}
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	v, _ := testenv.Value(t, reg, name, labels)
	return v
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	return metricValue(t, reg, name, labels)
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	return metricValue(t, reg, name, labels)
}

func TestConsumptionLookupSizesSafetyStock(t *testing.T) {
	cfg := testConfig(t)
	lookup := func(ent, comp string) (float64, bool) { return 50, ent == "ENT-1" && comp == "C1" }
	h := start(t, cfg, alerttest.NewClock(t0), nil, alerts.WithConsumption(lookup))
	f := finding("ENT-1", "C1", 85)
	f.Terms = f.Terms[:3] // no consumption_per_day term, as the detectors emit today
	evaluate(t, h.m, 0, f)
	v, err := h.m.Alert(alerts.Fingerprint("ENT-1", "C1", alerts.AlertName))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range v.Actions {
		if a.Kind == alerts.ActionSafetyStock && (a.Units != 2400 || a.ConsumptionPerDay != 50) {
			t.Errorf("safety stock %+v, want 48 d × 50/d = 2400", a)
		}
	}
}

// TestReloadAddsChannel: a reload with a rebuilt registry adds an integration (SIGHUP after a
// new webhook was configured): the group already notified on "rec" is sent on the new one at its
// next flush, and never again on "rec".
func TestReloadAddsChannel(t *testing.T) {
	cfg := testConfig(t)
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	evaluate(t, h.m, 0, finding("ENT-1", "C1", 65))
	h.tick(t, 30*time.Second)
	lastCall(t, h.rec, 1)

	added := &alerttest.Recorder{}
	ns := alerts.NewRegistry()
	if err := ns.Register("rec", h.rec); err != nil {
		t.Fatal(err)
	}
	if err := ns.Register("added", added); err != nil {
		t.Fatal(err)
	}
	next := cfg
	next.Default.Channels = []string{"rec", "added"}
	if err := h.m.Reload(next, nil); err == nil || !strings.Contains(err.Error(), `"added"`) {
		t.Fatalf("a route naming an integration that is not built must be refused: %v", err)
	}
	if err := h.m.Reload(next, ns); err != nil {
		t.Fatal(err)
	}
	h.tick(t, 30*time.Second+cfg.GroupInterval)
	lastCall(t, h.rec, 1)
	if got := lastCall(t, added, 1); len(got.Alerts) != 1 || got.Alerts[0].EnterpriseID != "ENT-1" {
		t.Fatalf("new channel got %+v", got)
	}
}

// TestPartFindingsRoutedToUsers: an availability finding names a part and its component but no
// enterprise. With WithComponentUsers it reaches every enterprise using the component, and the
// stock_collapse floor (warning) raises their alerts: ENT-1's own exposure finding (score 45,
// info) becomes a warning carrying the flag, ENT-2 (no finding of its own) gets a warning built
// from the part finding. A component nobody uses is counted as "no_enterprise".
func TestPartFindingsRoutedToUsers(t *testing.T) {
	cfg := testConfig(t)
	users := func(comp string) []string {
		if comp == "C1" {
			return []string{"ENT-1", "ENT-2"}
		}
		return nil
	}
	h := start(t, cfg, alerttest.NewClock(t0), nil, alerts.WithComponentUsers(users))
	part := finding("", "C1", 20, "stock_collapse")
	part.Detector, part.SubjectType, part.Subject = "availability", "part", "MPN-1"
	orphan := finding("", "C9", 20, "stock_collapse")
	orphan.Detector, orphan.SubjectType, orphan.Subject = "availability", "part", "MPN-9"
	own := finding("ENT-1", "C1", 45)
	evaluate(t, h.m, 0, part, own, orphan)

	got := map[string]alerts.AlertView{}
	for _, v := range h.m.Alerts(alerts.Filter{}) {
		got[v.EnterpriseID] = v
	}
	if len(got) != 2 {
		t.Fatalf("alerts: %+v", got)
	}
	e1, e2 := got["ENT-1"], got["ENT-2"]
	if e1.Severity != alerts.SeverityWarning || e1.Score != 45 || !slices.Contains(e1.Flags, "stock_collapse") {
		t.Errorf("ENT-1: severity %v score %v flags %v; want warning from the floor, the exposure's score, the part's flag", e1.Severity, e1.Score, e1.Flags)
	}
	if !slices.Contains(e1.Detectors, "availability") {
		t.Errorf("ENT-1 detectors %v: want availability among them", e1.Detectors)
	}
	if e2.Severity != alerts.SeverityWarning || e2.ComponentID != "C1" {
		t.Errorf("ENT-2: %v %q", e2.Severity, e2.ComponentID)
	}
	if v := counterValue(t, h.reg, "chainwatch_alerts_findings_skipped_total", map[string]string{"reason": "no_enterprise"}); v != 1 {
		t.Errorf("no_enterprise skipped = %v, want 1 (the part of C9)", v)
	}
}

// TestNewAlternateRenotifies: a B计划 notification sent before the substitution list landed (no
// alternates known) is followed, at the next group_interval, by one that names the alternates; the
// same alternates again, ranked anew, fewer of them, or one named in any earlier email of the
// incident are no news. An entry of a notification log written before alternates were logged does
// not make a restart re-send.
func TestNewAlternateRenotifies(t *testing.T) {
	cfg := testConfig(t)
	h := start(t, cfg, alerttest.NewClock(t0), nil)
	withAlts := func(f detectors.Finding, ids ...string) detectors.Finding {
		f.Alternates = nil
		for _, id := range ids {
			f.Alternates = append(f.Alternates, detectors.Alternate{SupplierID: id, Country: "CHN", Domestic: true, QualificationDays: 240, Origin: "substitution"})
		}
		return f
	}
	step := 0 * time.Minute
	next := func(f detectors.Finding) []alerttest.Call {
		t.Helper()
		step += 6 * time.Minute
		evaluate(t, h.m, step, f)
		h.tick(t, step+time.Minute)
		return h.rec.Calls()
	}
	evaluate(t, h.m, 0, withAlts(finding("ENT-1", "C-CNC5", 85)))
	h.tick(t, 30*time.Second)
	if c := lastCall(t, h.rec, 1); len(c.Alerts[0].Alternates) != 0 {
		t.Fatalf("first notification has alternates: %+v", c.Alerts[0].Alternates)
	}
	calls := next(withAlts(finding("ENT-1", "C-CNC5", 85), "S-KEDE"))
	if len(calls) != 2 || len(calls[1].Alerts[0].Alternates) != 1 || calls[1].Alerts[0].Alternates[0].SupplierID != "S-KEDE" {
		t.Fatalf("the alternate that became known was not notified: %d calls", len(calls))
	}
	for _, tc := range []struct {
		name string
		alts []string
		want int
	}{
		{"same alternate", []string{"S-KEDE"}, 2},
		{"a second alternate", []string{"S-KEDE", "S-GSK"}, 3},
		{"ranked anew", []string{"S-GSK", "S-KEDE"}, 3},
		{"one dropped", []string{"S-GSK"}, 3},
		{"none", nil, 3},
		{"one back that was notified before", []string{"S-KEDE"}, 3},
		{"a third", []string{"S-KEDE", "S-HNC"}, 4},
		{"one named two emails ago, back alone", []string{"S-GSK"}, 4},
	} {
		if got := len(next(withAlts(finding("ENT-1", "C-CNC5", 85), tc.alts...))); got != tc.want {
			t.Errorf("%s: %d notifications, want %d", tc.name, got, tc.want)
		}
	}
	h.stop()

	// A notification log from before alternates were logged: the entry has no "alternates".
	path := filepath.Join(cfg.StateDir, "nflog.jsonl")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var old []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		i := strings.Index(line, `,"alternates":`)
		if i < 0 {
			t.Fatalf("logged entry without alternates: %s", line)
		}
		old = append(old, line[:i]+"}")
	}
	if err := os.WriteFile(path, []byte(strings.Join(old, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h = start(t, cfg, alerttest.NewClock(t0.Add(step+2*time.Minute)), nil)
	step += 6 * time.Minute
	evaluate(t, h.m, step, withAlts(finding("ENT-1", "C-CNC5", 85), "S-KEDE", "S-HNC", "S-NEW"))
	h.tick(t, step+time.Minute)
	lastCall(t, h.rec, 0)
}
