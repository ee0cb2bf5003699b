// Package detectors computes explainable exposure scores from the data in ClickHouse and writes
// them back as versioned runs of findings.
package detectors

import "time"

// Term is one explained component of a score: its raw Value, its Weight in the composite, its
// Contribution in score points (0..100 scale) and its Share of the total score (0..1).
// Norm is the raw value mapped to 0..1, the number actually weighted:
// Contribution = 100 × Weight × Norm / Σ weights (see Composite and docs/scoring.md).
type Term struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`
	Norm         float64 `json:"norm"`
	Weight       float64 `json:"weight"`
	Contribution float64 `json:"contribution"`
	Share        float64 `json:"share"`
	Detail       string  `json:"detail,omitempty"`
}

// Alternate is a ranked switching option for an exposed enterprise × component.
type Alternate struct {
	ComponentID       string  `json:"component_id,omitempty"`
	SupplierID        string  `json:"supplier_id,omitempty"`
	Country           string  `json:"country,omitempty"`
	Domestic          bool    `json:"domestic"`
	QualificationDays float64 `json:"qualification_days"`
	HHIAfter          float64 `json:"hhi_after"` // supplier HHI if volume is split onto this alternate
	Origin            string  `json:"origin"`    // "substitution" or "supply_map"
	Notes             string  `json:"notes,omitempty"`
	// Region is the supplier's normalised region (河北/保定); RegionGroup the enterprise's region
	// group when the supplier is in it (京津冀); Tags the supplier's SME tags (专精特新, 小巨人, 单项冠军).
	Region      string   `json:"region,omitempty"`
	RegionGroup string   `json:"region_group,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Reasons say why it ranks where it does, in rank-key order: domestic, same_region_group, sme_tag.
	Reasons []string `json:"reasons,omitempty"`
}

// Rank reasons of an alternate (Alternate.Reasons).
const (
	ReasonDomestic        = "domestic"
	ReasonSameRegionGroup = "same_region_group"
	ReasonSMETag          = "sme_tag"
)

// Subject types.
const (
	SubjectEnterpriseComponent = "enterprise_component"
	SubjectComponent           = "component"
	SubjectHS                  = "hs"
	SubjectMaterial            = "material"
	SubjectPart                = "part"
	SubjectSupplier            = "supplier"
)

// Flags raised by detectors.
const (
	FlagSingleSource   = "single_source"
	FlagSingleCountry  = "single_country"
	FlagConcentrated   = "highly_concentrated"
	FlagNoAlternate    = "no_alternate"
	FlagChokepointList = "chokepoint_list" // on the configured 卡点 list
	FlagForeignControl = "foreign_control" // 卡脖子: dominant source is foreign
	FlagDependencyRule = "dependency_rule" // CEPII-style rule hit
	FlagTTSBelowTTR    = "tts_below_ttr"
	FlagLeadTimeJump   = "lead_time_jump"
	FlagStockCollapse  = "stock_collapse"
	FlagLifecycle      = "lifecycle_change"
	FlagNoQualified    = "no_qualified_supplier"
	FlagBetweenness    = "high_betweenness"
)

// Finding is one scored subject of one detector run.
type Finding struct {
	RunID       string    `json:"run_id"`
	ComputedAt  time.Time `json:"computed_at"`
	Detector    string    `json:"detector"`
	SubjectType string    `json:"subject_type"`
	Subject     string    `json:"subject"` // e.g. "ENT-1|COMP-7", "COMP-7", "811292", "cobalt"
	SubjectName string    `json:"subject_name,omitempty"`
	// Dimensions, empty when not applicable.
	EnterpriseID string `json:"enterprise_id,omitempty"`
	ComponentID  string `json:"component_id,omitempty"`
	Category     string `json:"category,omitempty"`
	Industry     string `json:"industry,omitempty"`
	Region       string `json:"region,omitempty"`
	ChainLeader  bool   `json:"chain_leader,omitempty"`

	Score     float64  `json:"score"`                // 0..100
	PrevScore *float64 `json:"prev_score,omitempty"` // same subject in the previous run of the detector
	Flags     []string `json:"flags"`
	Terms     []Term   `json:"terms"`

	TTSDays    *float64    `json:"tts_days,omitempty"`
	TTRDays    *float64    `json:"ttr_days,omitempty"`
	Alternates []Alternate `json:"alternates,omitempty"`
	Products   []string    `json:"products,omitempty"` // products affected via the BOM

	WindowFrom time.Time `json:"window_from"`
	WindowTo   time.Time `json:"window_to"`
	// pair is the enterprise × component a finding was built from, until its alternates are
	// filled in (collector.result).
	pair *PairMetrics
	// reused marks a reference to the detector's previous run's finding of the subject, taken as
	// it was (findingreuse.go): only the subject, the score and reusedHash, its finding digest, are
	// set.
	reused     bool
	reusedHash uint64
}

// Delta is the change since the previous run (0 when there is none).
func (f *Finding) Delta() float64 {
	if f.PrevScore == nil {
		return 0
	}
	return f.Score - *f.PrevScore
}

// HasFlag reports whether the finding carries flag.
func (f *Finding) HasFlag(flag string) bool {
	for _, x := range f.Flags {
		if x == flag {
			return true
		}
	}
	return false
}
