// Package alertmanager forwards alerts to a Prometheus Alertmanager through its v2 API:
// POST <url>/api/v2/alerts with a JSON array of postable alerts
// ({labels, annotations, startsAt, endsAt, generatorURL}).
//
// A firing alert is sent with endsAt = now + ends_after (Alertmanager resolves it by itself if
// chainwatch stops re-sending); a resolved alert with its real endsAt.
package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

// Path is the Alertmanager v2 endpoint, appended to the configured URL unless already there.
const Path = "/api/v2/alerts"

// PostableAlert is Alertmanager's postableAlert.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Notifier posts to Alertmanager.
type Notifier struct {
	url          string
	client       *hook.Client
	endsAfter    time.Duration
	lang         string
	now          func() time.Time
	skipResolved bool
}

// New returns an Alertmanager notifier. url is the Alertmanager base URL (or the full
// /api/v2/alerts URL); endsAfter is how long a firing alert lives in Alertmanager without being
// re-sent; lang is the annotations' language ("" → the group's).
func New(url string, client *hook.Client, endsAfter time.Duration, lang string, skipResolved bool) (*Notifier, error) {
	if url == "" {
		return nil, errors.New("alertmanager: url is required")
	}
	url = strings.TrimRight(url, "/")
	if !strings.HasSuffix(url, Path) {
		url += Path
	}
	if endsAfter <= 0 {
		endsAfter = 24 * time.Hour
	}
	return &Notifier{url: url, client: client, endsAfter: endsAfter, lang: lang, now: time.Now, skipResolved: skipResolved}, nil
}

// WithClock sets the clock (tests).
func (n *Notifier) WithClock(now func() time.Time) *Notifier { n.now = now; return n }

// SendResolved implements alerts.ResolvedSender.
func (n *Notifier) SendResolved() bool { return !n.skipResolved }

// Notify implements alerts.Notifier.
func (n *Notifier) Notify(ctx context.Context, as ...*alerts.Alert) (bool, error) {
	info, _ := alerts.GroupInfoFrom(ctx)
	body, err := json.Marshal(Build(info, as, n.lang, n.now(), n.endsAfter))
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "alertmanager: encode: %w", err)
	}
	_, retry, err := n.client.Post(ctx, n.url, body, nil)
	return retry, err
}

// Build converts alerts to postable alerts.
func Build(info alerts.GroupInfo, as []*alerts.Alert, lang string, now time.Time, endsAfter time.Duration) []PostableAlert {
	if lang == "" {
		lang = info.Lang
	}
	out := make([]PostableAlert, 0, len(as))
	for _, a := range as {
		labels := map[string]string{
			"alertname":     a.Name,
			"enterprise_id": a.EnterpriseID,
			"component_id":  a.ComponentID,
			"severity":      a.Severity.String(),
			"source":        "chainwatch",
		}
		if a.Category != "" {
			labels["category"] = a.Category
		}
		one := alerts.NewMessage(info, []*alerts.Alert{a})
		one.Info.MaxAlerts = 1
		r, _ := alerts.Render(one, lang)
		ann := map[string]string{
			"fingerprint": a.Fingerprint,
			"score":       strconv.FormatFloat(a.Score, 'f', -1, 64),
			"flags":       strings.Join(a.Flags, ","),
		}
		if r != nil {
			ann["summary"] = r.Subject
			ann["description"] = r.Text
		}
		if a.TTSDays != nil {
			ann["tts_days"] = strconv.FormatFloat(*a.TTSDays, 'f', -1, 64)
		}
		if a.TTRDays != nil {
			ann["ttr_days"] = strconv.FormatFloat(*a.TTRDays, 'f', -1, 64)
		}
		if len(a.Products) > 0 {
			ann["products"] = strings.Join(a.Products, ",")
		}
		if len(a.Alternates) > 0 {
			var alts []string
			for _, alt := range a.Alternates {
				s := alt.SupplierID
				if alt.ComponentID != "" {
					s += "/" + alt.ComponentID
				}
				alts = append(alts, s+"@"+alt.Country)
			}
			ann["alternates"] = strings.Join(alts, ",")
		}
		p := PostableAlert{Labels: labels, Annotations: ann, StartsAt: a.StartsAt, GeneratorURL: a.GeneratorURL}
		if a.Resolved() {
			p.EndsAt = a.EndsAt
		} else {
			p.EndsAt = now.Add(endsAfter)
		}
		out = append(out, p)
	}
	return out
}
