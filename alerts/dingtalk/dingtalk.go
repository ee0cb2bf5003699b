// Package dingtalk posts to a DingTalk (钉钉) custom group robot:
//
//	POST https://oapi.dingtalk.com/robot/send?access_token=TOKEN[&timestamp=MS&sign=SIGN]
//	{"msgtype":"markdown","markdown":{"title":"...","text":"..."},"at":{"atMobiles":[],"isAtAll":false}}
//
// With a signing secret, timestamp is the current Unix time in milliseconds and sign is
// url-encoded base64(HMAC-SHA256(key=secret, message=timestamp+"\n"+secret)). The robot answers
// {"errcode":0,"errmsg":"ok"}; errcode 130101 (sending too fast) and -1 (busy) are retried.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

// MaxTextBytes bounds the markdown text.
const MaxTextBytes = 18000

// Message is the robot's markdown message.
type Message struct {
	MsgType  string   `json:"msgtype"`
	Markdown Markdown `json:"markdown"`
	At       At       `json:"at"`
}

// Markdown is the markdown payload.
type Markdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// At lists mentions.
type At struct {
	AtMobiles []string `json:"atMobiles"`
	IsAtAll   bool     `json:"isAtAll"`
}

var retryable = map[int]bool{-1: true, 130101: true}

// Notifier posts markdown messages.
type Notifier struct {
	url          string
	secret       string
	client       *hook.Client
	lang         string
	now          func() time.Time
	skipResolved bool
}

// New returns a DingTalk robot notifier; secret "" disables signing; lang "" uses the group's.
func New(rawURL, secret string, client *hook.Client, lang string, skipResolved bool) (*Notifier, error) {
	if rawURL == "" {
		return nil, errors.New("dingtalk: url is required")
	}
	if _, err := url.Parse(rawURL); err != nil {
		return nil, errors.New("dingtalk: url does not parse")
	}
	return &Notifier{url: rawURL, secret: secret, client: client, lang: lang, now: time.Now, skipResolved: skipResolved}, nil
}

// WithClock sets the clock (tests).
func (n *Notifier) WithClock(now func() time.Time) *Notifier { n.now = now; return n }

// SendResolved implements alerts.ResolvedSender.
func (n *Notifier) SendResolved() bool { return !n.skipResolved }

// Sign returns DingTalk's sign for a millisecond timestamp (not url-encoded).
func Sign(secret string, timestampMS int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Build renders the message.
func Build(info alerts.GroupInfo, as []*alerts.Alert, lang string) (Message, error) {
	if lang == "" {
		lang = info.Lang
	}
	title, md, err := alerts.RenderMarkdown(alerts.NewMessage(info, as), lang, MaxTextBytes)
	if err != nil {
		return Message{}, err
	}
	return Message{MsgType: "markdown", Markdown: Markdown{Title: title, Text: md}, At: At{AtMobiles: []string{}}}, nil
}

// Notify implements alerts.Notifier.
func (n *Notifier) Notify(ctx context.Context, as ...*alerts.Alert) (bool, error) {
	info, _ := alerts.GroupInfoFrom(ctx)
	msg, err := Build(info, as, n.lang)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "dingtalk: %w", err)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "dingtalk: encode: %w", err)
	}
	target := n.url
	if n.secret != "" {
		u, _ := url.Parse(n.url)
		q := u.Query()
		ts := n.now().UnixMilli()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", Sign(n.secret, ts))
		u.RawQuery = q.Encode()
		target = u.String()
	}
	resp, retry, err := n.client.Post(ctx, target, body, nil)
	if err != nil {
		return retry, err
	}
	return hook.RobotResult(resp, []string{"errcode"}, []string{"errmsg"}, retryable)
}
