package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCollectorFloor: with the floor set from every candidate's score, the collector keeps exactly
// the findings it keeps without it (ties on the score included, broken by subject), and builds
// fewer of them.
func TestCollectorFloor(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for _, tc := range []struct{ n, limit, levels int }{{1000, 100, 7}, {1000, 100, 1000}, {500, 499, 3}, {500, 500, 3}, {50, 100, 3}, {2000, 1, 5}} {
		scores := make([]float64, tc.n)
		for i := range scores {
			scores[i] = float64(r.IntN(tc.levels)) // few levels: many ties at the cut
		}
		run := func(floor bool) (kept []string, built int) {
			col := newCollector(tc.limit)
			if floor {
				col.setFloor(scores)
			}
			for i, s := range scores {
				subj := fmt.Sprintf("s%05d", tc.n-i) // offered in descending subject order: the worst order for ties
				if !col.wants(s, SubjectComponent, subj) {
					continue
				}
				built++
				col.add(Finding{Score: s, SubjectType: SubjectComponent, Subject: subj})
			}
			for _, f := range col.result() {
				kept = append(kept, fmt.Sprintf("%v/%s", f.Score, f.Subject))
			}
			return kept, built
		}
		want, builtAll := run(false)
		got, builtFloor := run(true)
		if !slices.Equal(got, want) {
			t.Fatalf("%+v: with the floor kept %d findings %v…, without %d %v…", tc, len(got), head(got), len(want), head(want))
		}
		if len(want) != min(tc.n, tc.limit) {
			t.Fatalf("%+v: kept %d", tc, len(want))
		}
		if tc.n > 2*tc.limit && builtFloor >= builtAll {
			t.Errorf("%+v: built %d findings with the floor, %d without", tc, builtFloor, builtAll)
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// TestNthSmallest: the selection gives, for every k, what a sort puts at k (slices.Sort's order,
// NaN first), over random values with many ties, infinities and NaNs, sorted and reversed input,
// and all-equal input.
func TestNthSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	gen := map[string]func(n int) []float64{
		"distinct": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = r.NormFloat64()
			}
			return xs
		},
		"few levels": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(r.IntN(4))
			}
			return xs
		},
		"specials": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -1, 1}[r.IntN(6)]
			}
			return xs
		},
		"sorted": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(i / 3)
			}
			return xs
		},
		"reversed": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(n - i)
			}
			return xs
		},
		"equal": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = 2.5
			}
			return xs
		},
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for name, g := range gen {
		for _, n := range []int{1, 2, 3, 5, 8, 33, 200} {
			xs := g(n)
			want := slices.Clone(xs)
			slices.Sort(want)
			for k := range n {
				if got := nthSmallest(slices.Clone(xs), k); !same(got, want[k]) {
					t.Fatalf("%s n=%d k=%d: %v, want %v (input %v)", name, n, k, got, want[k], xs)
				}
			}
		}
	}
}
