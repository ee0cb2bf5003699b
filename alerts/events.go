package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Event is one lifecycle transition of an alert, archived for the weekly digest: a new firing
// alert, a severity change of a firing alert, or a resolution.
type Event struct {
	EventID      string
	Fingerprint  string
	AlertName    string
	EnterpriseID string
	ComponentID  string
	Category     string
	Severity     string
	Status       string // firing | resolved
	Score        float64
	Flags        []string
	RunID        string
	StartsAt     time.Time
	At           time.Time
}

// EventSink archives events (alerts/archive writes them to ClickHouse table alert_events).
type EventSink interface {
	WriteAlertEvents(ctx context.Context, events []Event) error
}

func newEvent(a *Alert, at time.Time) Event {
	h := sha256.Sum256([]byte(a.Fingerprint + "|" + string(a.Status) + "|" + a.Severity.String() + "|" +
		strconv.FormatInt(at.Unix(), 10)))
	return Event{
		EventID:      hex.EncodeToString(h[:12]),
		Fingerprint:  a.Fingerprint,
		AlertName:    a.Name,
		EnterpriseID: a.EnterpriseID,
		ComponentID:  a.ComponentID,
		Category:     a.Category,
		Severity:     a.Severity.String(),
		Status:       string(a.Status),
		Score:        a.Score,
		Flags:        a.Flags,
		RunID:        a.RunID,
		StartsAt:     a.StartsAt,
		At:           at,
	}
}
