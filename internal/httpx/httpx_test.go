package httpx

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

func fastOpts() Options {
	return Options{Name: "test", Version: "1.2.3", Timeout: 5 * time.Second, RetryMax: 4,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
}

func TestUserAgentAndHeaders(t *testing.T) {
	var ua, key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua, key = r.UserAgent(), r.Header.Get("X-Key")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	o := fastOpts()
	o.Header = http.Header{"X-Key": {"k1"}}
	resp, err := NewStandard(o).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ua != "chainwatch/1.2.3" || key != "k1" {
		t.Fatalf("User-Agent %q, X-Key %q", ua, key)
	}
}

func TestRetriesOn429And503(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 3:
			w.Header().Set("Retry-After", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusBadGateway)
		default:
			io.WriteString(w, "done")
		}
	}))
	defer srv.Close()
	resp, err := NewStandard(fastOpts()).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "done" || n.Load() != 4 {
		t.Fatalf("body %q after %d attempts", b, n.Load())
	}
}

func TestGivesUpNamingLastStatus(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	o := fastOpts()
	o.RetryMax = 2
	req, _ := retryablehttp.NewRequest(http.MethodGet, srv.URL+"/x?subscription-key=secret", nil)
	_, err := New(o).Do(req)
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempt(s): last status 500") || n.Load() != 3 {
		t.Fatalf("err %v after %d attempts", err, n.Load())
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the query: %v", err)
	}
}

func TestNoRetryOn404(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	resp, err := NewStandard(fastOpts()).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || n.Load() != 1 {
		t.Fatalf("status %d after %d attempts", resp.StatusCode, n.Load())
	}
}

func TestBackoffHonoursRetryAfter(t *testing.T) {
	b := Backoff(time.Minute, 0)
	mk := func(code int, ra string) *http.Response {
		r := &http.Response{StatusCode: code, Header: http.Header{}}
		if ra != "" {
			r.Header.Set("Retry-After", ra)
		}
		return r
	}
	cases := []struct {
		name string
		resp *http.Response
		att  int
		want time.Duration
	}{
		{"seconds on 429", mk(429, "7"), 0, 7 * time.Second},
		{"seconds on 503", mk(503, "3"), 2, 3 * time.Second},
		{"capped", mk(429, "86400"), 0, time.Minute},
		{"exponential 0", mk(500, ""), 0, time.Second},
		{"exponential 3", mk(500, ""), 3, 8 * time.Second},
		{"exponential capped", mk(500, ""), 10, 30 * time.Second},
		{"connection error", nil, 1, 2 * time.Second},
		{"bad header ignored", mk(429, "soon"), 1, 2 * time.Second},
	}
	for _, c := range cases {
		if got := b(time.Second, 30*time.Second, c.att, c.resp); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	// HTTP date.
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if d, ok := RetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); !ok || d != 90*time.Second {
		t.Errorf("HTTP date: %s %v", d, ok)
	}
	if d, ok := RetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now); !ok || d != 0 {
		t.Errorf("RFC 850 date in the past: %s %v", d, ok)
	}
	if _, ok := RetryAfter("-1", now); ok {
		t.Error("negative seconds accepted")
	}
}

func TestRateLimitAppliesToEveryAttempt(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	// One token, refilled once an hour: the first request passes, the second cannot get a token
	// before its deadline and fails without reaching the server.
	tr := &RateLimitedTransport{Next: http.DefaultTransport, Limiter: rate.NewLimiter(rate.Every(time.Hour), 1)}
	c := &http.Client{Transport: tr}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Fatalf("second request: %v", err)
	}
	if n.Load() != 1 {
		t.Fatalf("server saw %d requests", n.Load())
	}
	// Options wires the limiter in.
	o := fastOpts()
	o.RatePerSecond, o.Burst = 1000, 5
	if _, ok := New(o).HTTPClient.Transport.(*RateLimitedTransport); !ok {
		t.Fatal("New did not install the rate limiter")
	}
}

func TestHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	o := fastOpts()
	o.Timeout, o.RetryMax = 50*time.Millisecond, -1
	_, err := NewStandard(o).Get(srv.URL)
	if err == nil {
		t.Fatal("no timeout")
	}
}

func TestStalledBodyTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 10))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	o := fastOpts()
	o.Timeout = 100 * time.Millisecond
	resp, err := NewStandard(o).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("stalled body did not time out")
	}
}

func TestLoggerAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	var _ retryablehttp.LeveledLogger = l
	l.Error("request failed", "url", "u")
	l.Debug("performing request")
	out := buf.String()
	if !strings.Contains(out, "level=WARN msg=\"request failed\" url=u") || !strings.Contains(out, "level=DEBUG") {
		t.Fatalf("log output: %s", out)
	}
}
