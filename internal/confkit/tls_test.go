package confkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key (PEM) into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chainwatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)

	if c, err := (TLS{}).Config(); c != nil || err != nil {
		t.Errorf("disabled: %v %v", c, err)
	}
	c, err := TLS{Enabled: true, CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "kafka.internal"}.Config()
	if err != nil || c.RootCAs == nil || len(c.Certificates) != 1 || c.ServerName != "kafka.internal" || c.InsecureSkipVerify || c.MinVersion == 0 {
		t.Fatalf("enabled: %+v %v", c, err)
	}
	for _, tc := range []struct {
		tls  TLS
		want string
	}{
		{TLS{CAFile: cert}, "enabled: is false"},
		{TLS{Enabled: true, CAFile: filepath.Join(dir, "missing.pem")}, "ca_file: open"},
		{TLS{Enabled: true, CAFile: junk}, "ca_file: " + junk + " holds no PEM certificate"},
		{TLS{Enabled: true, CertFile: cert}, "cert_file: cert_file and key_file must be given together"},
		{TLS{Enabled: true, CertFile: cert, KeyFile: junk}, "cert_file: tls:"},
	} {
		err := tc.tls.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.tls, err, tc.want)
		}
	}
	if err := (TLS{Enabled: true, CAFile: cert}).Validate(); err != nil {
		t.Errorf("valid: %v", err)
	}
}
