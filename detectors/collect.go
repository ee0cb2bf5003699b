package detectors

import (
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
	slices.Sort(all)
	c.floor, c.hasFloor = all[n-c.limit], true
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

// result returns the kept findings, sorted.
func (c *collector) result() []Finding {
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
	return capFindings(out, 0)
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
