package bus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// writeCA writes a self-signed CA certificate (PEM) into dir.
func writeCA(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecurityConfigValidates(t *testing.T) {
	ok := DefaultConfig()
	ok.SASL = SASLConfig{Mechanism: SASLScramSHA512, Username: "cw", Password: "s3cret"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid SCRAM config: %v", err)
	}
	for _, tc := range []struct {
		mod  func(c *Config)
		want string
	}{
		{func(c *Config) { c.SASL = SASLConfig{Mechanism: "gssapi", Username: "u", Password: "p"} }, `sasl.mechanism: "gssapi" is not one of`},
		{func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLScramSHA256, Username: "u"} }, "sasl.password: required"},
		{func(c *Config) { c.SASL = SASLConfig{Mechanism: SASLPlain, Password: "p"} }, "sasl.username: required"},
		{func(c *Config) { c.SASL = SASLConfig{Username: "u"} }, "sasl.mechanism: is empty"},
		{func(c *Config) { c.TLS = confkit.TLS{Enabled: true, CAFile: "/nonexistent/ca.pem"} }, "tls.ca_file:"},
		{func(c *Config) { c.TLS = confkit.TLS{InsecureSkipVerify: true} }, "tls.enabled: is false"},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", c.SASL, err, tc.want)
		}
	}
}

// TestTransportAndDialerCarryTLSAndSASL: the producer's transport, the admin client and the sink's
// dialer get the TLS config and the SASL mechanism of the config.
func TestTransportAndDialerCarryTLSAndSASL(t *testing.T) {
	ca := writeCA(t, t.TempDir())
	for mech, name := range map[string]string{SASLPlain: "PLAIN", SASLScramSHA256: "SCRAM-SHA-256", SASLScramSHA512: "SCRAM-SHA-512"} {
		c := DefaultConfig()
		c.TLS = confkit.TLS{Enabled: true, CAFile: ca, ServerName: "broker.internal"}
		c.SASL = SASLConfig{Mechanism: mech, Username: "cw", Password: "s3cret"}
		tr, err := c.Transport()
		if err != nil {
			t.Fatal(err)
		}
		if tr.TLS == nil || tr.TLS.RootCAs == nil || tr.TLS.ServerName != "broker.internal" || tr.SASL == nil || tr.SASL.Name() != name {
			t.Errorf("%s: transport TLS %v SASL %v", mech, tr.TLS, tr.SASL)
		}
		d, err := c.Dialer()
		if err != nil {
			t.Fatal(err)
		}
		if d.TLS == nil || d.TLS.RootCAs == nil || d.SASLMechanism == nil || d.SASLMechanism.Name() != name {
			t.Errorf("%s: dialer TLS %v SASL %v", mech, d.TLS, d.SASLMechanism)
		}
		if at, ok := client(c).Transport.(*kafka.Transport); !ok || at.TLS == nil || at.SASL == nil {
			t.Errorf("%s: admin client transport %#v", mech, client(c).Transport)
		}
		if pt, ok := NewProducer(c, nil).w.Transport.(*kafka.Transport); !ok || pt.TLS == nil || pt.SASL == nil || pt.SASL.Name() != name {
			t.Errorf("%s: producer transport %#v", mech, pt)
		}
	}
	plain := DefaultConfig()
	if tr, err := plain.Transport(); err != nil || tr.TLS != nil || tr.SASL != nil {
		t.Errorf("default: TLS %v SASL %v %v", tr.TLS, tr.SASL, err)
	}
	// A CA file gone after validation: connections fail with the configuration error.
	bad := DefaultConfig()
	bad.TLS = confkit.TLS{Enabled: true, CAFile: "/nonexistent/ca.pem"}
	if _, err := bad.Transport(); err == nil || !strings.Contains(err.Error(), "kafka.tls") {
		t.Errorf("bad CA: %v", err)
	}
	if _, err := bad.ConsumerDialer().DialFunc(t.Context(), "tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("bad CA dial: %v", err)
	}
}

func TestSASLPasswordFromFileIsRedacted(t *testing.T) {
	f := filepath.Join(t.TempDir(), "kafka.pass")
	os.WriteFile(f, []byte("s3cret-from-file\n"), 0o600)
	c := DefaultConfig()
	c.SASL = SASLConfig{Mechanism: SASLScramSHA256, Username: "cw", PasswordFile: f}
	if err := c.ResolveSecrets(); err != nil || c.SASL.Password.Reveal() != "s3cret-from-file" {
		t.Fatalf("password_file: %q %v", c.SASL.Password.Reveal(), err)
	}
	j, _ := json.Marshal(c)
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(j)} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("password shown: %s", s)
		}
	}
	c.SASL.PasswordFile = filepath.Join(t.TempDir(), "missing")
	if err := c.ResolveSecrets(); err == nil || !strings.Contains(err.Error(), "sasl.password_file") {
		t.Errorf("missing file: %v", err)
	}
}
