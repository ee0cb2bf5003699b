package alerts_test

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/email"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/smtpsink"
)

func emailRegistry(t *testing.T, sink *smtpsink.Sink) *alerts.Registry {
	t.Helper()
	cfg := alerts.DefaultConfig().Email
	cfg.Enabled = true
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.Mode, cfg.SMTP.Auth = "127.0.0.1", sink.Port(), "plain", "none"
	n, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := alerts.NewRegistry()
	if err := reg.Register("email", n); err != nil {
		t.Fatal(err)
	}
	return reg
}

func subjects(t *testing.T, msgs []smtpsink.Message) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		out = append(out, s)
	}
	return out
}

// A manager is killed after notifying; a new one on the same state dir neither re-sends within
// repeat_interval nor forgets the firing alerts, and sends exactly one resolution.
func TestRestartNeverResends(t *testing.T) {
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	cfg := testConfig(t)
	cfg.Default.Lang = "en"
	cfg.Enterprises = map[string]alerts.RouteConfig{"ENT-1": {Name: "Acme Electronics", Email: []string{"buyer@acme.example"}}}
	clock := alerttest.NewClock(t0)

	h1 := start(t, cfg, clock, emailRegistry(t, sink))
	evaluate(t, h1.m, 0, finding("ENT-1", "C1", 85), finding("ENT-1", "C2", 65))
	h1.tick(t, 30*time.Second)
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("first run: %d emails", n)
	}
	// "kill": h1 is abandoned without a graceful shutdown (its loop only ticks hourly in real
	// time and is stopped at cleanup); everything must already be on disk.

	h2 := start(t, cfg, clock, emailRegistry(t, sink))
	if got := h2.m.Alerts(alerts.Filter{Status: alerts.StatusFiring}); len(got) != 2 {
		t.Fatalf("restart forgot firing alerts: %d", len(got))
	}
	h2.tick(t, 2*time.Minute)  // the restarted group waits group_wait from the restart (t0+30s+30s)
	h2.tick(t, 10*time.Minute) // and then flushes every group_interval
	h2.tick(t, 3*time.Hour)    // still within repeat_interval
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("restart re-sent: %d emails: %v", n, subjects(t, sink.Messages()))
	}

	evaluate(t, h2.m, 3*time.Hour+time.Minute, finding("ENT-1", "C2", 65)) // C1 clears
	h2.tick(t, 3*time.Hour+6*time.Minute)
	h2.tick(t, 3*time.Hour+12*time.Minute)
	msgs := sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("after resolution: %d emails", len(msgs))
	}
	p := parseMail(t, msgs[1].Data)
	if !strings.Contains(p, "Resolved (no longer exposed):") || !strings.Contains(p, "C1 — was critical") {
		t.Errorf("resolution email:\n%s", p)
	}
	h2.stop() // graceful this time

	// Another restart: the resolution is not sent again.
	h3 := start(t, cfg, clock, emailRegistry(t, sink))
	h3.tick(t, 3*time.Hour+20*time.Minute)
	h3.tick(t, 3*time.Hour+30*time.Minute)
	if n := len(sink.Messages()); n != 2 {
		t.Fatalf("second restart re-sent: %d emails: %v", n, subjects(t, sink.Messages()))
	}
	// After repeat_interval since the last email (3h06m) the firing C2 is repeated, once.
	h3.tick(t, 7*time.Hour+10*time.Minute)
	h3.tick(t, 7*time.Hour+20*time.Minute)
	if n := len(sink.Messages()); n != 3 {
		t.Fatalf("repeat after restart: %d emails", n)
	}
}

// parseMail returns the text/plain part of a received message.
func parseMail(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(part)
			return string(b)
		}
	}
}
