package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
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

type authenticator struct {
	creds []credential
}

func newAuthenticator(tokens []TokenConfig) *authenticator {
	a := &authenticator{}
	for _, t := range tokens {
		raw, err := hex.DecodeString(strings.TrimSpace(t.SHA256.Reveal()))
		if err != nil || len(raw) != 32 {
			continue // config validation reports it
		}
		c := credential{name: t.Name, role: t.Role}
		copy(c.hash[:], raw)
		a.creds = append(a.creds, c)
	}
	return a
}

// check authenticates the request's bearer token and checks it may act with role. Every configured
// hash is compared, in constant time, whatever matches.
func (a *authenticator) check(r *http.Request, role string) (principal, *apiError) {
	if role == rolePublic {
		return principal{}, nil
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return principal{}, &apiError{status: http.StatusUnauthorized, code: "unauthorized",
			msg: "missing bearer token: send Authorization: Bearer <token>"}
	}
	sum := sha256.Sum256([]byte(token))
	var found *credential
	for i := range a.creds {
		if subtle.ConstantTimeCompare(sum[:], a.creds[i].hash[:]) == 1 && found == nil {
			found = &a.creds[i]
		}
	}
	if found == nil {
		return principal{}, &apiError{status: http.StatusUnauthorized, code: "unauthorized", msg: "unknown or revoked token"}
	}
	p := principal{name: found.name, role: found.role}
	if role == roleOp && p.role != RoleOperate {
		return p, &apiError{status: http.StatusForbidden, code: "forbidden",
			msg: fmt.Sprintf("token %q has role %q; this endpoint needs %q", p.name, p.role, RoleOperate)}
	}
	return p, nil
}
