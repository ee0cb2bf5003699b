package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
)

// AlertsManager is the part of *alerts.Manager the API uses.
type AlertsManager interface {
	Alerts(f alerts.Filter) []alerts.AlertView
	Alert(fingerprint string) (alerts.AlertView, error)
	Ack(fingerprint, by, comment string, expiresAt time.Time) (alerts.AlertView, error)
	Silences() []alerts.Silence
	AddSilence(s alerts.Silence) (alerts.Silence, error)
	ExpireSilence(id string) (alerts.Silence, error)
}

var _ AlertsManager = (*alerts.Manager)(nil)

// FromAlertsManager adapts the alerts package's manager to AlertService:
//
//	api.New(api.Deps{..., Alerts: api.FromAlertsManager(manager)}, cfg.API, log)
func FromAlertsManager(m AlertsManager) AlertService { return alertsAdapter{m} }

type alertsAdapter struct{ m AlertsManager }

// mapErr turns the alerts package's sentinel errors into the API's, keeping the original in the chain.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, alerts.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, alerts.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errors.Is(err, alerts.ErrStandby):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func (a alertsAdapter) Alerts(context.Context) ([]Alert, error) {
	vs := a.m.Alerts(alerts.Filter{})
	out := make([]Alert, 0, len(vs))
	for _, v := range vs {
		out = append(out, alertFromView(v))
	}
	return out, nil
}

func (a alertsAdapter) Alert(_ context.Context, fingerprint string) (Alert, error) {
	v, err := a.m.Alert(fingerprint)
	if err != nil {
		return Alert{}, mapErr(err)
	}
	return alertFromView(v), nil
}

func (a alertsAdapter) Ack(_ context.Context, fingerprint string, req AckRequest) (Alert, error) {
	v, err := a.m.Ack(fingerprint, req.By, req.Comment, req.ExpiresAt)
	if err != nil {
		return Alert{}, mapErr(err)
	}
	return alertFromView(v), nil
}

func (a alertsAdapter) Silences(context.Context) ([]Silence, error) {
	ss := a.m.Silences()
	out := make([]Silence, 0, len(ss))
	for _, s := range ss {
		out = append(out, silenceFromAlerts(s))
	}
	return out, nil
}

func (a alertsAdapter) CreateSilence(_ context.Context, req SilenceRequest) (Silence, error) {
	s, err := a.m.AddSilence(silenceRequestToAlerts(req))
	if err != nil {
		return Silence{}, mapErr(err)
	}
	return silenceFromAlerts(s), nil
}

func (a alertsAdapter) ExpireSilence(_ context.Context, id string) error {
	_, err := a.m.ExpireSilence(id)
	return mapErr(err)
}

// alertFromView maps the alerts package's view of an alert to the API's Alert. The alert's
// subject and subject_name (the detector's wording of enterprise × component) are left out.
func alertFromView(v alerts.AlertView) Alert {
	a := v.Alert
	out := Alert{
		Fingerprint:       a.Fingerprint,
		Name:              a.Name,
		EnterpriseID:      a.EnterpriseID,
		EnterpriseName:    a.EnterpriseName,
		ComponentID:       a.ComponentID,
		Category:          a.Category,
		Industry:          a.Industry,
		Region:            a.Region,
		Severity:          a.Severity.String(),
		Status:            string(a.Status),
		State:             v.State,
		SilencedBy:        slices.Clone(v.SilencedBy),
		Score:             a.Score,
		PrevScore:         clonePtr(a.PrevScore),
		Flags:             slices.Clone(a.Flags),
		TopTerms:          slices.Clone(a.TopTerms),
		TTSDays:           clonePtr(a.TTSDays),
		TTRDays:           clonePtr(a.TTRDays),
		GapDays:           a.GapDays,
		ConsumptionPerDay: clonePtr(a.ConsumptionPerDay),
		Alternates:        slices.Clone(a.Alternates),
		Products:          slices.Clone(a.Products),
		Detectors:         slices.Clone(a.Detectors),
		RunID:             a.RunID,
		StartsAt:          a.StartsAt,
		EndsAt:            a.EndsAt,
		UpdatedAt:         a.UpdatedAt,
		Ack:               ackFromAlerts(a.Ack),
		GeneratorURL:      a.GeneratorURL,
	}
	if out.Flags == nil {
		out.Flags = []string{}
	}
	for _, x := range a.Actions {
		out.Actions = append(out.Actions, actionFromAlerts(x))
	}
	return out
}

// actionFromAlerts copies one B计划 step (its alternate too).
func actionFromAlerts(x alerts.Action) Action {
	if x.Alternate != nil {
		alt := *x.Alternate
		x.Alternate = &alt
	}
	return x
}

// ackFromAlerts maps an acknowledgement (nil stays nil).
func ackFromAlerts(a *alerts.Ack) *Ack {
	if a == nil {
		return nil
	}
	return &Ack{By: a.By, Comment: a.Comment, At: a.At, ExpiresAt: a.ExpiresAt, Severity: a.Severity.String()}
}

// silenceFromAlerts maps a stored silence.
func silenceFromAlerts(s alerts.Silence) Silence {
	return Silence{
		ID:        s.ID,
		Matchers:  matchersFromAlerts(s.Matchers),
		StartsAt:  s.StartsAt,
		EndsAt:    s.EndsAt,
		CreatedBy: s.CreatedBy,
		Comment:   s.Comment,
		CreatedAt: s.CreatedAt,
		UpdatedAt: s.UpdatedAt,
		State:     s.State,
	}
}

// silenceRequestToAlerts maps a validated POST /silences body (ends_at already resolved from
// duration, created_by set from the token) to the silence the manager stores.
func silenceRequestToAlerts(r SilenceRequest) alerts.Silence {
	return alerts.Silence{
		Matchers:  matchersToAlerts(r.Matchers),
		StartsAt:  r.StartsAt,
		EndsAt:    r.EndsAt,
		CreatedBy: r.CreatedBy,
		Comment:   r.Comment,
	}
}

// matchersFromAlerts and matchersToAlerts map silence matchers both ways.
func matchersFromAlerts(m alerts.Matchers) Matchers {
	return Matchers{EnterpriseID: m.EnterpriseID, ComponentID: m.ComponentID, Category: m.Category}
}

func matchersToAlerts(m Matchers) alerts.Matchers {
	return alerts.Matchers{EnterpriseID: m.EnterpriseID, ComponentID: m.ComponentID, Category: m.Category}
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
