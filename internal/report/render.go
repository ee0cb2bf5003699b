package report

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// Formats of Render.
const (
	FormatHTML     = "html"
	FormatMarkdown = "md"
	FormatCSV      = "csv"
	FormatJSON     = "json"
)

// ContentType returns the MIME type of a format.
func ContentType(format string) string {
	switch format {
	case FormatHTML:
		return "text/html; charset=utf-8"
	case FormatMarkdown:
		return "text/markdown; charset=utf-8"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatJSON:
		return "application/json"
	}
	return "application/octet-stream"
}

// ValidFormat reports whether Render supports format.
func ValidFormat(format string) bool {
	switch format {
	case FormatHTML, FormatMarkdown, FormatCSV, FormatJSON:
		return true
	}
	return false
}

// Render renders the digest in format (html, md, csv, json).
func Render(d *Digest, format string) ([]byte, error) {
	switch format {
	case FormatHTML:
		return renderHTML(d)
	case FormatMarkdown:
		return renderMarkdown(d), nil
	case FormatCSV:
		return renderCSV(d)
	case FormatJSON:
		return json.MarshalIndent(d, "", "  ")
	}
	return nil, fmt.Errorf("unknown digest format %q (html, md, csv, json)", format)
}

//go:embed digest.html.tmpl
var htmlTemplate string

func funcs(d *Digest) template.FuncMap {
	return template.FuncMap{
		"num0":  func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) },
		"num1":  func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
		"prev":  prevText,
		"delta": func(it Item) template.HTML { return deltaHTML(it.New, it.PrevScore, it.Delta) },
		"listdelta": func(li ListItem) template.HTML {
			return deltaHTML(false, li.PrevScore, li.Delta)
		},
		"intdelta": func(now, prev int) string {
			switch {
			case now > prev:
				return "+" + strconv.Itoa(now-prev)
			case now < prev:
				return strconv.Itoa(now - prev)
			}
			return "0"
		},
		"cat":   CategoryLabel,
		"flags": func(fs []string) string { return strings.Join(fs, ", ") },
		"name":  itemName,
		"ent":   entName,
		"comp":  compName,
		"ttsr":  ttsr,
		"when":  func(t time.Time) string { return t.In(loc(d)).Format("2006-01-02 15:04") },
		"age":   ageText,
		"pct":   func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
		"pctp":  func(f *float64) string { return strconv.FormatFloat(100**f, 'f', 1, 64) + "%" },
		"pts":   func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + " pp" },
	}
}

func loc(d *Digest) *time.Location {
	if l, err := time.LoadLocation(d.Timezone); err == nil {
		return l
	}
	return time.UTC
}

func prevText(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

func deltaHTML(isNew bool, prev *float64, delta float64) template.HTML {
	switch {
	case isNew:
		return `<span class="new">new</span>`
	case prev == nil:
		return "–"
	case delta >= 0.05:
		return template.HTML(`<span class="up">▲ ` + strconv.FormatFloat(delta, 'f', 1, 64) + `</span>`)
	case delta <= -0.05:
		return template.HTML(`<span class="down">▼ ` + strconv.FormatFloat(-delta, 'f', 1, 64) + `</span>`)
	}
	return "0.0"
}

func itemName(it Item) string {
	if it.Name != "" && it.Name != it.Subject {
		return it.Name + " (" + it.Subject + ")"
	}
	return it.Subject
}

func splitName(it Item) (ent, comp string) {
	if e, c, ok := strings.Cut(it.Name, " / "); ok {
		return e, c
	}
	return it.EnterpriseID, it.ComponentID
}

func entName(it Item) string {
	e, _ := splitName(it)
	if e == "" {
		return it.EnterpriseID
	}
	return e
}

func compName(it Item) string {
	_, c := splitName(it)
	if c == "" {
		return it.ComponentID
	}
	return c
}

func ttsr(it Item) string {
	f := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return strconv.FormatFloat(*p, 'f', 0, 64)
	}
	return f(it.TTSDays) + " / " + f(it.TTRDays)
}

func ageText(h float64) string {
	switch {
	case h < 1:
		return "< 1 h"
	case h < 48:
		return strconv.FormatFloat(h, 'f', 0, 64) + " h"
	}
	return strconv.FormatFloat(h/24, 'f', 1, 64) + " days"
}

func renderHTML(d *Digest) ([]byte, error) {
	t, err := template.New("digest").Funcs(funcs(d)).Parse(htmlTemplate)
	if err != nil {
		return nil, fmt.Errorf("digest template: %w", err)
	}
	l := loc(d)
	view := map[string]any{
		"D":           d,
		"Period":      d.From.In(l).Format("Mon 2 Jan") + " – " + d.To.In(l).AddDate(0, 0, -1).Format("Mon 2 Jan 2006"),
		"Generated":   d.GeneratedAt.In(l).Format("2006-01-02 15:04 MST"),
		"AsOf":        d.AsOf.In(l).Format("2006-01-02 15:04 MST"),
		"Start":       d.From.In(l).Format("2006-01-02 15:04 MST"),
		"RisingMin":   risingMin(d),
		"ChokeChart":  scoreBars("Top chokepoints by score, with last week's score", d.Chokepoints, 980),
		"RisingChart": dumbbell("Rising and new exposures: last week to this week", d.Rising, 980),
		"SingleChart": groupedBars("Single-source exposures by category, last week and this week", d.SingleSource, 520),
	}
	var b bytes.Buffer
	if err := t.Execute(&b, view); err != nil {
		return nil, fmt.Errorf("digest template: %w", err)
	}
	return b.Bytes(), nil
}

func risingMin(d *Digest) float64 { return d.RisingMinDelta }

func mdEsc(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

func renderMarkdown(d *Digest) []byte {
	var b strings.Builder
	l := loc(d)
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# %s\n\n", d.Title)
	p("**ISO week %s** (%s – %s, %s) · Scope: **%s**  \n", d.Week, d.From.In(l).Format("2006-01-02"),
		d.To.In(l).AddDate(0, 0, -1).Format("2006-01-02"), d.Timezone, d.Scope)
	p("Generated %s · findings as of %s\n\n", d.GeneratedAt.In(l).Format("2006-01-02 15:04 MST"), d.AsOf.In(l).Format("2006-01-02 15:04 MST"))
	if !d.Complete {
		p("> Week in progress: figures are not final.\n\n")
	}
	s := d.Summary
	p("## Summary\n\n")
	p("| Figure | Value |\n|---|---:|\n")
	p("| Exposures tracked | %d |\n| Critical (≥ %.0f) | %d |\n| High | %d |\n| Highest score | %.1f |\n", s.Exposures, d.Severity.Critical, s.Critical, s.High, s.MaxScore)
	p("| Rising ≥ %.0f points | %d |\n| New this week | %d |\n| Single-source exposures | %d |\n", risingMin(d), s.Rising, s.New, s.SingleSource)
	p("| 卡点 list critical or escalating | %d |\n| Chain-leader exposures (high or above) | %d |\n", s.ListCritical, s.ChainLeader)
	p("| B计划 alerts raised / resolved | %d / %d |\n| Stale data sources | %d |\n\n", d.Alerts.Raised, d.Alerts.Resolved, s.StaleSources)
	for _, n := range d.Notes {
		p("- %s\n", n)
	}
	if len(d.Notes) > 0 {
		p("\n")
	}
	p("## 1. Top chokepoints (卡点)\n\n")
	if len(d.Chokepoints) == 0 {
		p("No chokepoint findings in scope.\n\n")
	} else {
		p("| # | Chokepoint | Type | Category | Score | Last week | Change | Severity | Flags |\n|---:|---|---|---|---:|---:|---:|---|---|\n")
		for _, it := range d.Chokepoints {
			p("| %d | %s | %s | %s | %.1f | %s | %s | %s | %s |\n", it.Rank, mdEsc(itemName(it)), it.SubjectType, CategoryLabel(it.Category),
				it.Score, prevText(it.PrevScore), deltaPlain(it.New, it.PrevScore, it.Delta), it.Severity, strings.Join(it.Flags, ", "))
		}
		p("\n")
	}
	b.WriteString(whatIfMarkdown(d))
	p("## 2. Rising and new exposures\n\n")
	if len(d.Rising) == 0 {
		p("No exposure rose by %.0f points or more, and none is new.\n\n", risingMin(d))
	} else {
		p("| # | Enterprise | Component | Category | Region | Score | Last week | Change | TTS / TTR (days) |\n|---:|---|---|---|---|---:|---:|---:|---:|\n")
		for _, it := range d.Rising {
			p("| %d | %s | %s | %s | %s | %.1f | %s | %s | %s |\n", it.Rank, mdEsc(entName(it)), mdEsc(compName(it)), CategoryLabel(it.Category),
				mdEsc(it.Region), it.Score, prevText(it.PrevScore), deltaPlain(it.New, it.PrevScore, it.Delta), ttsr(it))
		}
		p("\n")
	}
	p("## 3. Single-source exposures by category\n\n| Category | This week | Last week |\n|---|---:|---:|\n")
	for _, c := range d.SingleSource {
		p("| %s | %d | %d |\n", c.Label, c.Now, c.Prev)
	}
	p("\n## 4. 卡点 list status\n\n")
	if len(d.ChokeList) == 0 {
		p("No component on the 卡点 list in scope.\n\n")
	} else {
		p("| Component | Category | Score | Change | Status | Exposed enterprises | Domestic alternate |\n|---|---|---:|---:|---|---:|---|\n")
		for _, li := range d.ChokeList {
			alt := "none known"
			if li.DomesticAlternate {
				alt = "yes, in qualification"
			}
			p("| %s (%s) | %s | %.1f | %s | %s | %d | %s |\n", mdEsc(li.Name), li.ComponentID, CategoryLabel(li.Category), li.Score,
				deltaPlain(false, li.PrevScore, li.Delta), li.Status, li.Exposed, alt)
		}
		p("\n")
	}
	p("## 5. Chain-leader (链主) exposure\n\n")
	if len(d.ChainLeaders) == 0 {
		p("No chain-leader enterprise exposure in scope.\n\n")
	} else {
		p("| # | Chain leader | Component | Category | Score | Change | Severity |\n|---:|---|---|---|---:|---:|---|\n")
		for _, it := range d.ChainLeaders {
			p("| %d | %s | %s | %s | %.1f | %s | %s |\n", it.Rank, mdEsc(entName(it)), mdEsc(compName(it)), CategoryLabel(it.Category),
				it.Score, deltaPlain(it.New, it.PrevScore, it.Delta), it.Severity)
		}
		p("\n")
	}
	p("## 6. B计划 alerts\n\nRaised: **%d** (critical %d, warning %d, info %d) · Resolved: **%d**\n\n", d.Alerts.Raised,
		d.Alerts.BySev["critical"], d.Alerts.BySev["warning"], d.Alerts.BySev["info"], d.Alerts.Resolved)
	if d.Alerts.Note != "" {
		p("_%s_\n\n", d.Alerts.Note)
	}
	p("## 7. Data freshness\n\n| Table | Source | Last ingested | Age at end of week | Stale after | Rows | Status |\n|---|---|---|---:|---:|---:|---|\n")
	for _, f := range d.Freshness {
		st := "fresh"
		if f.Stale {
			st = "**stale**"
		}
		p("| %s | %s | %s | %s | %s | %d | %s |\n", f.Table, mdEsc(f.Source), f.LastIngested.In(l).Format("2006-01-02 15:04"),
			ageText(f.AgeHours), ageText(f.StaleAfterHours), f.Rows, st)
	}
	b.WriteString(regionalMarkdown(d))
	p("\n---\nSeverity bands: critical ≥ %.0f, high ≥ %.0f, medium ≥ %.0f. ", d.Severity.Critical, d.Severity.High, d.Severity.Medium)
	for _, r := range d.Runs {
		p("%s: run %s", r.Detector, r.Current)
		if r.Previous != "" {
			p(" vs %s", r.Previous)
		}
		p(". ")
	}
	p("\n")
	return []byte(b.String())
}

func deltaPlain(isNew bool, prev *float64, delta float64) string {
	switch {
	case isNew:
		return "new"
	case prev == nil:
		return "–"
	}
	return fmt.Sprintf("%+.1f", delta)
}

// CSVHeader is the header of the CSV digest: one long table, one row per item of every section.
var CSVHeader = []string{"year", "week", "region", "industry", "section", "rank", "subject_type", "subject", "name",
	"enterprise_id", "component_id", "category", "industry_of_subject", "region_of_subject", "score", "prev_score", "delta",
	"severity", "status", "flags", "value", "prev_value", "note"}

func renderCSV(d *Digest) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	base := []string{strconv.Itoa(d.Week.Year), strconv.Itoa(d.Week.Week), d.Scope.Region, d.Scope.Industry}
	f1 := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	pp := func(p *float64) string {
		if p == nil {
			return ""
		}
		return f1(*p)
	}
	row := func(cols ...string) { _ = w.Write(append(append([]string{}, base...), cols...)) }
	if err := w.Write(CSVHeader); err != nil {
		return nil, err
	}
	s := d.Summary
	for _, kv := range []struct {
		k string
		v float64
	}{{"exposures", float64(s.Exposures)}, {"critical", float64(s.Critical)}, {"high", float64(s.High)}, {"max_score", s.MaxScore},
		{"rising", float64(s.Rising)}, {"new", float64(s.New)}, {"single_source", float64(s.SingleSource)},
		{"chain_leader_exposures", float64(s.ChainLeader)}, {"chokepoint_list_critical", float64(s.ListCritical)},
		{"alerts_raised", float64(d.Alerts.Raised)}, {"alerts_resolved", float64(d.Alerts.Resolved)}, {"stale_sources", float64(s.StaleSources)}} {
		row("summary", "", "", kv.k, "", "", "", "", "", "", "", "", "", "", "", "", strconv.FormatFloat(kv.v, 'f', -1, 64), "", "")
	}
	items := func(section string, its []Item) {
		for _, it := range its {
			status := ""
			if it.New {
				status = "new"
			}
			row(section, strconv.Itoa(it.Rank), it.SubjectType, it.Subject, it.Name, it.EnterpriseID, it.ComponentID, it.Category,
				it.Industry, it.Region, f1(it.Score), pp(it.PrevScore), f1(it.Delta), it.Severity, status, strings.Join(it.Flags, ";"), "", "", "")
		}
	}
	items("chokepoints", d.Chokepoints)
	items("rising", d.Rising)
	for _, c := range d.SingleSource {
		row("single_source", "", "category", c.Category, c.Label, "", "", c.Category, "", "", "", "", "", "", "", "",
			strconv.Itoa(c.Now), strconv.Itoa(c.Prev), "")
	}
	for i, li := range d.ChokeList {
		note := "no domestic alternate known"
		if li.DomesticAlternate {
			note = "domestic alternate in qualification"
		}
		row("chokepoint_list", strconv.Itoa(i+1), "component", li.ComponentID, li.Name, "", li.ComponentID, li.Category, "", "",
			f1(li.Score), pp(li.PrevScore), f1(li.Delta), li.Severity, li.Status, "", strconv.Itoa(li.Exposed), "", note)
	}
	items("chain_leaders", d.ChainLeaders)
	row("alerts", "", "", "raised", "", "", "", "", "", "", "", "", "", "", "", "", strconv.Itoa(d.Alerts.Raised), "", d.Alerts.Note)
	row("alerts", "", "", "resolved", "", "", "", "", "", "", "", "", "", "", "", "", strconv.Itoa(d.Alerts.Resolved), "", d.Alerts.Note)
	for _, f := range d.Freshness {
		st := "fresh"
		if f.Stale {
			st = "stale"
		}
		row("freshness", "", "table", f.Table, f.Source, "", "", "", "", "", "", "", "", "", st, "",
			strconv.FormatFloat(f.AgeHours, 'f', 1, 64), "", "last_ingested="+f.LastIngested.UTC().Format(time.RFC3339))
	}
	w.Flush()
	return b.Bytes(), w.Error()
}
