package config

import (
	"errors"
	"fmt"
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

// The checks are confkit's, so the messages are the same in every section.
func (p *problems) confkit(check func(*confkit.Problems)) {
	var q confkit.Problems
	check(&q)
	*p = append(*p, q...)
}

func (p *problems) oneOf(key, val string, allowed ...string) {
	p.confkit(func(q *confkit.Problems) { q.OneOf(key, val, allowed...) })
}

func (p *problems) positive(key string, n int) {
	p.confkit(func(q *confkit.Problems) { q.Positive(key, n) })
}

func (p *problems) duration(key string, d time.Duration) {
	p.confkit(func(q *confkit.Problems) { q.Duration(key, d) })
}

func (p *problems) required(key, val string) {
	p.confkit(func(q *confkit.Problems) { q.Required(key, val) })
}

func (p problems) err() error { return errors.Join(p...) }

// Secret is confkit.Secret, kept as an alias while the collectors and alerts sections still live
// in this package (their owners move them out; then this alias goes).
type Secret = confkit.Secret

// ReadSecretFile is confkit.ReadSecretFile (see Secret).
func ReadSecretFile(path string) (Secret, error) { return confkit.ReadSecretFile(path) }
