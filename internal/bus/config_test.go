package bus

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := DefaultConfig()
	c.Brokers = []string{"no-port"}
	c.SessionTimeout = 0
	err := c.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, w := range []string{`brokers[0]: "no-port" is not host:port`, "session_timeout: must be within 6s..5m"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q missing in %v", w, err)
		}
	}
	if strings.Contains(err.Error(), "kafka.") {
		t.Errorf("keys must be section-relative: %v", err)
	}
}
