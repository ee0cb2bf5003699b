package collectors

import (
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

func TestCollectorsDefaultsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.BatchSize != 2000 || c.Comtrade.Endpoint != "https://comtradeapi.un.org" || c.Comtrade.Enabled {
		t.Errorf("defaults %+v", c)
	}
}

func TestCollectorsValidateNamesKeys(t *testing.T) {
	c := DefaultConfig()
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
	msg := confkit.Prefix("collectors", c.Validate()).Error()
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

func TestConfigResolveSecrets(t *testing.T) {
	c := DefaultConfig()
	dir := t.TempDir()
	c.Comtrade.SubscriptionKeyFile = dir + "/missing"
	err := confkit.Prefix("collectors", c.ResolveSecrets())
	if err == nil || !strings.HasPrefix(err.Error(), "collectors.comtrade.subscription_key_file: read secret: ") {
		t.Fatalf("missing file: %v", err)
	}
	c.Comtrade.SubscriptionKeyFile = ""
	if err := c.ResolveSecrets(); err != nil {
		t.Fatal(err)
	}
}
