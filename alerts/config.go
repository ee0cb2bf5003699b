package alerts

import (
	"errors"
	"fmt"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"net/mail"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Config is the "alerts" section: B计划 (backup-plan) warnings, their rules, grouping,
// state and notification channels. See docs/alerts.md.
type Config struct {
	Enabled     bool   `koanf:"enabled"`
	StateDir    string `koanf:"state_dir"`    // alert state, silences and the notification log
	ExternalURL string `koanf:"external_url"` // base URL of this daemon, for links in notifications

	Tick              time.Duration `koanf:"tick"`               // how often due groups are flushed
	GroupWait         time.Duration `koanf:"group_wait"`         // wait before the first notification of a new group
	GroupInterval     time.Duration `koanf:"group_interval"`     // wait between notifications of one group
	RepeatInterval    time.Duration `koanf:"repeat_interval"`    // re-send an unchanged firing group after this
	ResolvedRetention time.Duration `koanf:"resolved_retention"` // keep resolved alerts (API, digest) this long
	MaxAlertsPerMsg   int           `koanf:"max_alerts_per_notification"`

	Rules       RulesConfig            `koanf:"rules"`
	Actions     ActionsConfig          `koanf:"actions"`
	Default     RouteConfig            `koanf:"default"`     // recipients and channels for any enterprise
	Enterprises map[string]RouteConfig `koanf:"enterprises"` // per-enterprise routes (fields override default)
	Queue       QueueConfig            `koanf:"queue"`
	Email       EmailConfig            `koanf:"email"`
	HTTP        HTTPConfig             `koanf:"http"`
	Webhooks    []WebhookConfig        `koanf:"webhooks"`
}

// SeverityThresholds are the minimum scores (0..100) for each severity. A zero field means
// "inherit" in an override.
type SeverityThresholds struct {
	Info     float64 `koanf:"info"`
	Warning  float64 `koanf:"warning"`
	Critical float64 `koanf:"critical"`
}

// RulesConfig turns findings into severities.
type RulesConfig struct {
	Thresholds SeverityThresholds `koanf:"thresholds"`
	// FlagFloors raises a finding carrying the flag to at least this severity. Two floors are
	// built in and cannot be lowered: chokepoint_list → warning, single_source+tts_below_ttr → warning.
	FlagFloors map[string]string `koanf:"flag_floors"`
	Overrides  []RuleOverride    `koanf:"overrides"`
}

// RuleOverride changes thresholds and floors for one enterprise, one category or both.
// The most specific override wins per field: enterprise+category > enterprise > category > base.
type RuleOverride struct {
	Enterprise string             `koanf:"enterprise"`
	Category   string             `koanf:"category"`
	Thresholds SeverityThresholds `koanf:"thresholds"`
	FlagFloors map[string]string  `koanf:"flag_floors"`
}

// ActionsConfig shapes the B计划 actions and alternates.
type ActionsConfig struct {
	PreferDomestic bool    `koanf:"prefer_domestic"` // 国产替代: domestic alternates first
	MaxAlternates  int     `koanf:"max_alternates"`
	TopTerms       int     `koanf:"top_terms"`
	SplitShare     float64 `koanf:"split_share"` // share of volume to move in "split volume" (0..1)
}

// RouteConfig is who hears about an enterprise's alerts, how, and from which severity on.
// In alerts.enterprises, empty fields inherit from alerts.default.
type RouteConfig struct {
	Name        string   `koanf:"name"`
	Lang        string   `koanf:"lang"` // zh-CN or en
	Email       []string `koanf:"email"`
	Channels    []string `koanf:"channels"`     // integration names; empty: every configured integration
	MinSeverity string   `koanf:"min_severity"` // info, warning, critical
}

// QueueConfig is the per-integration notification queue.
type QueueConfig struct {
	Size          int           `koanf:"size"`
	Workers       int           `koanf:"workers"`
	MaxAttempts   int           `koanf:"max_attempts"`
	RetryMin      time.Duration `koanf:"retry_min"`
	RetryMax      time.Duration `koanf:"retry_max"`
	NotifyTimeout time.Duration `koanf:"notify_timeout"`
}

// EmailConfig is the email integration (named "email").
type EmailConfig struct {
	Enabled       bool       `koanf:"enabled"`
	From          string     `koanf:"from"`
	SubjectPrefix string     `koanf:"subject_prefix"`
	SMTP          SMTPConfig `koanf:"smtp"`
}

// SMTPConfig reaches the SMTP relay.
type SMTPConfig struct {
	Host               string         `koanf:"host"`
	Port               int            `koanf:"port"`
	Mode               string         `koanf:"mode"` // plain, starttls, tls (implicit TLS)
	Auth               string         `koanf:"auth"` // none, plain, login
	Username           string         `koanf:"username"`
	Password           confkit.Secret `koanf:"password"`
	PasswordFile       string         `koanf:"password_file"`
	HelloName          string         `koanf:"hello_name"`
	ServerName         string         `koanf:"server_name"` // TLS server name; default host
	CAFile             string         `koanf:"ca_file"`
	InsecureSkipVerify bool           `koanf:"insecure_skip_verify"`
	Timeout            time.Duration  `koanf:"timeout"`
}

// HTTPConfig is the retrying HTTP client of the webhook integrations.
type HTTPConfig struct {
	Timeout      time.Duration `koanf:"timeout"`
	RetryMax     int           `koanf:"retry_max"`
	RetryWaitMin time.Duration `koanf:"retry_wait_min"`
	RetryWaitMax time.Duration `koanf:"retry_wait_max"`
}

// WebhookConfig is one webhook integration.
type WebhookConfig struct {
	Name         string         `koanf:"name"`
	Type         string         `koanf:"type"` // json, alertmanager, wecom, dingtalk, feishu
	URL          confkit.Secret `koanf:"url"`  // robot URLs carry their key: never logged
	URLFile      string         `koanf:"url_file"`
	Secret       confkit.Secret `koanf:"secret"` // json: HMAC key; dingtalk, feishu: signing secret
	SecretFile   string         `koanf:"secret_file"`
	Format       string         `koanf:"format"` // feishu: text, post, interactive (default interactive)
	Lang         string         `koanf:"lang"`   // robot message language; default: the enterprise route's
	SkipResolved bool           `koanf:"skip_resolved"`
}

// WebhookTypes are the accepted alerts.webhooks[].type values.
var WebhookTypes = []string{"json", "alertmanager", "wecom", "dingtalk", "feishu"}

// SeverityNames are the severity names, lowest first.
var SeverityNames = []string{"info", "warning", "critical"}

// Langs are the supported notification languages.
var Langs = []string{"zh-CN", "en"}

// DefaultConfig returns the defaults of the "alerts" section.
func DefaultConfig() Config {
	return Config{
		Enabled:           true,
		StateDir:          ".state/alerts",
		ExternalURL:       "http://127.0.0.1:9464",
		Tick:              time.Second,
		GroupWait:         30 * time.Second,
		GroupInterval:     5 * time.Minute,
		RepeatInterval:    24 * time.Hour,
		ResolvedRetention: 7 * 24 * time.Hour,
		MaxAlertsPerMsg:   20,
		Rules: RulesConfig{
			Thresholds: SeverityThresholds{Info: 40, Warning: 60, Critical: 80},
			FlagFloors: map[string]string{
				"chokepoint_list": "warning",
				"foreign_control": "info",
				"stock_collapse":  "warning",
			},
		},
		Actions: ActionsConfig{PreferDomestic: true, MaxAlternates: 3, TopTerms: 3, SplitShare: 0.3},
		Default: RouteConfig{Lang: "zh-CN", MinSeverity: "warning"},
		Queue: QueueConfig{Size: 1024, Workers: 2, MaxAttempts: 5, RetryMin: time.Second,
			RetryMax: time.Minute, NotifyTimeout: time.Minute},
		Email: EmailConfig{
			From: "chainwatch <chainwatch@localhost>", SubjectPrefix: "[chainwatch]",
			SMTP: SMTPConfig{Host: "127.0.0.1", Port: 25, Mode: "plain", Auth: "none",
				HelloName: "chainwatch.localhost", Timeout: 30 * time.Second},
		},
		HTTP: HTTPConfig{Timeout: 10 * time.Second, RetryMax: 3, RetryWaitMin: 500 * time.Millisecond,
			RetryWaitMax: 10 * time.Second},
	}
}

// Route returns the effective route of an enterprise: alerts.enterprises.<id> over alerts.default.
func (c *Config) Route(enterpriseID string) RouteConfig {
	r := c.Default
	e, ok := c.Enterprises[enterpriseID]
	if !ok {
		return r
	}
	if e.Name != "" {
		r.Name = e.Name
	}
	if e.Lang != "" {
		r.Lang = e.Lang
	}
	if len(e.Email) > 0 {
		r.Email = e.Email
	}
	if len(e.Channels) > 0 {
		r.Channels = e.Channels
	}
	if e.MinSeverity != "" {
		r.MinSeverity = e.MinSeverity
	}
	return r
}

// IntegrationNames lists the configured integrations: "email" when enabled, then each webhook.
func (c *Config) IntegrationNames() []string {
	var out []string
	if c.Email.Enabled {
		out = append(out, "email")
	}
	for _, w := range c.Webhooks {
		out = append(out, w.Name)
	}
	return out
}

// Validate reports every problem of the "alerts" section by its key relative to the section
// (internal/config prefixes "alerts.").
func (c Config) Validate() error {
	var p confkit.Problems
	c.validateTop(&p)
	c.validateRules(&p)
	c.Actions.validate(&p)
	c.validateIntegrations(&p)
	c.Queue.validate(&p)
	if c.Email.Enabled {
		c.Email.validate(&p)
	}
	c.HTTP.validate(&p)
	return p.Err()
}

func (c *Config) validateTop(p *confkit.Problems) {
	if c.Enabled {
		p.Required("state_dir", c.StateDir)
	}
	if c.ExternalURL != "" {
		if u, err := url.Parse(c.ExternalURL); err != nil || u.Scheme == "" || u.Host == "" {
			p.Add("external_url", "%q is not an absolute URL", c.ExternalURL)
		}
	}
	p.Duration("tick", c.Tick)
	p.Duration("group_wait", c.GroupWait)
	p.Duration("group_interval", c.GroupInterval)
	p.Duration("repeat_interval", c.RepeatInterval)
	if c.RepeatInterval > 0 && c.RepeatInterval < c.GroupInterval {
		p.Add("repeat_interval", "must be >= alerts.group_interval (%s)", c.GroupInterval)
	}
	p.Duration("resolved_retention", c.ResolvedRetention)
	p.Positive("max_alerts_per_notification", c.MaxAlertsPerMsg)
}

func (c *Config) validateRules(p *confkit.Problems) {
	validateThresholds(p, "rules.thresholds", c.Rules.Thresholds, true)
	validateFloors(p, "rules.flag_floors", c.Rules.FlagFloors)
	for i, o := range c.Rules.Overrides {
		key := fmt.Sprintf("rules.overrides[%d]", i)
		if o.Enterprise == "" && o.Category == "" {
			p.Add(key, "needs enterprise, category or both")
		}
		validateThresholds(p, key+".thresholds", o.Thresholds, false)
		merged := c.Rules.Thresholds
		if o.Thresholds.Info > 0 {
			merged.Info = o.Thresholds.Info
		}
		if o.Thresholds.Warning > 0 {
			merged.Warning = o.Thresholds.Warning
		}
		if o.Thresholds.Critical > 0 {
			merged.Critical = o.Thresholds.Critical
		}
		if !(merged.Info <= merged.Warning && merged.Warning <= merged.Critical) {
			p.Add(key+".thresholds", "with the base thresholds gives info %g, warning %g, critical %g: must be ascending",
				merged.Info, merged.Warning, merged.Critical)
		}
		validateFloors(p, key+".flag_floors", o.FlagFloors)
	}

}

func (a ActionsConfig) validate(p *confkit.Problems) {
	if a.MaxAlternates < 0 {
		p.Add("actions.max_alternates", "must be >= 0, got %d", a.MaxAlternates)
	}
	if a.TopTerms < 0 {
		p.Add("actions.top_terms", "must be >= 0, got %d", a.TopTerms)
	}
	if a.SplitShare <= 0 || a.SplitShare >= 1 {
		p.Add("actions.split_share", "must be in (0, 1), got %g", a.SplitShare)
	}

}

// validateIntegrations checks the webhooks and the routes that name them.
func (c *Config) validateIntegrations(p *confkit.Problems) {
	names := map[string]bool{}
	if c.Email.Enabled {
		names["email"] = true
	}
	for i, w := range c.Webhooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		switch {
		case w.Name == "":
			p.Add(key+".name", "required")
		case w.Name == "email":
			p.Add(key+".name", "%q is reserved for the email integration", w.Name)
		case names[w.Name]:
			p.Add(key+".name", "%q is used twice", w.Name)
		}
		names[w.Name] = true
		p.OneOf(key+".type", w.Type, WebhookTypes...)
		if w.URL == "" && w.URLFile == "" {
			p.Add(key+".url", "required (or url_file)")
		} else if w.URL != "" {
			if u, err := url.Parse(w.URL.Reveal()); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.Add(key+".url", "is not an http(s) URL")
			}
		}
		if w.Format != "" {
			if w.Type != "feishu" {
				p.Add(key+".format", "only applies to type feishu")
			} else {
				p.OneOf(key+".format", w.Format, "text", "post", "interactive")
			}
		}
		if w.Lang != "" {
			p.OneOf(key+".lang", w.Lang, Langs...)
		}
		if w.Type == "json" && w.Secret == "" && w.SecretFile == "" {
			p.Add(key+".secret", "required for type json (HMAC-SHA256 signature)")
		}
	}
	validateRoute(p, "default", c.Default, names, true)
	ents := make([]string, 0, len(c.Enterprises))
	for id := range c.Enterprises {
		ents = append(ents, id)
	}
	sort.Strings(ents)
	for _, id := range ents {
		validateRoute(p, "enterprises."+id, c.Enterprises[id], names, false)
	}

}

func (q QueueConfig) validate(p *confkit.Problems) {
	p.Positive("queue.size", q.Size)
	p.Positive("queue.workers", q.Workers)
	p.Positive("queue.max_attempts", q.MaxAttempts)
	p.Duration("queue.retry_min", q.RetryMin)
	p.Duration("queue.retry_max", q.RetryMax)
	if q.RetryMax < q.RetryMin {
		p.Add("queue.retry_max", "must be >= alerts.queue.retry_min (%s)", q.RetryMin)
	}
	p.Duration("queue.notify_timeout", q.NotifyTimeout)

}

// validate checks alerts.email (only when it is enabled).
func (e EmailConfig) validate(p *confkit.Problems) {
	if _, err := mail.ParseAddress(e.From); err != nil {
		p.Add("email.from", "%q is not an address: %v", e.From, err)
	}
	p.Required("email.smtp.host", e.SMTP.Host)
	if e.SMTP.Port <= 0 || e.SMTP.Port > 65535 {
		p.Add("email.smtp.port", "must be 1..65535, got %d", e.SMTP.Port)
	}
	p.OneOf("email.smtp.mode", e.SMTP.Mode, "plain", "starttls", "tls")
	p.OneOf("email.smtp.auth", e.SMTP.Auth, "none", "plain", "login")
	if e.SMTP.Auth != "none" && e.SMTP.Username == "" {
		p.Add("email.smtp.username", "required when alerts.email.smtp.auth is %q", e.SMTP.Auth)
	}
	if e.SMTP.Auth != "none" && e.SMTP.Mode == "plain" && !localHost(e.SMTP.Host) {
		p.Add("email.smtp.auth", "credentials are only sent over TLS: use mode starttls or tls (or auth none) for %s", e.SMTP.Host)
	}
	p.Duration("email.smtp.timeout", e.SMTP.Timeout)
	if strings.ContainsAny(e.SMTP.HelloName, " \r\n") {
		p.Add("email.smtp.hello_name", "%q must be one host name", e.SMTP.HelloName)
	}
}

func (h HTTPConfig) validate(p *confkit.Problems) {
	p.Duration("http.timeout", h.Timeout)
	if h.RetryMax < 0 {
		p.Add("http.retry_max", "must be >= 0, got %d", h.RetryMax)
	}
	p.Duration("http.retry_wait_min", h.RetryWaitMin)
	p.Duration("http.retry_wait_max", h.RetryWaitMax)
	if h.RetryWaitMax < h.RetryWaitMin {
		p.Add("http.retry_wait_max", "must be >= alerts.http.retry_wait_min (%s)", h.RetryWaitMin)
	}
}

func validateThresholds(p *confkit.Problems, key string, t SeverityThresholds, base bool) {
	for _, f := range []struct {
		name string
		v    float64
	}{{"info", t.Info}, {"warning", t.Warning}, {"critical", t.Critical}} {
		if f.v < 0 || f.v > 100 || (base && f.v == 0) {
			p.Add(key+"."+f.name, "must be in (0, 100], got %g", f.v)
		}
	}
	if base && !(t.Info <= t.Warning && t.Warning <= t.Critical) {
		p.Add(key, "info %g, warning %g, critical %g must be ascending", t.Info, t.Warning, t.Critical)
	}
}

func validateFloors(p *confkit.Problems, key string, floors map[string]string) {
	flags := make([]string, 0, len(floors))
	for f := range floors {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	for _, f := range flags {
		p.OneOf(key+"."+f, floors[f], SeverityNames...)
	}
}

func validateRoute(p *confkit.Problems, key string, r RouteConfig, integrations map[string]bool, base bool) {
	if r.Lang != "" || base {
		p.OneOf(key+".lang", r.Lang, Langs...)
	}
	if r.MinSeverity != "" || base {
		p.OneOf(key+".min_severity", r.MinSeverity, SeverityNames...)
	}
	for i, a := range r.Email {
		if _, err := mail.ParseAddress(a); err != nil {
			p.Add(fmt.Sprintf("%s.email[%d]", key, i), "%q is not an address", a)
		}
	}
	for i, ch := range r.Channels {
		if !integrations[ch] {
			p.Add(fmt.Sprintf("%s.channels[%d]", key, i), "%q is not a configured integration (email when alerts.email.enabled, or a webhook name)", ch)
		}
	}
}

// ResolveSecrets reads the *_file secrets; a failure names the key relative to the section.
func (c *Config) ResolveSecrets() error {
	var errs []error
	if f := c.Email.SMTP.PasswordFile; f != "" {
		s, err := confkit.ReadSecretFile(filepath.Clean(f))
		if err != nil {
			errs = append(errs, &confkit.Problem{Key: "email.smtp.password_file", Msg: err.Error(), Err: err})
		}
		c.Email.SMTP.Password = s
	}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if w.SecretFile != "" {
			s, err := confkit.ReadSecretFile(w.SecretFile)
			if err != nil {
				errs = append(errs, &confkit.Problem{Key: fmt.Sprintf("webhooks[%d].secret_file", i), Msg: err.Error(), Err: err})
			}
			w.Secret = s
		}
		if w.URLFile != "" {
			s, err := confkit.ReadSecretFile(w.URLFile)
			if err != nil {
				errs = append(errs, &confkit.Problem{Key: fmt.Sprintf("webhooks[%d].url_file", i), Msg: err.Error(), Err: err})
			}
			w.URL = confkit.Secret(strings.TrimSpace(s.Reveal()))
		}
	}
	return errors.Join(errs...)
}

func localHost(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }
