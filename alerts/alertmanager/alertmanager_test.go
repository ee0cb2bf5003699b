package alertmanager_test

import (
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts/alertmanager"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// The documented postableAlerts shape: [{labels, annotations, startsAt, endsAt, generatorURL}].
type postable struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

func TestPostsV2Alerts(t *testing.T) {
	rcv := alerttest.NewReceiver(t, ``)
	n, err := alertmanager.New(rcv.URL+"/", hook.New(alerttest.HTTPConfig(), nil, nil), 6*time.Hour, "en", false)
	if err != nil {
		t.Fatal(err)
	}
	n.WithClock(func() time.Time { return now.Add(time.Minute) })
	group := alerttest.SampleGroup(now)
	group[0].GeneratorURL = "http://cw.local:9464/api/v1/alerts/" + group[0].Fingerprint
	if _, err := n.Notify(alerttest.GroupCtx("zh-CN", now), group...); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/api/v2/alerts" || reqs[0].Method != "POST" {
		t.Fatalf("requests %+v", reqs)
	}
	var got []postable
	alerttest.StrictDecode(t, reqs[0].Body, &got)
	if len(got) != 2 {
		t.Fatalf("alerts %d", len(got))
	}
	f, r := got[0], got[1]
	for k, v := range map[string]string{"alertname": "BPlanWarning", "enterprise_id": "ENT-DEMO", "component_id": "MCU-STM32F4",
		"severity": "critical", "category": "semiconductors"} {
		if f.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, f.Labels[k], v)
		}
	}
	if f.Annotations["summary"] == "" || f.Annotations["tts_days"] != "12" || f.Annotations["ttr_days"] != "60" ||
		f.Annotations["alternates"] != "SUP-GIGADEVICE/MCU-GD32F470@CN,SUP-RENESAS/MCU-RA6M5@JP" {
		t.Errorf("annotations %v", f.Annotations)
	}
	if !f.StartsAt.Equal(now) || !f.EndsAt.Equal(now.Add(time.Minute+6*time.Hour)) || f.GeneratorURL == "" {
		t.Errorf("firing times %v %v %q", f.StartsAt, f.EndsAt, f.GeneratorURL)
	}
	if !r.EndsAt.Equal(now) || r.Labels["component_id"] != "CAP-0402" {
		t.Errorf("resolved alert: %+v", r)
	}
}
