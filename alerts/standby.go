package alerts

import (
	"errors"
	"fmt"
)

// Several daemons (cluster mode) share one alerts state dir (a shared volume), and only the one
// holding the leader lease evaluates findings and notifies. The others keep their manager on
// standby: Run's ticks send nothing, and acks and silences are refused with ErrStandby, so that
// nothing but the leader writes the state. When a daemon gains the lease it calls Resume, which
// reloads alerts, silences and the notification log from the store, as the former leader left
// them: a group the former leader notified is deduplicated against its notification log and is
// not sent again. When it loses the lease it calls Standby, which saves the state first.
//
// A notification already queued when the lease is lost is still sent, and recorded, by the
// former leader; if the new leader flushes the same group before that record lands, it is sent
// twice. The window is one notification's delivery time.

// Standby saves the state and stops notifying (see above). It is idempotent.
func (m *Manager) Standby() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.standby {
		return nil
	}
	m.standby = true
	err := errors.Join(m.store.saveAlerts(m.now(), m.alerts), m.store.saveSilences(m.now(), m.silences),
		m.store.flushNflog(), m.store.close())
	if err != nil {
		return fmt.Errorf("alerts: standby: %w", err)
	}
	m.log.Info("alert manager on standby (another daemon leads)")
	return nil
}

// Resume reloads the state from the store and notifies again (see above).
func (m *Manager) Resume() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.standby {
		return nil
	}
	if err := m.store.close(); err != nil {
		return fmt.Errorf("alerts: resume: %w", err)
	}
	m.alertState = newAlertState()
	m.silences = map[string]*Silence{}
	m.groups = map[string]*group{}
	m.inflight = map[nflogKey]bool{}
	if err := m.load(); err != nil {
		return fmt.Errorf("alerts: resume: %w", err)
	}
	m.standby = false
	m.log.Info("alert manager leads: state reloaded", "alerts", len(m.alerts), "notification_log", len(m.nflog))
	return nil
}

// checkLeading refuses a change of the state on standby. Callers hold m.mu.
func (m *Manager) checkLeading() error {
	if m.standby {
		return ErrStandby
	}
	return nil
}
