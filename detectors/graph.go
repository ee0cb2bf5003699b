package detectors

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Graph is an undirected simple graph in compressed sparse row form: the neighbours of node v are
// Adj[Off[v]:Off[v+1]]. Node ids are 0..N-1.
type Graph struct {
	Off []int32
	Adj []int32
}

// N returns the number of nodes.
func (g *Graph) N() int { return len(g.Off) - 1 }

// NewGraph builds an undirected graph on n nodes from an edge list; self-loops and duplicate edges
// are dropped.
func NewGraph(n int, edges [][2]int32) *Graph {
	deg := make([]int32, n+1)
	for _, e := range edges {
		if e[0] == e[1] {
			continue
		}
		deg[e[0]]++
		deg[e[1]]++
	}
	off := make([]int32, n+1)
	for i := 0; i < n; i++ {
		off[i+1] = off[i] + deg[i]
	}
	adj := make([]int32, off[n])
	pos := append([]int32(nil), off[:n]...)
	for _, e := range edges {
		if e[0] == e[1] {
			continue
		}
		adj[pos[e[0]]] = e[1]
		pos[e[0]]++
		adj[pos[e[1]]] = e[0]
		pos[e[1]]++
	}
	// sort and dedup each row in place, then compact
	w := int32(0)
	newOff := make([]int32, n+1)
	for v := 0; v < n; v++ {
		row := adj[off[v]:off[v+1]]
		slices.Sort(row)
		newOff[v] = w
		for i, x := range row {
			if i > 0 && x == row[i-1] {
				continue
			}
			adj[w] = x
			w++
		}
	}
	newOff[n] = w
	return &Graph{Off: newOff, Adj: adj[:w:w]}
}

// brandesWork holds one worker's buffers for single-source shortest-path accumulation.
type brandesWork struct {
	sigma []float64
	delta []float64
	dist  []int32
	order []int32 // BFS order (the "stack" of Brandes)
	cb    []float64
}

func newBrandesWork(n int) *brandesWork {
	w := &brandesWork{sigma: make([]float64, n), delta: make([]float64, n), dist: make([]int32, n),
		order: make([]int32, 0, 64), cb: make([]float64, n)}
	for i := range w.dist {
		w.dist[i] = -1
	}
	return w
}

// accumulate adds source s's dependencies δ_s(v) = Σ_t σ_st(v)/σ_st to cb (Brandes 2001). Instead of
// predecessor lists, the back-propagation walks each node's neighbours one BFS level closer to s.
func (w *brandesWork) accumulate(g *Graph, s int32) {
	w.order = w.order[:0]
	w.sigma[s] = 1
	w.dist[s] = 0
	w.order = append(w.order, s)
	for head := 0; head < len(w.order); head++ {
		v := w.order[head]
		dv := w.dist[v]
		for _, u := range g.Adj[g.Off[v]:g.Off[v+1]] {
			if w.dist[u] < 0 {
				w.dist[u] = dv + 1
				w.order = append(w.order, u)
			}
			if w.dist[u] == dv+1 {
				w.sigma[u] += w.sigma[v]
			}
		}
	}
	for i := len(w.order) - 1; i >= 0; i-- {
		x := w.order[i]
		dx := w.dist[x]
		coef := (1 + w.delta[x]) / w.sigma[x]
		for _, v := range g.Adj[g.Off[x]:g.Off[x+1]] {
			if w.dist[v] == dx-1 {
				w.delta[v] += w.sigma[v] * coef
			}
		}
		if x != s {
			w.cb[x] += w.delta[x]
		}
	}
	for _, x := range w.order {
		w.sigma[x], w.delta[x], w.dist[x] = 0, 0, -1
	}
}

// BetweennessResult is node betweenness of an undirected graph.
type BetweennessResult struct {
	// Raw is the classic undirected betweenness C(v) = Σ_{s<t, s≠v≠t} σ_st(v)/σ_st (estimated when
	// Sampled); Norm is Raw / ((n−1)(n−2)/2), in 0..1.
	Raw     []float64
	Norm    []float64
	Sampled bool
	Sources int
}

// Betweenness computes node betweenness with Brandes' algorithm: exactly (all n sources) when
// n ≤ exactMax, else from k sources drawn without replacement with a PCG seeded by seed and scaled
// by n/k (Brandes & Pich 2007), so repeated runs on the same graph agree. Work is split over
// GOMAXPROCS workers. Each worker checks ctx between sources; when ctx ends the result is dropped
// and ctx's error returned.
//
//	C(v) = ½ Σ_s δ_s(v)              (exact; each unordered pair is seen from both ends)
//	Ĉ(v) = ½ (n/k) Σ_{s∈S} δ_s(v)    (sampled, |S| = k)
func Betweenness(ctx context.Context, g *Graph, exactMax, k int, seed int64) (BetweennessResult, error) {
	n := g.N()
	res := BetweennessResult{Raw: make([]float64, n), Norm: make([]float64, n)}
	if n == 0 {
		return res, ctx.Err()
	}
	var sources []int32
	scale := 0.5
	if n <= exactMax || k >= n {
		sources = make([]int32, n)
		for i := range sources {
			sources[i] = int32(i)
		}
	} else {
		r := rand.New(rand.NewPCG(uint64(seed), uint64(n)))
		perm := r.Perm(n)[:k]
		slices.Sort(perm)
		sources = make([]int32, k)
		for i, p := range perm {
			sources[i] = int32(p)
		}
		scale = 0.5 * float64(n) / float64(k)
		res.Sampled = true
	}
	res.Sources = len(sources)
	workers := min(runtime.GOMAXPROCS(0), len(sources))
	works := make([]*brandesWork, workers)
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		works[wi] = newBrandesWork(n)
		wg.Add(1)
		go func(w *brandesWork, start int) {
			defer wg.Done()
			for i := start; i < len(sources); i += workers {
				if ctx.Err() != nil {
					return
				}
				w.accumulate(g, sources[i])
			}
		}(works[wi], wi)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return BetweennessResult{}, err
	}
	for _, w := range works {
		for v, c := range w.cb {
			res.Raw[v] += c
		}
	}
	den := float64(n-1) * float64(n-2) / 2
	for v := range res.Raw {
		res.Raw[v] *= scale
		if den > 0 {
			res.Norm[v] = res.Raw[v] / den
		}
	}
	return res, nil
}
