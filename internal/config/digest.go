package config

// DigestConfig is the "digest" section. Owned by the digest work; see that package's docs.
type DigestConfig struct{}

func defaultDigest() DigestConfig { return DigestConfig{} }

func (c *DigestConfig) validate(p *problems) {}
