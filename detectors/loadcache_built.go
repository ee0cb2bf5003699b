package detectors

import (
	"maps"
	"slices"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// Built parts: what a Load's replay made of some recorders, taken by the next Load that replays the
// same recorders instead of replaying them again (docs/scoring.md, "Loading, the table cache and
// the rescore").
//
// A reused table's recorder is the same object in the next run, and three groups of the Builder's
// state are a function of their recorders alone (and of the configuration, whose change empties
// the cache, so no recorder is the same then):
//   - the nodes: supply_nodes is replayed first, and its replay interns the node ids (the first
//     ids, in order) and fills the four node maps, which nothing after it writes;
//   - the trade aggregates: trade_totals and trade_partners fill the export and import totals, the
//     mirror and home imports and the M49 → ISO3 table, which nothing else writes (Inputs prunes
//     the old years in place, the same years each time);
//   - the production aggregates: production_stats fills production and the World totals.
// A later Load whose step has the same recorder takes the part: the maps are shared (no Inputs
// writes to them once built), the ids copied and their index cloned (the Builder goes on interning
// the links' ids into its own). TestLoadCacheIntegration compares each cached load with an uncached
// one and checks what was shared.

// builtParts are the parts of one Load's Inputs (nil: not made from a cached recorder's replay).
type builtParts struct {
	nodes *builtNodes
	links *builtLinks
	trade *builtTrade
	prod  *builtProd
}

// builtLinks is the Builder's state after the nodes part and the supply links' recorded rows, before
// a delta's overlay: the ids those rows interned after the nodes', and the edges. A later load
// whose supply_links recorder has the same recorded rows (reused, or a delta over them) on the
// same nodes part takes a copy and patches the overlay in (patch), instead of replaying a million
// rows.
type builtLinks struct {
	nodes     *builtNodes
	rows      *recorder // its recorded rows (and string table) are these links'
	ids       []string
	index     map[string]int32 // a copy
	supplies  []SupplyEdge
	bom       []BOMEdge
	makes     []MakesEdge
	stocks    map[uint64]StockEdge
	stockLast []bool // per recorded stocks link, in order: no later one has its pair
}

type builtNodes struct {
	rec                  *recorder
	ids                  []string         // the ids the nodes interned, in order
	index                map[string]int32 // their index, a copy
	ent, sup, comp, prod map[int32]*NodeInfo
}

type builtTrade struct {
	totals, partners           *recorder
	exportTotals, importTotals map[tradeKey]*tradeTotals
	mirror, homeImports        map[tradeKey]float64
	iso3                       map[uint16]string
}

type builtProd struct {
	rec        *recorder
	production map[prodKey][]prodRow
	worldProd  map[prodKey]prodRow
}

// replayer replays one Load's recorders into its Builder in loadSteps order, taking the last
// Load's parts where their recorders are the same, and keeps the parts of this one.
type replayer struct {
	b    *Builder
	keep bool // make this Load's parts (there is a cache to keep them in)
	last builtParts
	next builtParts
	// totals is trade_totals' recorder; totalsWait says it waits for trade_partners's (the two
	// are taken together, or replayed in order)
	totals     *recorder
	totalsWait bool
}

// step replays (or takes) loadSteps[i]'s recorder r.
func (p *replayer) step(i int, r *recorder) {
	b, in := p.b, p.b.in
	switch loadSteps[i].name {
	case "supply_nodes":
		if n := p.last.nodes; n != nil && n.rec == r && len(in.ids) == 0 {
			in.ids = append(make([]string, 0, len(n.ids)*5/4), n.ids...)
			in.index = maps.Clone(n.index)
			in.Enterprises, in.Suppliers, in.Components, in.Products = n.ent, n.sup, n.comp, n.prod
			p.next.nodes = n
			return
		}
		first := len(in.ids) == 0
		r.replay(b)
		if first && p.keep {
			p.next.nodes = &builtNodes{rec: r, ids: slices.Clip(in.ids), index: maps.Clone(in.index),
				ent: in.Enterprises, sup: in.Suppliers, comp: in.Components, prod: in.Products}
		}
	case "supply_links":
		n := p.next.nodes
		afterNodes := n != nil && len(in.ids) == len(n.ids) // nothing interned since the nodes part
		if l := p.last.links; l != nil && afterNodes && l.nodes == n && sameRows(l.rows, r) {
			l.take(b)
			l.patch(b, r)
			p.next.links = l
			return
		}
		if !p.keep || !afterNodes || r.links.len() == 0 {
			r.replay(b)
			return
		}
		rows := *r
		rows.overlay = nil
		rows.replayLinks(b)
		l := newBuiltLinks(b, n, r)
		l.patch(b, r)
		p.next.links = l
	case "trade_totals":
		p.totals = r
		if t := p.last.trade; t != nil && t.totals == r {
			p.totalsWait = true
			return
		}
		r.replay(b)
	case "trade_partners":
		if t := p.last.trade; p.totalsWait && t.partners == r {
			in.exportTotals, in.importTotals, in.mirror, in.homeImports, in.iso3 = t.exportTotals, t.importTotals, t.mirror, t.homeImports, t.iso3
			p.next.trade = t
			return
		}
		if p.totalsWait {
			p.totals.replay(b)
		}
		r.replay(b)
		if p.keep && p.totals != nil {
			p.next.trade = &builtTrade{totals: p.totals, partners: r, exportTotals: in.exportTotals, importTotals: in.importTotals,
				mirror: in.mirror, homeImports: in.homeImports, iso3: in.iso3}
		}
	case "production_stats":
		if pr := p.last.prod; pr != nil && pr.rec == r {
			in.production, in.worldProd = pr.production, pr.worldProd
			p.next.prod = pr
			return
		}
		r.replay(b)
		if p.keep {
			p.next.prod = &builtProd{rec: r, production: in.production, worldProd: in.worldProd}
		}
	default:
		r.replay(b)
	}
}

// sameRows reports whether two supply_links recorders hold the same recorded rows (a delta's
// recorder shares its base's).
func sameRows(a, b *recorder) bool {
	x, y := a.links.blocks, b.links.blocks
	return len(x) == len(y) && len(x) > 0 && &x[0] == &y[0] && len(x[len(x)-1]) == len(y[len(y)-1])
}

// newBuiltLinks keeps the Builder's state after r's recorded rows (replayed on the nodes part n).
func newBuiltLinks(b *Builder, n *builtNodes, r *recorder) *builtLinks {
	in := b.in
	l := &builtLinks{nodes: n, rows: r, ids: slices.Clip(in.ids), index: maps.Clone(in.index),
		supplies: slices.Clone(in.Supplies), bom: slices.Clone(in.BOM), makes: slices.Clone(in.Makes), stocks: maps.Clone(in.Stocks)}
	stocks, ok := r.strs.idx[schemas.LinkStocks]
	if !ok {
		return l
	}
	var pairs []uint64 // per recorded stocks link, its (enterprise, component) in the recorder's ids
	r.links.each(func(x *linkRow) {
		if x.typ == stocks {
			pairs = append(pairs, uint64(x.ent)<<32|uint64(x.comp))
		}
	})
	l.stockLast = make([]bool, len(pairs))
	later := make(map[uint64]bool, len(pairs))
	for i := len(pairs) - 1; i >= 0; i-- {
		l.stockLast[i] = !later[pairs[i]]
		later[pairs[i]] = true
	}
	return l
}

// take gives the Builder a copy of the part (its ids extended and its edges patched later).
func (l *builtLinks) take(b *Builder) {
	in := b.in
	in.ids = append(make([]string, 0, len(l.ids)+len(l.ids)/8), l.ids...)
	in.index = maps.Clone(l.index)
	in.Supplies, in.BOM, in.Makes = slices.Clone(l.supplies), slices.Clone(l.bom), slices.Clone(l.makes)
	in.Stocks = maps.Clone(l.stocks)
}

// patch applies r's overlay to the Builder's copy of the part as the replay does (replayLinks): each
// recorded link whose key the overlay has, unless the recorded one is newer, is replaced in place
// (a stocks link only when it is the last recorded one of its pair: the last one wins), then the
// overlay's new keys are added in its order.
func (l *builtLinks) patch(b *Builder, r *recorder) {
	ov := r.overlay
	if ov == nil {
		return
	}
	kind := map[uint32]byte{}
	for _, t := range []string{schemas.LinkSupplies, schemas.LinkBOM, schemas.LinkMakes, schemas.LinkStocks} {
		if id, ok := r.strs.idx[t]; ok {
			kind[id] = linkKind(t)
		}
	}
	used := make([]bool, len(ov.rows))
	var pos [256]int // per kind, the position of the next recorded link in its list
	r.links.each(func(x *linkRow) {
		k, ok := kind[x.typ]
		if !ok {
			return
		}
		at := pos[k]
		pos[k]++
		i, hit := ov.base[[5]uint32{x.typ, x.ent, x.prod, x.comp, x.sup}]
		if !hit {
			return
		}
		used[i] = true
		if time.Unix(x.asOf, int64(x.asOfNs)).After(ov.rows[i].AsOf) || k == 'k' && !l.stockLast[at] {
			return
		}
		row := &ov.rows[i]
		b.putLink(row, &linkIDs{in: b.in, l: row}, k != 'k', at)
	})
	for i := range used {
		if !used[i] {
			row := ov.rows[i]
			b.AddLink(&row)
		}
	}
}
