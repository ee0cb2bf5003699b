package collectors

import (
	"strings"

	"github.com/chainwatch/chainwatch/schemas"
)

// bomGraph holds the BOM edges accepted so far in one supply map import, to reject the row that
// would close a cycle (parent → … → parent) and to let a BOM line name a component as its parent
// (a bought component's material content, e.g. a GaN device containing gallium).
type bomGraph struct {
	inputs map[string][]string // parent → its inputs, in the order accepted
}

// path returns the BOM path from → … → to over accepted edges (depth first, inputs in the order
// accepted), or nil.
func (b *bomGraph) path(from, to string) []string {
	seen := map[string]bool{}
	var walk func(v string) []string
	walk = func(v string) []string {
		if v == to {
			return []string{v}
		}
		if seen[v] {
			return nil
		}
		seen[v] = true
		for _, c := range b.inputs[v] {
			if p := walk(c); p != nil {
				return append([]string{v}, p...)
			}
		}
		return nil
	}
	return walk(from)
}

// bomParent checks the parent of a BOM line: a product, or a component (material content).
func (p *supplyMapProc) bomParent(id string) *rejectErr {
	if id == "" {
		return rejectf("missing_field", "product_id: required")
	}
	if _, ok := p.ids["products"][id]; ok {
		return nil
	}
	if _, ok := p.ids["components"][id]; ok {
		return nil
	}
	return rejectf("unknown_reference", "product_id: unknown product %q (nor a component)", id)
}

// bomEdge accepts the BOM line parent → input unless it closes a cycle, which is rejected naming
// the cycle. An invalid line is left to Validate (and not recorded).
func (p *supplyMapProc) bomEdge(l *schemas.SupplyLink) *rejectErr {
	if l.Validate() != nil {
		return nil
	}
	parent, input := l.ProductID, l.ComponentID
	if p.bom == nil {
		p.bom = &bomGraph{inputs: map[string][]string{}}
	}
	if parent == input {
		return rejectf("bom_cycle", "component_id: bom cycle %s → %s (an item cannot contain itself)", parent, input)
	}
	if back := p.bom.path(input, parent); back != nil {
		return rejectf("bom_cycle", "component_id: bom cycle %s → %s", parent, strings.Join(back, " → "))
	}
	p.bom.inputs[parent] = append(p.bom.inputs[parent], input)
	return nil
}
