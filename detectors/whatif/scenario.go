package whatif

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/schemas"
)

// Shock types.
const (
	ShockExport   = "export_restriction" // Country stops exporting Material / HSCode; Share of it lost
	ShockSupplier = "supplier_down"      // Supplier delivers nothing
	ShockSite     = "site_down"          // enterprise Site makes nothing
	ShockLeadTime = "lead_time"          // Supplier's lead time × Factor
)

// ShockTypes lists the shock types.
var ShockTypes = []string{ShockExport, ShockSupplier, ShockSite, ShockLeadTime}

// Date is a calendar day (YAML/JSON "2027-01-01").
type Date struct{ time.Time }

// UnmarshalText parses YYYY-MM-DD or RFC 3339.
func (d *Date) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			d.Time = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.Format(time.DateOnly)), nil }

// MarshalJSON writes "YYYY-MM-DD" (not time.Time's RFC 3339).
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.Format(time.DateOnly) + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD" or an RFC 3339 string.
func (d *Date) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("date: want a string, got %s", b)
	}
	return d.UnmarshalText([]byte(s))
}

// Shock is one disruption.
type Shock struct {
	Type         string  `yaml:"type" json:"type"`
	Country      string  `yaml:"country,omitempty" json:"country,omitempty"`   // export_restriction: exporter ISO3
	Material     string  `yaml:"material,omitempty" json:"material,omitempty"` // export_restriction: USGS commodity
	HSCode       string  `yaml:"hs_code,omitempty" json:"hs_code,omitempty"`   // export_restriction: HS code
	Share        float64 `yaml:"share,omitempty" json:"share,omitempty"`       // export_restriction: fraction lost (default 1)
	Supplier     string  `yaml:"supplier,omitempty" json:"supplier,omitempty"` // supplier_down, lead_time
	Site         string  `yaml:"site,omitempty" json:"site,omitempty"`         // site_down: enterprise id
	Factor       float64 `yaml:"factor,omitempty" json:"factor,omitempty"`     // lead_time: ×k
	LeadTimeDays float64 `yaml:"lead_time_days,omitempty" json:"lead_time_days,omitempty"`
	Start        Date    `yaml:"start" json:"start"`
	DurationDays float64 `yaml:"duration_days" json:"duration_days"`
}

// String names the shock for tables and paths.
func (s Shock) String() string {
	switch s.Type {
	case ShockExport:
		what := s.Material
		if s.HSCode != "" {
			what = strings.TrimSpace(what + " HS" + s.HSCode)
		}
		return fmt.Sprintf("%s export restriction on %s (%.0f%% lost)", s.Country, what, 100*s.Share)
	case ShockSupplier:
		return "supplier " + s.Supplier + " down"
	case ShockSite:
		return "site " + s.Site + " down"
	case ShockLeadTime:
		return fmt.Sprintf("supplier %s lead time ×%g", s.Supplier, s.Factor)
	}
	return s.Type
}

// Data names the files a scenario runs on (paths relative to the scenario file). When SupplyMap is
// empty the command loads the supply map and statistics from ClickHouse.
type Data struct {
	SupplyMap     string   `yaml:"supply_map,omitempty" json:"supply_map,omitempty"`
	Substitutions string   `yaml:"substitutions,omitempty" json:"substitutions,omitempty"`
	Production    []string `yaml:"production,omitempty" json:"production,omitempty"`
	Trade         []string `yaml:"trade,omitempty" json:"trade,omitempty"`
}

// Scenario is a named list of shocks.
type Scenario struct {
	Name   string  `yaml:"name" json:"name"`
	Shocks []Shock `yaml:"shocks" json:"shocks"`
	Data   Data    `yaml:"data,omitempty" json:"data,omitempty"`
}

// ParseScenario reads a YAML (or JSON) scenario, fills defaults and validates it.
func ParseScenario(r io.Reader) (Scenario, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("scenario: %w", err)
	}
	sc.Defaults()
	if err := sc.Validate(); err != nil {
		return Scenario{}, fmt.Errorf("scenario: %w", err)
	}
	return sc, nil
}

// Defaults fills the export share (1) and the lead-time factor (2).
func (sc *Scenario) Defaults() {
	for i := range sc.Shocks {
		s := &sc.Shocks[i]
		s.Type = strings.ToLower(strings.TrimSpace(s.Type))
		s.Country = strings.ToUpper(strings.TrimSpace(s.Country))
		s.Material = strings.ToLower(strings.TrimSpace(s.Material))
		if s.Type == ShockExport && s.Share == 0 {
			s.Share = 1
		}
		if s.Type == ShockLeadTime && s.Factor == 0 {
			s.Factor = 2
		}
	}
}

// Validate names every bad field as shocks[i].field.
func (sc Scenario) Validate() error {
	var p confkit.Problems
	if len(sc.Shocks) == 0 {
		p.Add("shocks", "at least one shock is required")
	}
	for i, s := range sc.Shocks {
		p.Merge("shocks["+itoa(i)+"]", s.validate())
	}
	return p.Err()
}

func (s Shock) validate() error {
	var p confkit.Problems
	p.OneOf("type", s.Type, ShockTypes...)
	if s.Start.IsZero() {
		p.Add("start", "required (YYYY-MM-DD)")
	}
	if !(s.DurationDays > 0) {
		p.Add("duration_days", "must be > 0, got %v", s.DurationDays)
	}
	switch s.Type {
	case ShockExport:
		p.Required("country", s.Country)
		if s.Material == "" && s.HSCode == "" {
			p.Add("material", "material or hs_code is required")
		}
		if s.HSCode != "" && !schemas.ValidHS(s.HSCode) {
			p.Add("hs_code", "%q is not a 2, 4 or 6 digit HS code", s.HSCode)
		}
		if !(s.Share > 0 && s.Share <= 1) {
			p.Add("share", "must be in (0, 1], got %v", s.Share)
		}
	case ShockSupplier:
		p.Required("supplier", s.Supplier)
	case ShockSite:
		p.Required("site", s.Site)
	case ShockLeadTime:
		p.Required("supplier", s.Supplier)
		if !(s.Factor > 1) {
			p.Add("factor", "must be > 1, got %v", s.Factor)
		}
		if s.LeadTimeDays < 0 {
			p.Add("lead_time_days", "must be ≥ 0, got %v", s.LeadTimeDays)
		}
	}
	return p.Err()
}

func itoa(i int) string { return strconv.Itoa(i) }
