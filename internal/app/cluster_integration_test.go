package app

import (
	"context"
	"fmt"
	"sync/atomic"
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
)

// TestClusterFailoverIntegration: 300k distinct events (plus 30k re-sends) through two daemons in one
// consumer group into the 2x2 ClickHouse cluster (deploy/local/cluster.sh). Mid-stream one broker and
// one ClickHouse replica are SIGKILLed and the leading daemon is stopped; afterwards the distinct
// counts are exact and no detector interval slot has more than one run.
func TestClusterFailoverIntegration(t *testing.T) {
	cl := testenv.RequireCluster(t)
	const n, resend = 300_000, 30_000
	cfg := config.Default()
	cfg.ClickHouse.Addr, cfg.ClickHouse.Cluster = cl.ClickHouse, cl.Name
	cfg.ClickHouse.Database = "cwcluster_" + testenv.Suffix()
	cfg.Kafka.Brokers, cfg.Kafka.ReplicationFactor, cfg.Kafka.Partitions = cl.Kafka, 3, 6
	cfg.Kafka.TopicPrefix, cfg.Kafka.GroupID = "cw"+testenv.Suffix(), "cwcluster-"+testenv.Suffix()
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.API.Tokens = testAPIConfig().Tokens
	cfg.Sink.FlushInterval, cfg.Sink.RetryMax = 300*time.Millisecond, 2*time.Second
	cfg.Detectors.Interval = 4 * time.Second
	cfg.Alerts.Enabled, cfg.Digest.Enabled = false, false
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		cl.StartNode(t, "kafka-2")
		cl.StartNode(t, "ch-s2r2")
	})

	type daemon struct {
		app *App
		reg *prometheus.Registry
	}
	var ds []daemon
	for range 2 {
		reg := prometheus.NewRegistry()
		a, err := New(ctx, cfg, Options{Log: testLogger(t), Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, daemon{a, reg})
	}
	conn, err := chstore.Open(ctx, func() chstore.Config { c := cfg.ClickHouse; c.CreateDB = false; return c }(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.ClickHouse.Database+" ON CLUSTER "+cl.Name)
	})

	var produced atomic.Int64
	prodErr := make(chan error, 1)
	start := time.Now()
	go func() { prodErr <- produce(ctx, cfg.Kafka, n, resend, &produced) }()
	for produced.Load() < n/3 {
		time.Sleep(100 * time.Millisecond)
	}
	leader := -1
	for i, d := range ds {
		if gauge(t, d.reg, "chainwatch_lease_held") == 1 {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no daemon holds the lease")
	}
	cl.KillNode(t, "kafka-2")
	cl.KillNode(t, "ch-s2r2")
	killedAt := time.Now()
	if err := ds[leader].app.Stop(ctx); err != nil {
		t.Logf("stopping daemon %d: %v", leader, err)
	}
	survivor := ds[1-leader]
	t.Logf("at %d produced: killed kafka-2, ch-s2r2 and stopped leading daemon %d", produced.Load(), leader)
	if err := <-prodErr; err != nil {
		t.Fatal(err)
	}
	got := waitCounts(t, conn, 10*time.Minute, func(c map[string]uint64) bool { return sumEvents(c) >= n })
	elapsed := time.Since(start)
	time.Sleep(2 * cfg.Detectors.Interval) // a few more slots for the survivor
	if s := sumEvents(tableCounts(t, conn)); s != n {
		t.Errorf("distinct events stored %d, want %d (%v)", s, n, got)
	}
	if gauge(t, survivor.reg, "chainwatch_lease_held") != 1 {
		t.Error("the surviving daemon does not hold the lease")
	}
	checkSlots(t, conn, cfg.Detectors.Interval, killedAt)
	if err := survivor.app.Stop(ctx); err != nil {
		t.Logf("stopping survivor: %v", err)
	}
	t.Logf("%d distinct events (+%d re-sends) stored exactly in %s across 2 shards, through a broker, a replica and a daemon failure",
		n, resend, elapsed.Round(time.Second))
}

func produce(ctx context.Context, kc bus.Config, n, resend int, produced *atomic.Int64) error {
	prod := bus.NewProducer(kc, nil)
	defer prod.Close()
	now := time.Now().UTC().Truncate(time.Second)
	msgs := make([]kafka.Message, 0, 5000)
	for i := 0; i < n+resend; i++ {
		env := loadgen.Event(i%n, now)
		msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(kc.TopicPrefix), Key: env.Key(), Value: loadgen.Encode(env)})
		if len(msgs) == cap(msgs) || i == n+resend-1 {
			if err := writeRetrying(ctx, prod, msgs); err != nil {
				return err
			}
			produced.Add(int64(len(msgs)))
			msgs = msgs[:0]
		}
	}
	return nil
}

// writeRetrying re-sends a whole batch until Kafka takes it, as collectors do: while a killed broker's
// partitions move to new leaders some records fail; re-sent records collapse in ClickHouse.
func writeRetrying(ctx context.Context, prod *bus.Producer, msgs []kafka.Message) error {
	var err error
	for range 60 {
		if err = prod.WriteRaw(ctx, msgs...); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("kafka: batch still failing after 60 attempts: %.300w", err)
}

// checkSlots: no detectors.interval slot has more than one detector run (run_id), and the survivor
// ran after the failover.
func checkSlots(t *testing.T, conn driver.Conn, interval time.Duration, killedAt time.Time) {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT intDiv(toUInt32(min(started_at)), ?) AS slot, run_id FROM detector_runs GROUP BY run_id ORDER BY slot",
		uint32(interval/time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perSlot := map[uint32]int{}
	after := 0
	for rows.Next() {
		var slot uint32
		var runID string
		if err := rows.Scan(&slot, &runID); err != nil {
			t.Fatal(err)
		}
		perSlot[slot]++
		if int64(slot)*int64(interval/time.Second) > killedAt.Unix() {
			after++
		}
	}
	for s, c := range perSlot {
		if c > 1 {
			t.Errorf("slot %d has %d detector runs, want 1", s, c)
		}
	}
	if after == 0 {
		t.Error("no detector run after the failover")
	}
	t.Logf("%d detector runs in %d slots, %d after the failover", len(perSlot), len(perSlot), after)
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
