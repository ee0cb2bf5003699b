package collectors

import (
	"net/url"
	"regexp"
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// Config is the "collectors" section: shared HTTP behaviour, batching, and the scheduled sources
// (Comtrade API, OCDS URLs, availability feeds, the Mouser, Nexar and DigiKey APIs). File imports (chainwatch import) use BatchSize,
// HomeCountry and ProgressInterval. Each source's own section sits next to its code. See
// docs/collectors.md.
type Config struct {
	// BatchSize is how many envelopes (and rejects) a collector hands to the Emitter per call.
	BatchSize int `koanf:"batch_size"`
	// HomeCountry (ISO alpha-3) marks suppliers of that country as domestic when a supply map
	// row does not say; empty disables the default.
	HomeCountry string `koanf:"home_country"`
	// ProgressInterval is how often a file import logs progress when stdout is not a terminal.
	ProgressInterval time.Duration `koanf:"progress_interval"`

	HTTP         HTTPConfig         `koanf:"http"`
	Comtrade     ComtradeConfig     `koanf:"comtrade"`
	Procurement  ProcurementConfig  `koanf:"procurement"`
	Availability AvailabilityConfig `koanf:"availability"`
	Mouser       MouserConfig       `koanf:"mouser"`
	Nexar        NexarConfig        `koanf:"nexar"`
	DigiKey      DigiKeyConfig      `koanf:"digikey"`
}

// HTTPConfig is shared by every HTTP source (internal/httpx).
type HTTPConfig struct {
	Timeout       time.Duration `koanf:"timeout"`         // one attempt, headers and body
	RetryMax      int           `koanf:"retry_max"`       // retries after the first attempt
	RetryWaitMin  time.Duration `koanf:"retry_wait_min"`  // first backoff
	RetryWaitMax  time.Duration `koanf:"retry_wait_max"`  // backoff cap
	MaxRetryAfter time.Duration `koanf:"max_retry_after"` // cap on a server's Retry-After
}

// DefaultConfig returns the section's defaults.
func DefaultConfig() Config {
	return Config{
		BatchSize:        2000,
		HomeCountry:      "CHN",
		ProgressInterval: 10 * time.Second,
		HTTP:             DefaultHTTPConfig(),
		Comtrade:         DefaultComtradeConfig(),
		Procurement:      DefaultProcurementConfig(),
		Availability:     DefaultAvailabilityConfig(),
		Mouser:           DefaultMouserConfig(),
		Nexar:            DefaultNexarConfig(),
		DigiKey:          DefaultDigiKeyConfig(),
	}
}

// DefaultHTTPConfig returns the defaults of collectors.http.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Timeout: 60 * time.Second, RetryMax: 5, RetryWaitMin: time.Second,
		RetryWaitMax: time.Minute, MaxRetryAfter: 5 * time.Minute}
}

var cfgISO3Re = regexp.MustCompile(`^[A-Z]{3}$`)

// Validate reports every problem, keyed relative to the section ("comtrade.hs_codes[1]").
func (c Config) Validate() error {
	var p confkit.Problems
	p.Positive("batch_size", c.BatchSize)
	if c.HomeCountry != "" && !cfgISO3Re.MatchString(c.HomeCountry) {
		p.Add("home_country", "%q is not an ISO 3166 alpha-3 code", c.HomeCountry)
	}
	p.Duration("progress_interval", c.ProgressInterval)
	p.Merge("http", c.HTTP.Validate())
	p.Merge("comtrade", c.Comtrade.Validate())
	p.Merge("procurement", c.Procurement.Validate())
	p.Merge("availability", c.Availability.Validate())
	p.Merge("mouser", c.Mouser.Validate())
	p.Merge("nexar", c.Nexar.Validate())
	p.Merge("digikey", c.DigiKey.Validate())
	return p.Err()
}

// Validate reports the problems of collectors.http.
func (h HTTPConfig) Validate() error {
	var p confkit.Problems
	p.Duration("timeout", h.Timeout)
	if h.RetryMax < 0 {
		p.Add("retry_max", "must be >= 0, got %d", h.RetryMax)
	}
	p.Duration("retry_wait_min", h.RetryWaitMin)
	p.Duration("retry_wait_max", h.RetryWaitMax)
	if h.RetryWaitMax < h.RetryWaitMin {
		p.Add("retry_wait_max", "must be >= collectors.http.retry_wait_min (%s)", h.RetryWaitMin)
	}
	p.Duration("max_retry_after", h.MaxRetryAfter)
	return p.Err()
}

// ResolveSecrets reads the *_file secrets of the section. Its problems are keyed relative to
// the section, like Validate's.
func (c *Config) ResolveSecrets() error {
	var p confkit.Problems
	p.Merge("comtrade", c.Comtrade.ResolveSecrets())
	p.Merge("availability", c.Availability.ResolveSecrets())
	p.Merge("mouser", c.Mouser.ResolveSecrets())
	p.Merge("nexar", c.Nexar.ResolveSecrets())
	p.Merge("digikey", c.DigiKey.ResolveSecrets())
	return p.Err()
}

// secretFromFile sets *s from file (when set) like confkit.SecretFromFile, reporting a failure
// as a problem of key.
func secretFromFile(key string, s *confkit.Secret, file string) error {
	if file == "" {
		return nil
	}
	v, err := confkit.ReadSecretFile(file)
	*s = v
	if err != nil {
		var p confkit.Problems
		p.Merge(key, err)
		return p.Err()
	}
	return nil
}

// rateProblems checks a source's rate limit.
func rateProblems(p *confkit.Problems, perSecond float64, burst int) {
	if !(perSecond > 0) {
		p.Add("rate_per_second", "must be > 0, got %v", perSecond)
	}
	p.Positive("burst", burst)
}

func httpURLProblem(p *confkit.Problems, key, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add(key, "%q is not an http(s) URL", raw)
	}
}
