// Package testenv gives integration tests real servers: a fresh ClickHouse database per test with
// chainwatch's migrations applied, and a unique Kafka topic prefix and group per test.
//
// The servers are the ones started by deploy/local/up.sh (the README test command starts them).
// Addresses come from CHAINWATCH_TEST_CLICKHOUSE (default 127.0.0.1:19000) and CHAINWATCH_TEST_KAFKA
// (default 127.0.0.1:19092). An unreachable server fails the test: integration tests never pass
// by skipping silently. Only `go test -short` skips them.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
)

// Integration skips the test under -short.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
}

// ClickHouseAddr is the test server's native address.
func ClickHouseAddr() string { return envOr("CHAINWATCH_TEST_CLICKHOUSE", "127.0.0.1:19000") }

// KafkaAddr is the test broker's address.
func KafkaAddr() string { return envOr("CHAINWATCH_TEST_KAFKA", "127.0.0.1:19092") }

// Suffix returns a short random hex string for unique names.
func Suffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ClickHouseConfig returns a config for a fresh database name (not created yet).
func ClickHouseConfig(t testing.TB) chstore.Config {
	t.Helper()
	cfg := chstore.DefaultConfig()
	cfg.Addr = []string{ClickHouseAddr()}
	cfg.Database = "cwtest_" + strings.ToLower(sanitize(t.Name())) + "_" + Suffix()
	if len(cfg.Database) > 60 {
		cfg.Database = "cwtest_" + Suffix() + Suffix()
	}
	return cfg
}

// ClickHouse opens a fresh migrated database for the test and drops it afterwards
// (kept when CHAINWATCH_TEST_KEEP=1, for debugging).
func ClickHouse(t testing.TB) (driver.Conn, chstore.Config) {
	t.Helper()
	Integration(t)
	requireTCP(t, "ClickHouse", ClickHouseAddr())
	cfg := ClickHouseConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg, slog.Default())
	if err != nil {
		t.Fatalf("open clickhouse: %v", err)
	}
	if _, err := chstore.Migrate(ctx, conn); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv("CHAINWATCH_TEST_KEEP") == "" {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.Database)
		}
		conn.Close()
	})
	return conn, cfg
}

// Kafka returns a Kafka config with a unique topic prefix and consumer group for the test.
func Kafka(t testing.TB) bus.Config {
	t.Helper()
	Integration(t)
	requireTCP(t, "Kafka", KafkaAddr())
	cfg := bus.DefaultConfig()
	cfg.Brokers = []string{KafkaAddr()}
	s := Suffix()
	cfg.TopicPrefix = "cwtest." + sanitize(t.Name()) + "." + s
	if len(cfg.TopicPrefix) > 80 {
		cfg.TopicPrefix = "cwtest." + s
	}
	cfg.GroupID = "cwtest-" + s
	cfg.Partitions = 3
	return cfg
}

func requireTCP(t testing.TB, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("%s is not reachable at %s (%v): start the local servers with deploy/local/up.sh", what, addr, err)
	}
	c.Close()
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// FreePort returns a TCP port of 127.0.0.1 that is free now, for a server the test starts later
// (or keeps down on purpose). It is taken below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range): a port freed from a ":0" listener is an ephemeral one,
// and until the test binds it an outgoing connection of any process can take it as its local
// port ("address already in use" when the server starts). Where that file is missing it falls
// back to a ":0" port.
func FreePort(t testing.TB) int {
	t.Helper()
	low := 0
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			low, _ = strconv.Atoi(f[0])
		}
	}
	if first := max(1024, low-12000); low > first {
		for range 200 {
			p := first + mrand.IntN(low-first)
			if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
				_ = l.Close()
				return p
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
