package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls a running daemon's alerts API: the functions behind the CLI
// (chainwatch alerts list|ack|silence|silences|unsilence).
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:9464
	HTTP    *http.Client // nil: http.DefaultClient
}

// ListAlerts returns alerts; query keys as GET /api/v1/alerts (enterprise_id, status, ...).
func (c *Client) ListAlerts(ctx context.Context, query url.Values) ([]AlertView, error) {
	var out struct {
		Alerts []AlertView `json:"alerts"` // Manager.Handler
		Items  []AlertView `json:"items"`  // the daemon's API v1 (internal/api)
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/alerts?"+query.Encode(), nil, &out)
	return append(out.Alerts, out.Items...), err
}

// Ack acknowledges an alert.
func (c *Client) Ack(ctx context.Context, fingerprint string, req AckRequest) (AlertView, error) {
	var out AlertView
	err := c.do(ctx, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(fingerprint)+"/ack", req, &out)
	return out, err
}

// CreateSilence creates a silence.
func (c *Client) CreateSilence(ctx context.Context, req SilenceRequest) (Silence, error) {
	var out Silence
	err := c.do(ctx, http.MethodPost, "/api/v1/silences", req, &out)
	return out, err
}

// ListSilences returns the silences.
func (c *Client) ListSilences(ctx context.Context) ([]Silence, error) {
	var out struct {
		Silences []Silence `json:"silences"` // Manager.Handler
		Items    []Silence `json:"items"`    // the daemon's API v1 (internal/api)
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/silences", nil, &out)
	return append(out.Silences, out.Items...), err
}

// ExpireSilence ends a silence now.
func (c *Client) ExpireSilence(ctx context.Context, id string) (Silence, error) {
	var out Silence
	err := c.do(ctx, http.MethodDelete, "/api/v1/silences/"+url.PathEscape(id), nil, &out)
	return out, err
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("alerts client: %w", err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, r)
	if err != nil {
		return fmt.Errorf("alerts client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("alerts client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("alerts client: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error   string `json:"error"`   // Manager.Handler
			Code    string `json:"code"`    // API v1
			Message string `json:"message"` // API v1
		}
		_ = json.Unmarshal(b, &e)
		msg := e.Error
		if msg == "" {
			msg = strings.TrimSpace(e.Code + " " + e.Message)
		}
		return fmt.Errorf("alerts client: %s %s: %s: %s", method, path, resp.Status, msg)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("alerts client: decode: %w", err)
	}
	return nil
}
