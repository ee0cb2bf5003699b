package app

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// dupKeyHandler wraps a handler and records every log line that carries a key twice (from
// Logger.With and the call itself): JSON log consumers keep one of the two, so the other is lost.
type dupKeyHandler struct {
	next  slog.Handler
	keys  []string // keys added by WithAttrs, outside any group
	group bool
	found *dupKeys
}

type dupKeys struct {
	mu    sync.Mutex
	lines []string
}

func (h *dupKeyHandler) Enabled(ctx context.Context, l slog.Level) bool { return true }

func (h *dupKeyHandler) Handle(ctx context.Context, r slog.Record) error {
	seen := slices.Clone(h.keys)
	r.Attrs(func(a slog.Attr) bool {
		if !h.group && slices.Contains(seen, a.Key) {
			h.found.mu.Lock()
			h.found.lines = append(h.found.lines, a.Key+" in "+r.Message)
			h.found.mu.Unlock()
		}
		seen = append(seen, a.Key)
		return true
	})
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *dupKeyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	if !h.group {
		c.keys = slices.Clone(h.keys)
		for _, a := range as {
			if slices.Contains(c.keys, a.Key) {
				h.found.mu.Lock()
				h.found.lines = append(h.found.lines, a.Key+" added twice by With")
				h.found.mu.Unlock()
			}
			c.keys = append(c.keys, a.Key)
		}
	}
	return &c
}

func (h *dupKeyHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.group = true
	return &c
}

// checkDupKeys wraps next; at the end of the test it fails on every duplicated key seen.
func checkDupKeys(t testing.TB, next slog.Handler) slog.Handler {
	found := &dupKeys{}
	t.Cleanup(func() {
		found.mu.Lock()
		defer found.mu.Unlock()
		if n := len(found.lines); n > 0 {
			t.Errorf("%d log lines carry a key twice (JSON logs lose one), first: %s", n, found.lines[0])
		}
	})
	return &dupKeyHandler{next: next, found: found}
}

func TestDupKeyHandler(t *testing.T) {
	found := &dupKeys{}
	h := &dupKeyHandler{next: slog.DiscardHandler, found: found}
	log := slog.New(h).With("component", "alerts")
	log.Info("ok", "integration", "email")
	if len(found.lines) != 0 {
		t.Fatalf("false positive: %v", found.lines)
	}
	log.With("component", "alerts").Info("twice")
	log.Info("call", "component", "x")
	log.WithGroup("g").Info("grouped", "component", "y")
	if len(found.lines) != 2 {
		t.Fatalf("want 2 duplicates, got %v", found.lines)
	}
}
