package alerts_test

import (
	"context"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/channels"
	"github.com/chainwatch/chainwatch/alerts/internal/alerttest"
	"github.com/chainwatch/chainwatch/alerts/webhook"
	"github.com/chainwatch/chainwatch/detectors"
)

// blocking never completes until its context ends: a hung channel.
type blocking struct{ entered chan struct{} }

func (b *blocking) Notify(ctx context.Context, _ ...*alerts.Alert) (bool, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return true, ctx.Err()
}

// The real Run loop with the real clock and millisecond intervals: a signed JSON webhook gets
// the group while another channel hangs.
func TestRunLoopHungChannelDoesNotBlockOthers(t *testing.T) {
	rcv := alerttest.NewReceiver(t, `{}`)
	cfg := alerts.DefaultConfig()
	cfg.StateDir = t.TempDir()
	cfg.Tick = 2 * time.Millisecond
	cfg.GroupWait = 10 * time.Millisecond
	cfg.GroupInterval = 50 * time.Millisecond
	cfg.RepeatInterval = time.Hour
	cfg.HTTP = alerttest.HTTPConfig()
	cfg.Webhooks = []alerts.WebhookConfig{{Name: "erp", Type: "json", URL: confkit.Secret(rcv.URL), Secret: "k"}}
	reg, err := channels.Build(cfg, channels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hung := &blocking{entered: make(chan struct{}, 1)}
	if err := reg.Register("hung", hung); err != nil {
		t.Fatal(err)
	}
	m, err := alerts.NewManager(cfg, reg, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if err := m.Evaluate(ctx, []detectors.Finding{alerts.SampleFinding(time.Now())}, time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hung.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("hung channel never called")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rcv.Requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("webhook not called while another channel hangs")
		}
		time.Sleep(2 * time.Millisecond)
	}
	r := rcv.Requests()[0]
	if !webhook.Verify([]byte("k"), r.Body, r.Header.Get(webhook.SignatureHeader)) {
		t.Error("bad signature")
	}
	time.Sleep(120 * time.Millisecond) // a few group intervals: no duplicate
	if n := len(rcv.Requests()); n != 1 {
		t.Errorf("webhook called %d times", n)
	}
}
