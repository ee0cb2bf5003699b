package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
)

// AlertsManager is the part of *alerts.Manager the API uses.
type AlertsManager interface {
	Alerts(f alerts.Filter) []alerts.AlertView
	Ack(fingerprint, by, comment string, expiresAt time.Time) (alerts.AlertView, error)
	Silences() []alerts.Silence
	AddSilence(s alerts.Silence) (alerts.Silence, error)
	ExpireSilence(id string) (alerts.Silence, error)
}

// FromAlertsManager adapts the alerts package's manager to AlertService:
//
//	api.New(api.Deps{..., Alerts: api.FromAlertsManager(manager)}, cfg.API, log)
func FromAlertsManager(m AlertsManager) AlertService { return alertsAdapter{m} }

type alertsAdapter struct{ m AlertsManager }

// mapErr turns the alerts package's sentinel errors into the API's.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, alerts.ErrNotFound):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.Is(err, alerts.ErrInvalid):
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return err
}

// recode converts between the alerts package's types and the API's, whose JSON field names match.
func recode[T any](v any) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, fmt.Errorf("alerts adapter: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("alerts adapter: %w", err)
	}
	return out, nil
}

func (a alertsAdapter) Alerts(context.Context) ([]Alert, error) {
	return recode[[]Alert](a.m.Alerts(alerts.Filter{}))
}

func (a alertsAdapter) Ack(_ context.Context, fingerprint string, req AckRequest) (Alert, error) {
	v, err := a.m.Ack(fingerprint, req.By, req.Comment, req.ExpiresAt)
	if err != nil {
		return Alert{}, mapErr(err)
	}
	return recode[Alert](v)
}

func (a alertsAdapter) Silences(context.Context) ([]Silence, error) {
	return recode[[]Silence](a.m.Silences())
}

func (a alertsAdapter) CreateSilence(_ context.Context, req SilenceRequest) (Silence, error) {
	s, err := a.m.AddSilence(alerts.Silence{
		Matchers:  alerts.Matchers{EnterpriseID: req.Matchers.EnterpriseID, ComponentID: req.Matchers.ComponentID, Category: req.Matchers.Category},
		StartsAt:  req.StartsAt,
		EndsAt:    req.EndsAt,
		CreatedBy: req.CreatedBy,
		Comment:   req.Comment,
	})
	if err != nil {
		return Silence{}, mapErr(err)
	}
	return recode[Silence](s)
}

func (a alertsAdapter) ExpireSilence(_ context.Context, id string) error {
	_, err := a.m.ExpireSilence(id)
	return mapErr(err)
}
