package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/alerts/smtpsink"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

type latencyRun struct {
	Samples        int       `json:"samples"`
	Timeouts       int       `json:"timeouts"`
	P50            float64   `json:"p50_s"`
	P99            float64   `json:"p99_s"`
	Max            float64   `json:"max_s"`
	BackgroundRate float64   `json:"background_events_per_s"`
	DaemonRSS      float64   `json:"daemon_peak_rss_mib"`
	Latencies      []float64 `json:"latencies_s"`
	// ToRun is, per sample, the time from the event to the start of the detector run that raised
	// its alert (the sink's insert and the trigger; from the run id's milliseconds in the alert's
	// archived event); ToRunP50 is its median. The rest of the latency is the run, the alert
	// evaluation and the wait for the enterprise's alert group to be flushed.
	ToRun    []float64 `json:"event_to_run_start_s"`
	ToRunP50 float64   `json:"event_to_run_start_p50_s"`
}

type latencySummary struct {
	Runs           []latencyRun `json:"runs"`
	Samples        int          `json:"samples_per_run"`
	Timeouts       int          `json:"timeouts"`
	P50            float64      `json:"median_p50_s"`
	P99            float64      `json:"median_p99_s"`
	Max            float64      `json:"median_max_s"`
	BackgroundRate float64      `json:"median_background_events_per_s"`
	DaemonRSS      float64      `json:"median_daemon_peak_rss_mib"`
	Config         string       `json:"alerts_config"`
	ToRunP50       float64      `json:"median_event_to_run_start_p50_s"`
}

// latencyAlertsYAML: production-like detector interval (1 h), so an email soon after the event can
// only come from the event-driven trigger; alert grouping at half a second.
func latencyAlertsYAML(stateDir string, smtpPort int) string {
	return fmt.Sprintf(`detectors: {interval: 1h}
alerts:
  state_dir: %q
  tick: 100ms
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
  default: {lang: en, min_severity: warning, email: [ops@chainwatch.test], channels: [email]}
  email:
    enabled: true
    smtp: {host: 127.0.0.1, port: %d, mode: plain, auth: none, timeout: 5s}
sink: {batch_rows: 25000, flush_interval: 200ms}
`, stateDir, smtpPort)
}

func benchLatency(t *testing.T, bin string, runs, samples int) *latencySummary {
	sum := &latencySummary{Samples: samples, Config: "detectors.interval 1h, alerts.group_wait 500ms, sink.flush_interval 200ms"}
	var p50, p99, mx, bg, rss, toRun []float64
	for r := range runs {
		t.Run(fmt.Sprintf("latency-%d", r), func(t *testing.T) {
			run := benchLatencyOnce(t, bin, samples)
			t.Logf("latency run %d: p50 %.2f s p99 %.2f s max %.2f s timeouts %d background %.0f/s RSS %.0f MiB; event → run start p50 %.2f s",
				r, run.P50, run.P99, run.Max, run.Timeouts, run.BackgroundRate, run.DaemonRSS, run.ToRunP50)
			sum.Runs = append(sum.Runs, run)
			sum.Timeouts += run.Timeouts
			p50, p99, mx = append(p50, run.P50), append(p99, run.P99), append(mx, run.Max)
			bg, rss, toRun = append(bg, run.BackgroundRate), append(rss, run.DaemonRSS), append(toRun, run.ToRunP50)
		})
	}
	sum.P50, sum.P99, sum.Max, sum.BackgroundRate, sum.DaemonRSS = median(p50), median(p99), median(mx), median(bg), median(rss)
	sum.ToRunP50 = median(toRun)
	return sum
}

func latEnt(i int) string  { return fmt.Sprintf("ELAT%04d", i) }
func latComp(i int) string { return fmt.Sprintf("CLAT%04d", i) }
func latPart(i int) string { return fmt.Sprintf("PLAT%04d", i) }

// latencySetup stores, for every sample, an enterprise stocking a component and four weekly
// healthy observations of the component's part (the baseline the event departs from).
func latencySetup(t *testing.T, prod *bus.Producer, samples int, now time.Time) {
	t.Helper()
	var envs []schemas.Envelope
	for i := range samples {
		recs := []schemas.Record{&schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: latEnt(i), ComponentID: latComp(i),
			InventoryUnits: 500, ConsumptionPerDay: 10, AsOf: now.AddDate(0, 0, -30)}}
		for w := 4; w >= 1; w-- {
			recs = append(recs, latAvail(i, now.AddDate(0, 0, -7*w), 1000, 20, schemas.LifecycleActive))
		}
		for _, rec := range recs {
			env, err := schemas.NewEnvelope("bench-latency", rec, now)
			if err != nil {
				t.Fatal(err)
			}
			envs = append(envs, env)
		}
	}
	if err := prod.Emit(context.Background(), envs...); err != nil {
		t.Fatal(err)
	}
}

func latAvail(i int, asOf time.Time, stock int64, lead float64, life string) *schemas.ComponentAvailability {
	return &schemas.ComponentAvailability{PartNumber: latPart(i), Manufacturer: "Latency Semi", Distributor: "dist",
		ComponentID: latComp(i), Stock: stock, LeadTimeDays: &lead, Lifecycle: life, AsOf: asOf}
}

// background produces loadgen events at rate per second until stop is closed.
func background(ctx context.Context, kcfg bus.Config, rate int, sent *atomic.Int64, stop <-chan struct{}) {
	prod := bus.NewProducer(kcfg, nil)
	defer prod.Close()
	now := time.Now().UTC()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	i := 0
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		msgs := make([]kafka.Message, 0, rate/10)
		for range rate / 10 {
			// trade flows (the bulk feed; no availability: those are the measured events), cycling over
			// 50,000 distinct records so the table stays the same size (re-sends collapse)
			env := loadgen.Event(3*(i%50000), now)
			i++
			msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(kcfg.TopicPrefix), Key: env.Key(), Value: loadgen.Encode(env)})
		}
		if err := prod.WriteRaw(ctx, msgs...); err == nil {
			sent.Add(int64(len(msgs)))
		}
	}
}

func benchLatencyOnce(t *testing.T, bin string, samples int) latencyRun {
	conn, ch := testenv.ClickHouse(t)
	kcfg := testenv.Kafka(t)
	leftovers.db(ch.Database, nil)
	leftovers.kafka(t, kcfg)
	ctx := context.Background()
	if err := bus.EnsureTopics(ctx, kcfg); err != nil {
		t.Fatal(err)
	}
	smtp, err := smtpsink.Start(smtpsink.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	d := benchDaemon(t, bin, kcfg, ch, latencyAlertsYAML(filepath.Join(t.TempDir(), "alerts"), smtp.Port()))
	d.start()
	defer func() { _ = d.stop() }()
	now := time.Now().UTC().Truncate(time.Second)
	prod := bus.NewProducer(kcfg, nil)
	defer prod.Close()
	latencySetup(t, prod, samples, now)
	waitCounts(t, conn, 2*time.Minute, func(c map[string]uint64) bool {
		return c["supply_links"] >= uint64(samples) && c["component_availability"] >= uint64(samples)
	})
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); background(ctx, kcfg, 10000, &sent, stop) }()
	bgStart := time.Now()
	time.Sleep(3 * time.Second) // steady state
	run := latencyRun{Samples: samples}
	jitter := rand.New(rand.NewPCG(uint64(samples), 15))
	var peak int64
	for i := range samples {
		// the part goes obsolete, out of stock, lead time 20 → 140 days: a B计划 warning
		env, err := schemas.NewEnvelope("bench-latency", latAvail(i, now, 0, 140, schemas.LifecycleObsolete), now)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if err := prod.Emit(ctx, env); err != nil {
			t.Fatal(err)
		}
		got, ok := waitMail(smtp, latEnt(i), latPart(i), t0, 30*time.Second)
		peak = max(peak, procStatusKiB(d.cmd.Process.Pid, "VmRSS"))
		if !ok {
			run.Timeouts++
			t.Logf("sample %d: no email within 30 s", i)
			continue
		}
		run.Latencies = append(run.Latencies, got.Sub(t0).Seconds())
		if at, ok := alertRunStart(t, conn, latEnt(i), latComp(i), t0); ok {
			run.ToRun = append(run.ToRun, at.Sub(t0).Seconds())
		}
		// A pause of 0.2-1.4 s, drawn: the enterprise's alert group (it already holds the setup's
		// alert) is flushed every group_interval, so a new alert waits for its next flush; a fixed
		// pause after each email locked the samples to one phase of that cycle, and a run's median
		// came out near either end of it.
		time.Sleep(time.Duration(200+jitter.IntN(1200)) * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if run.Timeouts > 0 {
		all, _ := subjects(smtp.Messages())
		b, _ := os.ReadFile(d.log)
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "availability") || strings.Contains(l, "ELAT") || strings.Contains(l, "ERROR") {
				lines = append(lines, l)
			}
		}
		t.Logf("%d timeouts; emails received: %q\ndaemon log (availability lines):\n%s", run.Timeouts, all, strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
	logEventRuns(t, d.log)
	run.BackgroundRate = float64(sent.Load()) / time.Since(bgStart).Seconds()
	run.DaemonRSS = float64(max(peak, procStatusKiB(d.cmd.Process.Pid, "VmHWM"))) / 1024
	run.P50, run.P99, run.Max = percentile(run.Latencies, 0.5), percentile(run.Latencies, 0.99), percentile(run.Latencies, 1)
	if len(run.ToRun) < len(run.Latencies) {
		t.Errorf("found the detector run of %d of %d alerts in alert_events", len(run.ToRun), len(run.Latencies))
	}
	run.ToRunP50 = percentile(run.ToRun, 0.5)
	return run
}

// alertRunStart finds the firing event the alert manager archived for the sample's enterprise
// and component after the sample's event was produced (at t0), and returns the start of the
// detector run that raised it: run ids begin with their start time in milliseconds. The archive
// is written right after the evaluation, and the email may beat it: it is read again for a while.
func alertRunStart(t *testing.T, conn driver.Conn, ent, comp string, t0 time.Time) (time.Time, bool) {
	t.Helper()
	after := t0.UTC().Format("20060102T150405.000Z")
	for range 50 {
		var runID string
		err := conn.QueryRow(context.Background(), `SELECT min(run_id) FROM alert_events
			WHERE enterprise_id = ? AND component_id = ? AND status = 'firing' AND run_id > ?`, ent, comp, after).Scan(&runID)
		if err != nil {
			t.Fatalf("alert_events of %s × %s: %v", ent, comp, err)
		}
		if runID != "" {
			at, err := time.Parse("20060102T150405.000Z", strings.SplitN(runID, "-", 2)[0])
			if err != nil {
				t.Fatalf("run id %q: %v", runID, err)
			}
			return at, true
		}
		time.Sleep(40 * time.Millisecond)
	}
	return time.Time{}, false
}

// logEventRuns prints the daemon's last event-driven detector runs (their stage times: where an
// event's seconds go between the sink's commit and the alert evaluation).
func logEventRuns(t *testing.T, logPath string) {
	b, _ := os.ReadFile(logPath)
	var runs []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "event-driven detector run") {
			runs = append(runs, l)
		}
	}
	t.Logf("%d event-driven detector runs; the last ones:\n%s", len(runs), strings.Join(runs[max(0, len(runs)-5):], "\n"))
}

// waitMail waits for an email received after from whose group (X-Chainwatch-Group) or body names
// needle (the sample's enterprise or part).
func waitMail(s *smtpsink.Sink, ent, part string, from time.Time, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	seen := 0
	for time.Now().Before(deadline) {
		msgs := s.Messages()
		for _, m := range msgs[seen:] {
			if !m.Received.Before(from) && (mailGroup(m.Data) == ent || mailMentions(m.Data, part)) {
				return m.Received, true
			}
		}
		seen = len(msgs)
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}, false
}

func mailGroup(data []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	g, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("X-Chainwatch-Group"))
	return g
}

// mailMentions decodes the message's text parts (quoted-printable, base64) and looks for needle.
func mailMentions(data []byte, needle string) bool {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return false
	}
	return partMentions(textproto.MIMEHeader(msg.Header), msg.Body, needle)
}

func partMentions(h textproto.MIMEHeader, body io.Reader, needle string) bool {
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return false
			}
			if partMentions(p.Header, p, needle) {
				return true
			}
		}
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(body)
	return bytes.Contains(b, []byte(needle))
}

// percentile by the nearest-rank method; NaN without samples.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}
