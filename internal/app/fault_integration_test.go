package app

// The fault-injection suite (issue 12). Each test runs the real binary against real servers,
// injects one fault, and ends with a one-line summary of its counts. Sizes are the CI sizes;
// CHAINWATCH_SOAK=1 (`make soak`) runs the long ones. No timing is asserted: counts and states only.

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/sink"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// checkExact fails unless every sent event is stored exactly once after FINAL.
func checkExact(t *testing.T, fault string, c faultCounts) {
	t.Helper()
	t.Logf("FAULT %s: %s", fault, c)
	if c.Lost != 0 || c.Duplicated != 0 || c.Stored != c.Sent || c.Rejected != 0 {
		t.Errorf("%s: want every sent event stored exactly once, nothing rejected: %s", fault, c)
	}
}

// TestFaultDaemonKill9TwiceIntegration: the daemon is killed with SIGKILL twice at random points
// of a stream and restarted; after FINAL nothing is lost and nothing duplicated.
func TestFaultDaemonKill9TwiceIntegration(t *testing.T) {
	conn, ch := testenv.ClickHouse(t)
	kcfg := testenv.Kafka(t)
	n := sized(300_000, 1_000_000)
	d := faultDaemon(t, kcfg, ch, "")
	d.start()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	produced := make(chan error, 1)
	go func() { produced <- produceAll(ctx, kcfg, n, 10_000, now, 10*time.Minute) }()

	for i, at := range []uint64{randomPoint(n, 0.1, 0.4), randomPoint(n, 0.5, 0.8)} {
		got := waitRows(t, conn, at, 10*time.Minute)
		d.kill9()
		t.Logf("daemon killed (SIGKILL %d) at %d stored rows", i+1, got)
		d.start()
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	waitAllStored(t, conn, n, 15*time.Minute)
	if err := d.stop(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v", err)
	}
	checkExact(t, "daemon SIGKILL x2", countEvents(t, conn, n))
}

// TestFaultKafkaKill9Integration: the (private) broker is killed with SIGKILL mid-stream and
// restarted; the daemon and the producer ride it out, nothing lost or duplicated.
func TestFaultKafkaKill9Integration(t *testing.T) {
	conn, ch := testenv.ClickHouse(t)
	kcfg := testenv.Kafka(t)
	broker := newPrivateKafka(t)
	kcfg.Brokers = []string{broker.addr}
	n := sized(150_000, 1_000_000)
	outage := sized(5*time.Second, 30*time.Second)
	d := faultDaemon(t, kcfg, ch, "")
	d.start()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	produced := make(chan error, 1)
	go func() { produced <- produceAll(ctx, kcfg, n, 5_000, now, 15*time.Minute) }()

	got := waitRows(t, conn, randomPoint(n, 0.2, 0.5), 10*time.Minute)
	broker.kill9()
	t.Logf("broker killed (SIGKILL) at %d stored rows", got)
	time.Sleep(outage)
	broker.script("start")
	t.Logf("broker restarted after %s", outage)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	waitAllStored(t, conn, n, 15*time.Minute)
	fetchErrs := d.metric("chainwatch_sink_fetch_errors_total")
	if err := d.stop(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v", err)
	}
	t.Logf("sink fetch errors during the broker outage: %v", fetchErrs)
	checkExact(t, "Kafka SIGKILL + restart", countEvents(t, conn, n))
}

// TestFaultClickHouseDownIntegration: the (private) ClickHouse is stopped mid-stream, kept down,
// and started again. While it is down, every record below the consumer group's committed offsets
// must already be stored (no offset committed for an unstored row); afterwards nothing is lost or
// duplicated.
func TestFaultClickHouseDownIntegration(t *testing.T) {
	priv := newPrivateClickHouse(t)
	ch := priv.config()
	kcfg := testenv.Kafka(t)
	n := sized(150_000, 1_000_000)
	outage := sized(10*time.Second, 30*time.Second)
	d := faultDaemon(t, kcfg, ch, "")
	d.start()
	conn := openCH(t, ch)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	// The last records are produced while the server is down: 18.16 serves its open connections
	// through a graceful shutdown, and a sink draining fast enough could store all that came
	// before it, with nothing left to fail on.
	tail := n / 10
	produced := make(chan error, 1)
	go func() { produced <- produceAll(ctx, kcfg, n-tail, 5_000, now, 15*time.Minute) }()

	got := waitRows(t, conn, randomPoint(n-tail, 0.2, 0.5), 10*time.Minute)
	before := d.metric("chainwatch_sink_step_errors_total")
	t0 := time.Now()
	priv.script("stop")
	t.Logf("clickhouse stopped at >= %d stored rows", got)
	if err := produceRaw(ctx, kcfg, eventMessages(kcfg.TopicPrefix, n-tail, n, now), 5_000); err != nil {
		t.Fatal(err)
	}
	if !testenv.Until(2*time.Minute, 200*time.Millisecond, func() bool { return d.metric("chainwatch_sink_step_errors_total") > before }) {
		t.Errorf("the sink recorded no failed step while ClickHouse was down")
	}
	// Freeze the daemon so neither its offsets nor the tables move, then compare them.
	if err := d.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	committed, err := committedOffsets(ctx, kcfg, eventTopics(kcfg.TopicPrefix), 3)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(max(0, outage-time.Since(t0)))
	priv.script("start")
	t.Logf("clickhouse started again after %s", time.Since(t0).Round(time.Second))
	ids, err := committedEventIDs(ctx, kcfg, committed)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := storedEventIDs(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	var unstored int
	for id := range ids {
		if !stored[id] {
			unstored++
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	t.Logf("while down: %d records below the committed offsets, %d distinct events stored, %d committed but unstored", len(ids), len(stored), unstored)
	if unstored != 0 {
		t.Errorf("%d records were committed in Kafka but not stored in ClickHouse", unstored)
	}
	if len(ids) == 0 {
		t.Errorf("nothing was committed before the outage: the check is empty")
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	waitAllStored(t, conn, n, 15*time.Minute)
	if err := d.stop(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v", err)
	}
	c := countEvents(t, conn, n)
	checkExact(t, fmt.Sprintf("ClickHouse down %s (committed-but-unstored %d)", outage, unstored), c)
}

// TestFaultClickHouseSIGSTOPIntegration: the (private) ClickHouse is frozen with SIGSTOP while
// events keep arriving. The daemon holds at most two batches (back-pressure leaves the rest in
// Kafka, beyond the blocks it sent into INSERTs kept open), its RSS stays bounded, /readyz goes
// false, and true again after SIGCONT.
func TestFaultClickHouseSIGSTOPIntegration(t *testing.T) {
	priv := newPrivateClickHouse(t)
	ch := priv.config()
	kcfg := testenv.Kafka(t)
	warm, load := 20_000, sized(200_000, 1_000_000)
	freeze := sized(10*time.Second, 60*time.Second)
	const batchRows = 5000
	d := faultDaemon(t, kcfg, ch, fmt.Sprintf("sink: {flush_interval: 200ms, batch_rows: %d, retry_max: 1s}", batchRows))
	d.start()
	conn := openCH(t, ch)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	if err := produceAll(ctx, kcfg, warm, 5_000, now, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	waitAllStored(t, conn, warm, 5*time.Minute)
	baseRSS := d.rssKiB()

	priv.signal(syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			priv.signal(syscall.SIGCONT)
		}
	}()
	consumed0 := d.metric("chainwatch_sink_records_consumed_total")
	t0 := time.Now()
	// The whole load arrives while ClickHouse is frozen.
	produced := make(chan error, 1)
	go func() {
		prod := eventMessages(kcfg.TopicPrefix, warm, warm+load, now)
		produced <- produceRaw(ctx, kcfg, prod, 10_000)
	}()
	var maxRSS int64
	var maxConsumed, maxOpen float64
	sawNotReady := false
	sample := func() {
		maxRSS = max(maxRSS, d.rssKiB())
		maxConsumed = max(maxConsumed, d.metric("chainwatch_sink_records_consumed_total"))
		maxOpen = max(maxOpen, d.metric("chainwatch_sink_open_insert_rows"))
	}
	prodDone := false
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); {
		sample()
		if !sawNotReady && d.ready() == 0 {
			sawNotReady = true
		}
		if !prodDone {
			select {
			case err := <-produced:
				if err != nil {
					t.Fatal(err)
				}
				prodDone = true
			default:
			}
		}
		if prodDone && sawNotReady && time.Since(t0) >= freeze {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	sample()
	priv.signal(syscall.SIGCONT)
	stopped = false
	t.Logf("clickhouse resumed (SIGCONT) after %s", time.Since(t0).Round(time.Second))
	readyAgain := testenv.Until(3*time.Minute, 500*time.Millisecond, func() bool { return d.ready() == 1 })
	waitAllStored(t, conn, warm+load, 15*time.Minute)
	if err := d.stop(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v", err)
	}
	held := maxConsumed - consumed0
	t.Logf("RSS before %d KiB, max while frozen %d KiB (+%d KiB); records fetched while frozen %.0f of %d sent (bound 2 batches = %d, plus %.0f rows sent in open INSERTs)",
		baseRSS, maxRSS, maxRSS-baseRSS, held, load, 2*batchRows, maxOpen)
	if !sawNotReady {
		t.Errorf("/readyz never went false while ClickHouse was frozen")
	}
	if !readyAgain {
		t.Errorf("/readyz did not become true again after SIGCONT")
	}
	// The rows of a backlog's open INSERTs left the daemon (into the socket until the server
	// stopped reading): they are not held, and bounded by sink.insert_rows for the group ending
	// and as many for the group after it.
	if held > 2*batchRows+maxOpen {
		t.Errorf("the daemon fetched %.0f records while ClickHouse was frozen, more than the two batches (%d) it may hold and the %.0f rows of its open INSERTs", held, 2*batchRows, maxOpen)
	}
	if maxOpen > float64(2*sink.DefaultConfig().InsertRows) {
		t.Errorf("open INSERTs carried %.0f rows, more than twice sink.insert_rows", maxOpen)
	}
	// Two batches of 5,000 rows, the reader's queue and fetch buffers: far below 256 MiB. Without
	// back-pressure the frozen period's events (about 100 MB of JSON in CI) would all be held.
	if maxRSS-baseRSS > 256<<10 {
		t.Errorf("RSS grew by %d KiB while ClickHouse was frozen (bound 256 MiB)", maxRSS-baseRSS)
	}
	c := countEvents(t, conn, warm+load)
	checkExact(t, fmt.Sprintf("ClickHouse SIGSTOP %s (RSS +%d KiB, fetched while frozen %.0f)", freeze.Round(time.Second), maxRSS-baseRSS, held), c)
}

// TestFaultClickHouseKill9MidInsertIntegration: the (private) ClickHouse is killed (SIGKILL) while
// the sink drains a backlog through INSERTs kept open across batches (sink.insert_rows), and
// started again. The batches those INSERTs carried are no longer in the daemon: it must go back
// to the committed offsets and fetch them again (a rewind), and in the end every event is stored
// once, none lost.
func TestFaultClickHouseKill9MidInsertIntegration(t *testing.T) {
	priv := newPrivateClickHouse(t)
	ch := priv.config()
	kcfg := testenv.Kafka(t)
	n := sized(200_000, 1_000_000)
	d := faultDaemon(t, kcfg, ch, "sink: {batch_rows: 5000, insert_rows: 60000, flush_interval: 200ms, retry_max: 1s}")
	d.start()
	conn := openCH(t, ch)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	if err := produceAll(ctx, kcfg, n, 10_000, now, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	// Kill the server once an open INSERT carries more than its first batch.
	if !testenv.Until(5*time.Minute, 10*time.Millisecond, func() bool { return d.metric("chainwatch_sink_open_insert_rows") > 5000 }) {
		t.Fatal("the sink never kept an INSERT open across batches while draining the backlog")
	}
	open := d.metric("chainwatch_sink_open_insert_rows")
	errs := d.metric("chainwatch_sink_step_errors_total")
	priv.kill9()
	t.Logf("clickhouse killed with %.0f rows in open INSERTs", open)
	// The sink fails on its next step (a block of the open INSERTs, or an insert of its own that it
	// retries until the server is back and then finds the open INSERTs broken).
	if !testenv.Until(2*time.Minute, 100*time.Millisecond, func() bool { return d.metric("chainwatch_sink_step_errors_total") > errs }) {
		t.Errorf("the sink recorded no failed step with ClickHouse killed")
	}
	time.Sleep(3 * time.Second)
	priv.script("start")
	waitAllStored(t, conn, n, 15*time.Minute)
	rewinds := d.metric("chainwatch_sink_rewinds_total")
	if rewinds < 1 {
		t.Errorf("the sink never went back to the committed offsets: the batches of the killed INSERTs were not fetched again")
	}
	if err := d.stop(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v", err)
	}
	c := countEvents(t, conn, n)
	checkExact(t, fmt.Sprintf("ClickHouse SIGKILL mid-insert (%.0f rows open, %.0f rewinds)", open, rewinds), c)
}
