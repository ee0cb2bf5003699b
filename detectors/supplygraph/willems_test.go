package supplygraph_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// directWillemsCounts reads a Willems chain CSV on its own (not through collectors): the columns
// ending in @from / @to give the arcs, the @stageName / @stageClassification columns the stages.
// It returns the number of stages fed by exactly one distinct upstream stage and the stage count.
func directWillemsCounts(t *testing.T, path string) (fedByOne, stages int, fed map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	from, to, name := -1, -1, -1
	up := map[string]map[string]bool{}
	names := map[string]bool{}
	for _, row := range rows {
		if from < 0 {
			for i, h := range row {
				switch {
				case strings.HasSuffix(h, "@from"):
					from = i
				case strings.HasSuffix(h, "@to"):
					to = i
				case strings.HasSuffix(h, "@stageName"):
					name = i
				}
			}
			continue
		}
		if from < len(row) && to < len(row) && row[from] != "" && row[to] != "" {
			if up[row[to]] == nil {
				up[row[to]] = map[string]bool{}
			}
			up[row[to]][row[from]] = true
		}
		if name < len(row) && row[name] != "" {
			names[row[name]] = true
		}
	}
	if from < 0 || to < 0 || name < 0 {
		t.Fatalf("%s: no @from/@to/@stageName header", path)
	}
	fed = map[string]bool{}
	for s, u := range up {
		if len(u) == 1 {
			fedByOne++
			fed[s] = true
		}
	}
	return fedByOne, len(names), fed
}

func TestWillemsFedByOneMatchesCSV(t *testing.T) {
	files, err := filepath.Glob("../../testdata/supplymap/willems/chains/willems_*.csv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Willems chains in testdata: %v", err)
	}
	// All 38 chains of the shared data set as well, where it is present (not under -short).
	if shared, _ := filepath.Glob("../../../shared/data/willems2008_msom_supply_chains/chains/willems_*.csv"); len(shared) > 0 && !testing.Short() {
		files = append(files, shared...)
	}
	for _, path := range files {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(path)))+"/"+filepath.Base(path), func(t *testing.T) {
			want, stages, wantSet := directWillemsCounts(t, path)
			g, em := importGraph(t, "willems", path)
			if len(em.rejects) > 0 {
				t.Fatalf("import rejected %d rows, first %+v", len(em.rejects), em.rejects[0])
			}
			got := g.FedByOneUpstream()
			if len(got) != want {
				t.Errorf("fed by exactly one upstream stage: graph %d, CSV %d", len(got), want)
			}
			pre := "w" + strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "willems_"), ".csv") + "-"
			for _, f := range got {
				if !wantSet[strings.TrimPrefix(f.Item, pre)] {
					t.Errorf("%s flagged but not fed by exactly one stage in the CSV", f.Item)
				}
				if len(f.Enterprises) != 1 || len(f.Products) == 0 {
					t.Errorf("%s: reach %+v, want the chain's enterprise and ≥1 product", f.Item, f.Reach)
				}
			}
			t.Logf("%s: %d stages, %d fed by exactly one upstream stage, %d items", filepath.Base(path), stages, want, len(g.Items))
		})
	}
}
