package detectors

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// Demand is one de-identified need on the demand board (链主出题、中小企业答题): enterprises of a
// region group need a supplier for a component, because their latest findings flag no_alternate,
// single_source or foreign_control. It names no enterprise: only the region group (or province
// when the enterprises are in no group), industries, how many enterprises and whether a chain
// leader is among them.
type Demand struct {
	ID            string   `json:"id"` // stable: hash of component and region
	ComponentID   string   `json:"component_id"`
	ComponentName string   `json:"component_name,omitempty"`
	Category      string   `json:"category,omitempty"`
	HSCode        string   `json:"hs_code,omitempty"`
	Region        string   `json:"region"` // region group, else the province, else "" (unknown)
	Needs         []string `json:"needs"`  // the flags: no_alternate, single_source, foreign_control
	Industries    []string `json:"industries"`
	Enterprises   int      `json:"enterprises"`
	ChainLeader   bool     `json:"chain_leader"` // a 链主 is among them (出题)
	MaxScore      float64  `json:"max_score"`
	Matches       []Match  `json:"matches"`
}

// Match is a tagged supplier (专精特新, 小巨人, 单项冠军) that could answer a demand.
type Match struct {
	SupplierID  string   `json:"supplier_id"`
	Name        string   `json:"name"`
	Region      string   `json:"region,omitempty"`
	RegionGroup string   `json:"region_group,omitempty"`
	Tags        []string `json:"tags"`
	// Basis: "component" (supplies it or is on the substitution list for it), "hs_code" (supplies a
	// component with the same 6-digit HS code) or "hs_heading" (same 4-digit heading).
	Basis      string `json:"basis"`
	SameRegion bool   `json:"same_region"`
}

// DemandFlags are the finding flags that post a need.
var DemandFlags = []string{FlagNoAlternate, FlagSingleSource, FlagForeignControl}

// Match bases, best first.
const (
	BasisComponent = "component"
	BasisHSCode    = "hs_code"
	BasisHSHeading = "hs_heading"
)

// DemandBoard builds the board from the latest enterprise × component findings (any detector) and
// the supply map: one demand per (component, region), matched to SME-tagged suppliers by component,
// then HS code, then HS heading, same-region suppliers first. Demands are ordered by chain leader
// first, enterprises, max score, then component.
func DemandBoard(in *Inputs, findings []Finding) []Demand {
	type key struct{ comp, region string }
	ds := map[key]*Demand{}
	ents := map[key]map[string]bool{}
	for i := range findings {
		f := &findings[i]
		if f.SubjectType != SubjectEnterpriseComponent || f.EnterpriseID == "" {
			continue
		}
		var needs []string
		for _, fl := range DemandFlags {
			if f.HasFlag(fl) {
				needs = append(needs, fl)
			}
		}
		if len(needs) == 0 {
			continue
		}
		region := ""
		if e := in.Enterprises[in.Lookup(f.EnterpriseID)]; e != nil {
			region = cmp.Or(e.RegionGroup, e.Province)
		}
		k := key{f.ComponentID, region}
		d := ds[k]
		if d == nil {
			sum := sha256.Sum256([]byte(f.ComponentID + "\x00" + region))
			d = &Demand{ID: "D-" + hex.EncodeToString(sum[:6]), ComponentID: f.ComponentID, Region: region}
			if c := in.Components[in.Lookup(f.ComponentID)]; c != nil {
				d.ComponentName, d.Category, d.HSCode = c.Name, c.Category, c.HSCode
			}
			ds[k], ents[k] = d, map[string]bool{}
		}
		for _, n := range needs {
			if !slices.Contains(d.Needs, n) {
				d.Needs = append(d.Needs, n)
			}
		}
		if f.Industry != "" && !slices.Contains(d.Industries, f.Industry) {
			d.Industries = append(d.Industries, f.Industry)
		}
		ents[k][f.EnterpriseID] = true
		d.ChainLeader = d.ChainLeader || f.ChainLeader
		d.MaxScore = max(d.MaxScore, f.Score)
	}
	out := make([]Demand, 0, len(ds))
	for k, d := range ds {
		d.Enterprises = len(ents[k])
		slices.SortFunc(d.Needs, func(a, b string) int { return cmp.Compare(slices.Index(DemandFlags, a), slices.Index(DemandFlags, b)) })
		slices.Sort(d.Industries)
		if d.Industries == nil {
			d.Industries = []string{}
		}
		d.Matches = in.demandMatches(d)
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Demand) int {
		if a.ChainLeader != b.ChainLeader {
			if a.ChainLeader {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Enterprises, a.Enterprises), cmp.Compare(b.MaxScore, a.MaxScore),
			cmp.Compare(a.ComponentID, b.ComponentID), cmp.Compare(a.Region, b.Region))
	})
	return out
}

// demandMatches lists the SME-tagged suppliers that could answer d.
func (in *Inputs) demandMatches(d *Demand) []Match {
	comp := in.Lookup(d.ComponentID)
	basis := map[int32]string{}
	better := func(sup int32, b string) {
		order := []string{BasisComponent, BasisHSCode, BasisHSHeading}
		if cur, ok := basis[sup]; !ok || slices.Index(order, b) < slices.Index(order, cur) {
			basis[sup] = b
		}
	}
	for _, e := range in.Supplies {
		if e.Qual == QualDisqualified {
			continue
		}
		if e.Comp == comp {
			better(e.Sup, BasisComponent)
			continue
		}
		if c := in.Components[e.Comp]; c != nil && d.HSCode != "" && c.HSCode != "" {
			switch {
			case c.HSCode == d.HSCode:
				better(e.Sup, BasisHSCode)
			case len(c.HSCode) >= 4 && len(d.HSCode) >= 4 && c.HSCode[:4] == d.HSCode[:4]:
				better(e.Sup, BasisHSHeading)
			}
		}
	}
	for _, s := range in.subsOf(comp) {
		if s.AltSup >= 0 {
			better(s.AltSup, BasisComponent)
		}
	}
	ms := []Match{}
	for sup, b := range basis {
		info := in.Suppliers[sup]
		if info == nil || len(info.Tags) == 0 {
			continue
		}
		m := Match{SupplierID: in.ID(sup), Name: info.Name, Region: info.Province, RegionGroup: info.RegionGroup, Tags: info.Tags, Basis: b}
		m.SameRegion = d.Region != "" && (info.RegionGroup == d.Region || info.Province == d.Region)
		ms = append(ms, m)
	}
	order := []string{BasisComponent, BasisHSCode, BasisHSHeading}
	slices.SortFunc(ms, func(a, b Match) int {
		if a.SameRegion != b.SameRegion {
			if a.SameRegion {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(slices.Index(order, a.Basis), slices.Index(order, b.Basis)), cmp.Compare(a.SupplierID, b.SupplierID))
	})
	return ms
}
