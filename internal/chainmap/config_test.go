package chainmap

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := Chain{ID: "nev", Name: "NEV", Links: []Link{{ID: "a", Name: "A", Components: []string{"C-1"}}, {ID: "b", Name: "B", HSCodes: []string{"8541"}}}}
	tests := []struct {
		name string
		cfg  Config
		want []string // sorted problem lines; nil = valid
	}{
		{"zero", Config{}, nil},
		{"good inline", Config{Chains: []Chain{good}}, nil},
		{"good file", Config{File: write("ok.yaml", "chains:\n  - {id: x, name: X, links: [{id: l, name: L, materials: [C-GA]}]}\n")}, nil},
		{"bad chain", Config{Chains: []Chain{good, {ID: "nev", Name: " ", Links: nil}, {ID: "bad id"}}}, []string{
			`chains[1].id: duplicate chain id "nev"`,
			"chains[1].links: a chain needs at least one link",
			"chains[1].name: required",
			`chains[2].id: "bad id" is not an id (letters, digits, _ . -; 1..64 characters)`,
			"chains[2].links: a chain needs at least one link",
			"chains[2].name: required",
		}},
		{"bad links", Config{Chains: []Chain{{ID: "c", Name: "C", Links: []Link{
			{ID: "a", Name: "A"},
			{ID: "a", Name: "A2", Components: []string{""}, Materials: []string{" "}, HSCodes: []string{"85x"}},
		}}}}, []string{
			`chains[0].links[0]: a link needs components, materials or hs_codes`,
			`chains[0].links[1].components[0]: "" is not a node id`,
			`chains[0].links[1].hs_codes[0]: "85x" is not an HS code (2 to 10 digits)`,
			`chains[0].links[1].id: duplicate link id "a"`,
			`chains[0].links[1].materials[0]: " " is not a node id`,
		}},
		{"missing file", Config{File: filepath.Join(dir, "nope.yaml")}, []string{"file: read chains file: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"}},
		{"unknown key in file", Config{File: write("typo.yaml", "chains:\n  - {id: x, name: X, linkz: []}\n")}, []string{"file: parse " + filepath.Join(dir, "typo.yaml") + ": yaml: unmarshal errors: line 2: field linkz not found"}},
		{"empty file", Config{File: write("empty.yaml", "")}, []string{"file: " + filepath.Join(dir, "empty.yaml") + ": no chains"}},
		{"duplicate across", Config{Chains: []Chain{good}, File: write("dup.yaml", "chains:\n  - {id: nev, name: X, links: [{id: l, name: L, components: [P]}]}\n")},
			[]string{`file.chains[0].id: chain id "nev" is also defined inline`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected problems: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no problems, want %q", tc.want)
			}
			got := strings.Split(err.Error(), "\n")
			sort.Strings(got)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems %q, want %q", len(got), got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestDemoChainsFile: the shipped demo chains load, in file order, after the inline ones.
func TestDemoChainsFile(t *testing.T) {
	cfg := Config{File: "../../deploy/demo/chains.yaml", Chains: []Chain{{ID: "inline", Name: "I", Links: []Link{{ID: "l", Name: "L", Components: []string{"X"}}}}}}
	chains, err := cfg.Load()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range chains {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"inline", "nev", "semiconductors", "robots"}) {
		t.Errorf("chain ids %v", ids)
	}
	if _, err := (Config{File: "../../deploy/demo/missing.yaml"}).Load(); err == nil {
		t.Error("missing file loaded")
	}
}
