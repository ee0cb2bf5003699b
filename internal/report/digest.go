// Package report builds the weekly supply-chain risk digest for policymakers: for one ISO week and
// one scope (region × industry, empty = all) it summarises the detectors' latest findings as of the
// end of the week against those of the week before — top chokepoints (卡点), rising exposures,
// single-source counts by category, the 卡点 list status, chain-leader (链主) exposure, B计划 alerts
// raised and resolved, and the freshness of every data source — and renders it as HTML (inline SVG
// charts, print-friendly), Markdown or CSV.
//
// Digests are archived in the ClickHouse table `digests` (0004_reports.sql), delivered on a cron
// schedule through a Mailer, served by the API (GET /api/v1/digests/{year}-W{week}) and printed by
// `chainwatch digest` (CLI).
package report

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/detectors/whatif"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/i18n"
)

// SingleSourceDetector is the detector whose findings count single-source pairs per category.
const SingleSourceDetector = "single_source"

// Scope selects the enterprises of one region and/or industry ("" = all).
type Scope struct {
	Region   string `json:"region"`
	Industry string `json:"industry"`
}

// Label renders the scope for readers in lang: "江苏 · 半导体", "all regions · New energy vehicles",
// "全国（…）"; industries by their names in the shared table.
func (s Scope) Label(lang string) string {
	if s.Region == "" && s.Industry == "" {
		return tr(lang, "scope.national")
	}
	r, i := regionName(s.Region, lang), i18n.IndustryName(s.Industry, lang)
	if r == "" {
		r = tr(lang, "scope.allRegions")
	}
	if s.Industry == "" {
		i = tr(lang, "scope.allInd")
	}
	return r + " · " + i
}

// String renders "Jiangsu · semiconductors", "all regions · semiconductors", "National" (logs, errors).
func (s Scope) String() string {
	if s.Region == "" && s.Industry == "" {
		return "National (all regions, all industries)"
	}
	r, i := s.Region, s.Industry
	if r == "" {
		r = "all regions"
	}
	if i == "" {
		i = "all industries"
	}
	return r + " · " + i
}

// Digest is one week's risk digest for one scope.
type Digest struct {
	Title       string    `json:"title"`
	Lang        string    `json:"lang"` // zh-CN or en: every text of the rendered digest
	Week        Week      `json:"week"`
	Scope       Scope     `json:"scope"`
	From        time.Time `json:"from"`  // Monday 00:00 in Timezone
	To          time.Time `json:"to"`    // next Monday 00:00 (exclusive)
	AsOf        time.Time `json:"as_of"` // min(To, generation time): the findings are those latest at AsOf
	Timezone    string    `json:"timezone"`
	Complete    bool      `json:"complete"` // the week had ended when the digest was generated
	GeneratedAt time.Time `json:"generated_at"`

	Runs []RunInfo `json:"runs"` // the detector runs read (current and previous week)
	// Thresholds the digest was built with.
	Severity        exposure.SeverityConfig `json:"severity"`
	RisingMinDelta  float64                 `json:"rising_min_delta"`
	StaleAfterHours float64                 `json:"stale_after_hours"`

	Summary      Summary         `json:"summary"`
	Chokepoints  []Item          `json:"chokepoints"`
	Rising       []Item          `json:"rising"`
	SingleSource []CategoryCount `json:"single_source"`
	ChokeList    []ListItem      `json:"chokepoint_list"`
	ChainLeaders []Item          `json:"chain_leaders"`
	Alerts       AlertSummary    `json:"alerts"`
	Freshness    []FreshnessRow  `json:"freshness"`
	Notes        []string        `json:"notes"`
	// WhatIf is "what would stop if…" for the top chokepoints (whatif.go; empty when off).
	WhatIf []whatif.ChokepointRun `json:"what_if,omitempty"`
	// Issue 14 (regional.go; empty without SetRegional): chain leaders' local-sourcing index, the 卡点
	// ledger with its progress against the targets, and the demand board.
	LocalSourcing []detectors.LocalSourcing `json:"local_sourcing,omitempty"`
	Ledger        *detectors.Ledger         `json:"ledger,omitempty"`
	Demands       []detectors.Demand        `json:"demands,omitempty"`
}

// RunInfo names a detector run the digest read.
type RunInfo struct {
	Detector   string    `json:"detector"`
	Current    string    `json:"current"`
	CurrentAt  time.Time `json:"current_at"`
	Previous   string    `json:"previous"`
	PreviousAt time.Time `json:"previous_at"`
}

// Summary holds the headline figures.
type Summary struct {
	Exposures     int     `json:"exposures"`
	Critical      int     `json:"critical"`
	High          int     `json:"high"`
	MaxScore      float64 `json:"max_score"`
	Rising        int     `json:"rising"`
	New           int     `json:"new"`
	SingleSource  int     `json:"single_source"`
	ChainLeader   int     `json:"chain_leader_exposures"` // chain-leader exposures at high or above
	ListCritical  int     `json:"chokepoint_list_critical"`
	AlertsRaised  int     `json:"alerts_raised"`
	AlertsSettled int     `json:"alerts_resolved"`
	StaleSources  int     `json:"stale_sources"`
}

// Item is one scored subject with its week-over-week change.
type Item struct {
	Rank          int      `json:"rank"`
	SubjectType   string   `json:"subject_type"`
	Subject       string   `json:"subject"`
	Name          string   `json:"name"`
	EnterpriseID  string   `json:"enterprise_id,omitempty"`
	ComponentID   string   `json:"component_id,omitempty"`
	Category      string   `json:"category,omitempty"`
	Industry      string   `json:"industry,omitempty"`
	Region        string   `json:"region,omitempty"`
	Score         float64  `json:"score"`
	PrevScore     *float64 `json:"prev_score,omitempty"`
	Delta         float64  `json:"delta"`
	New           bool     `json:"new"`
	Severity      string   `json:"severity"`
	Flags         []string `json:"flags"`
	TTSDays       *float64 `json:"tts_days,omitempty"`
	TTRDays       *float64 `json:"ttr_days,omitempty"`
	ChainLeader   bool     `json:"chain_leader,omitempty"`
	AffectedUsers int      `json:"affected_enterprises,omitempty"`
}

// CategoryCount is the number of single-source enterprise × component pairs in one category.
type CategoryCount struct {
	Category string `json:"category"`
	Label    string `json:"label"`
	Now      int    `json:"now"`
	Prev     int    `json:"prev"`
}

// ListItem is the status of one component on the 卡点 list.
type ListItem struct {
	ComponentID       string   `json:"component_id"`
	Name              string   `json:"name"`
	Category          string   `json:"category"`
	Score             float64  `json:"score"`
	PrevScore         *float64 `json:"prev_score,omitempty"`
	Delta             float64  `json:"delta"`
	Severity          string   `json:"severity"`
	Status            string   `json:"status"` // escalating, critical, watch, stable, improving
	Exposed           int      `json:"exposed_enterprises"`
	DomesticAlternate bool     `json:"domestic_alternate"`
}

// AlertSummary counts B计划 alerts of the week.
type AlertSummary struct {
	Available bool           `json:"available"`
	Note      string         `json:"note,omitempty"`
	Raised    int            `json:"raised"`
	Resolved  int            `json:"resolved"`
	BySev     map[string]int `json:"raised_by_severity"`
}

// FreshnessRow is one source's newest data at the end of the week.
type FreshnessRow struct {
	Table        string    `json:"table"`
	Source       string    `json:"source"`
	LastIngested time.Time `json:"last_ingested"`
	AgeHours     float64   `json:"age_hours"`
	// StaleAfterHours is the table's threshold (digest.stale_after_by_table or digest.stale_after).
	StaleAfterHours float64 `json:"stale_after_hours"`
	Rows            uint64  `json:"rows"`
	Stale           bool    `json:"stale"`
}

// Service generates, archives and serves digests.
type Service struct {
	q     exposure.Querier
	conn  driver.Conn // archive writes; nil: no archive
	store *exposure.Store
	read  exposure.Config
	cfg   Config
	loc   *time.Location
	log   *slog.Logger
	now   func() time.Time
	// whatIf answers the digest's what-if section (whatif.go); nil: no section.
	whatIf WhatIfFunc
	// regional answers the local-sourcing, ledger and demand sections (regional.go); nil: none.
	regional *exposure.Regional
}

// New returns a digest service reading and archiving through conn.
func New(conn driver.Conn, read exposure.Config, cfg Config, log *slog.Logger) *Service {
	s := NewWithQuerier(conn, read, cfg, log)
	s.conn = conn
	return s
}

// NewWithQuerier returns a service that only reads through q (no archive writes).
func NewWithQuerier(q exposure.Querier, read exposure.Config, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{q: q, store: exposure.NewStore(q, read), read: read, cfg: cfg, loc: cfg.Location(), log: log, now: time.Now}
}

// SetClock replaces the service's clock (tests, the example digest).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Location is the digest time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Config returns the digest configuration.
func (s *Service) Config() Config { return s.cfg }

// Lang resolves the language of a digest of scope: lang when given (any spelling i18n.Parse accepts;
// others fall back as i18n.Normalize does), else the configured one (digest.scopes[].lang, digest.lang).
func (s *Service) Lang(scope Scope, lang string) string {
	if lang == "" {
		return s.cfg.LangFor(scope)
	}
	return i18n.Normalize(lang)
}

// Generate builds the digest of week for scope from ClickHouse, in lang ("" = the scope's configured
// language). Both languages carry the same sections, rows and figures.
func (s *Service) Generate(ctx context.Context, week Week, scope Scope, lang string) (*Digest, error) {
	now := s.now()
	from, to := week.Start(s.loc), week.End(s.loc)
	if !from.Before(now) {
		return nil, fmt.Errorf("%w: %s starts %s, in the future", ErrFutureWeek, week, from.Format(time.RFC3339))
	}
	asOf := to
	if now.Before(to) {
		asOf = now
	}
	lang = s.Lang(scope, lang)
	title := s.cfg.Title
	if title == "" {
		title = tr(lang, "title")
	}
	d := &Digest{Title: title, Lang: lang, Week: week, Scope: scope, From: from, To: to, AsOf: asOf, Timezone: s.loc.String(),
		Complete: !now.Before(to), GeneratedAt: now.UTC(), Severity: s.read.Severity, RisingMinDelta: s.cfg.RisingMinDelta,
		StaleAfterHours: s.cfg.StaleAfter.Hours()}
	g := &gen{s: s, d: d, scope: scope}
	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"runs", g.runs}, {"summary", g.summary}, {"chokepoints", g.chokepoints}, {"rising", g.rising},
		{"single-source", g.singleSource}, {"chokepoint list", g.chokeList}, {"chain leaders", g.chainLeaders},
		{"alerts", g.alerts}, {"freshness", g.freshness}, {"what-if", g.whatIfSection}, {"regional", g.regionalSections},
	}
	for _, st := range steps {
		if err := st.f(ctx); err != nil {
			return nil, fmt.Errorf("digest %s %s: %s: %w", week, scope, st.name, err)
		}
	}
	return d, nil
}

// ErrFutureWeek is returned for a week that has not started.
var ErrFutureWeek = fmt.Errorf("week has not started")

type gen struct {
	s     *Service
	d     *Digest
	scope Scope
	cur   map[string]string // detector → run id latest at AsOf
	prev  map[string]string // detector → run id latest at From
}

func (g *gen) runs(ctx context.Context) error {
	cur, err := g.s.store.Runs(ctx, g.d.AsOf)
	if err != nil {
		return err
	}
	prev, err := g.s.store.Runs(ctx, g.d.From)
	if err != nil {
		return err
	}
	g.cur, g.prev = map[string]string{}, map[string]string{}
	byDet := map[string]*RunInfo{}
	for _, r := range cur {
		g.cur[r.Detector] = r.RunID
		byDet[r.Detector] = &RunInfo{Detector: r.Detector, Current: r.RunID, CurrentAt: r.ComputedAt}
	}
	for _, r := range prev {
		g.prev[r.Detector] = r.RunID
		if ri, ok := byDet[r.Detector]; ok {
			ri.Previous, ri.PreviousAt = r.RunID, r.ComputedAt
		}
	}
	for _, det := range slices.Sorted(maps.Keys(byDet)) {
		g.d.Runs = append(g.d.Runs, *byDet[det])
	}
	exp := g.s.read.Detector
	switch {
	case g.cur[exp] == "":
		g.note("note.norun", exp, g.d.AsOf.In(g.s.loc).Format("2006-01-02 15:04"))
	case g.prev[exp] == "":
		g.note("note.nobaseline")
	case g.prev[exp] == g.cur[exp]:
		g.note("note.norunweek")
	}
	return nil
}

// note adds a note in the digest's language.
func (g *gen) note(key string, args ...any) {
	g.d.Notes = append(g.d.Notes, trf(g.d.Lang, key, args...))
}

// scopeSQL filters findings by the scope's region and industry columns.
func (g *gen) scopeSQL() string {
	var c []string
	if g.scope.Region != "" {
		c = append(c, "region = "+exposure.Str(g.scope.Region))
	}
	if g.scope.Industry != "" {
		c = append(c, "industry = "+exposure.Str(g.scope.Industry))
	}
	if len(c) == 0 {
		return "1 = 1"
	}
	return strings.Join(c, " AND ")
}

// scopeEnterprises is a subquery of the enterprise ids in scope (supply map).
func (g *gen) scopeEnterprises() string {
	c := []string{"node_type = 'enterprise'"}
	if g.scope.Region != "" {
		c = append(c, "region = "+exposure.Str(g.scope.Region))
	}
	if g.scope.Industry != "" {
		c = append(c, "industry = "+exposure.Str(g.scope.Industry))
	}
	return "SELECT node_id FROM supply_nodes FINAL WHERE " + strings.Join(c, " AND ")
}

// scopeComponents is a subquery of the component ids used by enterprises in scope.
func (g *gen) scopeComponents() string {
	return "SELECT component_id FROM supply_links FINAL WHERE link_type IN ('supplies', 'stocks') AND enterprise_id IN (" +
		g.scopeEnterprises() + ")"
}

func (g *gen) scoped() bool { return g.scope.Region != "" || g.scope.Industry != "" }

func (g *gen) runPair(det string) (cur, prev string) { return g.cur[det], g.prev[det] }

func (g *gen) summary(ctx context.Context) error {
	cur, _ := g.runPair(g.s.read.Detector)
	if cur == "" {
		return nil
	}
	sv := g.s.read.Severity
	q := "SELECT count(), countIf(score >= " + exposure.Num(sv.Critical) + "), countIf(score >= " + exposure.Num(sv.High) +
		" AND score < " + exposure.Num(sv.Critical) + "), max(score), countIf(has(flags, 'single_source')), " +
		"countIf(chain_leader = 1 AND score >= " + exposure.Num(sv.High) + ") FROM " +
		detectors.RunsFindingsTable(g.s.read.Detector, cur) + " WHERE detector = " +
		exposure.Str(g.s.read.Detector) + " AND run_id = " + exposure.Str(cur) + " AND " + g.scopeSQL()
	rows, err := g.s.q.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n, crit, high, ss, cl uint64
		var mx float64
		if err := rows.Scan(&n, &crit, &high, &mx, &ss, &cl); err != nil {
			return err
		}
		sm := &g.d.Summary
		sm.Exposures, sm.Critical, sm.High, sm.MaxScore, sm.SingleSource, sm.ChainLeader = int(n), int(crit), int(high), mx, int(ss), int(cl)
	}
	return rows.Err()
}

// wow reads subjects of detector in the current run with their previous-run score. where adds
// conditions; order and limit shape the result; having filters the grouped rows.
func (g *gen) wow(ctx context.Context, det, where, having, order string, limit int) ([]Item, error) {
	cur, prev := g.runPair(det)
	if cur == "" {
		return nil, nil
	}
	if prev == "" {
		prev = cur + "\x00none"
	}
	c, p := exposure.Str(cur), exposure.Str(prev)
	q := "SELECT subject_type, subject, any(subject_name), any(enterprise_id), any(component_id), any(category), any(industry), " +
		"any(region), max(chain_leader), maxIf(score, run_id = " + c + ") AS s_now, maxIf(score, run_id = " + p + ") AS s_prev, " +
		"countIf(run_id = " + p + ") AS had_prev, anyIf(flags, run_id = " + c + "), anyIf(tts_days, run_id = " + c + "), " +
		"anyIf(ttr_days, run_id = " + c + ") FROM " + detectors.RunsFindingsTable(det, cur, prev) + " WHERE detector = " + exposure.Str(det) + " AND run_id IN (" + c + ", " + p +
		") AND " + where + " GROUP BY subject_type, subject HAVING countIf(run_id = " + c + ") > 0"
	if having != "" {
		q += " AND " + having
	}
	q += " ORDER BY " + order + ", subject LIMIT " + exposure.Int(int64(limit))
	rows, err := g.s.q.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var leader uint8
		var prevScore float64
		var hadPrev uint64
		if err := rows.Scan(&it.SubjectType, &it.Subject, &it.Name, &it.EnterpriseID, &it.ComponentID, &it.Category, &it.Industry,
			&it.Region, &leader, &it.Score, &prevScore, &hadPrev, &it.Flags, &it.TTSDays, &it.TTRDays); err != nil {
			return nil, err
		}
		it.ChainLeader = leader == 1
		if hadPrev > 0 && g.prev[det] != "" {
			ps := prevScore
			it.PrevScore = &ps
			it.Delta = it.Score - prevScore
		} else {
			it.New = g.prev[det] != ""
		}
		it.Severity = g.s.read.Severity.Of(it.Score)
		if it.Flags == nil {
			it.Flags = []string{}
		}
		it.Rank = len(out) + 1
		out = append(out, it)
	}
	return out, rows.Err()
}

func (g *gen) chokeWhere() string {
	if !g.scoped() {
		return "1 = 1"
	}
	comps := g.scopeComponents()
	return "((subject_type = 'component' AND component_id IN (" + comps + ")) OR (subject_type = 'hs' AND subject IN " +
		"(SELECT hs_code FROM supply_nodes FINAL WHERE node_type = 'component' AND node_id IN (" + comps + "))) OR " +
		"(region != '' AND " + g.scopeSQL() + "))"
}

func (g *gen) chokepoints(ctx context.Context) error {
	items, err := g.wow(ctx, g.s.read.ChokepointDetector, g.chokeWhere(), "", "s_now DESC", g.s.cfg.TopN)
	if err != nil {
		return err
	}
	if g.scoped() {
		g.note("note.scoped")
	}
	g.d.Chokepoints = items
	return nil
}

func (g *gen) rising(ctx context.Context) error {
	det := g.s.read.Detector
	if g.prev[det] == "" {
		return nil // no baseline: nothing is new or rising (see the note)
	}
	having := "(had_prev = 0 OR s_now - s_prev >= " + exposure.Num(g.s.cfg.RisingMinDelta) + ")"
	if g.prev[det] == "" || g.prev[det] == g.cur[det] {
		having = "s_now - s_prev >= " + exposure.Num(g.s.cfg.RisingMinDelta) // nothing is new without a previous run
	}
	items, err := g.wow(ctx, det, g.scopeSQL(), having, "had_prev ASC, s_now - s_prev DESC, s_now DESC", g.s.cfg.TopN)
	if err != nil {
		return err
	}
	g.d.Rising = items
	for _, it := range items {
		if it.New {
			g.d.Summary.New++
		} else {
			g.d.Summary.Rising++
		}
	}
	// Counts beyond top_n.
	cur, prev := g.runPair(det)
	if cur != "" && prev != "" && prev != cur {
		c, p := exposure.Str(cur), exposure.Str(prev)
		q := "SELECT countIf(had_prev = 0), countIf(had_prev > 0 AND s_now - s_prev >= " + exposure.Num(g.s.cfg.RisingMinDelta) + ") FROM (" +
			"SELECT subject, maxIf(score, run_id = " + c + ") AS s_now, maxIf(score, run_id = " + p + ") AS s_prev, countIf(run_id = " + p +
			") AS had_prev, countIf(run_id = " + c + ") AS has_now FROM " + detectors.RunsFindingsTable(det, cur, prev) + " WHERE detector = " + exposure.Str(det) +
			" AND run_id IN (" + c + ", " + p + ") AND " + g.scopeSQL() + " GROUP BY subject_type, subject) WHERE has_now > 0"
		rows, err := g.s.q.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var nw, rs uint64
			if err := rows.Scan(&nw, &rs); err != nil {
				return err
			}
			g.d.Summary.New, g.d.Summary.Rising = int(nw), int(rs)
		}
		return rows.Err()
	}
	return nil
}

func (g *gen) singleSource(ctx context.Context) error {
	det := SingleSourceDetector
	if g.cur[det] == "" {
		det = g.s.read.Detector
	}
	cur, prev := g.runPair(det)
	counts := map[string]*CategoryCount{}
	cats := i18n.Names(i18n.KindCategory)
	for _, c := range cats {
		counts[c.ID] = &CategoryCount{Category: c.ID, Label: c.In(g.d.Lang)}
	}
	if cur != "" {
		c, p := exposure.Str(cur), exposure.Str(prev)
		q := "SELECT category, countIf(run_id = " + c + "), countIf(run_id = " + p + ") FROM " + detectors.RunsFindingsTable(det, cur, prev) + " WHERE detector = " +
			exposure.Str(det) + " AND run_id IN (" + c + ", " + p + ") AND has(flags, 'single_source') AND " + g.scopeSQL() +
			" GROUP BY category ORDER BY category"
		rows, err := g.s.q.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var cat string
			var n, pn uint64
			if err := rows.Scan(&cat, &n, &pn); err != nil {
				return err
			}
			cc, ok := counts[cat]
			if !ok {
				cc = &CategoryCount{Category: cat, Label: i18n.CategoryName(cat, g.d.Lang)}
				counts[cat] = cc
			}
			cc.Now, cc.Prev = int(n), int(pn)
			if prev == "" {
				cc.Prev = 0
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, c := range cats {
		g.d.SingleSource = append(g.d.SingleSource, *counts[c.ID])
		delete(counts, c.ID)
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		g.d.SingleSource = append(g.d.SingleSource, *counts[k])
	}
	return nil
}

func (g *gen) chokeList(ctx context.Context) error {
	where := "subject_type = 'component' AND has(flags, 'chokepoint_list')"
	if g.scoped() {
		where += " AND component_id IN (" + g.scopeComponents() + ")"
	}
	items, err := g.wow(ctx, g.s.read.ChokepointDetector, where, "", "s_now DESC", 1000)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Subject
	}
	exposed := map[string]int{}
	if cur := g.cur[g.s.read.Detector]; cur != "" {
		q := "SELECT component_id, uniqExact(enterprise_id) FROM " + detectors.RunsFindingsTable(g.s.read.Detector, cur) + " WHERE detector = " + exposure.Str(g.s.read.Detector) +
			" AND run_id = " + exposure.Str(cur) + " AND score >= " + exposure.Num(g.s.read.Severity.Medium) +
			" AND component_id IN " + exposure.Strs(ids) + " AND " + g.scopeSQL() + " GROUP BY component_id"
		if err := g.each(ctx, q, func(r driver.Rows) error {
			var id string
			var n uint64
			if err := r.Scan(&id, &n); err != nil {
				return err
			}
			exposed[id] = int(n)
			return nil
		}); err != nil {
			return err
		}
	}
	domestic := map[string]bool{}
	q := "SELECT component_id, max(domestic) FROM substitutions FINAL WHERE component_id IN " + exposure.Strs(ids) + " GROUP BY component_id"
	if err := g.each(ctx, q, func(r driver.Rows) error {
		var id string
		var dom uint8
		if err := r.Scan(&id, &dom); err != nil {
			return err
		}
		domestic[id] = dom == 1
		return nil
	}); err != nil {
		return err
	}
	sv, min := g.s.read.Severity, g.s.cfg.RisingMinDelta
	for _, it := range items {
		li := ListItem{ComponentID: it.Subject, Name: it.Name, Category: it.Category, Score: it.Score, PrevScore: it.PrevScore,
			Delta: it.Delta, Severity: it.Severity, Exposed: exposed[it.Subject], DomesticAlternate: domestic[it.Subject]}
		switch {
		case it.PrevScore != nil && it.Delta >= min:
			li.Status = "escalating"
		case it.Score >= sv.Critical:
			li.Status = "critical"
		case it.PrevScore != nil && it.Delta <= -min:
			li.Status = "improving"
		case it.Score >= sv.High:
			li.Status = "watch"
		default:
			li.Status = "stable"
		}
		if li.Status == "critical" || li.Status == "escalating" {
			g.d.Summary.ListCritical++
		}
		g.d.ChokeList = append(g.d.ChokeList, li)
	}
	return nil
}

func (g *gen) chainLeaders(ctx context.Context) error {
	items, err := g.wow(ctx, g.s.read.Detector, "chain_leader = 1 AND "+g.scopeSQL(), "", "s_now DESC", g.s.cfg.TopN)
	if err != nil {
		return err
	}
	g.d.ChainLeaders = items
	return nil
}

// AlertEventsTable is the alerts package's archive of alert transitions.
const AlertEventsTable = "alert_events"

func (g *gen) alerts(ctx context.Context) error {
	g.d.Alerts.BySev = map[string]int{}
	ok, err := exposure.TableExists(ctx, g.s.q, AlertEventsTable)
	if err != nil {
		return err
	}
	if !ok {
		g.d.Alerts.Note = tr(g.d.Lang, "note.noalerts")
		g.d.Notes = append(g.d.Notes, g.d.Alerts.Note)
		return nil
	}
	g.d.Alerts.Available = true
	w := "at >= " + exposure.Time(g.d.From) + " AND at < " + exposure.Time(g.d.AsOf)
	if g.scoped() {
		w += " AND enterprise_id IN (" + g.scopeEnterprises() + ")"
	}
	// Raised: alerts that started this week, by the severity of their newest firing event.
	q := "SELECT sev, count() FROM (SELECT fingerprint, argMax(severity, at) AS sev FROM " + AlertEventsTable +
		" WHERE status = 'firing' AND starts_at >= " + exposure.Time(g.d.From) + " AND " + w + " GROUP BY fingerprint) GROUP BY sev"
	err = g.each(ctx, q, func(r driver.Rows) error {
		var sev string
		var n uint64
		if err := r.Scan(&sev, &n); err != nil {
			return err
		}
		g.d.Alerts.BySev[sev] += int(n)
		g.d.Alerts.Raised += int(n)
		return nil
	})
	if err != nil {
		return err
	}
	// Resolved: alerts with a resolution this week.
	q = "SELECT uniqExact(fingerprint) FROM " + AlertEventsTable + " WHERE status = 'resolved' AND " + w
	err = g.each(ctx, q, func(r driver.Rows) error {
		var n uint64
		if err := r.Scan(&n); err != nil {
			return err
		}
		g.d.Alerts.Resolved = int(n)
		return nil
	})
	g.d.Summary.AlertsRaised, g.d.Summary.AlertsSettled = g.d.Alerts.Raised, g.d.Alerts.Resolved
	return err
}

func (g *gen) freshness(ctx context.Context) error {
	fs, err := g.s.store.Freshness(ctx, g.d.AsOf)
	if err != nil {
		return err
	}
	for _, f := range fs {
		age := g.d.AsOf.Sub(f.LastIngested)
		limit := g.s.cfg.StaleAfterFor(f.Table)
		row := FreshnessRow{Table: f.Table, Source: f.Source, LastIngested: f.LastIngested, AgeHours: age.Hours(), Rows: f.Rows,
			StaleAfterHours: limit.Hours(), Stale: age > limit}
		if row.Stale {
			g.d.Summary.StaleSources++
		}
		g.d.Freshness = append(g.d.Freshness, row)
	}
	sort.SliceStable(g.d.Freshness, func(i, j int) bool {
		a, b := g.d.Freshness[i], g.d.Freshness[j]
		if a.Stale != b.Stale {
			return a.Stale
		}
		return a.Table+a.Source < b.Table+b.Source
	})
	if len(fs) == 0 {
		g.note("note.nodata")
	}
	return nil
}

func (g *gen) each(ctx context.Context, q string, f func(driver.Rows) error) error {
	rows, err := g.s.q.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
