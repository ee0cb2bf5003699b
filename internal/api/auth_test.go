package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestGuardRateLimitsFailures: after auth_failures_per_minute failures from one address, every
// request from it (even with a good token) is 429 with Retry-After until the budget refills;
// other addresses are not affected.
func TestGuardRateLimitsFailures(t *testing.T) {
	cfg := testConfig()
	cfg.AuthFailuresPerMinute = 3
	g := NewGuard(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return now }
	h := g.Require(RoleOperate, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	call := func(addr, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/-/detect", nil)
		r.RemoteAddr = addr
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const a, b = "192.0.2.1:4000", "192.0.2.2:4000"
	if w := call(a, opToken); w.Code != 204 {
		t.Fatalf("operate token: %d %s", w.Code, w.Body)
	}
	if w := call(a, readToken); w.Code != 403 || errorCode(t, w.Body.Bytes()) != "forbidden" {
		t.Errorf("read token: %d %s", w.Code, w.Body)
	}
	for i, tok := range []string{"", "cw_wrong", "cw_wrong2"} {
		if w := call(a, tok); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("failure %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	w := call("192.0.2.1:4001", opToken) // same address, another port, the right token
	if w.Code != 429 || errorCode(t, w.Body.Bytes()) != "too_many_requests" {
		t.Fatalf("over budget: %d %s", w.Code, w.Body)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 20 {
		t.Errorf("Retry-After %q: want the seconds until one failure refills (20 s at 3/min)", w.Header().Get("Retry-After"))
	}
	if w := call(b, opToken); w.Code != 204 {
		t.Errorf("another address: %d", w.Code)
	}
	now = now.Add(21 * time.Second)
	if w := call(a, opToken); w.Code != 204 {
		t.Errorf("after the refill: %d %s", w.Code, w.Body)
	}
	if w := call(a, "cw_wrong"); w.Code != 401 {
		t.Errorf("one refilled failure: %d", w.Code)
	}
	if w := call(a, opToken); w.Code != 429 {
		t.Errorf("budget spent again: %d", w.Code)
	}
}

// TestAPIAnswers429 checks the API handler uses the same budget and documents it.
func TestAPIAnswers429(t *testing.T) {
	cfg := testConfig()
	cfg.AuthFailuresPerMinute = 2
	g := NewGuard(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(New(Deps{Guard: g}, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	for range 2 {
		if code, _, b := do(t, srv, "GET", "/api/v1/alerts", "cw_nope", ""); code != 401 {
			t.Fatalf("%d %s", code, b)
		}
	}
	code, h, b := do(t, srv, "GET", "/api/v1/alerts", readToken, "")
	if code != 429 || h.Get("Retry-After") == "" {
		t.Errorf("API over budget: %d %v %s", code, h, b)
	}
	// The shared guard refuses the control endpoints too.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/-/reload", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("Authorization", "Bearer "+opToken)
	g.Require(RoleOperate, http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != 429 {
		t.Errorf("control endpoint with the shared guard: %d", w.Code)
	}
	if code, _, _ := do(t, srv, "GET", "/api/v1/openapi.yaml", "", ""); code != 200 {
		t.Errorf("the public document is never refused: %d", code)
	}
}

func TestGuardTableBounded(t *testing.T) {
	g := NewGuard(testConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Now()
	g.now = func() time.Time { return now }
	for i := range maxTracked {
		g.fail("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
	}
	now = now.Add(time.Hour) // every budget refilled
	g.fail("192.0.2.9")
	if n := len(g.failures); n != 1 {
		t.Errorf("refilled addresses kept: %d", n)
	}
}
