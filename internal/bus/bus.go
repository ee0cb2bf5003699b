// Package bus is chainwatch's Kafka layer (segmentio/kafka-go): topic creation, the producer that
// collectors emit through (it implements collectors.Emitter), and consumer-lag measurement.
//
// Topics: one per event kind, "<prefix>.<kind>.v1", plus "<prefix>.deadletter.v1". Records are keyed
// by event id (natural-key hash) so every version of a record lands on one partition.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/chainwatch/chainwatch/schemas"
)

// Topics returns every topic chainwatch uses: one per kind, then the dead-letter topic.
func Topics(prefix string) []string {
	var out []string
	for _, k := range schemas.Kinds() {
		out = append(out, k.Topic(prefix))
	}
	return append(out, schemas.DeadLetterTopic(prefix))
}

// TopicKinds maps each kind topic to its kind (the dead-letter topic is absent).
func TopicKinds(prefix string) map[string]schemas.Kind {
	m := map[string]schemas.Kind{}
	for _, k := range schemas.Kinds() {
		m[k.Topic(prefix)] = k
	}
	return m
}

func client(cfg Config) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: cfg.DialTimeout, Transport: cfg.ClientTransport()}
}

// EnsureTopics creates the missing topics with cfg.Partitions and cfg.ReplicationFactor.
func EnsureTopics(ctx context.Context, cfg Config) error {
	req := &kafka.CreateTopicsRequest{}
	for _, t := range Topics(cfg.TopicPrefix) {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor})
	}
	resp, err := client(cfg).CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafka: create topics: %w", err)
	}
	var errs []error
	for topic, e := range resp.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("kafka: create topic %s: %w", topic, e))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Wait until metadata shows every topic with leaders, so the first produce does not race creation.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := topicsReady(ctx, cfg)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func topicsReady(ctx context.Context, cfg Config) error {
	md, err := client(cfg).Metadata(ctx, &kafka.MetadataRequest{Topics: Topics(cfg.TopicPrefix)})
	if err != nil {
		return fmt.Errorf("kafka: metadata: %w", err)
	}
	for _, t := range md.Topics {
		if t.Error != nil {
			return fmt.Errorf("kafka: topic %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.ID < 0 && p.Leader.Host == "" {
				return fmt.Errorf("kafka: topic %s partition %d has no leader", t.Name, p.ID)
			}
		}
	}
	return nil
}

// Ping checks that a broker answers a metadata request (for /readyz).
func Ping(ctx context.Context, cfg Config) error {
	_, err := client(cfg).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}})
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	return nil
}

func codec(name string) compress.Compression {
	switch name {
	case "gzip":
		return kafka.Gzip
	case "snappy":
		return kafka.Snappy
	case "lz4":
		return kafka.Lz4
	case "zstd":
		return kafka.Zstd
	}
	return 0
}

// Producer writes envelopes to their kind topics and rejects to the dead-letter topic,
// with acks=all, explicit compression and batching, and retries. Safe for concurrent use.
type Producer struct {
	w        *kafka.Writer
	prefix   string
	dlq      string
	produced *prometheus.CounterVec
	failed   *prometheus.CounterVec
}

// NewProducer builds a producer; metrics go to reg.
func NewProducer(cfg Config, reg prometheus.Registerer) *Producer {
	p := &Producer{
		w: &kafka.Writer{
			Addr:                   kafka.TCP(cfg.Brokers...),
			Balancer:               &kafka.Hash{},
			RequiredAcks:           kafka.RequireAll,
			Compression:            codec(cfg.Compression),
			BatchSize:              cfg.BatchSize,
			BatchBytes:             cfg.BatchBytes,
			BatchTimeout:           cfg.BatchTimeout,
			MaxAttempts:            cfg.MaxAttempts,
			WriteBackoffMin:        100 * time.Millisecond,
			WriteBackoffMax:        2 * time.Second,
			WriteTimeout:           cfg.WriteTimeout,
			AllowAutoTopicCreation: false,
			Transport:              cfg.ClientTransport(),
		},
		prefix: cfg.TopicPrefix,
		dlq:    schemas.DeadLetterTopic(cfg.TopicPrefix),
		produced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_producer_records_total", Help: "Records written to Kafka, by topic."}, []string{"topic"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_producer_errors_total", Help: "Kafka write calls that failed after retries."}, []string{"topic"}),
	}
	if reg != nil {
		reg.MustRegister(p.produced, p.failed)
	}
	for _, t := range Topics(cfg.TopicPrefix) { // zeros rather than absent series
		p.produced.WithLabelValues(t)
		p.failed.WithLabelValues(t)
	}
	return p
}

// Emit writes envelopes to their kind topics. It returns when all are acknowledged by all in-sync replicas.
func (p *Producer) Emit(ctx context.Context, envs ...schemas.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(envs))
	for i := range envs {
		b, err := json.Marshal(&envs[i])
		if err != nil {
			return fmt.Errorf("kafka: encode event %s: %w", envs[i].EventID, err)
		}
		msgs[i] = kafka.Message{Topic: envs[i].Kind.Topic(p.prefix), Key: envs[i].Key(), Value: b}
	}
	return p.write(ctx, msgs)
}

// Reject writes rejects to the dead-letter topic, with the reason in headers too.
func (p *Producer) Reject(ctx context.Context, rejects ...schemas.Rejected) error {
	if len(rejects) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(rejects))
	for i := range rejects {
		b, err := json.Marshal(&rejects[i])
		if err != nil {
			return fmt.Errorf("kafka: encode reject %s: %w", rejects[i].RejectID, err)
		}
		msgs[i] = kafka.Message{Topic: p.dlq, Key: []byte(rejects[i].RejectID), Value: b, Headers: []kafka.Header{
			{Key: "reason", Value: []byte(rejects[i].Reason)},
			{Key: "stage", Value: []byte(rejects[i].Stage)},
		}}
	}
	return p.write(ctx, msgs)
}

// WriteRaw writes pre-encoded messages (tests, replay tools).
func (p *Producer) WriteRaw(ctx context.Context, msgs ...kafka.Message) error {
	return p.write(ctx, msgs)
}

func (p *Producer) write(ctx context.Context, msgs []kafka.Message) error {
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		var we kafka.WriteErrors
		if errors.As(err, &we) {
			for i, e := range we {
				if e != nil {
					p.failed.WithLabelValues(msgs[i].Topic).Inc()
				}
			}
		} else {
			p.failed.WithLabelValues("all").Inc()
		}
		return fmt.Errorf("kafka: write %d records: %w", len(msgs), err)
	}
	counts := map[string]int{}
	for i := range msgs {
		counts[msgs[i].Topic]++
	}
	for t, n := range counts {
		p.produced.WithLabelValues(t).Add(float64(n))
	}
	return nil
}

// Close flushes and closes the writer.
func (p *Producer) Close() error { return p.w.Close() }

// Lag returns, per topic, the records not yet committed by group (high watermark − committed offset,
// summed over partitions; a partition with no commit counts from its first offset).
func Lag(ctx context.Context, cfg Config, group string, topics []string) (map[string]int64, error) {
	c := client(cfg)
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("kafka lag: metadata: %w", err)
	}
	parts := map[string][]int{}
	offReq := map[string][]kafka.OffsetRequest{}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
			offReq[t.Name] = append(offReq[t.Name], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	committed, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err != nil {
		return nil, fmt.Errorf("kafka lag: offset fetch: %w", err)
	}
	ends, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: offReq})
	if err != nil {
		return nil, fmt.Errorf("kafka lag: list offsets: %w", err)
	}
	out := map[string]int64{}
	for topic, ps := range ends.Topics {
		com := map[int]int64{}
		for _, cp := range committed.Topics[topic] {
			com[cp.Partition] = cp.CommittedOffset
		}
		var sum int64
		for _, po := range ps {
			start := po.FirstOffset
			if c, ok := com[po.Partition]; ok && c >= 0 {
				start = c
			}
			if d := po.LastOffset - start; d > 0 {
				sum += d
			}
		}
		out[topic] = sum
	}
	return out, nil
}
