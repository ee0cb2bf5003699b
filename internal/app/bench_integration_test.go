package app

// `make bench` (issue 15): ingest against clickhouse-client's own insert ceiling, the detectors' real
// path (load from ClickHouse + rescore) at growing sizes, and event → email latency under background
// ingest. Every figure is the median of CHAINWATCH_BENCH_RUNS runs (default 3), each on fresh state
// (new topics, new database, new daemon process). Results go to bench/results.json and a printed
// table. Nothing here asserts a timing; the runs assert only exact counts.
//
// Knobs (for a quick run): CHAINWATCH_BENCH_RUNS, CHAINWATCH_BENCH_EVENTS (ingest, default 1000000),
// CHAINWATCH_BENCH_EDGES (detector sizes, default 10000,100000,1000000), CHAINWATCH_BENCH_SAMPLES
// (latency samples per run, default 40), CHAINWATCH_BENCH_PARTS (ingest,detectors,latency),
// CHAINWATCH_BENCH_OUT (default bench/results.json), CHAINWATCH_BENCH_BIN (a prebuilt daemon, e.g.
// of an older commit, for before/after figures), CHAINWATCH_BENCH_ENCODING (the producer's
// kafka.encoding: protobuf, json), CHAINWATCH_BENCH_PPROF (a directory: the
// daemon's CPU profile of each ingest run, with heap profiles every 500 ms of its drain, and the
// detector child's are written there), CHAINWATCH_BENCH_CHILD_LOGS (a directory: the child
// processes' output and the daemons' logs are kept there).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"
	"gopkg.in/yaml.v3"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/sink"
	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

type benchMachine struct {
	Cores             int    `json:"cores"`
	MemoryMiB         int64  `json:"memory_mib"`
	CPU               string `json:"cpu"`
	GoVersion         string `json:"go_version"`
	ClickHouseVersion string `json:"clickhouse_version"`
	KafkaVersion      string `json:"kafka_version"`
	GitCommit         string `json:"git_commit"`
	GitDirty          bool   `json:"git_dirty"`
	StartedAt         string `json:"started_at"`
}

type benchResults struct {
	Machine   benchMachine    `json:"machine"`
	Runs      int             `json:"runs"`
	Ingest    *ingestSummary  `json:"ingest,omitempty"`
	Detectors *detSummary     `json:"detectors,omitempty"`
	Latency   *latencySummary `json:"latency,omitempty"`
}

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// TestBench is `make bench`. It runs only with CHAINWATCH_BENCH=1.
func TestBench(t *testing.T) {
	if os.Getenv("CHAINWATCH_BENCH") == "" {
		t.Skip("benchmark: set CHAINWATCH_BENCH=1 (make bench)")
	}
	parts := os.Getenv("CHAINWATCH_BENCH_PARTS")
	if parts == "" {
		parts = "ingest,detectors,latency"
	}
	res := benchResults{Machine: machineInfo(t), Runs: benchEnvInt("CHAINWATCH_BENCH_RUNS", 3)}
	leftovers.start(t)
	bin := os.Getenv("CHAINWATCH_BENCH_BIN") // an older build, for a before/after
	if bin == "" {
		bin = buildBinary(t)
	}
	out := os.Getenv("CHAINWATCH_BENCH_OUT")
	if out == "" {
		out = filepath.Join(repoRoot(t), "bench", "results.json")
	}
	for _, p := range strings.Split(parts, ",") {
		switch strings.TrimSpace(p) {
		case "ingest":
			res.Ingest = benchIngest(t, bin, res.Runs, benchEnvInt("CHAINWATCH_BENCH_EVENTS", 1_000_000))
		case "detectors":
			res.Detectors = benchDetectors(t, res.Runs)
		case "latency":
			res.Latency = benchLatency(t, bin, res.Runs, benchEnvInt("CHAINWATCH_BENCH_SAMPLES", 40))
		default:
			t.Fatalf("CHAINWATCH_BENCH_PARTS: unknown part %q", p)
		}
		writeBench(t, out, res) // after each part: a long run that fails late keeps what it measured
	}
	printBench(res)
	fmt.Printf("\nwritten: %s\n", out)
}

func writeBench(t *testing.T, out string, res benchResults) {
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func machineInfo(t *testing.T) benchMachine {
	m := benchMachine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), StartedAt: time.Now().UTC().Format(time.RFC3339)}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m.MemoryMiB = kib / 1024
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	root := repoRoot(t)
	if b, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
		m.GitCommit = strings.TrimSpace(string(b))
	}
	if b, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		m.GitDirty = len(strings.TrimSpace(string(b))) > 0
	}
	if b, err := clickhouseClient("", "SELECT version()").Output(); err == nil {
		m.ClickHouseVersion = strings.TrimSpace(string(b))
	}
	m.KafkaVersion = kafkaVersion()
	return m
}

// brokerCmdline returns the NUL-separated command line of the running local broker ("" if none).
func brokerCmdline() string {
	_, cmd := brokerProc()
	return cmd
}

// brokerProc is the pid and command line of the local Kafka broker (the kafka.Kafka process); 0
// and "" when none runs on this machine.
func brokerProc() (int, string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "kafka.Kafka") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid, string(b)
		}
	}
	return 0, ""
}

// kafkaVersion is read from the running broker's class path (kafka_<scala>-<version>.jar).
func kafkaVersion() string {
	for _, f := range strings.FieldsFunc(brokerCmdline(), func(r rune) bool { return r == ':' || r == 0 || r == '/' }) {
		if v, ok := strings.CutPrefix(f, "kafka_2.13-"); ok && strings.HasSuffix(v, ".jar") {
			return strings.TrimSuffix(v, ".jar")
		}
		if v, ok := strings.CutPrefix(f, "kafka-"); ok && v != "" && v[0] >= '0' && v[0] <= '9' {
			return v // …/kafka-4.1.0/libs/*
		}
	}
	return "unknown"
}

// clickhouseClient runs clickhouse-client against the test server.
func clickhouseClient(db, query string) *exec.Cmd {
	host, port, _ := net.SplitHostPort(testenv.ClickHouseAddr())
	args := []string{"--host", host, "--port", port, "--query", query}
	if db != "" {
		args = append(args, "--database", db)
	}
	return exec.Command("clickhouse-client", args...)
}

// benchDaemon starts the real binary with a generated config (the fault suite's daemonProc).
func benchDaemon(t *testing.T, bin string, kcfg bus.Config, ch chstore.Config, extra string) *daemonProc {
	t.Helper()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	yaml := fmt.Sprintf(`
http: {listen: "%s"}
kafka: {brokers: ["%s"], topic_prefix: "%s", group_id: "%s", partitions: %d}
clickhouse: {addr: ["%s"], database: "%s", dial_timeout: 2s, read_timeout: 60s}
%s
`, addr, kcfg.Brokers[0], kcfg.TopicPrefix, kcfg.GroupID, kcfg.Partitions, ch.Addr[0], ch.Database, extra)
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
	d := &daemonProc{t: t, bin: bin, cfg: cfgPath, addr: addr, log: filepath.Join(dir, "daemon.log")}
	t.Cleanup(func() {
		if d.cmd != nil && d.cmd.ProcessState == nil {
			d.kill9()
		}
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			t.Logf("daemon log (tail):\n%s", b[max(0, len(b)-8000):])
		}
		if keep := os.Getenv("CHAINWATCH_BENCH_CHILD_LOGS"); keep != "" {
			// the daemon's whole log (GODEBUG=gctrace=1 goes there too), beside the children's
			b, err := os.ReadFile(d.log)
			if err == nil {
				err = os.WriteFile(filepath.Join(keep, fmt.Sprintf("daemon-%d.log", time.Now().UnixNano())), b, 0o644)
			}
			if err != nil {
				t.Errorf("keeping the daemon log: %v", err)
			}
		}
	})
	return d
}

// procCPUSeconds is the user + system CPU time of pid (this process: the in-process pprof daemon
// shares it with the test), from /proc/<pid>/stat; -1 when unreadable.
func procCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state); utime, stime are fields 14, 15
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100 // USER_HZ
}

// procStatusKiB reads one field (VmRSS, VmHWM) of /proc/<pid>/status in KiB.
func procStatusKiB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

func deleteTopics(kcfg bus.Config) {
	c := &kafka.Client{Addr: kafka.TCP(kcfg.Brokers...), Timeout: 30 * time.Second}
	_, _ = c.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: bus.Topics(kcfg.TopicPrefix)})
}

// benchLeftovers are the databases and topics of the bench's runs, dropped when the bench ends
// (CHAINWATCH_BENCH_DROP=end, the default) or as each run ends (=run, as before 2026-12-07).
//
// Why at the end: this machine's ext4 has no journal, and without one the kernel skips inodes
// freed in the last one to five minutes whenever it allocates one, checking each in the buffer
// cache. Right after a run's databases were dropped (thousands of files), every file the next
// run's ClickHouse created cost a scan of them: `perf` put 30% of the server's CPU during a drain
// in ext4_create (recently_deleted, find_inode_bit), against none after five idle minutes. The
// drain writes two to three times the parts of the ceiling's inserts, so it paid more of it.
// Production hosts keep a journal (or run XFS), where no such scan happens.
type benchLeftovers struct {
	mu     sync.Mutex
	atEnd  bool
	dbs    []string
	topics []bus.Config
}

var leftovers benchLeftovers // the bench's, one TestBench at a time

// start sets the mode from CHAINWATCH_BENCH_DROP and, at the end, drops what was left.
func (l *benchLeftovers) start(t *testing.T) {
	switch m := os.Getenv("CHAINWATCH_BENCH_DROP"); m {
	case "", "end":
		l.atEnd = true
		t.Setenv("CHAINWATCH_TEST_KEEP", "1") // testenv.ClickHouse leaves its databases to us
	case "run":
		l.atEnd = false
	default:
		t.Fatalf("CHAINWATCH_BENCH_DROP=%q: want end or run", m)
	}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, db := range l.dbs {
			if out, err := clickhouseClient("", "DROP DATABASE IF EXISTS "+db).CombinedOutput(); err != nil {
				t.Errorf("dropping %s: %v %s", db, err, out)
			}
		}
		for _, k := range l.topics {
			deleteTopics(k)
		}
		l.dbs, l.topics = nil, nil
	})
}

// db is done with database name: dropNow drops it at once when runs drop their own (nil: its
// testenv.ClickHouse cleanup drops it then); otherwise it is dropped when the bench ends.
func (l *benchLeftovers) db(name string, dropNow func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.atEnd {
		if dropNow != nil {
			dropNow()
		}
		return
	}
	l.dbs = append(l.dbs, name)
}

// kafka registers a run's topics: deleted as the run ends, or when the bench ends.
func (l *benchLeftovers) kafka(t *testing.T, kcfg bus.Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.atEnd {
		t.Cleanup(func() { deleteTopics(kcfg) })
		return
	}
	l.topics = append(l.topics, kcfg)
}

// ---- 1. ingest -------------------------------------------------------------------------------------

type ingestRun struct {
	Events int `json:"events"`
	// the Kafka records the events went in (kafka.events_per_record of them packed in one)
	KafkaRecords    int64          `json:"kafka_records"`
	ByTable         map[string]int `json:"by_table"`
	ProduceRate     float64        `json:"produce_records_per_s"` // collector → Kafka (envelope + Emit)
	SinkSeconds     float64        `json:"sink_s"`                // daemon ready → the sink's last insert, as its offsets are committed
	PolledSeconds   float64        `json:"sink_polled_s"`         // daemon ready → the poll that saw every offset committed
	SinkRate        float64        `json:"sink_rows_per_s"`
	CeilingSeconds  float64        `json:"ceiling_s"` // clickhouse-client INSERT … FORMAT Native, all tables
	CeilingRate     float64        `json:"ceiling_rows_per_s"`
	Ratio           float64        `json:"ratio"`
	DaemonPeakRSSMB float64        `json:"daemon_peak_rss_mib"`
	// the peak up to 5 s after the drain: it includes the event-driven detector run the drained
	// availability rows start (held while the sink drains full batches)
	DaemonPeakAfterMB float64 `json:"daemon_peak_rss_with_post_drain_run_mib"`
	// the daemon's CPU time (user + system) during the drain: on this shared machine a steadier
	// before/after figure than the rate
	DaemonCPUSeconds float64            `json:"daemon_cpu_s"`
	CPUMicrosPerRow  float64            `json:"daemon_cpu_us_per_row"`
	CeilingTables    map[string]float64 `json:"ceiling_s_by_table"`
	// Kafka's own Java consumer (kafka-tools ConsumerPerformance) reading the same records from
	// the same broker, no decoding, nothing stored: what any Kafka consumer on this machine can
	// at best reach, as a fraction of the ClickHouse ceiling too.
	KafkaConsumerRate  float64 `json:"kafka_consumer_events_per_s"`
	KafkaConsumerRatio float64 `json:"kafka_consumer_ratio"`
	// The ClickHouse server's side, when it is the local one (deploy/local, its pid file): its CPU
	// time per row and the parts it wrote (system.events MergeTreeDataWriterBlocks), during the
	// drain and during the ceiling's inserts. Each part is a directory of two files per column;
	// on this machine's ext4 a file's creation costs more the more files were deleted recently.
	ServerCPUMicrosPerRow        float64 `json:"server_cpu_us_per_row,omitempty"`
	ServerParts                  int64   `json:"server_parts,omitempty"`
	CeilingServerCPUMicrosPerRow float64 `json:"ceiling_server_cpu_us_per_row,omitempty"`
	CeilingServerParts           int64   `json:"ceiling_server_parts,omitempty"`
	// The same ceiling with the files' rows in the order they were produced to Kafka, as the sink
	// reads them (its partitions interleaved), not the tables' sort order, which an export from
	// the table has: the server sorts each part it writes, and sorted input is the cheap case.
	CeilingUnsortedRate                  float64 `json:"ceiling_unsorted_rows_per_s"`
	RatioUnsorted                        float64 `json:"ratio_unsorted"`
	CeilingUnsortedServerCPUMicrosPerRow float64 `json:"ceiling_unsorted_server_cpu_us_per_row,omitempty"`
	// The local Kafka broker's CPU time per row during the drain (0: no broker on this machine).
	BrokerCPUMicrosPerRow float64 `json:"broker_cpu_us_per_row,omitempty"`
	// The sink's own consumer alone (kafkaGoRead): sink.NewReader reading every record of the run
	// in a child process, nothing decoded or stored; its events per second, and the CPU the child
	// and the broker spent per event.
	KafkaGoReadRate         float64 `json:"kafka_go_read_events_per_s"`
	KafkaGoReadCPUMicros    float64 `json:"kafka_go_read_cpu_us_per_event"`
	KafkaGoReadBrokerMicros float64 `json:"kafka_go_read_broker_cpu_us_per_event,omitempty"`
	// The sink floor (benchSinkFloor): the records read and their rows stored through the sink's
	// own reader and insert path, with nothing decoded or checked while timed. Its rate, that
	// rate against the ceiling, and the CPU per row of the floor's process, the server and the
	// broker.
	FloorRate         float64 `json:"floor_rows_per_s"`
	FloorRatio        float64 `json:"floor_ratio"`
	FloorCPUMicros    float64 `json:"floor_cpu_us_per_row"`
	FloorServerMicros float64 `json:"floor_server_cpu_us_per_row,omitempty"`
	FloorBrokerMicros float64 `json:"floor_broker_cpu_us_per_row,omitempty"`
	FloorInserts      int     `json:"floor_inserts"`
	// What 0.8 of the ceiling leaves: the CPU time per row of all the machine's cores at
	// 0.8 × ceiling_rows_per_s, against what the drain took (daemon + server + broker).
	BudgetMicrosPerRow   float64 `json:"cpu_budget_us_per_row_at_0_8"`
	DrainCPUMicrosPerRow float64 `json:"drain_cpu_us_per_row,omitempty"`
}

type ingestSummary struct {
	Events      int         `json:"events"`
	SinkConfig  string      `json:"sink_config"`
	Runs        []ingestRun `json:"runs"`
	ProduceRate float64     `json:"median_produce_records_per_s"`
	SinkRate    float64     `json:"median_sink_rows_per_s"`
	CeilingRate float64     `json:"median_ceiling_rows_per_s"`
	Ratio       float64     `json:"median_ratio"`
	DaemonRSS   float64     `json:"median_daemon_peak_rss_mib"`
	DaemonAfter float64     `json:"median_daemon_peak_rss_with_post_drain_run_mib"`
	KafkaRate   float64     `json:"median_kafka_consumer_events_per_s"`
	KafkaRatio  float64     `json:"median_kafka_consumer_ratio"`
	DaemonCPU   float64     `json:"median_daemon_cpu_us_per_row"`
	ServerCPU   float64     `json:"median_server_cpu_us_per_row,omitempty"`
	ServerParts float64     `json:"median_server_parts"`
	CeilCPU     float64     `json:"median_ceiling_server_cpu_us_per_row,omitempty"`
	CeilParts   float64     `json:"median_ceiling_server_parts"`
	// the ceiling with unsorted files (ingestRun.CeilingUnsortedRate)
	CeilingUnsortedRate float64 `json:"median_ceiling_unsorted_rows_per_s"`
	RatioUnsorted       float64 `json:"median_ratio_unsorted"`
	CeilUnsortedCPU     float64 `json:"median_ceiling_unsorted_server_cpu_us_per_row,omitempty"`
	BrokerCPU           float64 `json:"median_broker_cpu_us_per_row,omitempty"`
	KafkaGoRate         float64 `json:"median_kafka_go_read_events_per_s"`
	KafkaGoCPU          float64 `json:"median_kafka_go_read_cpu_us_per_event"`
	KafkaGoBroker       float64 `json:"median_kafka_go_read_broker_cpu_us_per_event,omitempty"`
	FloorRate           float64 `json:"median_floor_rows_per_s"`
	FloorRatio          float64 `json:"median_floor_ratio"`
	FloorCPU            float64 `json:"median_floor_cpu_us_per_row"`
	FloorServer         float64 `json:"median_floor_server_cpu_us_per_row,omitempty"`
	FloorBroker         float64 `json:"median_floor_broker_cpu_us_per_row,omitempty"`
	Budget              float64 `json:"median_cpu_budget_us_per_row_at_0_8"`
	DrainCPU            float64 `json:"median_drain_cpu_us_per_row,omitempty"`
}

func benchIngest(t *testing.T, bin string, runs, n int) *ingestSummary {
	sum := &ingestSummary{Events: n, SinkConfig: os.Getenv("CHAINWATCH_BENCH_SINK")}
	if sum.SinkConfig == "" {
		sum.SinkConfig = "{batch_rows: 25000, flush_interval: 1s}"
	}
	for r := range runs {
		t.Run(fmt.Sprintf("ingest-%d", r), func(t *testing.T) {
			run := benchIngestOnce(t, bin, n, sum.SinkConfig, r)
			t.Logf("ingest run %d: produce %.0f/s, sink %.0f rows/s, ceiling %.0f rows/s, ratio %.2f, daemon peak RSS %.0f MiB (%.0f MiB with the run after the drain), daemon CPU %.1f s (%.2f µs/row); server %.2f µs/row, %d parts (ceiling %.2f µs/row, %d parts); unsorted files' ceiling %.0f rows/s, ratio %.2f; drain %.2f s to the last insert, %.2f s to the poll that saw the commit (ratio %.2f there)",
				r, run.ProduceRate, run.SinkRate, run.CeilingRate, run.Ratio, run.DaemonPeakRSSMB, run.DaemonPeakAfterMB, run.DaemonCPUSeconds, run.CPUMicrosPerRow,
				run.ServerCPUMicrosPerRow, run.ServerParts, run.CeilingServerCPUMicrosPerRow, run.CeilingServerParts, run.CeilingUnsortedRate, run.RatioUnsorted,
				run.SinkSeconds, run.PolledSeconds, run.Ratio*run.SinkSeconds/run.PolledSeconds)
			t.Logf("ingest run %d: sink floor (nothing decoded) %.0f rows/s, ratio %.2f; CPU per row: floor %.2f, server %.2f, broker %.2f µs (%d INSERTs)",
				r, run.FloorRate, run.FloorRatio, run.FloorCPUMicros, run.FloorServerMicros, run.FloorBrokerMicros, run.FloorInserts)
			sum.Runs = append(sum.Runs, run)
		})
	}
	pick := func(f func(ingestRun) float64) float64 {
		var xs []float64
		for _, r := range sum.Runs {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	sum.ProduceRate = pick(func(r ingestRun) float64 { return r.ProduceRate })
	sum.SinkRate = pick(func(r ingestRun) float64 { return r.SinkRate })
	sum.CeilingRate = pick(func(r ingestRun) float64 { return r.CeilingRate })
	sum.Ratio = pick(func(r ingestRun) float64 { return r.Ratio })
	sum.DaemonRSS = pick(func(r ingestRun) float64 { return r.DaemonPeakRSSMB })
	sum.DaemonAfter = pick(func(r ingestRun) float64 { return r.DaemonPeakAfterMB })
	sum.KafkaRate = pick(func(r ingestRun) float64 { return r.KafkaConsumerRate })
	sum.KafkaRatio = pick(func(r ingestRun) float64 { return r.KafkaConsumerRatio })
	sum.DaemonCPU = pick(func(r ingestRun) float64 { return r.CPUMicrosPerRow })
	sum.ServerCPU = pick(func(r ingestRun) float64 { return r.ServerCPUMicrosPerRow })
	sum.ServerParts = pick(func(r ingestRun) float64 { return float64(r.ServerParts) })
	sum.CeilCPU = pick(func(r ingestRun) float64 { return r.CeilingServerCPUMicrosPerRow })
	sum.CeilParts = pick(func(r ingestRun) float64 { return float64(r.CeilingServerParts) })
	sum.CeilingUnsortedRate = pick(func(r ingestRun) float64 { return r.CeilingUnsortedRate })
	sum.RatioUnsorted = pick(func(r ingestRun) float64 { return r.RatioUnsorted })
	sum.CeilUnsortedCPU = pick(func(r ingestRun) float64 { return r.CeilingUnsortedServerCPUMicrosPerRow })
	sum.BrokerCPU = pick(func(r ingestRun) float64 { return r.BrokerCPUMicrosPerRow })
	sum.KafkaGoRate = pick(func(r ingestRun) float64 { return r.KafkaGoReadRate })
	sum.KafkaGoCPU = pick(func(r ingestRun) float64 { return r.KafkaGoReadCPUMicros })
	sum.KafkaGoBroker = pick(func(r ingestRun) float64 { return r.KafkaGoReadBrokerMicros })
	sum.FloorRate = pick(func(r ingestRun) float64 { return r.FloorRate })
	sum.FloorRatio = pick(func(r ingestRun) float64 { return r.FloorRatio })
	sum.FloorCPU = pick(func(r ingestRun) float64 { return r.FloorCPUMicros })
	sum.FloorServer = pick(func(r ingestRun) float64 { return r.FloorServerMicros })
	sum.FloorBroker = pick(func(r ingestRun) float64 { return r.FloorBrokerMicros })
	sum.Budget = pick(func(r ingestRun) float64 { return r.BudgetMicrosPerRow })
	sum.DrainCPU = pick(func(r ingestRun) float64 { return r.DrainCPUMicrosPerRow })
	return sum
}

// produceSynth streams n realistic records of every kind (internal/synth: supply map, substitutions,
// awards, availability, production, then trade rows) through envelopes and the bus producer, as a
// collector does. It returns the distinct event ids per table and the produce rate.
func produceSynth(t *testing.T, kcfg bus.Config, n int) (map[string]int, []string, float64) {
	ctx := context.Background()
	if err := bus.EnsureTopics(ctx, kcfg); err != nil {
		t.Fatal(err)
	}
	prod := bus.NewProducer(kcfg, nil)
	defer prod.Close()
	now := time.Now().UTC()
	ids := map[string]schemas.Kind{}
	order := make([]string, 0, n) // distinct event ids, as first produced
	buf := make([]schemas.Envelope, 0, 2000)
	var perr error
	start := time.Now()
	produced := 0
	synth.Generate(synth.Config{Edges: n * 3 / 10, TradeRows: n * 7 / 10, Seed: 15, Now: now}, func(rec schemas.Record) {
		if produced >= n || perr != nil {
			return
		}
		env, err := schemas.NewEnvelope("bench", rec, now)
		if err != nil {
			perr = err
			return
		}
		produced++
		if _, ok := ids[env.EventID]; !ok {
			order = append(order, env.EventID)
		}
		ids[env.EventID] = env.Kind
		if buf = append(buf, env); len(buf) == cap(buf) {
			perr = prod.Emit(ctx, buf...)
			buf = buf[:0]
		}
	})
	if perr == nil && len(buf) > 0 {
		perr = prod.Emit(ctx, buf...)
	}
	if perr != nil {
		t.Fatal(perr)
	}
	rate := float64(produced) / time.Since(start).Seconds()
	if produced < n {
		t.Fatalf("synth produced %d records, want %d", produced, n)
	}
	byTable := map[string]int{}
	for _, k := range ids {
		spec, _ := schemas.Lookup(k)
		byTable[spec.Table]++
	}
	return byTable, order, rate
}

func benchIngestOnce(t *testing.T, bin string, n int, sinkCfg string, run int) ingestRun {
	conn, ch := testenv.ClickHouse(t)
	kcfg := testenv.Kafka(t)
	leftovers.db(ch.Database, nil)
	leftovers.kafka(t, kcfg)
	if v := os.Getenv("CHAINWATCH_BENCH_PACK"); v != "" { // kafka.events_per_record of the producer
		p, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("CHAINWATCH_BENCH_PACK: %v", err)
		}
		kcfg.EventsPerRecord = p
	}
	if v := os.Getenv("CHAINWATCH_BENCH_ENCODING"); v != "" { // kafka.encoding of the producer
		kcfg.Encoding = v
	}
	byTable, order, prate := produceSynth(t, kcfg, n)
	krate := kafkaConsumerCeiling(t, kcfg, n)
	kread := kafkaGoRead(t, kcfg, n)
	runtime.GC()
	cfgYAML := "sink: " + sinkCfg + "\n"
	srv := localServerPID(t)
	bpid, _ := brokerProc()
	pid, ready, drained, stop, lastInsert := startIngestDaemon(t, bin, kcfg, ch, cfgYAML, run)
	// The three processes' CPU from the daemon's ready, the drain's start. (Until 2026-12-07 the
	// server's was read before the daemon started, so it also counted what the daemon's start-up
	// asked of it, 0.28 s in one run (0.28 µs a row), which the daemon's own figure never held.)
	cpu0, srv0, brk0 := procCPUSeconds(pid), procCPUSeconds(srv), procCPUSeconds(bpid)
	parts0 := writerBlocks(t, conn)
	// The CPU times of the three processes at each poll, to read them at the drain's end.
	var samples []cpuSample
	sample := func() {
		samples = append(samples, cpuSample{time.Now(), procCPUSeconds(pid), procCPUSeconds(srv), procCPUSeconds(bpid)})
	}
	ctx := context.Background()
	// The records the n events went to Kafka in (a packed record holds several): done when the
	// group's committed offsets cover them all.
	topics, _, records := runRecords(t, kcfg)
	var peak int64
	var committed map[string]map[int]int64
	if !testenv.Until(30*time.Minute, 100*time.Millisecond, func() bool {
		peak = max(peak, procStatusKiB(pid, "VmRSS"))
		sample()
		c, err := committedOffsets(ctx, kcfg, topics, kcfg.Partitions)
		if err != nil {
			return false
		}
		var s int64
		for _, ps := range c {
			for _, o := range ps {
				s += max(o, 0)
			}
		}
		committed = c
		return s >= records
	}) {
		t.Fatalf("not every offset committed: %v", committed)
	}
	polled := time.Since(ready)
	sample()
	drained()
	// The drain ends at the sink's last insert, which the daemon stamps as it commits the offsets
	// of its last rows (chainwatch_sink_last_insert_timestamp_seconds), not when a poll saw the
	// commit: the detector run the sink wakes then takes both cores, and the poll up to 0.5 s
	// with them (docs/benchmarks.md). The CPU times are read there, between the polls around it.
	end := samples[len(samples)-1]
	if at := lastInsert(); at > 0 {
		end = cpuAt(samples, time.Unix(0, int64(at*1e9)))
	}
	elapsed := end.at.Sub(ready)
	cpu, brkCPU := end.daemon-cpu0, end.broker-brk0
	srvCPU, parts := end.server-srv0, writerBlocks(t, conn)-parts0
	peak = max(peak, procStatusKiB(pid, "VmHWM"))
	after := peak
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		after = max(after, procStatusKiB(pid, "VmRSS"))
	}
	after = max(after, procStatusKiB(pid, "VmHWM"))
	if err := stop(); err != nil {
		t.Errorf("daemon stop: %v", err)
	}
	checkStored(t, conn, byTable)
	ceilS, ceilBy, rows, ceilSrv := benchCeiling(t, ch, conn, srv, "")
	storeProduceOrder(t, conn, order)
	uncS, _, uncRows, uncSrv := benchCeiling(t, ch, conn, srv, produceOrderJoin)
	if uncRows != rows {
		t.Fatalf("the produce-order ceiling inserted %d rows, the sorted one %d", uncRows, rows)
	}
	floor := benchSinkFloor(t, kcfg, ch.Database, n, records)
	res := ingestRun{Events: n, KafkaRecords: records, ByTable: byTable, ProduceRate: prate, SinkSeconds: elapsed.Seconds(),
		PolledSeconds: polled.Seconds(),
		SinkRate:      float64(n) / elapsed.Seconds(), CeilingSeconds: ceilS, CeilingRate: float64(rows) / ceilS,
		Ratio: (float64(n) / elapsed.Seconds()) / (float64(rows) / ceilS), DaemonPeakRSSMB: float64(peak) / 1024,
		DaemonPeakAfterMB: float64(after) / 1024, DaemonCPUSeconds: cpu, CPUMicrosPerRow: cpu / float64(n) * 1e6,
		CeilingTables: ceilBy, KafkaConsumerRate: krate, KafkaConsumerRatio: krate / (float64(rows) / ceilS),
		ServerParts: parts, CeilingServerParts: ceilSrv.parts,
		CeilingUnsortedRate: float64(rows) / uncS, RatioUnsorted: (float64(n) / elapsed.Seconds()) / (float64(rows) / uncS),
		KafkaGoReadRate: kread.rate, KafkaGoReadCPUMicros: kread.cpuMicros, KafkaGoReadBrokerMicros: kread.brokerMicros,
		FloorRate: floor.rate, FloorRatio: floor.rate / (float64(rows) / ceilS), FloorCPUMicros: floor.cpuMicros,
		FloorServerMicros: floor.serverMicros, FloorBrokerMicros: floor.brokerMicros, FloorInserts: floor.Inserts,
		BudgetMicrosPerRow: float64(runtime.NumCPU()) * 1e6 / (0.8 * float64(rows) / ceilS)}
	if srv > 0 {
		res.ServerCPUMicrosPerRow = srvCPU / float64(n) * 1e6
		res.CeilingServerCPUMicrosPerRow = ceilSrv.cpu / float64(rows) * 1e6
		res.CeilingUnsortedServerCPUMicrosPerRow = uncSrv.cpu / float64(rows) * 1e6
	}
	if bpid > 0 && brkCPU >= 0 {
		res.BrokerCPUMicrosPerRow = brkCPU / float64(n) * 1e6
		if srv > 0 {
			res.DrainCPUMicrosPerRow = res.CPUMicrosPerRow + res.ServerCPUMicrosPerRow + res.BrokerCPUMicrosPerRow
		}
	}
	return res
}

// cpuSample is the CPU times of the daemon, the ClickHouse server and the Kafka broker at a time.
type cpuSample struct {
	at                     time.Time
	daemon, server, broker float64
}

// cpuAt is the CPU times at t, interpolated between the samples around it (the first or last
// sample outside their span).
func cpuAt(s []cpuSample, t time.Time) cpuSample {
	if !t.After(s[0].at) {
		return s[0]
	}
	for i := 1; i < len(s); i++ {
		if !t.After(s[i].at) {
			a, b := s[i-1], s[i]
			f := float64(t.Sub(a.at)) / float64(b.at.Sub(a.at))
			lerp := func(x, y float64) float64 { return x + (y-x)*f }
			return cpuSample{t, lerp(a.daemon, b.daemon), lerp(a.server, b.server), lerp(a.broker, b.broker)}
		}
	}
	return s[len(s)-1]
}

// localServerPID is the local ClickHouse server's pid (deploy/local/clickhouse.sh's pid file), 0
// when the tests use another server.
func localServerPID(t *testing.T) int {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), ".state", "clickhouse", "clickhouse.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || procCPUSeconds(pid) < 0 {
		return 0
	}
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !bytes.Contains(cmd, []byte("clickhouse")) {
		return 0
	}
	return pid
}

// writerBlocks is the server's count of parts written by inserts since it started.
func writerBlocks(t *testing.T, conn driver.Conn) int64 {
	var v uint64
	if err := conn.QueryRow(context.Background(), "SELECT sum(value) FROM system.events WHERE event = 'MergeTreeDataWriterBlocks'").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return int64(v)
}

// runRecords returns the run's kind topics, the records each holds and their sum: the lag of a new
// consumer group.
func runRecords(t *testing.T, kcfg bus.Config) (topics []string, byTopic map[string]int64, total int64) {
	t.Helper()
	topics = bus.KindTopics(kcfg.TopicPrefix)
	byTopic, err := bus.Lag(context.Background(), kcfg, "bench-count-"+testenv.Suffix(), topics)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range byTopic {
		total += c
	}
	return topics, byTopic, total
}

// kafkaConsumerCeiling runs Kafka's own consumer benchmark (org.apache.kafka.tools.ConsumerPerformance,
// from the kafka-tools jar the local broker runs with) over every topic of the run, one topic after
// the other in throwaway groups, and returns the n events fetched per second of fetch time (group
// joins excluded). It checks that it read every record of the topics (packed records hold several
// of the n events each).
func kafkaConsumerCeiling(t *testing.T, kcfg bus.Config, n int) float64 {
	t.Helper()
	cp := kafkaClasspath()
	if cp == "" {
		t.Fatal("kafka consumer ceiling: no running kafka.Kafka process to take the kafka-tools classpath from")
	}
	topics, counts, _ := runRecords(t, kcfg)
	group := "bench-kafka-ceiling-" + testenv.Suffix()
	var records, fetchMS float64
	for _, topic := range topics {
		count := counts[topic]
		if count == 0 {
			continue
		}
		cmd := exec.Command("java", "-Xmx512m", "-cp", cp, "org.apache.kafka.tools.ConsumerPerformance",
			"--bootstrap-server", kcfg.Brokers[0], "--topic", topic, "--messages", strconv.FormatInt(count, 10),
			"--group", group, "--timeout", "60000")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kafka ConsumerPerformance %s: %v\n%s", topic, err, out)
		}
		got, ms, err := consumerPerfResult(string(out))
		if err != nil {
			t.Fatalf("kafka ConsumerPerformance %s: %v\n%s", topic, err, out)
		}
		if got < float64(count) {
			t.Fatalf("kafka ConsumerPerformance %s read %v records, want %d", topic, got, count)
		}
		records, fetchMS = records+got, fetchMS+ms
	}
	if records == 0 {
		t.Fatalf("kafka ConsumerPerformance read no record of the %d events", n)
	}
	return float64(n) / (fetchMS / 1000)
}

// kafkaRead is what reading alone costs with the sink's own consumer (kafkaGoRead).
type kafkaRead struct {
	Records          int64   `json:"records"`
	Events           int64   `json:"events"`
	Seconds          float64 `json:"seconds"`
	CPUSeconds       float64 `json:"cpu_s"`
	BrokerCPUSeconds float64 `json:"broker_cpu_s"` // -1: no local broker

	rate, cpuMicros, brokerMicros float64
}

// kafkaGoRead times the sink's own consumer with nothing after it: a child process
// (TestBenchKafkaReadChild) reads every record of the run's topics through sink.NewReader (kafka-go,
// a new consumer group, the sink's default fetch settings) and counts their events (a packed
// record's lines), decoding nothing, storing nothing. From its first record to its last it
// measures its own CPU time and the local broker's. That is the part of a drain's CPU no
// decoder or store can save.
func kafkaGoRead(t *testing.T, kcfg bus.Config, n int) kafkaRead {
	t.Helper()
	_, _, records := runRecords(t, kcfg)
	var r kafkaRead
	benchChild(t, "TestBenchKafkaReadChild", "BENCHREAD", &r, "CHAINWATCH_BENCH_READ_PREFIX="+kcfg.TopicPrefix,
		"CHAINWATCH_BENCH_READ_BROKERS="+strings.Join(kcfg.Brokers, ","),
		"CHAINWATCH_BENCH_READ_RECORDS="+strconv.FormatInt(records, 10))
	if r.Records != records || r.Events != int64(n) {
		t.Fatalf("kafka-go read child read %d records and %d events, want %d and %d", r.Records, r.Events, records, n)
	}
	r.rate = float64(r.Events) / r.Seconds
	r.cpuMicros = microsEach(r.CPUSeconds, r.Events)
	r.brokerMicros = microsEach(r.BrokerCPUSeconds, r.Events)
	return r
}

// benchChildKafka is the run's Kafka for a child the ingest bench started, from env+"_PREFIX" (its
// topics' prefix; the test is skipped without it), env+"_BROKERS", and the records to read,
// env+"_RECORDS".
func benchChildKafka(t *testing.T, env string) (bus.Config, int64) {
	prefix := os.Getenv(env + "_PREFIX")
	if prefix == "" {
		t.Skip("started by the ingest bench only")
	}
	want, err := strconv.ParseInt(os.Getenv(env+"_RECORDS"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	kcfg := bus.DefaultConfig()
	kcfg.Brokers = strings.Split(os.Getenv(env+"_BROKERS"), ",")
	kcfg.TopicPrefix = prefix
	return kcfg, want
}

// TestBenchKafkaReadChild is kafkaGoRead's reader, in its own process (started by the bench).
func TestBenchKafkaReadChild(t *testing.T) {
	kcfg, want := benchChildKafka(t, "CHAINWATCH_BENCH_READ")
	kcfg.GroupID = "bench-kafka-go-read-" + testenv.Suffix()
	r := sink.NewReader(kcfg, sink.DefaultConfig(), bus.KindTopics(kcfg.TopicPrefix), nil)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bpid, _ := brokerProc()
	self := os.Getpid()
	var res kafkaRead
	var start time.Time
	var cpu0, brk0 float64
	for res.Records < want {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("after %d of %d records: %v", res.Records, want, err)
		}
		if res.Records == 0 { // from the first record: the group's join is not reading
			start, cpu0, brk0 = time.Now(), procCPUSeconds(self), procCPUSeconds(bpid)
		}
		res.Records++
		switch bus.RecordFormat(m.Headers) { // counted, not decoded
		case bus.FormatJSONLines:
			res.Events += 1 + int64(bytes.Count(m.Value, []byte{'\n'}))
		case bus.FormatProtoPack:
			schemas.ProtoPackEvents(m.Value, func(int, []byte, error) bool { res.Events++; return true })
		default:
			res.Events++
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = procCPUSeconds(self) - cpu0
	res.BrokerCPUSeconds = -1
	if bpid > 0 {
		res.BrokerCPUSeconds = procCPUSeconds(bpid) - brk0
	}
	b, _ := json.Marshal(res)
	fmt.Printf("BENCHREAD %s\n", b)
}

// consumerPerfResult reads ConsumerPerformance's result line: records consumed and fetch time (ms).
func consumerPerfResult(out string) (records, fetchMS float64, err error) {
	var header []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(l, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if slices.Contains(f, "fetch.time.ms") {
			header = f
			continue
		}
		if header == nil || len(f) != len(header) {
			continue
		}
		col := func(name string) float64 {
			v, _ := strconv.ParseFloat(f[slices.Index(header, name)], 64)
			return v
		}
		return col("data.consumed.in.nMsg"), col("fetch.time.ms"), nil
	}
	return 0, 0, fmt.Errorf("no result line")
}

// kafkaClasspath returns the -cp of the running broker (the kafka jars, kafka-tools included).
func kafkaClasspath() string {
	args := strings.Split(brokerCmdline(), "\x00")
	if i := slices.Index(args, "-cp"); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// startIngestDaemon starts the real binary; with CHAINWATCH_BENCH_PPROF set it runs the daemon in
// this process instead and writes a CPU profile of the drain (ingest-<run>.cpu.pprof) there, from
// its start until drained is called.
func startIngestDaemon(t *testing.T, bin string, kcfg bus.Config, ch chstore.Config, yaml string, run int) (pid int, ready time.Time, drained func(), stop func() error, lastInsert func() float64) {
	dir := os.Getenv("CHAINWATCH_BENCH_PPROF")
	if dir == "" {
		d := benchDaemon(t, bin, kcfg, ch, yaml)
		d.start()
		return d.cmd.Process.Pid, time.Now(), func() {}, func() error {
				if n := d.metric("chainwatch_sink_rewinds_total"); n > 0 {
					t.Logf("ingest run %d: the sink rewound %v times", run, n)
				}
				return d.stop()
			}, func() float64 {
				return d.metric("chainwatch_sink_last_insert_timestamp_seconds")
			}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("ingest-%d.cpu.pprof", run)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.ClickHouse, cfg.Kafka = ch, kcfg
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Detectors.Interval = time.Hour
	cfg.Alerts.StateDir = t.TempDir()
	if err := yamlSink(yaml, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	_, stopApp := startDaemon(t, cfg)
	// heap profiles every 500 ms of the drain (what the sink holds live while it drains)
	done, heaps := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(heaps)
		for i := 1; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(500 * time.Millisecond):
			}
			h, err := os.Create(filepath.Join(dir, fmt.Sprintf("ingest-%d.heap-%d.pprof", run, i)))
			if err == nil {
				err = errors.Join(pprof.Lookup("heap").WriteTo(h, 0), h.Close())
			}
			if err != nil {
				t.Errorf("heap profile: %v", err)
				return
			}
		}
	}()
	var once sync.Once
	drained = func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
			close(done)
			<-heaps
		})
	}
	return os.Getpid(), time.Now(), drained, func() error {
		drained()
		return stopApp()
	}, func() float64 { return 0 } // in process: the drain ends where the poll saw it
}

// yamlSink applies the bench's "sink: {…}" line to cfg.Sink.
func yamlSink(y string, cfg *config.Config) error {
	var v struct {
		Sink map[string]any `yaml:"sink"`
	}
	if err := yaml.Unmarshal([]byte(y), &v); err != nil {
		return fmt.Errorf("sink yaml: %w", err)
	}
	for k, val := range v.Sink {
		s := fmt.Sprint(val)
		switch k {
		case "batch_rows":
			cfg.Sink.BatchRows, _ = strconv.Atoi(s)
		case "workers":
			cfg.Sink.Workers, _ = strconv.Atoi(s)
		case "decoders":
			cfg.Sink.Decoders, _ = strconv.Atoi(s)
		case "flush_interval":
			cfg.Sink.FlushInterval, _ = time.ParseDuration(s)
		case "insert_rows":
			cfg.Sink.InsertRows, _ = strconv.Atoi(s)
		default:
			return fmt.Errorf("sink yaml: %s is not applied to the in-process daemon", k)
		}
	}
	return nil
}

// checkStored: distinct stored rows per table equal the distinct events produced.
func checkStored(t *testing.T, conn driver.Conn, byTable map[string]int) {
	t.Helper()
	for table, want := range byTable {
		got, err := chstore.Count(context.Background(), conn, table, "")
		if err != nil {
			t.Fatal(err)
		}
		if got != uint64(want) {
			t.Errorf("%s: stored %d distinct rows, want %d", table, got, want)
		}
	}
}

// benchCeiling exports each table of ch.Database to a Native file with clickhouse-client, then times
// clickhouse-client inserting those files into the same tables of a fresh database.
// produceOrderJoin orders an export by the produce order of its events (storeProduceOrder).
const produceOrderJoin = "ANY INNER JOIN bench_produce_order USING event_id ORDER BY seq"

// storeProduceOrder stores the event ids in the order they were produced (bench_produce_order:
// event_id, seq), for produceOrderJoin.
func storeProduceOrder(t *testing.T, conn driver.Conn, ids []string) {
	t.Helper()
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE TABLE bench_produce_order (event_id String, seq UInt64) ENGINE = MergeTree ORDER BY event_id"); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO bench_produce_order (event_id, seq)")
	if err != nil {
		t.Fatal(err)
	}
	seq := make([]uint64, len(ids))
	for i := range seq {
		seq[i] = uint64(i)
	}
	if err := b.Column(0).Append(ids); err != nil {
		t.Fatal(err)
	}
	if err := b.Column(1).Append(seq); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

// ceilingServer is the server's side of the ceiling's inserts: CPU seconds (when srv > 0) and parts.
type ceilingServer struct {
	cpu   float64
	parts int64
}

// benchCeiling exports every table the drain filled with clickhouse-client (FORMAT Native; with
// order, a JOIN and ORDER BY clause such as produceOrderJoin, its rows in that order, else as the
// table gives them: in its sort order) and times clickhouse-client inserting each file into a
// fresh copy of the tables: the seconds in all, by table, the rows, and the server's side.
func benchCeiling(t *testing.T, ch chstore.Config, conn driver.Conn, srv int, order string) (float64, map[string]float64, int64, ceilingServer) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ceil := ch
	ceil.Database = ch.Database + "_ceil"
	if order != "" {
		ceil.Database += "_unsorted" // its own: the first ceiling's may still be there (benchLeftovers)
	}
	cconn, err := chstore.Open(ctx, ceil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		leftovers.db(ceil.Database, func() { _ = cconn.Exec(ctx, "DROP DATABASE IF EXISTS "+ceil.Database) })
		cconn.Close()
	}()
	if _, err := chstore.Migrate(ctx, cconn); err != nil {
		t.Fatal(err)
	}
	var total float64
	var rows int64
	var cs ceilingServer
	by := map[string]float64{}
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		cols := strings.Join(spec.AllColumns(), ", ")
		file := filepath.Join(dir, spec.Table+".native")
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		exp := clickhouseClient(ch.Database, "SELECT "+cols+" FROM "+spec.Table+" "+order+" FORMAT Native")
		var stderr strings.Builder
		exp.Stdout, exp.Stderr = f, &stderr
		if err := exp.Run(); err != nil {
			t.Fatalf("export %s: %v %s", spec.Table, err, stderr.String())
		}
		f.Close()
		var n uint64
		if err := cconn.QueryRow(ctx, "SELECT count() FROM "+ch.Database+"."+spec.Table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			continue
		}
		in, _ := os.Open(file)
		imp := clickhouseClient(ceil.Database, "INSERT INTO "+spec.Table+" ("+cols+") FORMAT Native")
		imp.Stdin = in
		srv0, parts0 := procCPUSeconds(srv), writerBlocks(t, conn)
		start := time.Now()
		out, err := imp.CombinedOutput()
		s := time.Since(start).Seconds()
		cs.cpu += procCPUSeconds(srv) - srv0
		cs.parts += writerBlocks(t, conn) - parts0
		in.Close()
		if err != nil {
			t.Fatalf("clickhouse-client insert %s: %v %s", spec.Table, err, out)
		}
		by[spec.Table] = s
		total += s
		rows += int64(n)
	}
	return total, by, rows, cs
}

func printBench(res benchResults) {
	m := res.Machine
	fmt.Printf("\nchainwatch bench — %d cores, %d MiB, %s, ClickHouse %s, Kafka %s, commit %.12s (dirty %v); median of %d runs\n",
		m.Cores, m.MemoryMiB, m.GoVersion, m.ClickHouseVersion, m.KafkaVersion, m.GitCommit, m.GitDirty, res.Runs)
	if in := res.Ingest; in != nil {
		fmt.Printf("\n%-44s %14s\n", "ingest ("+strconv.Itoa(in.Events)+" events, all kinds)", "median")
		fmt.Printf("%-44s %14.0f\n", "collector -> Kafka producer, records/s", in.ProduceRate)
		fmt.Printf("%-44s %14.0f\n", "Kafka -> sink -> ClickHouse, rows/s", in.SinkRate)
		fmt.Printf("%-44s %14.0f\n", "clickhouse-client FORMAT Native, rows/s", in.CeilingRate)
		fmt.Printf("%-44s %14.2f  (target >= 0.80)\n", "ratio sink / ceiling", in.Ratio)
		fmt.Printf("%-44s %14.0f\n", "  the same, files not in the tables' order", in.CeilingUnsortedRate)
		fmt.Printf("%-44s %14.2f\n", "  ratio sink / unsorted files' ceiling", in.RatioUnsorted)
		fmt.Printf("%-44s %14.0f\n", "Kafka's own consumer (no decode, no insert), /s", in.KafkaRate)
		fmt.Printf("%-44s %14.2f\n", "  ratio Kafka consumer / ceiling", in.KafkaRatio)
		fmt.Printf("%-44s %14.0f  (its CPU %.2f µs/event, the broker's %.2f)\n", "the sink's kafka-go reader alone, /s", in.KafkaGoRate, in.KafkaGoCPU, in.KafkaGoBroker)
		fmt.Printf("%-44s %14.0f  (ratio %.2f; CPU per row: its own %.2f µs, the server's %.2f, the broker's %.2f)\n",
			"sink floor: nothing decoded, rows/s", in.FloorRate, in.FloorRatio, in.FloorCPU, in.FloorServer, in.FloorBroker)
		fmt.Printf("%-44s %14.2f\n", "daemon CPU per row, µs", in.DaemonCPU)
		if in.ServerCPU > 0 {
			fmt.Printf("%-44s %14.2f  (ceiling's inserts: %.2f, unsorted %.2f)\n", "ClickHouse server CPU per row, µs", in.ServerCPU, in.CeilCPU, in.CeilUnsortedCPU)
		}
		if in.BrokerCPU > 0 {
			fmt.Printf("%-44s %14.2f\n", "Kafka broker CPU per row, µs", in.BrokerCPU)
		}
		if in.DrainCPU > 0 {
			fmt.Printf("%-44s %14.2f  (at 0.8 × ceiling, %d cores give %.2f)\n", "drain CPU per row, all three, µs", in.DrainCPU, res.Machine.Cores, in.Budget)
		}
		fmt.Printf("%-44s %14.0f  (ceiling's inserts: %.0f)\n", "parts written by the drain", in.ServerParts, in.CeilParts)
		fmt.Printf("%-44s %14.0f\n", "daemon peak RSS while draining, MiB", in.DaemonRSS)
		fmt.Printf("%-44s %14.0f\n", "  with the detector run after the drain, MiB", in.DaemonAfter)
	}
	if d := res.Detectors; d != nil {
		printDetectors(d)
	}
	if l := res.Latency; l != nil {
		fmt.Printf("\nalert latency (availability event -> B计划 email accepted by SMTP, %.0f events/s background)\n", l.BackgroundRate)
		fmt.Printf("  p50 %.2f s   p99 %.2f s (target <= 5 s)   max %.2f s   samples %d   timeouts %d   daemon peak RSS %.0f MiB (target <= 300)\n",
			l.P50, l.P99, l.Max, l.Samples, l.Timeouts, l.DaemonRSS)
		fmt.Printf("  of which event -> start of the detector run that raised the alert: p50 %.2f s (the rest: the run, the evaluation, the alert group's flush)\n", l.ToRunP50)
	}
}
