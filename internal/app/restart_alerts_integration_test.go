package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts/smtpsink"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// daemonProc is the real chainwatch binary running `serve` as a child process.
type daemonProc struct {
	t    *testing.T
	bin  string
	cfg  string
	addr string
	cmd  *exec.Cmd
	log  string
}

func buildBinary(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "chainwatch")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/chainwatch")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// daemonEnv is the environment of a daemon process a test starts: this process's, without the
// config layer's variables (CHAINWATCH_SECTION__KEY, e.g. CHAINWATCH_KAFKA__BROKERS from
// deploy/local/env.sh in the developer's shell), which would override the config file the test
// wrote for it: a fault test's private broker or ClickHouse, a bench's sink settings.
func daemonEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, config.EnvPrefix) && strings.Contains(k, "__") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (d *daemonProc) start() {
	d.t.Helper()
	defer func(t0 time.Time) { d.t.Logf("daemon ready in %s", time.Since(t0).Round(time.Millisecond)) }(time.Now())
	f, err := os.OpenFile(d.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	d.cmd = exec.Command(d.bin, "--config", d.cfg, "serve")
	d.cmd.Env = daemonEnv(os.Environ())
	if os.Getenv("CHAINWATCH_TEST_LOG") != "" {
		d.cmd.Env = append(d.cmd.Env, "CHAINWATCH_LOG__LEVEL=debug")
	}
	d.cmd.Stdout, d.cmd.Stderr = f, f
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://" + d.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(d.log)
			d.t.Fatalf("daemon not ready:\n%s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *daemonProc) kill9() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	_ = d.cmd.Wait()
}

func (d *daemonProc) detect() {
	d.t.Helper()
	defer func(t0 time.Time) { d.t.Logf("detect took %s", time.Since(t0).Round(time.Millisecond)) }(time.Now())
	resp, err := controlPost(d.addr, "/-/detect?wait=true")
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		d.t.Fatalf("detect: %s", resp.Status)
	}
}

// TestAlertsSurviveKill9Integration: the real binary fires B计划 emails, is killed with SIGKILL and
// started again on the same state: no email is sent twice within repeat_interval; when a finding
// clears, exactly one resolution is sent.
func TestAlertsSurviveKill9Integration(t *testing.T) {
	conn, ch := testenv.ClickHouse(t)
	kcfg := testenv.Kafka(t)
	smtp, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfgPath := filepath.Join(dir, "chainwatch.yaml")
	cfgYAML := fmt.Sprintf(`
http: {listen: "%s"}
kafka: {brokers: ["%s"], topic_prefix: "%s", group_id: "%s", session_timeout: 6s}
clickhouse: {addr: ["%s"], database: "%s"}
sink: {flush_interval: 200ms}
detectors: {interval: 1h}
api:
  tokens: [{name: ops, role: operate, sha256: "%s"}]
alerts:
  state_dir: "%s"
  tick: 100ms
  group_wait: 200ms
  group_interval: 500ms
  repeat_interval: 1h
  default: {lang: en, min_severity: warning, email: [ops@chainwatch.test], channels: [email]}
  email:
    enabled: true
    smtp: {host: 127.0.0.1, port: %d, mode: plain, auth: none}
`, addr, kcfg.Brokers[0], kcfg.TopicPrefix, kcfg.GroupID, ch.Addr[0], ch.Database, api.HashToken(cliOpToken), filepath.Join(dir, "alerts"), smtp.Port())
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{t: t, bin: buildBinary(t), cfg: cfgPath, addr: addr, log: filepath.Join(dir, "daemon.log")}
	d.start()
	defer d.kill9()

	ctx := context.Background()
	prod := bus.NewProducer(kcfg, nil)
	defer prod.Close()
	// Every demo row stored (nodes too: a supplier's country and domestic flag move the scores; a
	// first run before the nodes landed alerted differently and made the restart send a 4th email).
	importDemo(t, conn, kcfg)
	waitCounts(t, conn, time.Minute, func(c map[string]uint64) bool { return c["supply_links"] == 48 && c["substitutions"] == 11 }) // 39 + 9 GaN/gallium links (what-if demo); 7 + 4 regional FPGA alternates
	d.detect()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := smtp.Wait(wctx, 3); err != nil {
		t.Fatalf("first emails: %v (got %d)", err, len(smtp.Messages()))
	}
	time.Sleep(time.Second)
	first := len(smtp.Messages())
	if first != 3 {
		t.Fatalf("want one email per enterprise group (3), got %d", first)
	}

	d.kill9()
	d.start()
	d.detect()
	time.Sleep(2 * time.Second) // many ticks past group_wait and group_interval
	if n := len(smtp.Messages()); n != first {
		t.Fatalf("after kill -9 and restart: %d emails, want still %d (nothing re-sent within repeat_interval)", n, first)
	}

	// E-SEMI's gallium gets a second, domestic, qualified source and ample stock: the alert clears.
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var envs []schemas.Envelope
	for _, rec := range []schemas.Record{
		&schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: "S-GA2", Name: "Second gallium refiner", Country: "CHN", Domestic: true, AsOf: asOf},
		&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E-SEMI", ComponentID: "C-GALLIUM", SupplierID: "S-CHALCO", Share: 0.5, Qualification: "qualified", AsOf: asOf},
		&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E-SEMI", ComponentID: "C-GALLIUM", SupplierID: "S-GA2", Share: 0.5, Qualification: "qualified", AsOf: asOf},
		&schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: "E-SEMI", ComponentID: "C-GALLIUM", InventoryUnits: 400, ConsumptionPerDay: 0.4, AsOf: asOf},
	} {
		env, err := schemas.NewEnvelope("supplymap", rec, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	if err := prod.Emit(ctx, envs...); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	waitCounts(t, conn, 3*time.Minute, func(c map[string]uint64) bool { return c["supply_links"] == 49 }) // the restarted sink rejoins its group first
	t.Logf("update stored in %s", time.Since(t0).Round(time.Millisecond))
	if os.Getenv("CHAINWATCH_TEST_LOG") != "" {
		b, _ := os.ReadFile(d.log)
		t.Logf("daemon log:\n%s", b)
	}
	d.detect()
	deadline := time.Now().Add(30 * time.Second)
	for len(smtp.Messages()) < first+1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	msgs := smtp.Messages()
	if len(msgs) != first+1 {
		t.Fatalf("want exactly one resolution email, got %d new", len(msgs)-first)
	}
	last := string(msgs[len(msgs)-1].Data)
	if !strings.Contains(last, "C-GALLIUM") || !strings.Contains(strings.ToLower(last), "resolved") {
		t.Errorf("the resolution email does not name C-GALLIUM as resolved:\n%.1500s", last)
	}
	d.kill9()
	d.start()
	d.detect()
	time.Sleep(2 * time.Second)
	if n := len(smtp.Messages()); n != first+1 {
		t.Errorf("after a second restart: %d emails, want %d (the resolution is not sent again)", n, first+1)
	}
}

// TestDaemonEnv: a daemon a test starts gets the test's environment without the config layer's
// variables, which would override the config file written for it.
func TestDaemonEnv(t *testing.T) {
	in := []string{"PATH=/usr/bin", "CHAINWATCH_KAFKA__BROKERS=127.0.0.1:19092", "CHAINWATCH_STATE=/tmp/s",
		"CHAINWATCH_TEST_LOG=1", "CHAINWATCH_TOKEN=t", "CHAINWATCH_CLICKHOUSE__ADDR=127.0.0.1:19000", "HOME=/root", "X=a__b"}
	want := []string{"PATH=/usr/bin", "CHAINWATCH_STATE=/tmp/s", "CHAINWATCH_TEST_LOG=1", "CHAINWATCH_TOKEN=t", "HOME=/root", "X=a__b"}
	if got := daemonEnv(in); !slices.Equal(got, want) {
		t.Errorf("daemonEnv = %q, want %q", got, want)
	}
}
