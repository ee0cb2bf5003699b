// Package channels builds the notifier registry from the alerts configuration: "email" when
// alerts.email.enabled, then one integration per alerts.webhooks entry, by type. Registration is
// explicit: adding a channel type means adding a case here.
package channels

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/alertmanager"
	"github.com/chainwatch/chainwatch/alerts/dingtalk"
	"github.com/chainwatch/chainwatch/alerts/email"
	"github.com/chainwatch/chainwatch/alerts/feishu"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
	"github.com/chainwatch/chainwatch/alerts/webhook"
	"github.com/chainwatch/chainwatch/alerts/wecom"
)

// Options are optional dependencies.
type Options struct {
	Log          *slog.Logger
	HTTPClient   *http.Client   // webhooks' transport (nil: a fresh one with alerts.http.timeout)
	EmailOptions []email.Option // e.g. email.WithTLSConfig
}

// Build returns a registry with every configured integration.
func Build(cfg alerts.Config, o Options) (*alerts.Registry, error) {
	reg := alerts.NewRegistry()
	if cfg.Email.Enabled {
		n, err := email.New(cfg.Email, o.EmailOptions...)
		if err != nil {
			return nil, err
		}
		if err := reg.Register("email", n); err != nil {
			return nil, err
		}
	}
	client := hook.New(hook.Config(cfg.HTTP), o.HTTPClient, o.Log)
	for i, w := range cfg.Webhooks {
		n, err := webhookNotifier(cfg, w, client)
		if err != nil {
			return nil, fmt.Errorf("alerts.webhooks[%d] (%s): %w", i, w.Name, err)
		}
		if err := reg.Register(w.Name, n); err != nil {
			return nil, fmt.Errorf("alerts.webhooks[%d]: %w", i, err)
		}
	}
	return reg, nil
}

func webhookNotifier(cfg alerts.Config, w alerts.WebhookConfig, client *hook.Client) (alerts.Notifier, error) {
	url, secret := w.URL.Reveal(), w.Secret.Reveal()
	switch w.Type {
	case "json":
		return webhook.New(url, secret, client, w.SkipResolved)
	case "alertmanager":
		return alertmanager.New(url, client, cfg.RepeatInterval+2*cfg.GroupInterval, w.Lang, w.SkipResolved)
	case "wecom":
		return wecom.New(url, client, w.Lang, w.SkipResolved)
	case "dingtalk":
		return dingtalk.New(url, secret, client, w.Lang, w.SkipResolved)
	case "feishu":
		return feishu.New(url, secret, w.Format, client, w.Lang, w.SkipResolved)
	}
	return nil, fmt.Errorf("unknown type %q (want one of %v)", w.Type, alerts.WebhookTypes)
}
