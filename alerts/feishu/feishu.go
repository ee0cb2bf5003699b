// Package feishu posts to a Feishu / Lark custom group bot:
//
//	POST https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN   (Lark: open.larksuite.com)
//	text:        {"msg_type":"text","content":{"text":"..."}}
//	post:        {"msg_type":"post","content":{"post":{"zh_cn":{"title":"...","content":[[{"tag":"text","text":"..."}],...]}}}}
//	interactive: {"msg_type":"interactive","card":{"config":{"wide_screen_mode":true},
//	              "header":{"title":{"tag":"plain_text","content":"..."},"template":"red"},
//	              "elements":[{"tag":"markdown","content":"..."}]}}
//
// With a signing secret the body also carries "timestamp" (Unix seconds, as a string) and
// "sign" = base64(HMAC-SHA256(key=timestamp+"\n"+secret, message="")). The bot answers
// {"code":0,"msg":"success"} (older: {"StatusCode":0,...}); codes 9499 and 11232 (rate limits)
// are retried. The request body is limited to 20 KB, so content is cut to fit.
package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

// Formats.
const (
	FormatText        = "text"
	FormatPost        = "post"
	FormatInteractive = "interactive"
)

// MaxContentBytes bounds the rendered content (the request limit is 20 KB).
const MaxContentBytes = 16000

// Message is the bot's request body; exactly one of Content and Card is set.
type Message struct {
	Timestamp string   `json:"timestamp,omitempty"`
	Sign      string   `json:"sign,omitempty"`
	MsgType   string   `json:"msg_type"`
	Content   *Content `json:"content,omitempty"`
	Card      *Card    `json:"card,omitempty"`
}

// Content is the content of text and post messages.
type Content struct {
	Text string                  `json:"text,omitempty"`
	Post map[string]PostLanguage `json:"post,omitempty"` // "zh_cn" or "en_us"
}

// PostLanguage is one language of a rich-text post.
type PostLanguage struct {
	Title   string       `json:"title"`
	Content [][]PostElem `json:"content"`
}

// PostElem is a rich-text element: tag "text" or "a".
type PostElem struct {
	Tag  string `json:"tag"`
	Text string `json:"text"`
	Href string `json:"href,omitempty"`
}

// Card is an interactive message card (card JSON 1.0).
type Card struct {
	Config   CardConfig    `json:"config"`
	Header   CardHeader    `json:"header"`
	Elements []CardElement `json:"elements"`
}

// CardConfig is the card's config.
type CardConfig struct {
	WideScreenMode bool `json:"wide_screen_mode"`
}

// CardHeader is the card's header.
type CardHeader struct {
	Title    CardText `json:"title"`
	Template string   `json:"template"` // red, orange, blue, green
}

// CardText is a plain_text element.
type CardText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

// CardElement is a markdown element.
type CardElement struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

var retryable = map[int]bool{9499: true, 11232: true}

// Notifier posts to a Feishu / Lark bot.
type Notifier struct {
	url          string
	secret       string
	format       string
	client       *hook.Client
	lang         string
	now          func() time.Time
	skipResolved bool
}

// New returns a Feishu bot notifier; format is text, post or interactive ("" → interactive).
func New(url, secret, format string, client *hook.Client, lang string, skipResolved bool) (*Notifier, error) {
	if url == "" {
		return nil, errors.New("feishu: url is required")
	}
	switch format {
	case "":
		format = FormatInteractive
	case FormatText, FormatPost, FormatInteractive:
	default:
		return nil, errors.New("feishu: format must be text, post or interactive")
	}
	return &Notifier{url: url, secret: secret, format: format, client: client, lang: lang, now: time.Now, skipResolved: skipResolved}, nil
}

// WithClock sets the clock (tests).
func (n *Notifier) WithClock(now func() time.Time) *Notifier { n.now = now; return n }

// SendResolved implements alerts.ResolvedSender.
func (n *Notifier) SendResolved() bool { return !n.skipResolved }

// Sign returns Feishu's sign for a timestamp in seconds.
func Sign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Build renders the message (unsigned).
func Build(info alerts.GroupInfo, as []*alerts.Alert, format, lang string) (Message, error) {
	if lang == "" {
		lang = info.Lang
	}
	lang = alerts.NormalizeLang(lang)
	msg := alerts.NewMessage(info, as)
	switch format {
	case FormatText:
		_, text, err := alerts.RenderText(msg, lang, MaxContentBytes)
		if err != nil {
			return Message{}, err
		}
		return Message{MsgType: FormatText, Content: &Content{Text: text}}, nil
	case FormatPost:
		title, text, err := alerts.RenderText(msg, lang, MaxContentBytes)
		if err != nil {
			return Message{}, err
		}
		var paras [][]PostElem
		for _, line := range strings.Split(text, "\n") {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
				paras = append(paras, []PostElem{{Tag: "a", Text: t, Href: t}})
				continue
			}
			paras = append(paras, []PostElem{{Tag: "text", Text: line}})
		}
		key := "en_us"
		if lang == alerts.LangZH {
			key = "zh_cn"
		}
		return Message{MsgType: FormatPost, Content: &Content{Post: map[string]PostLanguage{key: {Title: title, Content: paras}}}}, nil
	default:
		title, md, err := alerts.RenderMarkdown(msg, lang, MaxContentBytes)
		if err != nil {
			return Message{}, err
		}
		// Card markdown (JSON 1.0) has no headings: make them bold lines.
		lines := strings.Split(md, "\n")
		for i, l := range lines {
			if t := strings.TrimLeft(l, "#"); len(t) < len(l) && strings.HasPrefix(t, " ") {
				lines[i] = "**" + strings.TrimSpace(t) + "**"
			}
		}
		color := "green"
		switch msg.MaxSeverity() {
		case alerts.SeverityCritical:
			color = "red"
		case alerts.SeverityWarning:
			color = "orange"
		case alerts.SeverityInfo:
			color = "blue"
		}
		return Message{MsgType: FormatInteractive, Card: &Card{
			Config:   CardConfig{WideScreenMode: true},
			Header:   CardHeader{Title: CardText{Tag: "plain_text", Content: title}, Template: color},
			Elements: []CardElement{{Tag: "markdown", Content: strings.Join(lines[1:], "\n")}},
		}}, nil
	}
}

// Notify implements alerts.Notifier.
func (n *Notifier) Notify(ctx context.Context, as ...*alerts.Alert) (bool, error) {
	info, _ := alerts.GroupInfoFrom(ctx)
	msg, err := Build(info, as, n.format, n.lang)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "feishu: %w", err)
	}
	if n.secret != "" {
		ts := n.now().Unix()
		msg.Timestamp = strconv.FormatInt(ts, 10)
		msg.Sign = Sign(n.secret, ts)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "feishu: encode: %w", err)
	}
	resp, retry, err := n.client.Post(ctx, n.url, body, nil)
	if err != nil {
		return retry, err
	}
	return hook.RobotResult(resp, []string{"code", "StatusCode"}, []string{"msg", "StatusMessage"}, retryable)
}
