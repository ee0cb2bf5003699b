package wecom_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
	"github.com/chainwatch/chainwatch/alerts/wecom"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// Documented shape: {"msgtype":"markdown","markdown":{"content":"..."}}.
type wecomMarkdown struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

func TestMarkdownShapeAndErrors(t *testing.T) {
	rcv := alerttest.NewReceiver(t, `{"errcode":0,"errmsg":"ok"}`)
	n, err := wecom.New(rcv.URL+"/cgi-bin/webhook/send?key=KEY-1", hook.New(alerttest.HTTPConfig(), nil, nil), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(alerttest.GroupCtx("zh-CN", now), alerttest.SampleGroup(now)...); err != nil {
		t.Fatal(err)
	}
	r := rcv.Requests()[0]
	if r.Path != "/cgi-bin/webhook/send" || r.Query.Get("key") != "KEY-1" {
		t.Errorf("url %s %v", r.Path, r.Query)
	}
	var m wecomMarkdown
	alerttest.StrictDecode(t, r.Body, &m)
	if m.MsgType != "markdown" || len(m.Markdown.Content) > wecom.MaxContentBytes {
		t.Fatalf("msgtype %q, %d bytes", m.MsgType, len(m.Markdown.Content))
	}
	for _, want := range []string{"### B计划预警 · 苏州智控装备（ENT-DEMO）", "【严重】MCU-STM32F4", "将安全库存提高 4800 件", "CN，国产", "已解除"} {
		if !strings.Contains(m.Markdown.Content, want) {
			t.Errorf("content lacks %q:\n%s", want, m.Markdown.Content)
		}
	}

	// A big group is cut under 4096 bytes.
	var many []*alerts.Alert
	for i := range 40 {
		a := alerts.SampleAlert(now, "苏州智控装备")
		a.ComponentID = "COMP-" + strings.Repeat("X", i%5) + string(rune('A'+i%26))
		many = append(many, a)
	}
	if _, err := n.Notify(alerttest.GroupCtx("zh-CN", now), many...); err != nil {
		t.Fatal(err)
	}
	alerttest.StrictDecode(t, rcv.Requests()[1].Body, &m)
	if len(m.Markdown.Content) > 4096 || !strings.Contains(m.Markdown.Content, "另有") {
		t.Errorf("big group: %d bytes", len(m.Markdown.Content))
	}

	for _, c := range []struct {
		body  string
		retry bool
	}{{`{"errcode":45009,"errmsg":"api freq out of limit"}`, true}, {`{"errcode":93000,"errmsg":"invalid webhook url"}`, false}} {
		bad := alerttest.NewReceiver(t, c.body)
		n, _ := wecom.New(bad.URL, hook.New(alerttest.HTTPConfig(), nil, nil), "", false)
		retry, err := n.Notify(alerttest.GroupCtx("en", now), alerttest.SampleGroup(now)...)
		if err == nil || retry != c.retry || alerts.ReasonOf(err) != alerts.ReasonRejected {
			t.Errorf("%s: retry=%v err=%v", c.body, retry, err)
		}
	}
}
