package alerts

import "time"

// alertState is the set of alerts, by fingerprint and by enterprise (Alertmanager's in-memory
// alert provider). The Manager's mutex guards it; the store persists it.
type alertState struct {
	alerts map[string]*Alert            // fingerprint →
	byEnt  map[string]map[string]*Alert // enterprise → fingerprint →
}

func newAlertState() alertState {
	return alertState{alerts: map[string]*Alert{}, byEnt: map[string]map[string]*Alert{}}
}

func (s *alertState) put(a *Alert) {
	s.alerts[a.Fingerprint] = a
	g := s.byEnt[a.EnterpriseID]
	if g == nil {
		g = map[string]*Alert{}
		s.byEnt[a.EnterpriseID] = g
	}
	g[a.Fingerprint] = a
}

func (s *alertState) remove(a *Alert) {
	delete(s.alerts, a.Fingerprint)
	if g := s.byEnt[a.EnterpriseID]; g != nil {
		delete(g, a.Fingerprint)
		if len(g) == 0 {
			delete(s.byEnt, a.EnterpriseID)
		}
	}
}

// gcResolved drops resolved alerts older than retention whose resolution no integration still
// owes (owed: fingerprints an integration last saw firing), and any resolved alert older than
// 4 × retention.
func (s *alertState) gcResolved(now time.Time, retention time.Duration, owed map[string]bool) {
	for _, a := range s.alerts {
		if !a.Resolved() {
			continue
		}
		age := now.Sub(a.EndsAt)
		if (age > retention && !owed[a.Fingerprint]) || age > 4*retention {
			s.remove(a)
		}
	}
}
