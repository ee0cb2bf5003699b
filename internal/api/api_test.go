package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"gopkg.in/yaml.v3"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report"
)

const (
	readToken = "cw_read-token-for-tests"
	opToken   = "cw_operate-token-for-tests"
)

func testConfig() Config {
	c := DefaultConfig()
	c.DefaultLimit, c.MaxLimit = 5, 50
	c.Tokens = []TokenConfig{
		{Name: "dashboard", Role: RoleRead, SHA256: confkit.Secret(HashToken(readToken))},
		{Name: "ops-team", Role: RoleOperate, SHA256: confkit.Secret(HashToken(opToken))},
	}
	return c
}

// noQuery fails the test if the API reaches ClickHouse (parameter errors must be caught first).
type noQuery struct{ t *testing.T }

func (n noQuery) Query(context.Context, string, ...any) (driver.Rows, error) {
	n.t.Helper()
	n.t.Errorf("unexpected ClickHouse query")
	return nil, errors.New("no clickhouse in unit tests")
}

type fakeAlerts struct {
	alerts   []Alert
	silences []Silence
	lastAck  AckRequest
	lastSil  SilenceRequest
}

func (f *fakeAlerts) Alerts(context.Context) ([]Alert, error) { return f.alerts, nil }
func (f *fakeAlerts) Alert(_ context.Context, fp string) (Alert, error) {
	for _, a := range f.alerts {
		if a.Fingerprint == fp {
			return a, nil
		}
	}
	return Alert{}, fmt.Errorf("alert %s: %w", fp, ErrNotFound)
}
func (f *fakeAlerts) Ack(_ context.Context, fp string, req AckRequest) (Alert, error) {
	for _, a := range f.alerts {
		if a.Fingerprint == fp {
			f.lastAck = req
			a.Ack = &Ack{By: req.By, Comment: req.Comment, At: time.Now().UTC(), ExpiresAt: req.ExpiresAt}
			return a, nil
		}
	}
	return Alert{}, fmt.Errorf("alert %s: %w", fp, ErrNotFound)
}
func (f *fakeAlerts) Silences(context.Context) ([]Silence, error) { return f.silences, nil }
func (f *fakeAlerts) CreateSilence(_ context.Context, req SilenceRequest) (Silence, error) {
	f.lastSil = req
	return Silence{ID: "abc123", Matchers: req.Matchers, StartsAt: req.StartsAt, EndsAt: req.EndsAt, CreatedBy: req.CreatedBy,
		Comment: req.Comment, State: "active"}, nil
}
func (f *fakeAlerts) ExpireSilence(_ context.Context, id string) error {
	if id != "abc123" {
		return ErrNotFound
	}
	return nil
}

type fakeDigests struct{}

func (fakeDigests) Get(_ context.Context, w report.Week, s report.Scope, format, lang string) ([]byte, error) {
	if w.Year > 2030 {
		return nil, report.ErrFutureWeek
	}
	if lang != "" {
		format += " lang=" + lang
	}
	return []byte("# digest " + w.String() + " " + s.Region + " " + format), nil
}
func (fakeDigests) List(context.Context, *string, *string, int) ([]report.Entry, error) {
	return []report.Entry{{Week: "2026-W47", Year: 2026, WeekNumber: 47, Formats: []string{"csv", "html", "md"}}}, nil
}

func newTestServer(t *testing.T) (*httptest.Server, *fakeAlerts) {
	t.Helper()
	fa := &fakeAlerts{}
	for i, sev := range []string{"warning", "critical", "info", "critical", "warning", "warning", "critical"} {
		status := "firing"
		if i == 2 {
			status = "resolved"
		}
		fa.alerts = append(fa.alerts, Alert{Fingerprint: fmt.Sprintf("%024x", i+1), Name: "BPlanWarning",
			EnterpriseID: fmt.Sprintf("ENT-%d", i%3), ComponentID: "CMP-MCU", Category: "high_end_chip", Severity: sev,
			Status: status, Score: float64(60 + i), StartsAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	}
	deps := Deps{Store: exposure.NewStore(noQuery{t}, exposure.DefaultConfig()), Digests: fakeDigests{}, Alerts: fa, DetectorNames: detectors.Names}
	srv := httptest.NewServer(New(deps, testConfig(), slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv, fa
}

func do(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("not a JSON error body: %s", b)
	}
	return e.Code
}

func TestAuth(t *testing.T) {
	srv, _ := newTestServer(t)
	code, h, b := do(t, srv, "GET", "/api/v1/alerts", "", "")
	if code != 401 || errorCode(t, b) != "unauthorized" || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts", "cw_wrong", ""); code != 401 || errorCode(t, b) != "unauthorized" {
		t.Errorf("wrong token: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts", HashToken(readToken), ""); code != 401 {
		t.Errorf("the hash itself must not work as a token: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "POST", "/api/v1/silences", readToken, `{}`); code != 403 || errorCode(t, b) != "forbidden" {
		t.Errorf("read token on operate endpoint: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts", readToken, ""); code != 200 {
		t.Errorf("read token: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts", opToken, ""); code != 200 {
		t.Errorf("operate token may read: %d %s", code, b)
	}
	code, h, b = do(t, srv, "GET", "/api/v1/openapi.yaml", "", "")
	if code != 200 || !bytes.HasPrefix(b, []byte("openapi: 3")) || h.Get("Content-Type") != "application/yaml" {
		t.Errorf("openapi.yaml must be public: %d", code)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/nope", readToken, ""); code != 404 || errorCode(t, b) != "not_found" {
		t.Errorf("unknown path: %d %s", code, b)
	}
	code, h, b = do(t, srv, "PUT", "/api/v1/silences", opToken, "")
	if code != 405 || errorCode(t, b) != "method_not_allowed" || !strings.Contains(h.Get("Allow"), "POST") {
		t.Errorf("wrong method: %d %s %v", code, b, h)
	}
}

func TestBadParameters(t *testing.T) {
	srv, _ := newTestServer(t)
	cases := map[string]string{
		"/api/v1/exposures?min_score=abc":           "min_score",
		"/api/v1/exposures?min_score=101":           "min_score",
		"/api/v1/exposures?sort=bogus":              "sort",
		"/api/v1/exposures?limit=0":                 "limit",
		"/api/v1/exposures?limit=51":                "limit",
		"/api/v1/exposures?cursor=bm90LWpzb24":      "cursor",
		"/api/v1/exposures?region=%zz":              "malformed",
		"/api/v1/exposures?cursor=e30&page=2":       "cursor or page",
		"/api/v1/exposures?page=0":                  "page",
		"/api/v1/exposures?category=chips":          "category",
		"/api/v1/exposures?severity=urgent":         "severity",
		"/api/v1/exposures?chain_leader=maybe":      "chain_leader",
		"/api/v1/exposures?as_of=yesterday":         "as_of",
		"/api/v1/exposures?regoin=Jiangsu":          "regoin",
		"/api/v1/exposures?region=a&region=b":       "region",
		"/api/v1/findings?detector=magic":           "detector",
		"/api/v1/findings?subject_type=planet":      "subject_type",
		"/api/v1/alerts?status=open":                "status",
		"/api/v1/digests/2026-W99":                  "2026",
		"/api/v1/digests/last-week":                 "ISO week",
		"/api/v1/digests/2026-W47?format=pdf":       "format",
		"/api/v1/digests/2036-W01":                  "not started",
		"/api/v1/digests?limit=-1":                  "limit",
		"/api/v1/runs?as_of=2026-13-01":             "as_of",
		"/api/v1/supply/components/x?deep=1":        "deep",
		"/api/v1/silences?state=paused":             "state",
		"/api/v1/exposures?min_score=50&sort=-oops": "sort",
	}
	for path, want := range cases {
		code, _, b := do(t, srv, "GET", path, readToken, "")
		if code != 400 || errorCode(t, b) != "bad_request" || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %s (want 400 naming %q)", path, code, b, want)
		}
	}
	// A cursor from another query is refused.
	cur := page{limit: 5, offset: 0, hash: shortHash(filterKey(map[string][]string{"region": {"Anhui"}}))}.next(100)
	code, _, b := do(t, srv, "GET", "/api/v1/exposures?region=Jiangsu&cursor="+cur, readToken, "")
	if code != 400 || !strings.Contains(string(b), "different query") {
		t.Errorf("foreign cursor: %d %s", code, b)
	}
	// Bodies.
	for body, want := range map[string]string{
		``:                "JSON object",
		`{"matchers":{}}`: "matchers",
		`{"matchers":{"enterprise_id":"E"},"comment":"x"}`:                       "ends_at or duration",
		`{"matchers":{"enterprise_id":"E"},"comment":"x","duration":"soon"}`:     "duration",
		`{"matchers":{"enterprise_id":"E"},"duration":"1h"}`:                     "comment",
		`{"matchers":{"enterprise_id":"E"},"comment":"x","duration":"1h","x":1}`: "unknown field",
	} {
		code, _, b := do(t, srv, "POST", "/api/v1/silences", opToken, body)
		if code != 400 || !strings.Contains(string(b), want) {
			t.Errorf("POST silences %q: %d %s (want 400 naming %q)", body, code, b, want)
		}
	}
	if code, _, b := do(t, srv, "POST", "/api/v1/alerts/zzz/ack", opToken, `{}`); code != 400 {
		t.Errorf("bad fingerprint: %d %s", code, b)
	}
}

func TestAlertsAndDigests(t *testing.T) {
	srv, fa := newTestServer(t)
	var l List[Alert]
	code, _, b := do(t, srv, "GET", "/api/v1/alerts?status=firing&limit=2", readToken, "")
	if code != 200 || json.Unmarshal(b, &l) != nil {
		t.Fatalf("%d %s", code, b)
	}
	if l.Total != 6 || len(l.Items) != 2 || l.Items[0].Severity != "critical" || l.NextCursor == "" {
		t.Fatalf("page 1: %+v", l)
	}
	seen := map[string]bool{}
	for _, a := range l.Items {
		seen[a.Fingerprint] = true
	}
	for next := l.NextCursor; next != ""; {
		var p List[Alert]
		code, _, b := do(t, srv, "GET", "/api/v1/alerts?status=firing&limit=2&cursor="+next, readToken, "")
		if code != 200 || json.Unmarshal(b, &p) != nil {
			t.Fatalf("%d %s", code, b)
		}
		for _, a := range p.Items {
			if seen[a.Fingerprint] {
				t.Errorf("duplicate across pages: %s", a.Fingerprint)
			}
			seen[a.Fingerprint] = true
		}
		next = p.NextCursor
	}
	if len(seen) != 6 {
		t.Errorf("cursor walk saw %d alerts, want 6", len(seen))
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts?status=firing&limit=2&page=3", readToken, ""); code != 200 || !strings.Contains(string(b), `"offset":4`) {
		t.Errorf("page=3: %d %s", code, b)
	}
	code, _, b = do(t, srv, "POST", "/api/v1/alerts/"+fa.alerts[1].Fingerprint+"/ack", opToken, `{"comment":"supplier called","duration":"72h"}`)
	if code != 200 || fa.lastAck.By != "ops-team" || fa.lastAck.ExpiresAt.Before(time.Now().Add(71*time.Hour)) {
		t.Errorf("ack: %d %s %+v", code, b, fa.lastAck)
	}
	if code, _, b := do(t, srv, "POST", "/api/v1/alerts/ffff/ack", opToken, `{}`); code != 404 || errorCode(t, b) != "not_found" {
		t.Errorf("ack unknown: %d %s", code, b)
	}
	code, _, b = do(t, srv, "POST", "/api/v1/silences", opToken, `{"matchers":{"component_id":"CMP-MCU"},"duration":"24h","comment":"maintenance"}`)
	if code != 201 || fa.lastSil.CreatedBy != "ops-team" || !fa.lastSil.StartsAt.IsZero() || time.Until(fa.lastSil.EndsAt) < 23*time.Hour {
		t.Errorf("silence: %d %s %+v", code, b, fa.lastSil)
	}
	if code, _, _ := do(t, srv, "DELETE", "/api/v1/silences/abc123", opToken, ""); code != 204 {
		t.Errorf("expire: %d", code)
	}
	if code, _, _ := do(t, srv, "DELETE", "/api/v1/silences/def456", opToken, ""); code != 404 {
		t.Errorf("expire unknown: %d", code)
	}
	code, h, b := do(t, srv, "GET", "/api/v1/digests/2026-W47?format=md&region=Jiangsu", readToken, "")
	if code != 200 || string(b) != "# digest 2026-W47 Jiangsu md" || !strings.HasPrefix(h.Get("Content-Type"), "text/markdown") {
		t.Errorf("digest: %d %q %v", code, b, h)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/digests", readToken, ""); code != 200 || !strings.Contains(string(b), `"week":"2026-W47"`) {
		t.Errorf("digest list: %d %s", code, b)
	}
	// Without an alert service: 501.
	s2 := httptest.NewServer(New(Deps{}, testConfig(), nil))
	defer s2.Close()
	if code, _, b := do(t, s2, "GET", "/api/v1/alerts", readToken, ""); code != 501 || errorCode(t, b) != "not_implemented" {
		t.Errorf("no alert service: %d %s", code, b)
	}
}

// TestOpenAPIMatchesRoutes walks the registered routes and the OpenAPI paths and methods both ways.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Servers []struct{ URL string }               `yaml:"servers"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("openapi %q servers %+v", doc.OpenAPI, doc.Servers)
	}
	spec := map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if m == "parameters" {
				continue
			}
			spec[strings.ToUpper(m)+" /api/v1"+p] = true
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s has no responses", m, p)
			}
			if sec, ok := op["security"]; ok && p != "/openapi.yaml" {
				t.Errorf("%s %s overrides security: %v", m, p, sec)
			}
		}
	}
	routes := map[string]bool{}
	for _, r := range Routes() {
		k := r.Method + " " + r.Path
		routes[k] = true
		if !spec[k] {
			t.Errorf("route %s is not in openapi.yaml", k)
		}
		if (r.Role == "") != (r.Path == "/api/v1/openapi.yaml") {
			t.Errorf("route %s role %q", k, r.Role)
		}
	}
	for k := range spec {
		if !routes[k] {
			t.Errorf("openapi.yaml documents %s, which is not a route", k)
		}
	}
	// Every $ref resolves.
	var raw map[string]any
	_ = yaml.Unmarshal(OpenAPI(), &raw)
	var refs []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if k == "$ref" {
					refs = append(refs, y.(string))
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(raw)
	sort.Strings(refs)
	for _, ref := range refs {
		node := any(raw)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := node.(map[string]any)
			if !ok {
				node = nil
				break
			}
			node = m[part]
		}
		if node == nil {
			t.Errorf("unresolved $ref %s", ref)
		}
	}
}

func TestTokenHelpers(t *testing.T) {
	tok, h, err := NewToken()
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) || len(h) != 64 || HashToken(tok) != h {
		t.Fatalf("NewToken: %q %q %v", tok, h, err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
