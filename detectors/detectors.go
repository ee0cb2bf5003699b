package detectors

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

type configMaterial = ChokepointMaterial

var lifecycleNames = schemas.Lifecycles

// Detector names.
const (
	NameSingleSource = "single_source"
	NameChokepoint   = "chokepoint"
	NameAvailability = "availability"
	NameTTSTTR       = "tts_ttr"
	NameExposure     = "exposure"
)

// Detector turns one run's Inputs into findings. RunID, ComputedAt and PrevScore are filled by the
// Runner; a detector sets everything else.
type Detector interface {
	Name() string
	Run(ctx context.Context, in *Inputs) ([]Finding, error)
}

// Registry is the explicit, ordered set of detectors a Runner runs.
type Registry struct {
	list []Detector
}

// NewRegistry builds the registry of the detectors enabled in cfg, in Names order.
func NewRegistry(cfg Config) (*Registry, error) {
	all := map[string]Detector{
		NameSingleSource: singleSource{},
		NameChokepoint:   chokepoint{},
		NameAvailability: availability{},
		NameTTSTTR:       ttsTTR{},
		NameExposure:     exposure{},
	}
	enabled := map[string]bool{}
	for _, n := range cfg.Enabled {
		if _, ok := all[n]; !ok {
			return nil, fmt.Errorf("detectors: unknown detector %q", n)
		}
		enabled[n] = true
	}
	r := &Registry{}
	for _, n := range Names {
		if enabled[n] {
			r.list = append(r.list, all[n])
		}
	}
	return r, nil
}

// Names lists the registered detectors in run order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.list))
	for i, d := range r.list {
		out[i] = d.Name()
	}
	return out
}

// Select returns the named detectors (all when names is empty), or an error naming an unknown one.
func (r *Registry) Select(names ...string) ([]Detector, error) {
	if len(names) == 0 {
		return append([]Detector(nil), r.list...), nil
	}
	var out []Detector
	for _, n := range names {
		found := false
		for _, d := range r.list {
			if d.Name() == n {
				out = append(out, d)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("detectors: %q is not enabled (enabled: %s)", n, strings.Join(r.Names(), ", "))
		}
	}
	return out, nil
}

// RunAll runs every given detector on in and returns the findings per detector (no I/O: the
// pure-Go scoring path used by the Runner and the benchmarks).
func RunAll(ctx context.Context, in *Inputs, dets []Detector) (map[string][]Finding, error) {
	out := map[string][]Finding{}
	for _, d := range dets {
		f, err := d.Run(ctx, in)
		if err != nil {
			return out, fmt.Errorf("detector %s: %w", d.Name(), err)
		}
		out[d.Name()] = f
	}
	return out, nil
}

// ---- helpers ------------------------------------------------------------------------------------

func term(name string, value, norm, weight float64, detail string) Term {
	return Term{Name: name, Value: value, Norm: Clamp01(norm), Weight: weight, Detail: detail}
}

// unknown is a term whose input is missing: listed with weight 0 so the score renormalises over the
// known terms.
func unknown(name, why string) Term {
	return Term{Name: name, Detail: "n/a: " + why}
}

func b01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// uniqueFlags drops repeated flags, keeping the first occurrence's order.
func uniqueFlags(flags []string) []string {
	out := flags[:0]
	for i, f := range flags {
		dup := false
		for _, g := range flags[:i] {
			dup = dup || g == f
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

func sortFindings(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Score != fs[j].Score {
			return fs[i].Score > fs[j].Score
		}
		if fs[i].SubjectType != fs[j].SubjectType {
			return fs[i].SubjectType < fs[j].SubjectType
		}
		return fs[i].Subject < fs[j].Subject
	})
}

func capFindings(fs []Finding, n int) []Finding {
	for i := range fs {
		fs[i].Flags = uniqueFlags(fs[i].Flags)
		if fs[i].Flags == nil {
			fs[i].Flags = []string{}
		}
		if fs[i].Products == nil {
			fs[i].Products = []string{}
		}
	}
	sortFindings(fs)
	if n > 0 && len(fs) > n {
		return fs[:n]
	}
	return fs
}

const maxProducts = 100

func (in *Inputs) productIDs(ids []int32) []string {
	out := make([]string, 0, min(len(ids), maxProducts))
	for i, p := range ids {
		if i == maxProducts {
			break
		}
		out = append(out, in.ID(p))
	}
	return out
}

// pairFinding fills the dimensions of an enterprise × component finding.
func (in *Inputs) pairFinding(det string, p *PairMetrics) Finding {
	ent, comp := in.ID(p.Ent), in.ID(p.Comp)
	f := Finding{Detector: det, SubjectType: SubjectEnterpriseComponent, Subject: ent + "|" + comp,
		EnterpriseID: ent, ComponentID: comp, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo,
		Alternates: p.Alternates, Products: in.productIDs(p.Products)}
	name := ""
	if e := in.Enterprises[p.Ent]; e != nil {
		f.Industry, f.Region, f.ChainLeader = e.Industry, e.Region, e.ChainLeader
		name = e.Name
	}
	if c := in.Components[p.Comp]; c != nil {
		f.Category = c.Category
		name += " × " + c.Name
	}
	f.SubjectName = strings.Trim(name, " ×")
	if p.TTSKnown {
		f.TTSDays = ptr(p.TTS)
	}
	f.TTRDays = ptr(p.TTR)
	if f.Alternates == nil {
		f.Alternates = []Alternate{}
	}
	return f
}

func (in *Inputs) compFinding(det string, c *CompMetrics) Finding {
	id := in.ID(c.Comp)
	return Finding{Detector: det, SubjectType: SubjectComponent, Subject: id, SubjectName: c.Info.Name, ComponentID: id,
		Category: c.Info.Category, ChainLeader: c.ChainLeaders > 0, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo,
		Products: in.productIDs(c.Products)}
}

func ptr(f float64) *float64 { return &f }

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
		term("no_alternate", float64(len(p.Alternates)), b01(p.NoAlternate), w.NoAlternate, ""),
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
	t[5].Detail = fmt.Sprintf("%d alternates (%d from the substitution list)", len(p.Alternates), p.SubsCount)
}

func (singleSource) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a := in.Analysis()
	col := newCollector(in.Cfg.MaxFindingsPerDetector)
	var buf []Term
	for i := range a.Pairs {
		p := &a.Pairs[i]
		if !pairReportable(in, p) {
			continue
		}
		buf, _ = singleSourceTerms(in, p, buf[:0])
		score := Composite(buf)
		if !col.wants(score, SubjectEnterpriseComponent, in.ID(p.Ent)+"|"+in.ID(p.Comp)) {
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
	for _, f := range flags {
		for _, w := range want {
			if f == w {
				return true
			}
		}
	}
	return false
}

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
		if c.HasProd && (c.ProdHHI >= v || !c.HasTrade) {
			v = c.ProdHHI
			det = fmt.Sprintf("production %s %d: %s", c.ProdStage, c.ProdYear, topShares(c.Producers, 3))
		}
		t = append(t, term("world_hhi", v, v, w.WorldHHI, det))
	}
	if c != nil && c.HasImports {
		t = append(t, term("import_hhi", c.ImportHHI, c.ImportHHI, w.ImportHHI, fmt.Sprintf("%s imports %d: %s", in.Cfg.HomeISO3, c.Year, topShares(c.Partners, 3))))
	} else {
		t = append(t, unknown("import_hhi", "no imports of the monitored region"))
	}
	if c != nil && c.HasIR {
		t = append(t, term("import_reliance", c.IR, c.IR, w.ImportReliance, fmt.Sprintf("(M−X)/(P+M−X), M %.0f kg, X %.0f kg, P %.0f %s", c.HomeMKg, c.HomeXKg, c.HomeProd, c.ProdUnit)))
	} else {
		t = append(t, unknown("import_reliance", "home production or trade weights unknown"))
	}
	if c != nil && (c.HasTrade || c.HasImports) {
		t = append(t, term("dependency", float64(c.DepHits), float64(c.DepHits)/float64(cfg.YearsRequired), w.Dependency,
			fmt.Sprintf("rule held in %d of the last %d years (needs %d)", c.DepHits, c.DepYears, cfg.YearsRequired)))
	} else {
		t = append(t, unknown("dependency", "no trade series"))
	}
	if c != nil && c.RiskShares != "" {
		t = append(t, term("supply_risk", c.SupplyRisk, c.SupplyRisk/cfg.SupplyRiskScale, w.SupplyRisk, "Σ s²·G·T × (1−RR) × SI over "+c.RiskShares+" shares"))
	} else {
		t = append(t, unknown("supply_risk", "no country shares"))
	}
	return t
}

func (a *Analysis) componentChokeTerms(c *CompMetrics) ([]Term, []string) {
	in := a.in
	cfg := in.Cfg.Chokepoint
	w := cfg.Weights
	t := concTerms(in, c.Conc)
	t = append(t,
		term("reach", c.Reach, Saturate(c.Reach, cfg.ReachHalf), w.Reach, fmt.Sprintf("%d enterprises (%d chain leaders ×%.0f), %d products", c.Enterprises, c.ChainLeaders, cfg.ChainLeaderWeight, len(c.Products))),
		term("betweenness", c.Betweenness, c.BetweennessRel, w.Betweenness, betweennessDetail(a.Betweenness)))
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
	a := in.Analysis()
	cfg := in.Cfg.Chokepoint
	list := listSet(cfg.List)
	report := func(score float64, flags []string) bool {
		return score >= cfg.MinScore || hasAny(flags, FlagChokepointList, FlagDependencyRule)
	}
	var out []Finding
	for _, c := range a.Comps {
		terms := append([]Term(nil), c.chokeTerms...)
		if !report(c.ChokeScore, c.chokeFlags) {
			continue
		}
		f := in.compFinding(NameChokepoint, c)
		f.Terms, f.Flags, f.Score = terms, append([]string(nil), c.chokeFlags...), c.ChokeScore
		out = append(out, f)
	}
	// reach of HS codes / materials: sum over the components that carry them
	hsReach := map[string]*CompMetrics{}
	for _, c := range a.Comps {
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
	conc := func(st string, c *ConcMetrics, codes []string) {
		terms := concTerms(in, c)
		agg := &CompMetrics{}
		for _, h := range codes {
			if r := hsReach[h]; r != nil {
				agg.Enterprises += r.Enterprises
				agg.ChainLeaders += r.ChainLeaders
				agg.Products = append(agg.Products, r.Products...)
			}
		}
		reach := WeightedReach(agg.Enterprises, agg.ChainLeaders, cfg.ChainLeaderWeight)
		terms = append(terms, term("reach", reach, Saturate(reach, cfg.ReachHalf), cfg.Weights.Reach,
			fmt.Sprintf("%d enterprises via components with these HS codes (sum over components)", agg.Enterprises)))
		key, share, from := dominantSource(c, in.home())
		dom := Share{Key: key, Value: share}
		var flags []string
		if from == "" {
			terms = append(terms, unknown("foreign_control", "no source data"))
		} else {
			foreign := dom.Key != in.home()
			terms = append(terms, term("foreign_control", dom.Value, b01(foreign)*dom.Value, cfg.Weights.ForeignControl,
				fmt.Sprintf("dominant source %s %s (%s)", dom.Key, pct(dom.Value), from)))
			if foreign && dom.Value >= cfg.ForeignControlShare {
				flags = append(flags, FlagForeignControl)
			}
		}
		if c.Dependency {
			flags = append(flags, FlagDependencyRule)
		}
		if list[strings.ToLower(c.Key)] {
			flags = append(flags, FlagChokepointList)
		}
		score := Composite(terms)
		if !report(score, flags) {
			return
		}
		f := Finding{Detector: NameChokepoint, SubjectType: st, Subject: c.Key, SubjectName: c.Key, Score: score,
			Terms: terms, Flags: flags, Products: in.productIDs(nil)}
		sort.Slice(agg.Products, func(i, j int) bool { return in.ID(agg.Products[i]) < in.ID(agg.Products[j]) })
		f.Products = in.productIDs(dedupIDs(agg.Products))
		f.WindowFrom, f.WindowTo = in.WindowFrom, in.WindowTo
		if c.Year > 0 {
			f.WindowFrom = time.Date(c.Year-cfg.YearsWindow+1, 1, 1, 0, 0, 0, 0, time.UTC)
			f.WindowTo = time.Date(c.Year, 12, 31, 0, 0, 0, 0, time.UTC)
		} else if c.ProdYear > 0 {
			f.WindowFrom = time.Date(c.ProdYear, 1, 1, 0, 0, 0, 0, time.UTC)
			f.WindowTo = time.Date(c.ProdYear, 12, 31, 0, 0, 0, 0, time.UTC)
		}
		out = append(out, f)
	}
	for _, c := range a.HS {
		conc(SubjectHS, c, []string{c.Key})
	}
	for _, c := range a.Mats {
		conc(SubjectMaterial, c, c.HSCodes)
	}
	// suppliers
	for _, s := range a.Sups {
		reach := WeightedReach(s.Enterprises, s.ChainLeaders, cfg.ChainLeaderWeight)
		sole := 0.0
		if s.Pairs > 0 {
			sole = float64(s.SolePairs) / float64(s.Pairs)
		}
		terms := []Term{
			term("betweenness", s.Betweenness, s.BetweennessRel, cfg.Weights.Betweenness, betweennessDetail(a.Betweenness)),
			term("reach", reach, Saturate(reach, cfg.ReachHalf), cfg.Weights.Reach, fmt.Sprintf("supplies %d enterprises (%d chain leaders)", s.Enterprises, s.ChainLeaders)),
			term("foreign_control", sole, b01(s.Foreign)*sole, cfg.Weights.ForeignControl, fmt.Sprintf("sole qualified source in %d of %d enterprise × component pairs; foreign=%v", s.SolePairs, s.Pairs, s.Foreign)),
		}
		var flags []string
		id := in.ID(s.Sup)
		if (s.Info != nil && s.Info.Chokepoint) || list[strings.ToLower(id)] {
			flags = append(flags, FlagChokepointList)
		}
		if s.Foreign && sole >= cfg.ForeignControlShare && s.Pairs > 0 {
			flags = append(flags, FlagForeignControl)
		}
		if s.BetweennessRel >= 0.5 && s.Betweenness > 0 {
			flags = append(flags, FlagBetweenness)
		}
		score := Composite(terms)
		if !report(score, flags) {
			continue
		}
		f := Finding{Detector: NameChokepoint, SubjectType: SubjectSupplier, Subject: id, Score: score, Terms: terms,
			Flags: flags, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo, Products: []string{}}
		if s.Info != nil {
			f.SubjectName, f.Region, f.Industry = s.Info.Name, s.Info.Region, s.Info.Industry
		}
		out = append(out, f)
	}
	return capFindings(out, in.Cfg.MaxFindingsPerDetector), ctx.Err()
}

// ---- 3. availability ----------------------------------------------------------------------------

type availability struct{}

func (availability) Name() string { return NameAvailability }

func (availability) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a := in.Analysis()
	cfg := in.Cfg.Availability
	w := cfg.Weights
	var out []Finding
	for _, p := range a.Parts {
		lifeSignal := p.LifeMoved && p.LifeTo != "active"
		if !p.LeadJump && !p.Collapse && !lifeSignal {
			continue
		}
		ratio := 0.0
		if p.LeadBase > 0 {
			ratio = p.LeadLatest / p.LeadBase
		}
		stockRatio := 0.0
		if p.StockMedian > 0 {
			stockRatio = p.StockLatest / p.StockMedian
		}
		terms := []Term{
			term("lead_time_jump", ratio, b01(p.LeadJump)*p.LeadNorm, w.LeadTimeJump,
				fmt.Sprintf("latest %.0f d vs EWMA(α=%.2f) baseline %.1f d", p.LeadLatest, cfg.EWMAAlpha, p.LeadBase)),
			term("stock_collapse", stockRatio, b01(p.Collapse)*p.StockNorm, w.StockCollapse,
				fmt.Sprintf("latest %.0f vs trailing median %.0f", p.StockLatest, p.StockMedian)),
			term("lifecycle", LifecycleSeverity(p.LifeTo), LifecycleSeverity(p.LifeTo), w.Lifecycle,
				fmt.Sprintf("%s → %s", p.LifeFrom, p.LifeTo)),
		}
		var flags []string
		if p.LeadJump {
			flags = append(flags, FlagLeadTimeJump)
		}
		if p.Collapse {
			flags = append(flags, FlagStockCollapse)
		}
		if lifeSignal {
			flags = append(flags, FlagLifecycle)
		}
		f := Finding{Detector: NameAvailability, SubjectType: SubjectPart, Subject: p.Part, SubjectName: p.Part,
			ComponentID: p.Comp, Terms: terms, Flags: flags,
			WindowFrom: time.Unix(p.FirstDay*86400, 0).UTC(), WindowTo: time.Unix(p.LastDay*86400, 0).UTC(), Products: []string{}}
		if c := a.Component(p.Comp); c != nil && p.Comp != "" {
			f.Category = c.Info.Category
			f.Products = in.productIDs(c.Products)
		}
		f.Score = Composite(f.Terms)
		out = append(out, f)
	}
	return capFindings(out, in.Cfg.MaxFindingsPerDetector), ctx.Err()
}

// ---- 4. TTS vs TTR ------------------------------------------------------------------------------

type ttsTTR struct{}

func (ttsTTR) Name() string { return NameTTSTTR }

func (ttsTTR) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a := in.Analysis()
	col := newCollector(in.Cfg.MaxFindingsPerDetector)
	for i := range a.Pairs {
		p := &a.Pairs[i]
		if !p.TTSKnown || !(p.TTS < p.TTR) {
			continue
		}
		gap, norm := TTSGap(p.TTS, p.TTR)
		if !col.wants(100*norm, SubjectEnterpriseComponent, in.ID(p.Ent)+"|"+in.ID(p.Comp)) {
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
		term("no_alternate", float64(len(p.Alternates)), b01(p.NoAlternate), w.NoAlternate, ""),
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
		t[4].Detail = fmt.Sprintf("%d alternates", len(p.Alternates))
	}
	if details && p.TTSKnown {
		t[5].Detail = fmt.Sprintf("TTS %.1f d vs TTR %.0f d (%s)", p.TTS, p.TTR, p.TTRSource)
	}
	return buf
}

func (exposure) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a := in.Analysis()
	cfg := in.Cfg.Exposure
	w := cfg.Weights
	ss := in.Cfg.SingleSource
	col := newCollector(in.Cfg.MaxFindingsPerDetector)
	var buf []Term
	for i := range a.Pairs {
		p := &a.Pairs[i]
		c := a.Comps[a.compIdx[p.Comp]]
		buf = exposurePairTerms(in, p, c, buf[:0], false)
		score := Composite(buf)
		if score < cfg.MinScore || !col.wants(score, SubjectEnterpriseComponent, in.ID(p.Ent)+"|"+in.ID(p.Comp)) {
			continue
		}
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
	for _, c := range a.Comps {
		if c.Pairs == 0 {
			continue
		}
		supHHI := HHIShares(c.SupplierShares)
		ctyHHI := HHIShares(c.CountryShares)
		pairs := float64(c.Pairs)
		terms := []Term{
			term("supplier_hhi", supHHI, supHHI, w.SupplierHHI, fmt.Sprintf("over all users: %s", topShares(c.SupplierShares, 3))),
			term("single_source", float64(len(c.SupplierShares)), b01(len(c.SupplierShares) <= ss.MaxSuppliersSingle), w.SingleSource, "suppliers in the whole map"),
			term("country_hhi", ctyHHI, ctyHHI, w.CountryHHI, topShares(c.CountryShares, 3)),
			term("foreign_share", c.ForeignShare, c.ForeignShare, w.ForeignShare, "mean over users"),
			term("no_alternate", float64(c.NoAlternate), float64(c.NoAlternate)/pairs, w.NoAlternate, fmt.Sprintf("%d of %d users without an alternate", c.NoAlternate, c.Pairs)),
		}
		if c.TTSKnown > 0 {
			terms = append(terms, term("tts_gap", c.TTSGapNorm, c.TTSGapNorm, w.TTSGap, fmt.Sprintf("mean over %d users with stock data", c.TTSKnown)))
			terms = append(terms, term("exposed_share", float64(c.Exposed), float64(c.Exposed)/float64(c.TTSKnown), w.ExposedShare, fmt.Sprintf("%d of %d users with TTS < TTR", c.Exposed, c.TTSKnown)))
		} else {
			terms = append(terms, unknown("tts_gap", "no stocks links"), unknown("exposed_share", "no stocks links"))
		}
		terms = append(terms,
			term("single_sourced_share", float64(c.SingleSourced), float64(c.SingleSourced)/pairs, w.SingleSourced, fmt.Sprintf("%d of %d users single-sourced", c.SingleSourced, c.Pairs)),
			term("chokepoint", c.ChokeScore, c.ChokeScore/100, w.Chokepoint, "chokepoint score of the component"),
			term("availability", c.Availability, c.Availability, w.Availability, "worst part signal"))
		score := Composite(terms)
		if score < cfg.MinScore || !col.wants(score, SubjectComponent, in.ID(c.Comp)) {
			continue
		}
		f := in.compFinding(NameExposure, c)
		f.Terms, f.Score = terms, score
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

// TopTerms returns the names of the n terms with the largest contributions (ties by name).
func TopTerms(f *Finding, n int) []string {
	ts := append([]Term(nil), f.Terms...)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Contribution != ts[j].Contribution {
			return ts[i].Contribution > ts[j].Contribution
		}
		return ts[i].Name < ts[j].Name
	})
	var out []string
	for i := 0; i < len(ts) && i < n; i++ {
		if ts[i].Contribution > 0 || math.IsNaN(ts[i].Contribution) {
			out = append(out, ts[i].Name)
		}
	}
	return out
}
