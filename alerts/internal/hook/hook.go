// Package hook is the retrying HTTP poster shared by the webhook integrations: a go-retryablehttp
// client from internal/httpx with exponential backoff (Retry-After honoured), retrying network
// errors, 429 and 5xx, never other 4xx; it classifies the final answer for the notifiers.
package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/internal/httpx"
)

// Client posts JSON with retries.
type Client struct {
	rc *retryablehttp.Client
}

// New builds a client from alerts.http on the shared factory (internal/httpx: per-attempt
// timeout, exponential backoff honouring Retry-After capped at retry_wait_max). hc, when not nil,
// supplies the transport. Logging goes through a scrubber: robot URLs carry their keys.
func New(cfg alerts.HTTPConfig, hc *http.Client, log *slog.Logger) *Client {
	retryMax := cfg.RetryMax
	if retryMax == 0 {
		retryMax = -1 // httpx: negative = no retries, 0 = its default
	}
	o := httpx.Options{Name: "alerts", Version: "alerts", Timeout: cfg.Timeout, RetryMax: retryMax,
		RetryWaitMin: cfg.RetryWaitMin, RetryWaitMax: cfg.RetryWaitMax, MaxRetryAfter: cfg.RetryWaitMax}
	if hc != nil && hc.Transport != nil {
		o.Transport = hc.Transport
	}
	rc := httpx.New(o)
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler // the last response is classified by Post
	if log != nil {
		rc.Logger = leveled{log.With("client", "webhook")}
	}
	return &Client{rc: rc}
}

// Config is alerts.http with sane values for zero fields (for callers without a full config).
func Config(cfg alerts.HTTPConfig) alerts.HTTPConfig {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = 500 * time.Millisecond
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = 20 * cfg.RetryWaitMin
	}
	return cfg
}

// Response is what the receiver answered.
type Response struct {
	Status int
	Body   []byte
}

// Post sends body to url with the headers. The error is an *alerts.NotifyError; retry says
// whether the caller may try again later (the client already retried).
func (c *Client) Post(ctx context.Context, url string, body []byte, header http.Header) (*Response, bool, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return nil, false, alerts.Errorf(alerts.ReasonOther, "build request: %w", redact(err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		reason := alerts.ReasonNetwork
		if errors.Is(err, context.DeadlineExceeded) {
			reason = alerts.ReasonTimeout
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			reason = alerts.ReasonTimeout
		}
		return nil, ctx.Err() == nil, alerts.Errorf(reason, "post: %w", redact(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := &Response{Status: resp.StatusCode, Body: b}
	switch {
	case resp.StatusCode/100 == 2:
		return r, false, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return r, true, alerts.Errorf(alerts.ReasonClientError, "receiver answered %s: %s", resp.Status, snippet(b))
	case resp.StatusCode/100 == 4:
		return r, false, alerts.Errorf(alerts.ReasonClientError, "receiver answered %s: %s", resp.Status, snippet(b))
	case resp.StatusCode/100 == 5:
		return r, true, alerts.Errorf(alerts.ReasonServerError, "receiver answered %s: %s", resp.Status, snippet(b))
	}
	return r, false, alerts.Errorf(alerts.ReasonOther, "receiver answered %s", resp.Status)
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// redact drops the URL (robot URLs carry their key) from *url.Error messages.
func redact(err error) error {
	var ue interface {
		Unwrap() error
		Timeout() bool
	}
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return fmt.Errorf("%w", inner)
		}
	}
	return err
}

type leveled struct{ l *slog.Logger }

func (l leveled) Error(msg string, kv ...any) { l.l.Warn(msg, scrub(kv)...) }
func (l leveled) Info(msg string, kv ...any)  { l.l.Debug(msg, scrub(kv)...) }
func (l leveled) Debug(msg string, kv ...any) { l.l.Debug(msg, scrub(kv)...) }
func (l leveled) Warn(msg string, kv ...any)  { l.l.Debug(msg, scrub(kv)...) }

// scrub hides URL values (they carry robot keys).
func scrub(kv []any) []any {
	out := make([]any, 0, len(kv))
	for i := 0; i < len(kv); i += 2 {
		if i+1 < len(kv) && (kv[i] == "url" || kv[i] == "request") {
			out = append(out, kv[i], "[redacted]")
			continue
		}
		if err, ok := kv[min(i+1, len(kv)-1)].(error); ok && i+1 < len(kv) {
			out = append(out, kv[i], redact(err).Error())
			continue
		}
		out = append(out, kv[i])
		if i+1 < len(kv) {
			out = append(out, kv[i+1])
		}
	}
	return out
}

// RobotResult checks a chat robot's JSON answer (HTTP 200 with an error code inside): the first
// of codeKeys present must be 0. A code in retryable (rate limits, "system busy") may be retried.
func RobotResult(r *Response, codeKeys []string, msgKeys []string, retryable map[int]bool) (bool, error) {
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return false, alerts.Errorf(alerts.ReasonRejected, "robot answered non-JSON: %s", snippet(r.Body))
	}
	for _, k := range codeKeys {
		v, ok := m[k].(float64)
		if !ok {
			continue
		}
		if v == 0 {
			return false, nil
		}
		msg := ""
		for _, mk := range msgKeys {
			if s, ok := m[mk].(string); ok {
				msg = s
				break
			}
		}
		return retryable[int(v)], alerts.Errorf(alerts.ReasonRejected, "robot error %s=%d: %s", k, int(v), msg)
	}
	return false, alerts.Errorf(alerts.ReasonRejected, "robot answer has no %s: %s", strings.Join(codeKeys, "/"), snippet(r.Body))
}
