// Package bus is chainwatch's Kafka layer (segmentio/kafka-go): topic creation, the producer that
// collectors emit through (it implements collectors.Emitter), and consumer-lag measurement.
//
// Topics: one per event kind, "<prefix>.<kind>.v1", plus "<prefix>.deadletter.v1". A kind topic's
// record carries a protobuf pack of envelopes (schemas.ProtoPackEvents, the producer's default),
// one JSON envelope, or several as JSON Lines (schemas.PackedLines), and is keyed by its (first)
// event id. Records of one natural key may sit in different partitions and
// arrive in any order: every event table is a ReplacingMergeTree on the event's version column
// (ingested_at, as_of), so the newest version wins whatever the order.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/chainwatch/chainwatch/schemas"
)

// Topics returns every topic chainwatch uses: one per kind, then the dead-letter topic.
func Topics(prefix string) []string {
	return append(KindTopics(prefix), schemas.DeadLetterTopic(prefix))
}

// KindTopics returns the kind topics, one per kind in Kinds order (Topics without the
// dead-letter topic).
func KindTopics(prefix string) []string {
	var out []string
	for _, k := range schemas.Kinds() {
		out = append(out, k.Topic(prefix))
	}
	return out
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
	w      *kafka.Writer
	prefix string
	dlq    string
	// packing (kafka.events_per_record, kafka.record_bytes, kafka.encoding)
	perRecord, recordBytes int
	protobuf               bool
	produced               *prometheus.CounterVec
	events                 *prometheus.CounterVec
	failed                 *prometheus.CounterVec
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
		prefix:    cfg.TopicPrefix,
		dlq:       schemas.DeadLetterTopic(cfg.TopicPrefix),
		perRecord: max(1, cfg.EventsPerRecord), recordBytes: max(1, cfg.RecordBytes),
		protobuf: cfg.Encoding != EncodingJSON,
		produced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_producer_records_total", Help: "Records written to Kafka, by topic (a packed record holds several events)."}, []string{"topic"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_producer_events_total", Help: "Events written to Kafka, by kind topic (in packed records or one per record)."}, []string{"topic"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_producer_errors_total", Help: "Kafka write calls that failed after retries."}, []string{"topic"}),
	}
	if reg != nil {
		reg.MustRegister(p.produced, p.events, p.failed)
	}
	for _, t := range Topics(cfg.TopicPrefix) { // zeros rather than absent series
		p.produced.WithLabelValues(t)
		p.failed.WithLabelValues(t)
		if t != p.dlq {
			p.events.WithLabelValues(t)
		}
	}
	return p
}

// Emit writes envelopes to their kind topics. It returns when all are acknowledged by all in-sync replicas.
//
// The envelopes of one topic in envs share records, in their order, up to kafka.events_per_record
// of them and kafka.record_bytes: protobuf packs (kafka.encoding protobuf, ProtoPackHeaders, also
// for one event), or JSON Lines packs (json, PackedHeaders) where a record of one envelope is
// written as plain JSON. A record is keyed by its first envelope's event id. An envelope whose
// payload does not decode goes as plain JSON in a record of its own, for the sink to reject.
func (p *Producer) Emit(ctx context.Context, envs ...schemas.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	msgs, events, err := p.pack(envs)
	if err != nil {
		return err
	}
	if err := p.write(ctx, msgs); err != nil {
		return err
	}
	for t, n := range events {
		p.events.WithLabelValues(t).Add(float64(n))
	}
	return nil
}

// PackedHeaders are the headers that mark a record packed (schemas.PackedContentType).
func PackedHeaders() []kafka.Header {
	return []kafka.Header{{Key: schemas.ContentTypeHeader, Value: []byte(schemas.PackedContentType)}}
}

// ProtoPackHeaders are the headers that mark a record a protobuf pack (schemas.ProtoPackContentType).
func ProtoPackHeaders() []kafka.Header {
	return []kafka.Header{{Key: schemas.ContentTypeHeader, Value: []byte(schemas.ProtoPackContentType)}}
}

// Record formats, by their content-type header (RecordFormat).
const (
	FormatJSON      = iota // no known content type: one JSON envelope
	FormatJSONLines        // schemas.PackedContentType
	FormatProtoPack        // schemas.ProtoPackContentType
)

// RecordFormat is the format a record's headers declare: the header name is matched
// case-insensitively, as HTTP's, the content type exactly.
func RecordFormat(hs []kafka.Header) int {
	for _, h := range hs {
		if strings.EqualFold(h.Key, schemas.ContentTypeHeader) {
			switch string(h.Value) {
			case schemas.PackedContentType:
				return FormatJSONLines
			case schemas.ProtoPackContentType:
				return FormatProtoPack
			}
		}
	}
	return FormatJSON
}

// open is a record being packed.
type open struct {
	key   []byte
	value []byte
	n     int
}

// pack encodes envs into records: per topic, the envelopes in their order, each record holding up
// to eventsPerRecord of them within recordBytes (an envelope larger than that gets a record of its
// own). It returns the records and the events per topic.
func (p *Producer) pack(envs []schemas.Envelope) ([]kafka.Message, map[string]int, error) {
	var msgs []kafka.Message
	events := map[string]int{}
	opens := map[string]*open{}
	var topics []string // of opens, in first-seen order
	done := func(topic string, o *open) {
		m := kafka.Message{Topic: topic, Key: o.key, Value: o.value}
		switch {
		case p.protobuf:
			m.Headers = ProtoPackHeaders()
		case o.n > 1:
			m.Headers = PackedHeaders()
		}
		msgs = append(msgs, m)
	}
	for i := range envs {
		topic := envs[i].Kind.Topic(p.prefix)
		b, err := p.encode(&envs[i])
		if errors.Is(err, errNoRecord) {
			// A payload that does not decode (a producer's bug): the event goes as JSON in a
			// record of its own, so the sink rejects it with its reason instead of this Emit
			// failing for every event in it.
			if b, err = json.Marshal(&envs[i]); err == nil {
				events[topic]++
				msgs = append(msgs, kafka.Message{Topic: topic, Key: envs[i].Key(), Value: b})
				continue
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("kafka: encode event %s: %w", envs[i].EventID, err)
		}
		events[topic]++
		o := opens[topic]
		if o != nil && (o.n >= p.perRecord || len(o.value)+1+len(b) > p.recordBytes) {
			done(topic, o)
			o = nil
		}
		if o == nil {
			o = &open{key: envs[i].Key(), value: b, n: 1} // b is encode's, ours to grow
			if _, seen := opens[topic]; !seen {
				topics = append(topics, topic)
			}
			opens[topic] = o
			continue
		}
		if !p.protobuf {
			o.value = append(o.value, '\n')
		}
		o.value = append(o.value, b...)
		o.n++
	}
	for _, t := range topics {
		done(t, opens[t])
	}
	return msgs, events, nil
}

// encode is env as one event of a record, in new memory: a protobuf Pack's events field, or its
// JSON.
func (p *Producer) encode(env *schemas.Envelope) ([]byte, error) {
	if !p.protobuf {
		return json.Marshal(env)
	}
	rec, err := schemas.RecordOf(env)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoRecord, err)
	}
	return schemas.AppendProtoEvent(nil, env, rec)
}

// errNoRecord: an envelope's payload does not decode into its kind's record.
var errNoRecord = errors.New("payload does not decode")

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
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
		}
	}
	// the commits first, then the ends: a record produced between the two is counted, never missed
	committed, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err != nil {
		return nil, fmt.Errorf("kafka lag: offset fetch: %w", err)
	}
	ends, err := endOffsets(ctx, c, md)
	if err != nil {
		return nil, fmt.Errorf("kafka lag: %w", err)
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

// endOffsets returns the first and last offsets of every partition in md (Lag's and Read's
// request, after their metadata request).
func endOffsets(ctx context.Context, c *kafka.Client, md *kafka.MetadataResponse) (*kafka.ListOffsetsResponse, error) {
	req := map[string][]kafka.OffsetRequest{}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			req[t.Name] = append(req[t.Name], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	offs, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, fmt.Errorf("list offsets: %w", err)
	}
	return offs, nil
}
