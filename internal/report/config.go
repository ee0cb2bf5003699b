package report

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // digest.timezone must resolve on hosts without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/i18n"
)

// Digest formats.
var Formats = []string{"html", "md", "csv"}

// Config is the "digest" section: the weekly risk digest for policymakers (internal/report,
// docs/monitoring.md). Each scope (region × industry; empty = all) gets its own digest of the ISO
// week that ended before the scheduled run; every format is archived in the ClickHouse table
// `digests` and the HTML (with a Markdown text part) is e-mailed to the scope's recipients.
//
//	digest:
//	  enabled: true
//	  lang: zh-CN                              # default; en selectable per scope, API ?lang=, CLI --lang
//	  schedule: "0 8 * * MON"
//	  timezone: Asia/Shanghai
//	  recipients: [risk-office@example.gov.cn]
//	  scopes:
//	    - {}                                   # national digest
//	    - region: Jiangsu
//	      industry: semiconductors
//	      recipients: [js-miit@example.gov.cn]
//	      lang: en
type Config struct {
	// Enabled runs the scheduler in `chainwatch serve`. The API and `chainwatch digest` work regardless.
	Enabled bool `koanf:"enabled"`
	// Schedule is a 5-field cron spec (robfig/cron: minute hour dom month dow) in Timezone.
	Schedule string `koanf:"schedule"`
	// Timezone names the IANA zone of Schedule and of the ISO week boundaries.
	Timezone string `koanf:"timezone"`
	// Recipients receive scopes that list no recipients of their own.
	Recipients []string `koanf:"recipients"`
	// Scopes are the digests produced on each run. Empty means one national digest.
	Scopes []ScopeConfig `koanf:"scopes"`
	// Formats are rendered and archived on each run (html, md, csv).
	Formats []string `koanf:"formats"`
	// TopN bounds the chokepoint, rising and chain-leader tables.
	TopN int `koanf:"top_n"`
	// RisingMinDelta: an exposure is "rising" when its score grew by at least this many points week over week.
	RisingMinDelta float64 `koanf:"rising_min_delta"`
	// StaleAfter flags a source whose newest ingested row is older than this at the end of the week;
	// StaleAfterByTable overrides it per event table (the supply map and annual statistics change
	// rarely, availability feeds daily).
	StaleAfter        time.Duration            `koanf:"stale_after"`
	StaleAfterByTable map[string]time.Duration `koanf:"stale_after_by_table"`
	// Title heads the digest and the e-mail subject; empty: the language's own title
	// (供应链风险周报 / Supply-chain risk weekly digest).
	Title string `koanf:"title"`
	// Lang is the language of the digests (zh-CN or en) of scopes that name none.
	Lang string `koanf:"lang"`
	// Timeout bounds one scheduled run (all scopes, all formats, delivery).
	Timeout time.Duration `koanf:"timeout"`
}

// ScopeConfig is one region × industry digest and who receives it.
type ScopeConfig struct {
	Region     string   `koanf:"region"`
	Industry   string   `koanf:"industry"`
	Recipients []string `koanf:"recipients"`
	// Lang overrides digest.lang for this scope (zh-CN or en; empty: digest.lang).
	Lang string `koanf:"lang"`
}

// DefaultConfig returns the defaults of the "digest" section.
func DefaultConfig() Config {
	return Config{
		Enabled:        false,
		Schedule:       "0 8 * * MON",
		Timezone:       "Asia/Shanghai",
		Formats:        slices.Clone(Formats),
		TopN:           10,
		RisingMinDelta: 5,
		StaleAfter:     72 * time.Hour,
		StaleAfterByTable: map[string]time.Duration{
			"supply_nodes": 35 * 24 * time.Hour, "supply_links": 35 * 24 * time.Hour, "substitutions": 35 * 24 * time.Hour,
			"trade_flows": 45 * 24 * time.Hour, "production_stats": 400 * 24 * time.Hour,
		},
		Lang:    i18n.ZH,
		Timeout: 10 * time.Minute,
	}
}

// Location returns the digest time zone (UTC when it does not load; Validate reports that).
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// EffectiveScopes returns the configured scopes, or one national scope, with recipients filled in
// from digest.recipients where a scope lists none.
func (c *Config) EffectiveScopes() []ScopeConfig {
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = []ScopeConfig{{}}
	}
	out := make([]ScopeConfig, len(scopes))
	for i, s := range scopes {
		out[i] = s
		if len(s.Recipients) == 0 {
			out[i].Recipients = append([]string(nil), c.Recipients...)
		}
	}
	return out
}

// LangFor returns the language of scope's digest: the lang of the configured scope with the same
// region and industry, else digest.lang, else zh-CN.
func (c *Config) LangFor(scope Scope) string {
	for _, sc := range c.Scopes {
		if sc.Region == scope.Region && sc.Industry == scope.Industry && sc.Lang != "" {
			return i18n.Normalize(sc.Lang)
		}
	}
	if c.Lang != "" {
		return i18n.Normalize(c.Lang)
	}
	return i18n.ZH
}

// Validate reports every problem of the "digest" section by its key relative to the section.
func (c Config) Validate() error {
	var p confkit.Problems
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		p.Add("schedule", "%q is not a 5-field cron spec: %v", c.Schedule, err)
	} else if strings.Contains(c.Schedule, "TZ=") {
		p.Add("schedule", "set the zone with digest.timezone, not CRON_TZ/TZ in the spec")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		p.Add("timezone", "%q is not an IANA time zone (e.g. Asia/Shanghai)", c.Timezone)
	}
	for i, r := range c.Recipients {
		digestAddr(&p, fmt.Sprintf("recipients[%d]", i), r)
	}
	seen := map[string]int{}
	for i, s := range c.Scopes {
		k := fmt.Sprintf("scopes[%d]", i)
		id := s.Region + "\x1f" + s.Industry
		if j, dup := seen[id]; dup {
			p.Add(k, "region %q × industry %q repeats digest.scopes[%d]", s.Region, s.Industry, j)
		}
		seen[id] = i
		for j, r := range s.Recipients {
			digestAddr(&p, fmt.Sprintf("%s.recipients[%d]", k, j), r)
		}
		digestLang(&p, k+".lang", s.Lang)
	}
	if len(c.Formats) == 0 {
		p.Add("formats", "at least one of %s", strings.Join(Formats, ", "))
	}
	for i, f := range c.Formats {
		p.OneOf(fmt.Sprintf("formats[%d]", i), f, Formats...)
	}
	if c.TopN < 1 || c.TopN > 200 {
		p.Add("top_n", "must be in 1..200, got %d", c.TopN)
	}
	if !(c.RisingMinDelta >= 0 && c.RisingMinDelta <= 100) {
		p.Add("rising_min_delta", "must be in [0, 100] score points, got %v", c.RisingMinDelta)
	}
	p.Duration("stale_after", c.StaleAfter)
	for _, t := range slices.Sorted(maps.Keys(c.StaleAfterByTable)) {
		p.Duration("stale_after_by_table."+t, c.StaleAfterByTable[t])
	}
	digestLang(&p, "lang", c.Lang)
	p.Duration("timeout", c.Timeout)
	return p.Err()
}

// StaleAfterFor returns the staleness threshold of an event table.
func (c *Config) StaleAfterFor(table string) time.Duration {
	if d, ok := c.StaleAfterByTable[table]; ok && d > 0 {
		return d
	}
	return c.StaleAfter
}

// digestLang reports a language other than zh-CN or en (and their spellings, see i18n.Parse).
func digestLang(p *confkit.Problems, key, lang string) {
	if _, err := i18n.Parse(lang); err != nil {
		p.Add(key, "%q is not a digest language: want %s", lang, strings.Join(i18n.Langs(), " or "))
	}
}

func digestAddr(p *confkit.Problems, key, addr string) {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		p.Add(key, "%q is not an e-mail address: %v", addr, err)
		return
	}
	if a.Name != "" {
		p.Add(key, "%q: give the bare address (%s)", addr, a.Address)
	}
}
