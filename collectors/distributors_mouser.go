package collectors

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/httpx"
)

// mouserPartsPerRequest: the Search API takes up to 10 part numbers, "|" separated.
const mouserPartsPerRequest = 10

// MouserConfig (collectors.mouser) polls the Mouser Search API v1 (POST
// /api/v1/search/partnumber?apiKey=…) for PartNumbers.
type MouserConfig struct {
	Enabled       bool          `koanf:"enabled"`
	Interval      time.Duration `koanf:"interval"`
	Endpoint      string        `koanf:"endpoint"` // base URL
	Source        string        `koanf:"source"`
	RatePerSecond float64       `koanf:"rate_per_second"`
	Burst         int           `koanf:"burst"`
	// AsOfResolution truncates a response's time into as_of (default 24h: one snapshot per offer
	// and day; later runs of the day replace it). 0 keeps the response time.
	AsOfResolution time.Duration  `koanf:"as_of_resolution"`
	APIKey         confkit.Secret `koanf:"api_key"`
	APIKeyFile     string         `koanf:"api_key_file"`
	PartNumbers    []string       `koanf:"part_numbers"`
	// SearchOption is partSearchOptions: None, Exact or BeginsWith.
	SearchOption string `koanf:"search_option"`
}

// DefaultMouserConfig returns the defaults of collectors.mouser (disabled). Mouser allows 30
// calls a minute and 1,000 a day: 0.5 requests/s, 10 part numbers per request.
func DefaultMouserConfig() MouserConfig {
	return MouserConfig{Interval: 24 * time.Hour, Endpoint: "https://api.mouser.com", Source: "mouser",
		RatePerSecond: 0.5, Burst: 1, AsOfResolution: 24 * time.Hour, SearchOption: "Exact"}
}

func (c MouserConfig) common() distributorCommon {
	return distributorCommon{c.Enabled, c.Interval, c.Endpoint, c.Source, c.RatePerSecond, c.Burst, c.AsOfResolution}
}

// Validate reports the problems of collectors.mouser, keyed relative to it.
func (c MouserConfig) Validate() error {
	var p confkit.Problems
	c.common().problems(&p, c.PartNumbers, "part_numbers")
	if c.Enabled && c.APIKey == "" {
		p.Add("api_key", "required when collectors.mouser.enabled (or api_key_file)")
	}
	p.OneOf("search_option", c.SearchOption, "None", "Exact", "BeginsWith")
	return p.Err()
}

// ResolveSecrets reads api_key_file into APIKey.
func (c *MouserConfig) ResolveSecrets() error {
	return secretFromFile("api_key_file", &c.APIKey, c.APIKeyFile)
}

// MouserAPI is the scheduled collector "mouser".
type MouserAPI struct {
	distributorAPI
	cfg MouserConfig
}

// NewMouserAPI builds the Mouser collector; client should come from internal/httpx.
func NewMouserAPI(cfg MouserConfig, client *retryablehttp.Client, d Deps) *MouserAPI {
	return &MouserAPI{distributorAPI: newDistributorAPI("mouser", cfg.Source, cfg.AsOfResolution, client, d), cfg: cfg}
}

// Run implements Collector: one search per 10 part numbers; every Parts[] element is an offer.
func (m *MouserAPI) Run(ctx context.Context, em Emitter) (Stats, error) {
	return m.run(ctx, em, chunkStrings(m.cfg.PartNumbers, mouserPartsPerRequest), m.fetch)
}

func (m *MouserAPI) fetch(ctx context.Context, parts []string) (*http.Response, string, error) {
	u := strings.TrimRight(m.cfg.Endpoint, "/") + "/api/v1/search/partnumber?apiKey=" + url.QueryEscape(m.cfg.APIKey.Reveal())
	body := map[string]any{"SearchByPartRequest": map[string]string{
		"mouserPartNumber": strings.Join(parts, "|"), "partSearchOptions": m.cfg.SearchOption}}
	resp, err := httpx.PostJSON(ctx, m.client, u, body, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err = okOrError(resp)
	return resp, "mouser:search/partnumber[" + strings.Join(parts, "|") + "]", err
}
