package app

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/schemas"
)

// TestSinkThroughputBench measures the end-to-end sink (real Kafka → daemon → real ClickHouse) against
// ClickHouse's own insert ceiling for the same rows (native PrepareBatch from one connection, no Kafka,
// no decoding). Run with `make bench` (CHAINWATCH_BENCH=1; CHAINWATCH_BENCH_EVENTS sets the count).
// It prints figures and asserts only that every event was stored exactly once.
func TestSinkThroughputBench(t *testing.T) {
	if os.Getenv("CHAINWATCH_BENCH") == "" {
		t.Skip("benchmark: set CHAINWATCH_BENCH=1 (make bench)")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CHAINWATCH_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	cfg, conn := testConfig(t)
	if w, err := strconv.Atoi(os.Getenv("CHAINWATCH_BENCH_WORKERS")); err == nil && w > 0 {
		cfg.Sink.Workers = w
	}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)

	// 1. ClickHouse's own ceiling: the same decoded rows, inserted directly in 50k-row batches.
	ceilDB := cfg.ClickHouse
	ceilDB.Database += "_ceiling"
	cconn, err := chstore.Open(ctx, ceilDB, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cconn.Exec(ctx, "DROP DATABASE IF EXISTS "+ceilDB.Database); cconn.Close() }()
	if _, err := chstore.Migrate(ctx, cconn); err != nil {
		t.Fatal(err)
	}
	rows := map[schemas.Kind][][]any{}
	for i := 0; i < n; i++ {
		env := loadgen.Event(i, now)
		spec, _ := schemas.Lookup(env.Kind)
		_, rec, err := schemas.Decode(loadgen.Encode(env), env.Kind)
		if err != nil {
			t.Fatal(err)
		}
		rows[env.Kind] = append(rows[env.Kind], rec.AppendValues(schemas.AppendEnvelope(make([]any, 0, len(spec.AllColumns())), &env)))
	}
	start := time.Now()
	for k, rs := range rows {
		spec, _ := schemas.Lookup(k)
		for i := 0; i < len(rs); i += cfg.Sink.BatchRows {
			end := min(i+cfg.Sink.BatchRows, len(rs))
			if err := chstore.Insert(ctx, cconn, spec.InsertSQL(), rs[i:end]); err != nil {
				t.Fatal(err)
			}
		}
	}
	ceiling := float64(n) / time.Since(start).Seconds()
	rows = nil
	runtime.GC()

	// 2. Produce everything to Kafka first, then time the daemon draining it into ClickHouse.
	prod := bus.NewProducer(cfg.Kafka, nil)
	if err := bus.EnsureTopics(ctx, cfg.Kafka); err != nil {
		t.Fatal(err)
	}
	pstart := time.Now()
	msgs := make([]kafka.Message, 0, 10000)
	for i := 0; i < n; i++ {
		env := loadgen.Event(i, now)
		msgs = append(msgs, kafka.Message{Topic: env.Kind.Topic(cfg.Kafka.TopicPrefix), Key: env.Key(), Value: loadgen.Encode(env)})
		if len(msgs) == cap(msgs) || i == n-1 {
			if err := prod.WriteRaw(ctx, msgs...); err != nil {
				t.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	produceRate := float64(n) / time.Since(pstart).Seconds()
	prod.Close()

	var ms runtime.MemStats
	sstart := time.Now()
	_, stop := startDaemon(t, cfg)
	waitCounts(t, conn, 20*time.Minute, func(c map[string]uint64) bool { return sumEvents(c) >= uint64(n) })
	elapsed := time.Since(sstart)
	runtime.ReadMemStats(&ms)
	_ = stop()
	got := sumEvents(tableCounts(t, conn))
	if got != uint64(n) {
		t.Fatalf("stored %d, want %d", got, n)
	}
	e2e := float64(n) / elapsed.Seconds()
	fmt.Printf("\nsink throughput, %d events (3 kinds, %d partitions/topic, batch_rows %d, workers %d):\n", n, cfg.Kafka.Partitions, cfg.Sink.BatchRows, cfg.Sink.Workers)
	fmt.Printf("  ClickHouse insert ceiling (direct PrepareBatch): %10.0f rows/s\n", ceiling)
	fmt.Printf("  Kafka produce (acks=all, lz4):                   %10.0f records/s\n", produceRate)
	fmt.Printf("  end to end Kafka -> sink -> ClickHouse:          %10.0f rows/s  (%.2fx of the ceiling; %s incl. daemon start)\n", e2e, e2e/ceiling, elapsed.Round(time.Millisecond))
	fmt.Printf("  Go heap in use after the run:                    %10.1f MiB\n", float64(ms.HeapInuse)/(1<<20))
}
