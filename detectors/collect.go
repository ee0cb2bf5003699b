package detectors

import (
	"cmp"
	"container/heap"
	"slices"
)

// collector keeps the best findings of one detector run, at most limit of them (0 = all), in the
// order of sortFindings (score desc, subject type, subject). Detectors ask wants() with the score
// and subject before building a finding's explanation, so a large run never materialises findings it
// would drop. Dropped counts what the cap cut.
type collector struct {
	limit   int
	h       findingHeap
	Dropped int
	// alternates, when set, fills the alternates of the kept enterprise × component findings.
	alternates func(*PairMetrics) []Alternate
	// floor, when set (setFloor), is the limit-th best score of all the run's candidates: a
	// candidate scoring below it cannot be kept, so wants refuses it before comparing subjects.
	floor    float64
	hasFloor bool
}

func newCollector(limit int) *collector {
	c := &collector{limit: limit}
	if limit > 0 {
		c.h = make(findingHeap, 0, min(limit, 1<<16))
	}
	return c
}

// better reports whether a sorts before b in the findings order.
func better(aScore float64, aType, aSubj string, bScore float64, bType, bSubj string) bool {
	if aScore != bScore {
		return aScore > bScore
	}
	if aType != bType {
		return aType < bType
	}
	return aSubj < bSubj
}

// setFloor takes the scores of every candidate the run will offer (each once, whatever its
// subject) and sets the floor to the limit-th best of them. At least limit candidates score at or
// above it, and every one of them sorts before any candidate below it, so no candidate below the
// floor is among the kept ones: refusing those at once keeps the result the same, and spares
// building the explanations of findings the heap would take in and later evict (a million
// candidates in arbitrary order push about limit·(1 + ln(candidates/limit)) of them).
func (c *collector) setFloor(scores ...[]float64) {
	n := 0
	for _, s := range scores {
		n += len(s)
	}
	if c.limit <= 0 || n <= c.limit {
		return
	}
	all := make([]float64, 0, n)
	for _, s := range scores {
		all = append(all, s...)
	}
	c.floor, c.hasFloor = nthSmallest(all, n-c.limit), true
}

// nthSmallest returns the value that sorting xs (cmp.Compare order: NaN first) would put at index
// k, and reorders xs: Hoare's selection, expected O(len(xs)), where a sort takes O(n log n). The
// pivot is the median of the range's first, middle and last values.
func nthSmallest(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// the median of three to xs[mid]
		if cmp.Less(xs[mid], xs[lo]) {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if cmp.Less(xs[hi], xs[lo]) {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if cmp.Less(xs[hi], xs[mid]) {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for cmp.Less(xs[i], pivot) {
				i++
			}
			for cmp.Less(pivot, xs[j]) {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		// xs[lo..j] ≤ pivot ≤ xs[i..hi], and xs[j+1..i-1] (if any) equal the pivot
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}

// wants reports whether a finding with this score and subject would be kept.
func (c *collector) wants(score float64, subjectType, subject string) bool {
	if c.hasFloor && score < c.floor {
		c.Dropped++
		return false
	}
	if c.limit <= 0 || len(c.h) < c.limit {
		return true
	}
	w := c.h[0]
	if better(score, subjectType, subject, w.Score, w.SubjectType, w.Subject) {
		return true
	}
	c.Dropped++
	return false
}

func (c *collector) add(f Finding) {
	if c.limit <= 0 || len(c.h) < c.limit {
		heap.Push(&c.h, &f)
		return
	}
	c.h[0] = &f
	heap.Fix(&c.h, 0)
	c.Dropped++
}

// result returns the kept findings, sorted (the heap's pointers are sorted, then the findings
// copied in that order: a Finding is large).
func (c *collector) result() []Finding {
	slices.SortFunc(c.h, compareFindings)
	out := make([]Finding, len(c.h))
	for i, f := range c.h {
		out[i] = *f
		if f := &out[i]; f.pair != nil {
			if c.alternates != nil {
				f.Alternates = c.alternates(f.pair)
			}
			if f.Alternates == nil {
				f.Alternates = []Alternate{}
			}
			f.pair = nil
		}
	}
	c.h = nil
	normalizeFindings(out)
	return out
}

// findingHeap is a min-heap of pointers (a Finding is large: swaps move pointers) whose root is the
// worst kept finding.
type findingHeap []*Finding

func (h findingHeap) Len() int { return len(h) }
func (h findingHeap) Less(i, j int) bool {
	return better(h[j].Score, h[j].SubjectType, h[j].Subject, h[i].Score, h[i].SubjectType, h[i].Subject)
}
func (h findingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *findingHeap) Push(x any)   { *h = append(*h, x.(*Finding)) }
func (h *findingHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
