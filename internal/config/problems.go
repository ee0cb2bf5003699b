package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// problems collects validation errors, each prefixed with the full key name. Only the sections
// still defined in this package use it (collectors, detectors, alerts, api, digest); components
// that own their config validate with confkit.Problems and section-relative keys instead.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (p *problems) oneOf(key, val string, allowed ...string) {
	if slices.Contains(allowed, val) {
		return
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

// Secret is confkit.Secret, kept as an alias while the collectors and alerts sections still live
// in this package (their owners move them out; then this alias goes).
type Secret = confkit.Secret

// ReadSecretFile is confkit.ReadSecretFile (see Secret).
func ReadSecretFile(path string) (Secret, error) { return confkit.ReadSecretFile(path) }
