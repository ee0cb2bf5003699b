package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/detectors"
)

var adapterNow = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

// realAlerts is an httptest server around api.New with a real alerts.Manager on a temp state dir;
// the manager's external_url is the server's URL, so generator_url links point at it.
func realAlerts(t *testing.T) (*httptest.Server, *alerts.Manager) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg := alerts.DefaultConfig()
	cfg.StateDir = t.TempDir()
	cfg.ExternalURL = "http://" + srv.Listener.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := alerts.NewManager(cfg, nil, nil, log, alerts.WithClock(func() time.Time { return adapterNow }))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = New(Deps{Alerts: FromAlertsManager(m)}, testConfig(), log)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, m
}

// TestAlertsAdapter drives the API's alert endpoints against a real alerts.Manager.
func TestAlertsAdapter(t *testing.T) {
	srv, m := realAlerts(t)
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts", readToken, ""); code != 200 || !strings.Contains(string(b), `"items":[]`) {
		t.Errorf("empty list: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "POST", "/api/v1/alerts/abcdef/ack", opToken, `{"comment":"x"}`); code != 404 {
		t.Errorf("ack unknown: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts/abcdef", readToken, ""); code != 404 || errorCode(t, b) != "not_found" {
		t.Errorf("get unknown: %d %s", code, b)
	}
	if err := m.Evaluate(context.Background(), []detectors.Finding{alerts.SampleFinding(adapterNow)}, adapterNow); err != nil {
		t.Fatal(err)
	}
	var l List[Alert]
	code, _, b := do(t, srv, "GET", "/api/v1/alerts?enterprise=ENT-DEMO&component=MCU-STM32F4", readToken, "")
	if code != 200 || json.Unmarshal(b, &l) != nil || l.Total != 1 || len(l.Items[0].Actions) == 0 || l.Items[0].Severity != "critical" {
		t.Fatalf("list with filters: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts?enterprise_id=ENT-DEMO", readToken, ""); code != 200 || !strings.Contains(string(b), `"total":1`) {
		t.Errorf("enterprise_id alias: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts?enterprise=ENT-OTHER", readToken, ""); code != 200 || !strings.Contains(string(b), `"total":0`) {
		t.Errorf("other enterprise: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/alerts?enterprise=A&enterprise_id=B", readToken, ""); code != 400 || !strings.Contains(string(b), "disagree") {
		t.Errorf("conflicting alias: %d %s", code, b)
	}
	fp := l.Items[0].Fingerprint
	code, _, b = do(t, srv, "POST", "/api/v1/alerts/"+fp+"/ack", opToken, `{"comment":"called the supplier","duration":"24h"}`)
	if code != 200 || !strings.Contains(string(b), `"by":"ops-team"`) || !strings.Contains(string(b), `"state":"suppressed"`) {
		t.Errorf("ack: %d %s", code, b)
	}
	code, _, b = do(t, srv, "POST", "/api/v1/silences", opToken, `{"matchers":{"enterprise_id":"ENT-SZME"},"duration":"48h","comment":"supplier audit"}`)
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
}

// TestAlertLinksResolve follows the links of a rendered B计划 notification (generator_url) with a
// read token: each answers 200 with the alert; without a token 401.
func TestAlertLinksResolve(t *testing.T) {
	srv, m := realAlerts(t)
	if err := m.Evaluate(context.Background(), []detectors.Finding{alerts.SampleFinding(adapterNow)}, adapterNow); err != nil {
		t.Fatal(err)
	}
	views := m.Alerts(alerts.Filter{})
	if len(views) != 1 {
		t.Fatalf("want 1 alert, got %d", len(views))
	}
	msg := alerts.NewMessage(alerts.GroupInfo{Key: "ENT-DEMO", EnterpriseID: "ENT-DEMO", Lang: "en", ExternalURL: srv.URL, Now: adapterNow},
		[]*alerts.Alert{&views[0].Alert})
	_, text, err := alerts.RenderText(msg, "en", 0)
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(regexp.QuoteMeta(srv.URL)+`/api/v1/alerts/[0-9a-f]+`).FindAllString(text, -1)
	if len(links) == 0 {
		t.Fatalf("no alert link in the rendered notification:\n%s", text)
	}
	for _, link := range links {
		req, _ := http.NewRequest("GET", link, nil)
		req.Header.Set("Authorization", "Bearer "+readToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a Alert
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || a.Fingerprint != views[0].Fingerprint || a.GeneratorURL != link {
			t.Errorf("GET %s: %d %v %+v", link, resp.StatusCode, err, a)
		}
		resp, err = http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("GET %s without a token: %d, want 401", link, resp.StatusCode)
		}
	}
}

// fullView is an alert view with every field set.
func fullView(t *testing.T) alerts.AlertView {
	t.Helper()
	a, err := alerts.BuildAlert(alerts.DefaultConfig(), alerts.SampleFinding(adapterNow), adapterNow)
	if err != nil {
		t.Fatal(err)
	}
	a.Fingerprint, a.EnterpriseName, a.Status = "3585ca8d506daaced1960930", "Suzhou Zhikong", alerts.StatusResolved
	a.Detectors, a.SubjectName = []string{"single_source", "tts_ttr"}, "Suzhou Zhikong × MCU"
	a.EndsAt, a.UpdatedAt = adapterNow.Add(time.Hour), adapterNow.Add(time.Minute)
	a.GeneratorURL = "http://x/api/v1/alerts/" + a.Fingerprint
	a.Ack = &alerts.Ack{By: "alice", Comment: "ok", At: adapterNow, ExpiresAt: adapterNow.Add(24 * time.Hour), Severity: alerts.SeverityWarning}
	return alerts.AlertView{Alert: *a, State: "suppressed", SilencedBy: []string{"ab12"}}
}

// alertFieldsLeftOut are the alerts.Alert JSON fields the API does not show.
var alertFieldsLeftOut = map[string]bool{"subject": true, "subject_name": true}

func jsonMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAlertFromView: every field of the alerts package's view is mapped to the same JSON value,
// except those deliberately left out; a field added to alerts.Alert fails here until mapped.
func TestAlertFromView(t *testing.T) {
	v := fullView(t)
	src, got := jsonMap(t, v), jsonMap(t, alertFromView(v))
	rt := reflect.TypeFor[alerts.Alert]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if _, ok := src[name]; !ok && !alertFieldsLeftOut[name] {
			t.Errorf("fullView leaves alerts.Alert field %q empty: set it so the mapping is checked", name)
		}
	}
	for k, want := range src {
		if alertFieldsLeftOut[k] {
			if _, ok := got[k]; ok {
				t.Errorf("%s is shown but listed as left out", k)
			}
			continue
		}
		if !reflect.DeepEqual(got[k], want) {
			t.Errorf("%s: api %v, alerts %v", k, got[k], want)
		}
	}
	for k := range got {
		if _, ok := src[k]; !ok {
			t.Errorf("api field %s has no source", k)
		}
	}
	// The mapping copies: changing the result leaves the manager's view alone.
	out := alertFromView(v)
	out.Flags[0], *out.TTSDays, out.Actions[0].Alternate.SupplierID = "x", -1, "x"
	if v.Flags[0] == "x" || *v.TTSDays == -1 || v.Actions[0].Alternate.SupplierID == "x" {
		t.Error("alertFromView shares memory with its input")
	}
	if a := alertFromView(alerts.AlertView{}); a.Flags == nil || a.Ack != nil || a.Actions != nil {
		t.Errorf("zero view: %+v", a)
	}
}

func TestActionFromAlerts(t *testing.T) {
	alt := fullView(t).Actions[0].Alternate
	x := alerts.Action{Kind: alerts.ActionSplitVolume, Alternate: alt, Days: 1, ExceedsTTS: true, GapDays: 2, ConsumptionPerDay: 3,
		Units: 4, Share: 0.3, HHIAfter: 0.5}
	if got, want := jsonMap(t, actionFromAlerts(x)), jsonMap(t, x); !reflect.DeepEqual(got, want) {
		t.Errorf("action:\n api %v\n alerts %v", got, want)
	}
	if a := actionFromAlerts(alerts.Action{Kind: alerts.ActionFindAlternate}); a.Kind != "find_alternate" || a.Alternate != nil {
		t.Errorf("find_alternate: %+v", a)
	}
}

func TestAckFromAlerts(t *testing.T) {
	if ackFromAlerts(nil) != nil {
		t.Error("nil ack mapped to an ack")
	}
	a := fullView(t).Ack
	got := ackFromAlerts(a)
	if got.Severity != "warning" || !reflect.DeepEqual(jsonMap(t, got), jsonMap(t, a)) {
		t.Errorf("ack: %+v from %+v", got, a)
	}
}

func TestSilenceMapping(t *testing.T) {
	s := alerts.Silence{ID: "ab12", Matchers: alerts.Matchers{EnterpriseID: "E", ComponentID: "C", Category: "key_material"},
		StartsAt: adapterNow, EndsAt: adapterNow.Add(time.Hour), CreatedBy: "bob", Comment: "audit",
		CreatedAt: adapterNow, UpdatedAt: adapterNow.Add(time.Minute), State: "active"}
	if got, want := jsonMap(t, silenceFromAlerts(s)), jsonMap(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("silence:\n api %v\n alerts %v", got, want)
	}
	m := Matchers{EnterpriseID: "E", ComponentID: "C", Category: "K"}
	if back := matchersFromAlerts(matchersToAlerts(m)); back != m {
		t.Errorf("matchers round trip: %+v", back)
	}
	req := SilenceRequest{Matchers: m, StartsAt: adapterNow, EndsAt: adapterNow.Add(time.Hour), Duration: "1h", Comment: "c", CreatedBy: "ops"}
	got := silenceRequestToAlerts(req)
	want := alerts.Silence{Matchers: alerts.Matchers{EnterpriseID: "E", ComponentID: "C", Category: "K"}, StartsAt: req.StartsAt,
		EndsAt: req.EndsAt, CreatedBy: "ops", Comment: "c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("silence request: %+v", got)
	}
}

func TestMapErr(t *testing.T) {
	nf := mapErr(errors.Join(errors.New("alert x"), alerts.ErrNotFound))
	if !errors.Is(nf, ErrNotFound) || !errors.Is(nf, alerts.ErrNotFound) {
		t.Errorf("not found: %v", nf)
	}
	if inv := mapErr(alerts.ErrInvalid); !errors.Is(inv, ErrInvalid) {
		t.Errorf("invalid: %v", inv)
	}
	if mapErr(nil) != nil {
		t.Error("nil")
	}
}
