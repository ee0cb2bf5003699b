package confkit

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLS is a client TLS section ("kafka.tls", "clickhouse.tls"): off unless enabled; ca_file adds
// a CA bundle (PEM) to trust instead of the system roots; cert_file and key_file give a client
// certificate (mutual TLS); insecure_skip_verify turns verification off (tests only).
type TLS struct {
	Enabled            bool   `koanf:"enabled"`
	CAFile             string `koanf:"ca_file"`
	CertFile           string `koanf:"cert_file"`
	KeyFile            string `koanf:"key_file"`
	ServerName         string `koanf:"server_name"` // default: the host dialled
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify"`
}

// Validate reports problems by key relative to the tls section: files that cannot be read or
// parsed, a certificate without its key (or the other way round), settings without enabled.
func (t TLS) Validate() error {
	var p Problems
	if !t.Enabled {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.InsecureSkipVerify {
			p.Add("enabled", "is false, but ca_file, cert_file, key_file or insecure_skip_verify is set")
		}
		return p.Err()
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		p.Add("cert_file", "cert_file and key_file must be given together")
	}
	if _, err := t.Config(); err != nil {
		var pr *Problem
		if errors.As(err, &pr) {
			p = append(p, pr)
		} else {
			p.Add("ca_file", "%v", err)
		}
	}
	return p.Err()
}

// Config builds the *tls.Config (nil when not enabled). Errors are *Problem naming the key.
func (t TLS) Config() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, for tests
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, &Problem{Key: "ca_file", Msg: err.Error(), Err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			err := fmt.Errorf("%s holds no PEM certificate", t.CAFile)
			return nil, &Problem{Key: "ca_file", Msg: err.Error(), Err: err}
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" && t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, &Problem{Key: "cert_file", Msg: err.Error(), Err: err}
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
