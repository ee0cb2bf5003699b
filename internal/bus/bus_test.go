package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/sink"
	"github.com/chainwatch/chainwatch/schemas"
)

// fakeKafka runs an in-process broker (franz-go kfake) for fast, hermetic tests of the Kafka layer.
func fakeKafka(t *testing.T) bus.Config {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := bus.DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cfg.TopicPrefix = "unit"
	cfg.GroupID = "unit-sink"
	cfg.BatchTimeout = 5 * time.Millisecond
	return cfg
}

// TestProduceConsumeCommit: topics are created, events and rejects go to their topics keyed by id,
// a consumer group reads them all, and after a commit the group's lag is zero.
func TestProduceConsumeCommit(t *testing.T) {
	cfg := fakeKafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, cfg); err != nil { // idempotent
		t.Fatalf("second EnsureTopics: %v", err)
	}
	p := bus.NewProducer(cfg, nil)
	defer p.Close()
	now := time.Now()
	var envs []schemas.Envelope
	for i := 0; i < 300; i++ {
		envs = append(envs, loadgen.Event(i, now))
	}
	if err := p.Emit(ctx, envs...); err != nil {
		t.Fatal(err)
	}
	if err := p.Reject(ctx, schemas.Rejected{RejectID: "r1", Stage: schemas.StageCollect, Source: "x", Reason: "invalid", Detail: "flow: bad", Raw: []byte("a,b")}); err != nil {
		t.Fatal(err)
	}
	r := sink.NewReader(cfg, sink.DefaultConfig(), bus.Topics(cfg.TopicPrefix), nil)
	defer r.Close()
	seen := map[string]int{}
	byKey := map[string]string{}
	for n := 0; n < 301; n++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("after %d: %v", n, err)
		}
		seen[m.Topic]++
		if prev, ok := byKey[string(m.Key)]; ok && prev != m.Topic {
			t.Errorf("key %s on two topics", m.Key)
		}
		byKey[string(m.Key)] = m.Topic
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if seen[schemas.KindTrade.Topic("unit")] != 100 || seen[schemas.DeadLetterTopic("unit")] != 1 {
		t.Errorf("per topic: %v", seen)
	}
	lag, err := bus.Lag(ctx, cfg, cfg.GroupID, bus.Topics(cfg.TopicPrefix))
	if err != nil {
		t.Fatal(err)
	}
	for topic, n := range lag {
		if n != 0 {
			t.Errorf("lag %s = %d", topic, n)
		}
	}
}
