package app

import (
	"context"
	"fmt"
	"github.com/chainwatch/chainwatch/alerts"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts/smtpsink"
	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/schemas"
)

// countingEmitter forwards to Kafka and remembers the distinct event ids per kind and reject ids,
// so the test knows exactly what ClickHouse must hold.
type countingEmitter struct {
	next    collectors.Emitter
	mu      sync.Mutex
	events  map[schemas.Kind]map[string]bool
	rejects map[string]string // id -> reason
}

func (c *countingEmitter) Emit(ctx context.Context, envs ...schemas.Envelope) error {
	c.mu.Lock()
	for _, e := range envs {
		if c.events[e.Kind] == nil {
			c.events[e.Kind] = map[string]bool{}
		}
		c.events[e.Kind][e.EventID] = true
	}
	c.mu.Unlock()
	return c.next.Emit(ctx, envs...)
}

func (c *countingEmitter) Reject(ctx context.Context, rs ...schemas.Rejected) error {
	c.mu.Lock()
	for _, r := range rs {
		c.rejects[r.RejectID] = r.Reason
	}
	c.mu.Unlock()
	return c.next.Reject(ctx, rs...)
}

// TestPipelineEndToEndIntegration: every collector kind → real Kafka → sink → real ClickHouse with
// exact counts (good and bad files), then the detectors on the demo supply map (known single-source,
// TTS<TTR and 卡点 cases asserted exactly, with their top terms), then the B计划 emails caught by a real
// SMTP server.
func TestPipelineEndToEndIntegration(t *testing.T) {
	cfg, conn := testConfig(t)
	smtp, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	cfg.Detectors.Interval = time.Hour
	cfg.Alerts.StateDir = t.TempDir()
	cfg.Alerts.GroupWait = 200 * time.Millisecond
	cfg.Alerts.GroupInterval = time.Second
	cfg.Alerts.Tick = 100 * time.Millisecond
	cfg.Alerts.Email.Enabled = true
	cfg.Alerts.Email.SMTP.Host = "127.0.0.1"
	cfg.Alerts.Email.SMTP.Port = smtp.Port()
	cfg.Alerts.Default.Email = []string{"ops@chainwatch.test"}
	cfg.Alerts.Default.Channels = []string{"email"}
	cfg.Alerts.Enterprises = map[string]alerts.RouteConfig{
		"E-ROBOT": {Name: "Jingbei Precision Robotics", Lang: "en", Email: []string{"procurement@robot.test"}},
	}
	addr, _ := startDaemon(t, cfg)

	ctx := context.Background()
	prod := bus.NewProducer(cfg.Kafka, nil)
	defer prod.Close()
	em := &countingEmitter{next: prod, events: map[schemas.Kind]map[string]bool{}, rejects: map[string]string{}}
	root := repoRoot(t)
	imports := []struct{ kind, path string }{
		{"production", "deploy/demo/real/usgs"},
		{"production", "testdata/production/bad"},
		{"trade", "deploy/demo/real/comtrade"},
		{"trade", "testdata/trade/bad"},
		{"procurement", "deploy/demo/real/ocds/england_contractsfinder_releases.jsonl"},
		{"procurement", "testdata/procurement/bad"},
		{"supplymap", "deploy/demo/supplymap"},
		{"substitution", "deploy/demo/substitution.csv"},
		{"availability", "deploy/demo/availability.csv"},
	}
	var total collectors.Stats
	for _, im := range imports {
		st, err := collectors.Import(ctx, im.kind, filepath.Join(root, im.path), em, collectors.ImportOptions{HomeCountry: "CHN"})
		if err != nil {
			t.Fatalf("import %s %s: %v", im.kind, im.path, err)
		}
		if st.Read != st.Emitted+st.RejectedTotal()+st.Skipped && im.kind != "supplymap" { // one map row can yield several events
			t.Errorf("%s: read %d != emitted %d + rejected %d + skipped %d", im.path, st.Read, st.Emitted, st.RejectedTotal(), st.Skipped)
		}
		total.Add(st)
	}
	if len(em.rejects) == 0 {
		t.Fatal("the bad files produced no rejects")
	}
	want := map[string]uint64{schemas.RejectedTable: uint64(len(em.rejects))}
	for kind, ids := range em.events {
		spec, _ := schemas.Lookup(kind)
		want[spec.Table] = uint64(len(ids))
	}
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		if want[spec.Table] == 0 {
			t.Errorf("no %s events emitted: every kind must be covered", k)
		}
	}
	got := waitCounts(t, conn, 3*time.Minute, func(c map[string]uint64) bool { return fmt.Sprint(c) == fmt.Sprint(want) })
	t.Logf("stored exactly %v (imports: read %d, emitted %d, rejected %d %v, skipped %d)", got, total.Read, total.Emitted, total.RejectedTotal(), total.Rejected, total.Skipped)
	checkRecordsCommand(t, cfg, em)
	var rejNoReason uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM rejected FINAL WHERE stage = 'collect' AND (reason = '' OR detail = '' OR location = '')").Scan(&rejNoReason); err != nil || rejNoReason != 0 {
		t.Errorf("%d collect rejects lack reason, detail or location (err %v)", rejNoReason, err)
	}

	// Detectors and alerts, on demand through the daemon.
	resp, err := controlPost(addr, "/-/detect?wait=true")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("detect: %d %s", resp.StatusCode, body)
	}
	findings, err := detectors.LatestFindings(ctx, conn, detectors.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	subjects := func(det, flag string) string {
		var out []string
		for _, f := range findings {
			if f.Detector == det && (flag == "" || f.HasFlag(flag)) {
				out = append(out, f.Subject)
			}
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	// Hand-derived from deploy/demo/supplymap: pairs with exactly one qualified supplier (the GaN devices
	// added for the what-if demo: Wolfspeed only, Innoscience in progress).
	if got, want := subjects("single_source", detectors.FlagSingleSource), "E-NEV|C-FPGA E-NEV|C-GAN-HEMT E-NEV|C-IGBT E-ROBOT|C-CNC5 E-ROBOT|C-FPGA E-SEMI|C-FPGA E-SEMI|C-GALLIUM E-SEMI|C-GAN-RF E-SEMI|C-PHOTORESIST"; got != want {
		t.Errorf("single-source pairs:\n got %s\nwant %s", got, want)
	}
	// Two qualified suppliers but HHI >= 0.25: concentrated, not single source (cobalt 80/20, bearings 70/30, EDA 80/20 all USA).
	if got, want := subjects("single_source", detectors.FlagConcentrated), "E-NEV|C-COBALT E-NEV|C-FPGA E-NEV|C-GAN-HEMT E-NEV|C-IGBT E-ROBOT|C-BEARING E-ROBOT|C-CNC5 E-ROBOT|C-FPGA E-SEMI|C-EDA E-SEMI|C-FPGA E-SEMI|C-GALLIUM E-SEMI|C-GAN-RF E-SEMI|C-PHOTORESIST"; got != want {
		t.Errorf("concentrated pairs:\n got %s\nwant %s", got, want)
	}
	// TTS < TTR: inventory/consumption below the best alternate's qualification time. Cobalt (second
	// source already qualified), bearings (80 d stock vs 60 d ZWZ) and EDA (500 d vs 180 d) are safe.
	if got, want := subjects("tts_ttr", detectors.FlagTTSBelowTTR), "E-NEV|C-FPGA E-NEV|C-GAN-HEMT E-NEV|C-IGBT E-ROBOT|C-CNC5 E-ROBOT|C-FPGA E-SEMI|C-FPGA E-SEMI|C-GALLIUM E-SEMI|C-GAN-RF E-SEMI|C-PHOTORESIST"; got != want {
		t.Errorf("TTS<TTR pairs:\n got %s\nwant %s", got, want)
	}
	// 卡点 list members are always reported.
	if got, want := subjects("chokepoint", detectors.FlagChokepointList), "C-CNC5 C-EDA C-FPGA C-PHOTORESIST"; got != want {
		t.Errorf("chokepoint-list components:\n got %s\nwant %s", got, want)
	}
	for _, f := range findings {
		if f.Detector == "tts_ttr" && f.Subject == "E-SEMI|C-PHOTORESIST" {
			if f.TTSDays == nil || *f.TTSDays != 50 || f.TTRDays == nil || *f.TTRDays != 365 {
				t.Errorf("photoresist TTS/TTR = %v/%v, want 50/365 (400 units / 8 per day; 南大光电 365 d)", f.TTSDays, f.TTRDays)
			}
			if top := detectors.TopTerms(&f, 1); len(top) != 1 || top[0] != "tts_gap" {
				t.Errorf("photoresist top term %v, want tts_gap", top)
			}
		}
		if f.Detector == "single_source" && f.Subject == "E-NEV|C-IGBT" {
			top := detectors.TopTerms(&f, 2)
			if strings.Join(top, ",") != "single_source,supplier_hhi" {
				t.Errorf("IGBT single-source top terms %v, want single_source and supplier_hhi", top)
			}
		}
	}

	// B计划 emails: one per enterprise group, with alternates and numbers. The daemon may have run
	// the detectors (event-driven, on the availability rows) before every substitution had landed,
	// so E-ROBOT's first email can lack alternates; the alternates that became known since are then
	// sent at the next group_interval (the notification log's new-alternate rule).
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := smtp.Wait(wctx, 3); err != nil {
		t.Fatalf("B计划 emails: got %d: %v", len(smtp.Messages()), err)
	}
	robotWants := []string{"E-ROBOT", "C-FPGA", "S-FMSH", "C-CNC5", "S-KEDE"}
	var robotMissing []string
	for {
		robotMissing = nil
		var seen bool
		for _, m := range smtp.Messages() {
			if !strings.Contains(strings.Join(m.To, ","), "procurement@robot.test") {
				continue
			}
			seen = true
			var missing []string
			for _, want := range robotWants {
				if !mailMentions(m.Data, want) {
					missing = append(missing, want)
				}
			}
			if robotMissing = missing; len(missing) == 0 {
				break
			}
		}
		if !seen {
			robotMissing = []string{"the email itself"}
		}
		if len(robotMissing) == 0 || wctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(robotMissing) > 0 {
		t.Errorf("no E-ROBOT email names all of %v: the last lacks %v", robotWants, robotMissing)
	}

	// The remaining formats (BACI bulk trade, the Willems multi-tier chains) land with exact counts too.
	for _, im := range []struct{ kind, path string }{{"baci", "testdata/trade/baci"}, {"willems", "testdata/supplymap/willems/chains"}} {
		st, err := collectors.Import(ctx, im.kind, filepath.Join(root, im.path), em, collectors.ImportOptions{HomeCountry: "CHN"})
		if err != nil || st.Emitted == 0 {
			t.Fatalf("import %s: %+v %v", im.kind, st, err)
		}
	}
	want = map[string]uint64{schemas.RejectedTable: uint64(len(em.rejects))}
	for kind, ids := range em.events {
		spec, _ := schemas.Lookup(kind)
		want[spec.Table] = uint64(len(ids))
	}
	got = waitCounts(t, conn, 3*time.Minute, func(c map[string]uint64) bool { return fmt.Sprint(c) == fmt.Sprint(want) })
	t.Logf("after BACI and Willems: %v", got)
}

// checkRecordsCommand: `chainwatch records` on the real broker prints every event the imports
// emitted and every reject, each once per record that holds it, and none it should not; `records
// --tail 1 availability` (the README's line) prints the last record of each partition.
func checkRecordsCommand(t *testing.T, cfg config.Config, em *countingEmitter) {
	t.Helper()
	ctx := context.Background()
	printed := map[schemas.Kind]map[string]bool{}
	rejects := map[string]string{}
	for _, l := range records(t, ctx, cfg) {
		switch {
		case l.Rejected != nil:
			rejects[l.Rejected.RejectID] = l.Rejected.Reason
		case l.Envelope != nil:
			if printed[l.Envelope.Kind] == nil {
				printed[l.Envelope.Kind] = map[string]bool{}
			}
			printed[l.Envelope.Kind][l.Envelope.EventID] = true
		default:
			t.Errorf("records printed an event the sink would reject (%s/%d/%d: %s %s); the imports emit valid events", l.Topic, l.Partition, l.Offset, l.Reason, l.Error)
		}
	}
	em.mu.Lock()
	defer em.mu.Unlock()
	if fmt.Sprint(printed) != fmt.Sprint(em.events) {
		t.Errorf("records printed the events %v, the imports emitted %v (event ids by kind)", counts(printed), counts(em.events))
	}
	if fmt.Sprint(rejects) != fmt.Sprint(em.rejects) {
		t.Errorf("records printed %d rejects, the imports sent %d", len(rejects), len(em.rejects))
	}
	tail := records(t, ctx, cfg, "--tail", "1", "availability")
	if len(tail) == 0 {
		t.Fatal("records --tail 1 availability printed nothing")
	}
	for _, l := range tail {
		if l.Envelope == nil || l.Envelope.Kind != schemas.KindAvailability || !em.events[schemas.KindAvailability][l.Envelope.EventID] {
			t.Errorf("records --tail 1 availability printed %+v", l)
		}
	}
}

func counts[K comparable](m map[K]map[string]bool) map[K]int {
	out := map[K]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}
