// Package chainmap draws industry chain maps (产业链图谱): a chain from config (Config) is an ordered
// list of links (环节) from upstream to downstream; Build places the enterprises and suppliers of the
// supply map at each link, grouped by region and coloured by their latest exposure, and marks a GAP
// where a link has no qualified domestic (or, with a region, no in-region) enterprise. Store reads
// the inputs from ClickHouse; SVG and HTML render a Map. Build and the renderers are pure.
package chainmap

import (
	"cmp"
	"slices"
	"strings"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/schemas"
)

// Node is a supply-map node as the map needs it.
type Node struct {
	Type        string   `json:"type"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Country     string   `json:"country,omitempty"`
	Region      string   `json:"region,omitempty"`
	Domestic    bool     `json:"domestic"`
	ChainLeader bool     `json:"chain_leader,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Category    string   `json:"category,omitempty"`
	HSCode      string   `json:"hs_code,omitempty"`
	Chokepoint  bool     `json:"chokepoint,omitempty"`
}

// Edge kinds besides the supply-map link types (schemas.LinkSupplies, schemas.LinkMakes).
const EdgeAlternate = "alternate" // a 替代清单 entry: SupplierID is an alternate source of ComponentID

// Edge is a supplies or makes row of supply_links, or a substitution-list alternate.
type Edge struct {
	Type              string
	EnterpriseID      string
	ProductID         string
	ComponentID       string
	SupplierID        string
	Qualification     string
	Share             float64
	QualificationDays float64
}

// Exposure is the latest exposure score of one enterprise × component pair.
type Exposure struct {
	EnterpriseID string
	ComponentID  string
	Score        float64
}

// Data is what Build needs: the nodes by id (the chain's items and every member), the edges
// touching the chain's items, and the latest exposures of its components.
type Data struct {
	Nodes     map[string]Node
	Edges     []Edge
	Exposures []Exposure
}

// Regions places and matches supply-map region values.
type Regions interface {
	// Place is the key members are grouped by (a province, say) for a node's region value.
	Place(region string) string
	// Match reports whether a node's region value lies in want (a region, a list or a group name).
	Match(want, region string) bool
}

// PlainRegions groups by the region value as is and matches want as one region or a
// comma-separated list ("Beijing,Tianjin,Hebei"), case-insensitively.
type PlainRegions struct{}

// Place returns region, trimmed.
func (PlainRegions) Place(region string) string { return strings.TrimSpace(region) }

// Match reports whether region equals one of want's comma-separated entries, ignoring case.
func (PlainRegions) Match(want, region string) bool {
	region = strings.TrimSpace(region)
	return region != "" && slices.ContainsFunc(strings.Split(want, ","), func(w string) bool { return strings.EqualFold(strings.TrimSpace(w), region) })
}

// Options shape a map.
type Options struct {
	// Region is the regional view (matched by Regions); empty: none.
	Region string
	// Regions places and matches regions; nil: PlainRegions.
	Regions Regions
	// Home is the home country (ISO3): an enterprise there is domestic.
	Home string
	// Severity bands the scores (api.exposure.severity).
	Severity exposure.SeverityConfig
}

// Member statuses, strongest first.
const (
	StatusQualified  = "qualified"   // a maker, or a qualified supplier
	StatusInProgress = "in_progress" // a supplier still in qualification
	StatusAlternate  = "alternate"   // on the substitution list only
)

// Gap kinds.
const (
	GapDomestic = "domestic"
	GapRegion   = "region"
)

// Map is a chain map: links as columns, upstream first.
type Map struct {
	Chain    ChainRef `json:"chain"`
	Region   string   `json:"region,omitempty"`
	Links    []Column `json:"links"`
	Gaps     []Gap    `json:"gaps"`
	MaxScore *float64 `json:"max_score"`
	Severity string   `json:"severity,omitempty"`
}

// ChainRef names the chain of a map.
type ChainRef struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Industry string `json:"industry,omitempty"`
}

// Column is one link of the chain with its items and the enterprises at it.
type Column struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Position int      `json:"position"` // 1 = most upstream
	Items    []Item   `json:"items"`
	Score    *float64 `json:"score"`
	Severity string   `json:"severity,omitempty"`
	Groups   []Group  `json:"groups"`
	// Domestic and InRegion count qualified members (InRegion only with a region).
	Domestic int   `json:"domestic"`
	InRegion *int  `json:"in_region,omitempty"`
	Gaps     []Gap `json:"gaps"`
}

// Item is a component, material or product of a link.
type Item struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Kind       string `json:"kind"` // component, material, product
	Category   string `json:"category,omitempty"`
	HSCode     string `json:"hs_code,omitempty"`
	Chokepoint bool   `json:"chokepoint,omitempty"`
	// ViaHS is the configured HS code that brought the item in (empty: listed by id).
	ViaHS string `json:"via_hs,omitempty"`
	// Known is false when the id is not in the supply map.
	Known bool `json:"known"`
}

// Group is the members of one link in one place: a home-country region or a foreign country.
type Group struct {
	Label    string   `json:"label"`
	Country  string   `json:"country,omitempty"`
	Region   string   `json:"region,omitempty"`
	Domestic bool     `json:"domestic"`
	InRegion bool     `json:"in_region,omitempty"`
	Members  []Member `json:"members"`
}

// Member is an enterprise (maker of a product) or a supplier (of a component) at a link.
type Member struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Type        string   `json:"type"` // enterprise, supplier
	Country     string   `json:"country,omitempty"`
	Region      string   `json:"region,omitempty"`
	Domestic    bool     `json:"domestic"`
	InRegion    bool     `json:"in_region,omitempty"`
	ChainLeader bool     `json:"chain_leader,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Status      string   `json:"status"`
	Items       []string `json:"items"`
	Share       float64  `json:"share"` // largest share it holds of a buyer's volume
	// QualificationDays is the substitution list's time to qualify an alternate.
	QualificationDays *float64 `json:"qualification_days,omitempty"`
	// Score is the largest latest exposure through this member: for a supplier, of the
	// enterprise × component pairs it supplies (qualified, share > 0); for a maker, of its pairs on
	// the chain's components.
	Score    *float64 `json:"score"`
	Severity string   `json:"severity,omitempty"`
}

// Gap is a link without a qualified domestic or in-region enterprise.
type Gap struct {
	Link     string `json:"link"`
	LinkName string `json:"link_name"`
	Kind     string `json:"kind"` // domestic, region
	Message  string `json:"message"`
	// Candidates are the domestic (in-region) members not yet qualified.
	Candidates []string `json:"candidates,omitempty"`
}

// Build places d on chain. It is pure: the same inputs give the same map.
func Build(chain Chain, d Data, opt Options) Map {
	opt.Region = strings.TrimSpace(opt.Region)
	if opt.Regions == nil {
		opt.Regions = PlainRegions{}
	}
	m := Map{Chain: ChainRef{ID: chain.ID, Name: chain.Name, Industry: chain.Industry}, Region: opt.Region, Gaps: []Gap{}}
	cols := make([][]Item, len(chain.Links))
	chainComps := map[string]bool{}
	for i, l := range chain.Links {
		cols[i] = resolveItems(l, d.Nodes)
		for _, it := range cols[i] {
			if it.Kind != "product" {
				chainComps[it.ID] = true
			}
		}
	}
	x := newExposures(d.Exposures, chainComps)
	for i, l := range chain.Links {
		col := buildColumn(l, i+1, cols[i], d, x, opt)
		m.Gaps = append(m.Gaps, col.Gaps...)
		m.MaxScore = maxPtr(m.MaxScore, col.Score)
		m.Links = append(m.Links, col)
	}
	if m.MaxScore != nil {
		m.Severity = opt.Severity.Of(*m.MaxScore)
	}
	return m
}

// resolveItems lists a link's components, materials and the components matching its HS codes.
func resolveItems(l Link, nodes map[string]Node) []Item {
	var out []Item
	seen := map[string]bool{}
	add := func(id, kind, via string) {
		if seen[id] {
			return
		}
		seen[id] = true
		n, ok := nodes[id]
		it := Item{ID: id, Name: id, Kind: kind, ViaHS: via, Known: ok}
		if ok {
			it.Name, it.Category, it.HSCode, it.Chokepoint = cmp.Or(n.Name, id), n.Category, n.HSCode, n.Chokepoint
			if kind == "component" && n.Type == schemas.NodeProduct {
				it.Kind = "product"
			}
		}
		out = append(out, it)
	}
	for _, id := range l.Components {
		add(id, "component", "")
	}
	for _, id := range l.Materials {
		add(id, "material", "")
	}
	for _, hs := range l.HSCodes {
		var ids []string
		for id, n := range nodes {
			if n.Type == schemas.NodeComponent && strings.HasPrefix(n.HSCode, hs) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			add(id, "component", hs)
		}
	}
	return out
}

// exposures indexes the latest scores by pair and by enterprise (over the chain's components).
type exposures struct {
	pair      map[[2]string]float64
	byEnt     map[string]float64
	byComp    map[string]float64
	chainComp map[string]bool
}

func newExposures(xs []Exposure, chainComps map[string]bool) exposures {
	x := exposures{pair: map[[2]string]float64{}, byEnt: map[string]float64{}, byComp: map[string]float64{}, chainComp: chainComps}
	for _, e := range xs {
		k := [2]string{e.EnterpriseID, e.ComponentID}
		if v, ok := x.pair[k]; !ok || e.Score > v {
			x.pair[k] = e.Score
		}
		if v, ok := x.byComp[e.ComponentID]; !ok || e.Score > v {
			x.byComp[e.ComponentID] = e.Score
		}
		if !chainComps[e.ComponentID] {
			continue
		}
		if v, ok := x.byEnt[e.EnterpriseID]; !ok || e.Score > v {
			x.byEnt[e.EnterpriseID] = e.Score
		}
	}
	return x
}

func (x exposures) ofPair(ent, comp string) *float64 {
	if v, ok := x.pair[[2]string{ent, comp}]; ok {
		return &v
	}
	return nil
}

func (x exposures) of(m map[string]float64, k string) *float64 {
	if v, ok := m[k]; ok {
		return &v
	}
	return nil
}

func maxPtr(a, b *float64) *float64 {
	switch {
	case a == nil:
		return b
	case b == nil || *a >= *b:
		return a
	default:
		return b
	}
}

func statusRank(s string) int {
	switch s {
	case StatusQualified:
		return 0
	case StatusInProgress:
		return 1
	default:
		return 2
	}
}

// buildColumn gathers the members of one link from the edges touching its items.
func buildColumn(l Link, pos int, items []Item, d Data, x exposures, opt Options) Column {
	col := Column{ID: l.ID, Name: l.Name, Position: pos, Items: items, Groups: []Group{}, Gaps: []Gap{}}
	kinds := map[string]string{}
	for _, it := range items {
		kinds[it.ID] = it.Kind
		if it.Kind != "product" {
			col.Score = maxPtr(col.Score, x.of(x.byComp, it.ID))
		}
	}
	members := map[string]*Member{}
	get := func(id, typ, status string) *Member {
		m, ok := members[id]
		if !ok {
			m = newMember(id, typ, d.Nodes[id], opt)
			m.Status = status
			members[id] = m
		} else if statusRank(status) < statusRank(m.Status) {
			m.Status = status
		}
		return m
	}
	for _, e := range d.Edges {
		switch {
		case e.Type == schemas.LinkSupplies && kinds[e.ComponentID] != "" && kinds[e.ComponentID] != "product" && e.SupplierID != "" && e.Qualification != "disqualified":
			status := StatusInProgress
			if e.Qualification == StatusQualified {
				status = StatusQualified
			}
			m := get(e.SupplierID, schemas.NodeSupplier, status)
			m.Share = max(m.Share, e.Share)
			m.Items = appendNew(m.Items, e.ComponentID)
			if status == StatusQualified && e.Share > 0 {
				m.Score = maxPtr(m.Score, x.ofPair(e.EnterpriseID, e.ComponentID))
			}
		case e.Type == schemas.LinkMakes && kinds[e.ProductID] == "product" && e.EnterpriseID != "":
			m := get(e.EnterpriseID, schemas.NodeEnterprise, StatusQualified)
			m.Items = appendNew(m.Items, e.ProductID)
			m.Score = maxPtr(m.Score, x.of(x.byEnt, e.EnterpriseID))
		case e.Type == EdgeAlternate && kinds[e.ComponentID] != "" && e.SupplierID != "":
			m := get(e.SupplierID, schemas.NodeSupplier, StatusAlternate)
			m.Items = appendNew(m.Items, e.ComponentID)
			if m.QualificationDays == nil || e.QualificationDays < *m.QualificationDays {
				qd := e.QualificationDays
				m.QualificationDays = &qd
			}
		}
	}
	placeMembers(&col, members, opt)
	return col
}

func appendNew(ss []string, s string) []string {
	if slices.Contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

func newMember(id, typ string, n Node, opt Options) *Member {
	m := &Member{ID: id, Name: cmp.Or(n.Name, id), Type: cmp.Or(n.Type, typ), Country: n.Country, Region: n.Region,
		ChainLeader: n.ChainLeader, Tags: n.Tags, Items: []string{}}
	m.Domestic = n.Domestic || (opt.Home != "" && n.Country == opt.Home)
	m.InRegion = m.Domestic && opt.Region != "" && opt.Regions.Match(opt.Region, n.Region)
	return m
}

// placeMembers groups the members by place, scores the column and records its gaps.
func placeMembers(col *Column, members map[string]*Member, opt Options) {
	byKey := map[string]*Group{}
	inRegion := 0
	var candDom, candReg []string
	for _, m := range members {
		if m.Score != nil {
			m.Severity = opt.Severity.Of(*m.Score)
			col.Score = maxPtr(col.Score, m.Score)
		}
		qualified := m.Status == StatusQualified
		switch {
		case m.Domestic && qualified:
			col.Domestic++
		case m.Domestic:
			candDom = append(candDom, m.Name)
		}
		switch {
		case m.InRegion && qualified:
			inRegion++
		case m.InRegion:
			candReg = append(candReg, m.Name)
		}
		g := groupOf(byKey, m, opt.Regions)
		g.Members = append(g.Members, *m)
	}
	for _, g := range byKey {
		slices.SortFunc(g.Members, func(a, b Member) int {
			return cmp.Or(cmp.Compare(statusRank(a.Status), statusRank(b.Status)), cmpScore(b.Score, a.Score), cmp.Compare(a.Name, b.Name))
		})
		col.Groups = append(col.Groups, *g)
	}
	slices.SortFunc(col.Groups, func(a, b Group) int {
		return cmp.Or(cmpBool(b.InRegion, a.InRegion), cmpBool(b.Domestic, a.Domestic), cmp.Compare(a.Label, b.Label))
	})
	if col.Score != nil {
		col.Severity = opt.Severity.Of(*col.Score)
	}
	slices.Sort(candDom)
	slices.Sort(candReg)
	if col.Domestic == 0 {
		col.Gaps = append(col.Gaps, Gap{Link: col.ID, LinkName: col.Name, Kind: GapDomestic, Candidates: candDom,
			Message: "无合格国内企业 · no qualified domestic enterprise"})
	}
	if opt.Region != "" {
		col.InRegion = &inRegion
		if inRegion == 0 {
			col.Gaps = append(col.Gaps, Gap{Link: col.ID, LinkName: col.Name, Kind: GapRegion, Candidates: candReg,
				Message: "区域内无合格企业 · no qualified enterprise in " + opt.Region})
		}
	}
}

// groupOf returns the group of m's place: home-country members by region, others by country.
func groupOf(byKey map[string]*Group, m *Member, regions Regions) *Group {
	label := cmp.Or(m.Country, "?")
	place := regions.Place(m.Region)
	if m.Domestic {
		label += " · " + cmp.Or(place, "?")
	}
	g, ok := byKey[label]
	if !ok {
		g = &Group{Label: label, Country: m.Country, Domestic: m.Domestic, InRegion: m.InRegion}
		if m.Domestic {
			g.Region = place
		}
		byKey[label] = g
	}
	return g
}

func cmpScore(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	default:
		return cmp.Compare(*a, *b)
	}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}
