package supplygraph

import (
	"cmp"
	"slices"
)

// Source kinds of a single-source finding.
const (
	SourceSupplier = "supplier" // an external supplier
	SourceStage    = "stage"    // an in-house stage (the input is a product made by an enterprise)
)

// Reach is what a node feeds: the products downstream of it (itself included when it is a product)
// and the enterprises that make them, both sorted by id.
type Reach struct {
	Enterprises []string `json:"enterprises"`
	Products    []string `json:"products"`
}

// SingleSource is a stage-level single-source finding: input Input of Product (made by
// Enterprise) comes from exactly one upstream node, Source.
type SingleSource struct {
	Enterprise string `json:"enterprise_id"`
	Product    string `json:"product_id"`
	Input      string `json:"input_id"`
	Source     string `json:"source_id"`
	SourceKind string `json:"source_kind"`
	// Tier is the distance of Product from the nearest end product (0 = an end product).
	Tier int `json:"tier"`
	Reach
}

// FedByOne is an item whose BOM has exactly one upstream item (Willems: a stage fed by exactly one
// upstream stage).
type FedByOne struct {
	Item     string `json:"item_id"`
	Upstream string `json:"upstream_id"`
	Tier     int    `json:"tier"`
	Reach
}

// Tiers returns each item's distance to the nearest end product (an item no other item uses);
// -1 for items that reach no end product (cannot happen in an acyclic graph).
func (g *Graph) Tiers() []int {
	t := make([]int, len(g.Items))
	for i := len(g.Order) - 1; i >= 0; i-- {
		v := g.Order[i]
		if len(g.Users[v]) == 0 {
			t[v] = 0
			continue
		}
		best := -1
		for _, u := range g.Users[v] {
			if best < 0 || t[u]+1 < best {
				best = t[u] + 1
			}
		}
		t[v] = best
	}
	return t
}

// ReachOf walks downstream of item i through the BOM users.
func (g *Graph) ReachOf(i int32) Reach {
	seen := map[int32]bool{i: true}
	queue := []int32{i}
	ents := map[string]bool{}
	var r Reach
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		if g.Items[v].Product || len(g.Makers[v]) > 0 {
			r.Products = append(r.Products, g.Items[v].ID)
			for _, e := range g.Makers[v] {
				ents[g.Ents[e].ID] = true
			}
		}
		for _, u := range g.Users[v] {
			if !seen[u] {
				seen[u] = true
				queue = append(queue, u)
			}
		}
	}
	slices.Sort(r.Products)
	for e := range ents {
		r.Enterprises = append(r.Enterprises, e)
	}
	slices.Sort(r.Enterprises)
	return r
}

// ActiveSupplies are the supplies of pair k that deliver today: share > 0 and not disqualified.
func (g *Graph) ActiveSupplies(k Pair) []Supply {
	var out []Supply
	for _, s := range g.Supply[k] {
		if s.Share > 0 && s.Qualification != "disqualified" {
			out = append(out, s)
		}
	}
	return out
}

// SingleSources lists, for every (enterprise, product) and every BOM input at any depth, the inputs
// that come from exactly one upstream node: one active supplier and no in-house maker, or one
// in-house maker and no active supplier. Sorted by tier (deepest first), then ids.
func (g *Graph) SingleSources() []SingleSource {
	tiers := g.Tiers()
	reach := map[int32]Reach{}
	var out []SingleSource
	for _, p := range g.Order {
		for _, e := range g.Makers[p] {
			for _, in := range g.Inputs[p] {
				sups := g.ActiveSupplies(PairOf(e, in.Item))
				makers := g.Makers[in.Item]
				if len(sups)+len(makers) != 1 {
					continue
				}
				f := SingleSource{Enterprise: g.Ents[e].ID, Product: g.Items[p].ID, Input: g.Items[in.Item].ID, Tier: tiers[p]}
				if len(sups) == 1 {
					f.Source, f.SourceKind = g.Sups[sups[0].Supplier].ID, SourceSupplier
				} else {
					f.Source, f.SourceKind = g.Ents[makers[0]].ID+"/"+g.Items[in.Item].ID, SourceStage
				}
				if _, ok := reach[p]; !ok {
					reach[p] = g.ReachOf(p)
				}
				f.Reach = reach[p]
				out = append(out, f)
			}
		}
	}
	slices.SortFunc(out, func(a, b SingleSource) int {
		return cmp.Or(cmp.Compare(b.Tier, a.Tier), cmp.Compare(a.Enterprise, b.Enterprise),
			cmp.Compare(a.Product, b.Product), cmp.Compare(a.Input, b.Input))
	})
	return out
}

// FedByOneUpstream lists the items whose BOM has exactly one (distinct) upstream item, sorted by id.
func (g *Graph) FedByOneUpstream() []FedByOne {
	tiers := g.Tiers()
	var out []FedByOne
	for i, ins := range g.Inputs {
		if len(ins) != 1 {
			continue
		}
		out = append(out, FedByOne{Item: g.Items[i].ID, Upstream: g.Items[ins[0].Item].ID, Tier: tiers[i], Reach: g.ReachOf(int32(i))})
	}
	slices.SortFunc(out, func(a, b FedByOne) int { return cmp.Compare(a.Item, b.Item) })
	return out
}
