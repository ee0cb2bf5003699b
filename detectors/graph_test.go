package detectors

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/graph/network"
	"gonum.org/v1/gonum/graph/simple"
)

// Hand-computed betweenness (classic undirected: each unordered pair once).
func TestBetweennessHandComputed(t *testing.T) {
	cases := []struct {
		name  string
		n     int
		edges [][2]int32
		want  []float64
	}{
		// path 0-1-2-3-4: node 1 lies on pairs (0,2),(0,3),(0,4) = 3; node 2 on (0,3),(0,4),(1,3),(1,4) = 4
		{"path5", 5, [][2]int32{{0, 1}, {1, 2}, {2, 3}, {3, 4}}, []float64{0, 3, 4, 3, 0}},
		// star: centre on all C(4,2) = 6 leaf pairs
		{"star5", 5, [][2]int32{{0, 1}, {0, 2}, {0, 3}, {0, 4}}, []float64{6, 0, 0, 0, 0}},
		// 4-cycle: each pair of opposite nodes has two shortest paths, one through each other node → ½ each
		{"cycle4", 4, [][2]int32{{0, 1}, {1, 2}, {2, 3}, {3, 0}}, []float64{0.5, 0.5, 0.5, 0.5}},
		// two triangles joined by a bridge 2-3: 2 and 3 carry the 3×3 cross pairs... 0,1 | 2 — 3 | 4,5
		// node 2: pairs {0,1}×{3,4,5} = 6; node 3: {4,5}×{0,1,2} = 6
		{"barbell", 6, [][2]int32{{0, 1}, {0, 2}, {1, 2}, {2, 3}, {3, 4}, {3, 5}, {4, 5}}, []float64{0, 0, 6, 6, 0, 0}},
		// supplier S → component C → enterprises E1, E2 and a second supplier S2 → C:
		// C is on every path between {S,S2} and {E1,E2} and between the pairs within: C(4,2) = 6
		{"component hub", 5, [][2]int32{{0, 1}, {1, 2}, {1, 3}, {4, 1}}, []float64{0, 6, 0, 0, 0}},
		{"duplicates and self-loops dropped", 3, [][2]int32{{0, 1}, {1, 0}, {1, 1}, {1, 2}}, []float64{0, 1, 0}},
	}
	for _, c := range cases {
		g := NewGraph(c.n, c.edges)
		b := mustBetweenness(t, g, 1000, 10, 1)
		for v, w := range c.want {
			if math.Abs(b.Raw[v]-w) > 1e-9 {
				t.Errorf("%s: C(%d) = %v, want %v (all %v)", c.name, v, b.Raw[v], w, b.Raw)
			}
		}
		den := float64(c.n-1) * float64(c.n-2) / 2
		if math.Abs(b.Norm[argmax(c.want)]-c.want[argmax(c.want)]/den) > 1e-12 || b.Sampled {
			t.Errorf("%s: normalisation", c.name)
		}
	}
}

func argmax(x []float64) int {
	best := 0
	for i := range x {
		if x[i] > x[best] {
			best = i
		}
	}
	return best
}

func randomGraph(n, m int, seed uint64) [][2]int32 {
	r := rand.New(rand.NewPCG(seed, 7))
	edges := make([][2]int32, 0, m)
	for i := 1; i < n; i++ { // a spanning tree keeps it connected
		edges = append(edges, [2]int32{int32(i), int32(r.IntN(i))})
	}
	for len(edges) < m {
		edges = append(edges, [2]int32{int32(r.IntN(n)), int32(r.IntN(n))})
	}
	return edges
}

// Our CSR Brandes agrees with gonum's network.Betweenness (which counts both directions of an
// undirected pair, so it is twice the classic value).
func TestBetweennessMatchesGonum(t *testing.T) {
	n := 120
	edges := randomGraph(n, 300, 3)
	g := NewGraph(n, edges)
	ours := mustBetweenness(t, g, n, 0, 1)
	ug := simple.NewUndirectedGraph()
	for i := 0; i < n; i++ {
		ug.AddNode(simple.Node(i))
	}
	for _, e := range edges {
		if e[0] != e[1] {
			ug.SetEdge(simple.Edge{F: simple.Node(e[0]), T: simple.Node(e[1])})
		}
	}
	theirs := network.Betweenness(ug)
	for v := 0; v < n; v++ {
		if math.Abs(ours.Raw[v]-theirs[int64(v)]/2) > 1e-6 {
			t.Fatalf("node %d: ours %v, gonum/2 %v", v, ours.Raw[v], theirs[int64(v)]/2)
		}
	}
}

// Sampling: deterministic for a seed, and close to the exact values for the central nodes.
func TestBetweennessSampled(t *testing.T) {
	n := 2000
	g := NewGraph(n, randomGraph(n, 6000, 5))
	exact := mustBetweenness(t, g, n, 0, 1)
	s1 := mustBetweenness(t, g, 0, 400, 42)
	s2 := mustBetweenness(t, g, 0, 400, 42)
	if !s1.Sampled || s1.Sources != 400 {
		t.Fatalf("not sampled: %+v", s1.Sources)
	}
	for v := range s1.Raw {
		if s1.Raw[v] != s2.Raw[v] {
			t.Fatal("sampling is not deterministic for a fixed seed")
		}
	}
	top := argmax(exact.Raw)
	if rel := math.Abs(s1.Raw[top]-exact.Raw[top]) / exact.Raw[top]; rel > 0.25 {
		t.Errorf("top node: sampled %v vs exact %v (rel err %.2f)", s1.Raw[top], exact.Raw[top], rel)
	}
}

func mustBetweenness(t *testing.T, g *Graph, exactMax, k int, seed int64) BetweennessResult {
	t.Helper()
	b, err := Betweenness(context.Background(), g, exactMax, k, seed)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A cancelled context stops Brandes between sources and returns the context's error.
func TestBetweennessCancelled(t *testing.T) {
	g := NewGraph(2000, randomGraph(2000, 8000, 3))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Betweenness(ctx, g, 5000, 0, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
