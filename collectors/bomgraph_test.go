package collectors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

func TestSupplyMapMultiLevelBOMAndCycle(t *testing.T) {
	y := `
enterprises:
  - {id: E1, name: E1, country: CHN}
components:
  - {id: C-GAN, name: GaN HEMT, category: high_end_chip, hs_code: "854141"}
  - {id: C-GA, name: gallium, category: key_material, hs_code: "811292"}
  - {id: SUB, name: sub-assembly}
products:
  - {id: P, name: P, enterprise_id: E1}
  - {id: SUB, name: sub-assembly, enterprise_id: E1}
bom:
  - {product_id: P, component_id: SUB, qty_per_unit: 2}
  - {product_id: SUB, component_id: C-GAN, qty_per_unit: 3}
  - {product_id: C-GAN, component_id: C-GA, qty_per_unit: 0.001}
  - {product_id: C-GA, component_id: SUB, qty_per_unit: 1}
  - {product_id: SUB, component_id: SUB, qty_per_unit: 1}
`
	path := filepath.Join(t.TempDir(), "map.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	m, st := importT(t, ImportSupplyMap, path, testOpts())
	if st.Rejected["bom_cycle"] != 2 || st.RejectedTotal() != 2 {
		t.Fatalf("stats %+v", st)
	}
	var details []string
	for _, r := range m.Rejects {
		details = append(details, r.Detail)
	}
	want := "component_id: bom cycle C-GA → SUB → C-GAN → C-GA"
	if !strings.Contains(strings.Join(details, "\n"), want) {
		t.Errorf("rejects %q, want one naming %q", details, want)
	}
	links, err := collectorstest.Decode[*schemas.SupplyLink](m.ByKind(schemas.KindSupplyLink))
	if err != nil {
		t.Fatal(err)
	}
	bom := 0
	for _, l := range links {
		if l.LinkType == schemas.LinkBOM {
			bom++
		}
	}
	if bom != 3 {
		t.Errorf("%d BOM links stored, want 3 (P→SUB, SUB→C-GAN, C-GAN→C-GA)", bom)
	}
}
