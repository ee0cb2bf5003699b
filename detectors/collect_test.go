package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
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

// TestCollectorKeepsBest: what the collector returns is what sorting every offered finding by
// compareFindings and keeping the first limit gives (limit 0: all), over random scores with ties,
// random offering orders and subjects, with and without the floor; each kept finding is the one
// offered (its slot was not taken by another).
func TestCollectorKeepsBest(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	for _, tc := range []struct{ n, limit, levels int }{{0, 10, 3}, {1, 10, 3}, {1000, 0, 5}, {1000, 37, 4}, {1000, 999, 1000}, {3000, 1000, 9}, {200, 1, 2}} {
		for _, floor := range []bool{false, true} {
			var offered []Finding
			scores := make([]float64, tc.n)
			for i := range tc.n {
				scores[i] = float64(r.IntN(tc.levels))
				offered = append(offered, Finding{Score: scores[i], SubjectType: []string{SubjectComponent, SubjectEnterpriseComponent}[r.IntN(2)],
					Subject: fmt.Sprintf("s%06d", r.IntN(1_000_000)), SubjectName: fmt.Sprint(i)})
			}
			col := newCollector(tc.limit)
			if floor {
				col.setFloor(scores)
			}
			for _, f := range offered {
				if col.wants(f.Score, f.SubjectType, f.Subject) {
					col.add(f)
				}
			}
			got := col.result()
			want := slices.Clone(offered)
			slices.SortStableFunc(want, func(a, b Finding) int { return compareFindings(&a, &b) })
			if tc.limit > 0 && len(want) > tc.limit {
				want = want[:tc.limit]
			}
			if got == nil || len(got) != len(want) {
				t.Fatalf("%+v floor %v: kept %d findings (nil %v), want %d", tc, floor, len(got), got == nil, len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Score != w.Score || g.SubjectType != w.SubjectType || g.Subject != w.Subject {
					t.Fatalf("%+v floor %v: finding %d is %v %s %s, want %v %s %s", tc, floor, i, g.Score, g.SubjectType, g.Subject, w.Score, w.SubjectType, w.Subject)
				}
				// duplicate subjects compare equal: the name must belong to one offered with that key
				if g.SubjectName != w.SubjectName {
					ok := false
					for _, o := range offered {
						ok = ok || (o.SubjectName == g.SubjectName && o.Score == g.Score && o.Subject == g.Subject && o.SubjectType == g.SubjectType)
					}
					if !ok {
						t.Fatalf("%+v floor %v: finding %d (%s) carries the name of another finding: %s", tc, floor, i, g.Subject, g.SubjectName)
					}
				}
			}
		}
	}
}

// TestPermute: permute puts xs[order[i]] at i for random permutations (cycles of every length,
// fixed points, the identity, the empty one) and leaves order as the identity.
func TestPermute(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	for _, n := range []int{0, 1, 2, 3, 10, 1000} {
		for range 20 {
			order := make([]int32, n)
			for i := range order {
				order[i] = int32(i)
			}
			if r.IntN(4) > 0 {
				r.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
			}
			xs := make([]string, n)
			for i := range xs {
				xs[i] = fmt.Sprint("x", i)
			}
			want := make([]string, n)
			for i, o := range order {
				want[i] = xs[o]
			}
			permute(xs, order)
			if !slices.Equal(xs, want) {
				t.Fatalf("n %d: permuted %v, want %v", n, xs, want)
			}
			for i, o := range order {
				if o != int32(i) {
					t.Fatalf("n %d: order[%d] = %d after permute", n, i, o)
				}
			}
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

// TestSortFindings checks the index sort against a stable sort of the findings themselves: score
// descending, subject type, subject, and findings equal in all three in their first order.
func TestSortFindings(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, n := range []int{0, 1, 2, 7, 100, 5000} {
		fs := make([]Finding, n)
		for i := range fs {
			fs[i] = Finding{Score: float64(rng.IntN(20)), SubjectType: []string{"component", "supplier"}[rng.IntN(2)],
				Subject: fmt.Sprintf("S%d", rng.IntN(max(1, n/3))), Detector: fmt.Sprint(i)} // Detector: the first order
		}
		want := slices.Clone(fs)
		sort.SliceStable(want, func(i, j int) bool { return compareFindings(&want[i], &want[j]) < 0 })
		sortFindings(fs)
		if !reflect.DeepEqual(fs, want) {
			t.Errorf("%d findings: order differs from a stable sort", n)
		}
	}
}
