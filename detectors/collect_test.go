package detectors

import (
	"fmt"
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
