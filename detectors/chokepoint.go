package detectors

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ---- 2. chokepoint ------------------------------------------------------------------------------

type chokepoint struct{}

func (chokepoint) Name() string { return NameChokepoint }

// concTerms are the world / import concentration terms of an HS code or material.
func concTerms(in *Inputs, c *ConcMetrics) []Term {
	cfg := in.Cfg.Chokepoint
	w := cfg.Weights
	var t []Term
	switch {
	case c == nil || (!c.HasTrade && !c.HasProd):
		t = append(t, unknown("world_hhi", "no trade or production data"))
	default:
		v, det := c.ExportHHI, ""
		if c.HasTrade {
			det = fmt.Sprintf("exports %d: %s", c.Year, topShares(c.Exporters, 3))
		}
		if b := c.binding(); c.HasProd && (c.ProdHHI >= v || !c.HasTrade) {
			v = c.ProdHHI
			det = "production " + stageDetail(b)
			if len(c.Stages) > 1 {
				det += fmt.Sprintf(" (the most concentrated of %d stages)", len(c.Stages))
			}
		}
		t = append(t, term("world_hhi", v, v, w.WorldHHI, det))
	}
	if c != nil && c.HasImports {
		t = append(t, term("import_hhi", c.ImportHHI, c.ImportHHI, w.ImportHHI, importDetail(in.Cfg.HomeISO3, c)))
	} else {
		t = append(t, unknown("import_hhi", "no imports of the monitored region"))
	}
	if c != nil && c.HasIR {
		t = append(t, term("import_reliance", c.IR, c.IR, w.ImportReliance, fmt.Sprintf("(M−X)/(P+M−X), M %.0f kg, X %.0f kg, P %.0f %s (%s)", c.HomeMKg, c.HomeXKg, c.HomeProd, c.IRUnit, c.IRStage)))
	} else {
		t = append(t, unknown("import_reliance", "home production or trade weights unknown"))
	}
	switch {
	case c != nil && c.Dep.Insufficient:
		t = append(t, unknown("dependency", fmt.Sprintf("insufficient coverage: in %d of the last %d years the listed partners cover less than %s of %s's imports from World (lowest %s); rule held in %d covered years (needs %d)",
			c.Dep.Uncovered, c.DepYears, pct(cfg.MinImportCoverage), in.Cfg.HomeISO3, pct(c.Dep.MinCoverage), c.DepHits, cfg.YearsRequired)))
	case c != nil && (c.HasTrade || c.HasImports):
		t = append(t, term("dependency", float64(c.DepHits), float64(c.DepHits)/float64(cfg.YearsRequired), w.Dependency,
			fmt.Sprintf("rule held in %d of the last %d years (needs %d)", c.DepHits, c.DepYears, cfg.YearsRequired)))
	default:
		t = append(t, unknown("dependency", "no trade series"))
	}
	if c != nil && c.RiskShares != "" {
		t = append(t, term("supply_risk", c.SupplyRisk, c.SupplyRisk/cfg.SupplyRiskScale, w.SupplyRisk, "Σ s²·G·T × (1−RR) × SI over "+c.RiskShares+" shares"))
	} else {
		t = append(t, unknown("supply_risk", "no country shares"))
	}
	if c != nil && len(c.Stages) > 1 {
		// every stage is scored: the binding one enters world_hhi, each is listed (information)
		for _, st := range c.Stages {
			t = append(t, term("production_hhi_"+st.Stage, st.HHI, st.HHI, 0, stageDetail(st)))
		}
	}
	return t
}

// stageDetail explains one stage's producer shares and their denominator.
func stageDetail(st *StageConc) string {
	d := fmt.Sprintf("%s %d: %s", st.Stage, st.Year, topShares(st.Producers, 3))
	if st.OfWorld {
		return d + fmt.Sprintf("; share of the USGS World total %s %s, other/unlisted %s fragmented", num(st.World), st.Unit, pct(st.Remainder/st.Total))
	}
	if st.World > 0 {
		return d + fmt.Sprintf("; share of listed rows %s %s (they exceed the World total %s by more than %s)", num(st.Listed), st.Unit, num(st.World), pct(WorldTotalTolerance))
	}
	return d + fmt.Sprintf("; share of listed rows %s %s (no World total), \"Other countries\" fragmented", num(st.Listed), st.Unit)
}

// importDetail explains the import partner shares and their denominator.
func importDetail(home string, c *ConcMetrics) string {
	d := fmt.Sprintf("%s imports %d: %s", home, c.Year, topShares(c.Partners, 3))
	if c.ImportCoverageKnown {
		return d + fmt.Sprintf("; share of imports from World %s USD, listed partners cover %s, unlisted remainder %s USD (%s) fragmented",
			num(c.ImportWorld), pct(c.ImportCoverage), num(c.ImportRemainder), pct(c.ImportRemainder/c.ImportWorld))
	}
	return d + "; share of the listed partners (no World row)"
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// componentChokeTerms returns a component's chokepoint terms and flags: conc is its concentration
// terms (concTerms of c.Conc, shared: copied), bdetail the betweenness term's detail (the same for
// every component of the analysis).
func (a *Analysis) componentChokeTerms(c *CompMetrics, conc []Term, bdetail string) ([]Term, []string) {
	in := a.in
	cfg := in.Cfg.Chokepoint
	w := cfg.Weights
	t := append(make([]Term, 0, len(conc)+3), conc...) // concTerms(in, c.Conc), shared: copied
	t = append(t,
		term("reach", c.Reach, Saturate(c.Reach, cfg.ReachHalf), w.Reach, fmt.Sprintf("%d enterprises (%d chain leaders ×%.0f), %d products", c.Enterprises, c.ChainLeaders, cfg.ChainLeaderWeight, len(c.Products))),
		term("betweenness", c.Betweenness, c.BetweennessRel, w.Betweenness, bdetail))
	// dominant source: the supply map's top supplier country, else the world-level dominant source.
	dom, share, from := "", 0.0, ""
	if len(c.CountryShares) > 0 {
		dom, share, from = c.CountryShares[0].Key, c.CountryShares[0].Value, "supply map"
	} else if c.Conc != nil {
		dom, share, from = dominantSource(c.Conc, in.home())
	}
	var flags []string
	if dom == "" {
		t = append(t, unknown("foreign_control", "no source data"))
	} else {
		foreign := dom != in.home() && dom != "UNK"
		t = append(t, term("foreign_control", share, b01(foreign)*share, w.ForeignControl, fmt.Sprintf("dominant source %s %s (%s)", dom, pct(share), from)))
		if foreign && share >= cfg.ForeignControlShare {
			flags = append(flags, FlagForeignControl)
		}
	}
	if c.Conc != nil && c.Conc.Dependency {
		flags = append(flags, FlagDependencyRule)
	}
	if c.OnList {
		flags = append(flags, FlagChokepointList)
	}
	if c.BetweennessRel >= 0.5 && c.Betweenness > 0 {
		flags = append(flags, FlagBetweenness)
	}
	return t, flags
}

// dominantSource is where the monitored region's supply of an HS code or material comes from: the
// top world producer when production is known; else, for a net importer, its top import partner;
// a net exporter is its own dominant source (home, share 0); else the top world exporter.
func dominantSource(c *ConcMetrics, home string) (key string, share float64, from string) {
	switch {
	case len(c.Producers) > 0:
		return c.Producers[0].Key, c.Producers[0].Value, "world production"
	case c.HomeM > c.HomeX && len(c.Partners) > 0:
		return c.Partners[0].Key, c.Partners[0].Value, "imports of the monitored region"
	case c.HomeX > 0 && c.HomeX >= c.HomeM:
		return home, 0, "the monitored region is a net exporter"
	case len(c.Exporters) > 0:
		return c.Exporters[0].Key, c.Exporters[0].Value, "world exports"
	}
	return "", 0, ""
}

func betweennessDetail(b BetweennessResult) string {
	if b.Sampled {
		return fmt.Sprintf("normalised betweenness, sampled %d sources; norm = relative to the most central", b.Sources)
	}
	return "normalised betweenness (exact); norm = relative to the most central"
}

func (chokepoint) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a, err := in.Analysis(ctx)
	if err != nil {
		return nil, err
	}
	n := len(a.HS) + len(a.Mats)
	for _, c := range a.Comps {
		if chokeReported(in, c.ChokeScore, c.chokeFlags) {
			n++
		}
	}
	// the reported suppliers are found first, so that every finding goes into one allocation
	// (appends of the suppliers' findings grew it to about three times its size at 1M edges)
	r := newChokeRun(in, a)
	type reported struct {
		s  *SupplierMetric
		sc supScore
	}
	var sups []reported
	for i, s := range a.Sups {
		if err := tick(ctx, i); err != nil {
			return nil, err
		}
		if sc := r.supplierScore(s); chokeReported(in, sc.score, sc.flags) {
			sups = append(sups, reported{s, sc})
		}
	}
	out := make([]Finding, 0, n+len(sups))
	for _, c := range a.Comps {
		if !chokeReported(in, c.ChokeScore, c.chokeFlags) {
			continue
		}
		f := in.compFinding(NameChokepoint, c)
		f.Terms, f.Flags, f.Score = append([]Term(nil), c.chokeTerms...), append([]string(nil), c.chokeFlags...), c.ChokeScore
		out = append(out, f)
	}
	for i, c := range a.HS {
		if err := tick(ctx, i); err != nil {
			return nil, err
		}
		if f, ok := r.concFinding(SubjectHS, c, []string{c.Key}); ok {
			out = append(out, f)
		}
	}
	for i, c := range a.Mats {
		if err := tick(ctx, i); err != nil {
			return nil, err
		}
		if f, ok := r.concFinding(SubjectMaterial, c, c.HSCodes); ok {
			out = append(out, f)
		}
	}
	for i := range sups {
		out = append(out, r.supplierFindingOf(sups[i].s, &sups[i].sc))
	}
	return capFindings(out, in.Cfg.MaxFindingsPerDetector), ctx.Err()
}

// chokeReported: a chokepoint subject is reported when its score reaches min_score, it is on the
// 卡点 list or the dependency rule fires.
func chokeReported(in *Inputs, score float64, flags []string) bool {
	return score >= in.Cfg.Chokepoint.MinScore || hasAny(flags, FlagChokepointList, FlagDependencyRule)
}

// hsCodeReach sums, per HS code, the downstream enterprises, chain leaders and products of the
// components that carry it.
func hsCodeReach(comps []*CompMetrics) map[string]*CompMetrics {
	hsReach := map[string]*CompMetrics{}
	for _, c := range comps {
		if h := c.Info.HSCode; h != "" {
			r := hsReach[h]
			if r == nil {
				r = &CompMetrics{}
				hsReach[h] = r
			}
			r.Enterprises += c.Enterprises
			r.ChainLeaders += c.ChainLeaders
			r.Products = append(r.Products, c.Products...)
		}
	}
	return hsReach
}

// chokeRun is what the chokepoint findings of HS codes, materials and suppliers share.
type chokeRun struct {
	in      *Inputs
	a       *Analysis
	list    map[string]bool
	hsReach map[string]*CompMetrics
}

// newChokeRun readies the scoring of a run's HS codes, materials and suppliers.
func newChokeRun(in *Inputs, a *Analysis) chokeRun {
	return chokeRun{in: in, a: a, list: listSet(in.Cfg.Chokepoint.List), hsReach: hsCodeReach(a.Comps)}
}

// concFinding scores an HS code or material: its concentration terms, the reach summed over the
// components carrying its codes and the foreign control of its dominant source.
func (r chokeRun) concFinding(st string, c *ConcMetrics, codes []string) (Finding, bool) {
	in := r.in
	cfg := in.Cfg.Chokepoint
	terms := concTerms(in, c)
	agg := &CompMetrics{}
	for _, h := range codes {
		if hr := r.hsReach[h]; hr != nil {
			agg.Enterprises += hr.Enterprises
			agg.ChainLeaders += hr.ChainLeaders
			agg.Products = append(agg.Products, hr.Products...)
		}
	}
	reach := WeightedReach(agg.Enterprises, agg.ChainLeaders, cfg.ChainLeaderWeight)
	terms = append(terms, term("reach", reach, Saturate(reach, cfg.ReachHalf), cfg.Weights.Reach,
		fmt.Sprintf("%d enterprises via components with these HS codes (sum over components)", agg.Enterprises)))
	key, share, from := dominantSource(c, in.home())
	var flags []string
	if from == "" {
		terms = append(terms, unknown("foreign_control", "no source data"))
	} else {
		foreign := key != in.home()
		terms = append(terms, term("foreign_control", share, b01(foreign)*share, cfg.Weights.ForeignControl,
			fmt.Sprintf("dominant source %s %s (%s)", key, pct(share), from)))
		if foreign && share >= cfg.ForeignControlShare {
			flags = append(flags, FlagForeignControl)
		}
	}
	if c.Dependency {
		flags = append(flags, FlagDependencyRule)
	}
	if r.list[strings.ToLower(c.Key)] {
		flags = append(flags, FlagChokepointList)
	}
	score := Composite(terms)
	if !chokeReported(in, score, flags) {
		return Finding{}, false
	}
	f := Finding{Detector: NameChokepoint, SubjectType: st, Subject: c.Key, SubjectName: c.Key, Score: score,
		Terms: terms, Flags: flags, Products: in.productIDs(in.sortedUniqueIDs(agg.Products))}
	f.WindowFrom, f.WindowTo = in.WindowFrom, in.WindowTo
	if c.Year > 0 {
		f.WindowFrom = time.Date(c.Year-cfg.YearsWindow+1, 1, 1, 0, 0, 0, 0, time.UTC)
		f.WindowTo = time.Date(c.Year, 12, 31, 0, 0, 0, 0, time.UTC)
	} else if c.ProdYear > 0 {
		f.WindowFrom = time.Date(c.ProdYear, 1, 1, 0, 0, 0, 0, time.UTC)
		f.WindowTo = time.Date(c.ProdYear, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return f, true
}

// supScore is a supplier's chokepoint score, terms (without their details) and flags.
type supScore struct {
	terms [3]Term
	flags []string
	score float64
	id    string
}

// supplierScore scores a supplier: the terms in an array of the caller's, so that scoring the
// suppliers not reported (most) allocates nothing but their flags.
func (r chokeRun) supplierScore(s *SupplierMetric) supScore {
	in := r.in
	cfg := in.Cfg.Chokepoint
	reach := WeightedReach(s.Enterprises, s.ChainLeaders, cfg.ChainLeaderWeight)
	sole := 0.0
	if s.Pairs > 0 {
		sole = float64(s.SolePairs) / float64(s.Pairs)
	}
	sc := supScore{terms: [3]Term{
		term("betweenness", s.Betweenness, s.BetweennessRel, cfg.Weights.Betweenness, ""),
		term("reach", reach, Saturate(reach, cfg.ReachHalf), cfg.Weights.Reach, ""),
		term("foreign_control", sole, b01(s.Foreign)*sole, cfg.Weights.ForeignControl, ""),
	}, id: in.ID(s.Sup)}
	if (s.Info != nil && s.Info.Chokepoint) || r.list[strings.ToLower(sc.id)] {
		sc.flags = append(sc.flags, FlagChokepointList)
	}
	if s.Foreign && sole >= cfg.ForeignControlShare && s.Pairs > 0 {
		sc.flags = append(sc.flags, FlagForeignControl)
	}
	if s.BetweennessRel >= 0.5 && s.Betweenness > 0 {
		sc.flags = append(sc.flags, FlagBetweenness)
	}
	sc.score = Composite(sc.terms[:])
	return sc
}

// supplierFinding scores a supplier: betweenness, reach and foreign sole-source control.
func (r chokeRun) supplierFinding(s *SupplierMetric) (Finding, bool) {
	sc := r.supplierScore(s)
	if !chokeReported(r.in, sc.score, sc.flags) {
		return Finding{}, false
	}
	return r.supplierFindingOf(s, &sc), true
}

// supplierFindingOf is the finding of a reported supplier, of its score sc (supplierScore).
func (r chokeRun) supplierFindingOf(s *SupplierMetric, sc *supScore) Finding {
	in, flags, score, id := r.in, sc.flags, sc.score, sc.id
	terms := append([]Term(nil), sc.terms[:]...)
	terms[0].Detail = betweennessDetail(r.a.Betweenness)
	terms[1].Detail = fmt.Sprintf("supplies %d enterprises (%d chain leaders)", s.Enterprises, s.ChainLeaders)
	terms[2].Detail = fmt.Sprintf("sole qualified source in %d of %d enterprise × component pairs; foreign=%v", s.SolePairs, s.Pairs, s.Foreign)
	f := Finding{Detector: NameChokepoint, SubjectType: SubjectSupplier, Subject: id, Score: score, Terms: terms,
		Flags: flags, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo, Products: []string{}}
	if s.Info != nil {
		f.SubjectName, f.Region, f.Industry = s.Info.Name, s.Info.Region, s.Info.Industry
	}
	return f
}
