package chainmap

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
)

// Layout of the SVG, in pixels.
const (
	colW      = 250
	colGap    = 56
	margin    = 24
	titleH    = 64
	itemLineH = 16
	cardH     = 42
	cardGap   = 6
	groupH    = 22
	gapBoxH   = 62
)

// severity colours (stroke, fill); "" is a member without a finding.
var sevStroke = map[string]string{"critical": "#b91c1c", "high": "#ea580c", "medium": "#ca8a04", "low": "#65a30d", "": "#94a3b8"}
var sevFill = map[string]string{"critical": "#fee2e2", "high": "#ffedd5", "medium": "#fef9c3", "low": "#ecfccb", "": "#f1f5f9"}

// statusLabel is how a member's status reads on its card.
var statusLabel = map[string]string{StatusQualified: "合格 qualified", StatusInProgress: "验证中 in qualification", StatusAlternate: "替代 alternate"}

func esc(s string) string { return html.EscapeString(s) }

// textWidth estimates the rendered width of s at font size fs (CJK full width, Latin ~0.56 em).
func textWidth(s string, fs float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case r >= 0x2E80:
			w += fs
		case r >= 'A' && r <= 'Z' || r == 'W' || r == 'M':
			w += 0.66 * fs
		default:
			w += 0.52 * fs
		}
	}
	return w
}

// fit cuts s with "…" so that it is at most width pixels wide at font size fs.
func fit(s string, fs, width float64) string {
	if textWidth(s, fs) <= width {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 && textWidth(string(rs)+"…", fs) > width {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
}

type svgWriter struct{ b bytes.Buffer }

func (w *svgWriter) f(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// text writes an escaped, fitted text element with the full text as its tooltip when cut.
func (w *svgWriter) text(x, y int, fs float64, width float64, attrs, s string) {
	t := fit(s, fs, width)
	title := ""
	if t != s {
		title = "<title>" + esc(s) + "</title>"
	}
	w.f(`<text x="%d" y="%d" font-size="%s" %s>%s%s</text>`, x, y, strconv.FormatFloat(fs, 'f', -1, 64), attrs, title, esc(t))
}

func headerHeight(m Map) int {
	n := 1
	for _, c := range m.Links {
		n = max(n, len(c.Items))
	}
	return 34 + n*itemLineH + 8
}

func columnHeight(c Column) int {
	h := len(c.Gaps) * (gapBoxH + cardGap)
	for _, g := range c.Groups {
		h += groupH + len(g.Members)*(cardH+cardGap)
	}
	return h
}

// SVG renders the map: one column per link, upstream on the left. Every name is escaped.
func SVG(m Map) []byte {
	hh := headerHeight(m)
	body := 0
	for _, c := range m.Links {
		body = max(body, columnHeight(c))
	}
	width := 2*margin + max(len(m.Links), 1)*colW + max(len(m.Links)-1, 0)*colGap
	height := titleH + hh + 20 + body + margin
	w := &svgWriter{}
	w.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="'Noto Sans CJK SC','Noto Sans SC','WenQuanYi Micro Hei',sans-serif" role="img">`, width, height, width, height)
	w.f(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>`)
	w.f(`<rect width="%d" height="%d" fill="#ffffff"/>`, width, height)
	w.text(margin, 30, 18, float64(width-2*margin), `font-weight="700" fill="#0f172a" class="chain-name"`, m.Chain.Name)
	sub := fmt.Sprintf("%d 环节 links · upstream → downstream · %d 缺口 gaps", len(m.Links), len(m.Gaps))
	if m.Region != "" {
		sub += " · 区域 region: " + m.Region
	}
	w.text(margin, 52, 12, float64(width-2*margin), `fill="#475569"`, sub)
	for i, c := range m.Links {
		x := margin + i*(colW+colGap)
		if i > 0 {
			w.f(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#475569" stroke-width="2" marker-end="url(#arrow)"/>`, x-colGap+4, titleH+hh/2, x-4, titleH+hh/2)
		}
		writeColumn(w, c, x, hh)
	}
	w.f(`</svg>`)
	return w.b.Bytes()
}

// writeColumn draws one link: its header (name, items), its gaps, then its members by place.
func writeColumn(w *svgWriter, c Column, x, hh int) {
	w.f(`<g class="link" data-link="%s">`, esc(c.ID))
	w.f(`<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="%s" stroke="%s" stroke-width="2"/>`, x, titleH, colW, hh, sevFill[c.Severity], sevStroke[c.Severity])
	w.text(x+10, titleH+20, 13, colW-20, `font-weight="700" fill="#0f172a"`, fmt.Sprintf("%d. %s", c.Position, c.Name))
	for j, it := range c.Items {
		label := it.Name
		if it.Chokepoint {
			label = "卡点 " + label
		}
		fill := "#334155"
		if !it.Known {
			fill, label = "#94a3b8", label+" (not in map)"
		}
		w.text(x+12, titleH+38+j*itemLineH, 11, colW-24, `fill="`+fill+`"`, label)
	}
	y := titleH + hh + 20
	for _, g := range c.Gaps {
		w.f(`<g class="gap" data-kind="%s"><rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="#fff1f2" stroke="#dc2626" stroke-width="2" stroke-dasharray="6 4"/>`, esc(g.Kind), x, y, colW, gapBoxH)
		zh, en, _ := strings.Cut(g.Message, " · ")
		w.text(x+10, y+18, 12, colW-20, `font-weight="700" fill="#dc2626"`, "GAP 缺口 · "+zh)
		w.text(x+10, y+34, 10.5, colW-20, `fill="#dc2626"`, en)
		cand := "无候选 no candidate"
		if len(g.Candidates) > 0 {
			cand = "候选 candidates: " + strings.Join(g.Candidates, ", ")
		}
		w.text(x+10, y+52, 10.5, colW-20, `fill="#7f1d1d"`, cand)
		w.f(`</g>`)
		y += gapBoxH + cardGap
	}
	for _, g := range c.Groups {
		w.text(x+2, y+15, 11, colW-4, `font-weight="700" fill="#1e293b" class="group"`, groupLabel(g))
		y += groupH
		for _, m := range g.Members {
			writeCard(w, m, x, y)
			y += cardH + cardGap
		}
	}
	w.f(`</g>`)
}

func groupLabel(g Group) string {
	switch {
	case g.InRegion:
		return "◆ " + g.Label + " (区域内 in region)"
	case g.Domestic:
		return "● " + g.Label + " (国内 domestic)"
	default:
		return "○ " + g.Label + " (境外 foreign)"
	}
}

func writeCard(w *svgWriter, m Member, x, y int) {
	dash := ""
	switch m.Status {
	case StatusInProgress:
		dash = ` stroke-dasharray="6 3"`
	case StatusAlternate:
		dash = ` stroke-dasharray="2 3"`
	}
	fill := sevFill[m.Severity]
	if m.Status != StatusQualified {
		fill = "#ffffff"
	}
	w.f(`<g class="member" data-id="%s" data-status="%s" data-severity="%s">`, esc(m.ID), esc(m.Status), esc(m.Severity))
	w.f(`<rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s" stroke="%s" stroke-width="1.5"%s/>`, x+8, y, colW-8, cardH, fill, sevStroke[m.Severity], dash)
	w.f(`<rect x="%d" y="%d" width="6" height="%d" rx="2" fill="%s"/>`, x+8, y, cardH, sevStroke[m.Severity])
	name := m.Name
	if m.ChainLeader {
		name = "链主 " + name
	}
	w.text(x+20, y+17, 12, colW-30, `font-weight="600" fill="#0f172a"`, name)
	w.text(x+20, y+33, 10.5, colW-30, `fill="#475569"`, cardDetail(m))
	w.f(`</g>`)
}

func cardDetail(m Member) string {
	parts := []string{statusLabel[m.Status]}
	if m.Share > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%%", 100*m.Share))
	}
	if m.QualificationDays != nil && m.Status != StatusQualified {
		parts = append(parts, fmt.Sprintf("%.0f d", *m.QualificationDays))
	}
	if m.Score != nil {
		parts = append(parts, fmt.Sprintf("暴露 %.0f %s", *m.Score, m.Severity))
	}
	parts = append(parts, m.Tags...)
	return strings.Join(parts, " · ")
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8"/>
<title>{{.Map.Chain.Name}} · 产业链图谱 chain map</title>
<style>
body{font-family:"Noto Sans CJK SC","Noto Sans SC","WenQuanYi Micro Hei",sans-serif;margin:16px;color:#0f172a;background:#fff}
h1{font-size:20px;margin:0 0 4px} p.sub{color:#475569;margin:0 0 12px;font-size:13px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;margin:0 0 12px;align-items:center}
.sw{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:middle;margin-right:4px;border:2px solid}
.map{overflow-x:auto} table{border-collapse:collapse;font-size:13px;margin-top:12px} td,th{border:1px solid #cbd5e1;padding:4px 8px;text-align:left}
th{background:#f1f5f9} td.gap{color:#dc2626;font-weight:600}
</style>
</head>
<body>
<h1 id="chain-name">{{.Map.Chain.Name}}</h1>
<p class="sub">产业链图谱 · chain map <code>{{.Map.Chain.ID}}</code>{{with .Map.Chain.Industry}} · {{.}}{{end}}{{with .Map.Region}} · 区域 region: {{.}}{{end}} · <span id="gap-count">{{len .Map.Gaps}}</span> 缺口 gaps</p>
<div class="legend" id="legend">
<span>暴露 exposure:</span>
{{range .Legend}}<span><span class="sw" style="background:{{.Fill}};border-color:{{.Stroke}}"></span>{{.Label}}</span>
{{end}}<span><span class="sw" style="background:#fff;border-color:#475569;border-style:dashed"></span>验证中 in qualification</span>
<span><span class="sw" style="background:#fff;border-color:#475569;border-style:dotted"></span>替代清单 alternate</span>
<span><span class="sw" style="background:#fff1f2;border-color:#dc2626;border-style:dashed"></span>GAP 缺口</span>
<span>◆ 区域内 in region · ● 国内 domestic · ○ 境外 foreign · 卡点 chokepoint item</span>
</div>
<div class="map">{{.SVG}}</div>
{{if .Map.Gaps}}<table id="gaps"><tr><th>环节 link</th><th>缺口 gap</th><th>候选 candidates</th></tr>
{{range .Map.Gaps}}<tr><td>{{.LinkName}}</td><td class="gap">{{.Message}}</td><td>{{range $i, $c := .Candidates}}{{if $i}}, {{end}}{{$c}}{{end}}</td></tr>
{{end}}</table>{{end}}
</body>
</html>
`))

type legendEntry struct{ Label, Fill, Stroke string }

// HTML renders the map as a standalone page: the SVG, a legend and the list of gaps.
func HTML(m Map) ([]byte, error) {
	var legend []legendEntry
	for _, s := range []string{"critical", "high", "medium", "low", ""} {
		label := s
		if s == "" {
			label = "无发现 no finding"
		}
		legend = append(legend, legendEntry{label, sevFill[s], sevStroke[s]})
	}
	var b bytes.Buffer
	// The SVG is built with every data value escaped (esc), so it is safe to embed as is.
	err := pageTmpl.Execute(&b, struct {
		Map    Map
		SVG    template.HTML
		Legend []legendEntry
	}{m, template.HTML(SVG(m)), legend}) //nolint:gosec // SVG escapes every value it writes
	if err != nil {
		return nil, fmt.Errorf("render chain map: %w", err)
	}
	return b.Bytes(), nil
}
