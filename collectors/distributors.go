package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/httpx"
)

// distributorAPI is what the scheduled distributor collectors (Mouser, Nexar, DigiKey) share: a
// rate-limited retrying client, the envelope source, the as_of resolution, and the reading of a
// response body through the availability reader (which recognises the vendor by its keys).
type distributorAPI struct {
	name      string
	source    string
	client    *retryablehttp.Client
	log       *slog.Logger
	now       func() time.Time
	batch     int
	asOfTrunc time.Duration
}

func newDistributorAPI(name, source string, asOfTrunc time.Duration, client *retryablehttp.Client, d Deps) distributorAPI {
	d = d.withDefaults()
	if source == "" {
		source = name
	}
	return distributorAPI{name: name, source: source, client: client, log: d.Logger.With("collector", name),
		now: d.Now, batch: d.BatchSize, asOfTrunc: asOfTrunc}
}

// Name implements Collector.
func (a *distributorAPI) Name() string { return a.name }

// run is the shape of every distributor Run: one request per chunk, each response read into the
// run's Stats (one duplicate set for the whole run); a failed request fails the run after the
// other chunks were tried.
func (a *distributorAPI) run(ctx context.Context, em Emitter, chunks [][]string,
	fetch func(ctx context.Context, chunk []string) (*http.Response, string, error)) (Stats, error) {
	var total Stats
	var errs []error
	seen := newEventSet()
	for _, chunk := range chunks {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		resp, loc, err := fetch(ctx, chunk)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
			continue
		}
		if resp == nil {
			continue // nothing to read (e.g. a part the distributor does not know)
		}
		st, err := a.read(ctx, em, seen, resp, loc)
		total.Add(st)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
		}
	}
	return total, errors.Join(errs...)
}

// read drains one response body. as_of is the response's Date (else now), truncated to the
// configured resolution, so the runs of one period collapse onto one snapshot per offer.
func (a *distributorAPI) read(ctx context.Context, em Emitter, seen *eventSet, resp *http.Response, loc string) (Stats, error) {
	defer resp.Body.Close()
	now := a.now()
	asOf := now
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		asOf = d
	}
	if a.asOfTrunc > 0 {
		asOf = asOf.UTC().Truncate(a.asOfTrunc)
	}
	t := target{ctx: ctx, em: em, now: now, size: a.batch, seen: seen}
	return t.drain(a.source, nil, func(o *out, _ io.Reader) error {
		return importAvailability(o, resp.Body, loc, availabilityConv{asOf: asOf.UTC()})
	})
}

// okOrError returns resp when it is 200, else the status as an error (body closed).
func okOrError(resp *http.Response) (*http.Response, error) {
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	return nil, httpx.StatusError(resp)
}

// withToken sends a request with a Bearer token from cc; on 401 it drops the token and tries once
// more with a fresh one.
func withToken(ctx context.Context, cc *httpx.ClientCredentials, send func(token string) (*http.Response, error)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := cc.Token(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := send(tok)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			resp.Body.Close()
			cc.Invalidate()
			continue
		}
		return resp, nil
	}
}

// chunkStrings splits items into groups of at most n.
func chunkStrings(items []string, n int) [][]string {
	var out [][]string
	for i := 0; i < len(items); i += n {
		out = append(out, items[i:min(i+n, len(items))])
	}
	return out
}

// distributorCommon are the keys every distributor section has (enabled, interval, endpoint,
// source, rate_per_second, burst, as_of_resolution).
type distributorCommon struct {
	Enabled        bool
	Interval       time.Duration
	Endpoint       string
	Source         string
	RatePerSecond  float64
	Burst          int
	AsOfResolution time.Duration
}

func (c distributorCommon) problems(p *confkit.Problems, parts []string, partsKey string) {
	if !c.Enabled {
		return
	}
	p.Duration("interval", c.Interval)
	httpURLProblem(p, "endpoint", c.Endpoint)
	p.Required("source", c.Source)
	rateProblems(p, c.RatePerSecond, c.Burst)
	if c.AsOfResolution < 0 {
		p.Add("as_of_resolution", "must be >= 0, got %s", c.AsOfResolution)
	}
	if len(parts) == 0 {
		p.Add(partsKey, "at least one part number is required when enabled")
	}
	for i, s := range parts {
		if strings.TrimSpace(s) == "" {
			p.Add(fmt.Sprintf("%s[%d]", partsKey, i), "empty part number")
		}
	}
}

// oauthClient builds the client-credentials token source of a distributor.
func oauthClient(tokenURL, id string, secret confkit.Secret, scope string, client *retryablehttp.Client) *httpx.ClientCredentials {
	return &httpx.ClientCredentials{TokenURL: tokenURL, ClientID: id, ClientSecret: secret.Reveal(), Scope: scope, Client: client}
}
