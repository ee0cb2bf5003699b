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
	err := c.Validate()
	for _, w := range []string{"retry_max: must be >= sink.retry_min (10s)", "workers: must be > 0, got 0"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%q missing in %v", w, err)
		}
	}
}
