package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// TokenPrefix starts every token NewToken makes (recognisable in secret scanners and logs).
const TokenPrefix = "cw_"

// HashToken returns the lower-case hex SHA-256 of a token: the value to put in api.tokens[].sha256.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// NewToken returns a random token (256 bits, base64url) and its hash.
func NewToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

type principal struct {
	name string
	role string
}

type credential struct {
	name, role string
	hash       [32]byte
}

// Guard checks bearer tokens against api.tokens (SHA-256 hashes, compared in constant time) and
// rate-limits failed authentication per client address: after api.auth_failures_per_minute
// failures, every request from that address is answered 429 with Retry-After until the budget
// refills (one failure per 60s/N). The API handler and the daemon's control endpoints (/-/detect,
// /-/reload) share one Guard, so they share the budget.
type Guard struct {
	creds []credential
	limit rate.Limit
	burst int
	log   *slog.Logger
	now   func() time.Time

	mu       sync.Mutex
	failures map[string]*rate.Limiter // by client IP
}

// maxTracked bounds the failure table; beyond it, addresses whose budget has refilled are dropped.
const maxTracked = 4096

// NewGuard returns the Guard of cfg's tokens and failure budget.
func NewGuard(cfg Config, log *slog.Logger) *Guard {
	if log == nil {
		log = slog.Default()
	}
	n := cfg.AuthFailuresPerMinute
	if n <= 0 {
		n = DefaultConfig().AuthFailuresPerMinute
	}
	g := &Guard{limit: rate.Limit(float64(n) / 60), burst: n, log: log, now: time.Now, failures: map[string]*rate.Limiter{}}
	for _, t := range cfg.Tokens {
		raw, err := hex.DecodeString(strings.TrimSpace(t.SHA256.Reveal()))
		if err != nil || len(raw) != 32 {
			continue // config validation reports it
		}
		c := credential{name: t.Name, role: t.Role}
		copy(c.hash[:], raw)
		g.creds = append(g.creds, c)
	}
	return g
}

// Require wraps h so that it runs only for a token of role (RoleRead or RoleOperate); otherwise
// the answer is the API's JSON error: 401, 403 or 429.
func (g *Guard) Require(role string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, aerr := g.check(r, role); aerr != nil {
			writeAuthError(w, aerr)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// writeAuthError writes a refusal with its WWW-Authenticate or Retry-After header.
func writeAuthError(w http.ResponseWriter, e *apiError) {
	switch e.status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="chainwatch"`)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeError(w, e)
}

// check authenticates the request's bearer token and checks it may act with role. Every configured
// hash is compared, in constant time, whatever matches. A client over its failure budget is refused
// before its token is looked at.
func (g *Guard) check(r *http.Request, role string) (principal, *apiError) {
	if role == rolePublic {
		return principal{}, nil
	}
	ip := clientIP(r)
	if wait := g.blocked(ip); wait > 0 {
		return principal{}, &apiError{status: http.StatusTooManyRequests, code: "too_many_requests", retryAfter: wait,
			msg: fmt.Sprintf("too many failed authentications from %s; retry after %d s", ip, wait)}
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		g.fail(ip)
		return principal{}, &apiError{status: http.StatusUnauthorized, code: "unauthorized",
			msg: "missing bearer token: send Authorization: Bearer <token>"}
	}
	sum := sha256.Sum256([]byte(token))
	var found *credential
	for i := range g.creds {
		if subtle.ConstantTimeCompare(sum[:], g.creds[i].hash[:]) == 1 && found == nil {
			found = &g.creds[i]
		}
	}
	if found == nil {
		g.fail(ip)
		return principal{}, &apiError{status: http.StatusUnauthorized, code: "unauthorized", msg: "unknown or revoked token"}
	}
	p := principal{name: found.name, role: found.role}
	if role == roleOp && p.role != RoleOperate {
		return p, &apiError{status: http.StatusForbidden, code: "forbidden",
			msg: fmt.Sprintf("token %q has role %q; this endpoint needs %q", p.name, p.role, RoleOperate)}
	}
	return p, nil
}

// blocked returns the whole seconds until ip may fail once more, 0 when it may now.
func (g *Guard) blocked(ip string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	lim, ok := g.failures[ip]
	if !ok {
		return 0
	}
	tokens := lim.TokensAt(g.now())
	if tokens >= 1 {
		return 0
	}
	return int(math.Ceil((1 - tokens) / float64(g.limit)))
}

// fail spends one failure of ip's budget.
func (g *Guard) fail(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	lim, ok := g.failures[ip]
	if !ok {
		if len(g.failures) >= maxTracked {
			for k, l := range g.failures {
				if l.TokensAt(now) >= float64(g.burst) {
					delete(g.failures, k)
				}
			}
		}
		lim = rate.NewLimiter(g.limit, g.burst)
		g.failures[ip] = lim
	}
	lim.AllowN(now, 1)
	if lim.TokensAt(now) < 1 {
		g.log.Warn("authentication failures over budget; refusing the client for a while", "client", ip, "failures_per_minute", g.burst)
	}
}

// clientIP is the address of the peer (X-Forwarded-For is not trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
