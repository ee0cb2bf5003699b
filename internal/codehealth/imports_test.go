package codehealth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	module     = "github.com/chainwatch/chainwatch"
	beginGraph = "<!-- import-graph:begin -->"
	endGraph   = "<!-- import-graph:end -->"
)

type listedPkg struct {
	ImportPath string
	Imports    []string
}

// importGraph returns, for every package of the module (tests excluded), the module packages it
// imports directly, as "pkg: a, b" lines with paths relative to the module.
func importGraph(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = repoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var lines []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.ImportPath == module+"/internal/codehealth" {
			continue
		}
		var deps []string
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				deps = append(deps, rel)
			}
		}
		slices.Sort(deps)
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if len(deps) == 0 {
			deps = []string{"(none)"}
		}
		lines = append(lines, fmt.Sprintf("%s: %s", name, strings.Join(deps, ", ")))
	}
	slices.Sort(lines)
	return lines
}

// TestImportGraphDocumented: the import graph block in docs/CONVENTIONS.md is exactly what
// `go list` reports (CHAINWATCH_UPDATE_GOLDEN=1 rewrites the block).
func TestImportGraphDocumented(t *testing.T) {
	path := filepath.Join(repoRoot(), "docs", "CONVENTIONS.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, beginGraph), strings.Index(s, endGraph)
	if i < 0 || j < i {
		t.Fatalf("docs/CONVENTIONS.md has no %s … %s block", beginGraph, endGraph)
	}
	want := "\n```\n" + strings.Join(importGraph(t), "\n") + "\n```\n"
	got := s[i+len(beginGraph) : j]
	if got == want {
		return
	}
	if os.Getenv("CHAINWATCH_UPDATE_GOLDEN") == "1" {
		s = s[:i+len(beginGraph)] + want + s[j:]
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/CONVENTIONS.md import graph is stale (CHAINWATCH_UPDATE_GOLDEN=1 go test ./internal/codehealth rewrites it); go list says:%s", want)
}

// TestDependencyDirection: data flows one way. schemas and confkit import none of ours; sources,
// sink and detectors never reach alerts, reports, the API or the app; nothing but cmd imports app.
func TestDependencyDirection(t *testing.T) {
	forbidden := map[string][]string{
		"schemas":          {"*"},
		"internal/confkit": {"*"},
		"collectors":       {"detectors", "alerts", "internal/report", "internal/api", "internal/app", "internal/config", "internal/sink"},
		"internal/sink":    {"collectors", "detectors", "alerts", "internal/report", "internal/api", "internal/app", "internal/config"},
		"detectors":        {"collectors", "alerts", "internal/report", "internal/api", "internal/app", "internal/config", "internal/sink"},
		"alerts":           {"collectors", "internal/report", "internal/api", "internal/app", "internal/config", "internal/sink"},
		"internal/report":  {"internal/api", "internal/app", "internal/config"},
		"internal/api":     {"internal/app", "internal/config"},
	}
	for _, line := range importGraph(t) {
		pkg, deps, _ := strings.Cut(line, ": ")
		for prefix, bad := range forbidden {
			if !within(pkg, prefix) {
				continue
			}
			for _, d := range strings.Split(deps, ", ") {
				if d == "(none)" || within(d, prefix) {
					continue
				}
				for _, b := range bad {
					if b == "*" || within(d, b) {
						t.Errorf("%s imports %s: against the data flow", pkg, d)
					}
				}
			}
		}
		if strings.Contains(deps, "internal/app") && !strings.HasPrefix(pkg, "cmd/") {
			t.Errorf("%s imports internal/app: only cmd may", pkg)
		}
	}
}

func within(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }
