package dingtalk_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/dingtalk"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// Documented shape: {"msgtype":"markdown","markdown":{"title":"...","text":"..."},"at":{"atMobiles":[...],"isAtAll":false}}.
type dingMarkdown struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At struct {
		AtMobiles []string `json:"atMobiles"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
}

func TestSignedMarkdown(t *testing.T) {
	rcv := alerttest.NewReceiver(t, `{"errcode":0,"errmsg":"ok"}`)
	n, err := dingtalk.New(rcv.URL+"/robot/send?access_token=TOKEN", "SECdemo", hook.New(alerttest.HTTPConfig(), nil, nil), "en", false)
	if err != nil {
		t.Fatal(err)
	}
	n.WithClock(func() time.Time { return now })
	if _, err := n.Notify(alerttest.GroupCtx("zh-CN", now), alerttest.SampleGroup(now)...); err != nil {
		t.Fatal(err)
	}
	r := rcv.Requests()[0]
	ts := r.Query.Get("timestamp")
	if r.Path != "/robot/send" || r.Query.Get("access_token") != "TOKEN" || ts != strconv.FormatInt(now.UnixMilli(), 10) {
		t.Fatalf("query %v", r.Query)
	}
	// sign = base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)); the query decoding undid the url-encoding.
	mac := hmac.New(sha256.New, []byte("SECdemo"))
	mac.Write([]byte(ts + "\nSECdemo"))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Query.Get("sign") != want {
		t.Errorf("sign %q, want %q", r.Query.Get("sign"), want)
	}
	var m dingMarkdown
	alerttest.StrictDecode(t, r.Body, &m)
	if m.MsgType != "markdown" || m.Markdown.Title != "B-plan warning · 苏州智控装备 (ENT-DEMO)" || m.At.IsAtAll {
		t.Errorf("message %+v", m)
	}
	for _, want := range []string{"#### [CRITICAL] MCU-STM32F4", "Raise safety stock by 4800 units", "SUP-GIGADEVICE / MCU-GD32F470"} {
		if !strings.Contains(m.Markdown.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}

	for _, c := range []struct {
		body  string
		retry bool
	}{{`{"errcode":130101,"errmsg":"send too fast"}`, true}, {`{"errcode":310000,"errmsg":"sign not match"}`, false}} {
		bad := alerttest.NewReceiver(t, c.body)
		n, _ := dingtalk.New(bad.URL, "", hook.New(alerttest.HTTPConfig(), nil, nil), "", false)
		retry, err := n.Notify(alerttest.GroupCtx("en", now), alerttest.SampleGroup(now)...)
		if err == nil || retry != c.retry || alerts.ReasonOf(err) != alerts.ReasonRejected {
			t.Errorf("%s: retry=%v err=%v", c.body, retry, err)
		}
		if q := bad.Requests()[0].Query; q.Has("sign") {
			t.Errorf("signed without a secret: %v", q)
		}
	}
}
