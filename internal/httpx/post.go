package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// NewRequest builds a request whose body (may be nil) is held as bytes, so retryablehttp replays
// it unchanged on every retry. header is set on the request (it wins over Options.Header).
func NewRequest(ctx context.Context, method, rawURL string, body []byte, header http.Header) (*retryablehttp.Request, error) {
	var b any
	if body != nil {
		b = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, rawURL, b)
	if err != nil {
		return nil, fmt.Errorf("httpx: %s %s: %w", method, redactURL(rawURL), err)
	}
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req, nil
}

// PostJSON POSTs v as JSON (Content-Type application/json; the body is replayed on retries) and
// returns the response. The caller closes the body and checks the status.
func PostJSON(ctx context.Context, c *retryablehttp.Client, rawURL string, v any, header http.Header) (*http.Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("httpx: POST %s: encode body: %w", redactURL(rawURL), err)
	}
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	if h.Get("Accept") == "" {
		h.Set("Accept", "application/json")
	}
	return do(ctx, c, http.MethodPost, rawURL, body, h)
}

// PostForm POSTs form as application/x-www-form-urlencoded (replayed on retries).
func PostForm(ctx context.Context, c *retryablehttp.Client, rawURL string, form url.Values, header http.Header) (*http.Response, error) {
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(ctx, c, http.MethodPost, rawURL, []byte(form.Encode()), h)
}

func do(ctx context.Context, c *retryablehttp.Client, method, rawURL string, body []byte, h http.Header) (*http.Response, error) {
	req, err := NewRequest(ctx, method, rawURL, body, h)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("httpx: %s %s: %w", method, redactURL(rawURL), err)
	}
	return resp, nil
}

// StatusError reads up to 1 KiB of a non-2xx response body, closes it and returns an error naming
// the method, URL (query removed) and status.
func StatusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	return fmt.Errorf("%s %s: HTTP %s: %s", resp.Request.Method, redact(resp.Request), resp.Status,
		strings.TrimSpace(string(b)))
}

// redactURL drops the query (API keys travel there) and user info of a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad URL)"
	}
	u.RawQuery = ""
	u.User = nil
	return u.String()
}
