package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client calls a running daemon's API v1 with a bearer token, using this package's request and
// response types (the CLI's `chainwatch alerts ...`):
//
//	c := &api.Client{BaseURL: "http://127.0.0.1:9464", Token: os.Getenv("CHAINWATCH_TOKEN")}
//	page, err := c.Alerts(ctx, api.AlertQuery{Enterprise: "ENT-SZME", Status: "firing"})
type Client struct {
	BaseURL string       // scheme://host:port of the daemon (without /api/v1)
	Token   string       // bearer token; empty sends none
	HTTP    *http.Client // nil: http.DefaultClient
}

// AlertQuery holds the filters and paging of GET /api/v1/alerts; empty fields are not sent.
type AlertQuery struct {
	Status     string // firing, resolved
	Severity   string // info, warning, critical
	Enterprise string
	Component  string
	Category   string
	Limit      int
	Cursor     string
}

// Values encodes q as the query parameters the API documents.
func (q AlertQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"status": q.Status, "severity": q.Severity, "enterprise": q.Enterprise,
		"component": q.Component, "category": q.Category, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// StatusError is an answer other than 2xx, with the API's error body. errors.Is matches ErrNotFound
// for a 404 and ErrInvalid for a 400.
type StatusError struct {
	Method, Path string
	StatusCode   int
	Body         ErrorBody
}

func (e *StatusError) Error() string {
	msg := strings.TrimSpace(e.Body.Code + ": " + e.Body.Message)
	if e.Body.Code == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, msg)
}

// Is maps 404 to ErrNotFound and 400 to ErrInvalid.
func (e *StatusError) Is(target error) bool {
	return (target == ErrNotFound && e.StatusCode == http.StatusNotFound) ||
		(target == ErrInvalid && e.StatusCode == http.StatusBadRequest)
}

// Alerts returns one page of alerts (GET /api/v1/alerts).
func (c *Client) Alerts(ctx context.Context, q AlertQuery) (List[Alert], error) {
	var out List[Alert]
	err := c.do(ctx, http.MethodGet, Prefix+"alerts", q.Values(), nil, &out)
	return out, err
}

// AllAlerts returns every alert matching q, following next_cursor from q.Cursor on.
func (c *Client) AllAlerts(ctx context.Context, q AlertQuery) ([]Alert, error) {
	var all []Alert
	for {
		page, err := c.Alerts(ctx, q)
		if err != nil {
			return all, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		q.Cursor = page.NextCursor
	}
}

// Alert returns one alert (GET /api/v1/alerts/{fingerprint}).
func (c *Client) Alert(ctx context.Context, fingerprint string) (Alert, error) {
	var out Alert
	err := c.do(ctx, http.MethodGet, Prefix+"alerts/"+url.PathEscape(fingerprint), nil, nil, &out)
	return out, err
}

// Ack acknowledges an alert (POST /api/v1/alerts/{fingerprint}/ack); the daemon records the
// token's name as the author.
func (c *Client) Ack(ctx context.Context, fingerprint string, req AckRequest) (Alert, error) {
	var out Alert
	err := c.do(ctx, http.MethodPost, Prefix+"alerts/"+url.PathEscape(fingerprint)+"/ack", nil, req, &out)
	return out, err
}

// Silences returns the silences, all or in one state (pending, active, expired).
func (c *Client) Silences(ctx context.Context, state string) ([]Silence, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	var out List[Silence]
	err := c.do(ctx, http.MethodGet, Prefix+"silences", q, nil, &out)
	return out.Items, err
}

// CreateSilence creates a silence (POST /api/v1/silences).
func (c *Client) CreateSilence(ctx context.Context, req SilenceRequest) (Silence, error) {
	var out Silence
	err := c.do(ctx, http.MethodPost, Prefix+"silences", nil, req, &out)
	return out, err
}

// ExpireSilence ends a silence now (DELETE /api/v1/silences/{id}, answered 204 without a body).
func (c *Client) ExpireSilence(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, Prefix+"silences/"+url.PathEscape(id), nil, nil, nil)
}

// do sends one request; out (nil: the answer has no body) receives a 2xx JSON body.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("api client: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("api client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("api client: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("api client: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Method: method, Path: path, StatusCode: resp.StatusCode}
		_ = json.Unmarshal(b, &se.Body) // a non-JSON error body leaves the status text
		return se
	}
	if out == nil {
		return nil
	}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(b)) == 0 {
		return fmt.Errorf("api client: %s %s: %s without the expected JSON body", method, path, resp.Status)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("api client: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}
