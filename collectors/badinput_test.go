package collectors

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

// badInputDir holds the bad-input corpus: one directory per importer, each with a manifest.yaml
// naming the import kind and, per case (a file or a directory), what it must produce.
const badInputDir = "../testdata/badinput"

// badInputManifest is testdata/badinput/<importer>/manifest.yaml.
type badInputManifest struct {
	Kind  string         `yaml:"kind"`
	Cases []badInputCase `yaml:"cases"`
}

// badInputCase is the expected outcome of importing one corpus file. Rejects lists
// "<reason> <field>" (the field must appear in the reject's detail), one entry per reject, in any
// order. Error, when set, is a substring of the import error (a whole-file problem).
type badInputCase struct {
	File       string   `yaml:"file"`
	Emitted    int64    `yaml:"emitted"`
	Skipped    int64    `yaml:"skipped"`
	Duplicates int64    `yaml:"duplicates"`
	Rejects    []string `yaml:"rejects"`
	Error      string   `yaml:"error"`
	// Escaped lists strings that must reach the events unchanged (injection payloads are data).
	Verbatim []string `yaml:"verbatim"`
}

func TestBadInputCorpus(t *testing.T) {
	dirs, err := os.ReadDir(badInputDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			dir := filepath.Join(badInputDir, d.Name())
			b, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var man badInputManifest
			if err := yaml.Unmarshal(b, &man); err != nil {
				t.Fatalf("manifest: %v", err)
			}
			checkManifestComplete(t, dir, man)
			for _, c := range man.Cases {
				t.Run(c.File, func(t *testing.T) {
					runBadInputCase(t, man.Kind, filepath.Join(dir, c.File), c)
				})
			}
		})
	}
}

// checkManifestComplete fails when a corpus file has no manifest entry (or the other way round).
func checkManifestComplete(t *testing.T, dir string, man badInputManifest) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range man.Cases {
		listed = append(listed, c.File)
	}
	for _, e := range ents {
		if e.Name() != "manifest.yaml" && !slices.Contains(listed, e.Name()) {
			t.Errorf("%s: no manifest entry", e.Name())
		}
	}
	for _, f := range listed {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("manifest lists %s: %v", f, err)
		}
	}
}

func runBadInputCase(t *testing.T, kind, path string, c badInputCase) {
	t.Helper()
	m := &collectorstest.Memory{}
	st, err := Import(context.Background(), kind, path, m, testOpts())
	if os.Getenv("CHAINWATCH_BADINPUT_PRINT") != "" {
		printOutcome(path, st, m, err)
	}
	checkStats(t, m, st)
	if st.Read != st.Emitted+st.RejectedTotal()+st.Skipped+st.Duplicates {
		t.Errorf("read %d != emitted %d + rejected %d + skipped %d + duplicates %d",
			st.Read, st.Emitted, st.RejectedTotal(), st.Skipped, st.Duplicates)
	}
	switch {
	case c.Error == "" && err != nil:
		t.Errorf("import error: %v", err)
	case c.Error != "" && (err == nil || !strings.Contains(err.Error(), c.Error)):
		t.Errorf("import error %v, want one containing %q", err, c.Error)
	}
	if st.Emitted != c.Emitted || st.Skipped != c.Skipped || st.Duplicates != c.Duplicates {
		t.Errorf("emitted %d skipped %d duplicates %d, want %d %d %d", st.Emitted, st.Skipped, st.Duplicates,
			c.Emitted, c.Skipped, c.Duplicates)
	}
	matchRejects(t, m, c.Rejects)
	for _, v := range c.Verbatim {
		if !slices.ContainsFunc(m.Events, func(e schemas.Envelope) bool { return strings.Contains(string(e.Payload), v) }) {
			t.Errorf("no event carries %q verbatim", v)
		}
	}
}

// matchRejects pairs every reject with one "<reason> <field>" entry of want.
func matchRejects(t *testing.T, m *collectorstest.Memory, want []string) {
	t.Helper()
	left := slices.Clone(want)
	for _, r := range m.Rejects {
		i := slices.IndexFunc(left, func(w string) bool {
			reason, field, _ := strings.Cut(w, " ")
			return r.Reason == reason && strings.Contains(r.Detail, field)
		})
		if i < 0 {
			t.Errorf("unexpected reject at %s: %s: %s", r.Location, r.Reason, r.Detail)
			continue
		}
		if len(r.Raw) == 0 {
			t.Errorf("reject at %s (%s) has no raw bytes", r.Location, r.Reason)
		}
		left = slices.Delete(left, i, i+1)
	}
	for _, w := range left {
		t.Errorf("missing reject %q", w)
	}
}

func printOutcome(path string, st Stats, m *collectorstest.Memory, err error) {
	fmt.Printf("== %s: read %d emitted %d skipped %d dup %d err %v\n", path, st.Read, st.Emitted, st.Skipped, st.Duplicates, err)
	for _, r := range m.Rejects {
		d := r.Detail
		if len(d) > 200 {
			d = d[:200]
		}
		fmt.Printf("   - %s @%s: %s (raw %d)\n", r.Reason, r.Location, d, len(r.Raw))
	}
}

// generatedCase is a bad input too big to commit: written by gen into a temporary file named
// name, then imported like a corpus case.
type generatedCase struct {
	kind, name string
	gen        func() []byte
	want       badInputCase
}

const twentyMB = 20 << 20

func deepJSON(depth int) []byte {
	return append(append(bytes.Repeat([]byte("["), depth), '1'), bytes.Repeat([]byte("]"), depth)...)
}

func generatedCases() []generatedCase {
	big := strings.Repeat("x", twentyMB)
	deep := string(deepJSON(100_000))
	tradeH := "reporterCode,partnerCode,flowCode,cmdCode,refYear,primaryValue\n"
	availH := "mpn,manufacturer,distributor,stock,as_of\n"
	ocds := func(supplier string) string {
		return `{"ocid":"ocds-big-1","id":"r1","date":"2025-02-01T10:00:00Z","awards":[{"id":"a1","date":"2025-01-30",` +
			`"suppliers":[{"id":"S1","name":"` + supplier + `"}]}]}` + "\n"
	}
	return []generatedCase{
		{ImportTrade, "big.csv", func() []byte { return []byte(tradeH + "842,156,M," + big + ",2023,5\n842,156,M,811292,2023,5\n") },
			badInputCase{Emitted: 1, Rejects: []string{"unsupported_hs_code cmdCode"}}},
		{ImportTrade, "deep.json", func() []byte { return []byte(`{"data":[{"reporterCode":842,"x":` + deep + `}]}`) },
			badInputCase{Error: "exceeded max depth"}},
		{ImportBACI, "BACI_HS17_Y2022_big.csv", func() []byte { return []byte("t,i,j,k,v,q\n2022,156,842,811292," + big + ",1\n") },
			badInputCase{Rejects: []string{"bad_number v"}}},
		{ImportProduction, "mcs2024-gallium_world.csv", func() []byte {
			return []byte("Source,Country,Type,Prod_t_2022\nMCS2024," + big + ",Mine production,5\nMCS2024,China,Mine production,5\n")
		}, badInputCase{Emitted: 1, Rejects: []string{"too_large country"}}},
		{ImportProcurement, "big.jsonl", func() []byte { return []byte(ocds(big) + strings.Replace(ocds("Acme"), "ocds-big-1", "ocds-big-2", 1)) },
			badInputCase{Emitted: 1, Rejects: []string{"too_large supplier_names"}}},
		{ImportProcurement, "deep.jsonl", func() []byte { return []byte(`{"ocid":"ocds-deep","id":"r1","x":` + deep + "}\n" + ocds("Acme")) },
			badInputCase{Emitted: 1, Rejects: []string{"bad_json exceeded max depth"}}},
		{ImportAvailability, "big.csv", func() []byte { return []byte(availH + "P1," + big + ",X,5,2025-05-01\nP2,ST,X,5,2025-05-01\n") },
			badInputCase{Emitted: 1, Rejects: []string{"too_large manufacturer"}}},
		{ImportAvailability, "deep.jsonl", func() []byte {
			return []byte(`{"mpn":"P1","mfr":"ST","distributor":"X","stock":5,"as_of":"2025-05-01"}` + "\n" + `{"mpn":` + deep + "}\n")
		}, badInputCase{Emitted: 1, Rejects: []string{"bad_json not a JSON value"}}},
		{ImportAvailability, "mouser_deep.json", func() []byte {
			return []byte(`{"Errors":[],"SearchResults":{"NumberOfResult":1,"Parts":[{"ManufacturerPartNumber":` + deep + `}]}}`)
		}, badInputCase{Rejects: []string{"bad_json exceeded max depth"}}},
		{ImportSubstitution, "big.csv", func() []byte {
			return []byte("component_id,alt_component_id,qualification_days,notes,as_of\nC1,C1-CN,90," + big + ",2025-05-01\nC2,C2-CN,90,,2025-05-01\n")
		}, badInputCase{Emitted: 1, Rejects: []string{"too_large notes"}}},
		{ImportSubstitution, "deep.yaml", func() []byte { return []byte("substitutions: " + deep + "\n") },
			badInputCase{Error: "exceeded max depth"}},
		{ImportSupplyMap, "deep.yaml", func() []byte { return []byte("enterprises: " + deep + "\n") },
			badInputCase{Error: "exceeded max depth"}},
		{ImportWillems, "willems_94.csv", func() []byte {
			return []byte("/@from,/@to,/@stageName,/@stageClassification\n,," + big + ",Manuf\n")
		}, badInputCase{Emitted: 1, Rejects: []string{"too_large name", "too_large product_id"}}},
	}
}

// TestBadInputGenerated imports the cases too big to commit: a 20 MB record and JSON / YAML nested
// 100,000 deep, for every importer kind.
func TestBadInputGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20 MB files")
	}
	// Give the memory back and reset the peak RSS (VmHWM), which TestOCDSImportPeakRSS measures in
	// this same process.
	t.Cleanup(func() {
		debug.FreeOSMemory()
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	})
	for _, c := range generatedCases() {
		t.Run(c.kind+"/"+c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.name)
			if err := os.WriteFile(path, c.gen(), 0o644); err != nil {
				t.Fatal(err)
			}
			runBadInputCase(t, c.kind, path, c.want)
		})
	}
}
