package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// The golden files pin what users see: every validation message (on the zero config, which
// trips every section's checks, and on the bad files), every known key, and the effective
// example config. Refactors must keep them byte for byte; CHAINWATCH_UPDATE_GOLDEN=1 rewrites them.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), "..", "..", "testdata/config/golden", name)
	if os.Getenv("CHAINWATCH_UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (CHAINWATCH_UPDATE_GOLDEN=1 writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed:\n--- want\n%s\n--- got\n%s", name, want, got)
	}
}

// sortedLines renders a joined error one message a line, sorted, so the order of sections
// in Validate does not matter but every message's text does.
func sortedLines(err error) string {
	if err == nil {
		return "<nil>\n"
	}
	lines := strings.Split(err.Error(), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func TestGoldenValidateMessages(t *testing.T) {
	var zero Config
	checkGolden(t, "zero.txt", sortedLines(zero.Validate()))
	t.Chdir(repoPath("."))
	files, _ := filepath.Glob("testdata/config/bad/*.yaml")
	for _, f := range files {
		_, err := Load(f, []string{})
		if err == nil {
			t.Fatalf("%s loaded", f)
		}
		checkGolden(t, "bad-"+strings.TrimSuffix(filepath.Base(f), ".yaml")+".txt", sortedLines(errors.Unwrap(err)))
	}
}

func TestGoldenKeysAndExample(t *testing.T) {
	checkGolden(t, "keys.txt", strings.Join(Keys(), "\n")+"\n")
	t.Chdir(repoPath("."))
	c, err := Load("deploy/chainwatch.example.yaml", []string{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "example.json", string(b)+"\n")
	d, _ := json.MarshalIndent(Default(), "", "  ")
	checkGolden(t, "defaults.json", string(d)+"\n")
}
