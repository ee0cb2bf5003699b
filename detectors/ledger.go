package detectors

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// 卡点 ledger routes and stages (issue 14).
const (
	RouteJiebang = "揭榜挂帅" // open call: the chain leader posts the problem, anyone may take it
	RouteSaima   = "赛马"   // horse race: several teams attack the same problem in parallel
)

// LedgerStages are the stages of a 卡点 item, in order.
var LedgerStages = []string{"梳理", "揭榜", "攻关", "中试验证", "首试首用", "批量入链"}

// LedgerItem is one configured 卡点 item: a component a chain leader (Owner, enterprise id) has
// issued for breakthrough, its route, stage and target date (YYYY-MM-DD).
type LedgerItem struct {
	ID          string `koanf:"id" json:"id"`
	Title       string `koanf:"title" json:"title,omitempty"`
	ComponentID string `koanf:"component_id" json:"component_id"`
	Owner       string `koanf:"owner" json:"owner"`
	Route       string `koanf:"route" json:"route"`
	Stage       string `koanf:"stage" json:"stage"`
	TargetDate  string `koanf:"target_date" json:"target_date"`
}

// LedgerTarget is a policy target: Count items broken through by the end of Year (30 by 2025).
type LedgerTarget struct {
	Year  int `koanf:"year" json:"year"`
	Count int `koanf:"count" json:"count"`
}

// LedgerConfig is "detectors.ledger": the 卡点 items, the policy targets and the share a domestic
// supplier must hold for a breakthrough to be confirmed.
type LedgerConfig struct {
	// BreakthroughShare: a qualified domestic supplier must hold at least this share of the owner's
	// supply of the component (0..1).
	BreakthroughShare float64        `koanf:"breakthrough_share"`
	Targets           []LedgerTarget `koanf:"targets"`
	Items             []LedgerItem   `koanf:"items"`
}

// DefaultLedger has no items, the targets 30 by 2025 and 100 by 2030, and a 30 % share.
func DefaultLedger() LedgerConfig {
	return LedgerConfig{BreakthroughShare: 0.3, Targets: []LedgerTarget{{Year: 2025, Count: 30}, {Year: 2030, Count: 100}}}
}

func (c LedgerConfig) validate(p *confkit.Problems, pre string) {
	detFraction(p, pre+"breakthrough_share", c.BreakthroughShare, true)
	for i, t := range c.Targets {
		k := fmt.Sprintf("%stargets[%d]", pre, i)
		if t.Year < 2000 || t.Year > 2100 {
			p.Add(k+".year", "must be a year 2000..2100, got %d", t.Year)
		}
		if t.Count <= 0 {
			p.Add(k+".count", "must be > 0, got %d", t.Count)
		}
	}
	ids := map[string]bool{}
	for i, it := range c.Items {
		k := fmt.Sprintf("%sitems[%d]", pre, i)
		p.Required(k+".id", it.ID)
		if ids[it.ID] {
			p.Add(k+".id", "duplicate item id %q", it.ID)
		}
		ids[it.ID] = true
		p.Required(k+".component_id", it.ComponentID)
		p.Required(k+".owner", it.Owner)
		p.OneOf(k+".route", it.Route, RouteJiebang, RouteSaima)
		p.OneOf(k+".stage", it.Stage, LedgerStages...)
		if _, err := time.Parse(time.DateOnly, it.TargetDate); err != nil {
			p.Add(k+".target_date", "%q is not a date YYYY-MM-DD", it.TargetDate)
		}
	}
}

// LedgerStatus is a 卡点 item with its breakthrough (突破) status confirmed from data.
type LedgerStatus struct {
	LedgerItem
	OwnerName     string `json:"owner_name,omitempty"`
	ComponentName string `json:"component_name,omitempty"`
	Category      string `json:"category,omitempty"`
	HSCode        string `json:"hs_code,omitempty"`
	StageIndex    int    `json:"stage_index"` // 1..6
	// DomesticSupplier is the qualified domestic supplier with the largest share of the owner's
	// supply of the component, DomesticShare its share (normalised over qualified suppliers).
	DomesticSupplier string  `json:"domestic_supplier,omitempty"`
	DomesticShare    float64 `json:"domestic_share"`
	ForeignControl   bool    `json:"foreign_control"` // a latest finding of the component flags foreign_control
	DependencyRule   bool    `json:"dependency_rule"` // … or dependency_rule (component or its HS code)
	BrokenThrough    bool    `json:"broken_through"`
	// Blockers say what keeps the breakthrough unconfirmed (empty when broken through).
	Blockers []string `json:"blockers"`
	Overdue  bool     `json:"overdue"` // target date passed, not broken through
}

// Blocker codes of LedgerStatus.Blockers.
const (
	BlockerNoDomestic     = "no_qualified_domestic_supplier"
	BlockerDomesticShare  = "domestic_share_below_threshold"
	BlockerForeignControl = "foreign_control"
	BlockerDependencyRule = "dependency_rule"
)

// LedgerProgress is the count of confirmed breakthroughs against one target.
type LedgerProgress struct {
	Year     int     `json:"year"`
	Target   int     `json:"target"`
	Achieved int     `json:"achieved"` // items broken through now
	Share    float64 `json:"share"`    // achieved / target
	Due      bool    `json:"due"`      // the target's year has ended
	Met      bool    `json:"met"`
}

// Ledger is the whole ledger at one time.
type Ledger struct {
	AsOf              time.Time        `json:"as_of"`
	BreakthroughShare float64          `json:"breakthrough_share"`
	Items             []LedgerStatus   `json:"items"`
	BrokenThrough     int              `json:"broken_through"`
	Progress          []LedgerProgress `json:"progress"`
}

// LedgerStatuses confirms each item from data: BrokenThrough when a qualified domestic supplier of
// the owner holds ≥ breakthrough_share of its supply of the component, and no latest finding of the
// component (any detector: the component, its HS code, the owner × component pair) carries
// foreign_control or dependency_rule. findings are the latest findings of every detector.
func LedgerStatuses(in *Inputs, cfg LedgerConfig, findings []Finding, now time.Time) Ledger {
	l := Ledger{AsOf: now, BreakthroughShare: cfg.BreakthroughShare, Items: []LedgerStatus{}}
	for _, it := range cfg.Items {
		st := LedgerStatus{LedgerItem: it, StageIndex: slices.Index(LedgerStages, it.Stage) + 1, Blockers: []string{}}
		if e := in.Enterprises[in.Lookup(it.Owner)]; e != nil {
			st.OwnerName = e.Name
		}
		if c := in.Components[in.Lookup(it.ComponentID)]; c != nil {
			st.ComponentName, st.Category, st.HSCode = c.Name, c.Category, c.HSCode
		}
		st.DomesticSupplier, st.DomesticShare = in.bestDomestic(it.Owner, it.ComponentID)
		st.ForeignControl, st.DependencyRule = componentFlags(findings, it.ComponentID, st.HSCode, it.Owner)
		switch {
		case st.DomesticSupplier == "":
			st.Blockers = append(st.Blockers, BlockerNoDomestic)
		case st.DomesticShare < cfg.BreakthroughShare:
			st.Blockers = append(st.Blockers, BlockerDomesticShare)
		}
		if st.ForeignControl {
			st.Blockers = append(st.Blockers, BlockerForeignControl)
		}
		if st.DependencyRule {
			st.Blockers = append(st.Blockers, BlockerDependencyRule)
		}
		st.BrokenThrough = len(st.Blockers) == 0
		if st.BrokenThrough {
			l.BrokenThrough++
		} else if d, err := time.Parse(time.DateOnly, it.TargetDate); err == nil && now.After(d.AddDate(0, 0, 1)) {
			st.Overdue = true
		}
		l.Items = append(l.Items, st)
	}
	slices.SortStableFunc(l.Items, func(a, b LedgerStatus) int { return cmp.Compare(a.ID, b.ID) })
	l.Progress = LedgerProgressOf(cfg.Targets, l.BrokenThrough, now)
	return l
}

// LedgerProgressOf sets the achieved count against each target, in year order.
func LedgerProgressOf(targets []LedgerTarget, achieved int, now time.Time) []LedgerProgress {
	out := []LedgerProgress{}
	for _, t := range targets {
		p := LedgerProgress{Year: t.Year, Target: t.Count, Achieved: achieved, Due: now.Year() > t.Year, Met: achieved >= t.Count}
		if t.Count > 0 {
			p.Share = round4(float64(achieved) / float64(t.Count))
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b LedgerProgress) int { return cmp.Compare(a.Year, b.Year) })
	return out
}

// bestDomestic returns the qualified domestic supplier with the largest share of ent's supply of comp.
func (in *Inputs) bestDomestic(ent, comp string) (string, float64) {
	e, c := in.Lookup(ent), in.Lookup(comp)
	if e < 0 || c < 0 {
		return "", 0
	}
	var shares []SupShare
	for _, x := range in.Supplies {
		if x.Ent == e && x.Comp == c && x.Qual == QualQualified {
			shares = append(shares, SupShare{Sup: x.Sup, Share: x.Share, Domestic: in.isDomestic(in.Suppliers[x.Sup])})
		}
	}
	normaliseSupShares(shares)
	best, bestShare := "", -1.0
	for _, s := range shares {
		id := in.ID(s.Sup)
		if s.Domestic && (s.Share > bestShare || (s.Share == bestShare && id < best)) {
			best, bestShare = id, s.Share
		}
	}
	if best == "" {
		return "", 0
	}
	return best, round4(bestShare)
}

// componentFlags reports whether a finding of the component, its HS code or the owner × component
// pair carries foreign_control or dependency_rule.
func componentFlags(fs []Finding, comp, hs, owner string) (foreign, dependency bool) {
	for i := range fs {
		f := &fs[i]
		match := false
		switch f.SubjectType {
		case SubjectComponent:
			match = f.Subject == comp
		case SubjectHS:
			match = hs != "" && f.Subject == hs
		case SubjectEnterpriseComponent:
			match = f.Subject == pairSubjectOf(owner, comp)
		}
		if !match {
			continue
		}
		foreign = foreign || f.HasFlag(FlagForeignControl)
		dependency = dependency || f.HasFlag(FlagDependencyRule)
	}
	return foreign, dependency
}
