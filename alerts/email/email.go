// Package email is the email integration: one multipart/alternative (text + HTML) B计划 message
// per enterprise group, in the enterprise's language, over SMTP (net/smtp) in plain, STARTTLS or
// implicit-TLS mode with AUTH PLAIN or LOGIN.
//
// Retries are the manager's: Notify reports SMTP 4xx and network errors as retryable, SMTP 5xx
// and TLS verification failures as permanent.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
)

// Notifier sends B计划 emails.
type Notifier struct {
	cfg  alerts.EmailConfig
	from *mail.Address
	tls  *tls.Config
	now  func() time.Time
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithTLSConfig replaces the TLS client config built from alerts.email.smtp (ca_file,
// server_name, insecure_skip_verify).
func WithTLSConfig(c *tls.Config) Option { return func(n *Notifier) { n.tls = c } }

// WithClock sets the clock for the Date header (tests).
func WithClock(now func() time.Time) Option { return func(n *Notifier) { n.now = now } }

// New returns an email notifier for alerts.email.
func New(cfg alerts.EmailConfig, opts ...Option) (*Notifier, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: alerts.email.from: %w", err)
	}
	n := &Notifier{cfg: cfg, from: from, now: time.Now}
	if cfg.SMTP.Timeout <= 0 {
		n.cfg.SMTP.Timeout = 30 * time.Second
	}
	if n.cfg.SMTP.HelloName == "" {
		n.cfg.SMTP.HelloName = "localhost"
	}
	tc := &tls.Config{ServerName: cfg.SMTP.ServerName, InsecureSkipVerify: cfg.SMTP.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in
	if tc.ServerName == "" {
		tc.ServerName = cfg.SMTP.Host
	}
	if cfg.SMTP.CAFile != "" {
		pem, err := os.ReadFile(cfg.SMTP.CAFile)
		if err != nil {
			return nil, fmt.Errorf("email: alerts.email.smtp.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("email: alerts.email.smtp.ca_file: no PEM certificates in %s", cfg.SMTP.CAFile)
		}
		tc.RootCAs = pool
	}
	n.tls = tc
	for _, o := range opts {
		o(n)
	}
	return n, nil
}

// Wants implements alerts.Selective: only groups with recipients.
func (n *Notifier) Wants(info alerts.GroupInfo) bool { return len(info.Emails) > 0 }

// Notify implements alerts.Notifier: one email to the group's recipients.
func (n *Notifier) Notify(ctx context.Context, as ...*alerts.Alert) (bool, error) {
	info, _ := alerts.GroupInfoFrom(ctx)
	if len(info.Emails) == 0 {
		return false, alerts.Errorf(alerts.ReasonOther, "email: no recipients for group %q", info.Key)
	}
	raw, err := n.Compose(info, as)
	if err != nil {
		return false, alerts.Errorf(alerts.ReasonRender, "email: %w", err)
	}
	return n.Send(ctx, info.Emails, raw)
}

// Compose renders the group as a complete RFC 5322 message.
func (n *Notifier) Compose(info alerts.GroupInfo, as []*alerts.Alert) ([]byte, error) {
	msg := alerts.NewMessage(info, as)
	r, err := alerts.Render(msg, info.Lang)
	if err != nil {
		return nil, err
	}
	subject := r.Subject
	if n.cfg.SubjectPrefix != "" {
		subject = n.cfg.SubjectPrefix + " " + subject
	}
	return Build(Mail{
		From: n.from.String(), To: info.Emails, Subject: subject, Text: r.Text, HTML: r.HTML, Date: n.now(),
		Headers: map[string]string{
			"X-Chainwatch-Group":    info.Key,
			"X-Chainwatch-Status":   string(msg.Status()),
			"X-Chainwatch-Severity": msg.MaxSeverity().String(),
			"Content-Language":      alerts.NormalizeLang(info.Lang),
		},
	})
}

// Mail is one message to build.
type Mail struct {
	From    string // formatted address
	To      []string
	Subject string
	Text    string
	HTML    string
	Date    time.Time
	Headers map[string]string
}

// Build returns the message bytes: headers and a multipart/alternative body with a text/plain
// and a text/html part, both UTF-8 quoted-printable, CRLF line ends.
func Build(m Mail) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ ctype, content string }{
		{"text/plain; charset=UTF-8", m.Text},
		{"text/html; charset=UTF-8", m.HTML},
	} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", part.ctype)
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.content)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	to := make([]string, len(m.To))
	for i, a := range m.To {
		to[i] = (&mail.Address{Address: a}).String()
	}
	host := "chainwatch.localhost"
	if a, err := mail.ParseAddress(m.From); err == nil {
		if _, h, ok := strings.Cut(a.Address, "@"); ok {
			host = h
		}
	}
	hdr("From", m.From)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", strings.ReplaceAll(mime.BEncoding.Encode("UTF-8", headerText(m.Subject, maxSubjectRunes)), "?= =?", "?=\r\n =?"))
	hdr("Date", m.Date.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomID()+"@"+host+">")
	hdr("MIME-Version", "1.0")
	hdr("Auto-Submitted", "auto-generated")
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		hdr(k, mime.QEncoding.Encode("UTF-8", headerText(m.Headers[k], maxSubjectRunes)))
	}
	hdr("Content-Type", "multipart/alternative; boundary=\""+mw.Boundary()+"\"")
	b.WriteString("\r\n")
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// maxSubjectRunes bounds a header's text: an ASCII subject is not encoded (nor folded), so a long
// name must not push its line past RFC 5322's 998 characters.
const maxSubjectRunes = 300

// headerText makes s safe as one header's text: control characters (CR and LF of a name
// carrying "\r\nBcc: ...") become spaces, so even the decoded header is one line, and it is cut
// to max runes.
func headerText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

func randomID() string {
	var x [16]byte
	_, _ = rand.Read(x[:])
	return hex.EncodeToString(x[:])
}

// Send delivers raw to the recipients over SMTP. retry reports whether a later attempt may work.
func (n *Notifier) Send(ctx context.Context, to []string, raw []byte) (retry bool, err error) {
	s := n.cfg.SMTP
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	if s.Auth != "" && s.Auth != "none" && s.Mode == "plain" && !isLocalhost(s.Host) {
		return false, alerts.Errorf(alerts.ReasonOther, "email: refusing to send credentials unencrypted to %s: use mode starttls or tls", addr)
	}
	deadline := time.Now().Add(s.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dialer := &net.Dialer{Deadline: deadline}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return classify(ctx, fmt.Errorf("dial %s: %w", addr, err))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if err := conn.SetDeadline(deadline); err != nil {
		return classify(ctx, err)
	}
	if s.Mode == "tls" {
		tc := tls.Client(conn, n.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return classify(ctx, fmt.Errorf("tls handshake with %s: %w", addr, err))
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return classify(ctx, fmt.Errorf("smtp greeting from %s: %w", addr, err))
	}
	defer c.Close()
	if err := c.Hello(n.cfg.SMTP.HelloName); err != nil {
		return classify(ctx, fmt.Errorf("smtp EHLO: %w", err))
	}
	if s.Mode == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return false, alerts.Errorf(alerts.ReasonSMTPPerm, "email: %s does not offer STARTTLS (alerts.email.smtp.mode is starttls)", addr)
		}
		if err := c.StartTLS(n.tls); err != nil {
			return classify(ctx, fmt.Errorf("smtp STARTTLS: %w", err))
		}
	}
	if s.Auth != "" && s.Auth != "none" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return false, alerts.Errorf(alerts.ReasonSMTPPerm, "email: %s offers no AUTH (alerts.email.smtp.auth is %s)", addr, s.Auth)
		}
		var a smtp.Auth
		if s.Auth == "login" {
			a = &loginAuth{user: s.Username, pass: s.Password.Reveal(), host: s.Host}
		} else {
			a = smtp.PlainAuth("", s.Username, s.Password.Reveal(), s.Host)
		}
		if err := c.Auth(a); err != nil {
			return classify(ctx, fmt.Errorf("smtp AUTH %s: %w", strings.ToUpper(s.Auth), err))
		}
	}
	if err := c.Mail(n.from.Address); err != nil {
		return classify(ctx, fmt.Errorf("smtp MAIL FROM: %w", err))
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return classify(ctx, fmt.Errorf("smtp RCPT TO %s: %w", rcpt, err))
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(ctx, fmt.Errorf("smtp DATA: %w", err))
	}
	if _, err := w.Write(raw); err != nil {
		return classify(ctx, fmt.Errorf("smtp DATA: %w", err))
	}
	if err := w.Close(); err != nil {
		return classify(ctx, fmt.Errorf("smtp DATA: %w", err))
	}
	_ = c.Quit()
	return false, nil
}

// classify maps SMTP replies and transport errors to retry and a failure reason.
func classify(ctx context.Context, err error) (bool, error) {
	var tp *textproto.Error
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &tp) && tp.Code >= 500:
		return false, &alerts.NotifyError{Reason: alerts.ReasonSMTPPerm, Err: fmt.Errorf("email: %w", err)}
	case errors.As(err, &tp) && tp.Code >= 400:
		return true, &alerts.NotifyError{Reason: alerts.ReasonSMTPTemp, Err: fmt.Errorf("email: %w", err)}
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return false, &alerts.NotifyError{Reason: alerts.ReasonOther, Err: fmt.Errorf("email: %w", err)}
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return true, &alerts.NotifyError{Reason: alerts.ReasonTimeout, Err: fmt.Errorf("email: %w", err)}
	}
	return true, &alerts.NotifyError{Reason: alerts.ReasonNetwork, Err: fmt.Errorf("email: %w", err)}
}

// loginAuth is AUTH LOGIN (net/smtp has PLAIN and CRAM-MD5 only). Like PlainAuth it refuses to
// send credentials over an unencrypted connection except to localhost.
type loginAuth struct{ user, pass, host string }

func (a *loginAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS && !isLocalhost(si.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if si.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

// SendBPlan renders and sends one B计划 email for the alerts to the recipients: the entry
// point of the demo (cmd/bplanmail) and of manual tests against a relay. lang is zh-CN or en.
func SendBPlan(ctx context.Context, cfg alerts.EmailConfig, to []string, lang, externalURL string, as ...*alerts.Alert) error {
	n, err := New(cfg)
	if err != nil {
		return err
	}
	info := alerts.GroupInfo{Emails: to, Lang: lang, ExternalURL: externalURL, MaxAlerts: 20, Now: n.now(), Integration: "email"}
	if len(as) > 0 {
		info.Key, info.EnterpriseID, info.EnterpriseName = as[0].EnterpriseID, as[0].EnterpriseID, as[0].EnterpriseName
	}
	if _, err := n.Notify(alerts.WithGroupInfo(ctx, info), as...); err != nil {
		return err
	}
	return nil
}

// Mailer sends arbitrary HTML + text mail through the alerts SMTP settings: it satisfies
// internal/report's Mailer (the weekly digest).
type Mailer struct{ n *Notifier }

// NewMailer wraps a notifier.
func NewMailer(n *Notifier) *Mailer { return &Mailer{n: n} }

// Send builds a multipart/alternative message and delivers it.
func (m *Mailer) Send(ctx context.Context, to []string, subject, html, text string) error {
	if len(to) == 0 {
		return errors.New("email: no recipients")
	}
	raw, err := Build(Mail{From: m.n.from.String(), To: to, Subject: subject, Text: text, HTML: html, Date: m.n.now()})
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	_, err = m.n.Send(ctx, to, raw)
	return err
}
