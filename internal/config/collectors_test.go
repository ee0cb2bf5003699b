package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCollectorsDefaultsValid(t *testing.T) {
	c := defaultCollectors()
	var p problems
	c.validate(&p)
	if err := p.err(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.BatchSize != 2000 || c.Comtrade.Endpoint != "https://comtradeapi.un.org" || c.Comtrade.Enabled {
		t.Errorf("defaults %+v", c)
	}
}

func TestCollectorsValidateNamesKeys(t *testing.T) {
	c := defaultCollectors()
	c.BatchSize = 0
	c.HomeCountry = "cn"
	c.HTTP.RetryWaitMax = time.Millisecond
	c.Comtrade.Enabled = true
	c.Comtrade.Endpoint = "ftp://x"
	c.Comtrade.Reporters = []string{"156", "China"}
	c.Comtrade.HSCodes = []string{"811292", "8112X"}
	c.Comtrade.Flows = []string{"M", "DX"}
	c.Comtrade.Periods = []string{"2023", "2024-2020", "23"}
	c.Comtrade.PeriodsPerRequest = 20
	c.Comtrade.MaxRecords = 500000
	c.Procurement.Enabled = true
	c.Availability.Enabled = true
	c.Availability.URLs = []string{"not a url"}
	c.Availability.APIKey = "k"
	var p problems
	c.validate(&p)
	msg := p.err().Error()
	for _, key := range []string{
		"collectors.batch_size", "collectors.home_country", "collectors.http.retry_wait_max",
		"collectors.comtrade.endpoint", "collectors.comtrade.subscription_key", "collectors.comtrade.reporters[1]",
		"collectors.comtrade.hs_codes[1]", "collectors.comtrade.flows[1]", "collectors.comtrade.periods[1]",
		"collectors.comtrade.periods[2]", "collectors.comtrade.periods_per_request", "collectors.comtrade.max_records",
		"collectors.procurement.urls", "collectors.availability.urls[0]", "collectors.availability.api_key_header",
	} {
		if !strings.Contains(msg, key+":") {
			t.Errorf("no problem named %s in:\n%s", key, msg)
		}
	}
	if strings.Contains(msg, "reporters[0]") {
		t.Errorf("valid reporter flagged: %s", msg)
	}
}

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
