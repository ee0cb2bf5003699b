package alerts

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"unicode/utf8"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/i18n"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

type templates struct {
	text *texttemplate.Template
	md   *texttemplate.Template
	html *htmltemplate.Template
}

// parsedTemplates parses the embedded templates once; they are immutable afterwards.
var parsedTemplates = sync.OnceValues(func() (*templates, error) {
	funcs := map[string]any{"join": strings.Join}
	t := &templates{}
	var err error
	if t.text, err = texttemplate.New("email.txt.tmpl").Funcs(funcs).ParseFS(templateFS, "templates/email.txt.tmpl"); err != nil {
		return nil, fmt.Errorf("alerts: parse text template: %w", err)
	}
	if t.md, err = texttemplate.New("robot.md.tmpl").Funcs(funcs).ParseFS(templateFS, "templates/robot.md.tmpl"); err != nil {
		return nil, fmt.Errorf("alerts: parse markdown template: %w", err)
	}
	if t.html, err = htmltemplate.New("email.html.tmpl").Funcs(funcs).ParseFS(templateFS, "templates/email.html.tmpl"); err != nil {
		return nil, fmt.Errorf("alerts: parse html template: %w", err)
	}
	return t, nil
})

// Message is one group notification: firing alerts (most severe first) and resolved ones.
type Message struct {
	Info     GroupInfo
	Firing   []*Alert
	Resolved []*Alert
}

// NewMessage splits alerts into firing and resolved, most severe and highest score first.
func NewMessage(info GroupInfo, alerts []*Alert) *Message {
	m := &Message{Info: info}
	for _, a := range alerts {
		if a.Resolved() {
			m.Resolved = append(m.Resolved, a)
		} else {
			m.Firing = append(m.Firing, a)
		}
	}
	SortAlerts(m.Firing)
	SortAlerts(m.Resolved)
	if m.Info.EnterpriseID == "" && len(alerts) > 0 {
		m.Info.EnterpriseID = alerts[0].EnterpriseID
		m.Info.EnterpriseName = alerts[0].EnterpriseName
	}
	return m
}

// SortAlerts orders by severity (desc), score (desc), component.
func SortAlerts(as []*Alert) {
	sort.SliceStable(as, func(i, j int) bool {
		a, b := as[i], as[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.EnterpriseID != b.EnterpriseID {
			return a.EnterpriseID < b.EnterpriseID
		}
		return a.ComponentID < b.ComponentID
	})
}

// Status is "firing" when anything fires, else "resolved".
func (m *Message) Status() Status {
	if len(m.Firing) > 0 {
		return StatusFiring
	}
	return StatusResolved
}

// MaxSeverity is the highest severity among firing alerts.
func (m *Message) MaxSeverity() Severity {
	s := SeverityNone
	for _, a := range m.Firing {
		if a.Severity > s {
			s = a.Severity
		}
	}
	return s
}

// Rendered is a message in every format.
type Rendered struct {
	Subject  string // one line, no prefix
	Title    string // short title for robots
	Text     string // text/plain body
	HTML     string // text/html body
	Markdown string // robot markdown
}

// Render renders the message in lang (zh-CN or en) in every format. Only the first
// Info.MaxAlerts firing alerts are rendered in full (all when 0).
func Render(m *Message, lang string) (*Rendered, error) {
	t, err := parsedTemplates()
	if err != nil {
		return nil, err
	}
	n := m.Info.MaxAlerts
	if n <= 0 {
		n = len(m.Firing)
	}
	v := newView(m, NormalizeLang(lang), n)
	out := &Rendered{Subject: v.Subject, Title: v.Title}
	var b bytes.Buffer
	if err := t.text.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("alerts: render text: %w", err)
	}
	out.Text = b.String()
	b.Reset()
	if err := t.html.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("alerts: render html: %w", err)
	}
	out.HTML = b.String()
	b.Reset()
	if err := t.md.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("alerts: render markdown: %w", err)
	}
	out.Markdown = b.String()
	return out, nil
}

// RenderMarkdown renders robot markdown of at most maxBytes bytes (0: no limit), showing as
// many alerts in full as fit and counting the rest.
func RenderMarkdown(m *Message, lang string, maxBytes int) (title, md string, err error) {
	return renderLimited(m, lang, maxBytes, func(t *templates, v *view) (string, error) {
		var b bytes.Buffer
		err := t.md.Execute(&b, v)
		return b.String(), err
	})
}

// RenderText renders the plain-text body in at most maxBytes bytes (0: no limit).
func RenderText(m *Message, lang string, maxBytes int) (title, text string, err error) {
	return renderLimited(m, lang, maxBytes, func(t *templates, v *view) (string, error) {
		var b bytes.Buffer
		err := t.text.Execute(&b, v)
		return b.String(), err
	})
}

func renderLimited(m *Message, lang string, maxBytes int, exec func(*templates, *view) (string, error)) (string, string, error) {
	t, err := parsedTemplates()
	if err != nil {
		return "", "", err
	}
	lang = NormalizeLang(lang)
	n := m.Info.MaxAlerts
	if n <= 0 || n > len(m.Firing) {
		n = len(m.Firing)
	}
	for {
		v := newView(m, lang, max(n, 0))
		if n == 0 {
			v.ShowNone = true
		}
		s, err := exec(t, v)
		if err != nil {
			return "", "", fmt.Errorf("alerts: render: %w", err)
		}
		if maxBytes <= 0 || len(s) <= maxBytes {
			return v.Title, s, nil
		}
		if n == 0 {
			return v.Title, truncateUTF8(s, maxBytes), nil
		}
		n--
	}
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	n -= len(ell)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:max(n, 0)] + ell
}

// view is the language-resolved model the templates lay out.
type view struct {
	Lang        string
	L           map[string]string
	Subject     string
	Title       string
	Summary     string
	Enterprise  string
	Firing      []alertView
	Resolved    []string
	More        string
	Footer      string
	ExternalURL string
	Generated   string
	ShowNone    bool
}

type alertView struct {
	SevKey     string
	SevLabel   string
	Header     string
	Enterprise string
	Products   string
	Why        []string
	TTS        string
	AltTitle   string
	Alternates []string
	Actions    []string
	Flags      string
	Since      string
	URL        string
}

func newView(m *Message, lang string, maxFull int) *view {
	T := func(k string, args ...any) string {
		if len(args) == 0 {
			return tr(lang, k)
		}
		return fmt.Sprintf(tr(lang, k), args...)
	}
	loc := location(lang)
	ent := enterpriseLabel(lang, m.Info.EnterpriseID, m.Info.EnterpriseName)
	v := &view{
		Lang:        lang,
		L:           catalog[lang],
		Enterprise:  ent,
		ExternalURL: m.Info.ExternalURL,
	}
	if !m.Info.Now.IsZero() {
		v.Generated = T("generated", m.Info.Now.In(loc).Format("2006-01-02 15:04 MST"))
	}
	// Summary and subject.
	counts := map[Severity]int{}
	for _, a := range m.Firing {
		counts[a.Severity]++
	}
	var parts []string
	if len(m.Firing) > 0 {
		var sevs []string
		for _, s := range []Severity{SeverityCritical, SeverityWarning, SeverityInfo} {
			if counts[s] > 0 {
				sevs = append(sevs, T("count.sev", counts[s], strings.ToLower(T("sev."+s.String()))))
			}
		}
		parts = append(parts, T("summary.firing", len(m.Firing), strings.Join(sevs, T("summary.sep"))))
	}
	if len(m.Resolved) > 0 {
		parts = append(parts, T("summary.resolved", len(m.Resolved)))
	}
	v.Summary = strings.Join(parts, T("summary.sep"))
	if len(m.Firing) > 0 {
		top := m.Firing[0].ComponentID
		what := T("subject.one", top)
		if len(m.Firing) > 1 {
			what = T("subject.more", top, len(m.Firing)-1)
		}
		v.Subject = T("subject.firing", T("sev."+m.MaxSeverity().String()), ent, what)
	} else {
		v.Subject = T("subject.resolved", T("sev.resolved"), ent, len(m.Resolved))
	}
	v.Title = T("title") + " · " + ent
	if m.Info.ExternalURL != "" {
		v.Footer = T("footer", m.Info.ExternalURL, m.Info.ExternalURL)
	}

	full := m.Firing
	if maxFull >= 0 && maxFull < len(full) {
		full = full[:maxFull]
	}
	for _, a := range full {
		v.Firing = append(v.Firing, alertViewOf(a, lang, T))
	}
	if rest := len(m.Firing) - len(full); rest > 0 {
		if m.Info.ExternalURL != "" {
			v.More = T("more", rest, m.Info.ExternalURL+"/api/v1/alerts?enterprise="+url.QueryEscape(m.Info.EnterpriseID))
		} else {
			v.More = T("more.noURL", rest)
		}
	}
	for _, a := range m.Resolved {
		at := a.EndsAt
		v.Resolved = append(v.Resolved, T("resolved.line", a.ComponentID, strings.ToLower(T("sev."+a.Severity.String())),
			num(a.Score), T("resolved.at", at.In(loc).Format("2006-01-02 15:04 MST"))))
	}
	return v
}

func enterpriseLabel(lang, id, name string) string {
	if name == "" || name == id {
		return id
	}
	if lang == LangZH {
		return name + "（" + id + "）"
	}
	return name + " (" + id + ")"
}

func alertViewOf(a *Alert, lang string, T func(string, ...any) string) alertView {
	av := alertView{
		SevKey:     a.Severity.String(),
		SevLabel:   T("sev." + a.Severity.String()),
		Enterprise: enterpriseLabel(lang, a.EnterpriseID, a.EnterpriseName),
		URL:        a.GeneratorURL,
	}
	comp := a.ComponentID
	if a.SubjectName != "" && a.SubjectName != a.ComponentID && a.SubjectName != a.Subject {
		comp += " (" + a.SubjectName + ")"
	}
	h := T("header", av.SevLabel, comp)
	if a.Category != "" {
		h += T("header.category", i18n.CategoryName(a.Category, lang))
	}
	h += T("header.score", num(a.Score))
	if a.PrevScore != nil {
		d := a.Score - *a.PrevScore
		if math.Abs(d) >= 0.01 {
			s := num(d)
			if d > 0 {
				s = "+" + s
			}
			h += T("header.delta", s)
		}
	}
	av.Header = h
	if len(a.Products) > 0 {
		av.Products = strings.Join(a.Products, T("list.sep"))
	}
	for _, t := range a.TopTerms {
		line := T("term", t.Name, num(t.Value), num(t.Weight), pct(t.Share))
		if t.Detail != "" {
			line += " — " + t.Detail
		}
		av.Why = append(av.Why, line)
	}
	switch {
	case a.TTSDays != nil && a.TTRDays != nil && a.GapDays > 0:
		av.TTS = T("tts.gap", days(*a.TTSDays), days(*a.TTRDays), days(a.GapDays))
	case a.TTSDays != nil && a.TTRDays != nil:
		av.TTS = T("tts.ok", days(*a.TTSDays), days(*a.TTRDays))
	case a.TTSDays != nil:
		av.TTS = T("tts.only", days(*a.TTSDays))
	case a.TTRDays != nil:
		av.TTS = T("ttr.only", days(*a.TTRDays))
	}
	anyDomestic := false
	for _, alt := range a.Alternates {
		anyDomestic = anyDomestic || alt.Domestic
	}
	switch {
	case len(a.Alternates) == 0:
		av.AltTitle = T("alternates.none")
	case anyDomestic:
		av.AltTitle = T("alternates.dom")
	default:
		av.AltTitle = T("alternates")
	}
	for i, alt := range a.Alternates {
		origin := T("alt.foreign")
		if alt.Domestic {
			origin = T("alt.domestic")
		}
		if alt.Country != "" {
			origin = alt.Country + T("alt.sep") + origin
		}
		if alt.Region != "" {
			origin += T("alt.sep") + alt.Region
		}
		line := strconv.Itoa(i+1) + ". " + T("alt.line", altLabel(alt), origin, days(alt.QualificationDays), hhi(alt.HHIAfter))
		line += rankReasons(alt, T)
		if alt.Notes != "" {
			line += " — " + alt.Notes
		}
		av.Alternates = append(av.Alternates, line)
	}
	for _, act := range a.Actions {
		av.Actions = append(av.Actions, actionText(act, a, T))
	}
	if len(a.Flags) > 0 {
		av.Flags = strings.Join(i18n.DisplayAll(i18n.KindFlag, a.Flags, lang), T("list.sep"))
	}
	since := T("since", a.StartsAt.In(location(lang)).Format("2006-01-02 15:04 MST"))
	av.Since = since + " · " + T("fingerprint", a.Fingerprint)
	return av
}

func actionText(act Action, a *Alert, T func(string, ...any) string) string {
	switch act.Kind {
	case ActionQualifyAlternate:
		s := T("act.qualify", altLabel(*act.Alternate), days(act.Days))
		if act.ExceedsTTS && a.TTSDays != nil {
			s += T("act.qualify.late", days(*a.TTSDays))
		}
		return s
	case ActionSafetyStock:
		if act.Units > 0 {
			return T("act.stock", strconv.FormatFloat(act.Units, 'f', 0, 64), days(act.GapDays), num(act.ConsumptionPerDay))
		}
		return T("act.stock.nocpd", days(act.GapDays))
	case ActionSplitVolume:
		return T("act.split", pct(act.Share), altLabel(*act.Alternate), hhi(act.HHIAfter))
	case ActionFindAlternate:
		return T("act.find", a.ComponentID)
	}
	return act.Kind
}

// rankReasons explains an alternate's rank (detectors.Alternate.Reasons): " · ranked for: domestic,
// same region group 京津冀, SME 专精特新/小巨人"; "" when it has none.
func rankReasons(alt detectors.Alternate, T func(string, ...any) string) string {
	var rs []string
	for _, r := range alt.Reasons {
		switch r {
		case detectors.ReasonDomestic:
			rs = append(rs, T("alt.r.domestic"))
		case detectors.ReasonSameRegionGroup:
			rs = append(rs, T("alt.r.group", alt.RegionGroup))
		case detectors.ReasonSMETag:
			rs = append(rs, T("alt.r.tags", strings.Join(alt.Tags, "/")))
		}
	}
	if len(rs) == 0 {
		return ""
	}
	return T("alt.rank", strings.Join(rs, T("list.sep")))
}

// altLabel names an alternate: supplier / component.
func altLabel(alt detectors.Alternate) string {
	switch {
	case alt.SupplierID != "" && alt.ComponentID != "":
		return alt.SupplierID + " / " + alt.ComponentID
	case alt.SupplierID != "":
		return alt.SupplierID
	case alt.ComponentID != "":
		return alt.ComponentID
	}
	return "?"
}

// num prints up to two decimals without trailing zeros.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// days prints up to one decimal.
func days(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func pct(share float64) string { return strconv.FormatFloat(math.Round(share*100), 'f', 0, 64) + "%" }

// hhi prints an HHI on the 0..1 scale with two decimals, on the 0..10000 scale as an integer.
func hhi(v float64) string {
	if v <= 1 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
