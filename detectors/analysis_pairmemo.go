package detectors

import (
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// PairMemo keeps the pair step's result of a runner's last run, so the next run computes again only
// the enterprise × component pairs whose inputs changed (docs/scoring.md, "Loading and the
// incremental rescore").
//
// A pair's metrics (pairMetrics) are a function of two kinds of input:
//   - its own: the supplies links of the pair in the step's order (supplier, qualification, share),
//     the award suppliers matched to it, its stocks link, and the global candidates of its
//     component (the suppliers qualified for it anywhere, in rank order);
//   - the run's: the interned id strings in order, the enterprises', suppliers' and components'
//     node attributes, the substitution list and the detectors' configuration.
//
// The memo keeps a 64-bit digest of each pair's own inputs (pairFingerprint) and one of the run's
// (pairGlobalDigest), together with the configuration. A pair of the next run takes the old metrics
// unchanged when the configuration is equal, the run's digest is equal (so the ids, and with them
// every interned index in the old metrics, mean the same) and its own digest is equal; only its
// Products, which read the makes and bom links, are listed again. Everything else is computed as
// before. A collision of either digest (odds about 2⁻⁶⁴ per pair) would keep a stale pair for a
// run; TestPairMemoMatchesFresh compares memoized analyses with fresh ones over a series of changes.
//
// A nil *PairMemo memoizes nothing. It is safe for concurrent use: a run takes the snapshot out of
// the memo (it may reuse its array) and stores a new one.
type PairMemo struct {
	mu    sync.Mutex
	snap  *pairSnapshot
	comps *compSnapshot // the last run's component figures (findingreuse.go)
	// seq numbers the runs whose analysis used the memo, in order; runs maps the latest of them
	// (at most maxRunSeqs) from run id to number.
	seq  uint64
	runs map[string]uint64
	// layout is the pair layout of the last run that made one (pairLayout).
	layout *pairLayout
	// conc is the concentration step of the last run that computed it (concMemo).
	conc *concMemo
	// compStep is the components step of the last run that made one with the memo (compMemo).
	compStep *compMemo
	// scores are, per detector, the pair scores of its last run (pairScores).
	scores map[string]*pairScoreMemo
}

// concMemo is one run's concentration step (Analysis.HS and Mats) with what it was computed from:
// the load's built parts of the trade and production aggregates (loadcache_built.go: a later load
// of the same cached recorders shares them) and the configuration. The step reads nothing else,
// and nothing writes to its ConcMetrics once made, so a run with the same parts and configuration
// shares them.
type concMemo struct {
	trade *builtTrade
	prod  *builtProd
	cfg   Config
	hs    []*ConcMetrics
	mats  []*ConcMetrics
}

// concFor returns the memo's concentration when in has the same built trade and production parts
// and configuration.
func (m *PairMemo) concFor(in *Inputs) (hs, mats []*ConcMetrics, ok bool) {
	if m == nil || in.built.trade == nil || in.built.prod == nil {
		return nil, nil, false
	}
	m.mu.Lock()
	c := m.conc
	m.mu.Unlock()
	if c == nil || c.trade != in.built.trade || c.prod != in.built.prod || !reflect.DeepEqual(&c.cfg, &in.Cfg) {
		return nil, nil, false
	}
	return c.hs, c.mats, true
}

// keepConc keeps a run's concentration for the next runs, when its inputs are built parts.
func (m *PairMemo) keepConc(in *Inputs, hs, mats []*ConcMetrics) {
	if m == nil || in.built.trade == nil || in.built.prod == nil {
		return
	}
	m.mu.Lock()
	m.conc = &concMemo{trade: in.built.trade, prod: in.built.prod, cfg: in.Cfg, hs: hs, mats: mats}
	m.mu.Unlock()
}

// pairLayout is the part of the pair step that depends only on which pairs and supplies links there
// are: the supplies' order and ranges per pair, the pair keys and their index. It is a function of
// the interned ids (ids, their digest), the supplies links' (component, enterprise, supplier) in
// Supplies order (packed, compared in full) and the stocks' and award suppliers' pair keys (extra,
// a digest). Once made, nothing writes to it: runs with the same inputs share it.
type pairLayout struct {
	ids       uint64
	packed    []uint64
	extra     uint64
	order     []int32
	numGroups int
	spans     [][2]int32
	keys      []uint64
	pairIdx   map[uint64]int32
	subjects  []string // per pair, its finding subject (Analysis.pairSubject)
}

// layoutFor returns the memo's pair layout when it was made from the same inputs, else nil.
func (m *PairMemo) layoutFor(ids uint64, packed []uint64, extra uint64) *pairLayout {
	m.mu.Lock()
	l := m.layout
	m.mu.Unlock()
	if l == nil || l.ids != ids || l.extra != extra || !slices.Equal(l.packed, packed) {
		return nil
	}
	return l
}

// keepLayout keeps a run's pair layout for the next runs.
func (m *PairMemo) keepLayout(l *pairLayout) {
	m.mu.Lock()
	m.layout = l
	m.mu.Unlock()
}

// maxRunSeqs is how many runs' numbers the memo remembers.
const maxRunSeqs = 256

// beginRun numbers an analysis of run runID.
func (m *PairMemo) beginRun(runID string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	if m.runs == nil {
		m.runs = map[string]uint64{}
	}
	if runID != "" {
		m.runs[runID] = m.seq
	}
	if len(m.runs) > maxRunSeqs {
		maps.DeleteFunc(m.runs, func(_ string, s uint64) bool { return s+maxRunSeqs/2 <= m.seq })
	}
	return m.seq
}

// seqOf returns the number of run runID's analysis, if the memo remembers it.
func (m *PairMemo) seqOf(runID string) (uint64, bool) {
	if m == nil || runID == "" {
		return 0, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.runs[runID]
	return s, ok
}

// pairSnapshot is one run's pair step: its configuration and run digest, and per pair (sorted as
// Analysis.Pairs) the key, the digest of its own inputs and the metrics. The metrics are that run's
// Analysis.Pairs; the next run with the same pair keys updates them in place, so an analysis made
// with the runner's memo must not be read after the runner's next run (the Runner keeps none).
type pairSnapshot struct {
	seq    uint64   // the number of the run whose pair step it is
	since  []uint64 // per pair, the number of the run since which its metrics and products are the same
	cfg    Config
	global uint64
	prods  uint64 // productsDigest of the run's Inputs
	keys   []uint64
	fps    []uint64
	pairs  []PairMetrics
}

// NewPairMemo returns an empty memo.
func NewPairMemo() *PairMemo { return &PairMemo{} }

// take removes the last snapshot from the memo and returns it when it was taken under the same
// configuration and run digest. The caller owns it then (the pair step updates its array in place),
// and stores a new one when it is done; a run that fails in between leaves the memo empty, and a
// run alongside finds it empty.
func (m *PairMemo) take(cfg *Config, global uint64) *pairSnapshot {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	s := m.snap
	m.snap = nil
	m.mu.Unlock()
	if s == nil || s.global != global || !reflect.DeepEqual(&s.cfg, cfg) {
		return nil
	}
	return s
}

func (m *PairMemo) store(s *pairSnapshot) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.snap = s
	m.mu.Unlock()
}

// idsDigest digests the interned id strings in order: two runs with the same digest give every
// interned index the same meaning, so figures holding indexes (pairs, graph nodes) carry over.
func idsDigest(ids []string) uint64 {
	h := newStreamHasher()
	h.int(int64(len(ids)))
	for _, s := range ids {
		h.str(s)
		h.spill()
	}
	return h.sum()
}

// pairGlobalDigest digests what every pair's metrics read besides its own inputs: the id strings
// (their digest, ids), the node attributes of enterprises, suppliers and components, and the
// substitution list. (The configuration is compared as it is.) The node maps are digested entry by
// entry and the entries' digests summed, which does not depend on the maps' iteration order.
func pairGlobalDigest(in *Inputs, ids uint64) uint64 {
	var h hasher
	h.int(int64(ids))
	if n := in.built.nodes; n != nil {
		// the node maps are the part's (replayer.step)
		h.int(int64(n.nodesDigest()))
	} else {
		h.int(int64(nodesDigest(in.Enterprises, in.Suppliers, in.Components)))
	}
	h.int(int64(len(in.Subs)))
	for i := range in.Subs {
		h.sub(&in.Subs[i])
	}
	return xxhash.Sum64(h.buf)
}

// nodesDigest digests the node attributes of the enterprises, suppliers and components, in any
// map order: per role the count and the sum of each node's digest.
func nodesDigest(ent, sup, comp map[int32]*NodeInfo) uint64 {
	var h, e hasher
	for role, m := range []map[int32]*NodeInfo{ent, sup, comp} {
		var sum uint64
		for id, info := range m {
			sum += e.nodeInfo(int64(role), id, info)
		}
		h.int(int64(len(m)))
		h.int(int64(sum))
	}
	return xxhash.Sum64(h.buf)
}

// nodeInfo digests one node's attributes under its role and id.
func (h *hasher) nodeInfo(role int64, id int32, n *NodeInfo) uint64 {
	h.buf = h.buf[:0]
	h.int(role)
	h.int(int64(id))
	if n == nil {
		h.int(0)
		return xxhash.Sum64(h.buf)
	}
	h.int(1)
	h.str(n.Name)
	h.str(n.Country)
	h.boolean(n.Domestic)
	h.str(n.Region)
	h.str(n.Industry)
	h.boolean(n.ChainLeader)
	h.str(n.Category)
	h.str(n.HSCode)
	h.boolean(n.Chokepoint)
	h.strs(n.Tags)
	h.str(n.Province)
	h.str(n.RegionGroup)
	return xxhash.Sum64(h.buf)
}

// sub appends one substitution-list entry.
func (h *hasher) sub(s *Sub) {
	h.int(int64(s.Comp))
	h.int(int64(s.AltComp))
	h.int(int64(s.AltSup))
	h.int(int64(s.Ent))
	h.num(s.Days)
	h.boolean(s.Domestic)
	h.str(s.Country)
	h.str(s.Notes)
}

// candsDigest digests a component's global candidates, in their rank order.
func candsDigest(h *hasher, cs []candidate) uint64 {
	h.buf = h.buf[:0]
	h.int(int64(len(cs)))
	for _, c := range cs {
		h.int(int64(c.sup))
		h.boolean(c.domestic)
		h.str(c.country)
	}
	return xxhash.Sum64(h.buf)
}

// pairFingerprint digests the own inputs of pair pi, key k (see PairMemo).
func (a *Analysis) pairFingerprint(h *hasher, pi int, k uint64, ix *pairIndex) uint64 {
	in := a.in
	h.buf = h.buf[:0]
	if g := ix.spans[pi]; g[1] > g[0] {
		h.int(int64(g[1] - g[0]))
		for _, oi := range ix.order[g[0]:g[1]] {
			e := &in.Supplies[oi]
			h.int(int64(e.Sup))
			h.int(int64(e.Qual))
			h.num(e.Share)
		}
	} else {
		h.int(-1)
	}
	aw := ix.awardSups[k]
	h.int(int64(len(aw)))
	for _, s := range aw {
		h.int(int64(s))
	}
	if st, ok := in.Stocks[k]; ok {
		h.int(1)
		h.num(st.Inventory)
		h.num(st.PerDay)
	} else {
		h.int(0)
	}
	_, comp := pairOf(k)
	c, ok := ix.candDigests[comp]
	h.boolean(ok)
	h.int(int64(c))
	return xxhash.Sum64(h.buf)
}

// pairReuse finds a pair's old metrics in a snapshot: by position when the pair keys are the
// same as the snapshot's, else through a map of the old keys.
type pairReuse struct {
	snap    *pairSnapshot
	aligned bool
	old     map[uint64]int32
}

func newPairReuse(snap *pairSnapshot, keys []uint64) *pairReuse {
	if snap == nil {
		return nil
	}
	r := &pairReuse{snap: snap, aligned: slices.Equal(keys, snap.keys)}
	if !r.aligned {
		r.old = make(map[uint64]int32, len(snap.keys))
		for i, k := range snap.keys {
			r.old[k] = int32(i)
		}
	}
	return r
}

// lookup returns the old metrics of the pair at position pi with key k when its digest is fp, and
// their position in the snapshot.
func (r *pairReuse) lookup(pi int, k, fp uint64) (*PairMetrics, int32, bool) {
	if r == nil {
		return nil, 0, false
	}
	oi := int32(pi)
	if !r.aligned {
		var ok bool
		if oi, ok = r.old[k]; !ok {
			return nil, 0, false
		}
	}
	if r.snap.fps[oi] != fp {
		return nil, 0, false
	}
	return &r.snap.pairs[oi], oi, true
}
