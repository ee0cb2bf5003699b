package alerts

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"time"
)

// Matchers select alerts by exact value; an empty field matches anything. A silence needs at
// least one non-empty matcher.
type Matchers struct {
	EnterpriseID string `json:"enterprise_id,omitempty"`
	ComponentID  string `json:"component_id,omitempty"`
	Category     string `json:"category,omitempty"`
}

// Empty reports whether no matcher is set.
func (m Matchers) Empty() bool {
	return m.EnterpriseID == "" && m.ComponentID == "" && m.Category == ""
}

// Matches reports whether the alert matches every set field.
func (m Matchers) Matches(a *Alert) bool {
	return (m.EnterpriseID == "" || m.EnterpriseID == a.EnterpriseID) &&
		(m.ComponentID == "" || m.ComponentID == a.ComponentID) &&
		(m.Category == "" || m.Category == a.Category)
}

// Silence mutes the notifications of matching alerts between StartsAt and EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  Matchers  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	State     string    `json:"state,omitempty"` // pending, active, expired (filled on read)
}

// Silence states.
const (
	SilencePending = "pending"
	SilenceActive  = "active"
	SilenceExpired = "expired"
)

// StateAt returns the silence's state at now.
func (s *Silence) StateAt(now time.Time) string {
	switch {
	case !now.Before(s.EndsAt):
		return SilenceExpired
	case now.Before(s.StartsAt):
		return SilencePending
	}
	return SilenceActive
}

// ActiveAt reports whether the silence mutes alerts at now.
func (s *Silence) ActiveAt(now time.Time) bool { return s.StateAt(now) == SilenceActive }

func (s *Silence) validate() error {
	var errs []error
	if s.Matchers.Empty() {
		errs = append(errs, errors.New("matchers: at least one of enterprise_id, component_id, category is required"))
	}
	if s.CreatedBy == "" {
		errs = append(errs, errors.New("created_by: required"))
	}
	if s.EndsAt.IsZero() {
		errs = append(errs, errors.New("ends_at (or duration): required"))
	} else if !s.EndsAt.After(s.StartsAt) {
		errs = append(errs, errors.New("ends_at: must be after starts_at"))
	}
	return errors.Join(errs...)
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// silenceSet holds the silences (Alertmanager's silences): which mute an alert now, and their
// garbage collection. The Manager's mutex guards it; the store persists it.
type silenceSet struct {
	silences map[string]*Silence // id →
}

// silencedBy lists the ids of the active silences matching a, sorted.
func (s *silenceSet) silencedBy(a *Alert, now time.Time) []string {
	var ids []string
	for _, x := range s.silences {
		if x.ActiveAt(now) && x.Matchers.Matches(a) {
			ids = append(ids, x.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// mutes reports whether an active silence matches a.
func (s *silenceSet) mutes(a *Alert, now time.Time) bool {
	for _, x := range s.silences {
		if x.ActiveAt(now) && x.Matchers.Matches(a) {
			return true
		}
	}
	return false
}

// gcExpired drops silences that ended more than retention ago; it reports whether any went.
func (s *silenceSet) gcExpired(now time.Time, retention time.Duration) bool {
	changed := false
	for id, x := range s.silences {
		if now.Sub(x.EndsAt) > retention {
			delete(s.silences, id)
			changed = true
		}
	}
	return changed
}
