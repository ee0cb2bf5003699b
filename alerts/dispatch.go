package alerts

import (
	"strings"
	"time"
)

// dispatcher holds the aggregation groups, one per enterprise (Alertmanager's dispatch): when
// each group is next flushed. group_wait delays a new group's first flush, group_interval the
// ones after it. The Manager's mutex guards it.
type dispatcher struct {
	groups map[string]*group // enterprise →
}

type group struct{ next time.Time }

// open starts a group for ent, first flushed at first, unless one is already open.
func (d *dispatcher) open(ent string, first time.Time) {
	if _, ok := d.groups[ent]; !ok {
		d.groups[ent] = &group{next: first}
	}
}

// tick flushes every group that is due at now and closes the groups that have no alerts left.
func (m *Manager) tick(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.standby {
		return
	}
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

// groupAlerts splits an enterprise's alerts into the firing ones its route wants (at or above
// min_severity, not silenced or acknowledged) and the resolved ones, each sorted.
func (m *Manager) groupAlerts(ent string, route RouteConfig, now time.Time) (firing, resolved []*Alert, firingSet map[string]Severity) {
	minSev, _ := ParseSeverity(route.MinSeverity)
	firingSet = map[string]Severity{}
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
	return firing, resolved, firingSet
}

// flush runs the group through each integration of its route: the integration's filter, the
// dedup stage (notification log), then the integration's queue. Callers hold m.mu.
func (m *Manager) flush(ent string, now time.Time) {
	cfg := m.cfg
	route := cfg.Route(ent)
	firing, resolved, firingSet := m.groupAlerts(ent, route, now)
	alternates := map[string][]string{}
	for _, a := range firing {
		if keys := alternateKeys(a); len(keys) > 0 {
			alternates[a.Fingerprint] = keys
		}
	}
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
		sendResolved := true
		if rs, ok := n.(ResolvedSender); ok {
			sendResolved = rs.SendResolved()
		}
		k := nflogKey{ent, name}
		owed, needed := m.dedup(k, firingSet, alternates, resolved, sendResolved, now, cfg.RepeatInterval)
		if !needed {
			continue
		}
		j := &job{
			key: k, notifier: n, info: info, firing: firingSet, alternates: alternates, at: now,
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
