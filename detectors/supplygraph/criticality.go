package supplygraph

import (
	"cmp"
	"slices"
)

// Node kinds that can be removed.
const (
	KindItem       = "item"
	KindSupplier   = "supplier"
	KindEnterprise = "enterprise"
)

// Criticality is the impact of removing one node: the (enterprise, product) pairs that can no longer
// be made and the enterprises that lose at least one product.
//
//	Score = Σ_{cut (e,p)} w(e) + Σ_{enterprises e with a cut product} w(e),  w(e) = leaderWeight if e is 链主 else 1
type Criticality struct {
	Kind           string   `json:"kind"`
	ID             string   `json:"id"`
	ProductsCut    int      `json:"products_cut"`
	EnterprisesCut int      `json:"enterprises_cut"`
	LeadersCut     int      `json:"chain_leaders_cut"`
	Score          float64  `json:"score"`
	Cut            []string `json:"cut"` // "enterprise/product", sorted
}

// cutter evaluates which (enterprise, product) pairs fail when some nodes are gone. A pair fails
// when one of its BOM inputs has no live source: no active supplier that is alive and no live
// in-house maker. Failure only spreads (monotone), so a worklist converges.
type cutter struct {
	g        *Graph
	deadSup  map[int32]bool
	deadEnt  map[int32]bool
	deadItem map[int32]bool
	cut      map[Pair]bool
}

func (c *cutter) hasSource(e, item int32) bool {
	if c.deadItem[item] {
		return false
	}
	for _, s := range c.g.ActiveSupplies(PairOf(e, item)) {
		if !c.deadSup[s.Supplier] {
			return true
		}
	}
	for _, m := range c.g.Makers[item] {
		if !c.cut[PairOf(m, item)] {
			return true
		}
	}
	return false
}

func (c *cutter) fails(e, p int32) bool {
	if c.deadEnt[e] || c.deadItem[p] {
		return true
	}
	for _, in := range c.g.Inputs[p] {
		if !c.hasSource(e, in.Item) {
			return true
		}
	}
	return false
}

// run evaluates the seed pairs and spreads failures downstream.
func (c *cutter) run(seeds []Pair) {
	queue := seeds
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		if c.cut[k] {
			continue
		}
		e, p := k.Split()
		if !c.fails(e, p) {
			continue
		}
		c.cut[k] = true
		for _, u := range c.g.Users[p] {
			for _, m := range c.g.Makers[u] {
				queue = append(queue, PairOf(m, u))
			}
		}
	}
}

// consumers returns the (maker, user) pairs that consume item i.
func (g *Graph) consumers(i int32) []Pair {
	var out []Pair
	for _, u := range g.Users[i] {
		for _, m := range g.Makers[u] {
			out = append(out, PairOf(m, u))
		}
	}
	return out
}

// Remove computes the criticality of one node.
func (g *Graph) Remove(kind string, idx int32, leaderWeight float64) Criticality {
	c := &cutter{g: g, deadSup: map[int32]bool{}, deadEnt: map[int32]bool{}, deadItem: map[int32]bool{}, cut: map[Pair]bool{}}
	var seeds []Pair
	res := Criticality{Kind: kind}
	switch kind {
	case KindSupplier:
		c.deadSup[idx] = true
		res.ID = g.Sups[idx].ID
		for _, k := range g.SupOf[idx] {
			e, it := k.Split()
			for _, u := range g.Users[it] {
				if slices.Contains(g.Makers[u], e) {
					seeds = append(seeds, PairOf(e, u))
				}
			}
		}
	case KindEnterprise:
		c.deadEnt[idx] = true
		res.ID = g.Ents[idx].ID
		for _, p := range g.Makes[idx] {
			seeds = append(seeds, PairOf(idx, p))
		}
	case KindItem:
		res.ID = g.Items[idx].ID
		// The item is gone, and so are the bought items that contain it (material content: BOM
		// inputs of an item nobody in the graph makes).
		dead := []int32{idx}
		c.deadItem[idx] = true
		for i := 0; i < len(dead); i++ {
			for _, m := range g.Makers[dead[i]] {
				seeds = append(seeds, PairOf(m, dead[i]))
			}
			seeds = append(seeds, g.consumers(dead[i])...)
			for _, u := range g.Users[dead[i]] {
				if len(g.Makers[u]) == 0 && !c.deadItem[u] {
					c.deadItem[u] = true
					dead = append(dead, u)
				}
			}
		}
	}
	c.run(seeds)
	ents := map[int32]bool{}
	w := func(e int32) float64 {
		if g.Ents[e].ChainLeader {
			return leaderWeight
		}
		return 1
	}
	for k := range c.cut {
		e, p := k.Split()
		res.ProductsCut++
		res.Score += w(e)
		ents[e] = true
		res.Cut = append(res.Cut, g.Ents[e].ID+"/"+g.Items[p].ID)
	}
	for e := range ents {
		res.EnterprisesCut++
		res.Score += w(e)
		if g.Ents[e].ChainLeader {
			res.LeadersCut++
		}
	}
	slices.Sort(res.Cut)
	return res
}

// Criticalities removes every supplier, every item that is used by another item and every
// enterprise in turn and returns those that cut something, by score (highest first), then kind
// and id.
func (g *Graph) Criticalities(leaderWeight float64) []Criticality {
	var out []Criticality
	add := func(c Criticality) {
		if c.ProductsCut > 0 {
			out = append(out, c)
		}
	}
	for s := range g.Sups {
		add(g.Remove(KindSupplier, int32(s), leaderWeight))
	}
	for i := range g.Items {
		if len(g.Users[i]) > 0 {
			add(g.Remove(KindItem, int32(i), leaderWeight))
		}
	}
	for e := range g.Ents {
		add(g.Remove(KindEnterprise, int32(e), leaderWeight))
	}
	slices.SortFunc(out, func(a, b Criticality) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	return out
}
