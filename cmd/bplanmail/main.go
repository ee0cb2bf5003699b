// Command bplanmail sends one B计划 warning email: the demo's "send me the warning" step.
//
//	go run ./cmd/bplanmail -sink .state/mail               # start a local sink, send the sample, print the .eml
//	go run ./cmd/bplanmail -smtp 127.0.0.1:2525 -to buyer@example.com -lang en -finding testdata/alerts/finding.json
//
// Without -finding it sends the built-in sample (alerts.SampleFinding). With -sink DIR it first
// starts an SMTP sink (alerts/smtpsink) on -smtp that writes each message to DIR as .eml, and
// keeps running with -serve.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/email"
	"github.com/chainwatch/chainwatch/alerts/smtpsink"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bplanmail:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("smtp", "127.0.0.1:2525", "SMTP server host:port")
	mode := flag.String("mode", "plain", "plain, starttls or tls")
	from := flag.String("from", "chainwatch <chainwatch@localhost>", "From address")
	to := flag.String("to", "buyer@ent-demo.example", "recipients, comma-separated")
	lang := flag.String("lang", "zh-CN", "zh-CN or en")
	name := flag.String("enterprise-name", "苏州智控装备有限公司", "enterprise display name")
	findingPath := flag.String("finding", "", "a detectors.Finding as JSON (default: the built-in sample)")
	sinkDir := flag.String("sink", "", "start an SMTP sink on -smtp writing .eml files here")
	serve := flag.Bool("serve", false, "with -sink: keep the sink running until interrupted")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *sinkDir != "" {
		sink, err := smtpsink.Start(smtpsink.Options{Addr: *addr, Dir: *sinkDir, Log: log})
		if err != nil {
			return err
		}
		defer sink.Close()
		*addr = sink.Addr()
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	p, _ := strconv.Atoi(port)
	cfg := config.Default().Alerts
	cfg.Email.Enabled = true
	cfg.Email.From = *from
	cfg.Email.SMTP.Host, cfg.Email.SMTP.Port, cfg.Email.SMTP.Mode = host, p, *mode

	now := time.Now()
	f := alerts.SampleFinding(now)
	if *findingPath != "" {
		b, err := os.ReadFile(*findingPath)
		if err != nil {
			return err
		}
		f = detectors.Finding{}
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s: %w", *findingPath, err)
		}
	}
	a, err := alerts.BuildAlert(cfg, f, now)
	if err != nil {
		return err
	}
	if a == nil {
		return fmt.Errorf("the finding (score %.1f, flags %v) is below every alert threshold", f.Score, f.Flags)
	}
	a.EnterpriseName = *name
	if err := email.SendBPlan(ctx, cfg.Email, strings.Split(*to, ","), *lang, cfg.ExternalURL, a); err != nil {
		return err
	}
	fmt.Printf("sent %s B计划 warning for %s/%s to %s via %s\n", a.Severity, a.EnterpriseID, a.ComponentID, *to, *addr)
	if *sinkDir != "" {
		fmt.Println("written to", *sinkDir)
		if *serve {
			fmt.Println("sink listening on", *addr, "- interrupt to stop")
			<-ctx.Done()
		}
	}
	return nil
}
