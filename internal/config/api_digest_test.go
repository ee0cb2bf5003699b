package config

import (
	"fmt"
	"github.com/chainwatch/chainwatch/internal/api"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigValidation: bad api and digest sections are reported by full key name.
func TestConfigValidation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	doc := `
api:
  default_limit: 0
  tokens:
    - name: a
      role: admin
      sha256: not-a-hash
    - name: a
      role: read
  exposure:
    top_n: 0
    severity: {critical: 50, high: 60, medium: 40}
digest:
  schedule: "every monday"
  timezone: Mars/Olympus
  recipients: [not-an-address]
  scopes:
    - region: Jiangsu
    - region: Jiangsu
  formats: [pdf]
  stale_after_by_table: {trade_flows: -1h}
`
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, []string{})
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{"api.default_limit:", "api.tokens[0].role:", "api.tokens[0].sha256:", "api.tokens[1].name:",
		"api.tokens[1].sha256:", "api.exposure.top_n:", "api.exposure.severity:", "digest.schedule:", "digest.timezone:",
		"digest.recipients[0]:", "digest.scopes[1]:", "digest.formats[0]:", "digest.stale_after_by_table.trade_flows:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	// sha256_file is read; a good config loads.
	hf := filepath.Join(dir, "tok.sha256")
	_ = os.WriteFile(hf, []byte(api.HashToken("x")+"\n"), 0o600)
	good := fmt.Sprintf("api:\n  tokens:\n    - {name: ops, role: operate, sha256_file: %s}\ndigest:\n  enabled: true\n  recipients: [a@example.org]\n", hf)
	_ = os.WriteFile(p, []byte(good), 0o600)
	c, err := Load(p, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.API.Tokens[0].SHA256.Reveal() != api.HashToken("x") || fmt.Sprint(c.API.Tokens[0].SHA256) != "[redacted]" {
		t.Errorf("sha256_file not read or not redacted")
	}
	if c.Digest.Location().String() != "Asia/Shanghai" || len(c.Digest.EffectiveScopes()) != 1 {
		t.Errorf("digest defaults: %v %v", c.Digest.Location(), c.Digest.EffectiveScopes())
	}
}
