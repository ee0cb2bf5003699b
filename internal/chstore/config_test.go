package chstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

func TestConfigValidateAndSecret(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := DefaultConfig()
	c.Database = "drop table"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), `database: "drop table" must be an identifier`) {
		t.Errorf("database: %v", err)
	}
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.PasswordFile = f
	if err := c.ResolveSecrets(); err != nil || c.Password.Reveal() != "s3cr3t" {
		t.Errorf("password_file: %v %q", err, c.Password.Reveal())
	}
	c.PasswordFile = filepath.Join(t.TempDir(), "missing")
	var pr *confkit.Problem
	if err := c.ResolveSecrets(); !errors.As(err, &pr) || pr.Key != "password_file" || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
