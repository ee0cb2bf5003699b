package detectors

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
)

// ---- world / import concentration ---------------------------------------------------------------

type hsYear struct {
	hs   string
	year uint16
}

// homeTot are the monitored region's import (m) and export (x) totals, in USD and kg; mWorld is its
// reported imports from partner World (0 when it has no World row; noWorld then set when summed
// over several HS codes).
type homeTot struct {
	m, x, mkg, xkg float64
	mWorld         float64
	noWorld        bool
}

// tradeIndex is the trade data regrouped by (HS code, year): world exporters' volumes, the
// monitored region's partners and totals, and the years present per HS code.
type tradeIndex struct {
	exporters  map[hsYear]map[string]float64
	partners   map[hsYear]map[string]float64
	homeTotals map[hsYear]*homeTot
	years      map[string][]uint16
}

// concentration computes per HS code (trade) and per material (production + configured HS codes).
func (a *Analysis) concentration(ctx context.Context) error {
	// The step reads only the trade and production aggregates and the configuration: with the
	// runner's memo and the load's built parts of the last run (the same maps), its result is that
	// run's (concMemo).
	memo := a.in.pairMemo
	if hs, mats, ok := memo.concFor(a.in); ok {
		a.HS, a.Mats, a.ConcReused = hs, mats, true
		return nil
	}
	if err := a.computeConcentration(ctx); err != nil {
		return err
	}
	memo.keepConc(a.in, a.HS, a.Mats)
	return nil
}

func (a *Analysis) computeConcentration(ctx context.Context) error {
	ti := &tradeIndex{}
	var err error
	if ti.exporters, err = a.exporterVolumes(ctx); err != nil {
		return err
	}
	if err := a.homeTrade(ctx, ti); err != nil {
		return err
	}
	ti.indexYears()
	if err := a.hsConcentration(ctx, ti); err != nil {
		return err
	}
	return a.materialConcentration(ctx, ti)
}

// exporterVolumes are the exporters per (HS code, year): a reporter's exports to World, else the sum
// over its partners; with use_mirror, reporters silent for (h, y) filled from others' imports.
func (a *Analysis) exporterVolumes(ctx context.Context) (map[hsYear]map[string]float64, error) {
	in := a.in
	exporters := map[hsYear]map[string]float64{}
	reported := map[hsYear]map[uint16]bool{}
	n := 0
	for k, t := range in.exportTotals {
		if err := tick(ctx, n); err != nil {
			return nil, err
		}
		n++
		v := t.World
		if !(v > 0) {
			v = t.Partners
		}
		hy := hsYear{k.HS, k.Year}
		if reported[hy] == nil {
			reported[hy] = map[uint16]bool{}
			exporters[hy] = map[string]float64{}
		}
		reported[hy][k.Country] = true
		if v > 0 {
			exporters[hy][in.countryKey(k.Country)] += v
		}
	}
	if !in.Cfg.Chokepoint.UseMirror {
		return exporters, nil
	}
	for k, v := range in.mirror {
		if err := tick(ctx, n); err != nil {
			return nil, err
		}
		n++
		hy := hsYear{k.HS, k.Year}
		if reported[hy][k.Country] {
			continue
		}
		if exporters[hy] == nil {
			exporters[hy] = map[string]float64{}
		}
		exporters[hy][in.countryKey(k.Country)] += v
	}
	return exporters, nil
}

// homeTrade fills the monitored region's import partners and its import / export totals per
// (HS code, year).
func (a *Analysis) homeTrade(ctx context.Context, ti *tradeIndex) error {
	in := a.in
	home := uint16(in.Cfg.HomeM49)
	ti.partners = map[hsYear]map[string]float64{}
	n := 0
	for k, v := range in.homeImports {
		if err := tick(ctx, n); err != nil {
			return err
		}
		n++
		hy := hsYear{k.HS, k.Year}
		if ti.partners[hy] == nil {
			ti.partners[hy] = map[string]float64{}
		}
		ti.partners[hy][in.countryKey(k.Country)] += v
	}
	ti.homeTotals = map[hsYear]*homeTot{}
	pick := func(t *tradeTotals) (float64, float64) {
		if t.World > 0 {
			return t.World, t.WorldKg
		}
		return t.Partners, t.PartnersKg
	}
	total := func(k tradeKey) *homeTot {
		hy := hsYear{k.HS, k.Year}
		h := ti.homeTotals[hy]
		if h == nil {
			h = &homeTot{}
			ti.homeTotals[hy] = h
		}
		return h
	}
	for k, t := range in.importTotals {
		if k.Country == home {
			h := total(k)
			h.m, h.mkg = pick(t)
			h.mWorld, h.noWorld = t.World, !(t.World > 0)
		}
	}
	for k, t := range in.exportTotals {
		if k.Country == home {
			h := total(k)
			h.x, h.xkg = pick(t)
		}
	}
	return nil
}

// indexYears lists the years present per HS code in any of the trade maps.
func (ti *tradeIndex) indexYears() {
	ti.years = map[string][]uint16{}
	add := func(hy hsYear) {
		if !slices.Contains(ti.years[hy.hs], hy.year) {
			ti.years[hy.hs] = append(ti.years[hy.hs], hy.year)
		}
	}
	for hy := range ti.exporters {
		add(hy)
	}
	for hy := range ti.partners {
		add(hy)
	}
	for hy := range ti.homeTotals {
		add(hy)
	}
}

// yearTrade sums exporters, partners and home totals of one year over a set of HS codes. The
// World imports are summed only when every code with partner rows has a World row (else noWorld).
func (ti *tradeIndex) yearTrade(year uint16, codes []string) (ex, pa map[string]float64, tot homeTot) {
	ex, pa = map[string]float64{}, map[string]float64{}
	for _, h := range codes {
		hy := hsYear{h, year}
		for k, v := range ti.exporters[hy] {
			ex[k] += v
		}
		for k, v := range ti.partners[hy] {
			pa[k] += v
		}
		t := ti.homeTotals[hy]
		if t == nil {
			tot.noWorld = tot.noWorld || len(ti.partners[hy]) > 0
			continue
		}
		tot.m += t.m
		tot.x += t.x
		tot.mkg += t.mkg
		tot.xkg += t.xkg
		tot.mWorld += t.mWorld
		tot.noWorld = tot.noWorld || (t.noWorld && len(ti.partners[hy]) > 0)
	}
	if tot.noWorld {
		tot.mWorld = 0
	}
	return ex, pa, tot
}

// conc computes the trade metrics over a set of HS codes (summing countries across codes): the
// latest year's export and import concentration and the dependency rule over the years.
func (a *Analysis) conc(ti *tradeIndex, key string, codes []string) *ConcMetrics {
	cfg := a.in.Cfg.Chokepoint
	c := &ConcMetrics{Key: key, HSCodes: codes}
	yset := map[uint16]bool{}
	for _, h := range codes {
		for _, y := range ti.years[h] {
			yset[y] = true
		}
	}
	if len(yset) == 0 {
		return c
	}
	ys := slices.Sorted(maps.Keys(yset))
	slices.Reverse(ys)
	var series []YearTrade
	for i, y := range ys {
		ex, pa, tot := ti.yearTrade(y, codes)
		exS := SharesOf(ex)
		paS, impHHI, coverage, remainder, ofWorld := PartnerConcentration(pa, tot.mWorld)
		yt := YearTrade{Year: int(y), ImportHHI: impHHI, ExportHHI: HHIShares(exS), Imports: tot.m, Exports: tot.x,
			Coverage: coverage, CoverageKnown: ofWorld}
		if tot.m == 0 {
			for _, v := range pa {
				yt.Imports += v
			}
		}
		series = append(series, yt)
		if i == 0 {
			c.Year = int(y)
			c.Exporters, c.ExportHHI = exS, yt.ExportHHI
			c.Partners, c.ImportHHI = paS, yt.ImportHHI
			c.ImportWorld, c.ImportCoverage, c.ImportRemainder, c.ImportCoverageKnown = tot.mWorld, coverage, remainder, ofWorld
			c.HomeM, c.HomeX, c.HomeMKg, c.HomeXKg = yt.Imports, tot.x, tot.mkg, tot.xkg
			c.HasTrade = len(exS) > 0
			c.HasImports = len(paS) > 0
		}
	}
	c.Dep = DependencyRuleCovered(series, cfg.ImportHHI, cfg.ExportHHI, cfg.ImportExportRatio, cfg.YearsRequired, cfg.YearsWindow, cfg.MinImportCoverage)
	c.DepHits, c.Dependency = c.Dep.Hits, c.Dep.Fires
	c.DepYears = min(len(series), cfg.YearsWindow)
	return c
}

// hsConcentration fills a.HS: one ConcMetrics per HS code in the trade data, sorted.
func (a *Analysis) hsConcentration(ctx context.Context, ti *tradeIndex) error {
	cfg := a.in.Cfg.Chokepoint
	hsSet := map[string]bool{}
	for _, m := range []map[hsYear]map[string]float64{ti.exporters, ti.partners} {
		for hy := range m {
			hsSet[hy.hs] = true
		}
	}
	for hy := range ti.homeTotals {
		hsSet[hy.hs] = true
	}
	for i, h := range slices.Sorted(maps.Keys(hsSet)) {
		if err := tick(ctx, i); err != nil {
			return err
		}
		c := a.conc(ti, h, []string{h})
		a.supplyRisk(c, MaterialFactors{Recycling: cfg.DefaultRecyclingRate, Substitution: cfg.DefaultSubstitutionIndex})
		a.HS = append(a.HS, c)
	}
	return nil
}

// productionStages lists per commodity the stages with production (rows summing > 0), each in its
// latest such year, in production_stages order (others after, by name). The "capacity" stage is
// not production: it is used only when a commodity has no other stage.
func (a *Analysis) productionStages() map[string][]prodKey {
	in := a.in
	stages := in.Cfg.Chokepoint.ProductionStages
	rank := func(s string) int {
		if i := slices.IndexFunc(stages, func(x string) bool { return strings.EqualFold(x, s) }); i >= 0 {
			return i
		}
		return len(stages)
	}
	latest := map[[2]string]uint16{}
	for k, rows := range in.production {
		total := 0.0
		for _, r := range rows {
			total += r.Qty
		}
		if total > 0 {
			ck := [2]string{k.Commodity, k.Stage}
			latest[ck] = max(latest[ck], k.Year)
		}
	}
	out := map[string][]prodKey{}
	for ck, y := range latest {
		out[ck[0]] = append(out[ck[0]], prodKey{ck[0], ck[1], y})
	}
	for m, ks := range out {
		if slices.ContainsFunc(ks, func(k prodKey) bool { return k.Stage != "capacity" }) {
			ks = slices.DeleteFunc(ks, func(k prodKey) bool { return k.Stage == "capacity" })
		}
		slices.SortFunc(ks, func(x, y prodKey) int {
			return cmp.Or(cmp.Compare(rank(x.Stage), rank(y.Stage)), strings.Compare(x.Stage, y.Stage))
		})
		out[m] = ks
	}
	return out
}

// materialConcentration fills a.Mats: production_stats commodities ∪ configured materials, sorted.
func (a *Analysis) materialConcentration(ctx context.Context, ti *tradeIndex) error {
	in := a.in
	cfg := in.Cfg.Chokepoint
	stages := a.productionStages()
	matNames := map[string]bool{}
	for m := range stages {
		matNames[m] = true
	}
	for m := range cfg.Materials {
		matNames[strings.ToLower(m)] = true
	}
	for i, m := range slices.Sorted(maps.Keys(matNames)) {
		if err := tick(ctx, i); err != nil {
			return err
		}
		mc, _ := materialConfig(cfg.Materials, m)
		c := a.conc(ti, m, mc.HSCodes)
		for _, k := range stages[m] {
			c.Stages = append(c.Stages, a.stageConc(k))
		}
		a.production(c)
		a.supplyRisk(c, MaterialFactors{Recycling: mc.RecyclingRate, Substitution: mc.SubstitutionIndex})
		a.Mats = append(a.Mats, c)
	}
	return nil
}

// stageConc computes one stage's producer shares (of the World total when published, see
// ProductionConcentration) and the monitored region's production in it.
func (a *Analysis) stageConc(k prodKey) *StageConc {
	in := a.in
	st := &StageConc{Stage: k.Stage, Year: int(k.Year)}
	named := map[string]float64{}
	other := 0.0
	for _, r := range in.production[k] {
		st.Unit = r.Unit
		if isOtherRow(r.Country) {
			other += r.Qty
			continue
		}
		named[r.Key] += r.Qty
		if r.Key == in.home() {
			st.HomeProd += r.Qty
			st.HasHomeP = true
		}
	}
	world := 0.0
	if w, ok := in.worldProd[k]; ok && (st.Unit == "" || w.Unit == st.Unit) {
		world = w.Qty
	}
	st.ProductionConc = ProductionConcentration(named, other, world)
	return st
}

// production copies the binding (most concentrated) stage into the material's Prod* fields and
// computes import reliance from the preferred stage (the first in production_stages order).
func (a *Analysis) production(c *ConcMetrics) {
	b := c.binding()
	if b == nil {
		return
	}
	c.HasProd, c.ProdYear, c.ProdStage, c.ProdUnit = true, b.Year, b.Stage, b.Unit
	c.ProdHHI, c.Producers, c.ProdTotal = b.HHI, b.Producers, b.Total
	pref := c.Stages[0]
	c.HomeProd, c.HasHomeP, c.IRStage, c.IRUnit = pref.HomeProd, pref.HasHomeP, pref.Stage, pref.Unit
	// import reliance in physical units: trade net weight (kg) against production (unit → kg)
	if f, ok := unitKg(pref.Unit); ok && c.HasHomeP && (c.HomeMKg > 0 || c.HomeXKg > 0) {
		c.IR, c.HasIR = ImportReliance(c.HomeMKg, c.HomeXKg, c.HomeProd*f)
	}
}

// MaterialFactors are the EU-CRM-style factors of one material.
type MaterialFactors struct{ Recycling, Substitution float64 }

func materialConfig(m map[string]configMaterial, name string) (configMaterial, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return configMaterial{SubstitutionIndex: 1}, false
}

func (a *Analysis) supplyRisk(c *ConcMetrics, f MaterialFactors) {
	cfg := a.in.Cfg.Chokepoint
	gov := governanceMap(cfg.Governance)
	tr := governanceMap(cfg.TradeRestriction)
	g := func(iso string) float64 {
		if v, ok := gov[iso]; ok {
			return v
		}
		return cfg.DefaultGovernance
	}
	t := func(iso string) float64 {
		if v, ok := tr[iso]; ok {
			return v
		}
		return 1
	}
	sub := f.Substitution
	if sub == 0 {
		sub = cfg.DefaultSubstitutionIndex
	}
	switch {
	case len(c.Stages) > 0:
		// EU-CRM style: every stage's risk, the material's is the highest
		for _, st := range c.Stages {
			st.SupplyRisk = SupplyRisk(st.Producers, g, t, f.Recycling, sub)
			if c.RiskShares == "" || st.SupplyRisk > c.SupplyRisk {
				c.SupplyRisk, c.RiskShares = st.SupplyRisk, "production ("+st.Stage+")"
			}
		}
	case len(c.Exporters) > 0:
		c.SupplyRisk, c.RiskShares = SupplyRisk(c.Exporters, g, t, f.Recycling, sub), "exports"
	}
}

// governanceMap upper-cases the keys of a per-country factor map (environment keys arrive lower-cased).
func governanceMap(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[strings.ToUpper(k)] = v
	}
	return out
}

func unitKg(unit string) (float64, bool) {
	u := strings.ToLower(strings.TrimSpace(unit))
	switch {
	case u == "kg" || strings.HasPrefix(u, "kilogram"):
		return 1, true
	case u == "kt" || strings.HasPrefix(u, "thousand metric ton") || strings.HasPrefix(u, "thousand ton"):
		return 1e6, true
	case u == "t" || u == "mt" || strings.HasPrefix(u, "metric ton") || strings.HasPrefix(u, "ton"):
		return 1000, true
	}
	return 0, false
}
