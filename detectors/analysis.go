package detectors

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Analysis is the shared, computed view of one run's Inputs. Every detector reads it; it is built
// once (lazily) per Inputs. All numbers here are the terms the detectors score and explain.
type Analysis struct {
	in *Inputs

	Pairs   []PairMetrics     // per enterprise × component, sorted by (enterprise id, component id)
	pairIdx map[uint64]int32  // pairKey → index in Pairs
	Comps   []*CompMetrics    // per component, sorted by id
	compIdx map[int32]int32   // component → index in Comps
	HS      []*ConcMetrics    // per HS code in the trade data, sorted
	Mats    []*ConcMetrics    // per material (production commodity or configured material), sorted
	Sups    []*SupplierMetric // per supplier in the graph, sorted by id
	Parts   []*PartMetrics    // per part with availability data, sorted

	Graph       *Graph
	Betweenness BetweennessResult
	graphNodes  []graphNode
}

// SupShare is one supplier's share of an enterprise × component.
type SupShare struct {
	Sup      int32
	Share    float64
	Country  string
	Domestic bool
	Award    bool // active through a procurement award only
}

// PairMetrics are the single-source, TTS/TTR and alternates figures of one enterprise × component.
type PairMetrics struct {
	Ent, Comp    int32
	Suppliers    []SupShare // active qualified suppliers, share descending
	HHI          float64    // Σ sᵢ² over Suppliers
	CountryHHI   float64
	TopCountry   string
	TopCountryS  float64
	ForeignShare float64
	Countries    []Share
	InProgress   int
	SubsCount    int // substitution-list entries applicable
	Alternates   []Alternate
	NoAlternate  bool
	TTS          float64
	TTSKnown     bool
	TTR          float64
	TTRSource    string
	Products     []int32
}

// TopShare is the largest supplier share (1 when there is no qualified supplier).
func (p *PairMetrics) TopShare() float64 {
	if len(p.Suppliers) == 0 {
		return 1
	}
	return p.Suppliers[0].Share
}

// CompMetrics are the per-component figures: chokepoint terms and aggregates over its users.
type CompMetrics struct {
	Comp           int32
	Info           *NodeInfo
	Conc           *ConcMetrics // world / import concentration of its HS code or material, nil if none
	Material       string
	Enterprises    int // downstream enterprises (users + makers of products containing it)
	ChainLeaders   int
	Products       []int32
	Reach          float64
	Betweenness    float64 // normalised 0..1 (whole graph)
	BetweennessRel float64 // relative to the most central component
	SupplierShares []Share // over all users (each pair weighs 1)
	CountryShares  []Share
	ForeignShare   float64
	Pairs          int
	SingleSourced  int
	NoAlternate    int
	TTSKnown       int
	Exposed        int
	TTSGapNorm     float64 // mean over pairs with TTS known
	Availability   float64 // worst part signal 0..1
	OnList         bool
	ChokeScore     float64 // the chokepoint detector's score of this component (0..100)
	chokeTerms     []Term
	chokeFlags     []string
}

// ConcMetrics is the supply concentration of one HS code or material.
type ConcMetrics struct {
	Key        string
	Year       int
	ExportHHI  float64 // world exports over exporter countries (latest year)
	Exporters  []Share
	ImportHHI  float64 // the monitored region's imports over partners (latest year)
	Partners   []Share
	HomeM      float64
	HomeX      float64
	HomeMKg    float64
	HomeXKg    float64
	DepHits    int
	DepYears   int
	Dependency bool
	HasTrade   bool
	HasImports bool
	// production (materials)
	ProdYear   int
	ProdStage  string
	ProdUnit   string
	ProdHHI    float64
	Producers  []Share
	ProdTotal  float64
	HomeProd   float64
	HasProd    bool
	HasHomeP   bool
	IR         float64
	HasIR      bool
	SupplyRisk float64
	RiskShares string // "production" or "exports"
	HSCodes    []string
}

// SupplierMetric is the graph position of one supplier.
type SupplierMetric struct {
	Sup            int32
	Info           *NodeInfo
	Betweenness    float64
	BetweennessRel float64
	Enterprises    int
	ChainLeaders   int
	Pairs          int
	SolePairs      int
	Foreign        bool
}

// PartMetrics are the availability signals of one part.
type PartMetrics struct {
	Part        string
	Comp        string
	Snapshots   int
	LeadBase    float64
	LeadLatest  float64
	LeadNorm    float64
	LeadJump    bool
	StockMedian float64
	StockLatest float64
	StockNorm   float64
	Collapse    bool
	LifeFrom    string
	LifeTo      string
	LifeMoved   bool
	LifeNorm    float64
	FirstDay    int64
	LastDay     int64
}

// Signal is the part's worst signal in 0..1 (used by exposure).
func (p *PartMetrics) Signal() float64 {
	s := p.LifeNorm
	if p.LeadJump {
		s = math.Max(s, p.LeadNorm)
	}
	if p.Collapse {
		s = math.Max(s, p.StockNorm)
	}
	return s
}

// Analysis returns the run's shared analysis, computing it on first use.
func (in *Inputs) Analysis() *Analysis {
	in.once.Do(func() { in.analysis = analyze(in) })
	return in.analysis
}

func (in *Inputs) home() string { return strings.ToUpper(in.Cfg.HomeISO3) }

func (in *Inputs) isDomestic(info *NodeInfo) bool {
	return info != nil && (info.Domestic || (info.Country != "" && info.Country == in.home()))
}

func countryOrUnknown(c string) string {
	if c == "" {
		return "UNK"
	}
	return c
}

func analyze(in *Inputs) *Analysis {
	a := &Analysis{in: in, pairIdx: map[uint64]int32{}, compIdx: map[int32]int32{}}
	a.concentration()
	a.parts()
	a.pairs()
	a.graph()
	a.components()
	a.suppliers()
	return a
}

// ---- enterprise × component ---------------------------------------------------------------------

func (a *Analysis) pairs() {
	in := a.in
	cfg := in.Cfg
	// award evidence: pair → suppliers
	awardSups := a.matchAwards()

	order := make([]int32, len(in.Supplies))
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(i, j int) bool {
		x, y := &in.Supplies[order[i]], &in.Supplies[order[j]]
		if x.Comp != y.Comp {
			return x.Comp < y.Comp
		}
		if x.Ent != y.Ent {
			return x.Ent < y.Ent
		}
		return x.Sup < y.Sup
	})
	// per component: suppliers qualified anywhere (global candidates), presorted
	type cand struct {
		sup      int32
		domestic bool
		country  string
	}
	compCands := map[int32][]cand{}
	for i := 0; i < len(order); {
		comp := in.Supplies[order[i]].Comp
		j := i
		seen := map[int32]bool{}
		var cs []cand
		for ; j < len(order) && in.Supplies[order[j]].Comp == comp; j++ {
			e := &in.Supplies[order[j]]
			if e.Qual == QualQualified && !seen[e.Sup] {
				seen[e.Sup] = true
				info := in.Suppliers[e.Sup]
				cs = append(cs, cand{e.Sup, in.isDomestic(info), countryOf(info)})
			}
		}
		sort.Slice(cs, func(x, y int) bool {
			if cfg.Exposure.DomesticFirst && cs[x].domestic != cs[y].domestic {
				return cs[x].domestic
			}
			return in.ID(cs[x].sup) < in.ID(cs[y].sup)
		})
		compCands[comp] = cs
		i = j
	}
	// substitutions by component (Subs sorted by Comp)
	subsOf := func(comp int32) []Sub {
		lo := sort.Search(len(in.Subs), func(i int) bool { return in.Subs[i].Comp >= comp })
		hi := lo
		for hi < len(in.Subs) && in.Subs[hi].Comp == comp {
			hi++
		}
		return in.Subs[lo:hi]
	}
	// products: enterprise → products, (product, component) in BOM
	entProds := map[int32][]int32{}
	for _, m := range in.Makes {
		entProds[m.Ent] = append(entProds[m.Ent], m.Prod)
	}
	bomSet := make(map[uint64]struct{}, len(in.BOM))
	for _, b := range in.BOM {
		bomSet[pairKey(b.Prod, b.Comp)] = struct{}{}
	}

	// collect pair keys: supplies, stocks, awards
	keys := make([]uint64, 0, len(order)/2+len(in.Stocks))
	var last uint64 = math.MaxUint64
	for _, oi := range order {
		e := &in.Supplies[oi]
		k := pairKey(e.Ent, e.Comp)
		if k != last {
			keys = append(keys, k)
			last = k
		}
	}
	extra := map[uint64]bool{}
	for k := range in.Stocks {
		extra[k] = true
	}
	for k := range awardSups {
		extra[k] = true
	}
	// supplies groups in (comp, ent) order; iterate via a cursor
	groups := map[uint64][2]int{}
	for i := 0; i < len(order); {
		e := &in.Supplies[order[i]]
		k := pairKey(e.Ent, e.Comp)
		j := i + 1
		for j < len(order) && pairKey(in.Supplies[order[j]].Ent, in.Supplies[order[j]].Comp) == k {
			j++
		}
		groups[k] = [2]int{i, j}
		delete(extra, k)
		i = j
	}
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ei, ci := pairOf(keys[i])
		ej, cj := pairOf(keys[j])
		if in.ID(ei) != in.ID(ej) {
			return in.ID(ei) < in.ID(ej)
		}
		return in.ID(ci) < in.ID(cj)
	})

	a.Pairs = make([]PairMetrics, len(keys))
	for pi, k := range keys {
		ent, comp := pairOf(k)
		p := &a.Pairs[pi]
		p.Ent, p.Comp = ent, comp
		a.pairIdx[k] = int32(pi)
		cinfo := in.Components[comp]
		category := ""
		if cinfo != nil {
			category = cinfo.Category
		}
		ttrDefault := cfg.TTSTTR.TTRDefault(category)

		// active qualified suppliers
		var inProg []int32
		if g, ok := groups[k]; ok {
			for _, oi := range order[g[0]:g[1]] {
				e := &in.Supplies[oi]
				switch e.Qual {
				case QualQualified:
					info := in.Suppliers[e.Sup]
					p.Suppliers = append(p.Suppliers, SupShare{Sup: e.Sup, Share: e.Share, Country: countryOf(info), Domestic: in.isDomestic(info)})
				case QualInProgress:
					inProg = append(inProg, e.Sup)
				}
			}
		}
		p.InProgress = len(inProg)
		var awardOnly []int32
		for _, s := range awardSups[k] {
			found := false
			for _, x := range p.Suppliers {
				if x.Sup == s {
					found = true
					break
				}
			}
			if !found {
				awardOnly = append(awardOnly, s)
			}
		}
		if len(awardOnly) > 0 {
			mapped, minPos := 0.0, math.Inf(1)
			for _, x := range p.Suppliers {
				mapped += math.Max(x.Share, 0)
				if x.Share > 0 && x.Share < minPos {
					minPos = x.Share
				}
			}
			each := 0.0
			switch {
			case mapped < 1:
				each = (1 - mapped) / float64(len(awardOnly))
			case !math.IsInf(minPos, 1):
				each = minPos
			}
			for _, s := range awardOnly {
				info := in.Suppliers[s]
				p.Suppliers = append(p.Suppliers, SupShare{Sup: s, Share: each, Country: countryOf(info), Domestic: in.isDomestic(info), Award: true})
			}
		}
		normaliseSupShares(p.Suppliers)
		sort.Slice(p.Suppliers, func(i, j int) bool {
			if p.Suppliers[i].Share != p.Suppliers[j].Share {
				return p.Suppliers[i].Share > p.Suppliers[j].Share
			}
			return in.ID(p.Suppliers[i].Sup) < in.ID(p.Suppliers[j].Sup)
		})
		shares := make([]float64, len(p.Suppliers))
		countries := map[string]float64{}
		for i, s := range p.Suppliers {
			shares[i] = s.Share
			p.HHI += s.Share * s.Share
			countries[countryOrUnknown(s.Country)] += s.Share
			if !s.Domestic {
				p.ForeignShare += s.Share
			}
		}
		if len(p.Suppliers) == 0 {
			p.HHI = 1 // no qualified supplier: as concentrated as it gets
		}
		p.Countries = SharesOf(countries)
		p.CountryHHI = HHIShares(p.Countries)
		if len(p.Countries) > 0 {
			p.TopCountry, p.TopCountryS = p.Countries[0].Key, p.Countries[0].Value
		} else {
			p.CountryHHI = 1
		}

		// alternates
		var top int32 = -1
		if len(p.Suppliers) > 0 {
			top = p.Suppliers[0].Sup
		}
		idxOf := func(sup int32) int {
			for i, s := range p.Suppliers {
				if s.Sup == sup {
					return i
				}
			}
			return -1
		}
		var alts []Alternate
		used := map[int32]bool{}
		for i, s := range p.Suppliers {
			used[s.Sup] = true
			if i == 0 {
				continue
			}
			alts = append(alts, Alternate{SupplierID: in.ID(s.Sup), Country: s.Country, Domestic: s.Domestic,
				QualificationDays: 0, HHIAfter: HHIAfterSwitch(shares, i), Origin: "supply_map", Notes: "qualified second source"})
		}
		for _, s := range inProg {
			if used[s] {
				continue
			}
			used[s] = true
			info := in.Suppliers[s]
			alts = append(alts, Alternate{SupplierID: in.ID(s), Country: countryOf(info), Domestic: in.isDomestic(info),
				QualificationDays: cfg.TTSTTR.InProgressFactor * ttrDefault, HHIAfter: HHIAfterSwitch(shares, -1),
				Origin: "supply_map", Notes: "qualification in progress"})
		}
		limit := cfg.Exposure.MaxAlternates
		taken := 0
		for _, c := range compCands[comp] {
			if taken >= limit {
				break
			}
			if used[c.sup] {
				continue
			}
			used[c.sup] = true
			alts = append(alts, Alternate{SupplierID: in.ID(c.sup), Country: c.country, Domestic: c.domestic,
				QualificationDays: cfg.TTSTTR.KnownSupplierFactor * ttrDefault, HHIAfter: HHIAfterSwitch(shares, -1),
				Origin: "supply_map", Notes: "qualified for this component at another enterprise"})
			taken++
		}
		for _, s := range subsOf(comp) {
			if s.Ent >= 0 && s.Ent != ent {
				continue
			}
			if s.AltSup >= 0 && s.AltSup == top && s.AltComp < 0 {
				continue
			}
			p.SubsCount++
			alt := Alternate{QualificationDays: s.Days, Domestic: s.Domestic, Country: s.Country, Origin: "substitution", Notes: s.Notes}
			idx := -1
			if s.AltSup >= 0 {
				alt.SupplierID = in.ID(s.AltSup)
				if info := in.Suppliers[s.AltSup]; info != nil {
					if alt.Country == "" {
						alt.Country = info.Country
					}
					alt.Domestic = alt.Domestic || in.isDomestic(info)
				}
				if s.AltComp < 0 {
					idx = idxOf(s.AltSup)
				}
			}
			if s.AltComp >= 0 {
				alt.ComponentID = in.ID(s.AltComp)
			}
			if alt.Country != "" && alt.Country == in.home() {
				alt.Domestic = true
			}
			alt.HHIAfter = HHIAfterSwitch(shares, idx)
			alts = append(alts, alt)
		}
		p.NoAlternate = len(alts) == 0
		rankAlternates(alts, cfg.Exposure.DomesticFirst)
		alts = dedupeAlternates(alts)
		// TTR: the fastest alternate of any origin, else the category default.
		p.TTR, p.TTRSource = ttrDefault, "category_default"
		for i, al := range alts {
			if i == 0 || al.QualificationDays < p.TTR {
				p.TTR, p.TTRSource = al.QualificationDays, al.Origin
			}
		}
		if len(alts) > limit {
			alts = alts[:limit]
		}
		p.Alternates = alts

		if st, ok := in.Stocks[k]; ok {
			p.TTS, p.TTSKnown = TimeToSurvive(st.Inventory, st.PerDay)
		}
		for _, prod := range entProds[ent] {
			if _, ok := bomSet[pairKey(prod, comp)]; ok {
				p.Products = append(p.Products, prod)
			}
		}
	}
}

func countryOf(info *NodeInfo) string {
	if info == nil {
		return ""
	}
	return info.Country
}

func normaliseSupShares(s []SupShare) {
	sum := 0.0
	for _, x := range s {
		if x.Share > 0 {
			sum += x.Share
		}
	}
	for i := range s {
		switch {
		case sum > 0 && s[i].Share > 0:
			s[i].Share /= sum
		case sum > 0:
			s[i].Share = 0
		default:
			s[i].Share = 1 / float64(len(s))
		}
	}
}

// rankAlternates orders alternates: domestic first (when asked), then fewer qualification days, then
// lower HHI after switching, then ids.
func rankAlternates(alts []Alternate, domesticFirst bool) {
	sort.SliceStable(alts, func(i, j int) bool {
		x, y := alts[i], alts[j]
		if domesticFirst && x.Domestic != y.Domestic {
			return x.Domestic
		}
		if x.QualificationDays != y.QualificationDays {
			return x.QualificationDays < y.QualificationDays
		}
		if x.HHIAfter != y.HHIAfter {
			return x.HHIAfter < y.HHIAfter
		}
		if x.SupplierID != y.SupplierID {
			return x.SupplierID < y.SupplierID
		}
		return x.ComponentID < y.ComponentID
	})
}

// dedupeAlternates keeps the best-ranked entry of each (component, supplier) option: the same
// supplier can be both in qualification in the map and on the substitution list. The notes of the
// dropped duplicates are kept on the survivor. alts must be ranked already.
func dedupeAlternates(alts []Alternate) []Alternate {
	type key struct{ comp, sup string }
	first := map[key]int{}
	out := alts[:0]
	for _, a := range alts {
		k := key{a.ComponentID, a.SupplierID}
		if i, ok := first[k]; ok {
			if a.Notes != "" && !strings.Contains(out[i].Notes, a.Notes) {
				if out[i].Notes != "" {
					out[i].Notes += "; "
				}
				out[i].Notes += a.Notes
			}
			continue
		}
		first[k] = len(out)
		out = append(out, a)
	}
	return out
}

// matchAwards maps awards to (enterprise, component) → suppliers. An award counts when its buyer is
// a supply-map enterprise (buyer_id = node_id, else buyer_name = name, case-insensitive), one of its
// item ids or item codes is a component id, and a supplier id is a supplier node id (else its name
// equals a supplier name, case-insensitive). Unmatched suppliers are ignored.
func (a *Analysis) matchAwards() map[uint64][]int32 {
	in := a.in
	out := map[uint64][]int32{}
	if len(in.Awards) == 0 {
		return out
	}
	supByName := map[string]int32{}
	for id, n := range in.Suppliers {
		if n.Name != "" {
			supByName[strings.ToLower(strings.TrimSpace(n.Name))] = id
		}
	}
	entByName := map[string]int32{}
	for id, n := range in.Enterprises {
		if n.Name != "" {
			entByName[strings.ToLower(strings.TrimSpace(n.Name))] = id
		}
	}
	for _, aw := range in.Awards {
		ent := in.Lookup(aw.BuyerID)
		if _, ok := in.Enterprises[ent]; !ok {
			var ok2 bool
			if ent, ok2 = entByName[strings.ToLower(strings.TrimSpace(aw.BuyerName))]; !ok2 {
				continue
			}
		}
		var comps []int32
		for _, it := range append(append([]string(nil), aw.ItemIDs...), aw.ItemCodes...) {
			c := in.Lookup(it)
			if _, ok := in.Components[c]; ok {
				comps = append(comps, c)
			}
		}
		for i, sid := range aw.SupplierIDs {
			s := in.Lookup(sid)
			if _, ok := in.Suppliers[s]; !ok {
				name := ""
				if i < len(aw.SupplierNames) {
					name = strings.ToLower(strings.TrimSpace(aw.SupplierNames[i]))
				}
				var ok2 bool
				if s, ok2 = supByName[name]; !ok2 {
					continue
				}
			}
			for _, c := range comps {
				k := pairKey(ent, c)
				dup := false
				for _, x := range out[k] {
					dup = dup || x == s
				}
				if !dup {
					out[k] = append(out[k], s)
				}
			}
		}
	}
	return out
}

// ---- world / import concentration ---------------------------------------------------------------

type hsYear struct {
	hs   string
	year uint16
}

// concentration computes per HS code (trade) and per material (production + configured HS codes).
func (a *Analysis) concentration() {
	in := a.in
	cfg := in.Cfg.Chokepoint
	home := uint16(in.Cfg.HomeM49)

	// exporters per (hs, year)
	exporters := map[hsYear]map[string]float64{}
	reported := map[hsYear]map[uint16]bool{}
	for k, t := range in.exportTotals {
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
	if cfg.UseMirror {
		for k, v := range in.mirror {
			hy := hsYear{k.HS, k.Year}
			if reported[hy][k.Country] {
				continue
			}
			if exporters[hy] == nil {
				exporters[hy] = map[string]float64{}
			}
			exporters[hy][in.countryKey(k.Country)] += v
		}
	}
	partners := map[hsYear]map[string]float64{}
	for k, v := range in.homeImports {
		hy := hsYear{k.HS, k.Year}
		if partners[hy] == nil {
			partners[hy] = map[string]float64{}
		}
		partners[hy][in.countryKey(k.Country)] += v
	}
	type homeTot struct{ m, x, mkg, xkg float64 }
	homeTotals := map[hsYear]*homeTot{}
	pick := func(t *tradeTotals) (float64, float64) {
		if t.World > 0 {
			return t.World, t.WorldKg
		}
		return t.Partners, t.PartnersKg
	}
	for k, t := range in.importTotals {
		if k.Country != home {
			continue
		}
		hy := hsYear{k.HS, k.Year}
		h := homeTotals[hy]
		if h == nil {
			h = &homeTot{}
			homeTotals[hy] = h
		}
		h.m, h.mkg = pick(t)
	}
	for k, t := range in.exportTotals {
		if k.Country != home {
			continue
		}
		hy := hsYear{k.HS, k.Year}
		h := homeTotals[hy]
		if h == nil {
			h = &homeTot{}
			homeTotals[hy] = h
		}
		h.x, h.xkg = pick(t)
	}

	hsSet := map[string]bool{}
	for hy := range exporters {
		hsSet[hy.hs] = true
	}
	for hy := range partners {
		hsSet[hy.hs] = true
	}
	for hy := range homeTotals {
		hsSet[hy.hs] = true
	}
	years := map[string][]uint16{}
	addYear := func(hy hsYear) {
		for _, y := range years[hy.hs] {
			if y == hy.year {
				return
			}
		}
		years[hy.hs] = append(years[hy.hs], hy.year)
	}
	for hy := range exporters {
		addYear(hy)
	}
	for hy := range partners {
		addYear(hy)
	}
	for hy := range homeTotals {
		addYear(hy)
	}

	// conc computes the metrics over a set of HS codes (summing countries across codes).
	conc := func(key string, codes []string) *ConcMetrics {
		c := &ConcMetrics{Key: key, HSCodes: codes}
		yset := map[uint16]bool{}
		for _, h := range codes {
			for _, y := range years[h] {
				yset[y] = true
			}
		}
		if len(yset) == 0 {
			return c
		}
		ys := make([]int, 0, len(yset))
		for y := range yset {
			ys = append(ys, int(y))
		}
		sort.Sort(sort.Reverse(sort.IntSlice(ys)))
		var series []YearTrade
		for i, y := range ys {
			ex, pa := map[string]float64{}, map[string]float64{}
			var tot homeTot
			for _, h := range codes {
				hy := hsYear{h, uint16(y)}
				for k, v := range exporters[hy] {
					ex[k] += v
				}
				for k, v := range partners[hy] {
					pa[k] += v
				}
				if t := homeTotals[hy]; t != nil {
					tot.m += t.m
					tot.x += t.x
					tot.mkg += t.mkg
					tot.xkg += t.xkg
				}
			}
			exS, paS := SharesOf(ex), SharesOf(pa)
			yt := YearTrade{Year: y, ImportHHI: HHIShares(paS), ExportHHI: HHIShares(exS), Imports: tot.m, Exports: tot.x}
			if tot.m == 0 {
				for _, v := range pa {
					yt.Imports += v
				}
			}
			series = append(series, yt)
			if i == 0 {
				c.Year = y
				c.Exporters, c.ExportHHI = exS, yt.ExportHHI
				c.Partners, c.ImportHHI = paS, yt.ImportHHI
				c.HomeM, c.HomeX, c.HomeMKg, c.HomeXKg = yt.Imports, tot.x, tot.mkg, tot.xkg
				c.HasTrade = len(exS) > 0
				c.HasImports = len(paS) > 0
			}
		}
		c.DepHits, c.Dependency = DependencyRule(series, cfg.ImportHHI, cfg.ExportHHI, cfg.ImportExportRatio, cfg.YearsRequired, cfg.YearsWindow)
		c.DepYears = min(len(series), cfg.YearsWindow)
		return c
	}

	hsList := make([]string, 0, len(hsSet))
	for h := range hsSet {
		hsList = append(hsList, h)
	}
	sort.Strings(hsList)
	for _, h := range hsList {
		c := conc(h, []string{h})
		a.supplyRisk(c, MaterialFactors{Recycling: cfg.DefaultRecyclingRate, Substitution: cfg.DefaultSubstitutionIndex})
		a.HS = append(a.HS, c)
	}

	// materials: production_stats commodities ∪ configured materials
	type prodSel struct {
		stage string
		year  uint16
	}
	best := map[string]prodSel{}
	stageRank := func(s string) int {
		for i, x := range cfg.ProductionStages {
			if strings.EqualFold(x, s) {
				return i
			}
		}
		return len(cfg.ProductionStages)
	}
	for k, rows := range in.production {
		total := 0.0
		for _, r := range rows {
			total += r.Qty
		}
		if !(total > 0) {
			continue
		}
		cur, ok := best[k.Commodity]
		if !ok || stageRank(k.Stage) < stageRank(cur.stage) || (stageRank(k.Stage) == stageRank(cur.stage) && (k.Year > cur.year || (k.Year == cur.year && k.Stage < cur.stage))) {
			best[k.Commodity] = prodSel{k.Stage, k.Year}
		}
	}
	matNames := map[string]bool{}
	for m := range best {
		matNames[m] = true
	}
	for m := range cfg.Materials {
		matNames[strings.ToLower(m)] = true
	}
	mats := make([]string, 0, len(matNames))
	for m := range matNames {
		mats = append(mats, m)
	}
	sort.Strings(mats)
	for _, m := range mats {
		mc, _ := materialConfig(cfg.Materials, m)
		c := conc(m, mc.HSCodes)
		if sel, ok := best[m]; ok {
			rows := in.production[prodKey{m, sel.stage, sel.year}]
			c.HasProd, c.ProdYear, c.ProdStage = true, int(sel.year), sel.stage
			vol := map[string]float64{}
			var named []float64
			for _, r := range rows {
				c.ProdTotal += r.Qty
				c.ProdUnit = r.Unit
				key := r.ISO3
				if key == "" {
					key = countryISO3(r.Country)
				}
				if key == in.home() {
					c.HomeProd += r.Qty
					c.HasHomeP = true
				}
				if isOtherRow(r.Country) {
					continue
				}
				vol[key] += r.Qty
			}
			for _, v := range vol {
				named = append(named, v)
			}
			c.ProdHHI = HHIPartial(named, c.ProdTotal)
			for k, v := range vol {
				if v > 0 {
					c.Producers = append(c.Producers, Share{Key: k, Value: v / c.ProdTotal})
				}
			}
			SortShares(c.Producers)
			// import reliance in physical units: trade net weight (kg) against production (unit → kg)
			if f, ok := unitKg(c.ProdUnit); ok && c.HasHomeP && (c.HomeMKg > 0 || c.HomeXKg > 0) {
				c.IR, c.HasIR = ImportReliance(c.HomeMKg, c.HomeXKg, c.HomeProd*f)
			}
		}
		a.supplyRisk(c, MaterialFactors{Recycling: mc.RecyclingRate, Substitution: mc.SubstitutionIndex})
		a.Mats = append(a.Mats, c)
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
	case len(c.Producers) > 0:
		c.SupplyRisk, c.RiskShares = SupplyRisk(c.Producers, g, t, f.Recycling, sub), "production"
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

// ---- availability -------------------------------------------------------------------------------

func (a *Analysis) parts() {
	in := a.in
	cfg := in.Cfg.Availability
	byPart := map[string][]availKey{}
	for k := range in.avail {
		byPart[k.Part] = append(byPart[k.Part], k)
	}
	names := make([]string, 0, len(byPart))
	for p := range byPart {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, part := range names {
		ks := byPart[part]
		sort.Slice(ks, func(i, j int) bool { return ks[i].Day < ks[j].Day })
		pm := &PartMetrics{Part: part, Snapshots: len(ks), FirstDay: ks[0].Day, LastDay: ks[len(ks)-1].Day}
		var leads, stocks []float64
		for _, k := range ks {
			ag := in.avail[k]
			if ag.Comp != "" {
				pm.Comp = ag.Comp
			}
			if !math.IsNaN(ag.Lead) {
				leads = append(leads, ag.Lead)
			}
			stocks = append(stocks, ag.Stock)
		}
		first, lastA := in.avail[ks[0]], in.avail[ks[len(ks)-1]]
		pm.LifeFrom, pm.LifeTo = lifecycleName(first.LifeRank), lifecycleName(lastA.LifeRank)
		pm.LifeNorm = LifecycleSeverity(pm.LifeTo)
		pm.LifeMoved = lastA.LifeRank > first.LifeRank
		if len(ks) >= cfg.MinSnapshots {
			if len(leads) >= cfg.MinSnapshots {
				pm.LeadBase, pm.LeadLatest, pm.LeadNorm, pm.LeadJump = LeadTimeJump(leads, cfg.EWMAAlpha, cfg.LeadTimeJumpRatio, cfg.LeadTimeJumpMinDays)
			}
			pm.StockMedian, pm.StockLatest, pm.StockNorm, pm.Collapse = StockCollapse(stocks, cfg.StockTrailing, cfg.StockCollapseFraction)
		}
		a.Parts = append(a.Parts, pm)
	}
}

func lifecycleName(rank int) string {
	if rank >= 0 && rank < len(lifecycleNames) {
		return lifecycleNames[rank]
	}
	return "active"
}

// ---- graph --------------------------------------------------------------------------------------

// graph nodes: index = position; kind 'o' org (enterprise/supplier), 'c' component, 'p' product.
type graphNode struct {
	kind byte
	id   int32
}

func (a *Analysis) graph() {
	in := a.in
	idx := map[graphNode]int32{}
	var nodes []graphNode
	node := func(kind byte, id int32) int32 {
		k := graphNode{kind, id}
		if i, ok := idx[k]; ok {
			return i
		}
		i := int32(len(nodes))
		nodes = append(nodes, k)
		idx[k] = i
		return i
	}
	edges := make([][2]int32, 0, 2*len(in.Supplies)+len(in.Stocks)+len(in.BOM)+len(in.Makes))
	for _, e := range in.Supplies {
		if e.Qual == QualDisqualified {
			continue
		}
		c := node('c', e.Comp)
		edges = append(edges, [2]int32{node('o', e.Sup), c}, [2]int32{c, node('o', e.Ent)})
	}
	for k := range in.Stocks {
		ent, comp := pairOf(k)
		edges = append(edges, [2]int32{node('c', comp), node('o', ent)})
	}
	for _, b := range in.BOM {
		edges = append(edges, [2]int32{node('p', b.Prod), node('c', b.Comp)})
	}
	for _, m := range in.Makes {
		edges = append(edges, [2]int32{node('o', m.Ent), node('p', m.Prod)})
	}
	// deterministic node order for sampling: edges come from maps (stocks) in random order, so
	// renumber nodes by (kind, id string).
	perm := make([]int32, len(nodes))
	for i := range perm {
		perm[i] = int32(i)
	}
	sort.Slice(perm, func(i, j int) bool {
		x, y := nodes[perm[i]], nodes[perm[j]]
		if x.kind != y.kind {
			return x.kind < y.kind
		}
		return in.ID(x.id) < in.ID(y.id)
	})
	newIdx := make([]int32, len(nodes))
	for ni, old := range perm {
		newIdx[old] = int32(ni)
	}
	for i := range edges {
		edges[i][0], edges[i][1] = newIdx[edges[i][0]], newIdx[edges[i][1]]
	}
	sorted := make([]graphNode, len(nodes))
	for ni, old := range perm {
		sorted[ni] = nodes[old]
	}
	a.Graph = NewGraph(len(sorted), edges)
	cfg := in.Cfg.Chokepoint
	a.Betweenness = Betweenness(a.Graph, cfg.BetweennessExactMaxNodes, cfg.BetweennessSamples, cfg.BetweennessSeed)
	a.graphNodes = sorted
}

// ---- components ---------------------------------------------------------------------------------

func (a *Analysis) components() {
	in := a.in
	cfg := in.Cfg
	ids := map[int32]bool{}
	for id := range in.Components {
		ids[id] = true
	}
	for i := range a.Pairs {
		ids[a.Pairs[i].Comp] = true
	}
	for _, b := range in.BOM {
		ids[b.Comp] = true
	}
	list := make([]int32, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Slice(list, func(i, j int) bool { return in.ID(list[i]) < in.ID(list[j]) })
	for i, id := range list {
		info := in.Components[id]
		if info == nil {
			info = &NodeInfo{Category: "other"}
		}
		a.Comps = append(a.Comps, &CompMetrics{Comp: id, Info: info})
		a.compIdx[id] = int32(i)
	}
	// users from pairs
	users := make([]map[int32]bool, len(a.Comps))
	supVol := make([]map[string]float64, len(a.Comps))
	ctyVol := make([]map[string]float64, len(a.Comps))
	for i := range a.Pairs {
		p := &a.Pairs[i]
		ci := a.compIdx[p.Comp]
		c := a.Comps[ci]
		if users[ci] == nil {
			users[ci], supVol[ci], ctyVol[ci] = map[int32]bool{}, map[string]float64{}, map[string]float64{}
		}
		users[ci][p.Ent] = true
		c.Pairs++
		for _, s := range p.Suppliers {
			supVol[ci][in.ID(s.Sup)] += s.Share
			ctyVol[ci][countryOrUnknown(s.Country)] += s.Share
			if !s.Domestic {
				c.ForeignShare += s.Share
			}
		}
		if len(p.Suppliers) <= cfg.SingleSource.MaxSuppliersSingle {
			c.SingleSourced++
		}
		if p.NoAlternate {
			c.NoAlternate++
		}
		if p.TTSKnown {
			c.TTSKnown++
			_, g := TTSGap(p.TTS, p.TTR)
			c.TTSGapNorm += g
			if p.TTS < p.TTR {
				c.Exposed++
			}
		}
	}
	// makers via BOM
	makers := map[int32][]int32{}
	for _, m := range in.Makes {
		makers[m.Prod] = append(makers[m.Prod], m.Ent)
	}
	for _, b := range in.BOM {
		ci, ok := a.compIdx[b.Comp]
		if !ok {
			continue
		}
		if users[ci] == nil {
			users[ci], supVol[ci], ctyVol[ci] = map[int32]bool{}, map[string]float64{}, map[string]float64{}
		}
		a.Comps[ci].Products = append(a.Comps[ci].Products, b.Prod)
		for _, e := range makers[b.Prod] {
			users[ci][e] = true
		}
	}
	// availability per component
	partSig := map[string]float64{}
	for _, p := range a.Parts {
		if p.Comp != "" {
			partSig[p.Comp] = math.Max(partSig[p.Comp], p.Signal())
		}
	}
	hsIdx := map[string]*ConcMetrics{}
	for _, c := range a.HS {
		hsIdx[c.Key] = c
	}
	matOfHS := map[string]*ConcMetrics{}
	for _, m := range a.Mats {
		for _, h := range m.HSCodes {
			matOfHS[h] = m
		}
	}
	list2 := listSet(cfg.Chokepoint.List)
	// betweenness of component nodes
	maxB := 0.0
	compB := make([]float64, len(a.Comps))
	for ni, gn := range a.graphNodes {
		if gn.kind != 'c' {
			continue
		}
		if ci, ok := a.compIdx[gn.id]; ok {
			compB[ci] = a.Betweenness.Norm[ni]
			maxB = math.Max(maxB, compB[ci])
		}
	}
	for ci, c := range a.Comps {
		for e := range users[ci] {
			c.Enterprises++
			if info := in.Enterprises[e]; info != nil && info.ChainLeader {
				c.ChainLeaders++
			}
		}
		sort.Slice(c.Products, func(i, j int) bool { return in.ID(c.Products[i]) < in.ID(c.Products[j]) })
		c.Products = dedupIDs(c.Products)
		c.Reach = WeightedReach(c.Enterprises, c.ChainLeaders, cfg.Chokepoint.ChainLeaderWeight)
		c.Betweenness = compB[ci]
		if maxB > 0 {
			c.BetweennessRel = compB[ci] / maxB
		}
		c.SupplierShares = SharesOf(supVol[ci])
		c.CountryShares = SharesOf(ctyVol[ci])
		if c.Pairs > 0 {
			c.ForeignShare /= float64(c.Pairs)
		}
		if c.TTSKnown > 0 {
			c.TTSGapNorm /= float64(c.TTSKnown)
		}
		c.Availability = partSig[in.ID(c.Comp)]
		if m := matOfHS[c.Info.HSCode]; m != nil && c.Info.HSCode != "" {
			c.Conc, c.Material = m, m.Key
		} else if h := hsIdx[c.Info.HSCode]; h != nil {
			c.Conc = h
		}
		c.OnList = c.Info.Chokepoint || list2[strings.ToLower(in.ID(c.Comp))] ||
			(c.Info.HSCode != "" && list2[c.Info.HSCode]) || (c.Material != "" && list2[c.Material])
		c.chokeTerms, c.chokeFlags = a.componentChokeTerms(c)
		c.ChokeScore = Composite(c.chokeTerms)
	}
}

func dedupIDs(s []int32) []int32 {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func listSet(l []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range l {
		m[strings.ToLower(strings.TrimSpace(x))] = true
	}
	return m
}

// ---- suppliers ----------------------------------------------------------------------------------

func (a *Analysis) suppliers() {
	in := a.in
	bet := map[int32]float64{}
	maxB := 0.0
	for ni, gn := range a.graphNodes {
		if gn.kind != 'o' {
			continue
		}
		if _, ok := in.Suppliers[gn.id]; !ok {
			continue
		}
		bet[gn.id] = a.Betweenness.Norm[ni]
		maxB = math.Max(maxB, a.Betweenness.Norm[ni])
	}
	ents := map[int32]map[int32]bool{}
	stats := map[int32]*SupplierMetric{}
	for i := range a.Pairs {
		p := &a.Pairs[i]
		for _, s := range p.Suppliers {
			m := stats[s.Sup]
			if m == nil {
				m = &SupplierMetric{Sup: s.Sup}
				stats[s.Sup] = m
				ents[s.Sup] = map[int32]bool{}
			}
			m.Pairs++
			if len(p.Suppliers) == 1 {
				m.SolePairs++
			}
			ents[s.Sup][p.Ent] = true
		}
	}
	ids := make([]int32, 0, len(in.Suppliers))
	for id := range in.Suppliers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return in.ID(ids[i]) < in.ID(ids[j]) })
	for _, id := range ids {
		m := stats[id]
		if m == nil {
			m = &SupplierMetric{Sup: id}
		}
		m.Info = in.Suppliers[id]
		m.Foreign = !in.isDomestic(m.Info)
		m.Betweenness = bet[id]
		if maxB > 0 {
			m.BetweennessRel = bet[id] / maxB
		}
		for e := range ents[id] {
			m.Enterprises++
			if info := in.Enterprises[e]; info != nil && info.ChainLeader {
				m.ChainLeaders++
			}
		}
		a.Sups = append(a.Sups, m)
	}
}

// Pair returns the metrics of an enterprise × component, or nil.
func (a *Analysis) Pair(ent, comp string) *PairMetrics {
	k := pairKey(a.in.Lookup(ent), a.in.Lookup(comp))
	if i, ok := a.pairIdx[k]; ok {
		return &a.Pairs[i]
	}
	return nil
}

// Component returns the metrics of a component, or nil.
func (a *Analysis) Component(id string) *CompMetrics {
	if i, ok := a.compIdx[a.in.Lookup(id)]; ok {
		return a.Comps[i]
	}
	return nil
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

func topShares(s []Share, n int) string {
	var b strings.Builder
	for i, x := range s {
		if i == n {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.Key)
		b.WriteByte(' ')
		b.WriteString(pct(x.Value))
	}
	return b.String()
}
