package email_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/email"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/smtpsink"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// parsed is a received message, decoded.
type parsed struct {
	Header  mail.Header
	Subject string
	To      []string
	Text    string
	HTML    string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	p := parsed{Header: msg.Header}
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("subject: %v", err)
	}
	tos, err := msg.Header.AddressList("To")
	if err != nil {
		t.Fatalf("To: %v", err)
	}
	for _, a := range tos {
		p.To = append(p.To, a.Address)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		body, _ := io.ReadAll(part)
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cp["charset"] != "UTF-8" {
			t.Errorf("part %s charset %q", ct, cp["charset"])
		}
		types = append(types, ct)
		switch ct {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Fatalf("parts %v, want text/plain then text/html", types)
	}
	return p
}

func smtpConfig(sink *smtpsink.Sink, mode, auth string) alerts.EmailConfig {
	cfg := alerts.DefaultConfig().Email
	cfg.Enabled = true
	cfg.From = "chainwatch alerts <alerts@chainwatch.example>"
	cfg.SMTP.Host = "127.0.0.1"
	cfg.SMTP.Port = sink.Port()
	cfg.SMTP.Mode = mode
	cfg.SMTP.Auth = auth
	cfg.SMTP.Username = "cw"
	cfg.SMTP.Password = "s3cret"
	cfg.SMTP.Timeout = 5 * time.Second
	return cfg
}

func groupCtx(lang string, to ...string) context.Context {
	return alerts.WithGroupInfo(context.Background(), alerts.GroupInfo{
		Key: "ENT-DEMO", EnterpriseID: "ENT-DEMO", EnterpriseName: "苏州智控装备", Lang: lang, Emails: to,
		ExternalURL: "http://cw.local:9464", MaxAlerts: 20, Integration: "email", Now: now,
	})
}

func sampleAlerts() []*alerts.Alert {
	a := alerts.SampleAlert(now, "苏州智控装备")
	r := alerts.SampleAlert(now, "苏州智控装备")
	r.ComponentID, r.Fingerprint, r.Status, r.EndsAt = "CAP-0402", "fp-res", alerts.StatusResolved, now
	return []*alerts.Alert{a, r}
}

func send(t *testing.T, cfg alerts.EmailConfig, ctx context.Context, opts ...email.Option) {
	t.Helper()
	n, err := email.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Notify(ctx, sampleAlerts()...)
	if err != nil {
		t.Fatalf("notify (retry=%v): %v", retry, err)
	}
}

func waitOne(t *testing.T, sink *smtpsink.Sink) smtpsink.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := sink.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("messages: %d", len(msgs))
	}
	return msgs[0]
}

func assertEnglish(t *testing.T, p parsed) {
	t.Helper()
	if p.Subject != "[chainwatch] [CRITICAL] B-plan warning · 苏州智控装备 (ENT-DEMO): MCU-STM32F4" {
		t.Errorf("subject %q", p.Subject)
	}
	for _, want := range []string{
		"Products affected (BOM): PLC-X200, HMI-7",
		"Time to survive (TTS) 12 days vs time to recover (TTR) 60 days: gap of 48 days",
		"supplier_share = 1 (weight 0.4, 46% of the score) — 100% from SUP-ST (CH)",
		"1. SUP-GIGADEVICE / MCU-GD32F470 — CN, domestic · qualification 45 days · supplier HHI after switching 0.58 — pin-compatible",
		"2. SUP-RENESAS / MCU-RA6M5 — JP, foreign · qualification 30 days · supplier HHI after switching 0.62",
		"Qualify alternate SUP-GIGADEVICE / MCU-GD32F470 (45 days) — longer than the 12-day TTS",
		"Raise safety stock by 4800 units to cover the TTR−TTS gap (48 days × 100 units/day)",
		"Split volume: move 30% of volume to SUP-GIGADEVICE / MCU-GD32F470 (supplier HHI after: 0.58)",
		"Resolved (no longer exposed):",
		"CAP-0402 — was critical",
	} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("text part lacks %q", want)
		}
		if !strings.Contains(p.HTML, want) {
			t.Errorf("html part lacks %q", want)
		}
	}
	if !strings.Contains(p.HTML, `<li>1. SUP-GIGADEVICE`) || !strings.Contains(p.HTML, `<ol class="actions"`) {
		t.Errorf("html structure: %s", p.HTML)
	}
}

func TestPlainWithAuthPlain(t *testing.T) {
	sink, err := smtpsink.Start(smtpsink.Options{Username: "cw", Password: "s3cret", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	send(t, smtpConfig(sink, "plain", "plain"), groupCtx("en", "buyer@ent-demo.example", "cto@ent-demo.example"), email.WithClock(func() time.Time { return now }))
	m := waitOne(t, sink)
	if m.TLS || m.AuthUser != "cw" || m.From != "alerts@chainwatch.example" {
		t.Errorf("session: tls=%v user=%q from=%q", m.TLS, m.AuthUser, m.From)
	}
	if strings.Join(m.To, ",") != "buyer@ent-demo.example,cto@ent-demo.example" {
		t.Errorf("envelope recipients %v", m.To)
	}
	p := parse(t, m.Data)
	if strings.Join(p.To, ",") != "buyer@ent-demo.example,cto@ent-demo.example" {
		t.Errorf("To header %v", p.To)
	}
	if p.Header.Get("Date") != "Mon, 02 Mar 2026 09:30:00 +0000" || p.Header.Get("X-Chainwatch-Group") != "ENT-DEMO" ||
		p.Header.Get("X-Chainwatch-Severity") != "critical" || p.Header.Get("Message-Id") == "" {
		t.Errorf("headers %v", p.Header)
	}
	assertEnglish(t, p)
	if b, err := os.ReadFile(m.Path); err != nil || !bytes.Equal(b, m.Data) {
		t.Errorf("sink .eml %s: %v", m.Path, err)
	}
}

func TestSTARTTLSWithAuthPlainInChinese(t *testing.T) {
	cert := alerttest.SelfSigned(t)
	sink, err := smtpsink.Start(smtpsink.Options{Username: "cw", Password: "s3cret", TLSConfig: cert.Server})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	cfg := smtpConfig(sink, "starttls", "plain")
	cfg.SMTP.CAFile = cert.CAFile
	send(t, cfg, groupCtx("zh-CN", "caigou@ent-demo.example"))
	m := waitOne(t, sink)
	if !m.TLS || m.AuthUser != "cw" {
		t.Errorf("session: tls=%v user=%q", m.TLS, m.AuthUser)
	}
	p := parse(t, m.Data)
	if p.Subject != "[chainwatch] 【严重】B计划预警 · 苏州智控装备（ENT-DEMO）：MCU-STM32F4" {
		t.Errorf("subject %q", p.Subject)
	}
	for _, want := range []string{
		"受影响产品（BOM）：PLC-X200、HMI-7",
		"断供生存时间（TTS）12 天，恢复时间（TTR）60 天：缺口 48 天",
		"替代方案（国产优先）：",
		"1. SUP-GIGADEVICE / MCU-GD32F470 — CN，国产 · 认证周期 45 天 · 切换后供应商集中度（HHI）0.58",
		"认证替代方案 SUP-GIGADEVICE / MCU-GD32F470（45 天）",
		"将安全库存提高 4800 件，覆盖 TTR−TTS 缺口（48 天 × 每天 100 件）",
		"分散采购：将 30% 的采购量转移至 SUP-GIGADEVICE / MCU-GD32F470（转移后供应商 HHI：0.58）",
		"已解除（不再暴露）：",
	} {
		if !strings.Contains(p.Text, want) || !strings.Contains(p.HTML, want) {
			t.Errorf("zh parts lack %q", want)
		}
	}
	if p.Header.Get("Content-Language") != "zh-CN" {
		t.Errorf("Content-Language %q", p.Header.Get("Content-Language"))
	}
}

func TestImplicitTLSWithAuthLogin(t *testing.T) {
	cert := alerttest.SelfSigned(t)
	sink, err := smtpsink.Start(smtpsink.Options{Username: "cw", Password: "s3cret", TLSConfig: cert.Server, ImplicitTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	cfg := smtpConfig(sink, "tls", "login")
	cfg.SMTP.CAFile = cert.CAFile
	send(t, cfg, groupCtx("en", "buyer@ent-demo.example"))
	m := waitOne(t, sink)
	if !m.TLS || m.AuthUser != "cw" {
		t.Errorf("session: tls=%v user=%q", m.TLS, m.AuthUser)
	}
	assertEnglish(t, parse(t, m.Data))
}

func TestFailuresAreClassified(t *testing.T) {
	cert := alerttest.SelfSigned(t)
	plain, err := smtpsink.Start(smtpsink.Options{Username: "cw", Password: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	tlsSink, err := smtpsink.Start(smtpsink.Options{TLSConfig: cert.Server})
	if err != nil {
		t.Fatal(err)
	}
	defer tlsSink.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	cases := []struct {
		name   string
		cfg    alerts.EmailConfig
		retry  bool
		reason string
	}{
		{"wrong password is permanent (535)", smtpConfig(plain, "plain", "plain"), false, alerts.ReasonSMTPPerm},
		{"starttls against a server without it", smtpConfig(plain, "starttls", "none"), false, alerts.ReasonSMTPPerm},
		{"untrusted certificate", smtpConfig(tlsSink, "starttls", "none"), false, alerts.ReasonOther},
		{"connection refused is retried", func() alerts.EmailConfig {
			c := smtpConfig(plain, "plain", "none")
			c.SMTP.Port = closedPort
			return c
		}(), true, alerts.ReasonNetwork},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := email.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(groupCtx("en", "x@example.com"), sampleAlerts()...)
			if err == nil {
				t.Fatal("no error")
			}
			if retry != c.retry || alerts.ReasonOf(err) != c.reason {
				t.Errorf("retry=%v reason=%s (%v), want %v %s", retry, alerts.ReasonOf(err), err, c.retry, c.reason)
			}
		})
	}
	if len(plain.Messages())+len(tlsSink.Messages()) != 0 {
		t.Error("a failing send delivered a message")
	}
	// No recipients: the notifier declines the group.
	n, _ := email.New(smtpConfig(plain, "plain", "none"))
	if n.Wants(alerts.GroupInfo{}) {
		t.Error("wants a group without recipients")
	}
}

func TestSendBPlanToSinkDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	sink, err := smtpsink.Start(smtpsink.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	cfg := smtpConfig(sink, "plain", "none")
	if err := email.SendBPlan(context.Background(), cfg, []string{"buyer@ent-demo.example"}, "zh-CN", "http://cw.local",
		alerts.SampleAlert(now, "苏州智控装备")); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("eml files: %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	if p := parse(t, raw); !strings.Contains(p.Subject, "B计划预警") || !strings.Contains(p.Text, "4800") {
		t.Errorf("demo mail: %q", p.Subject)
	}
}

func TestMailerForDigest(t *testing.T) {
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	n, _ := email.New(smtpConfig(sink, "plain", "none"))
	if err := email.NewMailer(n).Send(context.Background(), []string{"a@x.example"}, "周报 week 10", "<p>hi</p>", "hi"); err != nil {
		t.Fatal(err)
	}
	p := parse(t, waitOne(t, sink).Data)
	if p.Subject != "周报 week 10" || p.HTML != "<p>hi</p>" || p.Text != "hi" {
		t.Errorf("digest mail %+v", p)
	}
}
