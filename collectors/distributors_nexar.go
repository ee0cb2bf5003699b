package collectors

import (
	"context"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/httpx"
)

// nexarQuery asks supSearchMpn for each offer's SKU, stock, factory lead days, packaging, MOQ,
// update time and price breaks, and for the part's lifecycle spec.
const nexarQuery = `query ChainwatchSupply($q: String!, $limit: Int!, $country: String, $currency: String, $authorizedOnly: Boolean) {
  supSearchMpn(q: $q, limit: $limit, country: $country, currency: $currency) {
    hits
    results {
      part {
        mpn
        manufacturer { name }
        specs { attribute { shortname } displayValue }
        sellers(authorizedOnly: $authorizedOnly) {
          company { name }
          offers { sku inventoryLevel factoryLeadDays packaging moq updated prices { quantity price currency } }
        }
      }
    }
  }
}`

// NexarConfig (collectors.nexar) queries the Nexar (Octopart) GraphQL API, supSearchMpn per MPN,
// with an OAuth2 client-credentials token.
type NexarConfig struct {
	Enabled          bool           `koanf:"enabled"`
	Interval         time.Duration  `koanf:"interval"`
	Endpoint         string         `koanf:"endpoint"` // GraphQL URL
	Source           string         `koanf:"source"`
	RatePerSecond    float64        `koanf:"rate_per_second"`
	Burst            int            `koanf:"burst"`
	AsOfResolution   time.Duration  `koanf:"as_of_resolution"` // see MouserConfig
	TokenURL         string         `koanf:"token_url"`
	ClientID         string         `koanf:"client_id"`
	ClientSecret     confkit.Secret `koanf:"client_secret"`
	ClientSecretFile string         `koanf:"client_secret_file"`
	Scope            string         `koanf:"scope"`
	MPNs             []string       `koanf:"mpns"`
	Limit            int            `koanf:"limit"`           // parts per MPN search
	Country          string         `koanf:"country"`         // ISO alpha-2 for availability, optional
	Currency         string         `koanf:"currency"`        // ISO currency of prices, optional
	AuthorizedOnly   bool           `koanf:"authorized_only"` // only authorized sellers (no brokers)
}

// DefaultNexarConfig returns the defaults of collectors.nexar (disabled).
func DefaultNexarConfig() NexarConfig {
	return NexarConfig{Interval: 24 * time.Hour, Endpoint: "https://api.nexar.com/graphql", Source: "nexar",
		RatePerSecond: 1, Burst: 1, AsOfResolution: 24 * time.Hour, TokenURL: "https://identity.nexar.com/connect/token",
		Scope: "supply.domain", Limit: 10, AuthorizedOnly: true}
}

func (c NexarConfig) common() distributorCommon {
	return distributorCommon{c.Enabled, c.Interval, c.Endpoint, c.Source, c.RatePerSecond, c.Burst, c.AsOfResolution}
}

// Validate reports the problems of collectors.nexar, keyed relative to it.
func (c NexarConfig) Validate() error {
	var p confkit.Problems
	c.common().problems(&p, c.MPNs, "mpns")
	if c.Enabled {
		oauthProblems(&p, "nexar", c.TokenURL, c.ClientID, c.ClientSecret)
		p.Positive("limit", c.Limit)
	}
	return p.Err()
}

// ResolveSecrets reads client_secret_file into ClientSecret.
func (c *NexarConfig) ResolveSecrets() error {
	return secretFromFile("client_secret_file", &c.ClientSecret, c.ClientSecretFile)
}

// NexarAPI is the scheduled collector "nexar": every seller offer of every matching part is a
// record (distributor = the seller's name).
type NexarAPI struct {
	distributorAPI
	cfg   NexarConfig
	token *httpx.ClientCredentials
}

// NewNexarAPI builds the Nexar collector; client (from internal/httpx) also fetches the tokens.
func NewNexarAPI(cfg NexarConfig, client *retryablehttp.Client, d Deps) *NexarAPI {
	return &NexarAPI{distributorAPI: newDistributorAPI("nexar", cfg.Source, cfg.AsOfResolution, client, d), cfg: cfg,
		token: oauthClient(cfg.TokenURL, cfg.ClientID, cfg.ClientSecret, cfg.Scope, client)}
}

// Run implements Collector: one supSearchMpn query per MPN.
func (n *NexarAPI) Run(ctx context.Context, em Emitter) (Stats, error) {
	return n.run(ctx, em, chunkStrings(n.cfg.MPNs, 1), n.fetch)
}

func (n *NexarAPI) fetch(ctx context.Context, mpn []string) (*http.Response, string, error) {
	vars := map[string]any{"q": mpn[0], "limit": n.cfg.Limit, "authorizedOnly": n.cfg.AuthorizedOnly}
	if n.cfg.Country != "" {
		vars["country"] = n.cfg.Country
	}
	if n.cfg.Currency != "" {
		vars["currency"] = n.cfg.Currency
	}
	body := map[string]any{"query": nexarQuery, "variables": vars}
	resp, err := withToken(ctx, n.token, func(tok string) (*http.Response, error) {
		return httpx.PostJSON(ctx, n.client, n.cfg.Endpoint, body, http.Header{"Authorization": {"Bearer " + tok}})
	})
	if err != nil {
		return nil, "", err
	}
	resp, err = okOrError(resp)
	return resp, "nexar:supSearchMpn[" + mpn[0] + "]", err
}

// oauthProblems checks the OAuth2 client-credentials keys of an enabled distributor section.
func oauthProblems(p *confkit.Problems, section, tokenURL, clientID string, secret confkit.Secret) {
	httpURLProblem(p, "token_url", tokenURL)
	p.Required("client_id", clientID)
	if secret == "" {
		p.Add("client_secret", "required when collectors.%s.enabled (or client_secret_file)", section)
	}
}
