package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/schemas"
)

// freePort returns a loopback port nothing listens on (just now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSCRAMKafka starts a private Kafka (deploy/local/kafka.sh with its own state directory and
// ports) whose client listener is SASL_PLAINTEXT with SCRAM-SHA-256 and SCRAM-SHA-512 for user
// cw; the broker talks to itself on a plaintext listener. It is stopped when the test ends.
func startSCRAMKafka(t *testing.T, password string) string {
	t.Helper()
	port, ctrl, internal := freePort(t), freePort(t), freePort(t)
	state := t.TempDir()
	jaas := `org.apache.kafka.common.security.scram.ScramLoginModule required`
	env := append(os.Environ(),
		"CHAINWATCH_STATE="+state,
		fmt.Sprintf("KAFKA_PORT=%d", port),
		fmt.Sprintf("KAFKA_CONTROLLER_PORT=%d", ctrl),
		"KAFKA_HEAP=-Xmx256m -Xms256m",
		"KAFKA_EXTRA_PROPS="+strings.Join([]string{
			fmt.Sprintf("listeners=SASL_PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d,INTERNAL://127.0.0.1:%d", port, ctrl, internal),
			fmt.Sprintf("advertised.listeners=SASL_PLAINTEXT://127.0.0.1:%d,INTERNAL://127.0.0.1:%d", port, internal),
			"inter.broker.listener.name=INTERNAL",
			"listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT",
			"sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
			"listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=" + jaas + ";",
			"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=" + jaas + ";",
		}, "\n"),
		"KAFKA_CLIENT_PROPS="+strings.Join([]string{
			"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=SCRAM-SHA-512",
			fmt.Sprintf(`sasl.jaas.config=%s username="cw" password="%s";`, jaas, password),
		}, "\n"),
		fmt.Sprintf("KAFKA_FORMAT_ARGS=--add-scram SCRAM-SHA-256=[name=cw,password=%s] --add-scram SCRAM-SHA-512=[name=cw,password=%s]", password, password),
	)
	script := filepath.Join("..", "..", "deploy", "local", "kafka.sh")
	run := func(arg string) ([]byte, error) {
		cmd := exec.Command("bash", script, arg)
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	t.Cleanup(func() {
		if out, err := run("stop"); err != nil {
			t.Errorf("stop the SCRAM broker: %v\n%s", err, out)
		}
	})
	if out, err := run("start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(state, "kafka", "logs", "server.log"))
		t.Fatalf("start a SASL/SCRAM broker: %v\n%s\n%s", err, out, log[max(0, len(log)-4000):])
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// TestSCRAMRoundTripIntegration: with kafka.sasl scram-sha-512 (password from a file) the
// producer, the admin client and the consumer dialer work against a SCRAM listener; a wrong
// password and no SASL at all are refused.
func TestSCRAMRoundTripIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: starts a private Kafka")
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java is needed for the private Kafka (deploy/local/up.sh installs it): %v", err)
	}
	const password = "cw-scram-s3cret"
	addr := startSCRAMKafka(t, password)
	pf := filepath.Join(t.TempDir(), "kafka.pass")
	if err := os.WriteFile(pf, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Brokers, cfg.TopicPrefix, cfg.Partitions = []string{addr}, fmt.Sprintf("scram%d", time.Now().UnixNano()), 1
	cfg.SASL = SASLConfig{Mechanism: SASLScramSHA512, Username: "cw", PasswordFile: pf}
	if err := cfg.ResolveSecrets(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatalf("create topics over SCRAM: %v", err)
	}
	env, err := schemas.NewEnvelope("scram-test", &schemas.Substitution{ComponentID: "C1", AltComponentID: "C1-CN",
		QualificationDays: 90, AsOf: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := NewProducer(cfg, nil)
	defer p.Close()
	if err := p.Emit(ctx, env); err != nil {
		t.Fatalf("produce over SCRAM: %v", err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Brokers, Topic: schemas.KindSubstitution.Topic(cfg.TopicPrefix),
		Partition: 0, Dialer: cfg.ConsumerDialer(), MaxWait: 200 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("consume over SCRAM: %v", err)
	}
	var got schemas.Envelope
	err = errors.New("no event in the pack")
	schemas.ProtoPackEvents(m.Value, func(_ int, ev []byte, perr error) bool {
		if err = perr; err == nil {
			got, _, err = schemas.DecodeProto(ev, schemas.KindSubstitution, false)
		}
		return false
	})
	if err != nil || got.EventID != env.EventID {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	sha256 := cfg
	sha256.SASL.Mechanism = SASLScramSHA256
	if err := Ping(ctx, sha256); err != nil {
		t.Errorf("SCRAM-SHA-256: %v", err)
	}
	for name, bad := range map[string]SASLConfig{
		"wrong password": {Mechanism: SASLScramSHA512, Username: "cw", Password: "wrong"},
		"no SASL":        {},
	} {
		c := cfg
		c.SASL = bad
		c.DialTimeout = 5 * time.Second
		pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
		err := Ping(pctx, c)
		pcancel()
		if err == nil {
			t.Errorf("%s: the SCRAM listener answered", name)
		}
		t.Logf("%s: refused: %v", name, err)
	}
}
