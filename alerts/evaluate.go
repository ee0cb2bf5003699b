package alerts

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

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

// candidate is the finding behind one alert fingerprint, its severity and the detectors raising
// it. Enterprise findings give the content; a part finding routed to the enterprise (see
// candidates) can raise the severity and adds its flags.
type candidate struct {
	f      *detectors.Finding
	native bool     // f is the enterprise's own finding, not a routed part finding
	sev    Severity // the highest severity of any finding behind the fingerprint
	fsev   Severity // f's own severity
	dets   map[string]bool
	flags  []string // flags of routed part findings, merged into the alert
}

// ComponentUsersFunc returns the enterprises that use a component (supply map: its suppliers'
// customers, its stock holders, the makers of products whose BOM holds it).
type ComponentUsersFunc func(componentID string) []string

// WithComponentUsers routes findings that have no enterprise but name a component (availability
// findings on a part: stock collapse, lead-time jump, lifecycle) to every enterprise using the
// component, so their flag floors raise that enterprise's alert.
func WithComponentUsers(f ComponentUsersFunc) Option { return func(m *Manager) { m.users = f } }

// candidates rates every finding and keeps, per fingerprint, the most severe one: an enterprise
// finding by severity, then score; a part finding routed through users to each enterprise using
// its component. Findings reaching no enterprise are counted in noEnt, fingerprints below every
// threshold in below.
func candidates(rules *Rules, findings []detectors.Finding, users ComponentUsersFunc) (cands map[string]*candidate, noEnt, below int) {
	cands = map[string]*candidate{}
	for i := range findings {
		f := &findings[i]
		if f.EnterpriseID != "" {
			addCandidate(cands, rules, f, true)
			continue
		}
		var ents []string
		if users != nil && f.ComponentID != "" {
			ents = users(f.ComponentID)
		}
		if len(ents) == 0 {
			noEnt++
			continue
		}
		for _, e := range ents {
			g := *f
			g.EnterpriseID = e
			addCandidate(cands, rules, &g, false)
		}
	}
	for _, c := range cands {
		if c.sev == SeverityNone {
			below++
		}
	}
	return cands, noEnt, below
}

func addCandidate(cands map[string]*candidate, rules *Rules, f *detectors.Finding, native bool) {
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
	if !native {
		c.flags = append(c.flags, f.Flags...)
	}
	switch {
	case c.f == nil, native && !c.native:
		c.f, c.fsev, c.native = f, sev, native
	case native == c.native && (sev > c.fsev || (sev == c.fsev && f.Score > c.f.Score)):
		c.f, c.fsev = f, sev
	}
	c.sev = max(c.sev, sev)
}

// content is the finding the alert is built from: the candidate's, with the routed flags added.
func (c *candidate) content() *detectors.Finding {
	if len(c.flags) == 0 {
		return c.f
	}
	g := *c.f
	g.Flags = slices.Clone(g.Flags)
	for _, fl := range c.flags {
		if !slices.Contains(g.Flags, fl) {
			g.Flags = append(g.Flags, fl)
		}
	}
	return &g
}

// evaluation is one Evaluate call's view: the rules and config it started with, the detectors in
// scope (nil: all), and the lifecycle events it produced.
type evaluation struct {
	rules    *Rules
	cfg      Config
	scope    map[string]bool
	now      time.Time
	events   []Event
	fired    int
	resolved int
}

func (e *evaluation) inScope(d string) bool { return e.scope == nil || e.scope[d] }

func (m *Manager) evaluate(ctx context.Context, scope map[string]bool, findings []detectors.Finding, now time.Time) error {
	m.mu.Lock()
	ev := &evaluation{rules: m.rules, cfg: m.cfg, scope: scope, now: now}
	standby := m.standby
	m.mu.Unlock()
	if standby {
		return fmt.Errorf("alerts: evaluate: %w", ErrStandby)
	}

	cands, noEnt, below := candidates(ev.rules, findings, m.users)
	m.met.evaluations.Inc()
	m.met.skipped.WithLabelValues("no_enterprise").Add(float64(noEnt))
	m.met.skipped.WithLabelValues("below_threshold").Add(float64(below))

	m.mu.Lock()
	for fp, c := range cands {
		if c.sev != SeverityNone {
			m.applyCandidate(ev, fp, c)
		}
	}
	m.resolveMissing(ev, cands)
	m.gc(now)
	m.updateGauges(now)
	err := m.store.saveAlerts(now, m.alerts)
	total := len(m.alerts)
	m.mu.Unlock()

	m.log.Debug("findings evaluated", "findings", len(findings), "fired", ev.fired, "resolved", ev.resolved, "alerts", total)
	if m.sink != nil && len(ev.events) > 0 {
		if serr := m.sink.WriteAlertEvents(ctx, ev.events); serr != nil {
			m.met.archiveErrors.Inc()
			m.log.Warn("archive alert events", "events", len(ev.events), "err", serr)
		}
	}
	if err != nil {
		return fmt.Errorf("alerts: evaluate: %w", err)
	}
	return nil
}

// applyCandidate raises a new alert or updates the firing one of fingerprint fp: severity,
// B计划 content, the detectors raising it (those outside the run's scope are kept), and the
// acknowledgement while it still holds. Callers hold m.mu.
func (m *Manager) applyCandidate(ev *evaluation, fp string, c *candidate) {
	a := ev.rules.Build(c.content(), c.sev)
	if a.ConsumptionPerDay == nil && a.GapDays > 0 && m.consumption != nil {
		if v, ok := m.consumption(a.EnterpriseID, a.ComponentID); ok && v > 0 {
			ev.rules.SetConsumption(a, v)
		}
	}
	a.EnterpriseName = ev.cfg.Route(a.EnterpriseID).Name
	if ev.cfg.ExternalURL != "" {
		a.GeneratorURL = strings.TrimRight(ev.cfg.ExternalURL, "/") + "/api/v1/alerts/" + fp
	}
	dets := map[string]bool{}
	old := m.alerts[fp]
	if old != nil && !old.Resolved() {
		for _, d := range old.Detectors {
			if !ev.inScope(d) {
				dets[d] = true
			}
		}
	}
	maps.Copy(dets, c.dets)
	a.Detectors = slices.Sorted(maps.Keys(dets))
	a.UpdatedAt = ev.now
	if old == nil || old.Resolved() {
		a.StartsAt = ev.now
		if len(m.byEnt[a.EnterpriseID]) == 0 {
			delete(m.groups, a.EnterpriseID)
		}
		m.open(a.EnterpriseID, ev.now.Add(ev.cfg.GroupWait))
		m.put(a)
		ev.events = append(ev.events, newEvent(a, ev.now))
		ev.fired++
		return
	}
	a.StartsAt = old.StartsAt
	a.Ack = old.Ack
	if a.Ack != nil && (a.Severity > a.Ack.Severity || !a.Ack.Active(ev.now, a.Severity)) {
		a.Ack = nil
	}
	m.put(a)
	if a.Severity != old.Severity {
		ev.events = append(ev.events, newEvent(a, ev.now))
	}
}

// resolveMissing resolves every firing alert that no candidate raises any more, unless a
// detector outside the run's scope still does. Callers hold m.mu.
func (m *Manager) resolveMissing(ev *evaluation, cands map[string]*candidate) {
	for fp, a := range m.alerts {
		if a.Resolved() {
			continue
		}
		if c := cands[fp]; c != nil && c.sev > SeverityNone {
			continue
		}
		var keep []string
		for _, d := range a.Detectors {
			if !ev.inScope(d) {
				keep = append(keep, d)
			}
		}
		r := a.clone()
		r.Detectors = keep
		if len(keep) == 0 {
			r.Status = StatusResolved
			r.EndsAt = ev.now
			r.UpdatedAt = ev.now
			r.Ack = nil
			ev.events = append(ev.events, newEvent(r, ev.now))
			ev.resolved++
		}
		m.put(r)
	}
}

// gc drops resolved alerts no integration is owed past the retention, and silences expired for
// longer than it. Callers hold m.mu.
func (m *Manager) gc(now time.Time) {
	ret := m.cfg.ResolvedRetention
	m.gcResolved(now, ret, m.owedFingerprints())
	if m.gcExpired(now, ret) {
		if err := m.store.saveSilences(now, m.silences); err != nil {
			m.log.Warn("save silences", "err", err)
		}
	}
}
