package chstore

import (
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// Config is the "clickhouse" section: ClickHouse over the native protocol.
type Config struct {
	Addr         []string       `koanf:"addr"`
	Database     string         `koanf:"database"`
	Username     string         `koanf:"username"`
	Password     confkit.Secret `koanf:"password"`
	PasswordFile string         `koanf:"password_file"`
	DialTimeout  time.Duration  `koanf:"dial_timeout"`
	ReadTimeout  time.Duration  `koanf:"read_timeout"`
	MaxOpenConns int            `koanf:"max_open_conns"`
	Compression  string         `koanf:"compression"` // none, lz4, zstd
	CreateDB     bool           `koanf:"create_database"`
	MigrateOnRun bool           `koanf:"migrate_on_start"`
	// Cluster names a remote_servers cluster: "" is one server; otherwise migrations create
	// Replicated*MergeTree tables (<table>_local) plus Distributed tables ON CLUSTER (docs/scaling.md).
	Cluster string `koanf:"cluster"`
	// TLS encrypts the native protocol (the server's tcp_port_secure); username and
	// password_file authenticate.
	TLS confkit.TLS `koanf:"tls"`
}

// DefaultConfig is a local server (deploy/local).
func DefaultConfig() Config {
	return Config{
		Addr: []string{"127.0.0.1:19000"}, Database: "chainwatch", Username: "default",
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Minute, MaxOpenConns: 4, Compression: "lz4",
		CreateDB: true, MigrateOnRun: true,
	}
}

// Validate reports every problem by its key relative to the section.
func (c Config) Validate() error {
	var p confkit.Problems
	p.HostPorts("addr", c.Addr, "address")
	if !validIdent(c.Database) {
		p.Add("database", "%q must be an identifier [A-Za-z_][A-Za-z0-9_]*", c.Database)
	}
	p.Duration("dial_timeout", c.DialTimeout)
	p.Duration("read_timeout", c.ReadTimeout)
	p.Positive("max_open_conns", c.MaxOpenConns)
	p.OneOf("compression", c.Compression, "none", "lz4", "zstd")
	if c.Cluster != "" && !validIdent(c.Cluster) {
		p.Add("cluster", "%q must be empty (one server) or a remote_servers cluster name [A-Za-z_][A-Za-z0-9_]*", c.Cluster)
	}
	p.Merge("tls", c.TLS.Validate())
	if c.Password != "" && c.Username == "" {
		p.Add("username", "required when a password is set")
	}
	return p.Err()
}

// ResolveSecrets reads password_file (when set) into Password; a failure names the key.
func (c *Config) ResolveSecrets() error {
	if c.PasswordFile == "" {
		return nil
	}
	s, err := confkit.ReadSecretFile(c.PasswordFile)
	c.Password = s
	if err != nil {
		return &confkit.Problem{Key: "password_file", Msg: err.Error(), Err: err}
	}
	return nil
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
