package collectors

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/internal/httpx"
)

// Deps are the collaborators of collectors. Zero values get defaults.
type Deps struct {
	Logger    *slog.Logger     // default: discard
	Version   string           // User-Agent chainwatch/<version>; default "dev"
	Now       func() time.Time // default time.Now
	Countries *m49.Table       // default: the embedded table
	BatchSize int              // default DefaultBatchSize
	// Transport is the HTTP transport under the retrying clients (tests point it at httptest).
	Transport http.RoundTripper
	// HTTP configures the retrying clients (zero = httpx defaults).
	HTTP HTTPConfig
}

func (d Deps) withDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Countries == nil {
		d.Countries = m49.MustNew()
	}
	if d.BatchSize <= 0 {
		d.BatchSize = DefaultBatchSize
	}
	return d
}

// httpClient builds the retrying client of one source.
func (d Deps) httpClient(name string, perSecond float64, burst int, header http.Header) *retryablehttp.Client {
	return httpx.New(httpx.Options{
		Name: name, Version: d.Version, Timeout: d.HTTP.Timeout, RetryMax: d.HTTP.RetryMax,
		RetryWaitMin: d.HTTP.RetryWaitMin, RetryWaitMax: d.HTTP.RetryWaitMax, MaxRetryAfter: d.HTTP.MaxRetryAfter,
		RatePerSecond: perSecond, Burst: burst, Header: header, Logger: d.Logger, Transport: d.Transport, Jitter: 0.1,
	})
}

// Registry is the explicit list of scheduled collectors built from the configuration.
type Registry struct {
	entries []Scheduled
}

// NewRegistry builds every enabled scheduled collector of cfg (Comtrade API, OCDS URLs,
// availability feeds). d.BatchSize and d.HTTP default to cfg's values.
func NewRegistry(cfg Config, d Deps) (*Registry, error) {
	if d.BatchSize <= 0 {
		d.BatchSize = cfg.BatchSize
	}
	if d.HTTP == (HTTPConfig{}) {
		d.HTTP = cfg.HTTP
	}
	d = d.withDefaults()
	r := &Registry{}
	if cfg.Comtrade.Enabled {
		c, err := NewComtradeAPI(cfg.Comtrade, d.httpClient("comtrade", cfg.Comtrade.RatePerSecond, cfg.Comtrade.Burst, nil), d)
		if err != nil {
			return nil, err
		}
		if _, err := c.plan(); err != nil {
			return nil, err
		}
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: cfg.Comtrade.Interval})
	}
	if cfg.Procurement.Enabled {
		p := cfg.Procurement
		c := NewOCDSFeed(p.Source, p.URLs, d.httpClient("procurement", p.RatePerSecond, p.Burst, nil), d)
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: p.Interval})
	}
	if cfg.Availability.Enabled {
		a := cfg.Availability
		var h http.Header
		if a.APIKey != "" {
			h = http.Header{a.APIKeyHeader: {a.APIKey.Reveal()}}
		}
		c := NewAvailabilityFeed(AvailabilityFeedOptions{Source: a.Source, URLs: a.URLs, Dir: a.Dir,
			Distributor: a.Distributor}, d.httpClient("availability", a.RatePerSecond, a.Burst, h), d)
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: a.Interval})
	}
	return r, nil
}

// Scheduled returns the collectors with their intervals, for Schedule.
func (r *Registry) Scheduled() []Scheduled { return append([]Scheduled(nil), r.entries...) }

// Lookup returns the collector called name (for `chainwatch collect <name>`).
func (r *Registry) Lookup(name string) (Collector, error) {
	for _, e := range r.entries {
		if e.Collector.Name() == name {
			return e.Collector, nil
		}
	}
	return nil, fmt.Errorf("collectors: no enabled collector %q (enabled: %v)", name, r.Names())
}

// Names lists the enabled collectors, sorted.
func (r *Registry) Names() []string {
	var out []string
	for _, e := range r.entries {
		out = append(out, e.Collector.Name())
	}
	sort.Strings(out)
	return out
}
