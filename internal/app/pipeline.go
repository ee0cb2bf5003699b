package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/archive"
	"github.com/chainwatch/chainwatch/alerts/channels"
	"github.com/chainwatch/chainwatch/alerts/email"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/report"
)

// newAlerts builds the alert manager with its notifiers, the ClickHouse alert_events archive and the
// consumption lookup used for safety-stock actions.
func newAlerts(cfg config.Config, conn driver.Conn, cons *consumption, reg prometheus.Registerer, log *slog.Logger, opts ...alerts.Option) (*alerts.Manager, error) {
	nreg, err := channels.Build(cfg.Alerts, channels.Options{Log: log})
	if err != nil {
		return nil, fmt.Errorf("alerts: channels: %w", err)
	}
	opts = append([]alerts.Option{alerts.WithEventSink(archive.New(conn)), alerts.WithConsumption(cons.lookup),
		alerts.WithComponentUsers(cons.componentUsers)}, opts...)
	return alerts.NewManager(cfg.Alerts, nreg, reg, log, opts...)
}

// detectLoop runs all enabled detectors now and every detectors.interval; after each run it feeds the
// latest findings of every detector to the alert manager (which fires, updates and resolves alerts).
// trigger, when it receives, starts a run at once (tests, the API). When the sink stored availability
// rows, the availability and exposure detectors and the alert evaluation run soon after (debounced),
// without waiting for the interval; while the sink drains a backlog the trigger holds those signals
// (detectTrigger.stored), so a drain does not start a run per batch.
func detectLoop(ctx context.Context, runner *detectors.Runner, conn driver.Conn, mgr *alerts.Manager, cons *consumption,
	interval time.Duration, trig *detectTrigger, done func(detectors.RunSummary, error), log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var events []string // the enabled event detectors
	for _, n := range eventDetectors {
		if slices.Contains(runner.Registry().Names(), n) {
			events = append(events, n)
		}
	}
	var names []string // detectors of the next run: nil for all, events after availability rows
	for {
		if names == nil {
			run := trig.begin()
			sum, _, err := evaluateOnce(ctx, runner, conn, mgr, cons)
			if err != nil && ctx.Err() == nil {
				log.Error("detector run failed; retrying at the next tick", "run_id", sum.RunID, "err", err)
			}
			trig.end(run, sum, err)
			if done != nil {
				done(sum, err)
			}
		} else {
			sum, st, err := evaluateOnce(ctx, runner, conn, mgr, cons, names...)
			if err != nil && ctx.Err() == nil {
				log.Error("event-driven detector run failed", "run_id", sum.RunID, "detectors", names, "err", err)
			}
			log.Info("event-driven detector run", "run_id", sum.RunID, "detectors", names, "duration", st.total(),
				"detect", st.detect, "read_findings", st.findings, "consumption", st.consumption, "evaluate", st.evaluate)
		}
		names = nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-trig.ch:
		case <-trig.events:
			if len(events) == 0 {
				continue
			}
			if !trig.debounce(ctx) {
				return
			}
			names = events
		}
	}
}

// evalStages is the time of each step of one evaluation.
type evalStages struct{ detect, findings, consumption, evaluate time.Duration }

func (s evalStages) total() time.Duration { return s.detect + s.findings + s.consumption + s.evaluate }

func evaluateOnce(ctx context.Context, runner *detectors.Runner, conn driver.Conn, mgr *alerts.Manager, cons *consumption, names ...string) (detectors.RunSummary, evalStages, error) {
	var st evalStages
	t0 := time.Now()
	lap := func(d *time.Duration) { now := time.Now(); *d, t0 = now.Sub(t0), now }
	sum, err := runner.RunOnce(ctx, names...)
	lap(&st.detect)
	if err != nil {
		return sum, st, err
	}
	if mgr == nil {
		return sum, st, nil
	}
	findings, err := detectors.LatestFindings(ctx, conn, detectors.Filter{})
	lap(&st.findings)
	if err != nil {
		return sum, st, fmt.Errorf("read findings for alerts: %w", err)
	}
	err = cons.refresh(ctx, conn)
	lap(&st.consumption)
	if err != nil {
		return sum, st, err
	}
	err = mgr.Evaluate(ctx, findings, time.Now())
	lap(&st.evaluate)
	if err != nil {
		return sum, st, err // already "alerts: evaluate: …"
	}
	return sum, st, nil
}

// consumption caches, from the supply map, consumption_per_day per enterprise × component (the
// "stocks" links, for the B计划 safety-stock action: gap days × units per day) and the enterprises
// using each component (to route part findings such as a stock collapse to them).
type consumption struct {
	mu    sync.RWMutex
	m     map[[2]string]float64
	users map[string][]string // component → enterprises, sorted
}

func (c *consumption) componentUsers(comp string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.users[comp]
}

// componentUsersSQL: an enterprise uses a component when a supplier supplies it the component,
// when it stocks the component, or when it makes a product whose BOM holds the component.
const componentUsersSQL = `SELECT enterprise_id, component_id FROM supply_links FINAL
WHERE link_type IN ('supplies', 'stocks') AND enterprise_id != '' AND component_id != ''
UNION ALL
SELECT m.enterprise_id, b.component_id
FROM (SELECT enterprise_id, product_id FROM supply_links FINAL WHERE link_type = 'makes') AS m
INNER JOIN (SELECT product_id, component_id FROM supply_links FINAL WHERE link_type = 'bom') AS b USING (product_id)`

func (c *consumption) refreshUsers(ctx context.Context, conn driver.Conn) error {
	rows, err := conn.Query(ctx, componentUsersSQL)
	if err != nil {
		return fmt.Errorf("read component users: %w", err)
	}
	defer rows.Close()
	set := map[string]map[string]bool{}
	for rows.Next() {
		var e, comp string
		if err := rows.Scan(&e, &comp); err != nil {
			return fmt.Errorf("read component users: %w", err)
		}
		if set[comp] == nil {
			set[comp] = map[string]bool{}
		}
		set[comp][e] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read component users: %w", err)
	}
	users := make(map[string][]string, len(set))
	for comp, ents := range set {
		users[comp] = slices.Sorted(maps.Keys(ents))
	}
	c.mu.Lock()
	c.users = users
	c.mu.Unlock()
	return nil
}

func (c *consumption) lookup(ent, comp string) (float64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[[2]string{ent, comp}]
	return v, ok && v > 0
}

func (c *consumption) refresh(ctx context.Context, conn driver.Conn) error {
	rows, err := conn.Query(ctx, `SELECT enterprise_id, component_id, argMax(consumption_per_day, as_of)
FROM supply_links FINAL WHERE link_type = 'stocks' GROUP BY enterprise_id, component_id`)
	if err != nil {
		return fmt.Errorf("read consumption: %w", err)
	}
	defer rows.Close()
	m := map[[2]string]float64{}
	for rows.Next() {
		var e, comp string
		var v float64
		if err := rows.Scan(&e, &comp, &v); err != nil {
			return fmt.Errorf("read consumption: %w", err)
		}
		m[[2]string{e, comp}] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read consumption: %w", err)
	}
	c.mu.Lock()
	c.m = m
	c.mu.Unlock()
	return c.refreshUsers(ctx, conn)
}

// digestMailer sends the weekly digest through the alerts' SMTP settings.
func digestMailer(cfg config.Config) (report.Mailer, error) {
	if !cfg.Alerts.Email.Enabled {
		return nil, fmt.Errorf("digest.enabled needs alerts.email (the digest is mailed through it)")
	}
	n, err := email.New(cfg.Alerts.Email)
	if err != nil {
		return nil, fmt.Errorf("digest mailer: %w", err)
	}
	return email.NewMailer(n), nil
}
