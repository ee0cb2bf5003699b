package detectors

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// LocalSourcing is one chain leader's (链主) local-sourcing index: the share of its supply that
// comes from suppliers in its own region group (就近布局).
//
// Weighting is by count: every component the leader buys from at least one qualified supplier
// counts once, split over its qualified suppliers by their supplies-link shares (normalised to 1
// per component as the single-source detector does). Volumes are not used: consumption is in each
// component's own unit (kg of cobalt, pieces of FPGAs) and the map has no prices, so a volume-weighted
// sum would add kilograms to pieces. Index = Σ_components Σ_{suppliers in the group} share / components.
type LocalSourcing struct {
	EnterpriseID string `json:"enterprise_id"`
	Name         string `json:"name"`
	Region       string `json:"region"`       // normalised (北京, 江苏)
	RegionGroup  string `json:"region_group"` // the leader's group (京津冀)
	Industry     string `json:"industry,omitempty"`
	Components   int    `json:"components"`          // components with a qualified supplier
	Suppliers    int    `json:"suppliers"`           // distinct qualified suppliers
	InRegion     int    `json:"in_region_suppliers"` // of which in the group
	// InRegionShare is the share-weighted count of in-group supply (Σ in-group shares over components).
	InRegionShare float64 `json:"in_region_share"`
	Index         float64 `json:"index"` // 0..1
	// PrevIndex is the index a week earlier (nil when the leader had no index then); Change = Index − PrevIndex.
	PrevIndex *float64 `json:"prev_index,omitempty"`
	Change    float64  `json:"change"`
}

// LocalSourcingIndex computes the index of every chain leader in a configured region group, sorted
// by enterprise id. Leaders outside every group, or without a qualified supplier, have no index.
func LocalSourcingIndex(in *Inputs) []LocalSourcing {
	type pair struct{ ent, comp int32 }
	byPair := map[pair][]SupplyEdge{}
	for _, e := range in.Supplies {
		ent := in.Enterprises[e.Ent]
		if e.Qual != QualQualified || ent == nil || !ent.ChainLeader || ent.RegionGroup == "" {
			continue
		}
		byPair[pair{e.Ent, e.Comp}] = append(byPair[pair{e.Ent, e.Comp}], e)
	}
	rows := map[int32]*LocalSourcing{}
	sups := map[int32]map[int32]bool{}
	for _, p := range slices.SortedFunc(maps.Keys(byPair), func(a, b pair) int { return cmp.Or(cmp.Compare(a.ent, b.ent), cmp.Compare(a.comp, b.comp)) }) {
		ent := in.Enterprises[p.ent]
		r := rows[p.ent]
		if r == nil {
			r = &LocalSourcing{EnterpriseID: in.ID(p.ent), Name: ent.Name, Region: ent.Province, RegionGroup: ent.RegionGroup, Industry: ent.Industry}
			rows[p.ent], sups[p.ent] = r, map[int32]bool{}
		}
		edges := byPair[p]
		shares := make([]SupShare, len(edges))
		for i, e := range edges {
			shares[i] = SupShare{Sup: e.Sup, Share: e.Share}
		}
		normaliseSupShares(shares)
		r.Components++
		for _, s := range shares {
			inGroup := false
			if info := in.Suppliers[s.Sup]; info != nil && info.RegionGroup == ent.RegionGroup {
				inGroup = true
				r.InRegionShare += s.Share
			}
			if !sups[p.ent][s.Sup] {
				sups[p.ent][s.Sup] = true
				r.Suppliers++
				if inGroup {
					r.InRegion++
				}
			}
		}
	}
	out := make([]LocalSourcing, 0, len(rows))
	for _, r := range rows {
		r.InRegionShare = round4(r.InRegionShare)
		r.Index = round4(r.InRegionShare / float64(r.Components))
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b LocalSourcing) int { return cmp.Compare(a.EnterpriseID, b.EnterpriseID) })
	return out
}

// WithChange sets PrevIndex and Change of now from the index of the same leaders in prev.
func WithChange(now, prev []LocalSourcing) []LocalSourcing {
	old := map[string]float64{}
	for _, p := range prev {
		old[p.EnterpriseID] = p.Index
	}
	for i := range now {
		if v, ok := old[now[i].EnterpriseID]; ok {
			now[i].PrevIndex = &v
			now[i].Change = round4(now[i].Index - v)
		}
	}
	return now
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
