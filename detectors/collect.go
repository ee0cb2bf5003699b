package detectors

import (
	"cmp"
)

// collector keeps the best findings of one detector run, at most limit of them (0 = all), in the
// order of sortFindings (score desc, subject type, subject). Detectors ask wants() with the score
// and subject before building a finding's explanation, so a large run never materialises findings it
// would drop. Dropped counts what the cap cut.
//
// The kept findings live in one slab; the heap orders their indexes (a Finding is large: swaps move
// int32s) and an evicted finding's slot takes the one that evicts it. result sorts the slab in place,
// so a run's findings are allocated once, in the slab's growth, not once each and again in a sorted
// copy.
type collector struct {
	limit int
	slab  []Finding
	// heap is a binary min-heap of indexes into slab whose root is the worst kept finding
	// (container/heap's algorithm, without boxing each index in an interface).
	heap    []int32
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
		c.heap = make([]int32, 0, min(limit, 1<<16))
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
	if cap(c.slab) < c.limit {
		// about limit candidates reach the floor (more on ties): the slab grows once at most
		c.slab = make([]Finding, 0, c.limit)
		c.heap = make([]int32, 0, c.limit)
	}
}

// candidates returns the indexes and scores of the entries of all that keep accepts, in order,
// in slices sized by a first count (a run's candidates are most of its pairs: growing them by
// appends allocated about twice their size).
func candidates(all []float64, keep func(float64) bool) ([]int32, []float64) {
	n := 0
	for _, s := range all {
		if keep(s) {
			n++
		}
	}
	idx, scores := make([]int32, 0, n), make([]float64, 0, n)
	for i, s := range all {
		if keep(s) {
			idx, scores = append(idx, int32(i)), append(scores, s)
		}
	}
	return idx, scores
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
	if c.limit <= 0 || len(c.heap) < c.limit {
		return true
	}
	w := &c.slab[c.heap[0]]
	if better(score, subjectType, subject, w.Score, w.SubjectType, w.Subject) {
		return true
	}
	c.Dropped++
	return false
}

func (c *collector) add(f Finding) {
	if c.limit <= 0 || len(c.heap) < c.limit {
		c.slab = append(c.slab, f)
		c.push(int32(len(c.slab) - 1))
		return
	}
	c.slab[c.heap[0]] = f // the worst kept finding's slot
	c.down(0)
	c.Dropped++
}

// result returns the kept findings, sorted: the slab itself, permuted into the order of its sorted
// indexes.
func (c *collector) result() []Finding {
	out := c.slab
	order := c.heap
	sortOrder(out, order)
	permute(out, order)
	for i := range out {
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
	c.slab, c.heap = nil, nil
	normalizeFindings(out)
	if out == nil {
		out = []Finding{}
	}
	return out
}

// permute reorders xs so that the new xs[i] is the old xs[order[i]]; order must be a permutation
// of 0..len(xs)-1, and is left as the identity. Each cycle moves its elements once through one
// temporary.
func permute[T any](xs []T, order []int32) {
	for i := range order {
		if order[i] == int32(i) {
			continue
		}
		tmp := xs[i]
		j := int32(i)
		for {
			k := order[j]
			order[j] = j
			if k == int32(i) {
				xs[j] = tmp
				break
			}
			xs[j] = xs[k]
			j = k
		}
	}
}

// worse reports whether the finding at heap position i is worse than the one at j.
func (c *collector) worse(i, j int) bool {
	a, b := &c.slab[c.heap[i]], &c.slab[c.heap[j]]
	return better(b.Score, b.SubjectType, b.Subject, a.Score, a.SubjectType, a.Subject)
}

// push adds slab index x to the heap.
func (c *collector) push(x int32) {
	c.heap = append(c.heap, x)
	for j := len(c.heap) - 1; j > 0; {
		i := (j - 1) / 2 // parent
		if !c.worse(j, i) {
			break
		}
		c.heap[i], c.heap[j] = c.heap[j], c.heap[i]
		j = i
	}
}

// down restores the heap below position i after the finding there got better.
func (c *collector) down(i int) {
	n := len(c.heap)
	for {
		j := 2*i + 1
		if j >= n {
			return
		}
		if r := j + 1; r < n && c.worse(r, j) {
			j = r
		}
		if !c.worse(j, i) {
			return
		}
		c.heap[i], c.heap[j] = c.heap[j], c.heap[i]
		i = j
	}
}
