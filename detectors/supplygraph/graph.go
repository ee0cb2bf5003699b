// Package supplygraph is the multi-level supply graph: enterprises make products, a product's BOM
// lists items (sub-assemblies, components, materials) with a quantity per parent at any depth, an
// item may be both a product and a component, and suppliers deliver items to enterprises. It is
// built from supply map records (schemas.SupplyNode / SupplyLink / Substitution) and is read-only
// once built. Formulas of the tier-N detectors and criticality are in docs/scoring.md.
package supplygraph

import (
	"fmt"
	"slices"
	"strings"

	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"

	"github.com/chainwatch/chainwatch/schemas"
)

// Item is a product, component or material (one node, whatever roles it has).
type Item struct {
	ID, Name, Category, HSCode string
	Product, Component         bool
}

// Enterprise is a site that makes products.
type Enterprise struct {
	ID, Name, Country, Industry string
	ChainLeader                 bool // 链主
}

// Supplier is an external supplier.
type Supplier struct {
	ID, Name, Country string
	Domestic          bool
}

// Input is one BOM line of a parent item.
type Input struct {
	Item int32
	Qty  float64
}

// Supply is one supplier of an item to an enterprise.
type Supply struct {
	Supplier      int32
	Share         float64
	Qualification string
}

// Stock is an enterprise's inventory of an item.
type Stock struct {
	Units, PerDay float64
}

// Alternate is a substitution-list entry: another supplier (or component) for an item.
type Alternate struct {
	Supplier          int32 // -1 if none
	Item              int32 // -1 if the same item
	QualificationDays float64
}

// Pair keys an (enterprise, item) pair.
type Pair uint64

// PairOf builds the key of enterprise e and item i.
func PairOf(e, i int32) Pair { return Pair(uint64(uint32(e))<<32 | uint64(uint32(i))) }

// Split returns the enterprise and the item of a pair.
func (p Pair) Split() (e, i int32) { return int32(uint32(p >> 32)), int32(uint32(p)) }

// Item returns the item of a pair.
func (p Pair) Item() int32 { return int32(uint32(p)) }

// Graph is the supply graph. Indices are positions in Items, Ents and Sups.
type Graph struct {
	Items []Item
	Ents  []Enterprise
	Sups  []Supplier

	Inputs [][]Input // item → its BOM lines (sorted by child id)
	Users  [][]int32 // item → parent items that use it
	Makers [][]int32 // item → enterprises that make it
	Makes  [][]int32 // enterprise → products it makes
	SupOf  [][]Pair  // supplier → pairs it supplies
	Supply map[Pair][]Supply
	Stocks map[Pair]Stock
	Alts   map[Pair][]Alternate
	// Order lists items so that every item comes after all of its BOM inputs.
	Order []int32

	itemIx, entIx, supIx map[string]int32
}

// Item returns the index of item id, or -1.
func (g *Graph) Item(id string) int32 { return lookup(g.itemIx, id) }

// Ent returns the index of enterprise id, or -1.
func (g *Graph) Ent(id string) int32 { return lookup(g.entIx, id) }

// Sup returns the index of supplier id, or -1.
func (g *Graph) Sup(id string) int32 { return lookup(g.supIx, id) }

func lookup(m map[string]int32, id string) int32 {
	if i, ok := m[id]; ok {
		return i
	}
	return -1
}

// CycleError is a BOM cycle: Path starts and ends with the same item id.
type CycleError struct{ Path []string }

func (e *CycleError) Error() string { return "bom cycle: " + strings.Join(e.Path, " → ") }

// Rejected describes the cycle as a schemas.Rejected (reason bom_cycle, field bom).
func (e *CycleError) Rejected(source string) schemas.Rejected {
	return schemas.Rejected{Stage: "supplygraph", Source: source, Kind: schemas.KindSupplyLink,
		Reason: "bom_cycle", Detail: "bom: " + e.Error(), Raw: []byte(strings.Join(e.Path, ","))}
}

// Builder collects records; Build checks references and cycles.
type Builder struct {
	g     *Graph
	bom   []*schemas.SupplyLink
	links []*schemas.SupplyLink
	subs  []*schemas.Substitution
	// Skipped counts records that refer to unknown nodes (kept out of the graph, reported).
	Skipped []string
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	return &Builder{g: &Graph{itemIx: map[string]int32{}, entIx: map[string]int32{}, supIx: map[string]int32{},
		Supply: map[Pair][]Supply{}, Stocks: map[Pair]Stock{}, Alts: map[Pair][]Alternate{}}}
}

// Add takes one record; kinds other than supply nodes, links and substitutions are ignored.
func (b *Builder) Add(rec schemas.Record) {
	switch r := rec.(type) {
	case *schemas.SupplyNode:
		b.addNode(r)
	case *schemas.SupplyLink:
		if r.LinkType == schemas.LinkBOM {
			b.bom = append(b.bom, r)
		} else {
			b.links = append(b.links, r)
		}
	case *schemas.Substitution:
		b.subs = append(b.subs, r)
	}
}

func (b *Builder) item(id string) int32 {
	g := b.g
	if i, ok := g.itemIx[id]; ok {
		return i
	}
	i := int32(len(g.Items))
	g.Items = append(g.Items, Item{ID: id})
	g.itemIx[id] = i
	return i
}

func (b *Builder) addNode(n *schemas.SupplyNode) {
	g := b.g
	switch n.NodeType {
	case schemas.NodeEnterprise:
		if _, ok := g.entIx[n.NodeID]; !ok {
			g.entIx[n.NodeID] = int32(len(g.Ents))
			g.Ents = append(g.Ents, Enterprise{})
		}
		g.Ents[g.entIx[n.NodeID]] = Enterprise{ID: n.NodeID, Name: n.Name, Country: n.Country, Industry: n.Industry, ChainLeader: n.ChainLeader}
	case schemas.NodeSupplier:
		if _, ok := g.supIx[n.NodeID]; !ok {
			g.supIx[n.NodeID] = int32(len(g.Sups))
			g.Sups = append(g.Sups, Supplier{})
		}
		g.Sups[g.supIx[n.NodeID]] = Supplier{ID: n.NodeID, Name: n.Name, Country: n.Country, Domestic: n.Domestic}
	case schemas.NodeProduct:
		it := &g.Items[b.item(n.NodeID)]
		it.Product = true
		if it.Name == "" {
			it.Name = n.Name
		}
	case schemas.NodeComponent:
		it := &g.Items[b.item(n.NodeID)]
		it.Component, it.Name, it.Category, it.HSCode = true, n.Name, n.Category, n.HSCode
	}
}

// Build links everything, sorts the items topologically and returns a *CycleError if the BOM has a
// cycle.
func (b *Builder) Build() (*Graph, error) {
	g := b.g
	n := len(g.Items)
	g.Inputs, g.Users, g.Makers = make([][]Input, n), make([][]int32, n), make([][]int32, n)
	g.Makes, g.SupOf = make([][]int32, len(g.Ents)), make([][]Pair, len(g.Sups))
	for _, l := range b.bom {
		p, c := g.Item(l.ProductID), g.Item(l.ComponentID)
		if p < 0 || c < 0 {
			b.Skipped = append(b.Skipped, fmt.Sprintf("bom %s → %s: unknown item", l.ProductID, l.ComponentID))
			continue
		}
		g.Inputs[p] = append(g.Inputs[p], Input{Item: c, Qty: l.QtyPerUnit})
		g.Users[c] = append(g.Users[c], p)
	}
	for _, l := range b.links {
		b.addLink(l)
	}
	for _, s := range b.subs {
		b.addSub(s)
	}
	for i := range g.Inputs {
		slices.SortFunc(g.Inputs[i], func(a, b Input) int { return strings.Compare(g.Items[a.Item].ID, g.Items[b.Item].ID) })
		g.Inputs[i] = slices.CompactFunc(g.Inputs[i], func(a, b Input) bool { return a.Item == b.Item })
		slices.Sort(g.Users[i])
		g.Users[i] = slices.Compact(g.Users[i])
	}
	order, err := topoOrder(g)
	if err != nil {
		return nil, err
	}
	g.Order = order
	return g, nil
}

func (b *Builder) addLink(l *schemas.SupplyLink) {
	g := b.g
	e, it := g.Ent(l.EnterpriseID), g.Item(l.ComponentID)
	switch l.LinkType {
	case schemas.LinkMakes:
		p := g.Item(l.ProductID)
		if e < 0 || p < 0 {
			b.Skipped = append(b.Skipped, fmt.Sprintf("makes %s → %s: unknown node", l.EnterpriseID, l.ProductID))
			return
		}
		g.Makers[p] = append(g.Makers[p], e)
		g.Makes[e] = append(g.Makes[e], p)
	case schemas.LinkSupplies:
		s := g.Sup(l.SupplierID)
		if e < 0 || it < 0 || s < 0 {
			b.Skipped = append(b.Skipped, fmt.Sprintf("supplies %s → %s/%s: unknown node", l.SupplierID, l.EnterpriseID, l.ComponentID))
			return
		}
		k := PairOf(e, it)
		g.Supply[k] = append(g.Supply[k], Supply{Supplier: s, Share: l.Share, Qualification: l.Qualification})
		g.SupOf[s] = append(g.SupOf[s], k)
	case schemas.LinkStocks:
		if e < 0 || it < 0 {
			b.Skipped = append(b.Skipped, fmt.Sprintf("stocks %s/%s: unknown node", l.EnterpriseID, l.ComponentID))
			return
		}
		g.Stocks[PairOf(e, it)] = Stock{Units: l.InventoryUnits, PerDay: l.ConsumptionPerDay}
	}
}

func (b *Builder) addSub(s *schemas.Substitution) {
	g := b.g
	it := g.Item(s.ComponentID)
	if it < 0 {
		b.Skipped = append(b.Skipped, fmt.Sprintf("substitution for %s: unknown component", s.ComponentID))
		return
	}
	alt := Alternate{Supplier: g.Sup(s.AltSupplierID), Item: g.Item(s.AltComponentID), QualificationDays: s.QualificationDays}
	ents := []int32{g.Ent(s.EnterpriseID)}
	if s.EnterpriseID == "" {
		ents = ents[:0]
		for e := range g.Ents {
			ents = append(ents, int32(e))
		}
	}
	for _, e := range ents {
		if e >= 0 {
			g.Alts[PairOf(e, it)] = append(g.Alts[PairOf(e, it)], alt)
		}
	}
}

// topoOrder sorts items inputs-first with gonum's topological sort; on a cycle it returns the
// cycle (the smallest strongly connected component, as a closed path) as a *CycleError.
func topoOrder(g *Graph) ([]int32, error) {
	dg := simple.NewDirectedGraph()
	for i := range g.Items {
		dg.AddNode(simple.Node(i))
	}
	for p, ins := range g.Inputs {
		for _, in := range ins {
			if int(in.Item) == p {
				return nil, &CycleError{Path: []string{g.Items[p].ID, g.Items[p].ID}}
			}
			dg.SetEdge(dg.NewEdge(simple.Node(in.Item), simple.Node(p)))
		}
	}
	sorted, err := topo.SortStabilized(dg, nil)
	if err == nil {
		out := make([]int32, len(sorted))
		for i, n := range sorted {
			out[i] = int32(n.ID())
		}
		return out, nil
	}
	var un topo.Unorderable
	if !asUnorderable(err, &un) || len(un) == 0 {
		return nil, fmt.Errorf("supply graph: %w", err)
	}
	comp := un[0]
	for _, c := range un[1:] {
		if len(c) < len(comp) {
			comp = c
		}
	}
	return nil, &CycleError{Path: cyclePath(g, comp)}
}

func asUnorderable(err error, out *topo.Unorderable) bool {
	u, ok := err.(topo.Unorderable)
	*out = u
	return ok
}
