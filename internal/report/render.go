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

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/i18n"
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
	lang := d.lang()
	return template.FuncMap{
		"t":     func(key string) string { return tr(lang, key) },
		"tf":    func(key string, args ...any) string { return trf(lang, key, args...) },
		"num0":  func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) },
		"num1":  func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
		"prev":  prevText,
		"delta": func(it Item) template.HTML { return deltaHTML(lang, it.New, it.PrevScore, it.Delta) },
		"listdelta": func(li ListItem) template.HTML {
			return deltaHTML(lang, false, li.PrevScore, li.Delta)
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
		"cat":      func(id string) string { return i18n.CategoryName(id, lang) },
		"industry": func(id string) string { return i18n.IndustryName(id, lang) },
		"region":   func(r string) string { return regionName(r, lang) },
		"sev":      func(id string) string { return i18n.SeverityName(id, lang) },
		"status":   func(id string) string { return trOr(lang, "st.", id) },
		"stype":    func(id string) string { return trOr(lang, "type.", id) },
		"flags":    func(fs []string) string { return joinNames(i18n.KindFlag, fs, lang) },
		"blockers": func(bs []string) string { return joinNames(i18n.KindBlocker, bs, lang) },
		"tags":     func(ts []string) string { return joinNames(i18n.KindTag, ts, lang) },
		"route":    func(id string) string { return i18n.Display(i18n.KindRoute, id, lang) },
		"stage":    func(id string) string { return i18n.Display(i18n.KindStage, id, lang) },
		"basis":    func(id string) string { return i18n.Display(i18n.KindBasis, id, lang) },
		"name":     itemName,
		"ent":      entName,
		"comp":     compName,
		"ttsr":     ttsr,
		"when":     func(t time.Time) string { return t.In(loc(d)).Format("2006-01-02 15:04") },
		"age":      func(h float64) string { return ageText(lang, h) },
		"pct":      pctText,
		"pctp":     func(f *float64) string { return pctText(*f) },
		"pts":      func(f float64) string { return trf(lang, "pp", strconv.FormatFloat(100*f, 'f', 1, 64)) },
	}
}

func loc(d *Digest) *time.Location {
	if l, err := time.LoadLocation(d.Timezone); err == nil {
		return l
	}
	return time.UTC
}

// regionName shows a region in lang: in Chinese the normalised province (and city) when it is a
// known one (Jiangsu → 江苏), otherwise as it is in the data.
func regionName(r, lang string) string {
	if lang != i18n.ZH || r == "" {
		return r
	}
	if n := detectors.NormalizeRegion(r); n.Known {
		return n.String()
	}
	return r
}

func pctText(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func prevText(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

func deltaHTML(lang string, isNew bool, prev *float64, delta float64) template.HTML {
	switch {
	case isNew:
		return template.HTML(`<span class="new">` + template.HTMLEscapeString(tr(lang, "new")) + `</span>`)
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

func ageText(lang string, h float64) string {
	switch {
	case h < 1:
		return tr(lang, "age.lt1")
	case h < 48:
		return trf(lang, "age.h", strconv.FormatFloat(h, 'f', 0, 64))
	}
	return trf(lang, "age.d", strconv.FormatFloat(h/24, 'f', 1, 64))
}

// period renders the week's days: "Mon 16 Nov – Sun 22 Nov 2026", "2026年11月16日（周一）至11月22日（周日）".
func period(d *Digest) string {
	l := loc(d)
	from, last := d.From.In(l), d.To.In(l).AddDate(0, 0, -1)
	if d.lang() != i18n.ZH {
		return from.Format("Mon 2 Jan") + " – " + last.Format("Mon 2 Jan 2006")
	}
	wd := func(t time.Time) string { return "周" + string([]rune("日一二三四五六")[t.Weekday()]) }
	return fmt.Sprintf("%d年%d月%d日（%s）至%d月%d日（%s）", from.Year(), from.Month(), from.Day(), wd(from),
		last.Month(), last.Day(), wd(last))
}

func renderHTML(d *Digest) ([]byte, error) {
	t, err := template.New("digest").Funcs(funcs(d)).Parse(htmlTemplate)
	if err != nil {
		return nil, fmt.Errorf("digest template: %w", err)
	}
	l, lang := loc(d), d.lang()
	view := map[string]any{
		"D":           d,
		"Lang":        lang,
		"Scope":       d.Scope.Label(lang),
		"Period":      period(d),
		"Generated":   d.GeneratedAt.In(l).Format("2006-01-02 15:04 MST"),
		"AsOf":        d.AsOf.In(l).Format("2006-01-02 15:04 MST"),
		"Start":       d.From.In(l).Format("2006-01-02 15:04 MST"),
		"RisingMin":   risingMin(d),
		"ChokeChart":  scoreBars(lang, tr(lang, "chart.choke"), d.Chokepoints, 980),
		"RisingChart": dumbbell(lang, tr(lang, "chart.rising"), d.Rising, 980),
		"SingleChart": groupedBars(lang, tr(lang, "chart.single"), d.SingleSource, 520),
	}
	var b bytes.Buffer
	if err := t.Execute(&b, view); err != nil {
		return nil, fmt.Errorf("digest template: %w", err)
	}
	return b.Bytes(), nil
}

func risingMin(d *Digest) float64 { return d.RisingMinDelta }

// mdEsc keeps a data-derived value inside its Markdown table cell or list line.
func mdEsc(s string) string {
	return strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// mdTable writes a Markdown table header: the catalogue keys of the columns; a key ending in ">"
// is right-aligned.
func mdTable(b *strings.Builder, lang string, keys ...string) {
	b.WriteString("|")
	sep := "|"
	for _, k := range keys {
		right := strings.HasSuffix(k, ">")
		b.WriteString(" " + tr(lang, strings.TrimSuffix(k, ">")) + " |")
		if right {
			sep += "---:|"
		} else {
			sep += "---|"
		}
	}
	b.WriteString("\n" + sep + "\n")
}

func renderMarkdown(d *Digest) []byte {
	var b strings.Builder
	lang := d.lang()
	mdHead(&b, d)
	mdExposures(&b, d)
	b.WriteString(regionalMarkdown(d))
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	sv := d.Severity
	p("\n---\n%s ", trf(lang, "md.severity", num0(sv.Critical), num0(sv.High), num0(sv.Medium)))
	for _, r := range d.Runs {
		p("%s", trf(lang, "footer.run", r.Detector, r.Current))
		if r.Previous != "" {
			p("%s", trf(lang, "footer.vs", r.Previous))
		}
		p(". ")
	}
	p("\n")
	return []byte(b.String())
}

func num0(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) }

// mdHead writes the title, the week, the summary table and the notes.
func mdHead(b *strings.Builder, d *Digest) {
	l, lang := loc(d), d.lang()
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("# %s\n\n", mdEsc(d.Title))
	p("%s  \n", trf(lang, "md.week", d.Week, d.From.In(l).Format("2006-01-02"), d.To.In(l).AddDate(0, 0, -1).Format("2006-01-02"),
		d.Timezone, d.Scope.Label(lang)))
	p("%s\n\n", trf(lang, "md.generated", d.GeneratedAt.In(l).Format("2006-01-02 15:04 MST"), d.AsOf.In(l).Format("2006-01-02 15:04 MST")))
	if !d.Complete {
		p("%s\n\n", tr(lang, "md.partial"))
	}
	s := d.Summary
	p("## %s\n\n", tr(lang, "md.summary"))
	mdTable(b, lang, "md.figure", "md.value>")
	row := func(label string, v any) { p("| %s | %v |\n", label, v) }
	row(tr(lang, "md.exposures"), s.Exposures)
	row(trf(lang, "md.critical", num0(d.Severity.Critical)), s.Critical)
	row(tr(lang, "md.high"), s.High)
	row(tr(lang, "md.max"), strconv.FormatFloat(s.MaxScore, 'f', 1, 64))
	row(trf(lang, "md.rising", num0(risingMin(d))), s.Rising)
	row(tr(lang, "md.new"), s.New)
	row(tr(lang, "md.single"), s.SingleSource)
	row(tr(lang, "md.list"), s.ListCritical)
	row(tr(lang, "md.leaders"), s.ChainLeader)
	row(tr(lang, "md.alerts"), fmt.Sprintf("%d / %d", d.Alerts.Raised, d.Alerts.Resolved))
	row(tr(lang, "md.stale"), s.StaleSources)
	p("\n")
	for _, n := range d.Notes {
		p("- %s\n", mdEsc(n))
	}
	if len(d.Notes) > 0 {
		p("\n")
	}
}

// mdExposures writes sections 1 to 7.
func mdExposures(b *strings.Builder, d *Digest) {
	l, lang := loc(d), d.lang()
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	cat := func(id string) string { return mdEsc(i18n.CategoryName(id, lang)) }
	flags := func(fs []string) string { return mdEsc(joinNames(i18n.KindFlag, fs, lang)) }
	sev := func(id string) string { return mdEsc(i18n.SeverityName(id, lang)) }
	dp := func(isNew bool, prev *float64, delta float64) string { return deltaPlain(lang, isNew, prev, delta) }
	p("## %s\n\n", tr(lang, "s.choke"))
	if len(d.Chokepoints) == 0 {
		p("%s\n\n", tr(lang, "none.choke"))
	} else {
		mdTable(b, lang, "th.rank>", "th.chokepoint", "th.type", "th.category", "th.score>", "th.lastweek>", "th.change>", "th.severity", "th.flags")
		for _, it := range d.Chokepoints {
			p("| %d | %s | %s | %s | %.1f | %s | %s | %s | %s |\n", it.Rank, mdEsc(itemName(it)), mdEsc(trOr(lang, "type.", it.SubjectType)),
				cat(it.Category), it.Score, prevText(it.PrevScore), dp(it.New, it.PrevScore, it.Delta), sev(it.Severity), flags(it.Flags))
		}
		p("\n")
	}
	b.WriteString(whatIfMarkdown(d))
	p("## %s\n\n", tr(lang, "s.rising"))
	if len(d.Rising) == 0 {
		p("%s\n\n", trf(lang, "none.rising", num0(risingMin(d))))
	} else {
		mdTable(b, lang, "th.rank>", "th.enterprise", "th.component", "th.category", "th.region", "th.score>", "th.lastweek>", "th.change>", "th.ttsttr>")
		for _, it := range d.Rising {
			p("| %d | %s | %s | %s | %s | %.1f | %s | %s | %s |\n", it.Rank, mdEsc(entName(it)), mdEsc(compName(it)), cat(it.Category),
				mdEsc(regionName(it.Region, lang)), it.Score, prevText(it.PrevScore), dp(it.New, it.PrevScore, it.Delta), ttsr(it))
		}
		p("\n")
	}
	p("## %s\n\n", tr(lang, "s.single"))
	mdTable(b, lang, "th.category", "th.thisweek>", "th.lastweek>")
	for _, c := range d.SingleSource {
		p("| %s | %d | %d |\n", mdEsc(cat(c.Category)), c.Now, c.Prev)
	}
	p("\n## %s\n\n", tr(lang, "s.list"))
	if len(d.ChokeList) == 0 {
		p("%s\n\n", tr(lang, "none.list"))
	} else {
		mdTable(b, lang, "th.component", "th.category", "th.score>", "th.change>", "th.status", "th.exposed>", "th.domalt")
		for _, li := range d.ChokeList {
			alt := tr(lang, "alt.none")
			if li.DomesticAlternate {
				alt = tr(lang, "alt.yes")
			}
			p("| %s (%s) | %s | %.1f | %s | %s | %d | %s |\n", mdEsc(li.Name), mdEsc(li.ComponentID), cat(li.Category), li.Score,
				dp(false, li.PrevScore, li.Delta), mdEsc(trOr(lang, "st.", li.Status)), li.Exposed, alt)
		}
		p("\n")
	}
	p("## %s\n\n", tr(lang, "s.leaders"))
	if len(d.ChainLeaders) == 0 {
		p("%s\n\n", tr(lang, "none.leaders"))
	} else {
		mdTable(b, lang, "th.rank>", "th.leader", "th.component", "th.category", "th.industry", "th.score>", "th.change>", "th.severity")
		for _, it := range d.ChainLeaders {
			p("| %d | %s | %s | %s | %s | %.1f | %s | %s |\n", it.Rank, mdEsc(entName(it)), mdEsc(compName(it)), cat(it.Category),
				mdEsc(i18n.IndustryName(it.Industry, lang)), it.Score, dp(it.New, it.PrevScore, it.Delta), sev(it.Severity))
		}
		p("\n")
	}
	p("## %s\n\n%s\n\n", tr(lang, "s.alerts"), trf(lang, "md.alertsline", d.Alerts.Raised, d.Alerts.BySev["critical"],
		d.Alerts.BySev["warning"], d.Alerts.BySev["info"], d.Alerts.Resolved))
	if d.Alerts.Note != "" {
		p("_%s_\n\n", mdEsc(d.Alerts.Note))
	}
	p("## %s\n\n", tr(lang, "s.fresh"))
	mdTable(b, lang, "th.table", "th.source", "th.ingested", "th.age>", "th.staleafter>", "th.rows>", "th.status")
	for _, f := range d.Freshness {
		st := tr(lang, "fresh")
		if f.Stale {
			st = "**" + tr(lang, "stale") + "**"
		}
		p("| %s | %s | %s | %s | %s | %d | %s |\n", mdEsc(f.Table), mdEsc(f.Source), f.LastIngested.In(l).Format("2006-01-02 15:04"),
			ageText(lang, f.AgeHours), ageText(lang, f.StaleAfterHours), f.Rows, st)
	}
}

func deltaPlain(lang string, isNew bool, prev *float64, delta float64) string {
	switch {
	case isNew:
		return tr(lang, "new")
	case prev == nil:
		return "–"
	}
	return fmt.Sprintf("%+.1f", delta)
}

func renderCSV(d *Digest) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	lang := d.lang()
	base := []string{strconv.Itoa(d.Week.Year), strconv.Itoa(d.Week.Week), d.Scope.Region, d.Scope.Industry}
	f1 := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	pp := func(p *float64) string {
		if p == nil {
			return ""
		}
		return f1(*p)
	}
	row := func(cols ...string) { _ = w.Write(append(append([]string{}, base...), cols...)) }
	if err := w.Write(CSVHeader(lang)); err != nil {
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
		row("single_source", "", "category", c.Category, i18n.CategoryName(c.Category, lang), "", "", c.Category, "", "", "", "", "", "", "", "",
			strconv.Itoa(c.Now), strconv.Itoa(c.Prev), "")
	}
	for i, li := range d.ChokeList {
		note := tr(lang, "alt.none")
		if li.DomesticAlternate {
			note = tr(lang, "alt.yes")
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
