package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// problems collects validation errors, each prefixed with the full key name. Section validators
// in the other files of this package use it.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (p *problems) oneOf(key, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	p.add(key, "%q is not one of %s", val, strings.Join(allowed, ", "))
}

func (p *problems) positive(key string, n int) {
	if n <= 0 {
		p.add(key, "must be > 0, got %d", n)
	}
}

func (p *problems) duration(key string, d time.Duration) {
	if d <= 0 {
		p.add(key, "must be a positive duration, got %s", d)
	}
}

func (p *problems) required(key, val string) {
	if strings.TrimSpace(val) == "" {
		p.add(key, "required")
	}
}

func (p problems) err() error { return errors.Join(p...) }

// Secret is a string that never prints: fmt, slog and JSON show "[redacted]".
type Secret string

func (s Secret) String() string                { return redact(s) }
func (s Secret) GoString() string              { return redact(s) }
func (s Secret) MarshalJSON() ([]byte, error)  { return []byte(`"` + redact(s) + `"`), nil }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(redact(s)), nil }
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// Reveal returns the secret's value, for the one place that uses it.
func (s Secret) Reveal() string { return string(s) }

func redact(s Secret) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// ReadSecretFile reads a secret from a file, trimming one trailing newline.
func ReadSecretFile(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return Secret(strings.TrimRight(string(b), "\r\n")), nil
}
