package whatif

import (
	"cmp"
	"errors"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chainwatch/chainwatch/detectors/supplygraph"
)

// StressResult is the smallest single shock that stops one 链主 product: the candidate shock
// (lasting HorizonDays, share 1) after whose start the product stops soonest. DaysToStop is also
// the shortest duration of that shock that stops the product.
type StressResult struct {
	Enterprise string   `json:"enterprise_id"`
	Product    string   `json:"product_id"`
	Found      bool     `json:"found"`
	Shock      Shock    `json:"shock"`
	DaysToStop float64  `json:"days_to_stop"`
	Path       []string `json:"path,omitempty"`
	Arithmetic []string `json:"arithmetic,omitempty"`
	Candidates int      `json:"candidates"`
	order      int      // candidate index, for ties
}

// Candidates lists the single shocks of the reverse stress test, starting at start and lasting
// HorizonDays: every supplier down, every enterprise site down, and an export restriction (share 1)
// of every configured material that some item carries, by every supplier country and the top
// producer.
func (en *Engine) Candidates(start time.Time) []Shock {
	g := en.G
	d, dur := Date{start}, en.Cfg.HorizonDays
	var out []Shock
	for _, s := range g.Sups {
		out = append(out, Shock{Type: ShockSupplier, Supplier: s.ID, Start: d, DurationDays: dur})
	}
	for _, e := range g.Ents {
		out = append(out, Shock{Type: ShockSite, Site: e.ID, Start: d, DurationDays: dur})
	}
	countries := map[string]bool{}
	for _, s := range g.Sups {
		countries[s.Country] = true
	}
	for _, m := range slices.Sorted(maps.Keys(en.Cfg.Materials)) {
		if !en.carried(en.Cfg.Materials[m]) {
			continue
		}
		cs := maps.Clone(countries)
		if top, ok := en.X.TopProducer(m); ok {
			cs[top] = true
		}
		for _, c := range slices.Sorted(maps.Keys(cs)) {
			out = append(out, Shock{Type: ShockExport, Country: c, Material: m, Share: 1, Start: d, DurationDays: dur})
		}
	}
	return out
}

func (en *Engine) carried(codes []string) bool {
	for _, it := range en.G.Items {
		for _, c := range codes {
			if it.HSCode != "" && strings.HasPrefix(it.HSCode, c) {
				return true
			}
		}
	}
	return false
}

// ReverseStress runs every candidate shock once (in parallel) and keeps, for every product of a
// 链主 enterprise, the candidate that stops it soonest (ties: candidate order). A site shock of the
// enterprise itself is not counted for its own products.
func (en *Engine) ReverseStress(start time.Time) ([]StressResult, error) {
	g := en.G
	cands := en.Candidates(start)
	best := map[supplygraph.Pair]StressResult{}
	for e, ent := range g.Ents {
		if ent.ChainLeader {
			for _, p := range g.Makes[e] {
				best[supplygraph.PairOf(int32(e), p)] = StressResult{Enterprise: ent.ID, Product: g.Items[p].ID, Candidates: len(cands)}
			}
		}
	}
	locals := make([]map[supplygraph.Pair]StressResult, 0)
	errs := make([]error, 0)
	var mu sync.Mutex
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), len(cands)))
	for w := range workers {
		wg.Go(func() {
			local := map[supplygraph.Pair]StressResult{}
			var err error
			for i := w; i < len(cands) && err == nil; i += workers {
				var res *Result
				if res, err = en.Run(Scenario{Name: "reverse stress", Shocks: []Shock{cands[i]}}); err == nil {
					en.keepBest(local, best, cands[i], i, res, start)
				}
			}
			mu.Lock()
			locals, errs = append(locals, local), append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, local := range locals {
		for k, r := range local {
			if b := best[k]; !b.Found || r.DaysToStop < b.DaysToStop || (r.DaysToStop == b.DaysToStop && r.order < b.order) {
				best[k] = r
			}
		}
	}
	out := slices.Collect(maps.Values(best))
	slices.SortFunc(out, func(a, b StressResult) int {
		return cmp.Or(cmp.Compare(a.Enterprise, b.Enterprise), cmp.Compare(a.Product, b.Product))
	})
	return out, nil
}

// keepBest records, for the 链主 products (the keys of leaders) that res stops, the candidate if it
// stops them sooner than the one held in local (ties: the earlier candidate).
func (en *Engine) keepBest(local, leaders map[supplygraph.Pair]StressResult, c Shock, order int, res *Result, start time.Time) {
	g := en.G
	for _, s := range res.Stops {
		k := supplygraph.PairOf(g.Ent(s.Enterprise), g.Item(s.Product))
		base, ok := leaders[k]
		if !ok || (c.Type == ShockSite && c.Site == s.Enterprise) {
			continue
		}
		days := round2(s.FirstStop.Sub(start).Hours() / 24)
		if b, seen := local[k]; seen && (b.DaysToStop < days || (b.DaysToStop == days && b.order < order)) {
			continue
		}
		base.Found, base.Shock, base.DaysToStop, base.Path, base.Arithmetic, base.order = true, c, days, s.Path, s.Arithmetic, order
		local[k] = base
	}
}
