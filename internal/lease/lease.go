// Package lease elects one leader among chainwatch daemons, so that the detectors, the alert
// evaluation and the digest schedule run in one process only. The implementation uses a real
// engine, Kafka's group coordinator: every daemon joins one consumer group on a one-partition topic,
// and the member the coordinator assigns partition 0 to is the leader for that group generation.
//
// Why it is exclusive: a generation ends for every member at a rebalance; kafka-go's ConsumerGroup
// closes the generation's context and waits for the functions started on it before the member
// rejoins, and the coordinator assigns the partition again only once every live member rejoined (or
// was expelled after the session timeout). A leader whose process dies loses the lease after
// SessionTimeout. A leader that is alive but cut off from Kafka keeps running until its own
// heartbeats fail (at most about SessionTimeout), so work done under the lease must tolerate that
// overlap (chainwatch's detector runs are keyed on their interval slot; see internal/app/lease.go).
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Lease runs work while this process is the leader.
type Lease interface {
	// Run calls lead each time the lease is acquired, with a context that ends when the lease is
	// lost or ctx ends; it returns when ctx ends (nil) or on an unrecoverable error.
	Run(ctx context.Context, lead func(ctx context.Context)) error
}

// Config of the Kafka lease.
type Config struct {
	Brokers        []string
	Topic          string        // one-partition topic, created when missing
	Group          string        // consumer group of the daemons competing for the lease
	SessionTimeout time.Duration // how long a dead leader keeps the lease (default 10s)
	Heartbeat      time.Duration // default SessionTimeout/5
	// Dialer and Transport carry the connection settings (TLS, SASL) of the consumer group and
	// of the admin client; nil: plaintext defaults.
	Dialer    *kafka.Dialer
	Transport kafka.RoundTripper
}

// Kafka is a Lease on a Kafka consumer group.
type Kafka struct {
	cfg  Config
	log  *slog.Logger
	held prometheus.Gauge
	won  prometheus.Counter
}

// NewKafka builds the lease; its metrics are registered on reg (chainwatch_lease_*).
func NewKafka(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Kafka, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" || cfg.Group == "" {
		return nil, errors.New("lease: brokers, topic and group are required")
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = cfg.SessionTimeout / 5
	}
	k := &Kafka{cfg: cfg, log: log,
		held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chainwatch_lease_held",
			Help: "1 while this daemon holds the leader lease (detectors, alert evaluation, digests)."}),
		won: prometheus.NewCounter(prometheus.CounterOpts{Name: "chainwatch_lease_acquired_total",
			Help: "Times this daemon acquired the leader lease."}),
	}
	if reg != nil {
		if err := errors.Join(reg.Register(k.held), reg.Register(k.won)); err != nil {
			return nil, fmt.Errorf("lease: metrics: %w", err)
		}
	}
	return k, nil
}

// Run implements Lease.
func (k *Kafka) Run(ctx context.Context, lead func(ctx context.Context)) error {
	if err := k.ensureTopic(ctx); err != nil {
		return err
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: k.cfg.Group, Brokers: k.cfg.Brokers, Topics: []string{k.cfg.Topic},
		SessionTimeout: k.cfg.SessionTimeout, HeartbeatInterval: k.cfg.Heartbeat,
		RebalanceTimeout: k.cfg.SessionTimeout, JoinGroupBackoff: time.Second,
		PartitionWatchInterval: time.Minute, WatchPartitionChanges: false, Dialer: k.cfg.Dialer,
	})
	if err != nil {
		return fmt.Errorf("lease: consumer group: %w", err)
	}
	defer cg.Close()
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			k.log.Warn("lease: joining the group failed; retrying", "group", k.cfg.Group, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		if !holds(gen, k.cfg.Topic) {
			k.log.Debug("lease: follower", "generation", gen.ID, "member", gen.MemberID)
			continue
		}
		k.log.Info("lease acquired", "group", k.cfg.Group, "generation", gen.ID, "member", gen.MemberID)
		k.won.Inc()
		k.held.Set(1)
		gen.Start(func(gctx context.Context) {
			defer k.held.Set(0)
			lead(gctx)
			k.log.Info("lease released", "group", k.cfg.Group, "generation", gen.ID)
		})
	}
}

func holds(gen *kafka.Generation, topic string) bool {
	for _, a := range gen.Assignments[topic] {
		if a.ID == 0 {
			return true
		}
	}
	return false
}

// ensureTopic creates the one-partition lease topic with the brokers' default replication factor.
func (k *Kafka) ensureTopic(ctx context.Context) error {
	c := &kafka.Client{Addr: kafka.TCP(k.cfg.Brokers...), Timeout: 10 * time.Second, Transport: k.cfg.Transport}
	res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: k.cfg.Topic, NumPartitions: 1, ReplicationFactor: -1},
	}})
	if err != nil {
		return fmt.Errorf("lease: create topic %s: %w", k.cfg.Topic, err)
	}
	if e := res.Errors[k.cfg.Topic]; e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
		return fmt.Errorf("lease: create topic %s: %w", k.cfg.Topic, e)
	}
	return nil
}
