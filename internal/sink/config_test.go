package sink

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := DefaultConfig()
	c.RetryMin, c.RetryMax, c.Workers = 10*time.Second, time.Second, 0
	c.FetchMaxBytes, c.QueueCapacity = 100, 0
	err := c.Validate()
	for _, w := range []string{"retry_max: must be >= sink.retry_min (10s)", "workers: must be > 0, got 0",
		"fetch_max_bytes: must be within 1024..1073741824, got 100", "queue_capacity: must be > 0, got 0"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%q missing in %v", w, err)
		}
	}
}
