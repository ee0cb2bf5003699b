package detectors

import (
	"context"
	"reflect"
)

// The components step's memo (docs/scoring.md, "Loading, the table cache and the rescore").
//
// A component's figures are of three kinds:
//   - its shape: which components there are (the component nodes, the pairs' and the BOM's), its
//     downstream enterprises (its pairs' enterprises and the makers of the products containing it),
//     chain leaders among them, products and reach. They are a function of the ids, the node
//     attributes (the pair step's run digest, pairGlobalDigest), the pair keys in order, the BOM
//     and makes links, and the configuration: compStructure digests all but the configuration,
//     which is compared as it is.
//   - its pair aggregates: pair count, supplier and country shares over its users, foreign share,
//     single-sourced, no-alternate and TTS counts and the mean TTS gap. With the same shape they
//     are a function of its pairs' metrics, so they stay the same when every pair of the component
//     took its metrics from the run the memo is of (Analysis.pairSince: a pair computed again, or
//     whose products changed, counts as changed).
//   - the rest, computed every run: node attributes, betweenness, availability, concentration,
//     chokepoint list and terms.
// A run with the memo of the run whose pair metrics it reused (pairsFrom), the same structure and
// configuration takes the shape of every component and the pair aggregates of each component none
// of whose pairs changed; the others' aggregates are computed from their pairs. TestPairMemoMatchesFresh
// compares memoized analyses with fresh ones over a series of changes.

// compMemo is one run's components step.
type compMemo struct {
	seq       uint64 // the run's number
	structure uint64
	cfg       Config
	comps     []CompMetrics // each component's shape and pair aggregates only (carried)
	compIdx   map[int32]int32
	pairComp  []int32 // per pair, its component's index in comps
}

// compsFor returns the memo's components step when it is of run seq (the run whose pair metrics
// this one reused), with the same structure and configuration.
func (m *PairMemo) compsFor(seq, structure uint64, cfg *Config) *compMemo {
	if m == nil || seq == 0 {
		return nil
	}
	m.mu.Lock()
	c := m.compStep
	m.mu.Unlock()
	if c == nil || c.seq != seq || c.structure != structure || !reflect.DeepEqual(&c.cfg, cfg) {
		return nil
	}
	return c
}

// carried is the part of a component's figures that a later run may take (componentsAgain): its
// shape and its pair aggregates. The memo keeps only that: the rest (node attributes, betweenness,
// availability, concentration, chokepoint list, terms and flags) is computed again every run, and
// keeping it would keep the run's components, their chokepoint terms and their node attributes
// alive until the next run (about 40 MB at 1M edges that every garbage collection in between
// marks again).
func carried(c *CompMetrics) CompMetrics {
	k := compShape(c)
	k.Pairs, k.SupplierShares, k.CountryShares, k.ForeignShare = c.Pairs, c.SupplierShares, c.CountryShares, c.ForeignShare
	k.SingleSourced, k.NoAlternate, k.TTSKnown, k.TTSGapNorm, k.Exposed = c.SingleSourced, c.NoAlternate, c.TTSKnown, c.TTSGapNorm, c.Exposed
	return k
}

// compShape is a component's shape alone: which component, its downstream enterprises, chain
// leaders, products and reach.
func compShape(c *CompMetrics) CompMetrics {
	return CompMetrics{Comp: c.Comp, Enterprises: c.Enterprises, ChainLeaders: c.ChainLeaders, Products: c.Products, Reach: c.Reach}
}

// keepComps keeps a run's components step for the next run.
func (m *PairMemo) keepComps(c *compMemo) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.compStep = c
	m.mu.Unlock()
}

// compStructure digests what the components' shape reads besides the configuration: the pair step's
// run digest (ids and node attributes), the pair keys in order, the BOM and the makes links.
func (a *Analysis) compStructure() uint64 {
	h := newStreamHasher()
	h.int(int64(a.global))
	h.int(int64(len(a.Pairs)))
	for i := range a.Pairs {
		h.int(int64(pairKey(a.Pairs[i].Ent, a.Pairs[i].Comp)))
		h.spill()
	}
	h.int(int64(a.prodsDigest)) // the BOM and the makes links, digested in the pair step
	return h.sum()
}

// componentsAgain fills a.Comps from the memo's step: every component's shape, and the pair
// aggregates of the components none of whose pairs changed since; the others' aggregates are
// computed from their pairs.
func (a *Analysis) componentsAgain(ctx context.Context, last *compMemo) error {
	in := a.in
	changed := make([]bool, len(last.comps))
	for pi := range a.Pairs {
		if a.pairSince[pi] == a.seq {
			changed[last.pairComp[pi]] = true
		}
	}
	a.Comps, a.compIdx = make([]*CompMetrics, len(last.comps)), last.compIdx
	for ci := range last.comps {
		// the memo holds only the carried figures: all of them when none of the component's pairs
		// changed, else its shape
		c := new(CompMetrics)
		if old := &last.comps[ci]; changed[ci] {
			*c = compShape(old)
		} else {
			*c = *old
			a.CompsReused++
		}
		c.Info = componentInfo(in, c.Comp)
		a.Comps[ci] = c
	}
	u := newCompUsers(len(a.Comps))
	for pi := range a.Pairs {
		if err := tick(ctx, pi); err != nil {
			return err
		}
		if ci := last.pairComp[pi]; changed[ci] {
			a.addPairAggregates(a.Comps[ci], u, ci, &a.Pairs[pi])
		}
	}
	for ci, c := range a.Comps {
		if changed[ci] {
			a.finishAggregates(c, u, int32(ci))
		}
	}
	return nil
}
