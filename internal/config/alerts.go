package config

// AlertsConfig is the "alerts" section. Owned by the alerts work; see that package's docs.
type AlertsConfig struct{}

func defaultAlerts() AlertsConfig { return AlertsConfig{} }

func (c *AlertsConfig) validate(p *problems) {}

func (c *AlertsConfig) resolveSecrets() error { return nil }
