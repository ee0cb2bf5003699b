package detectors

import (
	"cmp"
	"slices"
)

// A pair's metrics need only three figures of its alternates: how many there are (after the
// dedupe), whether there is none, and the time to recover (the fastest, in rank order). Building
// the full Alternate list for every pair — strings, rank reasons, notes merged by the dedupe —
// was the largest part of the analysis at 10⁶ pairs, so the pair step ranks a compact form instead.
// It follows pairAlternates step by step: the same entries, the same rank keys and tie-breaks (ids
// compared as strings), the same stable sort and the same dedupe on (component, supplier). The
// full list is still built, by pairAlternates, for the findings kept (Analysis.Alternates);
// TestAltSummaryMatchesAlternates checks the two agree on every pair.

// altLite is one alternate in the compact form: ids as interned indexes (-1 for none).
type altLite struct {
	comp, sup      int32
	domestic       bool
	group, tagged  bool // in the enterprise's region group; supplier has SME tags (rank keys)
	substitution   bool // origin "substitution", else "supply_map"
	days, hhiAfter float64
}

// altScratch is one worker's reusable buffers for altSummary.
type altScratch struct {
	alts   []altLite
	shares []float64
}

// altSummary returns what pairMetrics keeps of a pair's alternates: their number after the
// dedupe, the fastest qualification time in rank order and its origin ("" when there is none),
// and the number of applicable substitution-list entries.
func (a *Analysis) altSummary(p *PairMetrics, inProg []int32, shares []float64, cands []candidate, sc *altScratch) (n int, ttr float64, origin string, subs int) {
	alts, subs := a.altsLite(p, inProg, shares, cands, sc)
	for i, al := range alts {
		if i == 0 || al.days < ttr {
			ttr, origin = al.days, "supply_map"
			if al.substitution {
				origin = "substitution"
			}
		}
	}
	return len(alts), ttr, origin, subs
}

// altsLite is pairAlternates in the compact form: the alternates ranked and deduped (in sc.alts),
// and the number of applicable substitution-list entries.
func (a *Analysis) altsLite(p *PairMetrics, inProg []int32, shares []float64, cands []candidate, sc *altScratch) ([]altLite, int) {
	alts := a.mapAltsLite(sc.alts[:0], p, inProg, shares, cands, sc)
	before := len(alts)
	alts = a.subAltsLite(alts, p, shares, sc)
	subs := len(alts) - before
	a.rankLite(alts, p)
	alts = a.dedupeLite(alts)
	sc.alts = alts
	return alts, subs
}

// mapAltsLite mirrors mapAlternates. The pair's suppliers are few, so "used" is a linear scan.
func (a *Analysis) mapAltsLite(alts []altLite, p *PairMetrics, inProg []int32, shares []float64, cands []candidate, sc *altScratch) []altLite {
	in := a.in
	cfg := in.Cfg
	ttrDefault := cfg.TTSTTR.TTRDefault(a.category(p.Comp))
	newHHI := hhiAfterSwitchInto(&sc.shares, shares, -1)
	used := func(s int32) bool {
		return slices.ContainsFunc(p.Suppliers, func(x SupShare) bool { return x.Sup == s }) ||
			slices.ContainsFunc(alts, func(x altLite) bool { return x.sup == s })
	}
	for i, s := range p.Suppliers {
		if i == 0 {
			continue
		}
		alts = append(alts, altLite{comp: -1, sup: s.Sup, domestic: s.Domestic, hhiAfter: hhiAfterSwitchInto(&sc.shares, shares, i)})
	}
	for _, s := range inProg {
		if used(s) {
			continue
		}
		alts = append(alts, altLite{comp: -1, sup: s, domestic: in.isDomestic(in.Suppliers[s]),
			days: cfg.TTSTTR.InProgressFactor * ttrDefault, hhiAfter: newHHI})
	}
	taken := 0
	for _, c := range cands {
		if taken >= cfg.Exposure.MaxAlternates {
			break
		}
		if used(c.sup) {
			continue
		}
		alts = append(alts, altLite{comp: -1, sup: c.sup, domestic: c.domestic,
			days: cfg.TTSTTR.KnownSupplierFactor * ttrDefault, hhiAfter: newHHI})
		taken++
	}
	return alts
}

// subAltsLite mirrors substitutionAlternates.
func (a *Analysis) subAltsLite(alts []altLite, p *PairMetrics, shares []float64, sc *altScratch) []altLite {
	in := a.in
	var top int32 = -1
	if len(p.Suppliers) > 0 {
		top = p.Suppliers[0].Sup
	}
	for _, s := range in.subsOf(p.Comp) {
		if s.Ent >= 0 && s.Ent != p.Ent {
			continue
		}
		if s.AltSup >= 0 && s.AltSup == top && s.AltComp < 0 {
			continue
		}
		al := altLite{comp: -1, sup: -1, substitution: true, days: s.Days, domestic: s.Domestic}
		country := s.Country
		idx := -1
		if s.AltSup >= 0 {
			al.sup = s.AltSup
			if info := in.Suppliers[s.AltSup]; info != nil {
				if country == "" {
					country = info.Country
				}
				al.domestic = al.domestic || in.isDomestic(info)
			}
			if s.AltComp < 0 {
				idx = slices.IndexFunc(p.Suppliers, func(x SupShare) bool { return x.Sup == s.AltSup })
			}
		}
		if s.AltComp >= 0 {
			al.comp = s.AltComp
		}
		if country != "" && country == in.home() {
			al.domestic = true
		}
		al.hhiAfter = hhiAfterSwitchInto(&sc.shares, shares, idx)
		alts = append(alts, al)
	}
	return alts
}

// rankLite orders like settleAlternates: placeAlternate's region group and tags, then
// RankAlternates or rankAlternates.
func (a *Analysis) rankLite(alts []altLite, p *PairMetrics) {
	in := a.in
	var entGroup string
	if e := in.Enterprises[p.Ent]; e != nil {
		entGroup = e.RegionGroup
	}
	for i := range alts {
		al := &alts[i]
		if in.ID(al.sup) == "" {
			continue
		}
		if info := in.Suppliers[al.sup]; info != nil {
			al.tagged = len(info.Tags) > 0
			al.group = entGroup != "" && info.RegionGroup == entGroup
		}
	}
	domesticFirst, regions := in.Cfg.Exposure.DomesticFirst, in.Cfg.Regions.RankAlternates
	slices.SortStableFunc(alts, func(x, y altLite) int {
		if domesticFirst && x.domestic != y.domestic {
			return boolFirst(x.domestic)
		}
		if regions {
			if x.group != y.group {
				return boolFirst(x.group)
			}
			if x.tagged != y.tagged {
				return boolFirst(x.tagged)
			}
		}
		return cmp.Or(cmp.Compare(x.days, y.days), cmp.Compare(x.hhiAfter, y.hhiAfter),
			cmp.Compare(in.ID(x.sup), in.ID(y.sup)),
			cmp.Compare(in.ID(x.comp), in.ID(y.comp)))
	})
}

// boolFirst orders true before false (x is the first operand and differs from the second).
func boolFirst(x bool) int {
	if x {
		return -1
	}
	return 1
}

// dedupeLite keeps the first entry of each (component, supplier) option, compared by id as
// dedupeAlternates does.
func (a *Analysis) dedupeLite(alts []altLite) []altLite {
	in := a.in
	out := alts[:0]
	for _, al := range alts {
		c, s := in.ID(al.comp), in.ID(al.sup)
		if !slices.ContainsFunc(out, func(x altLite) bool { return in.ID(x.comp) == c && in.ID(x.sup) == s }) {
			out = append(out, al)
		}
	}
	return out
}

// category is a component's category ("" when unknown).
func (a *Analysis) category(comp int32) string {
	if cinfo := a.in.Components[comp]; cinfo != nil {
		return cinfo.Category
	}
	return ""
}

// hhiAfterSwitchInto is HHIAfterSwitch with its normalised shares in *buf (reused), the same
// arithmetic in the same order.
func hhiAfterSwitchInto(buf *[]float64, shares []float64, altIndex int) float64 {
	if len(shares) == 0 {
		return 0
	}
	s := normaliseSharesInto((*buf)[:0], shares)
	*buf = s
	return hhiAfterSwitchNormalised(s, altIndex)
}
