package webhook_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
	"github.com/chainwatch/chainwatch/alerts/webhook"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func notifier(t *testing.T, url string) *webhook.Notifier {
	t.Helper()
	n, err := webhook.New(url, "hook-secret", hook.New(alerttest.HTTPConfig(), nil, nil), false)
	if err != nil {
		t.Fatal(err)
	}
	return n.WithClock(func() time.Time { return now })
}

func TestSignedPayload(t *testing.T) {
	rcv := alerttest.NewReceiver(t, `{}`)
	if _, err := notifier(t, rcv.URL+"/hooks/chainwatch").Notify(alerttest.GroupCtx("en", now), alerttest.SampleGroup(now)...); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.Requests()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/hooks/chainwatch" {
		t.Fatalf("requests %+v", reqs)
	}
	r := reqs[0]
	sig := r.Header.Get(webhook.SignatureHeader)
	if !webhook.Verify([]byte("hook-secret"), r.Body, sig) {
		t.Errorf("signature %q does not verify", sig)
	}
	if webhook.Verify([]byte("other"), r.Body, sig) || webhook.Verify([]byte("hook-secret"), append(r.Body, ' '), sig) {
		t.Error("signature verifies with a wrong key or body")
	}
	if r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
	var p webhook.Payload
	alerttest.StrictDecode(t, r.Body, &p)
	if ts := r.Header.Get(webhook.TimestampHeader); ts != strconv.FormatInt(now.Unix(), 10) || p.Timestamp != now.Unix() {
		t.Errorf("timestamp header %q body %d", ts, p.Timestamp)
	}
	if p.Version != "1" || p.Status != alerts.StatusFiring || p.EnterpriseID != "ENT-DEMO" || p.Firing != 1 || p.Resolved != 1 || len(p.Alerts) != 2 {
		t.Errorf("payload %+v", p)
	}
	a := p.Alerts[0]
	if a.Severity != alerts.SeverityCritical || len(a.Alternates) != 2 || !a.Alternates[0].Domestic || len(a.Actions) != 3 || a.Actions[1].Units != 4800 {
		t.Errorf("alert %+v", a)
	}
	var raw map[string]any
	_ = json.Unmarshal(r.Body, &raw)
	if raw["alerts"].([]any)[0].(map[string]any)["severity"] != "critical" {
		t.Errorf("severity is not a string in JSON")
	}
}

func TestRetries5xxNot4xx(t *testing.T) {
	rcv := alerttest.NewReceiver(t, `{}`)
	rcv.Answer = func(n int) (int, string) {
		if n <= 2 {
			return 503, `{"error":"busy"}`
		}
		return 200, `{}`
	}
	retry, err := notifier(t, rcv.URL).Notify(alerttest.GroupCtx("en", now), alerttest.SampleGroup(now)...)
	if err != nil || retry {
		t.Fatalf("5xx then 200: retry=%v err=%v", retry, err)
	}
	if n := len(rcv.Requests()); n != 3 {
		t.Errorf("attempts %d, want 3 (503, 503, 200)", n)
	}

	rcv4 := alerttest.NewReceiver(t, `{}`)
	rcv4.Answer = func(int) (int, string) { return 400, `{"error":"bad"}` }
	retry, err = notifier(t, rcv4.URL).Notify(alerttest.GroupCtx("en", now), alerttest.SampleGroup(now)...)
	if err == nil || retry || alerts.ReasonOf(err) != alerts.ReasonClientError {
		t.Fatalf("4xx: retry=%v reason=%s err=%v", retry, alerts.ReasonOf(err), err)
	}
	if n := len(rcv4.Requests()); n != 1 {
		t.Errorf("4xx attempts %d, want 1", n)
	}

	rcv5 := alerttest.NewReceiver(t, `{}`)
	rcv5.Answer = func(int) (int, string) { return 502, `` }
	retry, err = notifier(t, rcv5.URL).Notify(alerttest.GroupCtx("en", now), alerttest.SampleGroup(now)...)
	if err == nil || !retry || alerts.ReasonOf(err) != alerts.ReasonServerError {
		t.Fatalf("persistent 5xx: retry=%v reason=%s err=%v", retry, alerts.ReasonOf(err), err)
	}
	if n := len(rcv5.Requests()); n != 4 {
		t.Errorf("persistent 5xx attempts %d, want 1 + retry_max 3", n)
	}
}
