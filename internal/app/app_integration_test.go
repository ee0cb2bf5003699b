package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CHAINWATCH_TEST_LOG") != "" {
		return slog.New(checkDupKeys(t, slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return slog.New(checkDupKeys(t, slog.NewTextHandler(io.Discard, nil)))
}

// startDaemon runs app.Run in the background and returns its HTTP address and a stop function that
// waits for the drain.
func startDaemon(t *testing.T, cfg config.Config) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Log: testLogger(t), Registry: prometheus.NewRegistry(), Ready: ready})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("daemon exited early: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("daemon not ready after 2 minutes")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			return fmt.Errorf("daemon did not stop within a minute")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return addr, stop
}

func testConfig(t *testing.T) (config.Config, driver.Conn) {
	conn, chCfg := testenv.ClickHouse(t)
	cfg := config.Default()
	cfg.ClickHouse = chCfg
	cfg.Kafka = testenv.Kafka(t)
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.API.Tokens = testAPIConfig().Tokens // controlPost's operate token for /-/detect, /-/reload
	cfg.Sink.FlushInterval = 300 * time.Millisecond
	cfg.Sink.RetryMax = 2 * time.Second
	return cfg, conn
}

// waitCounts polls until want(counts) holds, or fails after timeout with the last counts.
func waitCounts(t *testing.T, conn driver.Conn, timeout time.Duration, want func(map[string]uint64) bool) map[string]uint64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last map[string]uint64
	for {
		last = tableCounts(t, conn)
		if want(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts not reached within %s: %v", timeout, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tableCounts(t *testing.T, conn driver.Conn) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	ctx := context.Background()
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		n, err := chstore.Count(ctx, conn, spec.Table, "")
		if err != nil {
			t.Logf("count %s: %v", spec.Table, err)
			continue
		}
		out[spec.Table] = n
	}
	n, err := chstore.Count(ctx, conn, schemas.RejectedTable, "")
	if err == nil {
		out[schemas.RejectedTable] = n
	}
	return out
}

// packByTopic packs msgs into one record per topic (JSON Lines, schemas.PackedContentType), in
// their order, as chainwatch's producer does.
func packByTopic(msgs []kafka.Message) []kafka.Message {
	var out []kafka.Message
	at := map[string]int{}
	for _, m := range msgs {
		i, ok := at[m.Topic]
		if !ok {
			at[m.Topic] = len(out)
			out = append(out, kafka.Message{Topic: m.Topic, Key: m.Key, Value: slices.Clone(m.Value),
				Headers: bus.PackedHeaders()})
			continue
		}
		out[i].Value = append(append(out[i].Value, '\n'), m.Value...)
	}
	return out
}

func sumEvents(c map[string]uint64) uint64 {
	var s uint64
	for t, n := range c {
		if t != schemas.RejectedTable {
			s += n
		}
	}
	return s
}

// TestSinkExactCountsIntegration: 100,000 events through the real broker into the real ClickHouse;
// 5% are exact re-sends, 1% malformed in eight ways. Every other block of 100 goes in packed records
// (JSON Lines, one per topic), its malformed event a line among good ones. Distinct stored rows must
// equal the valid distinct events, and rejected rows the malformed events, each with its reason.
func TestSinkExactCountsIntegration(t *testing.T) {
	cfg, conn := testConfig(t)
	const total = 100_000
	const resends = total * 5 / 100
	const bad = total / 100
	const valid = total - resends - bad
	_, stop := startDaemon(t, cfg)

	ctx := context.Background()
	prod := bus.NewProducer(cfg.Kafka, nil)
	defer prod.Close()
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC().Truncate(time.Second)
	wantReasons := map[string]uint64{}
	var msgs []kafka.Message
	sent := 0
	send := func(force bool) {
		if len(msgs) >= 5000 || (force && len(msgs) > 0) {
			if err := prod.WriteRaw(ctx, msgs...); err != nil {
				t.Fatalf("produce: %v", err)
			}
			msgs = msgs[:0]
		}
	}
	packedBad := 0 // malformed events sent as a line of a pack
	// Interleave: every 100 records carry 94 new events, 5 exact re-sends of earlier ones, 1 malformed.
	next := 0
	for block := 0; block < total/100; block++ {
		start := len(msgs)
		for j := 0; j < 94; j++ {
			env := loadgen.Event(next, now)
			msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(cfg.Kafka.TopicPrefix), Key: env.Key(), Value: loadgen.Encode(env)})
			next++
		}
		for j := 0; j < 5; j++ {
			env := loadgen.Event(r.IntN(next), now) // same natural key, same bytes
			msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(cfg.Kafka.TopicPrefix), Key: env.Key(), Value: loadgen.Encode(env)})
		}
		m := loadgen.Bad(block, now, r)
		wantReasons[m.Reason]++
		msgs = append(msgs, kafka.Message{Topic: m.Kind.Topic(cfg.Kafka.TopicPrefix), Value: m.Value})
		sent += len(msgs) - start
		if block%2 == 0 {
			msgs = append(msgs[:start], packByTopic(msgs[start:])...)
			packedBad++
		}
		send(false)
	}
	send(true)
	if sent != total || next != valid {
		t.Fatalf("generator: sent %d (want %d), distinct valid %d (want %d)", sent, total, next, valid)
	}
	waitCounts(t, conn, 4*time.Minute, func(c map[string]uint64) bool {
		return sumEvents(c) >= valid && c[schemas.RejectedTable] >= bad
	})
	// Give a late duplicate or extra reject a moment to show up, then assert exact equality.
	time.Sleep(2 * time.Second)
	got := tableCounts(t, conn)
	if s := sumEvents(got); s != valid {
		t.Errorf("distinct stored events = %d, want %d (%v)", s, valid, got)
	}
	if got[schemas.RejectedTable] != bad {
		t.Errorf("rejected rows = %d, want %d", got[schemas.RejectedTable], bad)
	}
	rows, err := conn.Query(ctx, "SELECT reason, count() FROM rejected FINAL GROUP BY reason ORDER BY reason")
	if err != nil {
		t.Fatal(err)
	}
	gotReasons := map[string]uint64{}
	for rows.Next() {
		var reason string
		var n uint64
		if err := rows.Scan(&reason, &n); err != nil {
			t.Fatal(err)
		}
		gotReasons[reason] = n
	}
	rows.Close()
	if fmt.Sprint(gotReasons) != fmt.Sprint(wantReasons) {
		t.Errorf("rejected by reason = %v, want %v", gotReasons, wantReasons)
	}
	var empty uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM rejected FINAL WHERE detail = '' OR raw = '' OR stage != 'sink'").Scan(&empty); err != nil {
		t.Fatal(err)
	}
	if empty != 0 {
		t.Errorf("%d rejected rows lack detail or raw bytes", empty)
	}
	var lines uint64 // rejects of a pack's line: topic/partition/offset/line, the line named
	if err := conn.QueryRow(ctx, "SELECT count() FROM rejected FINAL WHERE length(splitByChar('/', reject_id)) = 4 AND detail LIKE 'line % of a packed record: %'").Scan(&lines); err != nil {
		t.Fatal(err)
	}
	if lines != uint64(packedBad) {
		t.Errorf("%d rejected lines of packs, want %d", lines, packedBad)
	}
	// Per-table exactness: every kind got exactly its share of distinct events.
	wantPerKind := map[string]uint64{"trade_flows": 0, "component_availability": 0, "supply_links": 0}
	for i := 0; i < valid; i++ {
		switch i % 3 {
		case 0:
			wantPerKind["trade_flows"]++
		case 1:
			wantPerKind["component_availability"]++
		default:
			wantPerKind["supply_links"]++
		}
	}
	for tbl, n := range wantPerKind {
		if got[tbl] != n {
			t.Errorf("%s = %d, want %d", tbl, got[tbl], n)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("daemon stop: %v", err)
	}
	// Everything was committed: the group has no lag left.
	lag, err := bus.Lag(ctx, cfg.Kafka, cfg.Kafka.GroupID, bus.Topics(cfg.Kafka.TopicPrefix))
	if err != nil {
		t.Fatal(err)
	}
	for topic, n := range lag {
		if n != 0 {
			t.Errorf("lag on %s after drain = %d, want 0", topic, n)
		}
	}
	t.Logf("stored %d distinct events, %d rejected %v, from %d events (%d malformed ones as lines of packs)", sumEvents(got), got[schemas.RejectedTable], gotReasons, total, packedBad)
}

// TestHealthAndMetricsIntegration: /healthz, /readyz and /metrics of a running daemon, and the whole
// scrape (sink, producer, collectors, detectors, alerts, exposure, Go runtime) passes promtool check metrics.
func TestHealthAndMetricsIntegration(t *testing.T) {
	cfg, _ := testConfig(t)
	addr, _ := startDaemon(t, cfg)
	defer func() {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			t.Fatalf("promtool not installed (deploy/local/tools.sh installs it): %v", err)
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, fam := range []string{"chainwatch_sink_rows_inserted_total", "chainwatch_sink_rejected_total", "chainwatch_detectors_run_duration_seconds", "chainwatch_producer_records_total"} {
			if !strings.Contains(string(body), fam) {
				t.Errorf("scrape lacks %s", fam)
			}
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(string(body))
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("promtool check metrics on the daemon's scrape: %v\n%s", err, out)
		}
	}()
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "chainwatch_sink_records_consumed_total"} {
		var body string
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + path)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
				if resp.StatusCode == 200 && strings.Contains(body, want) {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: want 200 with %q, got %q (err %v)", path, want, body, err)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}
