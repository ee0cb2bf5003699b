// Package alerts turns detector findings into B计划 (backup-plan) warnings: it rates each
// enterprise × component finding with configurable rules, keeps an Alertmanager-style lifecycle
// (stable fingerprints, firing → resolved, acknowledgements, silences), groups alerts per
// enterprise with group_wait / group_interval / repeat_interval, and hands each group to the
// configured Notifiers (alerts/email, alerts/webhook, alerts/alertmanager, alerts/wecom,
// alerts/dingtalk, alerts/feishu; built from config by alerts/channels).
//
// State (alerts, silences) and the notification log live in a state directory, so a restart
// neither re-sends what was sent nor forgets what is firing. See docs/alerts.md.
package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

// AlertName is the name of the one alert kind this package raises (a B计划 warning for one
// enterprise × component). It is part of the fingerprint.
const AlertName = "BPlanWarning"

// Severity orders alerts: None < Info < Warning < Critical.
type Severity int

// Severities.
const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityWarning
	SeverityCritical
)

// String returns "none", "info", "warning" or "critical".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityCritical:
		return "critical"
	}
	return "none"
}

// ParseSeverity parses a severity name ("" is SeverityNone).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none":
		return SeverityNone, nil
	case "info":
		return SeverityInfo, nil
	case "warning":
		return SeverityWarning, nil
	case "critical":
		return SeverityCritical, nil
	}
	return SeverityNone, fmt.Errorf("unknown severity %q (want info, warning, critical)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Status is an alert's lifecycle status.
type Status string

// Statuses.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Action kinds of a B计划.
const (
	ActionQualifyAlternate = "qualify_alternate"
	ActionSafetyStock      = "raise_safety_stock"
	ActionSplitVolume      = "split_volume"
	ActionFindAlternate    = "find_alternate"
)

// Action is one concrete step of the B计划. Which fields are set depends on Kind.
type Action struct {
	Kind string `json:"kind"`
	// qualify_alternate, split_volume: the alternate.
	Alternate *detectors.Alternate `json:"alternate,omitempty"`
	// qualify_alternate: qualification lead time; ExceedsTTS when it is longer than TTS.
	Days       float64 `json:"days,omitempty"`
	ExceedsTTS bool    `json:"exceeds_tts,omitempty"`
	// raise_safety_stock: Units = ceil(GapDays × ConsumptionPerDay); Units is 0 when consumption is unknown.
	GapDays           float64 `json:"gap_days,omitempty"`
	ConsumptionPerDay float64 `json:"consumption_per_day,omitempty"`
	Units             float64 `json:"units,omitempty"`
	// split_volume: share of volume (0..1) to move, and the supplier HHI afterwards.
	Share    float64 `json:"share,omitempty"`
	HHIAfter float64 `json:"hhi_after,omitempty"`
}

// Ack is an acknowledgement: the alert stays visible but is not notified again until it
// escalates above Severity, resolves, or the ack expires.
type Ack struct {
	By        string    `json:"by"`
	Comment   string    `json:"comment,omitempty"`
	At        time.Time `json:"at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: until resolved or escalated
	Severity  Severity  `json:"severity"`
}

// Active reports whether the ack holds at now for an alert of severity sev.
func (a *Ack) Active(now time.Time, sev Severity) bool {
	if a == nil {
		return false
	}
	if !a.ExpiresAt.IsZero() && !now.Before(a.ExpiresAt) {
		return false
	}
	return sev <= a.Severity
}

// Alert is one B计划 warning: what is exposed and for whom, why, TTS vs TTR, ranked alternates and
// concrete actions, plus its lifecycle state. Alerts handed to notifiers are copies; treat them
// as read-only.
type Alert struct {
	Fingerprint string `json:"fingerprint"`
	Name        string `json:"name"`

	EnterpriseID   string `json:"enterprise_id"`
	EnterpriseName string `json:"enterprise_name,omitempty"`
	ComponentID    string `json:"component_id"`
	Category       string `json:"category,omitempty"`
	Industry       string `json:"industry,omitempty"`
	Region         string `json:"region,omitempty"`

	Severity  Severity `json:"severity"`
	Status    Status   `json:"status"`
	Score     float64  `json:"score"`
	PrevScore *float64 `json:"prev_score,omitempty"`
	Flags     []string `json:"flags"`
	// TopTerms are the largest contributions to the score, largest first.
	TopTerms []detectors.Term `json:"top_terms"`
	TTSDays  *float64         `json:"tts_days,omitempty"`
	TTRDays  *float64         `json:"ttr_days,omitempty"`
	GapDays  float64          `json:"gap_days,omitempty"` // max(0, TTR − TTS)
	// ConsumptionPerDay is the component's consumption (units/day): the finding's
	// "consumption_per_day" term when it has one, else the manager's consumption lookup
	// (WithConsumption). Nil when unknown; the safety-stock action then names days, not units.
	ConsumptionPerDay *float64 `json:"consumption_per_day,omitempty"`
	// Alternates are ranked: domestic first when alerts.actions.prefer_domestic, then in the
	// detector's order.
	Alternates []detectors.Alternate `json:"alternates"`
	Products   []string              `json:"products,omitempty"`
	Actions    []Action              `json:"actions"`

	Detectors []string `json:"detectors"` // detectors currently raising the alert
	RunID     string   `json:"run_id,omitempty"`
	Subject   string   `json:"subject,omitempty"`
	// SubjectName is the finding's display name of the subject, when the detector gave one.
	SubjectName string    `json:"subject_name,omitempty"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at"`
	Ack         *Ack      `json:"ack,omitempty"`
	// GeneratorURL links to this alert in the chainwatch API.
	GeneratorURL string `json:"generator_url,omitempty"`
}

// Resolved reports whether the alert is resolved.
func (a *Alert) Resolved() bool { return a.Status == StatusResolved }

// clone returns a shallow copy (slices are never mutated in place, so they may be shared).
func (a *Alert) clone() *Alert {
	c := *a
	if a.Ack != nil {
		ack := *a.Ack
		c.Ack = &ack
	}
	return &c
}

// Fingerprint is the stable identity of an alert: a hash of enterprise, component and alert
// name, independent of detector, run and score.
func Fingerprint(enterpriseID, componentID, name string) string {
	h := sha256.Sum256([]byte(enterpriseID + "\x00" + componentID + "\x00" + name))
	return hex.EncodeToString(h[:12])
}
