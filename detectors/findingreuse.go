package detectors

import (
	"context"
	"slices"
)

// A detector run by the Runner may take a kept enterprise × component finding from the detector's
// previous run instead of building it again, when nothing it is built from changed since:
//   - the pair has taken its metrics from the run before in every run since that one (PairMemo:
//     its own inputs, the ids, the node attributes, the substitution list and the configuration
//     stayed the same) and listed the same products (Analysis.pairSince);
//   - for exposure, its component's chokepoint score, availability and chokepoint flags stayed the
//     same since that run (the other terms are the pair's; Analysis.compSince);
//   - the subject was kept in that run (the runner holds its score and finding digest).
// The runs are the runner's runs of any detectors, numbered by the memo, so a run of some
// detectors in between (the event-driven trigger's) does not stop the others from reusing.
//
// A pair finding is a function of those inputs and of the run's window, which the digest counts
// as "the run's window" (findingHash), so the finding built now would have that digest and score.
// The detector then adds a reference (Finding.reused: subject, score and digest, no content) and
// the runner's delta run carries the stored row (store_runs.go). When the run cannot carry from
// that run after all (another run came in between, or the run is written in full), the runner
// scores the detector again without references (Runner.prepare). TestRunnerCarryOverIntegration compares
// the stored findings with a runner that builds every finding.

// prevFindings is a detector's previous run as the runner holds it: run id and, per subject, the
// score and finding digest.
type prevFindings struct {
	runID    string
	subjects map[subjectKey]subjectState
}

type prevFindingsKey struct{}

// withPrevFindings lets the detectors run with ctx take findings from p (nil: none).
func withPrevFindings(ctx context.Context, p *prevFindings) context.Context {
	return context.WithValue(ctx, prevFindingsKey{}, p)
}

func prevFindingsFrom(ctx context.Context) *prevFindings {
	p, _ := ctx.Value(prevFindingsKey{}).(*prevFindings)
	return p
}

// pairFindingReuse decides, in one detector run, which kept pair findings are references.
type pairFindingReuse struct {
	a        *Analysis
	prev     *prevFindings
	prevSeq  uint64 // the number of the previous run's analysis
	withComp bool
}

// pairFindingReuse returns the reuse of a detector run with ctx, or nil when it has none: no
// previous run in ctx, no memo, or a previous run the memo does not know (or, withComp, no
// component comparison).
func (a *Analysis) pairFindingReuse(ctx context.Context, withComp bool) *pairFindingReuse {
	prev := prevFindingsFrom(ctx)
	if prev == nil || a.pairSince == nil || withComp && a.compSince == nil {
		return nil
	}
	seq, ok := a.in.pairMemo.seqOf(prev.runID)
	if !ok || seq >= a.seq {
		return nil
	}
	return &pairFindingReuse{a: a, prev: prev, prevSeq: seq, withComp: withComp}
}

// finding returns the reference finding of pair i (subject its subject) when it may be taken from
// the previous run.
func (r *pairFindingReuse) finding(det string, i int32, subject string) (Finding, bool) {
	if r == nil || r.a.pairSince[i] > r.prevSeq {
		return Finding{}, false
	}
	if r.withComp && r.a.compSince[r.a.pairComp[i]] > r.prevSeq {
		return Finding{}, false
	}
	s, ok := r.prev.subjects[subjectKey{SubjectEnterpriseComponent, subject}]
	if !ok {
		return Finding{}, false
	}
	return Finding{Detector: det, SubjectType: SubjectEnterpriseComponent, Subject: subject, Score: s.score,
		reused: true, reusedHash: s.hash}, true
}

// pairToBuild offers pair i's finding (with this score) to the collector, and reports whether the
// detector must build it: not when the collector refuses it, nor when it may be taken from the
// previous run, whose reference is then added in its place.
func (a *Analysis) pairToBuild(col *collector, reuse *pairFindingReuse, det string, i int32, score float64) bool {
	subject := a.pairSubject(i)
	if !col.wants(score, SubjectEnterpriseComponent, subject) {
		return false
	}
	if f, ok := reuse.finding(det, i, subject); ok {
		col.add(f)
		return false
	}
	return true
}

// countReused returns how many of fs are references.
func countReused(fs []Finding) int {
	n := 0
	for i := range fs {
		if fs[i].reused {
			n++
		}
	}
	return n
}

// compFig is what the exposure of a pair reads of its component, and since which run it is so.
type compFig struct {
	choke, avail float64
	flags        []string
	since        uint64
}

// compSnapshot is one run's component figures (by interned id) for the next run's comparison.
type compSnapshot struct {
	ids  uint64
	figs map[int32]compFig
}

// compareComps sets a.compSince against the memo's last components and stores this run's. The memo
// gives its components up first (a run that fails before storing leaves none, and the next run
// counts every component as changed).
func (a *Analysis) compareComps() {
	m := a.in.pairMemo
	if m == nil {
		return
	}
	m.mu.Lock()
	prev := m.comps
	m.comps = nil
	m.mu.Unlock()
	if prev != nil && prev.ids != a.idsDigest {
		prev = nil
	}
	a.compSince = make([]uint64, len(a.Comps))
	cur := &compSnapshot{ids: a.idsDigest, figs: make(map[int32]compFig, len(a.Comps))}
	for ci, c := range a.Comps {
		a.compSince[ci] = a.seq
		if prev != nil {
			if f, ok := prev.figs[c.Comp]; ok && f.choke == c.ChokeScore && f.avail == c.Availability && slices.Equal(f.flags, c.chokeFlags) {
				a.compSince[ci] = f.since
			}
		}
		cur.figs[c.Comp] = compFig{c.ChokeScore, c.Availability, c.chokeFlags, a.compSince[ci]}
	}
	m.mu.Lock()
	m.comps = cur
	m.mu.Unlock()
}
