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

// DigiKeyConfig (collectors.digikey) queries DigiKey Product Information v4
// (GET /products/v4/search/{partNumber}/productdetails) with an OAuth2 client-credentials token.
type DigiKeyConfig struct {
	Enabled          bool           `koanf:"enabled"`
	Interval         time.Duration  `koanf:"interval"`
	Endpoint         string         `koanf:"endpoint"` // base URL
	Source           string         `koanf:"source"`
	RatePerSecond    float64        `koanf:"rate_per_second"`
	Burst            int            `koanf:"burst"`
	AsOfResolution   time.Duration  `koanf:"as_of_resolution"` // see MouserConfig
	TokenURL         string         `koanf:"token_url"`
	ClientID         string         `koanf:"client_id"`
	ClientSecret     confkit.Secret `koanf:"client_secret"`
	ClientSecretFile string         `koanf:"client_secret_file"`
	PartNumbers      []string       `koanf:"part_numbers"` // MPNs or DigiKey part numbers
	LocaleSite       string         `koanf:"locale_site"`
	LocaleLanguage   string         `koanf:"locale_language"`
	LocaleCurrency   string         `koanf:"locale_currency"`
}

// DefaultDigiKeyConfig returns the defaults of collectors.digikey (disabled). DigiKey allows 120
// requests a minute and 1,000 a day per application.
func DefaultDigiKeyConfig() DigiKeyConfig {
	return DigiKeyConfig{Interval: 24 * time.Hour, Endpoint: "https://api.digikey.com", Source: "digikey",
		RatePerSecond: 1, Burst: 1, AsOfResolution: 24 * time.Hour, TokenURL: "https://api.digikey.com/v1/oauth2/token",
		LocaleSite: "US", LocaleLanguage: "en", LocaleCurrency: "USD"}
}

func (c DigiKeyConfig) common() distributorCommon {
	return distributorCommon{c.Enabled, c.Interval, c.Endpoint, c.Source, c.RatePerSecond, c.Burst, c.AsOfResolution}
}

// Validate reports the problems of collectors.digikey, keyed relative to it.
func (c DigiKeyConfig) Validate() error {
	var p confkit.Problems
	c.common().problems(&p, c.PartNumbers, "part_numbers")
	if c.Enabled {
		oauthProblems(&p, "digikey", c.TokenURL, c.ClientID, c.ClientSecret)
		p.Required("locale_currency", c.LocaleCurrency)
	}
	return p.Err()
}

// ResolveSecrets reads client_secret_file into ClientSecret.
func (c *DigiKeyConfig) ResolveSecrets() error {
	return secretFromFile("client_secret_file", &c.ClientSecret, c.ClientSecretFile)
}

// DigiKeyAPI is the scheduled collector "digikey": each product variation (cut tape, reel, ...)
// of each part is a record.
type DigiKeyAPI struct {
	distributorAPI
	cfg   DigiKeyConfig
	token *httpx.ClientCredentials
}

// NewDigiKeyAPI builds the DigiKey collector; client (from internal/httpx) also fetches tokens.
func NewDigiKeyAPI(cfg DigiKeyConfig, client *retryablehttp.Client, d Deps) *DigiKeyAPI {
	return &DigiKeyAPI{distributorAPI: newDistributorAPI("digikey", cfg.Source, cfg.AsOfResolution, client, d), cfg: cfg,
		token: oauthClient(cfg.TokenURL, cfg.ClientID, cfg.ClientSecret, "", client)}
}

// Run implements Collector: one productdetails request per part number; a part DigiKey does not
// know (404) is logged and skipped.
func (g *DigiKeyAPI) Run(ctx context.Context, em Emitter) (Stats, error) {
	return g.run(ctx, em, chunkStrings(g.cfg.PartNumbers, 1), g.fetch)
}

func (g *DigiKeyAPI) fetch(ctx context.Context, pn []string) (*http.Response, string, error) {
	u := strings.TrimRight(g.cfg.Endpoint, "/") + "/products/v4/search/" + url.PathEscape(pn[0]) + "/productdetails"
	resp, err := withToken(ctx, g.token, func(tok string) (*http.Response, error) {
		req, err := httpx.NewRequest(ctx, http.MethodGet, u, nil, http.Header{
			"Authorization": {"Bearer " + tok}, "X-DIGIKEY-Client-Id": {g.cfg.ClientID}, "Accept": {"application/json"},
			"X-DIGIKEY-Locale-Site": {g.cfg.LocaleSite}, "X-DIGIKEY-Locale-Language": {g.cfg.LocaleLanguage},
			"X-DIGIKEY-Locale-Currency": {g.cfg.LocaleCurrency}})
		if err != nil {
			return nil, err
		}
		return g.client.Do(req)
	})
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		g.log.Warn("digikey: part not found", "part_number", pn[0])
		return nil, "", nil
	}
	resp, err = okOrError(resp)
	return resp, "digikey:productdetails[" + pn[0] + "]", err
}
