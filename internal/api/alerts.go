package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/detectors"
)

// AlertService is what the API needs from the alerts package: the current alerts, one alert,
// acknowledging one, and managing silences. FromAlertsManager adapts the alerts package's manager
// to it, mapping its types to the API's (alertsadapter.go). Return errors wrapping ErrNotFound
// (unknown fingerprint or silence id) or ErrInvalid (a rejected silence or ack) to get 404 / 400.
type AlertService interface {
	// Alerts returns every alert the service holds (firing and recently resolved).
	Alerts(ctx context.Context) ([]Alert, error)
	// Alert returns the alert with fingerprint (ErrNotFound when there is none).
	Alert(ctx context.Context, fingerprint string) (Alert, error)
	// Ack acknowledges the alert with fingerprint and returns it updated.
	Ack(ctx context.Context, fingerprint string, req AckRequest) (Alert, error)
	// Silences returns every silence (pending, active, expired).
	Silences(ctx context.Context) ([]Silence, error)
	// CreateSilence stores a new silence and returns it.
	CreateSilence(ctx context.Context, req SilenceRequest) (Silence, error)
	// ExpireSilence ends a silence now.
	ExpireSilence(ctx context.Context, id string) error
}

// Alert is a B计划 warning as the API shows it.
type Alert struct {
	Fingerprint    string           `json:"fingerprint"`
	Name           string           `json:"name"`
	EnterpriseID   string           `json:"enterprise_id"`
	EnterpriseName string           `json:"enterprise_name,omitempty"`
	ComponentID    string           `json:"component_id"`
	Category       string           `json:"category,omitempty"`
	Industry       string           `json:"industry,omitempty"`
	Region         string           `json:"region,omitempty"`
	Severity       string           `json:"severity"`        // info, warning, critical
	Status         string           `json:"status"`          // firing, resolved
	State          string           `json:"state,omitempty"` // firing, suppressed (silenced or acknowledged), resolved
	SilencedBy     []string         `json:"silenced_by,omitempty"`
	Score          float64          `json:"score"`
	PrevScore      *float64         `json:"prev_score,omitempty"`
	Flags          []string         `json:"flags"`
	TopTerms       []detectors.Term `json:"top_terms,omitempty"`
	TTSDays        *float64         `json:"tts_days,omitempty"`
	TTRDays        *float64         `json:"ttr_days,omitempty"`
	GapDays        float64          `json:"gap_days,omitempty"`
	// ConsumptionPerDay (units/day) sizes the safety-stock action; absent when unknown.
	ConsumptionPerDay *float64              `json:"consumption_per_day,omitempty"`
	Alternates        []detectors.Alternate `json:"alternates,omitempty"`
	Actions           []Action              `json:"actions,omitempty"`
	Products          []string              `json:"products,omitempty"`
	Detectors         []string              `json:"detectors,omitempty"`
	RunID             string                `json:"run_id,omitempty"`
	StartsAt          time.Time             `json:"starts_at"`
	EndsAt            time.Time             `json:"ends_at,omitzero"`
	UpdatedAt         time.Time             `json:"updated_at,omitzero"`
	Ack               *Ack                  `json:"ack,omitempty"`
	GeneratorURL      string                `json:"generator_url,omitempty"`
}

// Action is one step of the B计划, served as alerts defines it (as Term and Alternate are served
// as detectors defines them): which fields are set depends on Kind.
type Action = alerts.Action

// Ack is an acknowledgement.
type Ack struct {
	By        string    `json:"by"`
	Comment   string    `json:"comment,omitempty"`
	At        time.Time `json:"at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Severity  string    `json:"severity,omitempty"`
}

// AckRequest is the body of POST /alerts/{fingerprint}/ack. By is set from the token's name.
type AckRequest struct {
	By        string    `json:"by,omitempty"` // accepted for client compatibility; the author is the token's name
	Comment   string    `json:"comment"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Duration (e.g. "72h") sets ExpiresAt relative to now when ExpiresAt is not given.
	Duration string `json:"duration,omitempty"`
}

// Matchers select alerts by exact value; at least one is required.
type Matchers struct {
	EnterpriseID string `json:"enterprise_id,omitempty"`
	ComponentID  string `json:"component_id,omitempty"`
	Category     string `json:"category,omitempty"`
}

// Silence mutes notifications of matching alerts between StartsAt and EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  Matchers  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	State     string    `json:"state,omitempty"` // pending, active, expired
}

// SilenceRequest is the body of POST /silences. CreatedBy is set from the token's name.
type SilenceRequest struct {
	Matchers  Matchers  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at,omitzero"`
	EndsAt    time.Time `json:"ends_at,omitzero"`
	Duration  string    `json:"duration,omitempty"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by,omitempty"` // accepted for client compatibility; the author is the token's name
}

func (s *server) alertService() (AlertService, error) {
	if s.deps.Alerts == nil {
		return nil, notImplemented("the alert service")
	}
	return s.deps.Alerts, nil
}

var severityRank = map[string]int{"critical": 3, "warning": 2, "info": 1}

// GET /api/v1/alerts
func (s *server) listAlerts(w http.ResponseWriter, r *http.Request, _ principal) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	q, err := newQuery(r, "status", "severity", "enterprise", "component", "category", "limit", "cursor", "page",
		"enterprise_id", "component_id")
	if err != nil {
		return err
	}
	status, err := q.oneOf("status", "firing", "resolved")
	if err != nil {
		return err
	}
	sev, err := q.oneOf("severity", "info", "warning", "critical")
	if err != nil {
		return err
	}
	cat, err := q.category("category")
	if err != nil {
		return err
	}
	ent, err := q.alias("enterprise", "enterprise_id")
	if err != nil {
		return err
	}
	comp, err := q.alias("component", "component_id")
	if err != nil {
		return err
	}
	pg, err := q.page(s.cfg, filterKey(r.URL.Query()))
	if err != nil {
		return err
	}
	all, err := svc.Alerts(r.Context())
	if err != nil {
		return err
	}
	var sel []Alert
	for _, a := range all {
		if (status == "" || a.Status == status) && (sev == "" || a.Severity == sev) && (cat == "" || a.Category == cat) &&
			(ent == "" || a.EnterpriseID == ent) && (comp == "" || a.ComponentID == comp) {
			if a.Flags == nil {
				a.Flags = []string{}
			}
			sel = append(sel, a)
		}
	}
	sort.SliceStable(sel, func(i, j int) bool {
		a, b := sel[i], sel[j]
		if (a.Status == "firing") != (b.Status == "firing") {
			return a.Status == "firing"
		}
		if severityRank[a.Severity] != severityRank[b.Severity] {
			return severityRank[a.Severity] > severityRank[b.Severity]
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Fingerprint < b.Fingerprint
	})
	out := List[Alert]{Items: []Alert{}, Total: len(sel), Limit: pg.limit, Offset: pg.offset, NextCursor: pg.next(len(sel))}
	if pg.offset < len(sel) {
		out.Items = sel[pg.offset:min(len(sel), pg.offset+pg.limit)]
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /api/v1/alerts/{fingerprint}: the link of every notification (generator_url).
func (s *server) getAlert(w http.ResponseWriter, r *http.Request, _ principal) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	if _, err := newQuery(r); err != nil {
		return err
	}
	fp := r.PathValue("fingerprint")
	if !isHex(fp) {
		return badRequest("fingerprint %q: want the hex fingerprint of an alert", fp)
	}
	a, err := svc.Alert(r.Context(), fp)
	if err != nil {
		return fmt.Errorf("alert %s: %w", fp, err)
	}
	if a.Flags == nil {
		a.Flags = []string{}
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// decodeBody reads a JSON body strictly (unknown fields are a 400).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("request body: want a JSON object")
		}
		return badRequest("request body: %v", err)
	}
	return nil
}

func parseDuration(field, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, badRequest("%s=%q: want a positive duration like 24h or 90m", field, v)
	}
	return d, nil
}

// POST /api/v1/alerts/{fingerprint}/ack
func (s *server) ackAlert(w http.ResponseWriter, r *http.Request, p principal) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	fp := r.PathValue("fingerprint")
	if !isHex(fp) {
		return badRequest("fingerprint %q: want the hex fingerprint of an alert", fp)
	}
	var req AckRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Duration != "" {
		if !req.ExpiresAt.IsZero() {
			return badRequest("give expires_at or duration, not both")
		}
		d, err := parseDuration("duration", req.Duration)
		if err != nil {
			return err
		}
		req.ExpiresAt = time.Now().Add(d).UTC()
	}
	req.By = p.name
	a, err := svc.Ack(r.Context(), fp, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// GET /api/v1/silences
func (s *server) listSilences(w http.ResponseWriter, r *http.Request, _ principal) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	q, err := newQuery(r, "state")
	if err != nil {
		return err
	}
	state, err := q.oneOf("state", "pending", "active", "expired")
	if err != nil {
		return err
	}
	all, err := svc.Silences(r.Context())
	if err != nil {
		return err
	}
	out := List[Silence]{Items: []Silence{}}
	for _, x := range all {
		if state == "" || x.State == state {
			out.Items = append(out.Items, x)
		}
	}
	out.Total, out.Limit = len(out.Items), len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/v1/silences
func (s *server) createSilence(w http.ResponseWriter, r *http.Request, p principal) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	var req SilenceRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	m := req.Matchers
	if strings.TrimSpace(m.EnterpriseID+m.ComponentID+m.Category) == "" {
		return badRequest("matchers: at least one of enterprise_id, component_id, category is required")
	}
	// A zero starts_at stays zero: the service starts the silence at its own "now".
	start := req.StartsAt
	if start.IsZero() {
		start = time.Now().UTC()
	}
	switch {
	case req.Duration != "" && !req.EndsAt.IsZero():
		return badRequest("give ends_at or duration, not both")
	case req.Duration != "":
		d, err := parseDuration("duration", req.Duration)
		if err != nil {
			return err
		}
		req.EndsAt = start.Add(d)
	case req.EndsAt.IsZero():
		return badRequest("ends_at or duration is required")
	}
	if !req.EndsAt.After(start) {
		return badRequest("ends_at must be after starts_at")
	}
	if strings.TrimSpace(req.Comment) == "" {
		return badRequest("comment is required: say why the alerts are silenced")
	}
	req.CreatedBy = p.name
	sil, err := svc.CreateSilence(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sil)
	return nil
}

// DELETE /api/v1/silences/{id}
func (s *server) expireSilence(w http.ResponseWriter, r *http.Request, _ principal) error {
	svc, err := s.alertService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if !isHex(id) {
		return badRequest("silence id %q: want the hex id of a silence", id)
	}
	if err := svc.ExpireSilence(r.Context(), id); err != nil {
		return fmt.Errorf("silence %s: %w", id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func isHex(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
