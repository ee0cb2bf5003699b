package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// CollectorsConfig is the "collectors" section: shared HTTP behaviour, batching, and the
// scheduled sources (Comtrade API, OCDS URLs, availability feeds). File imports (chainwatch import)
// use BatchSize, HomeCountry and ProgressInterval. See docs/collectors.md.
type CollectorsConfig struct {
	// BatchSize is how many envelopes (and rejects) a collector hands to the Emitter per call.
	BatchSize int `koanf:"batch_size"`
	// HomeCountry (ISO alpha-3) marks suppliers of that country as domestic when a supply map
	// row does not say; empty disables the default.
	HomeCountry string `koanf:"home_country"`
	// ProgressInterval is how often a file import logs progress when stdout is not a terminal.
	ProgressInterval time.Duration `koanf:"progress_interval"`

	HTTP         CollectorHTTPConfig `koanf:"http"`
	Comtrade     ComtradeConfig      `koanf:"comtrade"`
	Procurement  ProcurementConfig   `koanf:"procurement"`
	Availability AvailabilityConfig  `koanf:"availability"`
}

// CollectorHTTPConfig is shared by every HTTP source (internal/httpx).
type CollectorHTTPConfig struct {
	Timeout       time.Duration `koanf:"timeout"`         // one attempt, headers and body
	RetryMax      int           `koanf:"retry_max"`       // retries after the first attempt
	RetryWaitMin  time.Duration `koanf:"retry_wait_min"`  // first backoff
	RetryWaitMax  time.Duration `koanf:"retry_wait_max"`  // backoff cap
	MaxRetryAfter time.Duration `koanf:"max_retry_after"` // cap on a server's Retry-After
}

// ComtradeConfig drives the UN Comtrade API v1 collector (/data/v1/get/{type}/{freq}/{cl}).
type ComtradeConfig struct {
	Enabled             bool          `koanf:"enabled"`
	Interval            time.Duration `koanf:"interval"`
	Endpoint            string        `koanf:"endpoint"`
	SubscriptionKey     Secret        `koanf:"subscription_key"`
	SubscriptionKeyFile string        `koanf:"subscription_key_file"`
	TypeCode            string        `koanf:"type_code"` // C goods, S services
	FreqCode            string        `koanf:"freq_code"` // A annual, M monthly
	ClCode              string        `koanf:"cl_code"`   // HS, H0..H6
	Reporters           []string      `koanf:"reporters"` // M49 codes or ISO alpha-3
	Partners            []string      `koanf:"partners"`  // M49 codes or ISO alpha-3; "0" = World; empty = all
	HSCodes             []string      `koanf:"hs_codes"`  // 2, 4 or 6 digits
	Flows               []string      `koanf:"flows"`     // M, X, RM, RX
	Periods             []string      `koanf:"periods"`   // YYYY, YYYYMM or a range YYYY-YYYY
	MaxRecords          int           `koanf:"max_records"`
	ReportersPerRequest int           `koanf:"reporters_per_request"`
	PeriodsPerRequest   int           `koanf:"periods_per_request"`
	TotalsOnly          bool          `koanf:"totals_only"` // partner2Code=0, motCode=0, customsCode=C00
	RatePerSecond       float64       `koanf:"rate_per_second"`
	Burst               int           `koanf:"burst"`
}

// ProcurementConfig polls OCDS release/record packages or JSON Lines at URLs.
type ProcurementConfig struct {
	Enabled       bool          `koanf:"enabled"`
	Interval      time.Duration `koanf:"interval"`
	URLs          []string      `koanf:"urls"`
	Source        string        `koanf:"source"`
	RatePerSecond float64       `koanf:"rate_per_second"`
	Burst         int           `koanf:"burst"`
}

// AvailabilityConfig polls component availability feeds (CSV or JSON Lines) over HTTP with
// ETag / If-Modified-Since, and/or watches a directory for new or changed files.
type AvailabilityConfig struct {
	Enabled       bool          `koanf:"enabled"`
	Interval      time.Duration `koanf:"interval"`
	URLs          []string      `koanf:"urls"`
	Dir           string        `koanf:"dir"`
	Source        string        `koanf:"source"`
	Distributor   string        `koanf:"distributor"` // used when a feed has no distributor column
	APIKey        Secret        `koanf:"api_key"`
	APIKeyFile    string        `koanf:"api_key_file"`
	APIKeyHeader  string        `koanf:"api_key_header"`
	RatePerSecond float64       `koanf:"rate_per_second"`
	Burst         int           `koanf:"burst"`
}

func defaultCollectors() CollectorsConfig {
	return CollectorsConfig{
		BatchSize:        2000,
		HomeCountry:      "CHN",
		ProgressInterval: 10 * time.Second,
		HTTP: CollectorHTTPConfig{Timeout: 60 * time.Second, RetryMax: 5, RetryWaitMin: time.Second,
			RetryWaitMax: time.Minute, MaxRetryAfter: 5 * time.Minute},
		Comtrade: ComtradeConfig{
			Interval: 24 * time.Hour, Endpoint: "https://comtradeapi.un.org", TypeCode: "C", FreqCode: "A",
			ClCode: "HS", Flows: []string{"M", "X"}, MaxRecords: 100000, ReportersPerRequest: 5,
			PeriodsPerRequest: 5, TotalsOnly: true, RatePerSecond: 1, Burst: 1,
		},
		Procurement:  ProcurementConfig{Interval: 6 * time.Hour, Source: "ocds", RatePerSecond: 2, Burst: 2},
		Availability: AvailabilityConfig{Interval: 15 * time.Minute, Source: "availability", RatePerSecond: 2, Burst: 2},
	}
}

var (
	cfgISO3Re   = regexp.MustCompile(`^[A-Z]{3}$`)
	cfgM49Re    = regexp.MustCompile(`^[0-9]{1,3}$`)
	cfgHSRe     = regexp.MustCompile(`^([0-9]{2}|[0-9]{4}|[0-9]{6})$`)
	cfgPeriodRe = regexp.MustCompile(`^([0-9]{4}|[0-9]{6}|[0-9]{4}-[0-9]{4})$`)
	cfgClRe     = regexp.MustCompile(`^(HS|H[0-6])$`)
)

func (c *CollectorsConfig) validate(p *problems) {
	const s = "collectors."
	p.positive(s+"batch_size", c.BatchSize)
	if c.HomeCountry != "" && !cfgISO3Re.MatchString(c.HomeCountry) {
		p.add(s+"home_country", "%q is not an ISO 3166 alpha-3 code", c.HomeCountry)
	}
	p.duration(s+"progress_interval", c.ProgressInterval)

	h := c.HTTP
	p.duration(s+"http.timeout", h.Timeout)
	if h.RetryMax < 0 {
		p.add(s+"http.retry_max", "must be >= 0, got %d", h.RetryMax)
	}
	p.duration(s+"http.retry_wait_min", h.RetryWaitMin)
	p.duration(s+"http.retry_wait_max", h.RetryWaitMax)
	if h.RetryWaitMax < h.RetryWaitMin {
		p.add(s+"http.retry_wait_max", "must be >= collectors.http.retry_wait_min (%s)", h.RetryWaitMin)
	}
	p.duration(s+"http.max_retry_after", h.MaxRetryAfter)

	ct := c.Comtrade
	const k = s + "comtrade."
	if ct.Enabled {
		p.duration(k+"interval", ct.Interval)
		httpURL(p, k+"endpoint", ct.Endpoint)
		if ct.SubscriptionKey == "" {
			p.add(k+"subscription_key", "required when collectors.comtrade.enabled (or set collectors.comtrade.subscription_key_file)")
		}
		p.oneOf(k+"type_code", ct.TypeCode, "C", "S")
		p.oneOf(k+"freq_code", ct.FreqCode, "A", "M")
		if !cfgClRe.MatchString(ct.ClCode) {
			p.add(k+"cl_code", "%q is not one of HS, H0..H6", ct.ClCode)
		}
		if len(ct.Reporters) == 0 {
			p.add(k+"reporters", "at least one reporter (M49 code or ISO alpha-3) is required")
		}
		if len(ct.HSCodes) == 0 {
			p.add(k+"hs_codes", "at least one HS code is required")
		}
		if len(ct.Periods) == 0 {
			p.add(k+"periods", "at least one period is required")
		}
		if len(ct.Flows) == 0 {
			p.add(k+"flows", "at least one flow is required")
		}
		p.positive(k+"reporters_per_request", ct.ReportersPerRequest)
		if ct.PeriodsPerRequest < 1 || ct.PeriodsPerRequest > 12 {
			p.add(k+"periods_per_request", "must be 1..12 (the API accepts at most 12 periods), got %d", ct.PeriodsPerRequest)
		}
		rate(p, k, ct.RatePerSecond, ct.Burst)
	}
	// List syntax is checked even when disabled: a typo should not wait for the day it is enabled.
	for i, r := range ct.Reporters {
		if !cfgM49Re.MatchString(r) && !cfgISO3Re.MatchString(r) {
			p.add(fmt.Sprintf("%sreporters[%d]", k, i), "%q is neither an M49 code nor an ISO alpha-3 code", r)
		}
	}
	for i, r := range ct.Partners {
		if !cfgM49Re.MatchString(r) && !cfgISO3Re.MatchString(r) {
			p.add(fmt.Sprintf("%spartners[%d]", k, i), "%q is neither an M49 code nor an ISO alpha-3 code", r)
		}
	}
	for i, h := range ct.HSCodes {
		if !cfgHSRe.MatchString(h) {
			p.add(fmt.Sprintf("%shs_codes[%d]", k, i), "%q is not a 2, 4 or 6 digit HS code", h)
		}
	}
	for i, f := range ct.Flows {
		p.oneOf(fmt.Sprintf("%sflows[%d]", k, i), f, "M", "X", "RM", "RX")
	}
	for i, per := range ct.Periods {
		if !cfgPeriodRe.MatchString(per) {
			p.add(fmt.Sprintf("%speriods[%d]", k, i), "%q is not YYYY, YYYYMM or YYYY-YYYY", per)
		} else if a, b, ok := strings.Cut(per, "-"); ok && a > b {
			p.add(fmt.Sprintf("%speriods[%d]", k, i), "range %q runs backwards", per)
		}
	}
	if ct.MaxRecords < 1 || ct.MaxRecords > 250000 {
		p.add(k+"max_records", "must be 1..250000, got %d", ct.MaxRecords)
	}

	pr := c.Procurement
	const pk = s + "procurement."
	if pr.Enabled {
		p.duration(pk+"interval", pr.Interval)
		if len(pr.URLs) == 0 {
			p.add(pk+"urls", "at least one URL is required when collectors.procurement.enabled")
		}
		p.required(pk+"source", pr.Source)
		rate(p, pk, pr.RatePerSecond, pr.Burst)
	}
	for i, u := range pr.URLs {
		httpURL(p, fmt.Sprintf("%surls[%d]", pk, i), u)
	}

	av := c.Availability
	const ak = s + "availability."
	if av.Enabled {
		p.duration(ak+"interval", av.Interval)
		if len(av.URLs) == 0 && strings.TrimSpace(av.Dir) == "" {
			p.add(ak+"urls", "at least one URL or collectors.availability.dir is required when collectors.availability.enabled")
		}
		p.required(ak+"source", av.Source)
		rate(p, ak, av.RatePerSecond, av.Burst)
	}
	for i, u := range av.URLs {
		httpURL(p, fmt.Sprintf("%surls[%d]", ak, i), u)
	}
	if av.APIKey != "" && strings.TrimSpace(av.APIKeyHeader) == "" {
		p.add(ak+"api_key_header", "required when collectors.availability.api_key is set")
	}
}

func rate(p *problems, prefix string, perSecond float64, burst int) {
	if !(perSecond > 0) {
		p.add(prefix+"rate_per_second", "must be > 0, got %v", perSecond)
	}
	p.positive(prefix+"burst", burst)
}

func httpURL(p *problems, key, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(key, "%q is not an http(s) URL", raw)
	}
}

func (c *CollectorsConfig) resolveSecrets() error {
	var errs []error
	if f := c.Comtrade.SubscriptionKeyFile; f != "" {
		s, err := ReadSecretFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("collectors.comtrade.subscription_key_file: %w", err))
		}
		c.Comtrade.SubscriptionKey = s
	}
	if f := c.Availability.APIKeyFile; f != "" {
		s, err := ReadSecretFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("collectors.availability.api_key_file: %w", err))
		}
		c.Availability.APIKey = s
	}
	return errors.Join(errs...)
}
