package api

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
)

// TestAlertsAdapter drives the API's alert endpoints against a real alerts.Manager.
func TestAlertsAdapter(t *testing.T) {
	cfg := alerts.DefaultConfig()
	cfg.StateDir = t.TempDir()
	now := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	m, err := alerts.NewManager(cfg, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), alerts.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Deps{Alerts: FromAlertsManager(m)}, testConfig(), nil))
	defer srv.Close()
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts", readToken, ""); code != 200 || !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("empty list: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "POST", "/api/v1/alerts/abcdef/ack", opToken, `{"comment":"x"}`); code != 404 {
		t.Errorf("ack unknown: %d %s", code, b)
	}
	code, _, b := do(t, srv, "POST", "/api/v1/silences", opToken, `{"matchers":{"enterprise_id":"ENT-SZME"},"duration":"48h","comment":"supplier audit"}`)
	if code != 201 || !strings.Contains(string(b), `"created_by":"ops-team"`) || !strings.Contains(string(b), `"state":"active"`) {
		t.Fatalf("create silence: %d %s", code, b)
	}
	var sil Silence
	if err := jsonUnmarshal(b, &sil); err != nil || sil.ID == "" {
		t.Fatalf("silence id: %v %s", err, b)
	}
	code, _, b = do(t, srv, "POST", "/api/v1/silences", opToken, `{"matchers":{"category":"key_material"},"starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-11-02T00:00:00Z","comment":"past"}`)
	if code != 400 {
		t.Errorf("silence in the past: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/silences?state=active", readToken, ""); code != 200 || !strings.Contains(string(b), sil.ID) {
		t.Errorf("list silences: %d %s", code, b)
	}
	if code, _, _ := do(t, srv, "DELETE", "/api/v1/silences/"+sil.ID, opToken, ""); code != 204 {
		t.Errorf("expire: %d", code)
	}
	if code, _, _ := do(t, srv, "DELETE", "/api/v1/silences/0123456789abcdef", opToken, ""); code != 404 {
		t.Errorf("expire unknown: %d", code)
	}
	_ = srv.Client()
}
