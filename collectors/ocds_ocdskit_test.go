package collectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

// ocdsSchemaPath is the OCDS 1.1.5 release schema ocdskit reads its merge rules from (offline).
const ocdsSchemaPath = "../testdata/procurement/ocds-schema/release-schema-1__1__5.json"

// refAward is what chainwatch keeps of an award, derived independently from a compiled release.
type refAward struct {
	Status, Currency, BuyerID                         string
	Date, CompiledAt                                  time.Time
	Value                                             *float64
	SupplierIDs, SupplierNames                        []string
	ItemIDs, ItemDescriptions, ItemSchemes, ItemCodes []string
}

func jstr(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		return t.String()
	}
	return ""
}

func jobj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func jarr(v any) []any          { a, _ := v.([]any); return a }

func orgID(o map[string]any) string {
	if id := jstr(o["id"]); id != "" {
		return id
	}
	return jstr(jobj(o["identifier"])["id"])
}

func orgName(o map[string]any) string {
	if n := jstr(o["name"]); n != "" {
		return n
	}
	return jstr(jobj(o["identifier"])["legalName"])
}

func jtime(t *testing.T, v any) time.Time {
	s := jstr(v)
	if s == "" {
		return time.Time{}
	}
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return d.UTC()
}

// refAwards derives the kept fields of every award of a compiled release (ocdskit's or a record's).
func refAwards(t *testing.T, rel map[string]any) map[string]refAward {
	parties := map[string]map[string]any{}
	buyerID := orgID(jobj(rel["buyer"]))
	for _, p := range jarr(rel["parties"]) {
		pm := jobj(p)
		parties[orgID(pm)] = pm
		for _, r := range jarr(pm["roles"]) {
			if r == "buyer" && buyerID == "" {
				buyerID = orgID(pm)
			}
		}
	}
	compiledAt := jtime(t, rel["date"])
	tender := jobj(rel["tender"])
	out := map[string]refAward{}
	for _, a := range jarr(rel["awards"]) {
		am := jobj(a)
		k := refAward{Status: jstr(am["status"]), BuyerID: buyerID, CompiledAt: compiledAt, Date: jtime(t, am["date"]),
			SupplierIDs: []string{}, SupplierNames: []string{}, ItemIDs: []string{}, ItemDescriptions: []string{},
			ItemSchemes: []string{}, ItemCodes: []string{}}
		if k.Date.IsZero() {
			k.Date = compiledAt
		}
		if v := jobj(am["value"]); v != nil && jstr(v["amount"]) != "" {
			var f float64
			fmt.Sscan(jstr(v["amount"]), &f)
			if cur := strings.ToUpper(jstr(v["currency"])); cur != "" {
				k.Value, k.Currency = &f, cur
			}
		}
		for _, s := range jarr(am["suppliers"]) {
			sm := jobj(s)
			name := orgName(sm)
			if name == "" && parties[orgID(sm)] != nil {
				name = orgName(parties[orgID(sm)])
			}
			k.SupplierIDs, k.SupplierNames = append(k.SupplierIDs, orgID(sm)), append(k.SupplierNames, name)
		}
		items := jarr(am["items"])
		if len(items) == 0 {
			items = jarr(tender["items"])
		}
		for _, it := range items {
			im := jobj(it)
			cl := jobj(im["classification"])
			if cl == nil {
				cl = jobj(tender["classification"])
			}
			desc := jstr(im["description"])
			if desc == "" {
				desc = jstr(cl["description"])
			}
			k.ItemIDs, k.ItemDescriptions = append(k.ItemIDs, jstr(im["id"])), append(k.ItemDescriptions, desc)
			k.ItemSchemes, k.ItemCodes = append(k.ItemSchemes, jstr(cl["scheme"])), append(k.ItemCodes, jstr(cl["id"]))
		}
		if len(items) == 0 && jobj(tender["classification"]) != nil {
			cl := jobj(tender["classification"])
			k.ItemIDs, k.ItemDescriptions = []string{"tender"}, []string{jstr(cl["description"])}
			k.ItemSchemes, k.ItemCodes = []string{jstr(cl["scheme"])}, []string{jstr(cl["id"])}
		}
		out[jstr(rel["ocid"])+" "+jstr(am["id"])] = k
	}
	return out
}

func decodeStream(t *testing.T, r io.Reader) []map[string]any {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

// referenceCompiled returns the compiled releases of one file: ocdskit compile's for releases, the
// records' own compiledRelease for a record package (chainwatch uses those as they are).
func referenceCompiled(t *testing.T, bin, path string) []map[string]any {
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".jsonl") {
		var probe map[string]json.RawMessage
		if json.Unmarshal(body, &probe) == nil && probe["records"] != nil {
			var out []map[string]any
			for _, rec := range decodeStream(t, bytes.NewReader(body))[0]["records"].([]any) {
				out = append(out, jobj(jobj(rec)["compiledRelease"]))
			}
			return out
		}
	}
	args := []string{"compile", "--schema", ocdsSchemaPath}
	if !utf8.Valid(body) {
		args = append([]string{"--encoding", "iso-8859-1"}, args...)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ocdskit %s < %s: %v\n%s", strings.Join(args, " "), path, err, stderr.String())
	}
	return decodeStream(t, bytes.NewReader(out))
}

func chainwatchAwards(t *testing.T, path string) map[string]refAward {
	m := &collectorstest.Memory{}
	st, err := Import(context.Background(), ImportProcurement, path, m, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	if st.RejectedTotal() != 0 {
		t.Fatalf("%s: %d rejects: %+v", path, st.RejectedTotal(), m.Rejects)
	}
	out := map[string]refAward{}
	for _, a := range decodeAll[*schemas.ProcurementAward](t, m.Events) {
		key := a.OCID + " " + a.AwardID
		if _, dup := out[key]; dup {
			t.Errorf("%s: %s emitted twice", path, key)
		}
		out[key] = refAward{Status: a.Status, Currency: a.Currency, BuyerID: a.BuyerID, Date: a.Date, CompiledAt: a.CompiledAt,
			Value: a.Value, SupplierIDs: a.SupplierIDs, SupplierNames: a.SupplierNames, ItemIDs: a.ItemIDs,
			ItemDescriptions: a.ItemDescriptions, ItemSchemes: a.ItemSchemes, ItemCodes: a.ItemCodes}
	}
	return out
}

func fmtKept(k refAward) string {
	v := "<nil>"
	if k.Value != nil {
		v = fmt.Sprint(*k.Value)
	}
	k.Value = nil
	return fmt.Sprintf("value=%s %+v", v, k)
}

// TestOCDSCompileMatchesOcdskitIntegration compiles the real samples (and the hand-made partial
// updates) with `ocdskit compile` and checks that every award chainwatch emits carries what the
// compiled release says, for every ocid and award.
func TestOCDSCompileMatchesOcdskitIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: runs ocdskit")
	}
	bin, err := exec.LookPath("ocdskit")
	if err != nil {
		if ci := os.Getenv("CI"); ci != "" {
			t.Fatalf("ocdskit not found and CI=%s: install it with deploy/local/tools.sh (pip install ocdskit)", ci)
		}
		t.Skip("ocdskit not found: pip install ocdskit (deploy/local/tools.sh); with CI set this test fails instead")
	}
	files, _ := filepath.Glob("../testdata/procurement/uk/*.jsonl")
	more, _ := filepath.Glob("../testdata/procurement/uk_corrections/*.jsonl")
	kit, _ := filepath.Glob("../testdata/procurement/ocdskit/*.json")
	files = append(append(files, more...), kit...)
	synth := filepath.Join(t.TempDir(), "partial.jsonl")
	if err := os.WriteFile(synth, []byte(partialUpdates), 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, synth)
	var ocids, awards int
	for _, f := range files {
		want := map[string]refAward{}
		for _, rel := range referenceCompiled(t, bin, f) {
			ka := refAwards(t, rel)
			if len(ka) > 0 {
				ocids++
			}
			for k, v := range ka {
				want[k] = v
			}
		}
		got := chainwatchAwards(t, f)
		keys := make([]string, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			g, ok := got[k]
			switch {
			case !ok:
				t.Errorf("%s: award %s missing", filepath.Base(f), k)
			case !reflect.DeepEqual(g, want[k]):
				t.Errorf("%s: award %s\n chainwatch %s\n ocdskit    %s", filepath.Base(f), k, fmtKept(g), fmtKept(want[k]))
			}
			awards++
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: award %s is not in the compiled releases", filepath.Base(f), k)
			}
		}
	}
	if awards < 60 {
		t.Errorf("only %d awards compared", awards)
	}
	t.Logf("%d files, %d ocids with awards, %d awards compared with ocdskit compile", len(files), ocids, awards)
}
