package lease_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/internal/lease"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// TestKafkaLeaseIntegration: two contenders on a real broker; at most one leads at any time, and
// when the leader stops the other takes over.
func TestKafkaLeaseIntegration(t *testing.T) {
	kc := testenv.Kafka(t)
	cfg := lease.Config{Brokers: kc.Brokers, Topic: kc.TopicPrefix + ".leader.v1", Group: kc.GroupID + "-leader",
		SessionTimeout: 6 * time.Second}
	var leading, maxLeading, acquired atomic.Int32
	who := make(chan int, 16)
	run := func(ctx context.Context, id int, wg *sync.WaitGroup) {
		defer wg.Done()
		l, err := lease.NewKafka(cfg, prometheus.NewRegistry(), slog.Default())
		if err != nil {
			t.Error(err)
			return
		}
		if err := l.Run(ctx, func(lctx context.Context) {
			n := leading.Add(1)
			for m := maxLeading.Load(); n > m && !maxLeading.CompareAndSwap(m, n); m = maxLeading.Load() {
			}
			acquired.Add(1)
			who <- id
			<-lctx.Done()
			leading.Add(-1)
		}); err != nil {
			t.Error(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctxs := []context.Context{}
	cancels := []context.CancelFunc{}
	var wg sync.WaitGroup
	for id := range 2 {
		c, cc := context.WithCancel(ctx)
		ctxs, cancels = append(ctxs, c), append(cancels, cc)
		wg.Add(1)
		go run(ctxs[id], id, &wg)
	}
	first := <-who
	time.Sleep(3 * time.Second) // the follower joins; a rebalance may hand the lease over once
	cancels[first]()
	second := -1
	deadline := time.After(time.Minute)
	for second != 1-first {
		select {
		case second = <-who:
		case <-deadline:
			t.Fatalf("contender %d never led after %d stopped", 1-first, first)
		}
	}
	cancels[1-first]()
	wg.Wait()
	if m := maxLeading.Load(); m != 1 {
		t.Errorf("%d contenders led at the same time", m)
	}
	t.Logf("lease acquired %d times; %d led first, then %d", acquired.Load(), first, second)
}
