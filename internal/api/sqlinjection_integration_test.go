package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report"
	"github.com/chainwatch/chainwatch/internal/report/reporttest"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// sqlPayloads are classic injection strings (quotes, comments, stacked statements, UNION, a
// backslash escape, ClickHouse functions); none is a valid value of any parameter.
var sqlPayloads = []string{
	`' OR 1=1 --`,
	`x') OR ('1'='1`,
	`1; DROP TABLE findings --`,
	`\' OR 1=1 #`,
	`ENT-SZEV' UNION ALL SELECT name FROM system.tables --`,
	`CMP-MCU' OR subject LIKE '%`,
	"a\x00b' OR '1'='1",
	`') FORMAT JSON --`,
	`2026-W47' OR 1=1 --`,
}

var acceptsRe = regexp.MustCompile(`this endpoint accepts ([a-z_, ]+)`)

// TestSQLInjectionIntegration tries every payload in every query parameter of every GET route
// (the accepted parameters are discovered from the API's own 400 for an unknown parameter) and
// in every path parameter, against the real handler and a real ClickHouse database with the demo
// data: the answer is a 400 (or 404 / 501), or a 200 with no more rows than a value that matches
// nothing; never a 500 nor a ClickHouse error text.
func TestSQLInjectionIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ds, err := reporttest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	expCfg := exposure.DefaultConfig()
	store := exposure.NewStore(conn, expCfg)
	digests := report.NewWithQuerier(conn, expCfg, report.DefaultConfig(), nil)
	digests.SetClock(func() time.Time { return reporttest.Anchor })
	h := New(Deps{Store: store, Digests: digests, DetectorNames: detectors.Names,
		Regional: exposure.NewRegional(store, detectors.DefaultConfig())}, testConfig(), slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	defer srv.Close()

	tried := 0
	for _, rt := range h.(*server).routes {
		if rt.Method != "GET" || rt.Role == rolePublic {
			continue
		}
		for _, path := range injectedPaths(rt.Path) {
			tried += checkInjection(t, srv, path, "")
		}
		base := strings.NewReplacer("{week}", "2026-W47", "{id}", "CMP-MCU", "{fingerprint}", "fp").Replace(rt.Path)
		for _, p := range acceptedParams(t, srv, base) {
			for _, payload := range sqlPayloads {
				tried += checkInjection(t, srv, base, p+"="+url.QueryEscape(payload))
			}
		}
	}
	t.Logf("%d injection requests, none answered with a SQL error or extra rows", tried)
	if tried < 100 {
		t.Errorf("only %d requests tried; the parameter discovery broke", tried)
	}
}

// injectedPaths substitutes every payload for the path parameters of pattern.
func injectedPaths(pattern string) []string {
	if !strings.Contains(pattern, "{") {
		return nil
	}
	var out []string
	for _, p := range sqlPayloads {
		out = append(out, regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(pattern, url.PathEscape(p)))
	}
	return out
}

// acceptedParams asks path for its parameters (its 400 for an unknown one lists them).
func acceptedParams(t *testing.T, srv *httptest.Server, path string) []string {
	t.Helper()
	code, _, b := do(t, srv, "GET", path+"?zz_unknown=1", readToken, "")
	if code == 501 || code == 404 {
		return nil
	}
	m := acceptsRe.FindStringSubmatch(string(b))
	if code != 400 || m == nil {
		if !strings.Contains(string(b), "accepts no parameters") && !strings.Contains(string(b), "unknown parameter") {
			t.Errorf("%s?zz_unknown=1: %d %s", path, code, b)
		}
		return nil
	}
	var ps []string
	for _, p := range strings.Split(m[1], ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// checkInjection requests path?query and judges the answer; it returns 1 (one request).
func checkInjection(t *testing.T, srv *httptest.Server, path, query string) int {
	t.Helper()
	full := path
	if query != "" {
		full += "?" + query
	}
	code, _, b := do(t, srv, "GET", full, readToken, "")
	body := string(b)
	for _, bad := range []string{"DB::Exception", "Code: 62", "Syntax error", "SYNTAX_ERROR", "clickhouse"} {
		if strings.Contains(body, bad) {
			t.Errorf("GET %s: the answer carries a SQL error (%q): %.300s", full, bad, body)
		}
	}
	switch code {
	case 400, 404, 501:
		return 1
	case 200:
	default:
		t.Errorf("GET %s: %d %.300s", full, code, body)
		return 1
	}
	// A 200 must not return more than a value that matches nothing.
	name, _, _ := strings.Cut(query, "=")
	baseline := path
	if name != "" {
		baseline += "?" + name + "=zz-no-such-value"
	} else {
		baseline = regexp.MustCompile(`/[^/]*(%27|%5C|%00|%22)[^/]*`).ReplaceAllString(path, "/zz-no-such-value")
	}
	bcode, _, bb := do(t, srv, "GET", baseline, readToken, "")
	if bcode == 200 && rows(b) > rows(bb) {
		t.Errorf("GET %s: %d rows, but %d for a value matching nothing (%s)", full, rows(b), rows(bb), baseline)
	}
	return 1
}

// rows counts the records of an answer: the total (or items) of a JSON list, else its lines.
func rows(b []byte) int {
	var l struct {
		Total *int              `json:"total"`
		Items []json.RawMessage `json:"items"`
	}
	if json.Unmarshal(b, &l) == nil && (l.Total != nil || l.Items != nil) {
		if l.Total != nil {
			return *l.Total
		}
		return len(l.Items)
	}
	return strings.Count(string(b), "\n") + strings.Count(string(b), `"subject"`)
}
