// Package confkit is what every component's Config needs to validate itself and hold secrets:
// Problems, which collects validation messages keyed by the component-relative key name, and
// Secret, a string that never prints. It imports nothing of chainwatch's, so any package may use it.
//
// A component validates with keys relative to its own section:
//
//	func (c Config) Validate() error {
//		var p confkit.Problems
//		p.Duration("interval", c.Interval)
//		p.Merge("single_source", c.SingleSource.Validate()) // a sub-section
//		return p.Err()
//	}
//
// and internal/config composes the sections, prefixing each key with the section's name
// (confkit.Prefix("detectors", err)), so the user reads "detectors.interval: must be ...".
package confkit

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Problem is one validation message for one key.
type Problem struct {
	Key string // full or section-relative key name, e.g. "brokers[0]" or "kafka.brokers[0]"
	Msg string
	Err error // the underlying error, when the problem wraps one (errors.Is/As reach it)
}

func (p *Problem) Error() string { return p.Key + ": " + p.Msg }

// Unwrap returns the underlying error, if any.
func (p *Problem) Unwrap() error { return p.Err }

// Problems collects validation messages. The zero value is ready to use.
type Problems []error

// Add records a problem for key.
func (p *Problems) Add(key, format string, args ...any) {
	*p = append(*p, &Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// OneOf records a problem unless val is one of allowed.
func (p *Problems) OneOf(key, val string, allowed ...string) {
	if !slices.Contains(allowed, val) {
		p.Add(key, "%q is not one of %s", val, strings.Join(allowed, ", "))
	}
}

// Positive records a problem unless n > 0.
func (p *Problems) Positive(key string, n int) {
	if n <= 0 {
		p.Add(key, "must be > 0, got %d", n)
	}
}

// Duration records a problem unless d > 0.
func (p *Problems) Duration(key string, d time.Duration) {
	if d <= 0 {
		p.Add(key, "must be a positive duration, got %s", d)
	}
}

// Required records a problem when val is blank.
func (p *Problems) Required(key, val string) {
	if strings.TrimSpace(val) == "" {
		p.Add(key, "required")
	}
}

// Merge adds the problems of a sub-section's Validate, their keys prefixed by prefix.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	*p = append(*p, flatten(prefix, err)...)
}

// Err joins the problems (nil when there are none).
func (p Problems) Err() error { return errors.Join(p...) }

// Prefix returns err with every Problem's key prefixed by prefix (and a "." between); other
// errors are kept, prefixed in their text. A nil err stays nil.
func Prefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	return errors.Join(flatten(prefix, err)...)
}

func flatten(prefix string, err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(prefix, e)...)
		}
		return out
	}
	var pr *Problem
	if errors.As(err, &pr) && pr == err {
		return []error{&Problem{Key: join(prefix, pr.Key), Msg: pr.Msg, Err: pr.Err}}
	}
	return []error{&Problem{Key: prefix, Msg: err.Error(), Err: err}}
}

func join(prefix, key string) string {
	switch {
	case prefix == "":
		return key
	case key == "" || strings.HasPrefix(key, "["):
		return prefix + key
	default:
		return prefix + "." + key
	}
}

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

// SecretFromFile sets *s from file when file is set; a failure names key.
func SecretFromFile(key string, s *Secret, file string) error {
	if file == "" {
		return nil
	}
	v, err := ReadSecretFile(file)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	*s = v
	return nil
}
