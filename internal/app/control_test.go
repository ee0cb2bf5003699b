package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/internal/config"
)

// TestControlEndpointsNeedOperateToken: POST /-/detect and /-/reload take the API's operate tokens
// (401 without, 403 for read), and failed authentication is rate-limited per address (429).
func TestControlEndpointsNeedOperateToken(t *testing.T) {
	cfg := config.Default()
	cfg.API = testAPIConfig()
	cfg.API.AuthFailuresPerMinute = 4
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := &App{cfg: cfg, log: log, reg: prometheus.NewRegistry(), trig: newDetectTrigger(),
		reloader: &reloader{path: "", log: log}}
	mux, err := a.buildHTTP()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(path, token string) (int, http.Header, string) {
		req, _ := http.NewRequest("POST", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if code, _, b := post("/-/detect", cliOpToken); code != 202 || !strings.Contains(b, "started") {
		t.Errorf("detect with an operate token: %d %s", code, b)
	}
	if code, _, b := post("/-/reload", cliOpToken); code != 200 || !strings.Contains(b, "reloaded") {
		t.Errorf("reload with an operate token: %d %s", code, b)
	}
	for _, p := range []string{"/-/detect", "/-/reload"} {
		if code, _, b := post(p, cliReadToken); code != 403 || !strings.Contains(b, "forbidden") {
			t.Errorf("%s with a read token: %d %s", p, code, b)
		}
		if code, h, b := post(p, ""); code != 401 || h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without a token: %d %s", p, code, b)
		}
		if code, _, b := post(p, "cw_guess"); code != 401 {
			t.Errorf("%s with an unknown token: %d %s", p, code, b)
		}
	}
	for _, p := range []string{"/-/detect", "/-/reload", "/api/v1/alerts"} {
		method := "POST"
		if strings.HasPrefix(p, "/api") {
			method = "GET"
		}
		req, _ := http.NewRequest(method, srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+cliOpToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s after 4 failures: %d, Retry-After %q", p, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp, err := http.Get(srv.URL + "/healthz"); err != nil || resp.StatusCode == 401 || resp.StatusCode == 429 {
		t.Errorf("healthz must stay open: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
}

// controlPost POSTs to a daemon's control endpoint (/-/detect, /-/reload) with the operate token of
// testAPIConfig (the integration tests' daemons are configured with it).
func controlPost(addr, path string) (*http.Response, error) {
	req, err := http.NewRequest("POST", "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cliOpToken)
	return http.DefaultClient.Do(req)
}
