package sink

import (
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// Config is the "sink" section: batching and retry of the Kafka → ClickHouse sink. BatchRows and
// InsertRows count events (a packed Kafka record holds several); QueueCapacity counts records.
type Config struct {
	BatchRows     int           `koanf:"batch_rows"`
	FlushInterval time.Duration `koanf:"flush_interval"`
	// UrgentFlush: a batch holding availability rows (they wake the event-driven detectors, the
	// alert latency path) is flushed at most this long after the first of them arrived.
	UrgentFlush time.Duration `koanf:"urgent_flush"`
	RetryMin    time.Duration `koanf:"retry_min"`
	RetryMax    time.Duration `koanf:"retry_max"`
	Workers     int           `koanf:"workers"`
	// Decoders decode fetched records in parallel (per worker), in order: the batch, the inserts
	// and the commits stay those of one consumer. 1 decodes on the collecting goroutine.
	Decoders     int           `koanf:"decoders"`
	ShutdownWait time.Duration `koanf:"shutdown_wait"`
	// The consumer's memory: each assigned partition fetches up to FetchMaxBytes at a time, and the
	// reader queues up to QueueCapacity decoded messages ahead of the sink (kafka-go ReaderConfig).
	FetchMaxBytes int           `koanf:"fetch_max_bytes"`
	QueueCapacity int           `koanf:"queue_capacity"`
	FetchMaxWait  time.Duration `koanf:"fetch_max_wait"`
	// InsertRows: while the sink is behind (draining a backlog), its batches go to ClickHouse as
	// blocks of one INSERT per table kept open across them, and their offsets are committed when
	// those INSERTs end: at InsertRows events, InsertMaxAge after the first batch, or when the
	// sink has caught up. The server stores the blocks of one INSERT in few parts. BatchRows or
	// less: one INSERT per batch.
	InsertRows   int           `koanf:"insert_rows"`
	InsertMaxAge time.Duration `koanf:"insert_max_age"`
}

// DefaultConfig is one worker inserting up to 25000 rows a batch (a smaller batch kept the drain under
// 300 MB RSS at 5% less throughput, docs/benchmarks.md), fetching at most 1 MiB per partition and
// queueing 500 records (up to 4,000 events in packs of 8); a backlog goes in INSERTs of up to
// 500,000 rows kept open across batches for at most 10 s (fewer parts than 200,000 and 300,000, a
// shorter last end than 1,000,000: docs/benchmarks.md).
func DefaultConfig() Config {
	return Config{BatchRows: 25000, FlushInterval: time.Second, RetryMin: 200 * time.Millisecond,
		RetryMax: 15 * time.Second, Workers: 1, Decoders: 2, ShutdownWait: 30 * time.Second,
		UrgentFlush: 100 * time.Millisecond, FetchMaxBytes: 1 << 20, QueueCapacity: 500, FetchMaxWait: 250 * time.Millisecond,
		InsertRows: 500_000, InsertMaxAge: 10 * time.Second}
}

// Validate reports every problem by its key relative to the section.
func (c Config) Validate() error {
	var p confkit.Problems
	p.Positive("batch_rows", c.BatchRows)
	p.Duration("flush_interval", c.FlushInterval)
	p.Duration("urgent_flush", c.UrgentFlush)
	p.Duration("retry_min", c.RetryMin)
	p.Duration("retry_max", c.RetryMax)
	if c.RetryMax < c.RetryMin {
		p.Add("retry_max", "must be >= sink.retry_min (%s)", c.RetryMin)
	}
	p.Positive("workers", c.Workers)
	p.Positive("decoders", c.Decoders)
	p.Duration("shutdown_wait", c.ShutdownWait)
	if c.FetchMaxBytes < 1<<10 || c.FetchMaxBytes > 1<<30 {
		p.Add("fetch_max_bytes", "must be within 1024..1073741824, got %d", c.FetchMaxBytes)
	}
	p.Positive("queue_capacity", c.QueueCapacity)
	p.Duration("fetch_max_wait", c.FetchMaxWait)
	p.Positive("insert_rows", c.InsertRows)
	p.Duration("insert_max_age", c.InsertMaxAge)
	return p.Err()
}
