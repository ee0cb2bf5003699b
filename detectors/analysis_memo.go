package detectors

import (
	"runtime"
	"slices"
	"sync"
)

// BetweennessMemo keeps the betweenness of a runner's last run together with the graph it was
// computed on, so a run whose graph did not change reuses it instead of running Brandes again
// (docs/scoring.md, "Loading and the incremental rescore").
//
// The graph step builds a canonical graph: nodes numbered by (kind, id string), each adjacency row
// sorted and deduplicated. Betweenness is a function of that graph, the sampling settings and the
// number of workers (which fixes the order its floating-point sums are taken in), and of nothing
// else. So a run may reuse the memo when all of these are equal: node kinds and id strings in
// order, Off and Adj, exact-max, samples, seed and GOMAXPROCS. The result is then the same, bit
// for bit, as computing it again (TestBetweennessMemo). Only the attributes of a link changing
// (inventory, consumption, share, quantity) leaves the graph as it was; a link added or removed,
// or a disqualification, changes it and the memo is computed afresh.
//
// A nil *BetweennessMemo memoizes nothing. It is safe for concurrent use.
//
// A run may also skip building the graph: the memo keeps the digest of the ids (idsDigest) and of
// the links the graph is built from (graphLinksDigest), with the graph's nodes. When both digests
// and the settings are equal, the graph would be built the same, node for node, so the run takes
// the graph, its nodes and the betweenness as they are (TestGraphMemo).
type BetweennessMemo struct {
	mu    sync.Mutex
	valid bool
	key   betweennessKey
	kinds []byte
	ids   []string
	g     *Graph
	res   BetweennessResult
	hits  int

	idsDigest, linksDigest uint64
	nodes                  []graphNode
	graphHits              int
}

type betweennessKey struct {
	exactMax, samples int
	seed              int64
	procs             int
}

// NewBetweennessMemo returns an empty memo.
func NewBetweennessMemo() *BetweennessMemo { return &BetweennessMemo{} }

// Hits returns how many lookups reused the memo.
func (m *BetweennessMemo) Hits() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits
}

func memoKey(cfg ChokepointConfig) betweennessKey {
	return betweennessKey{cfg.BetweennessExactMaxNodes, cfg.BetweennessSamples, cfg.BetweennessSeed, runtime.GOMAXPROCS(0)}
}

// lookup returns the memoized result when it was computed on the same graph with the same settings.
// The result's slices are shared: callers only read them.
func (m *BetweennessMemo) lookup(in *Inputs, nodes []graphNode, g *Graph, cfg ChokepointConfig) (BetweennessResult, bool) {
	if m == nil {
		return BetweennessResult{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.valid || m.key != memoKey(cfg) || len(nodes) != len(m.kinds) ||
		!slices.Equal(g.Off, m.g.Off) || !slices.Equal(g.Adj, m.g.Adj) {
		return BetweennessResult{}, false
	}
	for i, n := range nodes {
		if n.kind != m.kinds[i] || in.ID(n.id) != m.ids[i] {
			return BetweennessResult{}, false
		}
	}
	m.hits++
	return m.res, true
}

// lookupGraph returns the memoized graph, its nodes and betweenness when the ids, the graph's links
// and the settings are the same as when it was stored. Everything returned is shared and only read.
func (m *BetweennessMemo) lookupGraph(ids, links uint64, cfg ChokepointConfig) (*Graph, []graphNode, BetweennessResult, bool) {
	if m == nil {
		return nil, nil, BetweennessResult{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.valid || m.key != memoKey(cfg) || m.idsDigest != ids || m.linksDigest != links {
		return nil, nil, BetweennessResult{}, false
	}
	m.hits++
	m.graphHits++
	return m.g, m.nodes, m.res, true
}

// GraphHits returns how many lookups reused the graph without building it.
func (m *BetweennessMemo) GraphHits() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.graphHits
}

// store replaces the memo with a result, and the graph it was computed on with its nodes and the
// digests of the ids and links it was built from.
func (m *BetweennessMemo) store(in *Inputs, nodes []graphNode, g *Graph, cfg ChokepointConfig, res BetweennessResult, idsD, linksD uint64) {
	if m == nil {
		return
	}
	kinds, ids := make([]byte, len(nodes)), make([]string, len(nodes))
	for i, n := range nodes {
		kinds[i], ids[i] = n.kind, in.ID(n.id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.valid, m.key, m.kinds, m.ids, m.g, m.res = true, memoKey(cfg), kinds, ids, g, res
	m.idsDigest, m.linksDigest, m.nodes = idsD, linksD, nodes
}
