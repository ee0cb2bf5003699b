package exposure

import (
	"math"
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// Config is "api.exposure": which detectors' findings are exposures and chokepoints,
// the severity bands, and the Prometheus exposure collector's refresh and cardinality bounds.
type Config struct {
	// Detector whose enterprise × component findings are "exposures" (default "exposure").
	Detector string `koanf:"detector"`
	// ChokepointDetector whose findings are chokepoints (卡点, default "chokepoint").
	ChokepointDetector string `koanf:"chokepoint_detector"`
	// RefreshInterval: how often the metrics collector re-reads ClickHouse; scrapes in between
	// are served from the cache.
	RefreshInterval time.Duration `koanf:"refresh_interval"`
	// TopN is how many exposures chainwatch_top_exposure_score carries (rank 1..N).
	TopN int `koanf:"top_n"`
	// MaxLabelValues caps the distinct industry and region label values of chainwatch_exposures;
	// the rest are summed under "other".
	MaxLabelValues int `koanf:"max_label_values"`
	// Severity bands on the 0..100 score: critical ≥ Critical > high ≥ High > medium ≥ Medium > low.
	Severity SeverityConfig `koanf:"severity"`
}

// SeverityConfig holds the lower bounds of the severity bands.
type SeverityConfig struct {
	Critical float64 `koanf:"critical"`
	High     float64 `koanf:"high"`
	Medium   float64 `koanf:"medium"`
}

// Of returns the severity band of score: critical, high, medium or low.
func (s SeverityConfig) Of(score float64) string {
	switch {
	case score >= s.Critical:
		return "critical"
	case score >= s.High:
		return "high"
	case score >= s.Medium:
		return "medium"
	default:
		return "low"
	}
}

// Severities lists the severity bands, highest first.
var Severities = []string{"critical", "high", "medium", "low"}

// DefaultConfig returns the defaults of "api.exposure".
func DefaultConfig() Config {
	return Config{
		Detector:           "exposure",
		ChokepointDetector: "chokepoint",
		RefreshInterval:    time.Minute,
		TopN:               10,
		MaxLabelValues:     50,
		Severity:           SeverityConfig{Critical: 80, High: 60, Medium: 40},
	}
}

// Validate reports every problem of "api.exposure" by its key relative to that section.
func (e Config) Validate() error {
	var p confkit.Problems
	p.Required("detector", e.Detector)
	p.Required("chokepoint_detector", e.ChokepointDetector)
	p.Duration("refresh_interval", e.RefreshInterval)
	if e.TopN < 1 || e.TopN > 100 {
		p.Add("top_n", "must be in 1..100 (it bounds the series of chainwatch_top_exposure_score), got %d", e.TopN)
	}
	if e.MaxLabelValues < 1 || e.MaxLabelValues > 500 {
		p.Add("max_label_values", "must be in 1..500, got %d", e.MaxLabelValues)
	}
	s := e.Severity
	for _, b := range []struct {
		k string
		v float64
	}{{"critical", s.Critical}, {"high", s.High}, {"medium", s.Medium}} {
		if math.IsNaN(b.v) || b.v < 0 || b.v > 100 {
			p.Add("severity."+b.k, "must be a score in [0, 100], got %v", b.v)
		}
	}
	if !(s.Critical > s.High && s.High > s.Medium) {
		p.Add("severity", "bands must satisfy critical > high > medium, got %v > %v > %v", s.Critical, s.High, s.Medium)
	}
	return p.Err()
}
