package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestScheduledCollectorsIntegration: collectors configured in the daemon run on their schedule inside
// serve — an OCDS feed over HTTP and a watched availability directory — and land in ClickHouse.
func TestScheduledCollectorsIntegration(t *testing.T) {
	cfg, conn := testConfig(t)
	root := repoRoot(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(root, "deploy/demo/real/ocds"))))
	defer srv.Close()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "deploy/demo/availability.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "distributor.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Collectors.Procurement.Enabled = true
	cfg.Collectors.Procurement.URLs = []string{srv.URL + "/england_contractsfinder_releases.jsonl"}
	cfg.Collectors.Procurement.Interval = time.Hour
	cfg.Collectors.Availability.Enabled = true
	cfg.Collectors.Availability.Dir = dir
	cfg.Collectors.Availability.Interval = time.Hour
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, cfg)
	// The same files imported by hand (the README demo) give 143 distinct awards (143 emitted: the
	// OCDS releases of an award are compiled into one row) and 15 availability snapshots.
	got := waitCounts(t, conn, 2*time.Minute, func(c map[string]uint64) bool {
		return c["procurement_awards"] == 143 && c["component_availability"] == 15
	})
	if got["rejected"] != 0 {
		t.Errorf("rejected = %d, want 0", got["rejected"])
	}
}
