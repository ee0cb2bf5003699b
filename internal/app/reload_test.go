package app

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/channels"
	"github.com/chainwatch/chainwatch/internal/config"
)

// TestReloadAddsChannel: SIGHUP and POST /-/reload go through reloader.reload. A webhook added to
// the config file, and named in a route, is built and routed after the reload; a config naming
// an integration that is not configured is refused and the running one kept.
func TestReloadAddsChannel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chainwatch.yaml")
	write := func(hooks ...string) {
		var b strings.Builder
		fmt.Fprintf(&b, "alerts:\n  state_dir: %s\n  default:\n    channels: [%s]\n  webhooks:\n", filepath.Join(dir, "alerts"), strings.Join(hooks, ", "))
		for _, h := range hooks {
			fmt.Fprintf(&b, "    - {name: %s, type: alertmanager, url: \"http://127.0.0.1:9/%s\"}\n", h, h)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	nreg, err := channels.Build(cfg.Alerts, channels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := alerts.NewManager(cfg.Alerts, nreg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r := &reloader{path: path, mgr: mgr, log: slog.New(slog.DiscardHandler)}

	write("first", "second")
	if err := r.reload(); err != nil {
		t.Fatalf("reload adding the webhook 'second': %v", err)
	}
	// The route now names both; a config that routes to an unknown integration is refused.
	bad := strings.Replace(mustRead(t, path), "channels: [first, second]", "channels: [first, second, third]", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.reload(); err == nil || !strings.Contains(err.Error(), "third") {
		t.Fatalf("a route naming an unconfigured integration must be refused, got %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
