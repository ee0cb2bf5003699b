package detectors

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// ---- 1. single source ---------------------------------------------------------------------------

type singleSource struct{}

func (singleSource) Name() string { return NameSingleSource }

// singleSourceTerms appends the single-source terms of a pair to buf, without their Detail text
// (see singleSourceDetails), and returns its flags.
func singleSourceTerms(in *Inputs, p *PairMetrics, buf []Term) ([]Term, []string) {
	cfg := in.Cfg.SingleSource
	w := cfg.Weights
	n := len(p.Suppliers)
	buf = append(buf,
		term("top_share", p.TopShare(), p.TopShare(), w.TopShare, ""),
		term("supplier_hhi", p.HHI, p.HHI, w.SupplierHHI, ""),
		term("country_hhi", p.CountryHHI, p.CountryHHI, w.CountryHHI, ""),
		term("foreign_share", p.ForeignShare, p.ForeignShare, w.ForeignShare, "share of suppliers not domestic"),
		term("single_source", float64(n), b01(n <= cfg.MaxSuppliersSingle), w.SingleSource, ""),
		term("no_alternate", float64(p.NumAlternates), b01(p.NoAlternate), w.NoAlternate, ""),
		term("effective_suppliers", EffectiveNumber(p.HHI), 0, 0, "1 / supplier_hhi (information)"),
	)
	return buf, pairFlags(in, p)
}

// pairFlags are the supplier-concentration flags of a pair.
func pairFlags(in *Inputs, p *PairMetrics) []string {
	cfg := in.Cfg.SingleSource
	n := len(p.Suppliers)
	var flags []string
	if n <= cfg.MaxSuppliersSingle {
		flags = append(flags, FlagSingleSource)
	}
	if n == 0 {
		flags = append(flags, FlagNoQualified)
	}
	if len(p.Countries) == 1 {
		flags = append(flags, FlagSingleCountry)
	}
	if p.HHI >= cfg.HHIThreshold {
		flags = append(flags, FlagConcentrated)
	}
	if p.NoAlternate {
		flags = append(flags, FlagNoAlternate)
	}
	if n > 0 && !p.Suppliers[0].Domestic && p.Suppliers[0].Share >= in.Cfg.Chokepoint.ForeignControlShare {
		flags = append(flags, FlagForeignControl)
	}
	return flags
}

// pairReportable reports whether the single-source detector reports a pair (cheap pre-check).
func pairReportable(in *Inputs, p *PairMetrics) bool {
	if len(p.Suppliers) == 0 && p.InProgress == 0 {
		return false // no supplier data for this pair (stocks or awards only)
	}
	return len(p.Suppliers) <= in.Cfg.SingleSource.MaxSuppliersSingle || len(p.Countries) == 1 ||
		p.HHI >= in.Cfg.SingleSource.HHIThreshold
}

// singleSourceDetails fills the Detail text of singleSourceTerms' terms.
func singleSourceDetails(in *Inputs, p *PairMetrics, t []Term) {
	n := len(p.Suppliers)
	awards := 0
	for _, s := range p.Suppliers {
		if s.Award {
			awards++
		}
	}
	t[0].Detail = "no active qualified supplier"
	if n > 0 {
		s := p.Suppliers[0]
		t[0].Detail = fmt.Sprintf("%s (%s) %s", in.ID(s.Sup), countryOrUnknown(s.Country), pct(s.Share))
	}
	t[1].Detail = fmt.Sprintf("effective number %.2f over %d active qualified suppliers (%d via awards)", EffectiveNumber(p.HHI), n, awards)
	t[2].Detail = topShares(p.Countries, 3)
	t[4].Detail = fmt.Sprintf("%d active qualified suppliers, %d in qualification", n, p.InProgress)
	t[5].Detail = fmt.Sprintf("%d alternates (%d from the substitution list)", p.NumAlternates, p.SubsCount)
}

func (singleSource) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a, err := in.Analysis(ctx)
	if err != nil {
		return nil, err
	}
	col := newCollector(in.Cfg.MaxFindingsPerDetector)
	col.alternates = a.Alternates
	// first the scores of every candidate (for the collector's floor), then the findings
	var buf []Term
	all := a.pairScores(NameSingleSource, false, func(i int) float64 {
		p := &a.Pairs[i]
		if !pairReportable(in, p) {
			return notCandidate
		}
		buf, _ = singleSourceTerms(in, p, buf[:0])
		return Composite(buf)
	})
	cands, scores := candidates(all, func(s float64) bool { return !math.IsNaN(s) })
	col.setFloor(scores)
	reuse := a.pairFindingReuse(ctx, false)
	for ci, i := range cands {
		p, score := &a.Pairs[i], scores[ci]
		if !a.pairToBuild(col, reuse, NameSingleSource, i, score) {
			continue
		}
		terms, flags := singleSourceTerms(in, p, nil)
		Composite(terms)
		singleSourceDetails(in, p, terms)
		f := in.pairFinding(NameSingleSource, p)
		f.Terms, f.Flags, f.Score = terms, flags, score
		col.add(f)
	}
	return col.result(), ctx.Err()
}

func hasAny(flags []string, want ...string) bool {
	return slices.ContainsFunc(flags, func(f string) bool { return slices.Contains(want, f) })
}
