package whatif

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/chainwatch/chainwatch/detectors/supplygraph"
)

// union cuts overlapping outages into elementary windows. The fraction of a window is the sum of
// the active fractions, capped at 1 (sum: losses of different suppliers add up), or their maximum
// (a product missing several inputs loses the largest share). Each window keeps the explanation
// of its binding outage: the largest fraction, then the earliest start, then list order.
func union(outs []outage, sum bool) []outage {
	var pts []float64
	for _, o := range outs {
		pts = append(pts, o.from, o.to)
	}
	slices.Sort(pts)
	pts = slices.Compact(pts)
	var res []outage
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		frac, bind := 0.0, -1
		for j, o := range outs {
			if o.from > a || o.to < b || o.frac <= 0 {
				continue
			}
			if sum {
				frac += o.frac
			} else {
				frac = max(frac, o.frac)
			}
			if bind < 0 || o.frac > outs[bind].frac || (o.frac == outs[bind].frac && o.from < outs[bind].from) {
				bind = j
			}
		}
		if bind < 0 {
			continue
		}
		w := outs[bind]
		w.from, w.to, w.frac = a, b, min(1, frac)
		if n := len(res); n > 0 && res[n-1].to == a && res[n-1].frac == w.frac && slices.Equal(res[n-1].path, w.path) {
			res[n-1].to = b
			continue
		}
		res = append(res, w)
	}
	return res
}

// alternate is the fastest way to replace a lost supply.
type alternate struct {
	name string
	days float64
}

// bestAlternate picks, for (enterprise, item) k, the alternate with the shortest qualification
// that no shock of the run hits: other suppliers (not those whose supply of k was cut) of the pair (qualified: QualifiedSwitchDays, in
// progress: InProgressDays) and substitution-list entries (their qualification_days).
func (r *run) bestAlternate(k supplygraph.Pair) (alternate, bool) {
	g, cfg := r.en.G, r.en.Cfg
	e, _ := k.Split()
	var cands []alternate
	for _, s := range g.Supply[k] {
		if r.altHit(s.Supplier, e) || slices.Contains(r.lost[k], s.Supplier) {
			continue
		}
		switch s.Qualification {
		case "qualified":
			cands = append(cands, alternate{"supplier " + g.Sups[s.Supplier].ID + " (qualified)", cfg.QualifiedSwitchDays})
		case "in_progress":
			cands = append(cands, alternate{"supplier " + g.Sups[s.Supplier].ID + " (qualification in progress)", cfg.InProgressDays})
		}
	}
	for _, a := range g.Alts[k] {
		switch {
		case a.Supplier >= 0 && r.altHit(a.Supplier, e):
		case a.Supplier >= 0:
			cands = append(cands, alternate{"substitute supplier " + g.Sups[a.Supplier].ID, a.QualificationDays})
		case a.Item >= 0:
			cands = append(cands, alternate{"substitute component " + g.Items[a.Item].ID, a.QualificationDays})
		}
	}
	if len(cands) == 0 {
		return alternate{}, false
	}
	return slices.MinFunc(cands, func(a, b alternate) int { return cmp.Or(cmp.Compare(a.days, b.days), cmp.Compare(a.name, b.name)) }), true
}

// buffer applies the stock of (enterprise, item) k and the best alternate to the supply losses:
// stock depletes at frac × consumption per day while a loss lasts (it is not refilled between
// losses), the input is short from the day the stock runs out, and an alternate ready on day
// first loss + qualification absorbs everything after that day.
func (r *run) buffer(k supplygraph.Pair, losses []outage) []outage {
	g := r.en.G
	e, it := k.Split()
	label := g.Ents[e].ID + "/" + g.Items[it].ID
	segs := union(losses, true)
	st, hasStock := g.Stocks[k]
	ready := math.Inf(1)
	alt, hasAlt := r.bestAlternate(k)
	if hasAlt {
		ready = segs[0].from + alt.days
	}
	rem, need := st.Units, 0.0
	if st.PerDay <= 0 {
		rem = 0
	}
	var outs []outage
	for _, s := range segs {
		end := min(s.to, ready)
		if end <= s.from {
			break
		}
		rate := s.frac * st.PerDay
		need += rate * (end - s.from)
		runOut := s.from
		if rate > 0 {
			runOut = s.from + rem/rate
		}
		if runOut >= end {
			rem -= rate * (end - s.from)
			continue
		}
		rem = 0
		o := s
		o.from, o.to = runOut, end
		outs = append(outs, o)
	}
	line := r.coverLine(label, st, hasStock, segs[0])
	altLine := "no alternate"
	if hasAlt {
		altLine = fmt.Sprintf("alternate %s ready after %.0f d (%s)", alt.name, alt.days, r.date(ready))
	}
	if len(outs) == 0 {
		r.notes = append(r.notes, line+"; "+altLine+" → absorbed")
		return nil
	}
	line += fmt.Sprintf("; runs out %s; %s → short %s … %s", r.date(outs[0].from), altLine, r.date(outs[0].from), r.date(outs[len(outs)-1].to))
	action := fmt.Sprintf("hold ≥ %.0f units of %s at %s (has %.0f)", math.Ceil(need), g.Items[it].ID, g.Ents[e].ID, st.Units)
	if hasAlt {
		action += " or start qualifying " + alt.name + fmt.Sprintf(" %.0f d before the shock", alt.days-(outs[0].from-segs[0].from))
	} else {
		action += fmt.Sprintf(" or qualify a second source within %.1f d", outs[0].from-segs[0].from)
	}
	for i := range outs {
		outs[i].why = append(slices.Clone(outs[i].why), line)
		outs[i].action = action
	}
	return outs
}

// coverLine is the buffer arithmetic of the first loss window.
func (r *run) coverLine(label string, st supplygraph.Stock, hasStock bool, first outage) string {
	switch {
	case !hasStock:
		return fmt.Sprintf("%s: no stock on record (0 d cover); loss %.1f%% from %s", label, 100*first.frac, r.date(first.from))
	case st.PerDay <= 0:
		return fmt.Sprintf("%s: stock %.6g u, consumption unknown (0 d cover); loss %.1f%% from %s", label, st.Units, 100*first.frac, r.date(first.from))
	}
	cover := st.Units / (first.frac * st.PerDay)
	return fmt.Sprintf("%s: stock %.6g u ÷ (%.6g u/d × %.1f%% lost) = %.1f d cover from %s", label, st.Units, st.PerDay, 100*first.frac, cover, r.date(first.from))
}
