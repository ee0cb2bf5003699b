// Package httpx builds the one kind of HTTP client chainwatch's collectors use: a
// hashicorp/go-retryablehttp client with per-attempt timeouts, exponential backoff on connection
// errors, 429 and 5xx that honours Retry-After (seconds or an HTTP date), a per-source rate limit,
// a "chainwatch/<version>" User-Agent and log/slog logging.
package httpx

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// Options configures New. Zero values take the defaults noted per field.
type Options struct {
	// Name identifies the source in logs (e.g. "comtrade").
	Name string
	// Version goes into the User-Agent "chainwatch/<version>" (default "dev").
	Version string
	// Timeout bounds one attempt until the response headers arrive, and then every pause while
	// the body is read (default 60s). A long download that keeps flowing is never cut off.
	Timeout time.Duration
	// RetryMax is the number of retries after the first attempt (default 5; negative = none).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff (defaults 1s and 60s).
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter caps a server's Retry-After (default 5m): a longer one gives up the retry wait
	// at the cap instead of stalling a collector for hours.
	MaxRetryAfter time.Duration
	// RatePerSecond limits attempts (retries included) of this client; 0 = unlimited.
	RatePerSecond float64
	// Burst is the limiter's bucket size (default 1).
	Burst int
	// Header is added to every request (API keys, Accept, ...). Values set on a request win.
	Header http.Header
	// Logger receives retryablehttp's messages (default: discard).
	Logger *slog.Logger
	// Transport is the underlying transport (default: a pooled cleanhttp transport).
	Transport http.RoundTripper
	// Jitter, if set, adds up to this fraction (0..1) of random jitter to computed backoffs.
	Jitter float64
}

func (o *Options) defaults() {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 5
	} else if o.RetryMax < 0 {
		o.RetryMax = 0
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = time.Second
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = time.Minute
	}
	if o.RetryWaitMax < o.RetryWaitMin {
		o.RetryWaitMax = o.RetryWaitMin
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 5 * time.Minute
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	if o.Transport == nil {
		o.Transport = cleanhttp.DefaultPooledTransport()
	}
}

// UserAgent returns "chainwatch/<version>".
func UserAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "chainwatch/" + version
}

// New returns a retrying client. Use it directly (retryablehttp.NewRequestWithContext + Do) or
// through StandardClient().
func New(o Options) *retryablehttp.Client {
	o.defaults()
	var rt http.RoundTripper = &timeoutTransport{next: o.Transport, timeout: o.Timeout}
	rt = &headerTransport{next: rt, ua: UserAgent(o.Version), header: o.Header}
	if o.RatePerSecond > 0 {
		rt = &RateLimitedTransport{Next: rt, Limiter: rate.NewLimiter(rate.Limit(o.RatePerSecond), o.Burst)}
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: rt}
	c.RetryMax = o.RetryMax
	c.RetryWaitMin = o.RetryWaitMin
	c.RetryWaitMax = o.RetryWaitMax
	c.Backoff = Backoff(o.MaxRetryAfter, o.Jitter)
	c.CheckRetry = retryablehttp.DefaultRetryPolicy
	c.ErrorHandler = giveUp
	if o.Logger != nil {
		c.Logger = NewLogger(o.Logger.With("http_client", o.Name))
	} else {
		c.Logger = nil
	}
	return c
}

// NewStandard is New(o).StandardClient(): a *http.Client whose Do retries.
func NewStandard(o Options) *http.Client { return New(o).StandardClient() }

// giveUp is the ErrorHandler after the last attempt: it closes the body and names the last status.
func giveUp(resp *http.Response, err error, tries int) (*http.Response, error) {
	if resp != nil {
		status := resp.Status
		resp.Body.Close()
		if err == nil {
			return nil, fmt.Errorf("%s %s: giving up after %d attempt(s): last status %s", resp.Request.Method,
				redact(resp.Request), tries, status)
		}
		return nil, fmt.Errorf("giving up after %d attempt(s): last status %s: %w", tries, status, err)
	}
	return nil, fmt.Errorf("giving up after %d attempt(s): %w", tries, err)
}

func redact(r *http.Request) string {
	if r == nil || r.URL == nil {
		return ""
	}
	u := *r.URL
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

// Backoff returns a retryablehttp.Backoff: for 429 and 5xx responses with a Retry-After header
// (delta-seconds or an HTTP date) it waits that long, capped at maxRetryAfter; otherwise it waits
// min·2^attempt capped at max, plus up to jitter·wait of random jitter.
func Backoff(maxRetryAfter time.Duration, jitter float64) retryablehttp.Backoff {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
			if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				if d > maxRetryAfter {
					d = maxRetryAfter
				}
				return d
			}
		}
		wait := max
		if attempt < 62 {
			if w := min << uint(attempt); w > 0 && w < max {
				wait = w
			}
		}
		if jitter > 0 {
			wait += time.Duration(rand.Float64() * jitter * float64(wait))
		}
		return wait
	}
}

// RetryAfter parses a Retry-After value: delta-seconds or an HTTP date (RFC 1123, RFC 850, ANSI C).
// A date in the past gives 0.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(365*24*time.Hour/time.Second) {
			n = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// RateLimitedTransport waits on Limiter before every round trip (so retries are limited too).
type RateLimitedTransport struct {
	Next    http.RoundTripper
	Limiter *rate.Limiter
}

// RoundTrip implements http.RoundTripper.
func (t *RateLimitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.Limiter.Wait(req.Context()); err != nil {
		return nil, fmt.Errorf("rate limit: %w", err)
	}
	return t.Next.RoundTrip(req)
}

type headerTransport struct {
	next   http.RoundTripper
	ua     string
	header http.Header
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Header.Get("User-Agent") == "" || strings.HasPrefix(r.Header.Get("User-Agent"), "Go-http-client") {
		r.Header.Set("User-Agent", t.ua)
	}
	for k, vs := range t.header {
		if r.Header.Get(k) == "" {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
	}
	return t.next.RoundTrip(r)
}

// Logger adapts *slog.Logger to retryablehttp.LeveledLogger. retryablehttp reports every failed
// attempt at Error; those are logged at Warn (the caller decides whether the final failure is an
// error).
type Logger struct{ l *slog.Logger }

// NewLogger wraps l.
func NewLogger(l *slog.Logger) *Logger { return &Logger{l: l} }

var _ retryablehttp.LeveledLogger = (*Logger)(nil)

func (a *Logger) Error(msg string, kv ...any) {
	a.l.Log(context.Background(), slog.LevelWarn, msg, kv...)
}
func (a *Logger) Warn(msg string, kv ...any) {
	a.l.Log(context.Background(), slog.LevelWarn, msg, kv...)
}
func (a *Logger) Info(msg string, kv ...any) {
	a.l.Log(context.Background(), slog.LevelInfo, msg, kv...)
}
func (a *Logger) Debug(msg string, kv ...any) {
	a.l.Log(context.Background(), slog.LevelDebug, msg, kv...)
}

// timeoutTransport cancels an attempt when the headers take longer than timeout, or when a body
// read stalls for longer than timeout.
type timeoutTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.timeout, func() {
		cancel(fmt.Errorf("httpx: no response or body data within %s", t.timeout))
	})
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		if cause := context.Cause(ctx); cause != nil && req.Context().Err() == nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		cancel(nil)
		return nil, err
	}
	timer.Reset(t.timeout)
	resp.Body = &idleBody{ReadCloser: resp.Body, timer: timer, timeout: t.timeout, cancel: cancel, ctx: ctx}
	return resp, nil
}

type idleBody struct {
	io.ReadCloser
	timer   *time.Timer
	timeout time.Duration
	cancel  context.CancelCauseFunc
	ctx     context.Context
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.timer.Reset(b.timeout)
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); cause != nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}
