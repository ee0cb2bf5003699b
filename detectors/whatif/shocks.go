package whatif

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chainwatch/chainwatch/detectors/supplygraph"
)

// applyShock turns one shock into supply losses (before buffers) or site outages.
func (r *run) applyShock(s Shock) error {
	g := r.en.G
	from := s.Start.Sub(r.t0).Hours() / 24
	to := from + s.DurationDays
	label := s.String()
	switch s.Type {
	case ShockExport:
		r.exportLosses(s, from, to)
	case ShockSupplier, ShockLeadTime:
		si := g.Sup(s.Supplier)
		if si < 0 {
			return fmt.Errorf("whatif: %s: unknown supplier %q", label, s.Supplier)
		}
		why := "supplier down: its share is lost"
		if s.Type == ShockLeadTime {
			lead := s.LeadTimeDays
			if lead == 0 {
				lead = r.en.Cfg.DefaultLeadTimeDays
			}
			gap := (s.Factor - 1) * lead
			to = from + min(s.DurationDays, gap)
			why = fmt.Sprintf("lead time %.0f d × %g: no deliveries for (%g − 1) × %.0f = %.1f d (capped at the %.0f d shock)",
				lead, s.Factor, s.Factor, lead, gap, s.DurationDays)
		}
		for _, k := range g.SupOf[si] {
			for _, sp := range g.Supply[k] {
				if sp.Supplier == si && sp.Share > 0 && sp.Qualification != "disqualified" {
					e, _ := k.Split()
					r.lost[k] = append(r.lost[k], si)
					r.direct[k] = append(r.direct[k], outage{from: from, to: to, frac: sp.Share,
						path: []string{label, "supplier " + s.Supplier + " → " + g.Ents[e].ID},
						why:  []string{fmt.Sprintf("%s; share %.0f%% of %s at %s", why, 100*sp.Share, g.Items[k.Item()].ID, g.Ents[e].ID)}})
				}
			}
		}
	case ShockSite:
		ei := g.Ent(s.Site)
		if ei < 0 {
			return fmt.Errorf("whatif: %s: unknown enterprise %q", label, s.Site)
		}
		for _, p := range g.Makes[ei] {
			k := supplygraph.PairOf(ei, p)
			r.site[k] = append(r.site[k], outage{from: from, to: to, frac: 1, path: []string{label},
				why:    []string{fmt.Sprintf("site %s down %s → %s: no buffer at the site itself", s.Site, r.date(from), r.date(to))},
				action: fmt.Sprintf("qualify a second site for %s or hold %.0f d of finished goods", g.Items[p].ID, s.DurationDays)})
		}
	}
	return nil
}

// hsCodes are the HS codes an export restriction covers.
func (r *run) hsCodes(s Shock) []string {
	codes := slices.Clone(r.en.Cfg.Materials[s.Material])
	if s.HSCode != "" {
		codes = append(codes, s.HSCode)
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// exportLosses finds the items that are or contain (at any BOM depth) the restricted material and
// the loss of every supply of them:
//
//	supplier in the restricting country X, enterprise outside X: loss = share × s
//	supplier in X, enterprise in X (domestic):                   loss = 0
//	supplier in another country R:                               loss = share × s × dependence(R on X)
func (r *run) exportLosses(s Shock, from, to float64) {
	g := r.en.G
	codes := r.hsCodes(s)
	via := map[int32]int32{} // item → the input it contains the material through (-1: it is the material)
	var queue []int32
	for i, it := range g.Items {
		if it.HSCode != "" && slices.ContainsFunc(codes, func(c string) bool { return strings.HasPrefix(it.HSCode, c) }) {
			via[int32(i)] = -1
			queue = append(queue, int32(i))
		}
	}
	for j := 0; j < len(queue); j++ {
		for _, u := range g.Users[queue[j]] {
			if _, ok := via[u]; !ok {
				via[u] = queue[j]
				queue = append(queue, u)
			}
		}
	}
	label := s.String()
	for _, it := range queue {
		var chain []string
		for x := it; x >= 0; x = via[x] {
			chain = append(chain, g.Items[x].ID)
		}
		slices.Reverse(chain)
		for _, k := range r.en.supPairs[it] {
			r.exportPair(s, k, label, chain, codes, from, to)
		}
	}
}

func (r *run) exportPair(s Shock, k supplygraph.Pair, label string, chain, codes []string, from, to float64) {
	g := r.en.G
	e, _ := k.Split()
	home := g.Ents[e].Country
	for _, sp := range g.ActiveSupplies(k) {
		sup := g.Sups[sp.Supplier]
		var frac float64
		var why string
		switch {
		case sup.Country == s.Country && home == s.Country:
			continue
		case sup.Country == s.Country:
			frac = sp.Share * s.Share
			why = fmt.Sprintf("supplier %s is in %s: share %.0f%% × restricted %.0f%% = %.1f%% lost", sup.ID, s.Country, 100*sp.Share, 100*s.Share, 100*frac)
		default:
			dep, evidence := r.en.X.Dependence(sup.Country, s.Country, s.Material, codes)
			frac = sp.Share * s.Share * dep
			why = fmt.Sprintf("supplier %s (%s) depends on %s: %s; share %.0f%% × restricted %.0f%% × %.1f%% = %.1f%% lost",
				sup.ID, sup.Country, s.Country, evidence, 100*sp.Share, 100*s.Share, 100*dep, 100*frac)
		}
		if frac <= 0 {
			continue
		}
		path := append([]string{label}, strings.Join(chain, " ⊂ "), "supplier "+sup.ID+" ("+sup.Country+") → "+g.Ents[e].ID)
		r.lost[k] = append(r.lost[k], sp.Supplier)
		r.direct[k] = append(r.direct[k], outage{from: from, to: to, frac: frac, path: path, why: []string{why}})
	}
}

// altHit reports whether supplier si is itself hit by a shock of the run (for enterprise e).
func (r *run) altHit(si, e int32) bool {
	g := r.en.G
	sup := g.Sups[si]
	for _, s := range r.shocks {
		switch s.Type {
		case ShockSupplier, ShockLeadTime:
			if s.Supplier == sup.ID {
				return true
			}
		case ShockExport:
			if sup.Country == s.Country && g.Ents[e].Country != s.Country {
				return true
			}
		}
	}
	return false
}
