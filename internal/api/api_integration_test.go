package api

import (
	"context"
	"encoding/json"
	"github.com/chainwatch/chainwatch/detectors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report"
	"github.com/chainwatch/chainwatch/internal/report/reporttest"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

func TestAPIIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds, err := reporttest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	rec := &reporttest.Recorder{Q: conn}
	expCfg := exposure.DefaultConfig()
	digests := report.NewWithQuerier(rec, expCfg, report.DefaultConfig(), nil)
	digests.SetClock(func() time.Time { return reporttest.Anchor })
	h := New(Deps{Store: exposure.NewStore(rec, expCfg), Digests: digests, DetectorNames: detectors.Names}, testConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Walk every exposure with a cursor; no duplicates, none from the failed run, sorted by score.
	seen := map[string]bool{}
	last := 101.0
	next := ""
	pages := 0
	for {
		path := "/api/v1/exposures?limit=7"
		if next != "" {
			path += "&cursor=" + next
		}
		code, _, b := do(t, srv, "GET", path, readToken, "")
		var l List[Exposure]
		if code != 200 || json.Unmarshal(b, &l) != nil {
			t.Fatalf("%s: %d %s", path, code, b)
		}
		pages++
		for _, e := range l.Items {
			if seen[e.Subject] || e.Score > last || e.Score == reporttest.FailedRunScore {
				t.Errorf("page %d: %+v", pages, e)
			}
			seen[e.Subject], last = true, e.Score
			if e.EnterpriseName == "" || e.ComponentName == "" || e.Severity == "" {
				t.Errorf("names or severity missing: %+v", e)
			}
		}
		if next = l.NextCursor; next == "" {
			break
		}
	}
	if len(seen) != 26 || pages != 4 {
		t.Errorf("cursor walk: %d exposures in %d pages, want 26 in 4", len(seen), pages)
	}

	code, _, b := do(t, srv, "GET", "/api/v1/exposures?region=Jiangsu&category=high_end_chip&min_score=60&sort=-delta", readToken, "")
	var l List[Exposure]
	if code != 200 || json.Unmarshal(b, &l) != nil || l.Total != 3 {
		t.Fatalf("filtered exposures: %d %s", code, b)
	}
	if l.Items[0].Subject != "ENT-CZMW|CMP-MCU" {
		t.Errorf("sort -delta: first is %s", l.Items[0].Subject)
	}

	code, _, b = do(t, srv, "GET", "/api/v1/findings?detector=chokepoint&subject_type=hs&limit=50", readToken, "")
	var fl List[Finding]
	if code != 200 || json.Unmarshal(b, &fl) != nil || fl.Total != 3 || len(fl.Items[0].Terms) == 0 || fl.Items[0].Terms[0].Name == "" {
		t.Fatalf("findings: %d %s", code, b)
	}
	code, _, b = do(t, srv, "GET", "/api/v1/findings?subject=ENT-SZEV%7CCMP-MCU&detector=exposure", readToken, "")
	if code != 200 || !strings.Contains(string(b), `"qualification_days":180`) || !strings.Contains(string(b), `"contribution"`) {
		t.Errorf("finding with alternates and terms: %d %s", code, b)
	}

	code, _, b = do(t, srv, "GET", "/api/v1/runs", readToken, "")
	if code != 200 || !strings.Contains(string(b), `"detector":"exposure"`) || strings.Contains(string(b), "T000000") {
		t.Errorf("runs: %d %s", code, b)
	}

	code, _, b = do(t, srv, "GET", "/api/v1/supply/components/CMP-MCU", readToken, "")
	var cd ComponentDependents
	if code != 200 || json.Unmarshal(b, &cd) != nil {
		t.Fatalf("component dependents: %d %s", code, b)
	}
	ents := map[string]bool{}
	for _, e := range cd.Enterprises {
		ents[e.ID] = true
	}
	if cd.Component.Name != "Automotive 32-bit MCU" || len(ents) != 3 || !ents["ENT-SZEV"] || !ents["ENT-CZMW"] || !ents["ENT-SHRB"] ||
		len(cd.Products) != 3 || len(cd.Suppliers) != 2 || len(cd.Substitutions) != 1 || cd.Enterprises[0].ExposureScore == nil {
		t.Errorf("component dependents: %+v", cd)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/supply/components/CMP-NOPE", readToken, ""); code != 404 || errorCode(t, b) != "not_found" {
		t.Errorf("unknown component: %d %s", code, b)
	}
	code, _, b = do(t, srv, "GET", "/api/v1/supply/suppliers/SUP-DE-MCU", readToken, "")
	var sc SupplierCustomers
	if code != 200 || json.Unmarshal(b, &sc) != nil || sc.Supplier.Country != "DEU" || len(sc.Supplies) != 3 || len(sc.Enterprises) != 3 {
		t.Errorf("supplier customers: %d %s", code, b)
	}

	code, hdr, b := do(t, srv, "GET", "/api/v1/digests/2026-W47?format=csv&region=Jiangsu", readToken, "")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.Contains(string(b), "2026,47,Jiangsu,,summary") {
		t.Errorf("digest csv: %d %s", code, b[:min(len(b), 300)])
	}
	code, _, b = do(t, srv, "GET", "/api/v1/digests/2026-W47?format=html", readToken, "")
	if code != 200 || !strings.Contains(string(b), "<svg") {
		t.Errorf("digest html: %d", code)
	}
	// Default language zh-CN (digest.lang), ?lang=en selects English; both from the same data.
	code, _, b = do(t, srv, "GET", "/api/v1/digests/2026-W47?format=md", readToken, "")
	if code != 200 || !strings.Contains(string(b), "## 1. 主要卡点") || !strings.Contains(string(b), "| 跟踪的风险敞口 | 26 |") {
		t.Errorf("digest md zh: %d %s", code, b[:min(len(b), 300)])
	}
	code, _, b = do(t, srv, "GET", "/api/v1/digests/2026-W47?format=md&lang=en", readToken, "")
	if code != 200 || !strings.Contains(string(b), "## 1. Top chokepoints") || !strings.Contains(string(b), "| Exposures tracked | 26 |") {
		t.Errorf("digest md en: %d %s", code, b[:min(len(b), 300)])
	}

	rep := reporttest.RunChDB(t, ds, rec.Queries("api"))
	for _, r := range rep.Results {
		if r.Error != "" {
			t.Errorf("chdb: %s failed: %s", r.Name, r.Error)
		}
	}
}
