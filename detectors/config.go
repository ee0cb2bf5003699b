package detectors

import (
	"fmt"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Names lists the detectors chainwatch knows, in run order (exposure last: it combines the others).
var Names = []string{"single_source", "chokepoint", "availability", "tts_ttr", "exposure"}

// Config is the "detectors" section: which detectors run, how often, and every threshold and
// weight of the scoring (docs/scoring.md explains each formula).
type Config struct {
	// Enabled lists the detectors the runner builds (subset of Names).
	Enabled []string `koanf:"enabled"`
	// Interval between runs of `chainwatch serve`; Timeout bounds one run of all detectors.
	Interval time.Duration `koanf:"interval"`
	Timeout  time.Duration `koanf:"timeout"`
	// WindowDays is the data window of time-based inputs: awards, availability snapshots, trade years.
	WindowDays int `koanf:"window_days"`
	// HomeISO3 / HomeM49 name the monitored region: supply-map countries are ISO alpha-3, trade
	// reporters are M49 (China 156 / CHN, USA 842 / USA).
	HomeISO3 string `koanf:"home_iso3"`
	HomeM49  int    `koanf:"home_m49"`
	// MaxFindingsPerDetector caps what one run stores per detector (highest scores kept; 0 = no cap).
	MaxFindingsPerDetector int `koanf:"max_findings_per_detector"`
	// LoadCache keeps the rows of unchanged input tables (supply map, substitutions, trade,
	// production) in memory between runs, so a run re-reads only the tables that changed, and only
	// the changed keys of supply_links; it also keeps the last graph with its betweenness, for a
	// run whose graph is the same, and the last run's pair metrics, for the pairs whose inputs are
	// the same (docs/scoring.md). It costs about 400 MB at 1M supply links; false reads every table
	// every run.
	LoadCache bool `koanf:"load_cache"`
	// DeltaRuns lets a run that follows this process's own previous run of a detector write only
	// the findings that changed since, and a tombstone per gone subject, carrying the rest as the
	// rows already stored (delta runs, docs/scoring.md; at least the first run of each UTC day is
	// full). Readers from migration 0009 on read both; false writes every run in full (during a
	// rolling upgrade from a release before delta runs, whose daemons read only full runs).
	DeltaRuns bool `koanf:"delta_runs"`

	SingleSource SingleSourceConfig `koanf:"single_source"`
	Chokepoint   ChokepointConfig   `koanf:"chokepoint"`
	Availability AvailabilityConfig `koanf:"availability"`
	TTSTTR       TTSTTRConfig       `koanf:"tts_ttr"`
	Exposure     ExposureConfig     `koanf:"exposure"`
	// Regions: region groups and SME tags for regional matching (region.go).
	Regions RegionsConfig `koanf:"regions"`
	// Ledger: the 卡点 ledger's items, targets and breakthrough share (ledger.go).
	Ledger LedgerConfig `koanf:"ledger"`
}

// SingleSourceConfig configures the per enterprise × component supplier concentration detector.
type SingleSourceConfig struct {
	// AwardWindowDays: procurement awards newer than this count as evidence of an active supplier.
	AwardWindowDays int `koanf:"award_window_days"`
	// HHIThreshold raises highly_concentrated when the supplier HHI (shares as fractions) is ≥ it.
	HHIThreshold float64 `koanf:"hhi_threshold"`
	// MaxSuppliersSingle: single_source when the number of active qualified suppliers is ≤ it.
	MaxSuppliersSingle int                 `koanf:"max_suppliers_single"`
	Weights            SingleSourceWeights `koanf:"weights"`
}

// SingleSourceWeights weighs the single-source terms (each term's normalised value is 0..1).
type SingleSourceWeights struct {
	TopShare     float64 `koanf:"top_share"`
	SupplierHHI  float64 `koanf:"supplier_hhi"`
	CountryHHI   float64 `koanf:"country_hhi"`
	ForeignShare float64 `koanf:"foreign_share"`
	SingleSource float64 `koanf:"single_source"`
	NoAlternate  float64 `koanf:"no_alternate"`
}

// ChokepointMaterial maps a material (production_stats commodity) to HS codes and EU-CRM-style factors.
type ChokepointMaterial struct {
	HSCodes []string `koanf:"hs_codes"`
	// RecyclingRate is the end-of-life recycling input rate (0..1); SubstitutionIndex 0..1 (1 = none).
	RecyclingRate     float64 `koanf:"recycling_rate"`
	SubstitutionIndex float64 `koanf:"substitution_index"`
}

// ChokepointConfig configures world/import concentration, the dependency rule, supply risk, reach and
// betweenness per component, HS code and material.
type ChokepointConfig struct {
	// ExportHHI / ImportHHI / ImportExportRatio / YearsRequired / YearsWindow: the CEPII-style rule —
	// import HHI > ImportHHI and world export HHI > ExportHHI and imports/exports > ratio in at least
	// YearsRequired of the last YearsWindow years.
	ExportHHI         float64 `koanf:"export_hhi"`
	ImportHHI         float64 `koanf:"import_hhi"`
	ImportExportRatio float64 `koanf:"import_export_ratio"`
	YearsRequired     int     `koanf:"years_required"`
	YearsWindow       int     `koanf:"years_window"`
	// MinImportCoverage: the share of the monitored region's imports from partner World that its
	// listed partners must cover in a year for the dependency rule to count that year; below it the
	// rule says "insufficient coverage" instead of firing. 0 disables the floor.
	MinImportCoverage float64 `koanf:"min_import_coverage"`
	// UseMirror fills a missing exporter from partners' reported imports (see docs/scoring.md).
	UseMirror bool `koanf:"use_mirror"`
	// Governance: per ISO3 country factor in the supply-risk sum (EU uses WGI scaled 0..10);
	// DefaultGovernance for countries not listed. TradeRestriction: per ISO3 multiplier (EU t, ≥ 1).
	Governance        map[string]float64 `koanf:"governance"`
	DefaultGovernance float64            `koanf:"default_governance"`
	TradeRestriction  map[string]float64 `koanf:"trade_restriction"`
	// SupplyRiskScale maps the supply risk to the 0..1 term value: min(1, SR / scale).
	SupplyRiskScale float64 `koanf:"supply_risk_scale"`
	// Materials: per commodity (as in production_stats) HS codes and recycling / substitution factors.
	Materials                map[string]ChokepointMaterial `koanf:"materials"`
	DefaultRecyclingRate     float64                       `koanf:"default_recycling_rate"`
	DefaultSubstitutionIndex float64                       `koanf:"default_substitution_index"`
	// ProductionStages: preference order of production_stats stages per commodity.
	ProductionStages []string `koanf:"production_stages"`
	// ChainLeaderWeight counts a chain-leader (链主) enterprise this many times in the downstream reach;
	// ReachHalf is the weighted reach at which the reach term is 0.5 (term = r / (r + ReachHalf)).
	ChainLeaderWeight float64 `koanf:"chain_leader_weight"`
	ReachHalf         float64 `koanf:"reach_half"`
	// Betweenness: exact Brandes up to BetweennessExactMaxNodes graph nodes, else BetweennessSamples
	// sampled sources (seeded by BetweennessSeed, so runs on the same data agree).
	BetweennessExactMaxNodes int   `koanf:"betweenness_exact_max_nodes"`
	BetweennessSamples       int   `koanf:"betweenness_samples"`
	BetweennessSeed          int64 `koanf:"betweenness_seed"`
	// ForeignControlShare: foreign_control (卡脖子) when the dominant source is foreign with at least this share.
	ForeignControlShare float64 `koanf:"foreign_control_share"`
	// List: component ids, HS codes or materials always reported (卡点 list), besides supply_nodes.chokepoint=1.
	List []string `koanf:"list"`
	// MinScore: subjects below it are not reported unless flagged (list, dependency rule, foreign control).
	MinScore float64           `koanf:"min_score"`
	Weights  ChokepointWeights `koanf:"weights"`
}

// ChokepointWeights weighs the chokepoint terms.
type ChokepointWeights struct {
	WorldHHI       float64 `koanf:"world_hhi"`
	ImportHHI      float64 `koanf:"import_hhi"`
	ImportReliance float64 `koanf:"import_reliance"`
	Dependency     float64 `koanf:"dependency"`
	SupplyRisk     float64 `koanf:"supply_risk"`
	Reach          float64 `koanf:"reach"`
	Betweenness    float64 `koanf:"betweenness"`
	ForeignControl float64 `koanf:"foreign_control"`
}

// AvailabilityConfig configures the per-part availability anomaly detector.
type AvailabilityConfig struct {
	// EWMAAlpha smooths the lead-time baseline; a jump is latest/baseline ≥ LeadTimeJumpRatio and
	// latest − baseline ≥ LeadTimeJumpMinDays.
	EWMAAlpha           float64 `koanf:"ewma_alpha"`
	LeadTimeJumpRatio   float64 `koanf:"lead_time_jump_ratio"`
	LeadTimeJumpMinDays float64 `koanf:"lead_time_jump_min_days"`
	// StockCollapseFraction: collapse when the latest stock < fraction × median of the previous
	// StockTrailing snapshots; MinSnapshots before any series signal is computed.
	StockCollapseFraction float64             `koanf:"stock_collapse_fraction"`
	StockTrailing         int                 `koanf:"stock_trailing"`
	MinSnapshots          int                 `koanf:"min_snapshots"`
	Weights               AvailabilityWeights `koanf:"weights"`
}

// AvailabilityWeights weighs the availability terms.
type AvailabilityWeights struct {
	LeadTimeJump  float64 `koanf:"lead_time_jump"`
	StockCollapse float64 `koanf:"stock_collapse"`
	Lifecycle     float64 `koanf:"lifecycle"`
}

// TTSTTRConfig configures time-to-survive vs time-to-recover.
type TTSTTRConfig struct {
	// DefaultTTRDays per component category (key_material, high_end_chip, ...); "default" for the rest.
	DefaultTTRDays map[string]float64 `koanf:"default_ttr_days"`
	// A supplier already qualified for the component at another enterprise needs KnownSupplierFactor ×
	// the category default; one in qualification at this enterprise InProgressFactor × it.
	KnownSupplierFactor float64 `koanf:"known_supplier_factor"`
	InProgressFactor    float64 `koanf:"in_progress_factor"`
}

// ExposureConfig configures the composite exposure score and the alternates ranking.
type ExposureConfig struct {
	DomesticFirst bool            `koanf:"domestic_first"`
	MaxAlternates int             `koanf:"max_alternates"`
	MinScore      float64         `koanf:"min_score"`
	Weights       ExposureWeights `koanf:"weights"`
}

// ExposureWeights weighs the exposure terms.
type ExposureWeights struct {
	SupplierHHI   float64 `koanf:"supplier_hhi"`
	SingleSource  float64 `koanf:"single_source"`
	CountryHHI    float64 `koanf:"country_hhi"`
	ForeignShare  float64 `koanf:"foreign_share"`
	NoAlternate   float64 `koanf:"no_alternate"`
	TTSGap        float64 `koanf:"tts_gap"`
	Chokepoint    float64 `koanf:"chokepoint"`
	Availability  float64 `koanf:"availability"`
	SingleSourced float64 `koanf:"single_sourced_share"` // per component: share of its users single-sourced
	ExposedShare  float64 `koanf:"exposed_share"`        // per component: share of its users with TTS < TTR
}

func DefaultConfig() Config {
	return Config{
		Enabled:                append([]string(nil), Names...),
		Interval:               time.Hour,
		Timeout:                10 * time.Minute,
		WindowDays:             3 * 365,
		HomeISO3:               "CHN",
		HomeM49:                156,
		MaxFindingsPerDetector: 50000,
		LoadCache:              true,
		DeltaRuns:              true,
		SingleSource: SingleSourceConfig{
			AwardWindowDays: 365, HHIThreshold: 0.25, MaxSuppliersSingle: 1,
			Weights: SingleSourceWeights{TopShare: 1, SupplierHHI: 2, CountryHHI: 1, ForeignShare: 1, SingleSource: 2, NoAlternate: 1},
		},
		Chokepoint: ChokepointConfig{
			ExportHHI: 0.4, ImportHHI: 0.4, ImportExportRatio: 1, YearsRequired: 2, YearsWindow: 3, MinImportCoverage: 0.5,
			UseMirror: true, Governance: map[string]float64{}, DefaultGovernance: 1, TradeRestriction: map[string]float64{},
			SupplyRiskScale: 1, Materials: map[string]ChokepointMaterial{}, DefaultRecyclingRate: 0, DefaultSubstitutionIndex: 1,
			ProductionStages:  []string{"mine", "refinery", "smelter", "plant", "production"},
			ChainLeaderWeight: 3, ReachHalf: 10,
			BetweennessExactMaxNodes: 3000, BetweennessSamples: 48, BetweennessSeed: 1,
			ForeignControlShare: 0.5, MinScore: 40,
			Weights: ChokepointWeights{WorldHHI: 2, ImportHHI: 2, ImportReliance: 1, Dependency: 2, SupplyRisk: 1,
				Reach: 1, Betweenness: 1, ForeignControl: 2},
		},
		Availability: AvailabilityConfig{
			EWMAAlpha: 0.3, LeadTimeJumpRatio: 1.5, LeadTimeJumpMinDays: 14,
			StockCollapseFraction: 0.25, StockTrailing: 8, MinSnapshots: 3,
			Weights: AvailabilityWeights{LeadTimeJump: 1, StockCollapse: 1, Lifecycle: 1},
		},
		TTSTTR: TTSTTRConfig{
			DefaultTTRDays: map[string]float64{
				"key_material": 180, "high_end_chip": 270, "industrial_software": 365, "base_component": 90,
				"machine_tool": 365, "other": 90, "default": 120,
			},
			KnownSupplierFactor: 0.5, InProgressFactor: 0.25,
		},
		Exposure: ExposureConfig{
			DomesticFirst: true, MaxAlternates: 5, MinScore: 40,
			Weights: ExposureWeights{SupplierHHI: 2, SingleSource: 1, CountryHHI: 1, ForeignShare: 1, NoAlternate: 1,
				TTSGap: 2, Chokepoint: 2, Availability: 1, SingleSourced: 2, ExposedShare: 1},
		},
		Regions: DefaultRegions(),
		Ledger:  DefaultLedger(),
	}
}

// Validate checks the "detectors" section; keys are relative to it (internal/config prefixes
// "detectors.").
func (c Config) Validate() error {
	var p confkit.Problems

	for i, n := range c.Enabled {
		if !slices.Contains(Names, n) {
			p.Add(fmt.Sprintf("enabled[%d]", i), "%q is not one of %s", n, strings.Join(Names, ", "))
		}
	}
	p.Duration("interval", c.Interval)
	p.Duration("timeout", c.Timeout)
	p.Positive("window_days", c.WindowDays)
	if len(c.HomeISO3) != 3 || strings.ToUpper(c.HomeISO3) != c.HomeISO3 {
		p.Add("home_iso3", "%q is not an ISO 3166 alpha-3 code", c.HomeISO3)
	}
	if c.HomeM49 <= 0 || c.HomeM49 > 999 {
		p.Add("home_m49", "must be an M49 country code 1..999, got %d", c.HomeM49)
	}
	if c.MaxFindingsPerDetector < 0 {
		p.Add("max_findings_per_detector", "must be >= 0, got %d", c.MaxFindingsPerDetector)
	}
	c.SingleSource.validate(&p, "single_source.")
	c.Chokepoint.validate(&p, "chokepoint.")
	c.Availability.validate(&p, "availability.")
	c.TTSTTR.validate(&p, "tts_ttr.")
	c.Exposure.validate(&p, "exposure.")
	c.Regions.validate(&p, "regions.")
	c.Ledger.validate(&p, "ledger.")
	return p.Err()
}

func (s SingleSourceConfig) validate(p *confkit.Problems, pre string) {
	p.Positive(pre+"award_window_days", s.AwardWindowDays)
	detFraction(p, pre+"hhi_threshold", s.HHIThreshold, false)
	p.Positive(pre+"max_suppliers_single", s.MaxSuppliersSingle)
	detWeights(p, pre+"weights", map[string]float64{
		"top_share": s.Weights.TopShare, "supplier_hhi": s.Weights.SupplierHHI, "country_hhi": s.Weights.CountryHHI,
		"foreign_share": s.Weights.ForeignShare, "single_source": s.Weights.SingleSource, "no_alternate": s.Weights.NoAlternate})
}

func (k ChokepointConfig) validate(p *confkit.Problems, kp string) {
	detFraction(p, kp+"export_hhi", k.ExportHHI, true)
	detFraction(p, kp+"import_hhi", k.ImportHHI, true)
	detNonNeg(p, kp+"import_export_ratio", k.ImportExportRatio)
	detFraction(p, kp+"min_import_coverage", k.MinImportCoverage, false)
	p.Positive(kp+"years_window", k.YearsWindow)
	p.Positive(kp+"years_required", k.YearsRequired)
	if k.YearsRequired > k.YearsWindow {
		p.Add(kp+"years_required", "must be <= %s (%d), got %d", "detectors.chokepoint.years_window", k.YearsWindow, k.YearsRequired)
	}
	for _, key := range slices.Sorted(maps.Keys(k.Governance)) {
		detNonNeg(p, kp+"governance."+key, k.Governance[key])
	}
	detNonNeg(p, kp+"default_governance", k.DefaultGovernance)
	for _, key := range slices.Sorted(maps.Keys(k.TradeRestriction)) {
		detNonNeg(p, kp+"trade_restriction."+key, k.TradeRestriction[key])
	}
	if !(k.SupplyRiskScale > 0) {
		p.Add(kp+"supply_risk_scale", "must be > 0, got %v", k.SupplyRiskScale)
	}
	for _, n := range slices.Sorted(maps.Keys(k.Materials)) {
		m := k.Materials[n]
		detFraction(p, kp+"materials."+n+".recycling_rate", m.RecyclingRate, false)
		detFraction(p, kp+"materials."+n+".substitution_index", m.SubstitutionIndex, false)
		for i, h := range m.HSCodes {
			if !detValidHS(h) {
				p.Add(fmt.Sprintf(kp+"materials.%s.hs_codes[%d]", n, i), "%q is not a 2, 4 or 6 digit HS code", h)
			}
		}
	}
	detFraction(p, kp+"default_recycling_rate", k.DefaultRecyclingRate, false)
	detFraction(p, kp+"default_substitution_index", k.DefaultSubstitutionIndex, false)
	if len(k.ProductionStages) == 0 {
		p.Add(kp+"production_stages", "at least one stage is required")
	}
	if k.ChainLeaderWeight < 1 || math.IsNaN(k.ChainLeaderWeight) {
		p.Add(kp+"chain_leader_weight", "must be >= 1, got %v", k.ChainLeaderWeight)
	}
	if !(k.ReachHalf > 0) {
		p.Add(kp+"reach_half", "must be > 0, got %v", k.ReachHalf)
	}
	if k.BetweennessExactMaxNodes < 0 {
		p.Add(kp+"betweenness_exact_max_nodes", "must be >= 0, got %d", k.BetweennessExactMaxNodes)
	}
	p.Positive(kp+"betweenness_samples", k.BetweennessSamples)
	detFraction(p, kp+"foreign_control_share", k.ForeignControlShare, false)
	detScore(p, kp+"min_score", k.MinScore)
	detWeights(p, kp+"weights", map[string]float64{
		"world_hhi": k.Weights.WorldHHI, "import_hhi": k.Weights.ImportHHI, "import_reliance": k.Weights.ImportReliance,
		"dependency": k.Weights.Dependency, "supply_risk": k.Weights.SupplyRisk, "reach": k.Weights.Reach,
		"betweenness": k.Weights.Betweenness, "foreign_control": k.Weights.ForeignControl})
}

func (a AvailabilityConfig) validate(p *confkit.Problems, ap string) {
	if !(a.EWMAAlpha > 0 && a.EWMAAlpha <= 1) {
		p.Add(ap+"ewma_alpha", "must be in (0, 1], got %v", a.EWMAAlpha)
	}
	if !(a.LeadTimeJumpRatio > 1) {
		p.Add(ap+"lead_time_jump_ratio", "must be > 1, got %v", a.LeadTimeJumpRatio)
	}
	detNonNeg(p, ap+"lead_time_jump_min_days", a.LeadTimeJumpMinDays)
	if !(a.StockCollapseFraction > 0 && a.StockCollapseFraction < 1) {
		p.Add(ap+"stock_collapse_fraction", "must be in (0, 1), got %v", a.StockCollapseFraction)
	}
	p.Positive(ap+"stock_trailing", a.StockTrailing)
	if a.MinSnapshots < 2 {
		p.Add(ap+"min_snapshots", "must be >= 2, got %d", a.MinSnapshots)
	}
	detWeights(p, ap+"weights", map[string]float64{
		"lead_time_jump": a.Weights.LeadTimeJump, "stock_collapse": a.Weights.StockCollapse, "lifecycle": a.Weights.Lifecycle})
}

func (t TTSTTRConfig) validate(p *confkit.Problems, tp string) {
	if _, ok := t.DefaultTTRDays["default"]; !ok {
		p.Add(tp+"default_ttr_days.default", "required (used for categories not listed)")
	}
	for _, key := range slices.Sorted(maps.Keys(t.DefaultTTRDays)) {
		if !(t.DefaultTTRDays[key] > 0) {
			p.Add(tp+"default_ttr_days."+key, "must be > 0 days, got %v", t.DefaultTTRDays[key])
		}
	}
	detFraction(p, tp+"known_supplier_factor", t.KnownSupplierFactor, false)
	detFraction(p, tp+"in_progress_factor", t.InProgressFactor, false)
}

func (e ExposureConfig) validate(p *confkit.Problems, ep string) {
	detNonNeg(p, ep+"max_alternates", float64(e.MaxAlternates))
	detScore(p, ep+"min_score", e.MinScore)
	detWeights(p, ep+"weights", map[string]float64{
		"supplier_hhi": e.Weights.SupplierHHI, "single_source": e.Weights.SingleSource, "country_hhi": e.Weights.CountryHHI,
		"foreign_share": e.Weights.ForeignShare, "no_alternate": e.Weights.NoAlternate, "tts_gap": e.Weights.TTSGap,
		"chokepoint": e.Weights.Chokepoint, "availability": e.Weights.Availability,
		"single_sourced_share": e.Weights.SingleSourced, "exposed_share": e.Weights.ExposedShare})
}

// TTRDefault returns the default time-to-recover of a component category.
func (t TTSTTRConfig) TTRDefault(category string) float64 {
	if d, ok := t.DefaultTTRDays[category]; ok && d > 0 {
		return d
	}
	return t.DefaultTTRDays["default"]
}

func detFraction(p *confkit.Problems, key string, v float64, open bool) {
	if math.IsNaN(v) || v < 0 || v > 1 || (open && (v == 0 || v == 1)) {
		if open {
			p.Add(key, "must be in (0, 1), got %v", v)
		} else {
			p.Add(key, "must be in [0, 1], got %v", v)
		}
	}
}

func detNonNeg(p *confkit.Problems, key string, v float64) {
	if math.IsNaN(v) || v < 0 {
		p.Add(key, "must be >= 0, got %v", v)
	}
}

func detScore(p *confkit.Problems, key string, v float64) {
	if math.IsNaN(v) || v < 0 || v > 100 {
		p.Add(key, "must be a score in [0, 100], got %v", v)
	}
}

// weights checks each weight is ≥ 0 and that at least one is > 0.
func detWeights(p *confkit.Problems, prefix string, w map[string]float64) {
	sum := 0.0
	for _, k := range slices.Sorted(maps.Keys(w)) {
		detNonNeg(p, prefix+"."+k, w[k])
		if w[k] > 0 {
			sum += w[k]
		}
	}
	if !(sum > 0) {
		p.Add(prefix, "at least one weight must be > 0")
	}
}

func detValidHS(code string) bool {
	if n := len(code); n != 2 && n != 4 && n != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
