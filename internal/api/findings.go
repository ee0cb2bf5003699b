package api

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
)

// Exposure is one enterprise × component exposure of the latest exposure run.
type Exposure struct {
	Subject        string    `json:"subject"`
	EnterpriseID   string    `json:"enterprise_id"`
	EnterpriseName string    `json:"enterprise_name,omitempty"`
	ComponentID    string    `json:"component_id"`
	ComponentName  string    `json:"component_name,omitempty"`
	Category       string    `json:"category"`
	Industry       string    `json:"industry"`
	Region         string    `json:"region"`
	ChainLeader    bool      `json:"chain_leader"`
	Score          float64   `json:"score"`
	PrevScore      *float64  `json:"prev_score,omitempty"`
	Delta          float64   `json:"delta"`
	Severity       string    `json:"severity"`
	Flags          []string  `json:"flags"`
	TTSDays        *float64  `json:"tts_days,omitempty"`
	TTRDays        *float64  `json:"ttr_days,omitempty"`
	Products       []string  `json:"products"`
	Alternates     int       `json:"alternates"`
	RunID          string    `json:"run_id"`
	ComputedAt     time.Time `json:"computed_at"`
}

// Finding is a detector finding with its explained terms and its severity band.
type Finding struct {
	detectors.Finding
	Severity string `json:"severity"`
}

var filterParams = []string{"enterprise", "component", "category", "industry", "region", "min_score", "severity", "flag",
	"chain_leader", "as_of", "sort", "limit", "cursor", "page"}

// filter parses the shared filter parameters.
func (s *server) filter(q *query) (exposure.Filter, error) {
	var f exposure.Filter
	var err error
	f.EnterpriseID, f.ComponentID = q.str("enterprise"), q.str("component")
	f.Industry, f.Region, f.Flag = q.str("industry"), q.str("region"), q.str("flag")
	if f.Category, err = q.category("category"); err != nil {
		return f, err
	}
	if f.MinScore, err = q.score("min_score"); err != nil {
		return f, err
	}
	if f.Severity, err = q.oneOf("severity", exposure.Severities...); err != nil {
		return f, err
	}
	if f.ChainLeader, err = q.boolean("chain_leader"); err != nil {
		return f, err
	}
	if f.AsOf, err = q.time("as_of"); err != nil {
		return f, err
	}
	if _, err := exposure.OrderBy(q.str("sort")); err != nil {
		return f, badRequest("parameter sort: %v", err)
	}
	return f, nil
}

func (s *server) store() (*exposure.Store, error) {
	if s.deps.Store == nil {
		return nil, notImplemented("the findings store")
	}
	return s.deps.Store, nil
}

// GET /api/v1/exposures
func (s *server) exposures(w http.ResponseWriter, r *http.Request, _ principal) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	q, err := newQuery(r, filterParams...)
	if err != nil {
		return err
	}
	f, err := s.filter(q)
	if err != nil {
		return err
	}
	f.Detectors = []string{st.Config().Detector}
	pg, err := q.page(s.cfg, filterKey(r.URL.Query()))
	if err != nil {
		return err
	}
	fs, total, err := st.Findings(r.Context(), f, exposure.Page{Sort: q.str("sort"), Offset: pg.offset, Limit: pg.limit})
	if err != nil {
		return err
	}
	var ids []string
	for _, x := range fs {
		ids = append(ids, x.EnterpriseID, x.ComponentID)
	}
	names, err := st.Names(r.Context(), ids)
	if err != nil {
		return err
	}
	out := List[Exposure]{Items: make([]Exposure, 0, len(fs)), Total: int(total), Limit: pg.limit, Offset: pg.offset,
		NextCursor: pg.next(int(total))}
	sev := st.Config().Severity
	for _, x := range fs {
		e := Exposure{Subject: x.Subject, EnterpriseID: x.EnterpriseID, EnterpriseName: names[x.EnterpriseID],
			ComponentID: x.ComponentID, ComponentName: names[x.ComponentID], Category: x.Category, Industry: x.Industry,
			Region: x.Region, ChainLeader: x.ChainLeader, Score: x.Score, PrevScore: x.PrevScore, Delta: math.Round(x.Delta()*100) / 100,
			Severity: sev.Of(x.Score), Flags: x.Flags, TTSDays: x.TTSDays, TTRDays: x.TTRDays, Products: x.Products,
			Alternates: len(x.Alternates), RunID: x.RunID, ComputedAt: x.ComputedAt}
		if e.Products == nil {
			e.Products = []string{}
		}
		if e.EnterpriseName == "" || e.ComponentName == "" {
			if en, cn, ok := strings.Cut(x.SubjectName, " / "); ok {
				e.EnterpriseName, e.ComponentName = firstNonEmpty(e.EnterpriseName, en), firstNonEmpty(e.ComponentName, cn)
			}
		}
		out.Items = append(out.Items, e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// GET /api/v1/findings
func (s *server) findings(w http.ResponseWriter, r *http.Request, _ principal) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	q, err := newQuery(r, append([]string{"detector", "subject_type", "subject"}, filterParams...)...)
	if err != nil {
		return err
	}
	f, err := s.filter(q)
	if err != nil {
		return err
	}
	if d := q.str("detector"); d != "" {
		for _, x := range strings.Split(d, ",") {
			if x = strings.TrimSpace(x); x != "" {
				if !slices.Contains(s.deps.DetectorNames, x) {
					return badRequest("parameter detector=%q: want one or more (comma-separated) of %s", x, strings.Join(s.deps.DetectorNames, ", "))
				}
				f.Detectors = append(f.Detectors, x)
			}
		}
	} else {
		f.Detectors = slices.Clone(s.deps.DetectorNames)
	}
	if f.SubjectType, err = q.oneOf("subject_type", detectors.SubjectEnterpriseComponent, detectors.SubjectComponent,
		detectors.SubjectHS, detectors.SubjectMaterial, detectors.SubjectPart, detectors.SubjectSupplier); err != nil {
		return err
	}
	f.Subject = q.str("subject")
	pg, err := q.page(s.cfg, filterKey(r.URL.Query()))
	if err != nil {
		return err
	}
	fs, total, err := st.Findings(r.Context(), f, exposure.Page{Sort: q.str("sort"), Offset: pg.offset, Limit: pg.limit})
	if err != nil {
		return err
	}
	if err := st.NameFindings(r.Context(), fs); err != nil {
		return err
	}
	out := List[Finding]{Items: make([]Finding, 0, len(fs)), Total: int(total), Limit: pg.limit, Offset: pg.offset,
		NextCursor: pg.next(int(total))}
	for _, x := range fs {
		if x.Products == nil {
			x.Products = []string{}
		}
		out.Items = append(out.Items, Finding{Finding: x, Severity: st.Config().Severity.Of(x.Score)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// RunView is the latest successful run of one detector.
type RunView struct {
	Detector   string    `json:"detector"`
	RunID      string    `json:"run_id"`
	ComputedAt time.Time `json:"computed_at"`
	Findings   uint64    `json:"findings"`
}

// GET /api/v1/runs
func (s *server) runs(w http.ResponseWriter, r *http.Request, _ principal) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	q, err := newQuery(r, "as_of")
	if err != nil {
		return err
	}
	asOf, err := q.time("as_of")
	if err != nil {
		return err
	}
	runs, err := st.Runs(r.Context(), asOf)
	if err != nil {
		return err
	}
	out := List[RunView]{Items: []RunView{}, Total: len(runs), Limit: len(runs)}
	for _, x := range runs {
		out.Items = append(out.Items, RunView{Detector: x.Detector, RunID: x.RunID, ComputedAt: x.ComputedAt, Findings: x.Findings})
	}
	slices.SortFunc(out.Items, func(a, b RunView) int { return strings.Compare(a.Detector, b.Detector) })
	writeJSON(w, http.StatusOK, out)
	return nil
}
