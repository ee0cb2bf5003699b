package detectors

import "math"

// A detector's score of a pair is a function of the pair's metrics, the configuration and, for
// exposure, the chokepoint score and availability of its component. A detector that scores every
// pair for its collector's floor takes, with the runner's memo, the scores of the pairs unchanged
// since its last run from that run (docs/scoring.md, "Loading, the table cache and the rescore"):
// a pair whose metrics have been the same since a run at or before it (Analysis.pairSince; a
// changed configuration computes every pair again, so it counts as a change), and for exposure
// whose component's figures have too (Analysis.compSince), in the same pair order (the same
// shared pair keys). TestPairMemoMatchesFresh compares the findings with a fresh analysis's.

// pairScoreMemo is one detector run's score of every pair (NaN: not a candidate).
type pairScoreMemo struct {
	seq    uint64   // the number of the run
	keys   []uint64 // its pair keys (Analysis.keys)
	scores []float64
}

// pairScores returns score(i) for every pair i, taking the unchanged pairs' scores (withComp: and
// whose component is unchanged) from the detector's last run when the memo has it, and keeps
// this run's.
func (a *Analysis) pairScores(detector string, withComp bool, score func(i int) float64) []float64 {
	memo := a.in.pairMemo
	var last *pairScoreMemo
	if memo != nil && a.pairSince != nil && (!withComp || a.compSince != nil) {
		memo.mu.Lock()
		last = memo.scores[detector]
		memo.mu.Unlock()
		if last != nil && (last.seq >= a.seq || !sameSlice(last.keys, a.keys)) {
			last = nil
		}
	}
	out := make([]float64, len(a.Pairs))
	for i := range a.Pairs {
		if last != nil && a.pairSince[i] <= last.seq && (!withComp || a.compSince[a.pairComp[i]] <= last.seq) {
			out[i] = last.scores[i]
			continue
		}
		out[i] = score(i)
	}
	if memo != nil && a.pairSince != nil {
		memo.mu.Lock()
		if memo.scores == nil {
			memo.scores = map[string]*pairScoreMemo{}
		}
		memo.scores[detector] = &pairScoreMemo{seq: a.seq, keys: a.keys, scores: out}
		memo.mu.Unlock()
	}
	return out
}

// sameSlice reports whether x and y are the same slice (one array, one length).
func sameSlice(x, y []uint64) bool {
	return len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
}

// notCandidate is the score of a pair that is no candidate.
var notCandidate = math.NaN()
