package detectors

import (
	"context"
	"fmt"
)

// ---- 5. composite exposure ----------------------------------------------------------------------

type exposure struct{}

func (exposure) Name() string { return NameExposure }

// exposurePairTerms appends the exposure terms of a pair to buf; details only when asked.
func exposurePairTerms(in *Inputs, p *PairMetrics, c *CompMetrics, buf []Term, details bool) []Term {
	w := in.Cfg.Exposure.Weights
	n := len(p.Suppliers)
	buf = append(buf,
		term("supplier_hhi", p.HHI, p.HHI, w.SupplierHHI, ""),
		term("single_source", float64(n), b01(n <= in.Cfg.SingleSource.MaxSuppliersSingle), w.SingleSource, ""),
		term("country_hhi", p.CountryHHI, p.CountryHHI, w.CountryHHI, ""),
		term("foreign_share", p.ForeignShare, p.ForeignShare, w.ForeignShare, ""),
		term("no_alternate", float64(p.NumAlternates), b01(p.NoAlternate), w.NoAlternate, ""),
	)
	if p.TTSKnown {
		gap, norm := TTSGap(p.TTS, p.TTR)
		buf = append(buf, term("tts_gap", gap, norm, w.TTSGap, ""))
	} else {
		buf = append(buf, unknown("tts_gap", "no stocks link with consumption"))
	}
	buf = append(buf,
		term("chokepoint", c.ChokeScore, c.ChokeScore/100, w.Chokepoint, "chokepoint score of the component"),
		term("availability", c.Availability, c.Availability, w.Availability, "worst part signal of the component"))
	t := buf[len(buf)-8:]
	if n == 0 && p.InProgress == 0 {
		// no supplier data at all: the supplier terms are unknown, not worst-case
		for i := range t[:5] {
			t[i] = unknown(t[i].Name, "no supplies links")
		}
	} else if details {
		t[0].Detail = fmt.Sprintf("%d active qualified suppliers", n)
		t[2].Detail = topShares(p.Countries, 3)
		t[4].Detail = fmt.Sprintf("%d alternates", p.NumAlternates)
	}
	if details && p.TTSKnown {
		t[5].Detail = fmt.Sprintf("TTS %.1f d vs TTR %.0f d (%s)", p.TTS, p.TTR, p.TTRSource)
	}
	return buf
}

func (exposure) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a, err := in.Analysis(ctx)
	if err != nil {
		return nil, err
	}
	cfg := in.Cfg.Exposure
	col := newCollector(in.Cfg.MaxFindingsPerDetector)
	col.alternates = a.Alternates
	// first the scores of every candidate, pairs and components (for the collector's floor), then
	// the findings
	var buf []Term
	var comps []int32
	var compScores []float64
	all := a.pairScores(NameExposure, true, func(i int) float64 {
		p := &a.Pairs[i]
		buf = exposurePairTerms(in, p, a.Comps[a.pairComp[i]], buf[:0], false)
		return Composite(buf)
	})
	pairs, pairScores := candidates(all, func(s float64) bool { return s >= cfg.MinScore })
	for i, c := range a.Comps {
		if c.Pairs == 0 {
			continue
		}
		buf = exposureCompTerms(in, c, buf[:0], false)
		if score := Composite(buf); score >= cfg.MinScore {
			comps, compScores = append(comps, int32(i)), append(compScores, score)
		}
	}
	col.setFloor(pairScores, compScores)
	reuse := a.pairFindingReuse(ctx, true)
	for pi, i := range pairs {
		p := &a.Pairs[i]
		if !a.pairToBuild(col, reuse, NameExposure, i, pairScores[pi]) {
			continue
		}
		c := a.Comps[a.pairComp[i]]
		f := in.pairFinding(NameExposure, p)
		f.Terms = exposurePairTerms(in, p, c, nil, true)
		f.Score = Composite(f.Terms)
		if len(p.Suppliers) > 0 || p.InProgress > 0 {
			f.Flags = pairFlags(in, p)
		}
		if p.TTSKnown && p.TTS < p.TTR {
			f.Flags = append(f.Flags, FlagTTSBelowTTR)
		}
		f.Flags = append(f.Flags, c.chokeFlags...)
		col.add(f)
	}
	for ci, i := range comps {
		c := a.Comps[i]
		if !col.wants(compScores[ci], SubjectComponent, in.ID(c.Comp)) {
			continue
		}
		f := in.compFinding(NameExposure, c)
		f.Terms = exposureCompTerms(in, c, nil, true)
		f.Score = Composite(f.Terms)
		f.Flags = append([]string(nil), c.chokeFlags...)
		if c.SingleSourced > 0 {
			f.Flags = append(f.Flags, FlagSingleSource)
		}
		if c.Exposed > 0 {
			f.Flags = append(f.Flags, FlagTTSBelowTTR)
		}
		col.add(f)
	}
	return col.result(), ctx.Err()
}

// exposureCompTerms appends the exposure terms of a component (over all its users) to buf; details
// only when asked.
func exposureCompTerms(in *Inputs, c *CompMetrics, buf []Term, details bool) []Term {
	w := in.Cfg.Exposure.Weights
	ss := in.Cfg.SingleSource
	supHHI := HHIShares(c.SupplierShares)
	ctyHHI := HHIShares(c.CountryShares)
	pairs := float64(c.Pairs)
	detail := func(format string, args ...any) string {
		if !details {
			return ""
		}
		return fmt.Sprintf(format, args...)
	}
	var supDetail, ctyDetail string
	if details {
		supDetail, ctyDetail = "over all users: "+topShares(c.SupplierShares, 3), topShares(c.CountryShares, 3)
	}
	buf = append(buf,
		term("supplier_hhi", supHHI, supHHI, w.SupplierHHI, supDetail),
		term("single_source", float64(len(c.SupplierShares)), b01(len(c.SupplierShares) <= ss.MaxSuppliersSingle), w.SingleSource, "suppliers in the whole map"),
		term("country_hhi", ctyHHI, ctyHHI, w.CountryHHI, ctyDetail),
		term("foreign_share", c.ForeignShare, c.ForeignShare, w.ForeignShare, "mean over users"),
		term("no_alternate", float64(c.NoAlternate), float64(c.NoAlternate)/pairs, w.NoAlternate, detail("%d of %d users without an alternate", c.NoAlternate, c.Pairs)),
	)
	if c.TTSKnown > 0 {
		buf = append(buf,
			term("tts_gap", c.TTSGapNorm, c.TTSGapNorm, w.TTSGap, detail("mean over %d users with stock data", c.TTSKnown)),
			term("exposed_share", float64(c.Exposed), float64(c.Exposed)/float64(c.TTSKnown), w.ExposedShare, detail("%d of %d users with TTS < TTR", c.Exposed, c.TTSKnown)))
	} else {
		buf = append(buf, unknown("tts_gap", "no stocks links"), unknown("exposed_share", "no stocks links"))
	}
	return append(buf,
		term("single_sourced_share", float64(c.SingleSourced), float64(c.SingleSourced)/pairs, w.SingleSourced, detail("%d of %d users single-sourced", c.SingleSourced, c.Pairs)),
		term("chokepoint", c.ChokeScore, c.ChokeScore/100, w.Chokepoint, "chokepoint score of the component"),
		term("availability", c.Availability, c.Availability, w.Availability, "worst part signal"))
}

// TopTerms returns the names of the n terms with the largest contributions (ties by name).
