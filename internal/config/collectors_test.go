package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCollectorsLoadFileEnvAndSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "comtrade.key")
	os.WriteFile(keyFile, []byte("s3cret\n"), 0o600)
	yml := filepath.Join(dir, "c.yaml")
	os.WriteFile(yml, []byte(`
collectors:
  comtrade:
    enabled: true
    subscription_key_file: `+keyFile+`
    reporters: [CHN, "842"]
    hs_codes: ["811292", "8105"]
    periods: ["2020-2024"]
  availability:
    enabled: true
    dir: /var/lib/chainwatch/availability
`), 0o600)
	cfg, err := Load(yml, []string{"CHAINWATCH_COLLECTORS__COMTRADE__FLOWS=M", "CHAINWATCH_COLLECTORS__BATCH_SIZE=250",
		"CHAINWATCH_COLLECTORS__COMTRADE__RATE_PER_SECOND=0.5"})
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Collectors
	if c.Comtrade.SubscriptionKey.Reveal() != "s3cret" || strings.Join(c.Comtrade.Reporters, ",") != "CHN,842" ||
		strings.Join(c.Comtrade.Flows, ",") != "M" || c.BatchSize != 250 || c.Comtrade.RatePerSecond != 0.5 ||
		c.Availability.Dir != "/var/lib/chainwatch/availability" || c.Comtrade.Interval != 24*time.Hour {
		t.Errorf("loaded %+v", c)
	}
	if s := c.Comtrade.SubscriptionKey.String(); s != "[redacted]" {
		t.Errorf("secret prints as %q", s)
	}
	os.Remove(keyFile)
	if _, err := Load(yml, []string{}); err == nil || !strings.Contains(err.Error(), "collectors.comtrade.subscription_key_file") {
		t.Errorf("missing key file: %v", err)
	}
}

func TestCollectorsKeysKnown(t *testing.T) {
	keys := strings.Join(Keys(), "\n")
	for _, k := range []string{"collectors.comtrade.subscription_key", "collectors.comtrade.hs_codes", "collectors.http.max_retry_after",
		"collectors.availability.api_key_file", "collectors.procurement.urls"} {
		if !strings.Contains(keys, k+"\n") {
			t.Errorf("key %s unknown", k)
		}
	}
}
