package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/detectors"
)

// Errors of the query and mutation methods (API: 404 and 400).
var (
	ErrNotFound = errors.New("not found") // unknown fingerprint or silence ID
	ErrInvalid  = errors.New("invalid")   // a rejected ack or silence
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

// Manager owns the alert state: it evaluates findings into alerts, groups them per enterprise,
// dispatches notifications through per-integration queues and persists everything in the
// state directory.
type Manager struct {
	log         *slog.Logger
	now         func() time.Time
	met         *metrics
	sink        EventSink
	consumption ConsumptionFunc

	mu        sync.Mutex
	cfg       Config
	rules     *Rules
	notifiers *Registry
	store     *store
	alerts    map[string]*Alert            // fingerprint →
	byEnt     map[string]map[string]*Alert // enterprise → fingerprint →
	silences  map[string]*Silence
	groups    map[string]*group // enterprise →
	nflog     map[nflogKey]*nflogEntry
	inflight  map[nflogKey]bool
	queues    map[string]*queue
	runCtx    context.Context
	started   chan struct{}
	workers   sync.WaitGroup
	pending   atomic.Int64 // jobs queued or being sent
}

type group struct{ next time.Time }

type queue struct {
	name string
	ch   chan *job
}

type job struct {
	key         nflogKey
	notifier    Notifier
	alerts      []*Alert
	info        GroupInfo
	firing      map[string]Severity
	resolved    []string
	at          time.Time
	maxAttempts int
	timeout     time.Duration
	retryMin    time.Duration
	retryMax    time.Duration
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
		log: log.With("component", "alerts"), now: time.Now, met: met,
		cfg: cfg, rules: rules, notifiers: notifiers, store: st,
		alerts: map[string]*Alert{}, byEnt: map[string]map[string]*Alert{}, silences: map[string]*Silence{},
		groups: map[string]*group{}, inflight: map[nflogKey]bool{}, queues: map[string]*queue{},
		started: make(chan struct{}),
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
		if _, ok := m.groups[a.EnterpriseID]; !ok {
			m.groups[a.EnterpriseID] = &group{next: now.Add(m.cfg.GroupWait)}
		}
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

func (m *Manager) put(a *Alert) {
	m.alerts[a.Fingerprint] = a
	g := m.byEnt[a.EnterpriseID]
	if g == nil {
		g = map[string]*Alert{}
		m.byEnt[a.EnterpriseID] = g
	}
	g[a.Fingerprint] = a
}

func (m *Manager) remove(a *Alert) {
	delete(m.alerts, a.Fingerprint)
	if g := m.byEnt[a.EnterpriseID]; g != nil {
		delete(g, a.Fingerprint)
		if len(g) == 0 {
			delete(m.byEnt, a.EnterpriseID)
		}
	}
}

// Reload applies a new configuration — rules, routes, timings, limits — keeping every alert,
// ack, silence and the notification log. The state directory cannot change (an error, nothing
// applied). New rules rate findings from the next Evaluate on.
func (m *Manager) Reload(cfg Config) error {
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
	if err := checkRoutes(cfg, m.notifiers); err != nil {
		return fmt.Errorf("alerts: reload: %w", err)
	}
	m.cfg = cfg
	m.rules = rules
	m.log.Info("alerts configuration reloaded", "overrides", len(cfg.Rules.Overrides), "enterprises", len(cfg.Enterprises))
	return nil
}

// ReplaceNotifiers swaps the integrations (after a reload that changed channels). Queued
// notifications finish on the notifier they were queued for.
func (m *Manager) ReplaceNotifiers(reg *Registry) error {
	if reg == nil {
		reg = NewRegistry()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := checkRoutes(m.cfg, reg); err != nil {
		return err
	}
	m.notifiers = reg
	return nil
}

// Evaluate takes the complete current set of findings: each enterprise finding at or above
// info raises or updates its alert; a firing alert with no finding any more is resolved.
func (m *Manager) Evaluate(ctx context.Context, findings []detectors.Finding, now time.Time) error {
	return m.evaluate(ctx, nil, findings, now)
}

// EvaluateRun is Evaluate for a run of some detectors only: an alert resolves when none of the
// detectors still raising it does, so alerts raised by detectors outside the run are kept.
func (m *Manager) EvaluateRun(ctx context.Context, detectorNames []string, findings []detectors.Finding, now time.Time) error {
	scope := map[string]bool{}
	for _, d := range detectorNames {
		scope[d] = true
	}
	for i := range findings {
		scope[findings[i].Detector] = true
	}
	return m.evaluate(ctx, scope, findings, now)
}

type candidate struct {
	f    *detectors.Finding
	sev  Severity
	dets map[string]bool
}

func (m *Manager) evaluate(ctx context.Context, scope map[string]bool, findings []detectors.Finding, now time.Time) error {
	m.mu.Lock()
	rules, cfg := m.rules, m.cfg
	m.mu.Unlock()

	cands := map[string]*candidate{}
	noEnt, below := 0, 0
	for i := range findings {
		f := &findings[i]
		if f.EnterpriseID == "" {
			noEnt++
			continue
		}
		sev := rules.Severity(f)
		fp := Fingerprint(f.EnterpriseID, componentOf(f), AlertName)
		c := cands[fp]
		if c == nil {
			c = &candidate{dets: map[string]bool{}}
			cands[fp] = c
		}
		if sev > SeverityNone {
			c.dets[f.Detector] = true
		}
		if c.f == nil || sev > c.sev || (sev == c.sev && f.Score > c.f.Score) {
			c.f, c.sev = f, sev
		}
	}
	for _, c := range cands {
		if c.sev == SeverityNone {
			below++
		}
	}
	m.met.evaluations.Inc()
	m.met.skipped.WithLabelValues("no_enterprise").Add(float64(noEnt))
	m.met.skipped.WithLabelValues("below_threshold").Add(float64(below))
	inScope := func(d string) bool { return scope == nil || scope[d] }

	m.mu.Lock()
	var events []Event
	fired, resolved := 0, 0
	for fp, c := range cands {
		if c.sev == SeverityNone {
			continue
		}
		a := rules.Build(c.f, c.sev)
		if a.ConsumptionPerDay == nil && a.GapDays > 0 && m.consumption != nil {
			if v, ok := m.consumption(a.EnterpriseID, a.ComponentID); ok && v > 0 {
				rules.SetConsumption(a, v)
			}
		}
		route := cfg.Route(a.EnterpriseID)
		a.EnterpriseName = route.Name
		if cfg.ExternalURL != "" {
			a.GeneratorURL = strings.TrimRight(cfg.ExternalURL, "/") + "/api/v1/alerts/" + fp
		}
		dets := map[string]bool{}
		old := m.alerts[fp]
		if old != nil && !old.Resolved() {
			for _, d := range old.Detectors {
				if !inScope(d) {
					dets[d] = true
				}
			}
		}
		for d := range c.dets {
			dets[d] = true
		}
		a.Detectors = sortedKeys(dets)
		a.UpdatedAt = now
		if old == nil || old.Resolved() {
			a.StartsAt = now
			if _, ok := m.groups[a.EnterpriseID]; !ok || len(m.byEnt[a.EnterpriseID]) == 0 {
				m.groups[a.EnterpriseID] = &group{next: now.Add(cfg.GroupWait)}
			}
			m.put(a)
			events = append(events, newEvent(a, now))
			fired++
			continue
		}
		a.StartsAt = old.StartsAt
		a.Ack = old.Ack
		if a.Ack != nil && (a.Severity > a.Ack.Severity || !a.Ack.Active(now, a.Severity)) {
			a.Ack = nil
		}
		m.put(a)
		if a.Severity != old.Severity {
			events = append(events, newEvent(a, now))
		}
	}
	for fp, a := range m.alerts {
		if a.Resolved() {
			continue
		}
		if c := cands[fp]; c != nil && c.sev > SeverityNone {
			continue
		}
		var keep []string
		for _, d := range a.Detectors {
			if !inScope(d) {
				keep = append(keep, d)
			}
		}
		r := a.clone()
		r.Detectors = keep
		if len(keep) == 0 {
			r.Status = StatusResolved
			r.EndsAt = now
			r.UpdatedAt = now
			r.Ack = nil
			events = append(events, newEvent(r, now))
			resolved++
		}
		m.put(r)
	}
	m.gc(now)
	m.updateGauges(now)
	err := m.store.saveAlerts(now, m.alerts)
	total := len(m.alerts)
	m.mu.Unlock()

	m.log.Debug("findings evaluated", "findings", len(findings), "fired", fired, "resolved", resolved, "alerts", total)
	if m.sink != nil && len(events) > 0 {
		if serr := m.sink.WriteAlertEvents(ctx, events); serr != nil {
			m.met.archiveErrors.Inc()
			m.log.Warn("archive alert events", "events", len(events), "err", serr)
		}
	}
	if err != nil {
		return fmt.Errorf("alerts: evaluate: %w", err)
	}
	return nil
}

// gc drops resolved alerts past the retention whose resolution no integration still owes, and
// silences expired for longer than the retention. Callers hold m.mu.
func (m *Manager) gc(now time.Time) {
	owed := map[string]bool{}
	for _, e := range m.nflog {
		for fp := range e.Firing {
			owed[fp] = true
		}
	}
	ret := m.cfg.ResolvedRetention
	for _, a := range m.alerts {
		if !a.Resolved() {
			continue
		}
		age := now.Sub(a.EndsAt)
		if (age > ret && !owed[a.Fingerprint]) || age > 4*ret {
			m.remove(a)
		}
	}
	silDirty := false
	for id, s := range m.silences {
		if now.Sub(s.EndsAt) > ret {
			delete(m.silences, id)
			silDirty = true
		}
	}
	if silDirty {
		if err := m.store.saveSilences(now, m.silences); err != nil {
			m.log.Warn("save silences", "err", err)
		}
	}
}

func (m *Manager) silencedBy(a *Alert, now time.Time) []string {
	var ids []string
	for _, s := range m.silences {
		if s.ActiveAt(now) && s.Matchers.Matches(a) {
			ids = append(ids, s.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func (m *Manager) suppressed(a *Alert, now time.Time) bool {
	if a.Ack.Active(now, a.Severity) {
		return true
	}
	for _, s := range m.silences {
		if s.ActiveAt(now) && s.Matchers.Matches(a) {
			return true
		}
	}
	return false
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
			err := errors.Join(m.store.compactNflog(m.nflog), m.store.saveAlerts(m.now(), m.alerts), m.store.close())
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

// tick flushes every group that is due at now.
func (m *Manager) tick(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ent, g := range m.groups {
		if len(m.byEnt[ent]) == 0 {
			delete(m.groups, ent)
			continue
		}
		if now.Before(g.next) {
			continue
		}
		m.flush(ent, now)
		g.next = now.Add(m.cfg.GroupInterval)
	}
	m.updateGauges(now)
}

// flush decides, per integration, whether the group needs a notification (Alertmanager's
// dedup: new or escalated firing alerts, resolutions owed, or repeat_interval elapsed) and
// queues it. Callers hold m.mu.
func (m *Manager) flush(ent string, now time.Time) {
	cfg := m.cfg
	route := cfg.Route(ent)
	minSev, _ := ParseSeverity(route.MinSeverity)
	var firing, resolved []*Alert
	firingSet := map[string]Severity{}
	for _, a := range m.byEnt[ent] {
		if a.Resolved() {
			resolved = append(resolved, a)
			continue
		}
		if a.Severity < minSev || m.suppressed(a, now) {
			continue
		}
		firing = append(firing, a)
		firingSet[a.Fingerprint] = a.Severity
	}
	SortAlerts(firing)
	SortAlerts(resolved)
	names := route.Channels
	if len(names) == 0 {
		names = m.notifiers.Names()
	}
	info := GroupInfo{
		Key: ent, EnterpriseID: ent, EnterpriseName: route.Name, Lang: NormalizeLang(route.Lang),
		Emails: route.Email, MaxAlerts: cfg.MaxAlertsPerMsg, ExternalURL: strings.TrimRight(cfg.ExternalURL, "/"), Now: now,
	}
	for _, name := range names {
		n, ok := m.notifiers.Get(name)
		if !ok {
			continue
		}
		info.Integration = name
		if s, ok := n.(Selective); ok && !s.Wants(info) {
			continue
		}
		k := nflogKey{ent, name}
		if m.inflight[k] {
			continue
		}
		e := m.nflog[k]
		sendResolved := true
		if rs, ok := n.(ResolvedSender); ok {
			sendResolved = rs.SendResolved()
		}
		var owed []*Alert
		if e != nil && sendResolved {
			for _, a := range resolved {
				if _, was := e.Firing[a.Fingerprint]; was {
					owed = append(owed, a)
				}
			}
		}
		needs := len(owed) > 0
		if len(firingSet) > 0 {
			if e == nil || now.Sub(e.SentAt) >= cfg.RepeatInterval {
				needs = true
			} else {
				for fp, sev := range firingSet {
					if prev, ok := e.Firing[fp]; !ok || sev > prev {
						needs = true
						break
					}
				}
			}
		}
		if !needs {
			continue
		}
		j := &job{
			key: k, notifier: n, info: info, firing: firingSet, at: now,
			maxAttempts: cfg.Queue.MaxAttempts, timeout: cfg.Queue.NotifyTimeout,
			retryMin: cfg.Queue.RetryMin, retryMax: cfg.Queue.RetryMax,
		}
		for _, a := range firing {
			j.alerts = append(j.alerts, a.clone())
		}
		for _, a := range owed {
			j.alerts = append(j.alerts, a.clone())
			j.resolved = append(j.resolved, a.Fingerprint)
		}
		m.enqueue(name, j)
	}
}

// enqueue hands a job to the integration's queue without blocking. Callers hold m.mu.
func (m *Manager) enqueue(name string, j *job) {
	q := m.queues[name]
	if q == nil {
		if m.runCtx == nil {
			return
		}
		q = &queue{name: name, ch: make(chan *job, m.cfg.Queue.Size)}
		m.queues[name] = q
		for range m.cfg.Queue.Workers {
			m.workers.Add(1)
			go m.worker(m.runCtx, q)
		}
	}
	select {
	case q.ch <- j:
		m.inflight[j.key] = true
		m.pending.Add(1)
		m.met.queueLength.WithLabelValues(name).Inc()
	default:
		m.met.failed.WithLabelValues(name, ReasonQueueFull).Inc()
		m.log.Warn("notification queue full; the group is retried at its next interval", "integration", name, "group", j.key.group)
	}
}

func (m *Manager) worker(ctx context.Context, q *queue) {
	defer m.workers.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-q.ch:
			m.met.queueLength.WithLabelValues(q.name).Dec()
			m.process(ctx, q.name, j)
			m.pending.Add(-1)
		}
	}
}

// process sends one notification with bounded retries and exponential backoff.
func (m *Manager) process(ctx context.Context, name string, j *job) {
	backoff := j.retryMin
	for attempt := 1; ; attempt++ {
		nctx, cancel := context.WithTimeout(WithGroupInfo(ctx, j.info), j.timeout)
		start := time.Now()
		retry, err := j.notifier.Notify(nctx, j.alerts...)
		cancel()
		m.met.notifications.WithLabelValues(name).Inc()
		m.met.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		if err == nil {
			m.recordSent(j)
			return
		}
		reason := ReasonOf(err)
		if ctx.Err() != nil {
			reason = ReasonTimeout
		}
		m.met.failed.WithLabelValues(name, reason).Inc()
		if !retry || attempt >= j.maxAttempts || ctx.Err() != nil {
			m.log.Warn("notification failed", "integration", name, "group", j.key.group, "alerts", len(j.alerts),
				"attempts", attempt, "retryable", retry, "reason", reason, "err", err)
			m.mu.Lock()
			delete(m.inflight, j.key)
			m.mu.Unlock()
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, j.retryMax)
	}
}

func (m *Manager) recordSent(j *job) {
	e := &nflogEntry{Group: j.key.group, Integration: j.key.integration, SentAt: j.at, Firing: j.firing, Resolved: j.resolved}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inflight, j.key)
	m.nflog[j.key] = e
	if err := m.store.appendNflog(e); err != nil {
		m.log.Error("persist notification log; a restart may re-send this notification", "group", j.key.group,
			"integration", j.key.integration, "err", err)
	}
	if m.store.appended > 1000+4*len(m.nflog) {
		if err := m.store.compactNflog(m.nflog); err != nil {
			m.log.Warn("compact notification log", "err", err)
		}
	}
	m.log.Info("notification sent", "integration", j.key.integration, "group", j.key.group,
		"firing", len(j.firing), "resolved", len(j.resolved))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
