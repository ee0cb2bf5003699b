package whatif

import (
	"cmp"
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
	results := make([]*Result, len(cands))
	errs := make([]error, len(cands))
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), len(cands)))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(cands); i += workers {
				results[i], errs[i] = en.Run(Scenario{Name: "reverse stress", Shocks: []Shock{cands[i]}})
			}
		})
	}
	wg.Wait()
	for i, res := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		for _, s := range res.Stops {
			k := supplygraph.PairOf(g.Ent(s.Enterprise), g.Item(s.Product))
			b, ok := best[k]
			if !ok || (cands[i].Type == ShockSite && cands[i].Site == s.Enterprise) {
				continue
			}
			days := round2(s.FirstStop.Sub(start).Hours() / 24)
			if !b.Found || days < b.DaysToStop {
				b.Found, b.Shock, b.DaysToStop, b.Path, b.Arithmetic = true, cands[i], days, s.Path, s.Arithmetic
				best[k] = b
			}
		}
	}
	out := slices.Collect(maps.Values(best))
	slices.SortFunc(out, func(a, b StressResult) int {
		return cmp.Or(cmp.Compare(a.Enterprise, b.Enterprise), cmp.Compare(a.Product, b.Product))
	})
	return out, nil
}
