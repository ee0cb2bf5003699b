// Package webhook is the generic JSON webhook integration: it POSTs the whole group (every
// alert with its B计划) as JSON, signed with HMAC-SHA256.
//
// Headers:
//
//	X-Chainwatch-Timestamp: <unix seconds>          (also in the body as "timestamp")
//	X-Chainwatch-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>
//
// A receiver recomputes the HMAC over the raw body, compares in constant time (Verify), and
// rejects timestamps that are too old; the timestamp is inside the signed body, so it cannot be
// replaced.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/internal/hook"
)

// Header names.
const (
	SignatureHeader = "X-Chainwatch-Signature"
	TimestampHeader = "X-Chainwatch-Timestamp"
	EventHeader     = "X-Chainwatch-Event"
)

// Payload is the JSON body (version "1").
type Payload struct {
	Version        string          `json:"version"`
	Integration    string          `json:"integration"`
	GroupKey       string          `json:"group_key"`
	Status         alerts.Status   `json:"status"` // firing when anything fires, else resolved
	EnterpriseID   string          `json:"enterprise_id"`
	EnterpriseName string          `json:"enterprise_name,omitempty"`
	Timestamp      int64           `json:"timestamp"` // = X-Chainwatch-Timestamp
	ExternalURL    string          `json:"external_url,omitempty"`
	Firing         int             `json:"firing"`
	Resolved       int             `json:"resolved"`
	Alerts         []*alerts.Alert `json:"alerts"`
}

// Notifier posts Payloads.
type Notifier struct {
	url          string
	secret       []byte
	client       *hook.Client
	now          func() time.Time
	skipResolved bool
}

// New returns a generic webhook notifier. secret must not be empty.
func New(url string, secret string, client *hook.Client, skipResolved bool) (*Notifier, error) {
	if url == "" || secret == "" {
		return nil, errors.New("webhook: url and secret are required")
	}
	return &Notifier{url: url, secret: []byte(secret), client: client, now: time.Now, skipResolved: skipResolved}, nil
}

// WithClock sets the clock used for the timestamp (tests).
func (n *Notifier) WithClock(now func() time.Time) *Notifier { n.now = now; return n }

// SendResolved implements alerts.ResolvedSender.
func (n *Notifier) SendResolved() bool { return !n.skipResolved }

// Notify implements alerts.Notifier.
func (n *Notifier) Notify(ctx context.Context, as ...*alerts.Alert) (bool, error) {
	info, _ := alerts.GroupInfoFrom(ctx)
	msg := alerts.NewMessage(info, as)
	ts := n.now().Unix()
	p := Payload{
		Version: "1", Integration: info.Integration, GroupKey: info.Key, Status: msg.Status(),
		EnterpriseID: msg.Info.EnterpriseID, EnterpriseName: msg.Info.EnterpriseName, Timestamp: ts,
		ExternalURL: info.ExternalURL, Firing: len(msg.Firing), Resolved: len(msg.Resolved),
		Alerts: append(append([]*alerts.Alert{}, msg.Firing...), msg.Resolved...),
	}
	body, err := json.Marshal(p)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "webhook: encode: %w", err)
	}
	h := http.Header{}
	h.Set(TimestampHeader, strconv.FormatInt(ts, 10))
	h.Set(SignatureHeader, Sign(n.secret, body))
	h.Set(EventHeader, string(p.Status))
	_, retry, err := n.client.Post(ctx, n.url, body, h)
	return retry, err
}

// Sign returns the signature header value for body: "sha256=" + hex(HMAC-SHA256(secret, body)).
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header value against body in constant time.
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(sig, mac.Sum(nil))
}
