// Package alerttest holds test helpers for the alerts packages: a settable clock, a recording
// notifier, a self-signed certificate and finding generators.
package alerttest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/detectors"
)

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Call is one recorded Notify.
type Call struct {
	Info   alerts.GroupInfo
	Alerts []*alerts.Alert
}

// Firing counts the firing alerts of the call.
func (c Call) Firing() int {
	n := 0
	for _, a := range c.Alerts {
		if !a.Resolved() {
			n++
		}
	}
	return n
}

// Resolved counts the resolved alerts of the call.
func (c Call) Resolved() int { return len(c.Alerts) - c.Firing() }

// Recorder is a Notifier that records calls. Fail, when set, is consulted per call.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
	Fail  func(n int) (bool, error) // n: 1-based attempt count
	tries int
}

// Notify implements alerts.Notifier.
func (r *Recorder) Notify(ctx context.Context, as ...*alerts.Alert) (bool, error) {
	info, _ := alerts.GroupInfoFrom(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.Fail != nil {
		if retry, err := r.Fail(r.tries); err != nil {
			return retry, err
		}
	}
	r.calls = append(r.calls, Call{Info: info, Alerts: as})
	return false, nil
}

// Calls returns the successful calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Tries returns the number of Notify calls including failures.
func (r *Recorder) Tries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries
}

// Reset forgets the calls.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// Cert is a self-signed certificate for 127.0.0.1 and localhost.
type Cert struct {
	Server *tls.Config // for the server
	Pool   *x509.CertPool
	CAFile string // PEM file of the certificate, for alerts.email.smtp.ca_file
}

// SelfSigned generates a certificate valid for an hour.
func SelfSigned(t testing.TB) Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "chainwatch test SMTP"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return Cert{Server: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, Pool: pool, CAFile: path}
}

// Flood returns n single-source findings spread round-robin over ents enterprises, each a
// distinct component, all critical under the default rules.
func Flood(n, ents int, now time.Time) []detectors.Finding {
	out := make([]detectors.Finding, n)
	for i := range out {
		f := alerts.SampleFinding(now)
		f.EnterpriseID = fmt.Sprintf("ENT-%03d", i%ents)
		f.ComponentID = fmt.Sprintf("COMP-%05d", i)
		f.Subject = f.EnterpriseID + "|" + f.ComponentID
		f.Score = 60 + float64(i%40)
		out[i] = f
	}
	return out
}

// Request is one request received by a Receiver.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Receiver is an httptest server that records requests and answers from a script.
type Receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
	// Answer returns status and body for the n-th request (1-based); nil: 200 and okBody.
	Answer func(n int) (int, string)
	okBody string
}

// NewReceiver starts a receiver answering 200 okBody by default.
func NewReceiver(t testing.TB, okBody string) *Receiver {
	r := &Receiver{okBody: okBody}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone(), Body: b})
		n := len(r.reqs)
		answer := r.Answer
		r.mu.Unlock()
		code, body := http.StatusOK, r.okBody
		if answer != nil {
			code, body = answer(n)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

// Requests returns the requests so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// StrictDecode decodes JSON rejecting unknown fields (to check a documented shape).
func StrictDecode(t testing.TB, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("body does not match the documented shape: %v\n%s", err, b)
	}
}

// HTTPConfig is a fast-retrying alerts.http for tests.
func HTTPConfig() alerts.HTTPConfig {
	return alerts.HTTPConfig{Timeout: 5 * time.Second, RetryMax: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
}

// GroupCtx is a Notify context for a group of ENT-DEMO.
func GroupCtx(lang string, now time.Time) context.Context {
	return alerts.WithGroupInfo(context.Background(), alerts.GroupInfo{
		Key: "ENT-DEMO", EnterpriseID: "ENT-DEMO", EnterpriseName: "苏州智控装备", Lang: lang,
		ExternalURL: "http://cw.local:9464", MaxAlerts: 20, Integration: "hook", Now: now,
	})
}

// SampleGroup is one firing critical alert and one resolved alert.
func SampleGroup(now time.Time) []*alerts.Alert {
	a := alerts.SampleAlert(now, "苏州智控装备")
	r := alerts.SampleAlert(now, "苏州智控装备")
	r.ComponentID, r.Fingerprint, r.Status, r.EndsAt = "CAP-0402", "fp-res", alerts.StatusResolved, now
	return []*alerts.Alert{a, r}
}
