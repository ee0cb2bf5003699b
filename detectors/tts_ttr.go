package detectors

import (
	"context"
	"fmt"
	"math"
)

// ---- 4. TTS vs TTR ------------------------------------------------------------------------------

type ttsTTR struct{}

func (ttsTTR) Name() string { return NameTTSTTR }

func (ttsTTR) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a, err := in.Analysis(ctx)
	if err != nil {
		return nil, err
	}
	col := newCollector(in.Cfg.MaxFindingsPerDetector)
	col.alternates = a.Alternates
	// first the scores of every candidate (for the collector's floor), then the findings
	all := make([]float64, len(a.Pairs)) // NaN: not a candidate (TTSGap's norm is never NaN)
	for i := range a.Pairs {
		all[i] = notCandidate
		if p := &a.Pairs[i]; p.TTSKnown && p.TTS < p.TTR {
			_, norm := TTSGap(p.TTS, p.TTR)
			all[i] = 100 * norm
		}
	}
	cands, scores := candidates(all, func(s float64) bool { return !math.IsNaN(s) })
	col.setFloor(scores)
	reuse := a.pairFindingReuse(ctx, false)
	for ci, i := range cands {
		p := &a.Pairs[i]
		gap, norm := TTSGap(p.TTS, p.TTR)
		if !a.pairToBuild(col, reuse, NameTTSTTR, i, scores[ci]) {
			continue
		}
		f := in.pairFinding(NameTTSTTR, p)
		f.Terms = []Term{
			term("tts_gap", gap, norm, 1, fmt.Sprintf("TTR %.0f d − TTS %.1f d uncovered", p.TTR, p.TTS)),
			term("tts_days", p.TTS, 0, 0, "inventory ÷ consumption per day"),
			term("ttr_days", p.TTR, 0, 0, "best alternate: "+p.TTRSource),
		}
		f.Flags = []string{FlagTTSBelowTTR}
		if p.NoAlternate {
			f.Flags = append(f.Flags, FlagNoAlternate)
		}
		f.Score = Composite(f.Terms)
		col.add(f)
	}
	return col.result(), ctx.Err()
}
