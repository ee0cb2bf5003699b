package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// privateClickHouse starts a ClickHouse server of the test's own (own state dir and ports) with the
// project's script, so the test can kill it without disturbing other tests.
type privateClickHouse struct {
	t     *testing.T
	env   []string
	state string
	addr  string
}

// config is the test's ClickHouse config, pointed at this server.
func (p *privateClickHouse) config() chstore.Config {
	c := testenv.ClickHouseConfig(p.t)
	c.Addr = []string{p.addr}
	return c
}

func newPrivateClickHouse(t *testing.T) *privateClickHouse {
	testenv.Integration(t)
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		t.Fatalf("clickhouse-server not installed: run deploy/local/up.sh first (%v)", err)
	}
	state := t.TempDir()
	tcp, httpPort := testenv.FreePort(t), testenv.FreePort(t)
	p := &privateClickHouse{t: t, state: state, addr: "127.0.0.1:" + strconv.Itoa(tcp),
		env: append(os.Environ(), "CHAINWATCH_STATE="+state, "CH_TCP_PORT="+strconv.Itoa(tcp), "CH_HTTP_PORT="+strconv.Itoa(httpPort))}
	p.script("start")
	t.Cleanup(func() { p.script("stop") })
	return p
}

func (p *privateClickHouse) script(arg string) {
	cmd := exec.Command("bash", filepath.Join(repoRoot(p.t), "deploy/local/clickhouse.sh"), arg)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("clickhouse.sh %s: %v\n%s", arg, err, out)
	}
}

// kill9 kills the server without warning.
func (p *privateClickHouse) kill9() {
	pid, err := readPID(filepath.Join(p.state, "clickhouse", "clickhouse.pid"))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("clickhouse pid %d still alive after SIGKILL", pid)
}

// TestSinkSurvivesClickHouseRestartIntegration: ClickHouse is killed mid-stream and started again;
// the sink holds its batch, retries, resumes by itself, and nothing is lost or duplicated.
func TestSinkSurvivesClickHouseRestartIntegration(t *testing.T) {
	ch := newPrivateClickHouse(t)
	cfg := config.Default()
	cfg.ClickHouse = ch.config()
	cfg.ClickHouse.DialTimeout = 2 * time.Second
	cfg.ClickHouse.ReadTimeout = 10 * time.Second
	cfg.Kafka = testenv.Kafka(t)
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Sink.FlushInterval = 200 * time.Millisecond
	cfg.Sink.BatchRows = 2000
	cfg.Sink.RetryMax = time.Second

	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, Options{Log: testLogger(t), Registry: reg, Ready: ready}) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon exited: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("daemon not ready")
	}

	prod := bus.NewProducer(cfg.Kafka, nil)
	defer prod.Close()
	now := time.Now().UTC().Truncate(time.Second)
	const chunk, chunks = 5000, 6
	produce := func(c int) {
		msgs := make([]kafka.Message, 0, chunk)
		for i := c * chunk; i < (c+1)*chunk; i++ {
			env := loadgen.Event(i, now)
			msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(cfg.Kafka.TopicPrefix), Key: env.Key(), Value: loadgen.Encode(env)})
		}
		if err := prod.WriteRaw(ctx, msgs...); err != nil {
			t.Fatalf("produce chunk %d: %v", c, err)
		}
	}
	produce(0)
	produce(1)
	time.Sleep(time.Second)
	ch.kill9()
	t.Log("clickhouse killed")
	produce(2)
	produce(3)
	time.Sleep(4 * time.Second) // the sink must now be failing and retrying, committing nothing
	failures := stepErrors(t, reg)
	if failures == 0 {
		t.Errorf("the sink recorded no failed insert while ClickHouse was down")
	}
	ch.script("start")
	t.Log("clickhouse started again")
	produce(4)
	produce(5)

	conn, err := chstore.Open(context.Background(), cfg.ClickHouse, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const want = chunk * chunks
	waitCounts(t, conn, 3*time.Minute, func(c map[string]uint64) bool { return sumEvents(c) >= want })
	time.Sleep(time.Second)
	got := tableCounts(t, conn)
	if s := sumEvents(got); s != want {
		t.Errorf("stored %d distinct events after the restart, want %d (%v)", s, want, got)
	}
	if got["rejected"] != 0 {
		t.Errorf("rejected = %d, want 0", got["rejected"])
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("daemon: %v", err)
	}
	t.Logf("%d events stored exactly once across a ClickHouse kill -9 and restart; %v failed insert attempts retried", want, failures)
}

func stepErrors(t *testing.T, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == "chainwatch_sink_step_errors_total" {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
