package detectors

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sync/errgroup"
)

// ---- enterprise × component ---------------------------------------------------------------------

// ctxEvery is how many loop iterations an analysis step runs between checks of its context.
const ctxEvery = 256

// tick returns ctx.Err() every ctxEvery iterations (and on the first), nil otherwise.
func tick(ctx context.Context, i int) error {
	if i%ctxEvery == 0 {
		return ctx.Err()
	}
	return nil
}

// candidate is a supplier qualified for a component at some enterprise (a global alternate).
type candidate struct {
	sup      int32
	domestic bool
	country  string
}

// pairIndex is what the pair steps share: the supplies links sorted by (component, enterprise,
// supplier), their ranges per pair, the global candidates per component, the award evidence and
// the product ↔ BOM lookups.
type pairIndex struct {
	order []int32
	// spans holds, by pair position (the pair keys' order), pair i's range of order: {0, 0} for a
	// pair without supplies links. The pair step reads each pair's range from it in turn (a map by
	// pair key was a lookup per pair, about 90 ms of CPU per rescore at 1M edges); a caller with a
	// key finds its position in Analysis.pairIdx.
	spans     [][2]int32
	compCands map[int32][]candidate
	// candDigests digests each component's candidates, in their rank order (with the runner's
	// memo only: the pairs' fingerprints take them).
	candDigests map[int32]uint64
	awardSups   map[uint64][]int32
	entProds    map[int32][]int32
	bomSet      map[uint64]struct{}
	numGroups   int // enterprise × component pairs among the sorted supplies (a size hint)
}

func (a *Analysis) pairs(ctx context.Context) error {
	in := a.in
	memo := in.pairMemo
	// The product index and the run's digest of the nodes and substitutions read only the Inputs:
	// they are made on another goroutine while this one matches the awards, lays the pairs out and
	// lists the candidates (the analysis's other steps are done by then, and this part of the pair
	// step is serial: at 1M edges it left a core idle for about 0.2 s of a rescore).
	ix := &pairIndex{}
	var global uint64
	side := make(chan struct{})
	go func() {
		defer close(side)
		a.productIndex(ix)
		if memo != nil {
			global = pairGlobalDigest(in, a.idsDigest)
			a.prodsDigest = productsDigest(in)
		}
	}()
	ix.awardSups = a.matchAwards()
	keys, err := a.pairLayout(ctx, ix)
	if err == nil {
		err = a.componentCandidates(ctx, ix, memo != nil)
	}
	<-side
	if err != nil {
		return err
	}
	a.keys = keys
	// With the runner's memo, each pair's own inputs are digested, and a pair whose digest (and the
	// run's) is the same as in the last run takes its old metrics (PairMemo).
	var fps []uint64
	var reuse *pairReuse
	if memo != nil {
		fps = make([]uint64, len(keys))
		reuse = newPairReuse(memo.take(&in.Cfg, global), keys)
		a.pairSince = make([]uint64, len(keys))
		a.global = global
		if reuse != nil {
			a.pairsFrom = reuse.snap.seq
		}
	}
	// With the same pair keys as the last run, the pairs are updated in the last run's array (the
	// memo gave it up: take), the changed ones computed again from zero; else a new array.
	inPlace := reuse != nil && reuse.aligned
	// With the same BOM and makes links as the last run (in order), a reused pair lists the same
	// products (appendPairProducts reads only those and its own keys): they are not listed again (a
	// map lookup per product and pair, about 60 ms of CPU per rescore at 1M edges).
	sameProds := reuse != nil && reuse.snap.prods == a.prodsDigest
	if inPlace {
		a.Pairs = reuse.snap.pairs
	} else {
		a.Pairs = make([]PairMetrics, len(keys))
	}
	// Each pair's metrics read the shared indexes and write only their own element: one goroutine
	// per CPU computes them (parallelRange).
	workers := min(runtime.GOMAXPROCS(0), max(1, len(keys)/pairChunkMin))
	scratch := make([]pairScratch, workers)
	err = parallelRange(ctx, len(keys), workers, func(w, pi int) {
		s := &scratch[w]
		if memo != nil {
			fps[pi] = a.pairFingerprint(&s.h, pi, keys[pi], ix)
			a.pairSince[pi] = a.seq
			if old, oi, ok := reuse.lookup(pi, keys[pi], fps[pi]); ok {
				p := &a.Pairs[pi] // old itself when in place
				if p != old {
					*p = *old
				}
				// without sameProds the products are listed again into a scratch slice: nearly
				// always the same, the old list is kept (a new one per pair was 380,000
				// allocations per rescore at 1M edges)
				if !sameProds {
					s.prods = a.appendPairProducts(s.prods[:0], p, ix)
				}
				if sameProds || slices.Equal(s.prods, p.Products) {
					a.pairSince[pi] = reuse.snap.since[oi]
				} else {
					p.Products = nil
					if len(s.prods) > 0 {
						p.Products = slices.Clone(s.prods)
					}
				}
				s.reused++
				return
			}
		}
		if inPlace {
			a.Pairs[pi] = PairMetrics{}
		}
		a.pairMetrics(&a.Pairs[pi], pi, keys[pi], ix, &s.sc)
	})
	if err != nil {
		return err
	}
	for _, s := range scratch {
		a.PairsReused += s.reused
	}
	memo.store(&pairSnapshot{seq: a.seq, since: a.pairSince, cfg: in.Cfg, global: global, prods: a.prodsDigest, keys: keys, fps: fps, pairs: a.Pairs})
	a.altIx = &pairIndex{order: ix.order, spans: ix.spans, compCands: ix.compCands}
	return nil
}

// pairChunkMin is the fewest pairs worth a goroutine of their own.
var pairChunkMin = 20000

// pairScratch is one goroutine's scratch space in the pair step, and its count of reused pairs.
type pairScratch struct {
	sc     altScratch
	h      hasher
	prods  []int32 // a reused pair's products, listed again
	reused int
	_      [64]byte // two goroutines' scratch spaces share no cache line
}

// parallelBlock is how many items a goroutine of parallelRange takes at a time.
var parallelBlock = 4096

// parallelRange calls f(w, i) for each i in [0, n) on workers goroutines (w is the goroutine's
// index, 0 ≤ w < workers, for scratch space of its own; one goroutine: the caller's), each taking
// the next block of parallelBlock items when it is done with one: work given out in halves ahead
// of time ended 50 ms apart in the pair step at 1M edges, where a changed pair costs far more than
// a reused one and the changes need not fall evenly. It stops at the first error of ctx.
func parallelRange(ctx context.Context, n, workers int, f func(w, i int)) error {
	if workers <= 1 {
		for i := range n {
			if err := tick(ctx, i); err != nil {
				return err
			}
			f(0, i)
		}
		return nil
	}
	var next atomic.Int64 // the first item of the next block
	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for {
				lo := int(next.Add(int64(parallelBlock))) - parallelBlock
				if lo >= n {
					return nil
				}
				for i := lo; i < min(lo+parallelBlock, n); i++ {
					if err := tick(gctx, i); err != nil {
						return err
					}
					f(w, i)
				}
			}
		})
	}
	return g.Wait()
}

// pairLayout fills the pair step's layout (ix.order, ix.numGroups, ix.spans, a.pairIdx) and returns
// the pair keys. The layout depends only on which pairs and supplies links there are, not on their
// figures: with the runner's memo and the same layout inputs as its last run (PairMemo.layout), it
// is that run's, shared (nothing writes to it once made); else it is made (sortSupplies, pairKeys).
func (a *Analysis) pairLayout(ctx context.Context, ix *pairIndex) ([]uint64, error) {
	in, memo := a.in, a.in.pairMemo
	packed := packSupplies(in)
	var extra uint64
	if memo != nil && packed != nil {
		extra = pairExtraDigest(in, ix)
		if l := memo.layoutFor(a.idsDigest, packed, extra); l != nil {
			ix.order, ix.numGroups, ix.spans, a.pairIdx, a.subjects = l.order, l.numGroups, l.spans, l.pairIdx, l.subjects
			a.layoutShared = true
			return l.keys, nil
		}
	}
	a.sortSupplies(ix, packed)
	keys, err := a.pairKeys(ctx, ix)
	if err != nil {
		return nil, err
	}
	a.pairIdx = make(map[uint64]int32, len(keys))
	for pi, k := range keys {
		a.pairIdx[k] = int32(pi)
	}
	if memo != nil && packed != nil {
		a.subjects = make([]string, len(keys))
		for i, k := range keys {
			ent, comp := pairOf(k)
			a.subjects[i] = pairSubjectOf(in.ID(ent), in.ID(comp))
		}
		memo.keepLayout(&pairLayout{ids: a.idsDigest, packed: packed, extra: extra,
			order: ix.order, numGroups: ix.numGroups, spans: ix.spans, keys: keys, pairIdx: a.pairIdx, subjects: a.subjects})
	}
	return keys, nil
}

// pairSubject is the finding subject of pair i: enterprise id|component id (the layout's, when the
// runner's memo keeps one).
func (a *Analysis) pairSubject(i int32) string {
	if a.subjects != nil {
		return a.subjects[i]
	}
	p := &a.Pairs[i]
	return pairSubjectOf(a.in.ID(p.Ent), a.in.ID(p.Comp))
}

// packSupplies packs each supplies link's component, enterprise and supplier into one number, in
// Supplies order: the comparison key of sortSupplies, and the layout's input from the supplies. Nil
// with 2²¹ ids or more (they do not fit).
func packSupplies(in *Inputs) []uint64 {
	if len(in.ids) >= 1<<21 {
		return nil
	}
	ps := make([]uint64, len(in.Supplies))
	for i := range in.Supplies {
		e := &in.Supplies[i]
		ps[i] = uint64(e.Comp)<<42 | uint64(e.Ent)<<21 | uint64(e.Sup)
	}
	return ps
}

// pairExtraDigest digests the pair keys besides the supplies': the stocks links' and those of the
// award suppliers matched to a pair, each set order-free (the sum of its keys' mix64, and its size).
func pairExtraDigest(in *Inputs, ix *pairIndex) uint64 {
	var stocks, awards uint64
	for k := range in.Stocks {
		stocks += mix64(k)
	}
	for k := range ix.awardSups {
		awards += mix64(k)
	}
	var h hasher
	h.int(int64(len(in.Stocks)))
	h.int(int64(stocks))
	h.int(int64(len(ix.awardSups)))
	h.int(int64(awards))
	return xxhash.Sum64(h.buf)
}

// sortSupplies orders the supplies links by (component, enterprise, supplier), links with the same
// three (other products) in their order in Supplies, and counts the pairs among them. With fewer
// than 2²¹ ids the three are packed into one number per link (packed, from packSupplies), and the
// sort compares numbers instead of reading the links.
func (a *Analysis) sortSupplies(ix *pairIndex, packed []uint64) {
	in := a.in
	ix.order = make([]int32, len(in.Supplies))
	if packed == nil {
		for i := range ix.order {
			ix.order[i] = int32(i)
		}
		slices.SortFunc(ix.order, func(i, j int32) int {
			x, y := &in.Supplies[i], &in.Supplies[j]
			return cmp.Or(cmp.Compare(x.Comp, y.Comp), cmp.Compare(x.Ent, y.Ent), cmp.Compare(x.Sup, y.Sup), cmp.Compare(i, j))
		})
		for i, oi := range ix.order {
			if e := &in.Supplies[oi]; i == 0 || pairKey(e.Ent, e.Comp) != pairKey(in.Supplies[ix.order[i-1]].Ent, in.Supplies[ix.order[i-1]].Comp) {
				ix.numGroups++
			}
		}
		return
	}
	type keyed struct {
		key uint64
		i   int32
	}
	ps := make([]keyed, len(packed))
	for i, k := range packed {
		ps[i] = keyed{k, int32(i)}
	}
	slices.SortFunc(ps, func(x, y keyed) int { return cmp.Or(cmp.Compare(x.key, y.key), cmp.Compare(x.i, y.i)) })
	for i, p := range ps {
		ix.order[i] = p.i
		if i == 0 || p.key>>21 != ps[i-1].key>>21 {
			ix.numGroups++
		}
	}
}

// componentCandidates lists per component the suppliers qualified for it anywhere (global
// candidates), domestic first when configured, then by id, and, with digests set, digests each
// component's list in that order (ix.candDigests: what a pair's fingerprint takes of them).
//
// The supplies are sorted by component: the sorted order is cut into blocks of candBlock links,
// and a block lists the components whose first link falls in it (a component's links may run on
// into the next blocks), one goroutine per CPU taking the next block when done with one. A
// component's suppliers are deduplicated by sorting their ids (no set per component), and a
// block's lists share one backing array. At 1M edges this step was about 0.1 s on one core while
// every detector waited on the analysis.
func (a *Analysis) componentCandidates(ctx context.Context, ix *pairIndex, digests bool) error {
	in := a.in
	order := ix.order
	compOf := func(i int) int32 { return in.Supplies[order[i]].Comp }
	blocks := (len(order) + candBlock - 1) / candBlock
	type compList struct {
		comp   int32
		n      int // candidates, while the block's slab grows
		cands  []candidate
		digest uint64
	}
	lists := make([][]compList, blocks)
	workers := min(runtime.GOMAXPROCS(0), max(1, blocks))
	type scratch struct {
		sups []int32
		h    hasher
	}
	scr := make([]scratch, workers)
	err := parallelRange(ctx, blocks, workers, func(w, b int) {
		sc := &scr[w]
		lo, hi := b*candBlock, min((b+1)*candBlock, len(order))
		for lo < hi && lo > 0 && compOf(lo) == compOf(lo-1) {
			lo++ // a component begun in an earlier block is listed by that block
		}
		var out []compList
		var slab []candidate
		for i := lo; i < hi; {
			comp := compOf(i)
			sc.sups = sc.sups[:0]
			j := i
			for ; j < len(order); j++ {
				e := &in.Supplies[order[j]]
				if e.Comp != comp {
					break
				}
				if e.Qual == QualQualified {
					sc.sups = append(sc.sups, e.Sup)
				}
			}
			slices.Sort(sc.sups)
			sups := slices.Compact(sc.sups)
			for _, sup := range sups {
				info := in.Suppliers[sup]
				slab = append(slab, candidate{sup, in.isDomestic(info), countryOf(info)})
			}
			out = append(out, compList{comp: comp, n: len(sups)})
			i = j
		}
		// the lists are cut from the slab once it is complete (it moves while it grows)
		off := 0
		for k := range out {
			n := out[k].n
			var cs []candidate
			if n > 0 {
				cs = slab[off : off+n : off+n]
			}
			off += n
			slices.SortFunc(cs, func(x, y candidate) int {
				if in.Cfg.Exposure.DomesticFirst && x.domestic != y.domestic {
					if x.domestic {
						return -1
					}
					return 1
				}
				return cmp.Compare(in.ID(x.sup), in.ID(y.sup))
			})
			out[k].cands = cs
			if digests {
				out[k].digest = candsDigest(&sc.h, cs)
			}
		}
		lists[b] = out
	})
	if err != nil {
		return err
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	ix.compCands = make(map[int32][]candidate, n)
	if digests {
		ix.candDigests = make(map[int32]uint64, n)
	}
	for _, l := range lists {
		for _, c := range l {
			ix.compCands[c.comp] = c.cands
			if digests {
				ix.candDigests[c.comp] = c.digest
			}
		}
	}
	return nil
}

// candBlock is how many sorted supplies links a block of componentCandidates starts components in.
var candBlock = 1 << 15

// productsDigest digests the BOM and makes links in order: what the pairs' products
// (appendPairProducts) and the components' shape (compStructure) read of them.
func productsDigest(in *Inputs) uint64 {
	h := newStreamHasher()
	h.int(int64(len(in.BOM)))
	for _, b := range in.BOM {
		h.int(int64(pairKey(b.Prod, b.Comp)))
		h.spill()
	}
	h.int(int64(len(in.Makes)))
	for _, m := range in.Makes {
		h.int(int64(pairKey(m.Ent, m.Prod)))
		h.spill()
	}
	return h.sum()
}

// productIndex maps enterprise → products it makes and the (product, component) BOM pairs.
func (a *Analysis) productIndex(ix *pairIndex) {
	in := a.in
	ix.entProds = map[int32][]int32{}
	for _, m := range in.Makes {
		ix.entProds[m.Ent] = append(ix.entProds[m.Ent], m.Prod)
	}
	ix.bomSet = make(map[uint64]struct{}, len(in.BOM))
	for _, b := range in.BOM {
		ix.bomSet[pairKey(b.Prod, b.Comp)] = struct{}{}
	}
}

// pairKeys collects the pairs of supplies, stocks and awards, sorted by (enterprise id, component
// id), and fills ix.spans.
func (a *Analysis) pairKeys(ctx context.Context, ix *pairIndex) ([]uint64, error) {
	in := a.in
	order := ix.order
	keys := make([]uint64, 0, ix.numGroups+len(in.Stocks)+len(ix.awardSups))
	extra := make(map[uint64]bool, len(in.Stocks)+len(ix.awardSups))
	for k := range in.Stocks {
		extra[k] = true
	}
	for k := range ix.awardSups {
		extra[k] = true
	}
	groups := make(map[uint64][2]int32, ix.numGroups) // pair key → range of order
	for i, n := 0, 0; i < len(order); n++ {
		if err := tick(ctx, n); err != nil {
			return nil, err
		}
		e := &in.Supplies[order[i]]
		k := pairKey(e.Ent, e.Comp)
		j := i + 1
		for j < len(order) && pairKey(in.Supplies[order[j]].Ent, in.Supplies[order[j]].Comp) == k {
			j++
		}
		groups[k] = [2]int32{int32(i), int32(j)}
		keys = append(keys, k)
		delete(extra, k)
		i = j
	}
	for k := range extra {
		keys = append(keys, k)
	}
	sortPairKeys(in, keys)
	ix.spans = make([][2]int32, len(keys))
	for pi, k := range keys {
		ix.spans[pi] = groups[k]
	}
	return keys, nil
}

// sortPairKeys sorts pair keys by (enterprise id string, component id string). The ids in the keys
// (interned: the pairs come from supplies, stocks and awards matched to known nodes) are ranked once
// by their strings, which are distinct, and the keys sorted as (rank, rank) numbers: the same order
// as comparing the strings pair by pair, without a string comparison per key comparison
// (TestSortPairKeys).
func sortPairKeys(in *Inputs, keys []uint64) {
	used := make([]bool, len(in.ids))
	var ids []int32
	for _, k := range keys {
		e, c := pairOf(k)
		for _, id := range [2]int32{e, c} {
			if !used[id] {
				used[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.SortFunc(ids, func(x, y int32) int { return cmp.Or(strings.Compare(in.ids[x], in.ids[y]), cmp.Compare(x, y)) })
	rank := make([]uint32, len(in.ids))
	for r, id := range ids {
		rank[id] = uint32(r)
	}
	ranked := make([]uint64, len(keys))
	for i, k := range keys {
		e, c := pairOf(k)
		ranked[i] = uint64(rank[e])<<32 | uint64(rank[c])
	}
	slices.Sort(ranked)
	for i, r := range ranked {
		keys[i] = pairKey(ids[r>>32], ids[uint32(r)])
	}
}

// pairMetrics computes pair pi (key k): suppliers and shares, concentration, alternates, TTR, TTS,
// products.
func (a *Analysis) pairMetrics(p *PairMetrics, pi int, k uint64, ix *pairIndex, sc *altScratch) {
	in := a.in
	p.Ent, p.Comp = pairOf(k)
	inProg := a.pairSuppliers(p, pi, k, ix)
	shares := pairConcentration(p)
	ttrDefault := in.Cfg.TTSTTR.TTRDefault(a.category(p.Comp))
	n, ttr, origin, subs := a.altSummary(p, inProg, shares, ix.compCands[p.Comp], ttrDefault, sc)
	p.SubsCount, p.NoAlternate = subs, n == 0
	p.NumAlternates = min(n, in.Cfg.Exposure.MaxAlternates)
	// TTR: the fastest alternate of any origin (before the cut to max_alternates), else the
	// category default.
	p.TTR, p.TTRSource = ttrDefault, "category_default"
	if n > 0 {
		p.TTR, p.TTRSource = ttr, origin
	}
	if st, ok := in.Stocks[k]; ok {
		p.TTS, p.TTSKnown = TimeToSurvive(st.Inventory, st.PerDay)
	}
	a.pairProducts(p, ix)
}

// pairProducts lists the products of p's enterprise whose bill of materials holds p's component.
func (a *Analysis) pairProducts(p *PairMetrics, ix *pairIndex) {
	p.Products = a.appendPairProducts(p.Products, p, ix)
}

// appendPairProducts appends p's products (pairProducts) to dst.
func (a *Analysis) appendPairProducts(dst []int32, p *PairMetrics, ix *pairIndex) []int32 {
	for _, prod := range ix.entProds[p.Ent] {
		if _, ok := ix.bomSet[pairKey(prod, p.Comp)]; ok {
			dst = append(dst, prod)
		}
	}
	return dst
}

// pairAlternates returns all of a pair's alternates, ranked and deduped (not yet cut to
// max_alternates), and the number of applicable substitution-list entries: the compact list of the
// pair step (altsRanked), each entry spelt out (strings, notes, region, rank reasons), then deduped
// with the notes of the dropped duplicates kept. It reads only the pair's suppliers and the shared
// indexes, so Alternates can compute the same list again later.
func (a *Analysis) pairAlternates(p *PairMetrics, inProg []int32, shares []float64, ix *pairIndex, ttrDefault float64) ([]Alternate, int) {
	cands := ix.compCands[p.Comp]
	ranked, n := a.altsRanked(p, inProg, shares, cands, ttrDefault, &altScratch{})
	var entGroup string
	if e := a.in.Enterprises[p.Ent]; e != nil {
		entGroup = e.RegionGroup
	}
	subs := a.in.subsOf(p.Comp)
	alts := make([]Alternate, len(ranked))
	for i, al := range ranked {
		alts[i] = a.spellOut(al, subs, entGroup)
	}
	return dedupeAlternates(alts), n
}

// Alternates returns the alternates of a pair of this analysis (Pairs), best first. They are not
// kept per pair — at 10⁶ pairs they were the largest part of the analysis — but computed again, the
// same way, for the findings that are kept and for callers asking for one pair.
func (a *Analysis) Alternates(p *PairMetrics) []Alternate {
	ix := a.altIx
	if ix == nil || p == nil {
		return nil
	}
	var inProg []int32
	if pi, ok := a.pairIdx[pairKey(p.Ent, p.Comp)]; ok {
		inProg = a.inProgress(ix, int(pi))
	}
	shares := make([]float64, len(p.Suppliers))
	for i, s := range p.Suppliers {
		shares[i] = s.Share
	}
	alts, _ := a.pairAlternates(p, inProg, shares, ix, a.in.Cfg.TTSTTR.TTRDefault(a.category(p.Comp)))
	if m := a.in.Cfg.Exposure.MaxAlternates; len(alts) > m {
		alts = alts[:m]
	}
	return alts
}

// inProgress returns the suppliers in qualification of pair pi, in the order of its supplies links.
func (a *Analysis) inProgress(ix *pairIndex, pi int) []int32 {
	var out []int32
	g := ix.spans[pi]
	for _, oi := range ix.order[g[0]:g[1]] {
		if e := &a.in.Supplies[oi]; e.Qual == QualInProgress {
			out = append(out, e.Sup)
		}
	}
	return out
}

// pairSuppliers fills p.Suppliers (active qualified suppliers of the map, then award-only suppliers,
// normalised, share descending) and returns the suppliers in qualification.
func (a *Analysis) pairSuppliers(p *PairMetrics, pi int, k uint64, ix *pairIndex) []int32 {
	in := a.in
	var inProg []int32
	if g := ix.spans[pi]; g[1] > g[0] {
		for _, oi := range ix.order[g[0]:g[1]] {
			e := &in.Supplies[oi]
			switch e.Qual {
			case QualQualified:
				info := in.Suppliers[e.Sup]
				p.Suppliers = append(p.Suppliers, SupShare{Sup: e.Sup, Share: e.Share, Country: countryOf(info), Domestic: in.isDomestic(info)})
			case QualInProgress:
				inProg = append(inProg, e.Sup)
			}
		}
	}
	p.InProgress = len(inProg)
	var awardOnly []int32
	for _, s := range ix.awardSups[k] {
		if !slices.ContainsFunc(p.Suppliers, func(x SupShare) bool { return x.Sup == s }) {
			awardOnly = append(awardOnly, s)
		}
	}
	each := awardOnlyShare(p.Suppliers, len(awardOnly))
	for _, s := range awardOnly {
		info := in.Suppliers[s]
		p.Suppliers = append(p.Suppliers, SupShare{Sup: s, Share: each, Country: countryOf(info), Domestic: in.isDomestic(info), Award: true})
	}
	normaliseSupShares(p.Suppliers)
	sort.Slice(p.Suppliers, func(i, j int) bool {
		if p.Suppliers[i].Share != p.Suppliers[j].Share {
			return p.Suppliers[i].Share > p.Suppliers[j].Share
		}
		return in.ID(p.Suppliers[i].Sup) < in.ID(p.Suppliers[j].Sup)
	})
	return inProg
}

// awardOnlyShare is the share each of n award-only suppliers gets before normalisation: an equal
// split of the map's unallocated share, or the smallest positive map share when the map sums to 1.
func awardOnlyShare(mapped []SupShare, n int) float64 {
	if n == 0 {
		return 0
	}
	sum, minPos := 0.0, math.Inf(1)
	for _, x := range mapped {
		sum += math.Max(x.Share, 0)
		if x.Share > 0 && x.Share < minPos {
			minPos = x.Share
		}
	}
	switch {
	case sum < 1:
		return (1 - sum) / float64(n)
	case !math.IsInf(minPos, 1):
		return minPos
	}
	return 0
}

// pairConcentration fills the supplier and country concentration of p and returns its shares.
func pairConcentration(p *PairMetrics) []float64 {
	shares := make([]float64, len(p.Suppliers))
	countries := map[string]float64{}
	for i, s := range p.Suppliers {
		shares[i] = s.Share
		p.HHI += s.Share * s.Share
		countries[countryOrUnknown(s.Country)] += s.Share
		if !s.Domestic {
			p.ForeignShare += s.Share
		}
	}
	if len(p.Suppliers) == 0 {
		p.HHI = 1 // no qualified supplier: as concentrated as it gets
	}
	p.Countries = SharesOf(countries)
	p.CountryHHI = HHIShares(p.Countries)
	if len(p.Countries) > 0 {
		p.TopCountry, p.TopCountryS = p.Countries[0].Key, p.Countries[0].Value
	} else {
		p.CountryHHI = 1
	}
	return shares
}

// subsOf returns the substitution-list entries of a component (in.Subs is sorted by component).
func (in *Inputs) subsOf(comp int32) []Sub {
	lo := sort.Search(len(in.Subs), func(i int) bool { return in.Subs[i].Comp >= comp })
	hi := lo
	for hi < len(in.Subs) && in.Subs[hi].Comp == comp {
		hi++
	}
	return in.Subs[lo:hi]
}

func countryOf(info *NodeInfo) string {
	if info == nil {
		return ""
	}
	return info.Country
}

func normaliseSupShares(s []SupShare) {
	sum := 0.0
	for _, x := range s {
		if x.Share > 0 {
			sum += x.Share
		}
	}
	for i := range s {
		switch {
		case sum > 0 && s[i].Share > 0:
			s[i].Share /= sum
		case sum > 0:
			s[i].Share = 0
		default:
			s[i].Share = 1 / float64(len(s))
		}
	}
}

// dedupeAlternates keeps the best-ranked entry of each (component, supplier) option: the same
// supplier can be both in qualification in the map and on the substitution list. The notes of the
// dropped duplicates are kept on the survivor. alts must be ranked already.
func dedupeAlternates(alts []Alternate) []Alternate {
	type key struct{ comp, sup string }
	first := map[key]int{}
	out := alts[:0]
	for _, a := range alts {
		k := key{a.ComponentID, a.SupplierID}
		if i, ok := first[k]; ok {
			if a.Notes != "" && !strings.Contains(out[i].Notes, a.Notes) {
				if out[i].Notes != "" {
					out[i].Notes += "; "
				}
				out[i].Notes += a.Notes
			}
			continue
		}
		first[k] = len(out)
		out = append(out, a)
	}
	return out
}

// matchAwards maps awards to (enterprise, component) → suppliers. An award counts when its buyer is
// a supply-map enterprise (buyer_id = node_id, else buyer_name = name, case-insensitive), one of its
// item ids or item codes is a component id, and a supplier id is a supplier node id (else its name
// equals a supplier name, case-insensitive). Unmatched suppliers are ignored.
func (a *Analysis) matchAwards() map[uint64][]int32 {
	in := a.in
	out := map[uint64][]int32{}
	if len(in.Awards) == 0 {
		return out
	}
	// The name indexes are made when an award first needs one: most awards name their buyer and
	// suppliers by node id, and indexing every supplier's name took about 50 ms of a rescore at 1M
	// edges, on the path every detector waits on.
	var supByName, entByName map[string]int32
	for _, aw := range in.Awards {
		ent := in.Lookup(aw.BuyerID)
		if _, ok := in.Enterprises[ent]; !ok {
			if entByName == nil {
				entByName = nameIndex(in.Enterprises)
			}
			var ok2 bool
			if ent, ok2 = entByName[strings.ToLower(strings.TrimSpace(aw.BuyerName))]; !ok2 {
				continue
			}
		}
		var comps []int32
		for _, it := range slices.Concat(aw.ItemIDs, aw.ItemCodes) {
			c := in.Lookup(it)
			if _, ok := in.Components[c]; ok {
				comps = append(comps, c)
			}
		}
		for i, sid := range aw.SupplierIDs {
			s := in.Lookup(sid)
			if _, ok := in.Suppliers[s]; !ok {
				name := ""
				if i < len(aw.SupplierNames) {
					name = strings.ToLower(strings.TrimSpace(aw.SupplierNames[i]))
				}
				if supByName == nil {
					supByName = nameIndex(in.Suppliers)
				}
				var ok2 bool
				if s, ok2 = supByName[name]; !ok2 {
					continue
				}
			}
			for _, c := range comps {
				if k := pairKey(ent, c); !slices.Contains(out[k], s) {
					out[k] = append(out[k], s)
				}
			}
		}
	}
	return out
}

// nameIndex maps the lower-cased, trimmed names of nodes to their ids (nodes without a name are
// left out; of two nodes with one name, either).
func nameIndex(nodes map[int32]*NodeInfo) map[string]int32 {
	idx := make(map[string]int32, len(nodes))
	for id, n := range nodes {
		if n.Name != "" {
			idx[strings.ToLower(strings.TrimSpace(n.Name))] = id
		}
	}
	return idx
}
