package testenv

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed chdb.py
var chdbScript []byte

// ChdbResult is one query's outcome on chdb.
type ChdbResult struct {
	Rows  int    `json:"rows"`
	TSV   string `json:"tsv"` // the result as TabSeparatedRaw text (values unescaped)
	Error string `json:"error"`
}

// ChdbOutput is what a chdb run returns.
type ChdbOutput struct {
	Version     string       `json:"version"`
	SetupErrors [][2]any     `json:"setup_errors"`
	Results     []ChdbResult `json:"results"`
}

// Chdb runs setup statements then queries on a current ClickHouse engine (Python chdb, installed by
// deploy/local/tools.sh) in a fresh temporary database. It fails the test if python3 or chdb is missing:
// the README test command installs it.
func Chdb(t testing.TB, setup, queries []string) ChdbOutput {
	t.Helper()
	Integration(t)
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
	}
	if err := exec.Command(py, "-c", "import chdb").Run(); err != nil {
		t.Fatalf("chdb is not installed for %s (run deploy/local/tools.sh): %v", py, err)
	}
	script := filepath.Join(t.TempDir(), "chdb_run.py")
	if err := os.WriteFile(script, chdbScript, 0o600); err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]any{"database": "chainwatch", "setup": setup, "queries": queries})
	cmd := exec.Command(py, script)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chdb run failed: %v\n%s", err, stderr.String())
	}
	var res ChdbOutput
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("chdb output: %v\n%s", err, out)
	}
	return res
}
