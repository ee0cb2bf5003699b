// Package whatif propagates disruption scenarios (export restrictions, supplier or site outages,
// lead-time shocks) through the multi-level supply graph with inventory buffers and alternates,
// and runs the reverse stress test. The model and its limits are documented in docs/scoring.md
// ("What-if propagation").
package whatif

import (
	"maps"
	"slices"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/schemas"
)

// Config tunes the what-if engine (config section "whatif").
type Config struct {
	// QualifiedSwitchDays is how long moving volume to an already qualified supplier takes.
	QualifiedSwitchDays float64 `koanf:"qualified_switch_days"`
	// InProgressDays is the remaining qualification time of a supplier whose qualification is in
	// progress (substitution-list entries carry their own qualification_days).
	InProgressDays float64 `koanf:"in_progress_days"`
	// DefaultLeadTimeDays is the supplier lead time of lead-time shocks that give none.
	DefaultLeadTimeDays float64 `koanf:"default_lead_time_days"`
	// ChainLeaderWeight weighs 链主 enterprises and their products in criticality scores.
	ChainLeaderWeight float64 `koanf:"chain_leader_weight"`
	// HorizonDays is the duration of the candidate shocks of the reverse stress test.
	HorizonDays float64 `koanf:"horizon_days"`
	// Materials maps a material (USGS commodity name, as in production_stats) to its HS codes, so
	// an export restriction on a material reaches the items with those codes.
	Materials map[string][]string `koanf:"materials"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{QualifiedSwitchDays: 14, InProgressDays: 90, DefaultLeadTimeDays: 30, ChainLeaderWeight: 3, HorizonDays: 365,
		Materials: map[string][]string{
			"gallium":     {"811292", "811299"},
			"germanium":   {"811292", "811299"},
			"cobalt":      {"810520", "810530", "810590", "282200"},
			"graphite":    {"250410", "250490", "380110"},
			"rare earths": {"280530", "284690"},
		}}
}

// Validate checks the section (keys relative to it).
func (c Config) Validate() error {
	var p confkit.Problems
	nonNeg := func(key string, v float64) {
		if !(v >= 0) {
			p.Add(key, "must be ≥ 0, got %v", v)
		}
	}
	nonNeg("qualified_switch_days", c.QualifiedSwitchDays)
	nonNeg("in_progress_days", c.InProgressDays)
	nonNeg("default_lead_time_days", c.DefaultLeadTimeDays)
	if !(c.ChainLeaderWeight >= 1) {
		p.Add("chain_leader_weight", "must be ≥ 1, got %v", c.ChainLeaderWeight)
	}
	if !(c.HorizonDays > 0) {
		p.Add("horizon_days", "must be > 0, got %v", c.HorizonDays)
	}
	for _, m := range slices.Sorted(maps.Keys(c.Materials)) {
		for i, h := range c.Materials[m] {
			if !schemas.ValidHS(h) {
				p.Add("materials."+m+"["+itoa(i)+"]", "%q is not a 2, 4 or 6 digit HS code", h)
			}
		}
	}
	return p.Err()
}
