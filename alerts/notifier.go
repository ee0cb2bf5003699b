package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Notifier sends one notification for a group of alerts (all of one enterprise): firing alerts
// first, then resolved ones. It returns whether a failed notification may succeed if retried
// (network errors, 5xx, SMTP 4xx) — the Alertmanager contract. The group's routing data is in
// the context (GroupInfoFrom).
type Notifier interface {
	Notify(ctx context.Context, alerts ...*Alert) (retry bool, err error)
}

// Selective is implemented by notifiers that only serve some groups: email needs recipients.
type Selective interface {
	Wants(GroupInfo) bool
}

// ResolvedSender is implemented by notifiers that can be told not to send resolutions.
type ResolvedSender interface {
	SendResolved() bool
}

// GroupInfo describes the group being notified.
type GroupInfo struct {
	Key            string    `json:"group_key"` // the enterprise ID
	Integration    string    `json:"integration"`
	EnterpriseID   string    `json:"enterprise_id"`
	EnterpriseName string    `json:"enterprise_name,omitempty"`
	Lang           string    `json:"lang"`
	Emails         []string  `json:"-"`
	MaxAlerts      int       `json:"-"` // alerts rendered in full; the rest are counted
	ExternalURL    string    `json:"external_url,omitempty"`
	Now            time.Time `json:"now"`
}

type groupInfoKey struct{}

// WithGroupInfo returns a context carrying the group info for a Notifier.
func WithGroupInfo(ctx context.Context, g GroupInfo) context.Context {
	return context.WithValue(ctx, groupInfoKey{}, g)
}

// GroupInfoFrom returns the group info of a Notify call (zero and false outside one).
func GroupInfoFrom(ctx context.Context) (GroupInfo, bool) {
	g, ok := ctx.Value(groupInfoKey{}).(GroupInfo)
	return g, ok
}

// Integration is one registered notifier under its name.
type Integration struct {
	Name     string
	Notifier Notifier
}

// Registry holds the notifiers by name, in registration order. Registration is explicit (see
// alerts/channels); there is no init() magic.
type Registry struct {
	list   []Integration
	byName map[string]Notifier
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]Notifier{}} }

// Register adds a notifier under a unique name.
func (r *Registry) Register(name string, n Notifier) error {
	if name == "" || n == nil {
		return errors.New("alerts: register: empty name or nil notifier")
	}
	if _, dup := r.byName[name]; dup {
		return fmt.Errorf("alerts: register: integration %q already registered", name)
	}
	r.byName[name] = n
	r.list = append(r.list, Integration{Name: name, Notifier: n})
	return nil
}

// Get returns the notifier registered under name.
func (r *Registry) Get(name string) (Notifier, bool) {
	if r == nil {
		return nil, false
	}
	n, ok := r.byName[name]
	return n, ok
}

// Names returns the registered names in registration order.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	out := make([]string, len(r.list))
	for i, x := range r.list {
		out[i] = x.Name
	}
	return out
}

// Failure reasons, the "reason" label of chainwatch_notifications_failed_total.
const (
	ReasonClientError = "client_error" // HTTP 4xx
	ReasonServerError = "server_error" // HTTP 5xx
	ReasonRejected    = "rejected"     // robot answered 200 with an error code
	ReasonNetwork     = "network"
	ReasonTimeout     = "timeout"
	ReasonSMTPTemp    = "smtp_transient" // SMTP 4xx
	ReasonSMTPPerm    = "smtp_permanent" // SMTP 5xx
	ReasonQueueFull   = "queue_full"
	ReasonRender      = "render"
	ReasonOther       = "other"
)

// NotifyError carries a failure reason for metrics.
type NotifyError struct {
	Reason string
	Err    error
}

func (e *NotifyError) Error() string { return e.Err.Error() }
func (e *NotifyError) Unwrap() error { return e.Err }

// Errorf returns a *NotifyError with the reason.
func Errorf(reason, format string, args ...any) error {
	return &NotifyError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// ReasonOf classifies an error for chainwatch_notifications_failed_total.
func ReasonOf(err error) string {
	var ne *NotifyError
	switch {
	case errors.As(err, &ne):
		return ne.Reason
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	}
	return ReasonOther
}
