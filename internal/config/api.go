package config

// APIConfig is the "api" section. Owned by the api work; see that package's docs.
type APIConfig struct{}

func defaultAPI() APIConfig { return APIConfig{} }

func (c *APIConfig) validate(p *problems) {}

func (c *APIConfig) resolveSecrets() error { return nil }
