package app

// Helpers of the fault-injection suite (fault_integration_test.go): a private Kafka broker, the
// real daemon as a process with a generated config, a producer that rides out a broker outage,
// and the counts every scenario reports (sent, stored, rejected, lost, duplicated).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// soak reports whether the long variant runs (CHAINWATCH_SOAK=1, `make soak`).
func soak() bool { return os.Getenv("CHAINWATCH_SOAK") == "1" }

// sized returns ci, or long under soak.
func sized[T any](ci, long T) T {
	if soak() {
		return long
	}
	return ci
}

// signalPID sends sig to the server whose pid is in pidFile.
func signalPID(t *testing.T, pidFile string, sig syscall.Signal) int {
	t.Helper()
	pid, err := readPID(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("signal %v to pid %d: %v", sig, pid, err)
	}
	return pid
}

// readPID reads the pid a server script wrote to pidFile.
func readPID(pidFile string) (int, error) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", pidFile, err)
	}
	return pid, nil
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pid %d still alive after SIGKILL", pid)
}

func (p *privateClickHouse) signal(sig syscall.Signal) {
	signalPID(p.t, filepath.Join(p.state, "clickhouse", "clickhouse.pid"), sig)
}

// privateKafka is a single-node KRaft broker of the test's own, started with deploy/local/kafka.sh.
type privateKafka struct {
	t     *testing.T
	env   []string
	state string
	addr  string
}

func newPrivateKafka(t *testing.T) *privateKafka {
	testenv.Integration(t)
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java not installed: run deploy/local/up.sh first (%v)", err)
	}
	state := t.TempDir()
	port, ctl := testenv.FreePort(t), testenv.FreePort(t)
	k := &privateKafka{t: t, state: state, addr: "127.0.0.1:" + strconv.Itoa(port),
		env: append(os.Environ(), "CHAINWATCH_STATE="+state, "KAFKA_PORT="+strconv.Itoa(port),
			"KAFKA_CONTROLLER_PORT="+strconv.Itoa(ctl), "KAFKA_HEAP=-Xmx384m -Xms384m")}
	k.script("start")
	t.Cleanup(func() { k.script("stop") })
	return k
}

func (k *privateKafka) script(arg string) {
	cmd := exec.Command("bash", filepath.Join(repoRoot(k.t), "deploy/local/kafka.sh"), arg)
	cmd.Env = k.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		k.t.Fatalf("kafka.sh %s: %v\n%s", arg, err, out)
	}
}

func (k *privateKafka) kill9() {
	waitGone(k.t, signalPID(k.t, filepath.Join(k.state, "kafka", "kafka.pid"), syscall.SIGKILL))
}

// faultDaemon writes a config for the real binary and returns it, not started.
func faultDaemon(t *testing.T, kcfg bus.Config, ch chstore.Config, extra string) *daemonProc {
	t.Helper()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	yaml := fmt.Sprintf(`
http: {listen: "%s"}
kafka: {brokers: ["%s"], topic_prefix: "%s", group_id: "%s", session_timeout: 6s}
clickhouse: {addr: ["%s"], database: "%s", dial_timeout: 2s, read_timeout: 10s}
%s
`, addr, kcfg.Brokers[0], kcfg.TopicPrefix, kcfg.GroupID, ch.Addr[0], ch.Database, extra)
	if !strings.Contains(extra, "sink:") {
		yaml += "sink: {flush_interval: 200ms, batch_rows: 5000, retry_max: 1s}\n"
	}
	if !strings.Contains(extra, "alerts:") {
		yaml += fmt.Sprintf("alerts: {state_dir: %q}\n", filepath.Join(dir, "alerts"))
	}
	if !strings.Contains(extra, "detectors:") {
		yaml += "detectors: {interval: 1h}\n"
	}
	cfgPath := filepath.Join(dir, "chainwatch.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("CHAINWATCH_TEST_BIN") // a prebuilt binary (e.g. an older build, to show a defect)
	if bin == "" {
		bin = buildBinary(t)
	}
	d := &daemonProc{t: t, bin: bin, cfg: cfgPath, addr: addr, log: filepath.Join(dir, "daemon.log")}
	t.Cleanup(func() {
		if d.cmd != nil && d.cmd.ProcessState == nil {
			d.kill9()
		}
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			t.Logf("daemon log, every start's notifications:\n%s", notificationLines(string(b), 300))
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("daemon log (tail):\n%s", b)
		}
	})
	return d
}

// stop sends SIGTERM and waits for the drain; the exit status is returned.
func (d *daemonProc) stop() error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("sigterm: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		d.kill9()
		return errors.New("daemon did not stop within 2 minutes of SIGTERM")
	}
}

// rssKiB is the daemon's resident set size (VmRSS of /proc/<pid>/status).
func (d *daemonProc) rssKiB() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// metric sums the samples of one metric family on the daemon's /metrics whose labels contain
// every one of match (e.g. `integration="email"`).
func (d *daemonProc) metric(name string, match ...string) float64 {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + d.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
lines:
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name+" ") && !strings.HasPrefix(l, name+"{") {
			continue
		}
		for _, m := range match {
			if !strings.Contains(l, m) {
				continue lines
			}
		}
		if v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// ready is the status of /readyz: 1 ready, 0 not ready, -1 no answer.
func (d *daemonProc) ready() int {
	c := http.Client{Timeout: 15 * time.Second}
	resp, err := c.Get("http://" + d.addr + "/readyz")
	if err != nil {
		return -1
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return 1
	}
	return 0
}

// eventMessages are the Kafka messages of loadgen events [from, to).
func eventMessages(prefix string, from, to int, now time.Time) []kafka.Message {
	msgs := make([]kafka.Message, 0, to-from)
	for i := from; i < to; i++ {
		env := loadgen.Event(i, now)
		msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(prefix), Key: env.Key(), Value: loadgen.Encode(env)})
	}
	return msgs
}

// produceAll sends loadgen events [0, n) in chunks, retrying a chunk while the broker is away
// (a retried chunk may be written twice: the sink collapses it).
func produceAll(ctx context.Context, kcfg bus.Config, n, chunk int, now time.Time, deadline time.Duration) error {
	prod := bus.NewProducer(kcfg, nil)
	defer prod.Close()
	stop := time.Now().Add(deadline)
	for from := 0; from < n; from += chunk {
		if err := writeRetry(ctx, prod, eventMessages(kcfg.TopicPrefix, from, min(from+chunk, n), now), stop); err != nil {
			return fmt.Errorf("produce events %d..%d: %w", from, min(from+chunk, n), err)
		}
	}
	return nil
}

// produceRaw sends msgs in chunks.
func produceRaw(ctx context.Context, kcfg bus.Config, msgs []kafka.Message, chunk int) error {
	prod := bus.NewProducer(kcfg, nil)
	defer prod.Close()
	stop := time.Now().Add(10 * time.Minute)
	for from := 0; from < len(msgs); from += chunk {
		if err := writeRetry(ctx, prod, msgs[from:min(from+chunk, len(msgs))], stop); err != nil {
			return fmt.Errorf("produce messages %d..: %w", from, err)
		}
	}
	return nil
}

// writeRetry writes msgs, retrying until stop; the error that outlived it is returned.
func writeRetry(ctx context.Context, prod *bus.Producer, msgs []kafka.Message, stop time.Time) error {
	for {
		err := prod.WriteRaw(ctx, msgs...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(stop) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// openCH opens the test's database (created if missing; the daemon migrates it).
func openCH(t *testing.T, cfg chstore.Config) driver.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("open clickhouse: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// loadgenTables are the tables loadgen events land in.
func loadgenTables() []string {
	var out []string
	for _, k := range []schemas.Kind{schemas.KindTrade, schemas.KindAvailability, schemas.KindSupplyLink} {
		spec, _ := schemas.Lookup(k)
		out = append(out, spec.Table)
	}
	return out
}

// rawRows is the number of event rows stored (without FINAL: re-sent rows counted until merged).
func rawRows(conn driver.Conn) (uint64, error) {
	var sum uint64
	for _, tbl := range loadgenTables() {
		var n uint64
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+tbl).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s: %w", tbl, err)
		}
		sum += n
	}
	return sum, nil
}

// faultCounts are what every scenario reports.
type faultCounts struct {
	Sent, Stored, Rejected, Lost, Duplicated, Redelivered uint64
}

func (c faultCounts) String() string {
	return fmt.Sprintf("sent=%d stored=%d rejected=%d lost=%d duplicated=%d (re-sent rows collapsed by FINAL: %d)",
		c.Sent, c.Stored, c.Rejected, c.Lost, c.Duplicated, c.Redelivered)
}

// countEvents reads the stored events of a loadgen run of sent events: stored = distinct event ids
// after FINAL, duplicated = rows after FINAL beyond one per id, lost = sent events missing.
func countEvents(t *testing.T, conn driver.Conn, sent int) faultCounts {
	t.Helper()
	ctx := context.Background()
	c := faultCounts{Sent: uint64(sent)}
	for _, tbl := range loadgenTables() {
		var final, distinct, raw uint64
		if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM "+tbl+" FINAL").Scan(&final, &distinct); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+tbl).Scan(&raw); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		c.Stored += distinct
		c.Duplicated += final - distinct
		c.Redelivered += raw - final
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+schemas.RejectedTable).Scan(&c.Rejected); err != nil {
		t.Fatalf("count rejected: %v", err)
	}
	if c.Stored < c.Sent {
		c.Lost = c.Sent - c.Stored
	}
	return c
}

// waitAllStored polls until sent distinct events are stored, or the deadline.
func waitAllStored(t *testing.T, conn driver.Conn, sent int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var distinct uint64
		for _, tbl := range loadgenTables() {
			var n uint64
			if err := conn.QueryRow(context.Background(), "SELECT uniqExact(event_id) FROM "+tbl).Scan(&n); err == nil {
				distinct += n
			}
		}
		if distinct >= uint64(sent) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events stored within %s", distinct, sent, timeout)
		}
		time.Sleep(time.Second)
	}
}

// waitRows polls until at least n event rows are stored.
func waitRows(t *testing.T, conn driver.Conn, n uint64, timeout time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := rawRows(conn)
		if err == nil && got >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d event rows not stored within %s (got %d, %v)", n, timeout, got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// randomPoint is a random count in [lo, hi) of n.
func randomPoint(n int, lo, hi float64) uint64 {
	return uint64(float64(n) * (lo + (hi-lo)*rand.Float64()))
}

// committedOffsets are the consumer group's committed offsets, by topic and partition.
func committedOffsets(ctx context.Context, kcfg bus.Config, topics []string, partitions int) (map[string]map[int]int64, error) {
	c := &kafka.Client{Addr: kafka.TCP(kcfg.Brokers...), Timeout: 10 * time.Second}
	req := &kafka.OffsetFetchRequest{GroupID: kcfg.GroupID, Topics: map[string][]int{}}
	for _, tp := range topics {
		for p := 0; p < partitions; p++ {
			req.Topics[tp] = append(req.Topics[tp], p)
		}
	}
	resp, err := c.OffsetFetch(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("offset fetch: %w", err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("offset fetch: %w", resp.Error)
	}
	out := map[string]map[int]int64{}
	for tp, parts := range resp.Topics {
		out[tp] = map[int]int64{}
		for _, p := range parts {
			if p.Error != nil {
				return nil, fmt.Errorf("offset fetch %s/%d: %w", tp, p.Partition, p.Error)
			}
			out[tp][p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

// committedEventIDs reads, partition by partition, the event ids of every message below the
// committed offset: the records the group has declared done.
func committedEventIDs(ctx context.Context, kcfg bus.Config, committed map[string]map[int]int64) (map[string]bool, error) {
	ids := map[string]bool{}
	for tp, parts := range committed {
		for p, off := range parts {
			if off <= 0 {
				continue
			}
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: kcfg.Brokers, Topic: tp, Partition: p, MaxBytes: 8 << 20})
			if err := r.SetOffset(0); err != nil {
				r.Close()
				return nil, fmt.Errorf("%s/%d: %w", tp, p, err)
			}
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					r.Close()
					return nil, fmt.Errorf("read %s/%d below committed offset %d: %w", tp, p, off, err)
				}
				if m.Offset >= off {
					break
				}
				var env struct {
					EventID string `json:"event_id"`
				}
				if err := json.Unmarshal(m.Value, &env); err != nil {
					r.Close()
					return nil, fmt.Errorf("%s/%d@%d: %w", tp, p, m.Offset, err)
				}
				ids[env.EventID] = true
				if m.Offset == off-1 {
					break
				}
			}
			r.Close()
		}
	}
	return ids, nil
}

// storedEventIDs are the event ids stored in the loadgen tables.
func storedEventIDs(ctx context.Context, conn driver.Conn) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, tbl := range loadgenTables() {
		rows, err := conn.Query(ctx, "SELECT DISTINCT event_id FROM "+tbl)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", tbl, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan %s: %w", tbl, err)
			}
			ids[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", tbl, err)
		}
	}
	return ids, nil
}

// eventTopics are the kind topics loadgen writes to.
func eventTopics(prefix string) []string {
	return []string{schemas.KindTrade.Topic(prefix), schemas.KindAvailability.Topic(prefix), schemas.KindSupplyLink.Topic(prefix)}
}

// notificationLines are the lines of a daemon log (all its starts: the file is appended to) that
// tell how alerts were delivered: each start, the alert state it loaded, and every notification
// sent or failed; at most max, the last ones.
func notificationLines(log string, max int) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `msg="chainwatch serving"`) || strings.Contains(l, `msg="alert state loaded"`) ||
			strings.Contains(l, `msg="notification sent"`) || strings.Contains(l, `msg="notification failed"`) {
			out = append(out, l)
		}
	}
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return strings.Join(out, "\n")
}
