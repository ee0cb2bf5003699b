package alerts

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// AlertView is an alert as the API and CLI show it.
type AlertView struct {
	Alert
	State      string   `json:"state"` // firing, suppressed (silenced or acknowledged), resolved
	SilencedBy []string `json:"silenced_by,omitempty"`
}

// Filter selects alerts; empty fields match anything.
type Filter struct {
	EnterpriseID string
	ComponentID  string
	Category     string
	Status       Status   // firing or resolved
	MinSeverity  Severity // at least this severity
	State        string   // firing, suppressed, resolved
}

// Alerts returns the alerts matching f, most severe first.
func (m *Manager) Alerts(f Filter) []AlertView {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var list []*Alert
	src := m.alerts
	if f.EnterpriseID != "" {
		src = m.byEnt[f.EnterpriseID]
	}
	for _, a := range src {
		if (f.ComponentID != "" && a.ComponentID != f.ComponentID) || (f.Category != "" && a.Category != f.Category) ||
			(f.Status != "" && a.Status != f.Status) || a.Severity < f.MinSeverity {
			continue
		}
		list = append(list, a)
	}
	SortAlerts(list)
	out := make([]AlertView, 0, len(list))
	for _, a := range list {
		v := m.viewLocked(a, now)
		if f.State != "" && v.State != f.State {
			continue
		}
		out = append(out, v)
	}
	return out
}

// Alert returns one alert by fingerprint.
func (m *Manager) Alert(fingerprint string) (AlertView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.alerts[fingerprint]
	if !ok {
		return AlertView{}, fmt.Errorf("alert %s: %w", fingerprint, ErrNotFound)
	}
	return m.viewLocked(a, m.now()), nil
}

func (m *Manager) viewLocked(a *Alert, now time.Time) AlertView {
	v := AlertView{Alert: *a.clone(), State: "firing"}
	v.SilencedBy = m.silencedBy(a, now)
	switch {
	case a.Resolved():
		v.State = "resolved"
	case len(v.SilencedBy) > 0 || a.Ack.Active(now, a.Severity):
		v.State = "suppressed"
	}
	return v
}

// Ack acknowledges a firing alert: it is not notified again until it escalates, resolves, or
// the ack expires (zero expiresAt: no expiry).
func (m *Manager) Ack(fingerprint, by, comment string, expiresAt time.Time) (AlertView, error) {
	if strings.TrimSpace(by) == "" {
		return AlertView{}, fmt.Errorf("ack: by is required: %w", ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkLeading(); err != nil {
		return AlertView{}, err
	}
	now := m.now()
	a, ok := m.alerts[fingerprint]
	if !ok {
		return AlertView{}, fmt.Errorf("alert %s: %w", fingerprint, ErrNotFound)
	}
	if a.Resolved() {
		return AlertView{}, fmt.Errorf("ack: alert %s is resolved: %w", fingerprint, ErrInvalid)
	}
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return AlertView{}, fmt.Errorf("ack: expires_at is in the past: %w", ErrInvalid)
	}
	c := a.clone()
	c.Ack = &Ack{By: by, Comment: comment, At: now, ExpiresAt: expiresAt, Severity: a.Severity}
	m.put(c)
	if err := m.store.saveAlerts(now, m.alerts); err != nil {
		return AlertView{}, err
	}
	m.updateGauges(now)
	m.log.Info("alert acknowledged", "fingerprint", fingerprint, "by", by)
	return m.viewLocked(c, now), nil
}

// Unack removes an acknowledgement.
func (m *Manager) Unack(fingerprint string) (AlertView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkLeading(); err != nil {
		return AlertView{}, err
	}
	now := m.now()
	a, ok := m.alerts[fingerprint]
	if !ok {
		return AlertView{}, fmt.Errorf("alert %s: %w", fingerprint, ErrNotFound)
	}
	c := a.clone()
	c.Ack = nil
	m.put(c)
	if err := m.store.saveAlerts(now, m.alerts); err != nil {
		return AlertView{}, err
	}
	m.updateGauges(now)
	return m.viewLocked(c, now), nil
}

// AddSilence creates a silence (zero StartsAt: now). It returns the stored silence.
func (m *Manager) AddSilence(s Silence) (Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkLeading(); err != nil {
		return Silence{}, err
	}
	now := m.now()
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	if err := s.validate(); err != nil {
		return Silence{}, fmt.Errorf("silence: %w: %w", ErrInvalid, err)
	}
	if !s.EndsAt.After(now) {
		return Silence{}, fmt.Errorf("silence: ends_at is in the past: %w", ErrInvalid)
	}
	s.ID = newID()
	s.CreatedAt, s.UpdatedAt = now, now
	s.State = ""
	m.silences[s.ID] = &s
	if err := m.store.saveSilences(now, m.silences); err != nil {
		delete(m.silences, s.ID)
		return Silence{}, err
	}
	m.updateGauges(now)
	m.log.Info("silence created", "id", s.ID, "by", s.CreatedBy, "ends_at", s.EndsAt)
	out := s
	out.State = s.StateAt(now)
	return out, nil
}

// Silences returns every silence (expired ones until the retention drops them), newest first.
func (m *Manager) Silences() []Silence {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := make([]Silence, 0, len(m.silences))
	for _, s := range m.silences {
		c := *s
		c.State = s.StateAt(now)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Silence returns one silence.
func (m *Manager) Silence(id string) (Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.silences[id]
	if !ok {
		return Silence{}, fmt.Errorf("silence %s: %w", id, ErrNotFound)
	}
	c := *s
	c.State = s.StateAt(m.now())
	return c, nil
}

// ExpireSilence ends a silence now (Alertmanager's DELETE).
func (m *Manager) ExpireSilence(id string) (Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkLeading(); err != nil {
		return Silence{}, err
	}
	now := m.now()
	s, ok := m.silences[id]
	if !ok {
		return Silence{}, fmt.Errorf("silence %s: %w", id, ErrNotFound)
	}
	c := *s
	if c.StateAt(now) != SilenceExpired {
		if now.Before(c.StartsAt) {
			c.StartsAt = now
		}
		c.EndsAt = now
		c.UpdatedAt = now
		m.silences[id] = &c
		if err := m.store.saveSilences(now, m.silences); err != nil {
			m.silences[id] = s
			return Silence{}, err
		}
		m.updateGauges(now)
		m.log.Info("silence expired", "id", id)
	}
	c.State = c.StateAt(now)
	return c, nil
}
