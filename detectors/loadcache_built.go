package detectors

import (
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

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
//
// The supply links (builtLinks) are replayed after the nodes, so their edges and the ids they
// intern are a function of the nodes part and the links' recorder. A later Load that took the same
// nodes part, and whose links recorder is the same or that recorder with a delta's overlay
// (withLinkDelta), starts from copies of the last edges and patches them (patchLinks) instead of
// replaying a million rows: TestPatchLinksMatchesReplay holds the result to the replay's.

// builtParts are the parts of one Load's Inputs (nil: not made from a cached recorder's replay).
type builtParts struct {
	nodes *builtNodes
	links *builtLinks
	trade *builtTrade
	prod  *builtProd
}

// builtLinks is what a Load's supply links step made: the Inputs' edges and ids just after it.
// Its slices and map are the Inputs' own, which nothing writes once built; a Load that takes them
// copies them first.
type builtLinks struct {
	nodes    *builtNodes // the nodes part the links were replayed on
	rec      *recorder   // the links' recorder (its overlay folded into it once the Load succeeded)
	ids      []string    // the Inputs' ids after the links, and their index
	index    map[string]int32
	supplies []SupplyEdge
	bom      []BOMEdge
	makes    []MakesEdge
	stocks   map[uint64]StockEdge
	patched  bool // made by patchLinks (for the tests)
}

type builtNodes struct {
	rec                  *recorder
	ids                  []string         // the ids the nodes interned, in order
	index                map[string]int32 // their index, a copy
	ent, sup, comp, prod map[int32]*NodeInfo
	// digest is nodesDigest of the maps, taken once (by the first pair step on them): the maps
	// do not change once built.
	digestOnce sync.Once
	digest     uint64
}

// nodesDigest returns the digest of the part's enterprise, supplier and component maps
// (nodesDigest), taken at the first call.
func (n *builtNodes) nodesDigest() uint64 {
	n.digestOnce.Do(func() { n.digest = nodesDigest(n.ent, n.sup, n.comp) })
	return n.digest
}

// recorders lists the recorders the parts were made from.
func (b *builtParts) recorders() []*recorder {
	var out []*recorder
	if b.nodes != nil {
		out = append(out, b.nodes.rec)
	}
	if b.trade != nil {
		out = append(out, b.trade.totals, b.trade.partners)
	}
	if b.prod != nil {
		out = append(out, b.prod.rec)
	}
	return out
}

// dropRows lets go of the rows of the parts' recorders. A later load that finds one of those
// recorders unchanged takes its part (replayer.step: the tables of a part change together, and
// every load that succeeds keeps the parts of the recorders it keeps), so the rows would never be
// replayed again; kept, they were about 80 MB at 1M edges (the nodes, the trade totals and partner
// rows) that every garbage collection marked. A dropped recorder is taken only with its part
// (LoadCache.lookup): without it, the table is read again.
func (b *builtParts) dropRows() {
	for _, r := range b.recorders() {
		r.nodes, r.totals, r.partner, r.prod, r.dropped = chunked[schemas.SupplyNode]{}, chunked[tradeTotalsRow]{}, chunked[partnerRow]{}, chunked[prodRecord]{}, true
	}
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
		l := p.last.links
		patched := l != nil && p.next.nodes == l.nodes && len(in.ids) == len(l.nodes.ids) &&
			(r == l.rec && r.overlay == nil || r.overlay != nil && r.base == l.rec)
		if patched {
			r.patchLinks(b, l)
		} else {
			r.replayLinks(b)
		}
		// a stocks edge is one map entry per enterprise × component: two recorded links on one
		// pair (the later wins in the replay) leave the part unmade, so a patch never has to know
		// which came last
		if p.keep && p.next.nodes != nil && len(in.Stocks) == r.stockLinks() {
			index := p.next.nodes.index
			if len(in.ids) > len(p.next.nodes.ids) {
				index = maps.Clone(in.index)
			}
			p.next.links = &builtLinks{nodes: p.next.nodes, rec: r, ids: slices.Clip(in.ids), index: index,
				supplies: in.Supplies, bom: in.BOM, makes: in.Makes, stocks: in.Stocks, patched: patched}
		}
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

// stockLinks is the number of stocks links a replay of r adds: its recorded ones and its overlay's
// new keys of that type (once replayed: the overlay's rows are placed by the replay).
func (r *recorder) stockLinks() int {
	n := 0
	if id, ok := r.strs.idx[schemas.LinkStocks]; ok {
		n = r.linkTypes[id]
	}
	if ov := r.overlay; ov != nil {
		for i, at := range ov.at {
			if at == overlayNewKey && ov.rows[i].LinkType == schemas.LinkStocks {
				n++
			}
		}
	}
	return n
}

// patchLinks adds r's links to b as replayLinks does, from the edges the last Load made of r (l.rec
// is r) or of the recorder r patches with a delta's overlay (l.rec is r.base): b takes copies of
// l's ids and edges, the edges of the recorded links the overlay replaces take the overlay's
// figures in place (their keys, and so their ids, are the same), and the overlay's new keys are
// added after them. It notes in the overlay where its rows went, as replayLinks does, for the fold.
// b holds just the nodes part of l (the ids before the links are l.nodes's).
func (r *recorder) patchLinks(b *Builder, l *builtLinks) {
	in := b.in
	if len(l.ids) > len(in.ids) {
		in.ids = append(in.ids, l.ids[len(in.ids):]...)
		in.index = maps.Clone(l.index)
	}
	in.Supplies, in.BOM, in.Makes, in.Stocks = slices.Clone(l.supplies), slices.Clone(l.bom), slices.Clone(l.makes), maps.Clone(l.stocks)
	ov := r.overlay
	if ov == nil {
		return
	}
	ov.begin()
	st := r.strs.strs
	kinds := make([]uint8, len(st))
	for i, s := range st {
		kinds[i] = linkKind(s)
	}
	// the edges of each kind are in the order of their links: a recorded supplies link's edge is
	// the one after the supplies edges of the links before it (base, the spans before, and the
	// hit's own count in its span)
	var base int32
	for _, sp := range r.overlayHits(kinds) {
		for _, h := range sp.hits {
			x := r.links.at(int(h.pos))
			o := ov.placeRow(h.row, x, h.pos)
			if o == nil {
				continue
			}
			switch kinds[x.typ] { // bom and makes edges are their key alone
			case 'p':
				e := &in.Supplies[base+h.supply]
				e.Share, e.Qual = o.Share, qualOf(o.Qualification)
			case 'k':
				in.Stocks[pairKey(in.index[o.EnterpriseID], in.index[o.ComponentID])] = StockEdge{Inventory: o.InventoryUnits, PerDay: o.ConsumptionPerDay}
			}
		}
		base += sp.supplies
	}
	ov.addNewKeys(b)
}

// patchSplit is how many recorded links patchLinks' search (overlayHits) takes at a time, on one
// goroutine per CPU.
var patchSplit = 1 << 17

// overlaySpan is what overlayHits found in one span of recorded links: those with an overlay row
// (hits, in order) and the number of supplies links in the span.
type overlaySpan struct {
	hits     []overlayHit
	supplies int32
}

// overlayHit is a recorded link at pos with overlay row row; supply is its index among the span's
// supplies links (when it is one).
type overlayHit struct{ pos, supply, row int32 }

// overlayHits finds the recorded links that have a row in r's overlay, span by span in order. The
// search reads every recorded link (72 bytes each): at 1M links it was about 40 ms on one core,
// on the load's path after the delta read, while the other core idled. The spans are searched on
// one goroutine per CPU, and what the hits do (linkOverlay.placeRow) is left to the caller, in
// order, as a replay does it.
func (r *recorder) overlayHits(kinds []uint8) []overlaySpan {
	ov := r.overlay
	n := r.links.len()
	spans := make([]overlaySpan, (n+patchSplit-1)/patchSplit)
	search := func(si int) {
		sp := &spans[si]
		lo, hi := si*patchSplit, min((si+1)*patchSplit, n)
		for p := lo; p < hi; {
			blk := r.links.blocks[p/chunkLen] // every block but the last is full (chunked.add)
			j0 := p % chunkLen
			j1 := min(len(blk), j0+hi-p)
			for j := j0; j < j1; j++ {
				x := &blk[j]
				if row, ok := ov.replaces([5]uint32{x.typ, x.ent, x.prod, x.comp, x.sup}); ok {
					sp.hits = append(sp.hits, overlayHit{pos: int32(p + j - j0), supply: sp.supplies, row: row})
				}
				if kinds[x.typ] == 'p' {
					sp.supplies++
				}
			}
			p += j1 - j0
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(spans))
	if workers <= 1 {
		for si := range spans {
			search(si)
		}
		return spans
	}
	var next atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for si := int(next.Add(1)) - 1; si < len(spans); si = int(next.Add(1)) - 1 {
				search(si)
			}
		})
	}
	wg.Wait()
	return spans
}
