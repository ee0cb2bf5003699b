package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors of the query and mutation methods (API: 404 and 400).
var (
	ErrNotFound = errors.New("not found") // unknown fingerprint or silence ID
	ErrInvalid  = errors.New("invalid")   // a rejected ack or silence
	// ErrStandby: the manager is on standby (another daemon holds the leader lease and owns the
	// alert state); acks and silences go to the leader.
	ErrStandby = errors.New("standby: another daemon holds the leader lease")
)

// Option configures a Manager.
type Option func(*Manager)

// WithClock replaces time.Now for grouping, timers and API timestamps (tests, simulations).
func WithClock(now func() time.Time) Option { return func(m *Manager) { m.now = now } }

// WithEventSink archives lifecycle events (see alerts/archive for ClickHouse).
func WithEventSink(s EventSink) Option { return func(m *Manager) { m.sink = s } }

// ConsumptionFunc returns an enterprise's consumption of a component in units per day (e.g.
// argMax(consumption_per_day, as_of) of its supply_links stocks row); ok false when unknown.
type ConsumptionFunc func(enterpriseID, componentID string) (perDay float64, ok bool)

// WithConsumption sets the consumption lookup used when a finding has no consumption_per_day
// term, so "raise safety stock by M units" can name M.
func WithConsumption(f ConsumptionFunc) Option { return func(m *Manager) { m.consumption = f } }

// Manager composes the alert pipeline along Alertmanager's seams, each a type of its own:
// alertState (the alerts), silenceSet (silences), dispatcher (one aggregation group per
// enterprise), notificationLog (dedup and set-notifies), and pipeline (per-integration queues
// with the retry stage). Evaluate feeds alerts in; Run drives the dispatcher. One mutex guards
// the state of all of them, and the store persists it in the state directory.
type Manager struct {
	log         *slog.Logger
	now         func() time.Time
	met         *metrics
	sink        EventSink
	consumption ConsumptionFunc
	users       ComponentUsersFunc

	mu        sync.Mutex
	cfg       Config
	rules     *Rules
	notifiers *Registry
	store     *store
	alertState
	silenceSet
	dispatcher
	notificationLog
	pipeline
	started chan struct{}
	standby bool // see Standby
}

// NewManager loads the state from cfg.StateDir and returns a manager ready for Evaluate and Run.
// Every integration named in a route must be registered in notifiers. Metrics are registered
// on reg (nil: not registered).
func NewManager(cfg Config, notifiers *Registry, reg prometheus.Registerer, log *slog.Logger, opts ...Option) (*Manager, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if notifiers == nil {
		notifiers = NewRegistry()
	}
	cfg = sanitize(cfg)
	rules, err := NewRules(cfg)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if err := checkRoutes(cfg, notifiers); err != nil {
		return nil, err
	}
	met, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		log: log, now: time.Now, met: met,
		cfg: cfg, rules: rules, notifiers: notifiers, store: st,
		alertState: newAlertState(), silenceSet: silenceSet{silences: map[string]*Silence{}},
		dispatcher:      dispatcher{groups: map[string]*group{}},
		notificationLog: notificationLog{inflight: map[nflogKey]bool{}},
		pipeline:        pipeline{queues: map[string]*queue{}},
		started:         make(chan struct{}),
	}
	for _, o := range opts {
		o(m)
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	return m, nil
}

// sanitize fills zero values a config that did not go through config.Load may have, so that a
// hand-built config cannot stall the queues or the loop.
func sanitize(c Config) Config {
	d := DefaultConfig()
	if c.Tick <= 0 {
		c.Tick = d.Tick
	}
	if c.GroupInterval <= 0 {
		c.GroupInterval = d.GroupInterval
	}
	if c.RepeatInterval <= 0 {
		c.RepeatInterval = d.RepeatInterval
	}
	if c.ResolvedRetention <= 0 {
		c.ResolvedRetention = d.ResolvedRetention
	}
	if c.Queue.Size <= 0 {
		c.Queue.Size = d.Queue.Size
	}
	if c.Queue.Workers <= 0 {
		c.Queue.Workers = d.Queue.Workers
	}
	if c.Queue.MaxAttempts <= 0 {
		c.Queue.MaxAttempts = 1
	}
	if c.Queue.RetryMin <= 0 {
		c.Queue.RetryMin = d.Queue.RetryMin
	}
	if c.Queue.RetryMax < c.Queue.RetryMin {
		c.Queue.RetryMax = c.Queue.RetryMin
	}
	if c.Queue.NotifyTimeout <= 0 {
		c.Queue.NotifyTimeout = d.Queue.NotifyTimeout
	}
	if c.Rules.Thresholds == (SeverityThresholds{}) {
		c.Rules.Thresholds = d.Rules.Thresholds
	}
	if c.Actions.SplitShare <= 0 || c.Actions.SplitShare >= 1 {
		c.Actions.SplitShare = d.Actions.SplitShare
	}
	return c
}

func checkRoutes(cfg Config, reg *Registry) error {
	var errs []error
	check := func(key string, r RouteConfig) {
		for i, ch := range r.Channels {
			if _, ok := reg.Get(ch); !ok {
				errs = append(errs, fmt.Errorf("%s.channels[%d]: integration %q is not registered", key, i, ch))
			}
		}
	}
	check("alerts.default", cfg.Default)
	for id, r := range cfg.Enterprises {
		check("alerts.enterprises."+id, r)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}

func (m *Manager) load() error {
	alerts, err := m.store.loadAlerts()
	if err != nil {
		return err
	}
	sils, err := m.store.loadSilences()
	if err != nil {
		return err
	}
	nf, err := m.store.loadNflog()
	if err != nil {
		return err
	}
	now := m.now()
	for _, a := range alerts {
		if a == nil || a.Fingerprint == "" {
			continue
		}
		m.put(a)
		m.open(a.EnterpriseID, now.Add(m.cfg.GroupWait))
	}
	for _, s := range sils {
		if s != nil && s.ID != "" {
			m.silences[s.ID] = s
		}
	}
	m.nflog = nf
	if err := m.store.compactNflog(m.nflog); err != nil {
		return err
	}
	m.updateGauges(now)
	if len(alerts) > 0 || len(nf) > 0 {
		m.log.Info("alert state loaded", "dir", m.cfg.StateDir, "alerts", len(m.alerts), "silences", len(m.silences),
			"notification_log", len(m.nflog))
	}
	return nil
}

// Reload applies a new configuration — rules, routes, timings, limits — and, when notifiers is
// not nil, the integrations built from it (a channel can be added or removed), keeping every
// alert, ack, silence and the notification log. Nothing is applied when any part is invalid.
// The state directory cannot change. Queued notifications finish on the integration they were
// queued for; new rules rate findings from the next Evaluate on.
func (m *Manager) Reload(cfg Config, notifiers *Registry) error {
	cfg = sanitize(cfg)
	rules, err := NewRules(cfg)
	if err != nil {
		return fmt.Errorf("alerts: reload: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cfg.StateDir != m.cfg.StateDir {
		return fmt.Errorf("alerts: reload: alerts.state_dir cannot change at runtime (%q → %q)", m.cfg.StateDir, cfg.StateDir)
	}
	if notifiers == nil {
		notifiers = m.notifiers
	}
	if err := checkRoutes(cfg, notifiers); err != nil {
		return fmt.Errorf("alerts: reload: %w", err)
	}
	m.cfg, m.rules, m.notifiers = cfg, rules, notifiers
	m.log.Info("alerts configuration reloaded", "overrides", len(cfg.Rules.Overrides), "enterprises", len(cfg.Enterprises),
		"integrations", notifiers.Names())
	return nil
}

// suppressed: acknowledged or silenced (the inhibit/silence stage before dedup).
func (m *Manager) suppressed(a *Alert, now time.Time) bool {
	return a.Ack.Active(now, a.Severity) || m.mutes(a, now)
}

// updateGauges recounts chainwatch_alerts. Callers hold m.mu.
func (m *Manager) updateGauges(now time.Time) {
	type k struct{ state, sev string }
	counts := map[k]int{}
	for _, a := range m.alerts {
		state := "firing"
		switch {
		case a.Resolved():
			state = "resolved"
		case m.suppressed(a, now):
			state = "suppressed"
		}
		counts[k{state, a.Severity.String()}]++
	}
	for _, st := range []string{"firing", "suppressed", "resolved"} {
		for _, sev := range []Severity{SeverityInfo, SeverityWarning, SeverityCritical} {
			m.met.alerts.WithLabelValues(st, sev.String()).Set(float64(counts[k{st, sev.String()}]))
		}
	}
}

// Run dispatches notifications until ctx ends: every alerts.tick it flushes the groups that are
// due. It returns nil after a clean shutdown (pending queue entries are not sent; the
// notification log makes the next start send them).
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.runCtx != nil {
		m.mu.Unlock()
		return errors.New("alerts: Run called twice")
	}
	m.runCtx = ctx
	tick := m.cfg.Tick
	m.mu.Unlock()
	close(m.started)

	t := time.NewTicker(tick)
	defer t.Stop()
	m.tick(m.now())
	for {
		select {
		case <-ctx.Done():
			m.workers.Wait()
			m.mu.Lock()
			err := m.store.close() // on standby the state is the leader's: nothing of ours to save
			if !m.standby {
				err = errors.Join(m.store.compactNflog(m.nflog), m.store.saveAlerts(m.now(), m.alerts), m.store.close())
			}
			m.mu.Unlock()
			if err != nil {
				return fmt.Errorf("alerts: shutdown: %w", err)
			}
			return nil
		case <-t.C:
			m.tick(m.now())
			m.mu.Lock()
			if m.cfg.Tick != tick {
				tick = m.cfg.Tick
				t.Reset(tick)
			}
			m.mu.Unlock()
		}
	}
}
