package feishu_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/feishu"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// Documented shapes.
type textMsg struct {
	Timestamp string `json:"timestamp"`
	Sign      string `json:"sign"`
	MsgType   string `json:"msg_type"`
	Content   struct {
		Text string `json:"text"`
	} `json:"content"`
}

type postMsg struct {
	MsgType string `json:"msg_type"`
	Content struct {
		Post map[string]struct {
			Title   string `json:"title"`
			Content [][]struct {
				Tag  string `json:"tag"`
				Text string `json:"text"`
				Href string `json:"href"`
			} `json:"content"`
		} `json:"post"`
	} `json:"content"`
}

type cardMsg struct {
	MsgType string `json:"msg_type"`
	Card    struct {
		Config struct {
			WideScreenMode bool `json:"wide_screen_mode"`
		} `json:"config"`
		Header struct {
			Title struct {
				Tag     string `json:"tag"`
				Content string `json:"content"`
			} `json:"title"`
			Template string `json:"template"`
		} `json:"header"`
		Elements []struct {
			Tag     string `json:"tag"`
			Content string `json:"content"`
		} `json:"elements"`
	} `json:"card"`
}

func send(t *testing.T, format, secret, answer string) alerttest.Request {
	t.Helper()
	rcv := alerttest.NewReceiver(t, answer)
	n, err := feishu.New(rcv.URL+"/open-apis/bot/v2/hook/HOOK", secret, format, hook.New(alerttest.HTTPConfig(), nil, nil), "", false)
	if err != nil {
		t.Fatal(err)
	}
	n.WithClock(func() time.Time { return now })
	if _, err := n.Notify(alerttest.GroupCtx("zh-CN", now), alerttest.SampleGroup(now)...); err != nil {
		t.Fatal(err)
	}
	return rcv.Requests()[0]
}

func TestTextWithSign(t *testing.T) {
	r := send(t, "text", "feishu-secret", `{"code":0,"msg":"success","data":{}}`)
	var m textMsg
	alerttest.StrictDecode(t, r.Body, &m)
	if m.MsgType != "text" || m.Timestamp != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("msg %+v", m)
	}
	// sign = base64(HMAC-SHA256(key=timestamp+"\n"+secret, message=""))
	mac := hmac.New(sha256.New, []byte(m.Timestamp+"\nfeishu-secret"))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); m.Sign != want {
		t.Errorf("sign %q want %q", m.Sign, want)
	}
	if !strings.Contains(m.Content.Text, "将安全库存提高 4800 件") || !strings.Contains(m.Content.Text, "B计划预警") {
		t.Errorf("text %s", m.Content.Text)
	}
}

func TestPost(t *testing.T) {
	r := send(t, "post", "", `{"StatusCode":0,"StatusMessage":"success"}`)
	var m postMsg
	alerttest.StrictDecode(t, r.Body, &m)
	zh, ok := m.Content.Post["zh_cn"]
	if m.MsgType != "post" || !ok || zh.Title != "B计划预警 · 苏州智控装备（ENT-DEMO）" || len(zh.Content) < 10 {
		t.Fatalf("post %+v", m)
	}
	links := 0
	for _, para := range zh.Content {
		for _, e := range para {
			if e.Tag == "a" {
				links++
				if !strings.HasPrefix(e.Href, "http://") || e.Href != e.Text {
					t.Errorf("link %q", e.Href)
				}
			} else if e.Tag != "text" {
				t.Errorf("tag %q", e.Tag)
			}
		}
	}
	if links == 0 {
		t.Error("no link element")
	}
	if strings.Contains(string(r.Body), `"sign"`) {
		t.Error("signed without a secret")
	}
}

func TestInteractiveAndErrors(t *testing.T) {
	r := send(t, "", "", `{"code":0,"msg":"success"}`) // default format
	var m cardMsg
	alerttest.StrictDecode(t, r.Body, &m)
	if m.MsgType != "interactive" || m.Card.Header.Template != "red" || m.Card.Header.Title.Tag != "plain_text" ||
		len(m.Card.Elements) != 1 || m.Card.Elements[0].Tag != "markdown" {
		t.Fatalf("card %+v", m)
	}
	md := m.Card.Elements[0].Content
	if strings.Contains(md, "#") || !strings.Contains(md, "**【严重】MCU-STM32F4") {
		t.Errorf("card markdown: %s", md)
	}
	for _, c := range []struct {
		body  string
		retry bool
	}{{`{"code":9499,"msg":"Too Many Request"}`, true}, {`{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, false}} {
		bad := alerttest.NewReceiver(t, c.body)
		n, _ := feishu.New(bad.URL, "", "text", hook.New(alerttest.HTTPConfig(), nil, nil), "", false)
		retry, err := n.Notify(alerttest.GroupCtx("en", now), alerttest.SampleGroup(now)...)
		if err == nil || retry != c.retry || alerts.ReasonOf(err) != alerts.ReasonRejected {
			t.Errorf("%s: retry=%v err=%v", c.body, retry, err)
		}
	}
}
