// Package wecom posts to a WeCom (企业微信) group robot:
//
//	POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY
//	{"msgtype":"markdown","markdown":{"content":"..."}}
//
// The content is at most 4096 bytes (UTF-8); the group is cut to fit, counting the rest. The
// robot answers {"errcode":0,"errmsg":"ok"}; errcode 45009 (rate limit: 20 messages/minute) and
// -1 (busy) are retried.
package wecom

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

// MaxContentBytes is WeCom's markdown content limit.
const MaxContentBytes = 4096

// Message is the robot's markdown message.
type Message struct {
	MsgType  string   `json:"msgtype"`
	Markdown Markdown `json:"markdown"`
}

// Markdown is the markdown payload.
type Markdown struct {
	Content string `json:"content"`
}

var retryable = map[int]bool{-1: true, 45009: true}

// Notifier posts markdown messages.
type Notifier struct {
	url          string
	client       *hook.Client
	lang         string
	skipResolved bool
}

// New returns a WeCom robot notifier; lang "" uses the group's language.
func New(url string, client *hook.Client, lang string, skipResolved bool) (*Notifier, error) {
	if url == "" {
		return nil, errors.New("wecom: url is required")
	}
	return &Notifier{url: url, client: client, lang: lang, skipResolved: skipResolved}, nil
}

// SendResolved implements alerts.ResolvedSender.
func (n *Notifier) SendResolved() bool { return !n.skipResolved }

// Build renders the message.
func Build(info alerts.GroupInfo, as []*alerts.Alert, lang string) (Message, error) {
	if lang == "" {
		lang = info.Lang
	}
	_, md, err := alerts.RenderMarkdown(alerts.NewMessage(info, as), lang, MaxContentBytes)
	if err != nil {
		return Message{}, err
	}
	return Message{MsgType: "markdown", Markdown: Markdown{Content: md}}, nil
}

// Notify implements alerts.Notifier.
func (n *Notifier) Notify(ctx context.Context, as ...*alerts.Alert) (bool, error) {
	info, _ := alerts.GroupInfoFrom(ctx)
	msg, err := Build(info, as, n.lang)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "wecom: %w", err)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "wecom: encode: %w", err)
	}
	resp, retry, err := n.client.Post(ctx, n.url, body, nil)
	if err != nil {
		return retry, err
	}
	return hook.RobotResult(resp, []string{"errcode"}, []string{"errmsg"}, retryable)
}
