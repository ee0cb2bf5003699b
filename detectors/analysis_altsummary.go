package detectors

import "slices"

// A pair's alternates are built once, in a compact form: interned ids, the rank keys, the
// qualification days and the HHI after a switch, in reused buffers, with no strings, notes or rank
// reasons. The pair step needs only three figures of them (how many there are after the dedupe,
// whether there is none, and the time to recover, the fastest in rank order), and at 10⁶ pairs
// building every pair's full list had been the largest part of the analysis. The full list, for
// the findings kept and for callers asking about one pair (Analysis.Alternates), spells the same
// ranked entries out (pairAlternates). TestAltSummaryMatchesAlternates checks the pair step's
// figures and its dedupe by ids against that list, pair by pair.

// altSource says where an alternate comes from (its origin and notes).
type altSource uint8

const (
	altSecond       altSource = iota // another qualified source of the pair (ref: index in Suppliers)
	altInProgress                    // a supplier of the pair in qualification
	altCandidate                     // qualified for the component at another enterprise (ref: index in the candidates)
	altSubstitution                  // a substitution-list entry (ref: index in subsOf(component))
)

// altLite is one alternate in the compact form: ids as interned indexes (-1 for none).
type altLite struct {
	comp, sup      int32
	ref            int32
	src            altSource
	domestic       bool
	group, tagged  bool // in the enterprise's region group; supplier has SME tags (rank keys)
	country        string
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
func (a *Analysis) altSummary(p *PairMetrics, inProg []int32, shares []float64, cands []candidate, ttrDefault float64, sc *altScratch) (n int, ttr float64, origin string, subs int) {
	alts, subs := a.altsLite(p, inProg, shares, cands, ttrDefault, sc)
	for i, al := range alts {
		if i == 0 || al.days < ttr {
			ttr, origin = al.days, "supply_map"
			if al.src == altSubstitution {
				origin = "substitution"
			}
		}
	}
	return len(alts), ttr, origin, subs
}

// altsLite is altsRanked deduped (in sc.alts).
func (a *Analysis) altsLite(p *PairMetrics, inProg []int32, shares []float64, cands []candidate, ttrDefault float64, sc *altScratch) ([]altLite, int) {
	alts, subs := a.altsRanked(p, inProg, shares, cands, ttrDefault, sc)
	alts = a.dedupeLite(alts)
	sc.alts = alts
	return alts, subs
}

// altsRanked lists a pair's alternates (in sc.alts) — its other qualified sources, its suppliers in
// qualification, at most max_alternates suppliers qualified for the component at other
// enterprises, then the substitution-list entries that apply — ranked, not yet deduped; and the
// number of those substitution-list entries.
func (a *Analysis) altsRanked(p *PairMetrics, inProg []int32, shares []float64, cands []candidate, ttrDefault float64, sc *altScratch) ([]altLite, int) {
	alts := a.mapAltsLite(sc.alts[:0], p, inProg, shares, cands, ttrDefault, sc)
	before := len(alts)
	alts = a.subAltsLite(alts, p, shares, sc)
	a.rankLite(alts, p)
	sc.alts = alts
	return alts, len(alts) - before
}

// mapAltsLite appends the supply map's alternates of a pair. A supplier is listed once; the pair's
// suppliers are few, so "used" is a linear scan.
func (a *Analysis) mapAltsLite(alts []altLite, p *PairMetrics, inProg []int32, shares []float64, cands []candidate, ttrDefault float64, sc *altScratch) []altLite {
	in := a.in
	cfg := in.Cfg
	newHHI := hhiAfterSwitchInto(&sc.shares, shares, -1)
	used := func(s int32) bool {
		return slices.ContainsFunc(p.Suppliers, func(x SupShare) bool { return x.Sup == s }) ||
			slices.ContainsFunc(alts, func(x altLite) bool { return x.sup == s })
	}
	for i, s := range p.Suppliers {
		if i == 0 {
			continue
		}
		alts = append(alts, altLite{comp: -1, sup: s.Sup, src: altSecond, ref: int32(i), domestic: s.Domestic,
			country: s.Country, hhiAfter: hhiAfterSwitchInto(&sc.shares, shares, i)})
	}
	for _, s := range inProg {
		if used(s) {
			continue
		}
		info := in.Suppliers[s]
		alts = append(alts, altLite{comp: -1, sup: s, src: altInProgress, domestic: in.isDomestic(info),
			country: countryOf(info), days: cfg.TTSTTR.InProgressFactor * ttrDefault, hhiAfter: newHHI})
	}
	taken := 0
	for ci, c := range cands {
		if taken >= cfg.Exposure.MaxAlternates {
			break
		}
		if used(c.sup) {
			continue
		}
		alts = append(alts, altLite{comp: -1, sup: c.sup, src: altCandidate, ref: int32(ci), domestic: c.domestic,
			country: c.country, days: cfg.TTSTTR.KnownSupplierFactor * ttrDefault, hhiAfter: newHHI})
		taken++
	}
	return alts
}

// subAltsLite appends the substitution-list entries that apply to a pair: global or scoped to its
// enterprise; an entry naming the current top supplier alone is no alternate.
func (a *Analysis) subAltsLite(alts []altLite, p *PairMetrics, shares []float64, sc *altScratch) []altLite {
	in := a.in
	var top int32 = -1
	if len(p.Suppliers) > 0 {
		top = p.Suppliers[0].Sup
	}
	for si, s := range in.subsOf(p.Comp) {
		if s.Ent >= 0 && s.Ent != p.Ent {
			continue
		}
		if s.AltSup >= 0 && s.AltSup == top && s.AltComp < 0 {
			continue
		}
		al := altLite{comp: -1, sup: -1, src: altSubstitution, ref: int32(si), days: s.Days, domestic: s.Domestic}
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
		al.country = country
		al.hhiAfter = hhiAfterSwitchInto(&sc.shares, shares, idx)
		alts = append(alts, al)
	}
	return alts
}

// rankLite sets the rank keys of the enterprise's region group and the SME tags, then orders the
// alternates by compareAltRank (stable).
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
	key := func(x *altLite) altRank {
		return altRank{domestic: x.domestic, group: x.group, tagged: x.tagged, days: x.days, hhiAfter: x.hhiAfter,
			sup: in.ID(x.sup), comp: in.ID(x.comp)}
	}
	slices.SortStableFunc(alts, func(x, y altLite) int { return compareAltRank(key(&x), key(&y), domesticFirst, regions) })
}

// altRank is what the rank order reads of an alternate.
type altRank struct {
	domestic, group, tagged bool
	days, hhiAfter          float64
	sup, comp               string
}

// compareAltRank is the alternates' rank order: domestic first (when domesticFirst); with regions
// (detectors.regions.rank_alternates) then in the enterprise's region group, then tagged SMEs
// (专精特新, 小巨人, 单项冠军); then fewer qualification days, lower HHI after switching, then
// supplier and component ids. The keys are lexicographic: a domestic supplier of the group that is
// also tagged ranks before an untagged one of the group.
func compareAltRank(x, y altRank, domesticFirst, regions bool) int {
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
	if x.days != y.days {
		return lessFirst(x.days < y.days)
	}
	if x.hhiAfter != y.hhiAfter {
		return lessFirst(x.hhiAfter < y.hhiAfter)
	}
	if x.sup != y.sup {
		return lessFirst(x.sup < y.sup)
	}
	if x.comp != y.comp {
		return lessFirst(x.comp < y.comp)
	}
	return 0
}

// boolFirst orders true before false (x is the first operand and differs from the second).
func boolFirst(x bool) int {
	if x {
		return -1
	}
	return 1
}

// lessFirst orders two different keys: -1 when the first is less, else 1 (NaN compares as not
// less, as the comparisons above have always done).
func lessFirst(less bool) int {
	if less {
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

// spellOut is one ranked alternate as findings show it: ids, country, origin and notes,
// the supplier's region and SME tags, the enterprise's region group when the supplier is in it,
// and the rank reasons.
func (a *Analysis) spellOut(al altLite, subs []Sub, entGroup string) Alternate {
	in := a.in
	out := Alternate{ComponentID: in.ID(al.comp), SupplierID: in.ID(al.sup), Country: al.country, Domestic: al.domestic,
		QualificationDays: al.days, HHIAfter: al.hhiAfter, Origin: "supply_map"}
	switch al.src {
	case altSecond:
		out.Notes = "qualified second source"
	case altInProgress:
		out.Notes = "qualification in progress"
	case altCandidate:
		out.Notes = "qualified for this component at another enterprise"
	case altSubstitution:
		out.Origin, out.Notes = "substitution", subs[al.ref].Notes
	}
	if out.SupplierID != "" {
		if info := in.Suppliers[al.sup]; info != nil {
			out.Region, out.Tags = info.Province, info.Tags
		}
	}
	if al.group {
		out.RegionGroup = entGroup
	}
	if out.Domestic {
		out.Reasons = append(out.Reasons, ReasonDomestic)
	}
	if out.RegionGroup != "" {
		out.Reasons = append(out.Reasons, ReasonSameRegionGroup)
	}
	if len(out.Tags) > 0 {
		out.Reasons = append(out.Reasons, ReasonSMETag)
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
