package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/confkit"
)

const (
	cliReadToken = "cw_cli-read-token"
	cliOpToken   = "cw_cli-operate-token"
)

func testAPIConfig() api.Config {
	c := api.DefaultConfig()
	c.DefaultLimit = 1 // the CLI must follow next_cursor
	c.Tokens = []api.TokenConfig{
		{Name: "viewer", Role: api.RoleRead, SHA256: confkit.Secret(api.HashToken(cliReadToken))},
		{Name: "ops", Role: api.RoleOperate, SHA256: confkit.Secret(api.HashToken(cliOpToken))},
	}
	return c
}

// realAlertsAPI is the daemon's real API handler around a real alerts.Manager (temp state dir)
// holding two alerts: ENT-DEMO × MCU-STM32F4 and ENT-2 × C-2.
func realAlertsAPI(t *testing.T) (*httptest.Server, *alerts.Manager) {
	t.Helper()
	now := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	cfg := alerts.DefaultConfig()
	cfg.StateDir = t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := alerts.NewManager(cfg, nil, nil, log, alerts.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	f1, f2 := alerts.SampleFinding(now), alerts.SampleFinding(now)
	f2.EnterpriseID, f2.ComponentID, f2.Subject, f2.Score = "ENT-2", "C-2", "ENT-2|C-2", 65
	if err := m.Evaluate(context.Background(), []detectors.Finding{f1, f2}, now); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Deps{Alerts: api.FromAlertsManager(m)}, testAPIConfig(), log))
	t.Cleanup(srv.Close)
	return srv, m
}

// runAlerts runs `chainwatch alerts <args>` through Command against srv.
func runAlerts(t *testing.T, srv *httptest.Server, token string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	args = append(args, "--url", srv.URL, "--token", token)
	err := Command(t.Context(), "alerts", Invocation{Args: args, Config: config.Default(), Stdout: &out,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return out.String(), err
}

// TestAlertsCLI runs every verb of `chainwatch alerts` end to end against the real handler.
func TestAlertsCLI(t *testing.T) {
	srv, m := realAlertsAPI(t)
	out, err := runAlerts(t, srv, cliReadToken, "list")
	if err != nil || !strings.Contains(out, "ENT-DEMO") || !strings.Contains(out, "ENT-2") {
		t.Fatalf("list (two pages of one): %v\n%s", err, out)
	}
	out, err = runAlerts(t, srv, cliReadToken, "list", "--enterprise", "ENT-DEMO", "--component", "MCU-STM32F4")
	if err != nil || !strings.Contains(out, "MCU-STM32F4") || strings.Contains(out, "ENT-2") {
		t.Fatalf("list --enterprise --component: %v\n%s", err, out)
	}
	fp := m.Alerts(alerts.Filter{EnterpriseID: "ENT-DEMO"})[0].Fingerprint
	if !strings.Contains(out, fp) {
		t.Errorf("list does not show the fingerprint %s:\n%s", fp, out)
	}
	out, err = runAlerts(t, srv, cliReadToken, "list", "--severity", "urgent")
	if err == nil || !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "severity") {
		t.Errorf("bad severity: %v %s", err, out)
	}
	out, err = runAlerts(t, srv, cliReadToken, "show", fp)
	var a api.Alert
	if err != nil || json.Unmarshal([]byte(out), &a) != nil || a.Fingerprint != fp || len(a.Actions) == 0 {
		t.Errorf("show: %v\n%s", err, out)
	}
	if _, err := runAlerts(t, srv, cliReadToken, "ack", fp, "--comment", "x"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("ack with a read token: %v", err)
	}
	out, err = runAlerts(t, srv, cliOpToken, "ack", fp, "--comment", "supplier called", "--duration", "72h")
	if err != nil || json.Unmarshal([]byte(out), &a) != nil || a.Ack == nil || a.Ack.By != "ops" || a.State != "suppressed" {
		t.Errorf("ack: %v\n%s", err, out)
	}
	out, err = runAlerts(t, srv, cliOpToken, "silence", "--enterprise", "ENT-2", "--duration", "48h", "--comment", "audit")
	var s api.Silence
	if err != nil || json.Unmarshal([]byte(out), &s) != nil || s.ID == "" || s.CreatedBy != "ops" || s.Matchers.EnterpriseID != "ENT-2" {
		t.Fatalf("silence: %v\n%s", err, out)
	}
	if _, err := runAlerts(t, srv, cliOpToken, "silence", "--duration", "1h", "--comment", "x"); err == nil || !strings.Contains(err.Error(), "matchers") {
		t.Errorf("silence without a matcher: %v", err)
	}
	out, err = runAlerts(t, srv, cliReadToken, "silences", "--state", "active")
	var ss []api.Silence
	if err != nil || json.Unmarshal([]byte(out), &ss) != nil || len(ss) != 1 || ss[0].ID != s.ID {
		t.Errorf("silences: %v\n%s", err, out)
	}
	out, err = runAlerts(t, srv, cliOpToken, "unsilence", s.ID)
	if err != nil || !strings.Contains(out, s.ID+" expired") {
		t.Errorf("unsilence: %v %q", err, out)
	}
	if got, _ := m.Silence(s.ID); got.State != "expired" {
		t.Errorf("silence state after unsilence: %q", got.State)
	}
	if _, err := runAlerts(t, srv, cliOpToken, "unsilence", "0123abcd"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("unsilence unknown: %v", err)
	}
	if _, err := runAlerts(t, srv, "cw_wrong", "list"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v", err)
	}
	for _, bad := range [][]string{{"frobnicate"}, {"show"}, {"unsilence"}, {"list", "extra"}, {"list", "--bogus"}} {
		if _, err := runAlerts(t, srv, cliReadToken, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestParseAlertsArgs(t *testing.T) {
	a, help, err := parseAlertsArgs([]string{"ack", "--comment", "c", "abc", "--duration", "1h"}, ":9464")
	if err != nil || help || a.verb != "ack" || len(a.args) != 1 || a.args[0] != "abc" || a.comment != "c" || a.duration != "1h" ||
		a.url != "http://127.0.0.1:9464" {
		t.Errorf("flags around the argument: %+v %v %v", a, help, err)
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"list", "--help"}, {"ack", "fp", "-h"}} {
		if _, help, err := parseAlertsArgs(args, "127.0.0.1:9464"); !help || err != nil {
			t.Errorf("%v: help %v err %v", args, help, err)
		}
	}
	if _, _, err := parseAlertsArgs(nil, ""); err == nil {
		t.Error("no verb accepted")
	}
	for in, want := range map[string]string{"0.0.0.0:9464": "127.0.0.1:9464", "[::]:80": "127.0.0.1:80", "10.1.2.3:9": "10.1.2.3:9", "[::1]:9464": "[::1]:9464"} {
		if got := dialable(in); got != want {
			t.Errorf("dialable(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestCommandHelp: `<command> --help` prints the command's help to stdout and succeeds, without
// configuration or servers.
func TestCommandHelp(t *testing.T) {
	for cmd, want := range map[string]string{
		"import":  "usage: chainwatch import [--source S]",
		"alerts":  "usage: chainwatch alerts <verb>",
		"digest":  "usage: chainwatch digest",
		"token":   "usage: chainwatch token",
		"serve":   "usage: chainwatch serve",
		"whatif":  "usage: chainwatch whatif",
		"version": "usage: chainwatch version",
	} {
		for _, h := range []string{"--help", "-h", "help"} {
			var out bytes.Buffer
			if err := Command(t.Context(), cmd, Invocation{Args: []string{h}, Stdout: &out}); err != nil || !strings.HasPrefix(out.String(), want) {
				t.Errorf("%s %s: %v %q", cmd, h, err, out.String())
			}
		}
	}
	var out bytes.Buffer
	if err := Command(t.Context(), "import", Invocation{Args: []string{"--source", "x", "--help"}, Stdout: &out}); err != nil || !strings.Contains(out.String(), "kinds: ") {
		t.Errorf("import --source x --help: %v %q", err, out.String())
	}
	out.Reset()
	if err := Command(t.Context(), "alerts", Invocation{Args: []string{"list", "--help"}, Stdout: &out}); err != nil || !strings.Contains(out.String(), "unsilence ID") {
		t.Errorf("alerts list --help: %v %q", err, out.String())
	}
	out.Reset()
	if err := Command(t.Context(), "version", Invocation{Stdout: &out}); err != nil || out.String() != "chainwatch "+Version+"\n" {
		t.Errorf("version: %v %q", err, out.String())
	}
	if err := Command(t.Context(), "import", Invocation{Args: []string{"trade"}, Stdout: &out}); err == nil || !strings.Contains(err.Error(), "usage: chainwatch import") {
		t.Errorf("import with one argument: %v", err)
	}
	if err := Command(t.Context(), "nope", Invocation{}); !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("unknown command: %v", err)
	}
	if h, ok := HelpFor("alerts"); !ok || !strings.HasPrefix(h, "usage: chainwatch alerts") {
		t.Errorf("HelpFor(alerts) = %q %v", h, ok)
	}
	if _, ok := HelpFor("help"); ok {
		t.Error("HelpFor(help): help is the caller's")
	}
	if !IsHelp([]string{"--help", "x"}) || !IsHelp([]string{"trade", "--help"}) || IsHelp([]string{"trade", "help"}) ||
		IsHelp([]string{"--", "-h"}) || IsHelp(nil) {
		t.Error("IsHelp")
	}
}
