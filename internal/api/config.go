package api

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/exposure"
)

// API roles. A "read" token may call every GET endpoint; an "operate" token may also acknowledge
// and silence alerts (POST, DELETE).
const (
	RoleRead    = "read"
	RoleOperate = "operate"
)

// Config is the "api" section: the HTTP API v1 (internal/api, docs/api.md) and the read side
// it shares with the Prometheus exposure metrics (internal/exposure, docs/monitoring.md).
//
//	api:
//	  enabled: true
//	  tokens:
//	    - name: dashboard
//	      role: read
//	      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	    - name: ops
//	      role: operate
//	      sha256_file: /run/secrets/chainwatch-ops-token.sha256
//	  default_limit: 50
//	  max_limit: 1000
//	  query_timeout: 30s
//	  auth_failures_per_minute: 10
//	  exposure:
//	    refresh_interval: 1m
//	    top_n: 10
type Config struct {
	// Enabled mounts the API under /api/v1/ on http.listen.
	Enabled bool `koanf:"enabled"`
	// Tokens are the accepted bearer tokens, stored as the SHA-256 (hex) of the token: generate one
	// with `chainwatch token` (api.NewToken). No tokens means every authenticated call gets 401.
	Tokens []TokenConfig `koanf:"tokens"`
	// DefaultLimit and MaxLimit bound the page size of list endpoints.
	DefaultLimit int `koanf:"default_limit"`
	MaxLimit     int `koanf:"max_limit"`
	// QueryTimeout bounds the ClickHouse work of one request.
	QueryTimeout time.Duration `koanf:"query_timeout"`
	// AuthFailuresPerMinute is how many failed authentications (no or unknown token) one client
	// address may make per minute, on the API and the control endpoints (/-/detect, /-/reload);
	// beyond it every request from that address is answered 429 with Retry-After.
	AuthFailuresPerMinute int `koanf:"auth_failures_per_minute"`
	// Exposure configures how the latest findings are read and summarised (API, metrics, digest).
	Exposure exposure.Config `koanf:"exposure"`
}

// TokenConfig is one accepted bearer token.
type TokenConfig struct {
	// Name identifies the token in logs (never the token itself).
	Name string `koanf:"name"`
	// Role is read or operate.
	Role string `koanf:"role"`
	// SHA256 is the lower-case hex SHA-256 of the token; SHA256File reads it from a file instead.
	SHA256     confkit.Secret `koanf:"sha256"`
	SHA256File string         `koanf:"sha256_file"`
}

// DefaultConfig returns the defaults of the "api" section.
func DefaultConfig() Config {
	return Config{
		Enabled:      true,
		DefaultLimit: 50,
		MaxLimit:     1000,
		QueryTimeout: 30 * time.Second,
		Exposure:     exposure.DefaultConfig(),

		AuthFailuresPerMinute: 10,
	}
}

// Validate reports every problem of the "api" section by its key relative to the section.
func (c Config) Validate() error {
	var p confkit.Problems
	names := map[string]int{}
	for i, t := range c.Tokens {
		k := fmt.Sprintf("tokens[%d]", i)
		if strings.TrimSpace(t.Name) == "" {
			p.Add(k+".name", "required")
		} else if j, dup := names[t.Name]; dup {
			p.Add(k+".name", "%q is already the name of api.tokens[%d]", t.Name, j)
		} else {
			names[t.Name] = i
		}
		p.OneOf(k+".role", t.Role, RoleRead, RoleOperate)
		h := t.SHA256.Reveal()
		switch {
		case h == "" && t.SHA256File == "":
			p.Add(k+".sha256", "required (or sha256_file): the hex SHA-256 of the token")
		case h != "" && !isSHA256Hex(h):
			p.Add(k+".sha256", "must be 64 lower-case hex digits (the SHA-256 of the token, not the token)")
		}
	}
	p.Positive("default_limit", c.DefaultLimit)
	p.Positive("max_limit", c.MaxLimit)
	if c.DefaultLimit > c.MaxLimit {
		p.Add("default_limit", "must be <= api.max_limit (%d), got %d", c.MaxLimit, c.DefaultLimit)
	}
	p.Duration("query_timeout", c.QueryTimeout)
	p.Positive("auth_failures_per_minute", c.AuthFailuresPerMinute)
	p.Merge("exposure", c.Exposure.Validate())
	return p.Err()
}

// ResolveSecrets reads tokens[i].sha256_file; a failure names the key relative to the section.
func (c *Config) ResolveSecrets() error {
	var p confkit.Problems
	for i := range c.Tokens {
		t := &c.Tokens[i]
		if t.SHA256File == "" {
			continue
		}
		s, err := confkit.ReadSecretFile(t.SHA256File)
		if err != nil {
			p = append(p, &confkit.Problem{Key: fmt.Sprintf("tokens[%d].sha256_file", i), Msg: err.Error(), Err: err})
			continue
		}
		t.SHA256 = confkit.Secret(strings.TrimSpace(s.Reveal()))
	}
	return p.Err()
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
