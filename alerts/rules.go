package alerts

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

// ConsumptionTerm is the term name from which the consumption per day is read.
const ConsumptionTerm = "consumption_per_day"

// thresholds in score points.
type thresholds struct{ info, warning, critical float64 }

type ruleLayer struct {
	t      SeverityThresholds
	floors map[string]Severity
}

// Rules rate findings. Build with NewRules; safe for concurrent use (immutable).
type Rules struct {
	base       thresholds
	baseFloors map[string]Severity
	byEnt      map[string]ruleLayer
	byCat      map[string]ruleLayer
	byBoth     map[[2]string]ruleLayer
	actions    ActionsConfig
}

// NewRules compiles alerts.rules and alerts.actions.
func NewRules(cfg Config) (*Rules, error) {
	r := &Rules{
		base:       thresholds{cfg.Rules.Thresholds.Info, cfg.Rules.Thresholds.Warning, cfg.Rules.Thresholds.Critical},
		baseFloors: map[string]Severity{},
		byEnt:      map[string]ruleLayer{},
		byCat:      map[string]ruleLayer{},
		byBoth:     map[[2]string]ruleLayer{},
		actions:    cfg.Actions,
	}
	if err := parseFloors(cfg.Rules.FlagFloors, r.baseFloors); err != nil {
		return nil, fmt.Errorf("alerts.rules.flag_floors: %w", err)
	}
	for i, o := range cfg.Rules.Overrides {
		l := ruleLayer{t: o.Thresholds, floors: map[string]Severity{}}
		if err := parseFloors(o.FlagFloors, l.floors); err != nil {
			return nil, fmt.Errorf("alerts.rules.overrides[%d].flag_floors: %w", i, err)
		}
		switch {
		case o.Enterprise != "" && o.Category != "":
			r.byBoth[[2]string{o.Enterprise, o.Category}] = l
		case o.Enterprise != "":
			r.byEnt[o.Enterprise] = l
		case o.Category != "":
			r.byCat[o.Category] = l
		default:
			return nil, fmt.Errorf("alerts.rules.overrides[%d]: needs enterprise or category", i)
		}
	}
	return r, nil
}

func parseFloors(in map[string]string, out map[string]Severity) error {
	for flag, s := range in {
		sev, err := ParseSeverity(s)
		if err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		out[flag] = sev
	}
	return nil
}

// Severity rates one finding: score thresholds (with the most specific override), then flag
// floors, then the built-in floors: a chokepoint-list item, and a single source whose TTS is
// below its TTR, are at least warning.
func (r *Rules) Severity(f *detectors.Finding) Severity {
	t := r.base
	floors := []map[string]Severity{r.baseFloors}
	apply := func(l ruleLayer, ok bool) {
		if !ok {
			return
		}
		if l.t.Info > 0 {
			t.info = l.t.Info
		}
		if l.t.Warning > 0 {
			t.warning = l.t.Warning
		}
		if l.t.Critical > 0 {
			t.critical = l.t.Critical
		}
		floors = append(floors, l.floors)
	}
	if f.Category != "" {
		l, ok := r.byCat[f.Category]
		apply(l, ok)
	}
	if f.EnterpriseID != "" {
		l, ok := r.byEnt[f.EnterpriseID]
		apply(l, ok)
		if f.Category != "" {
			l, ok := r.byBoth[[2]string{f.EnterpriseID, f.Category}]
			apply(l, ok)
		}
	}
	sev := SeverityNone
	switch {
	case f.Score >= t.critical:
		sev = SeverityCritical
	case f.Score >= t.warning:
		sev = SeverityWarning
	case f.Score >= t.info:
		sev = SeverityInfo
	}
	for _, fl := range floors {
		for _, flag := range f.Flags {
			if s, ok := fl[flag]; ok && s > sev {
				sev = s
			}
		}
	}
	if sev < SeverityWarning && (f.HasFlag(detectors.FlagChokepointList) ||
		(f.HasFlag(detectors.FlagSingleSource) && f.HasFlag(detectors.FlagTTSBelowTTR))) {
		sev = SeverityWarning
	}
	return sev
}

// componentOf is the component an enterprise finding is about.
func componentOf(f *detectors.Finding) string {
	if f.ComponentID != "" {
		return f.ComponentID
	}
	return f.Subject
}

// Build turns a finding into the content of a B计划 warning (no lifecycle fields).
func (r *Rules) Build(f *detectors.Finding, sev Severity) *Alert {
	a := &Alert{
		Name:         AlertName,
		EnterpriseID: f.EnterpriseID,
		ComponentID:  componentOf(f),
		Category:     f.Category,
		Industry:     f.Industry,
		Region:       f.Region,
		Severity:     sev,
		Status:       StatusFiring,
		Score:        round2(f.Score),
		PrevScore:    f.PrevScore,
		Flags:        append([]string(nil), f.Flags...),
		TTSDays:      f.TTSDays,
		TTRDays:      f.TTRDays,
		Products:     append([]string(nil), f.Products...),
		RunID:        f.RunID,
		Subject:      f.Subject,
		SubjectName:  f.SubjectName,
	}
	a.Fingerprint = Fingerprint(a.EnterpriseID, a.ComponentID, a.Name)
	for _, t := range f.Terms {
		if t.Name == ConsumptionTerm {
			v := t.Value
			a.ConsumptionPerDay = &v
		}
	}
	// Reasons are the terms that moved the score; zero-weight terms (informational, or unknown
	// inputs) are left out.
	terms := make([]detectors.Term, 0, len(f.Terms))
	for _, t := range f.Terms {
		if t.Contribution > 0 {
			terms = append(terms, t)
		}
	}
	sort.SliceStable(terms, func(i, j int) bool { return terms[i].Contribution > terms[j].Contribution })
	if len(terms) > r.actions.TopTerms {
		terms = terms[:r.actions.TopTerms]
	}
	a.TopTerms = terms
	if a.TTSDays != nil && a.TTRDays != nil && *a.TTRDays > *a.TTSDays {
		a.GapDays = round2(*a.TTRDays - *a.TTSDays)
	}
	alts := append([]detectors.Alternate(nil), f.Alternates...)
	if r.actions.PreferDomestic {
		sort.SliceStable(alts, func(i, j int) bool { return alts[i].Domestic && !alts[j].Domestic })
	}
	if len(alts) > r.actions.MaxAlternates {
		alts = alts[:r.actions.MaxAlternates]
	}
	a.Alternates = alts
	a.Actions = plan(r.actions, a)
	return a
}

// SetConsumption sets the consumption per day (from a lookup, when the finding had no
// consumption_per_day term) and recomputes the actions.
func (r *Rules) SetConsumption(a *Alert, perDay float64) {
	a.ConsumptionPerDay = &perDay
	a.Actions = plan(r.actions, a)
}

// plan derives the concrete B计划 actions.
func plan(c ActionsConfig, a *Alert) []Action {
	var out []Action
	if len(a.Alternates) > 0 {
		best := a.Alternates[0]
		act := Action{Kind: ActionQualifyAlternate, Alternate: &best, Days: best.QualificationDays}
		if a.TTSDays != nil && best.QualificationDays > *a.TTSDays {
			act.ExceedsTTS = true
		}
		out = append(out, act)
	} else {
		out = append(out, Action{Kind: ActionFindAlternate})
	}
	if a.GapDays > 0 {
		act := Action{Kind: ActionSafetyStock, GapDays: a.GapDays}
		if a.ConsumptionPerDay != nil && *a.ConsumptionPerDay > 0 {
			act.ConsumptionPerDay = *a.ConsumptionPerDay
			act.Units = math.Ceil(a.GapDays * *a.ConsumptionPerDay)
		}
		out = append(out, act)
	}
	concentrated := false
	for _, f := range []string{detectors.FlagSingleSource, detectors.FlagConcentrated, detectors.FlagSingleCountry, detectors.FlagForeignControl} {
		for _, x := range a.Flags {
			if x == f {
				concentrated = true
			}
		}
	}
	if concentrated && len(a.Alternates) > 0 {
		best := a.Alternates[0]
		out = append(out, Action{Kind: ActionSplitVolume, Alternate: &best, Share: c.SplitShare, HHIAfter: best.HHIAfter})
	}
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// BuildAlert rates one finding with cfg's rules and returns its B计划 warning as a firing alert
// starting at now (nil when it is below every threshold). For demos and one-off sends.
func BuildAlert(cfg Config, f detectors.Finding, now time.Time) (*Alert, error) {
	r, err := NewRules(cfg)
	if err != nil {
		return nil, err
	}
	sev := r.Severity(&f)
	if sev == SeverityNone {
		return nil, nil
	}
	a := r.Build(&f, sev)
	a.EnterpriseName = cfg.Route(f.EnterpriseID).Name
	a.StartsAt, a.UpdatedAt = now, now
	a.Detectors = []string{f.Detector}
	if cfg.ExternalURL != "" {
		a.GeneratorURL = strings.TrimRight(cfg.ExternalURL, "/") + "/api/v1/alerts/" + a.Fingerprint
	}
	return a, nil
}
