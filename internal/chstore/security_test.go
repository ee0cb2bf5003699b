package chstore

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

	"github.com/chainwatch/chainwatch/internal/confkit"
)

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

// TestOptionsCarryTLSAndCredentials: clickhouse.tls and the credentials (password from
// password_file) reach the clickhouse-go options, and the password is redacted everywhere.
func TestOptionsCarryTLSAndCredentials(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "ch.pass")
	os.WriteFile(pass, []byte("ch-s3cret\n"), 0o600)
	c := DefaultConfig()
	c.Username, c.PasswordFile = "chainwatch", pass
	c.TLS = confkit.TLS{Enabled: true, CAFile: writeCA(t, dir), ServerName: "ch.internal"}
	if err := c.ResolveSecrets(); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o := Options(c, "chainwatch")
	if o.TLS == nil || o.TLS.RootCAs == nil || o.TLS.ServerName != "ch.internal" || o.DialContext != nil {
		t.Errorf("TLS not set: %+v", o.TLS)
	}
	if o.Auth.Username != "chainwatch" || o.Auth.Password != "ch-s3cret" || o.Auth.Database != "chainwatch" {
		t.Errorf("auth %+v", o.Auth)
	}
	j, _ := json.Marshal(c)
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(j)} {
		if strings.Contains(s, "ch-s3cret") {
			t.Errorf("password shown: %s", s)
		}
	}
	if o := Options(DefaultConfig(), "x"); o.TLS != nil {
		t.Errorf("TLS without tls.enabled")
	}
	// A CA file gone after validation: every connection fails naming the setting.
	c.TLS.CAFile = filepath.Join(dir, "gone.pem")
	o = Options(c, "chainwatch")
	if o.DialContext == nil {
		t.Fatal("no failing dialer for a broken TLS setting")
	}
	if _, err := o.DialContext(t.Context(), "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "clickhouse.tls") {
		t.Errorf("dial: %v", err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("validate: %v", err)
	}
	bad := DefaultConfig()
	bad.Username, bad.Password = "", "x"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "username") {
		t.Errorf("password without username: %v", err)
	}
}
