package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/internal/confkit"
)

// conditionalGet remembers the ETag and Last-Modified of each URL and asks with If-None-Match /
// If-Modified-Since, so an unchanged feed costs one 304 and nothing is re-emitted.
type conditionalGet struct {
	client *retryablehttp.Client
	mu     sync.Mutex
	state  map[string]validators
}

type validators struct{ etag, lastModified string }

func newConditionalGet(c *retryablehttp.Client) *conditionalGet {
	return &conditionalGet{client: c, state: map[string]validators{}}
}

// errNotModified reports a 304.
var errNotModified = errors.New("not modified")

// get fetches url. On 304 it returns errNotModified. The caller must call commit after the body
// was processed successfully, so a failed run asks again next time.
func (g *conditionalGet) get(ctx context.Context, url string) (*http.Response, func(), error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	g.mu.Lock()
	v := g.state[url]
	g.mu.Unlock()
	if v.etag != "" {
		req.Header.Set("If-None-Match", v.etag)
	}
	if v.lastModified != "" {
		req.Header.Set("If-Modified-Since", v.lastModified)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		resp.Body.Close()
		return nil, nil, errNotModified
	case resp.StatusCode != http.StatusOK:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		resp.Body.Close()
		return nil, nil, fmt.Errorf("GET %s: HTTP %s: %s", redactedURL(url), resp.Status, b)
	}
	nv := validators{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
	commit := func() {
		g.mu.Lock()
		g.state[url] = nv
		g.mu.Unlock()
	}
	return resp, commit, nil
}

// OCDSFeed polls OCDS packages or JSON Lines at URLs (conditional GET; an unchanged URL is skipped).
type OCDSFeed struct {
	source    string
	urls      []string
	get       *conditionalGet
	countries *m49.Table
	log       *slog.Logger
	now       func() time.Time
	batch     int
}

// NewOCDSFeed builds the procurement collector; client should come from internal/httpx.
func NewOCDSFeed(source string, urls []string, client *retryablehttp.Client, d Deps) *OCDSFeed {
	d = d.withDefaults()
	if source == "" {
		source = SourceOCDS
	}
	return &OCDSFeed{source: source, urls: urls, get: newConditionalGet(client), countries: d.Countries,
		log: d.Logger.With("collector", "procurement"), now: d.Now, batch: d.BatchSize}
}

// Name implements Collector.
func (f *OCDSFeed) Name() string { return "procurement" }

// Run implements Collector.
func (f *OCDSFeed) Run(ctx context.Context, em Emitter) (Stats, error) {
	var total Stats
	var errs []error
	for _, u := range f.urls {
		resp, commit, err := f.get.get(ctx, u)
		if errors.Is(err, errNotModified) {
			f.log.Debug("feed not modified", "url", redactedURL(u))
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t := target{ctx: ctx, em: em, now: f.now(), size: f.batch}
		st, err := t.drain(f.source, func() (io.ReadCloser, error) { return resp.Body, nil }, func(o *out, r io.Reader) error {
			return importOCDS(o, r, redactedURL(u), f.countries)
		})
		total.Add(st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		commit()
	}
	return total, errors.Join(errs...)
}

// ProcurementConfig (collectors.procurement) polls OCDS release/record packages or JSON Lines at
// URLs (OCDSFeed).
type ProcurementConfig struct {
	Enabled       bool          `koanf:"enabled"`
	Interval      time.Duration `koanf:"interval"`
	URLs          []string      `koanf:"urls"`
	Source        string        `koanf:"source"`
	RatePerSecond float64       `koanf:"rate_per_second"`
	Burst         int           `koanf:"burst"`
}

// DefaultProcurementConfig returns the defaults of collectors.procurement (disabled).
func DefaultProcurementConfig() ProcurementConfig {
	return ProcurementConfig{Interval: 6 * time.Hour, Source: "ocds", RatePerSecond: 2, Burst: 2}
}

// Validate reports the problems of collectors.procurement, keyed relative to it.
func (pr ProcurementConfig) Validate() error {
	var p confkit.Problems
	if pr.Enabled {
		p.Duration("interval", pr.Interval)
		if len(pr.URLs) == 0 {
			p.Add("urls", "at least one URL is required when collectors.procurement.enabled")
		}
		p.Required("source", pr.Source)
		rateProblems(&p, pr.RatePerSecond, pr.Burst)
	}
	for i, u := range pr.URLs {
		httpURLProblem(&p, fmt.Sprintf("urls[%d]", i), u)
	}
	return p.Err()
}
