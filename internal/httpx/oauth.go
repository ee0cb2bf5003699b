package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// ClientCredentials is an OAuth 2.0 client-credentials token source (RFC 6749 §4.4): it POSTs
// grant_type=client_credentials with the client id and secret in the form body to TokenURL,
// caches the access token and fetches a new one RefreshBefore its expiry (or after Invalidate,
// e.g. on a 401). Safe for concurrent use.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string // optional, space separated
	// Client posts to TokenURL (retries included).
	Client *retryablehttp.Client
	// RefreshBefore is how long before expiry a token is renewed (default 60s, at most half
	// its lifetime).
	RefreshBefore time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
	fetches int
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
	ErrorDesc   string `json:"error_description"`
}

// Token returns a valid access token, fetching one when none is cached or it is about to expire.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.token != "" && now.Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	resp, err := PostForm(ctx, c.Client, c.TokenURL, form, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return "", fmt.Errorf("oauth token: %w", err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	derr := json.NewDecoder(resp.Body).Decode(&tr)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("oauth token: POST %s: HTTP %s: %s %s", redactURL(c.TokenURL), resp.Status, tr.Error, tr.ErrorDesc)
	}
	if derr != nil {
		return "", fmt.Errorf("oauth token: decode: %w", derr)
	}
	if tr.AccessToken == "" {
		return "", errors.New("oauth token: response has no access_token")
	}
	if tt := strings.ToLower(tr.TokenType); tt != "" && tt != "bearer" {
		return "", fmt.Errorf("oauth token: token_type %q is not Bearer", tr.TokenType)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	margin := c.RefreshBefore
	if margin <= 0 {
		margin = time.Minute
	}
	if margin > life/2 {
		margin = life / 2
	}
	c.token, c.expires = tr.AccessToken, now.Add(life-margin)
	c.fetches++
	return c.token, nil
}

// Invalidate drops the cached token (after the API answered 401), so the next Token fetches one.
func (c *ClientCredentials) Invalidate() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

// Fetches reports how many tokens were fetched (for tests and logs).
func (c *ClientCredentials) Fetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

func (c *ClientCredentials) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
