package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/chainwatch/chainwatch/internal/i18n"
)

// Hand-written inline SVG charts: no scripts, no external resources, readable in print and in
// e-mail clients that render SVG; every chart has a <title> and the same figures are in a table.

// SeverityColor maps a severity band to its colour.
func SeverityColor(sev string) string {
	switch sev {
	case "critical":
		return "#b91c1c"
	case "high":
		return "#ea580c"
	case "medium":
		return "#ca8a04"
	default:
		return "#4d7c0f"
	}
}

// svgFont names CJK-capable families first (the labels are Chinese in the zh-CN digest and enterprise
// names may be Chinese in both): Noto Sans CJK SC / Source Han Sans SC (fonts-noto-cjk), PingFang SC,
// Microsoft YaHei, WenQuanYi Micro Hei (fonts-wqy-microhei), then Latin fallbacks.
const svgFont = `font-family="'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"`

func esc(s string) string { return html.EscapeString(s) }

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// scoreBars draws one horizontal bar per item on a 0..100 axis, coloured by severity, with a
// black tick at last week's score.
func scoreBars(lang, title string, items []Item, width int) template.HTML {
	if len(items) == 0 {
		return ""
	}
	const rowH, top, labelW, valueW = 24, 28, 300, 96
	plotW := float64(width - labelW - valueW)
	h := top + rowH*len(items) + 22
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		width, h, width, h, svgFont)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	for _, g := range []float64{0, 25, 50, 75, 100} {
		x := float64(labelW) + plotW*g/100
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e7eb"/>`, x, top-6, x, h-20)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#6b7280" font-size="10">%.0f</text>`, x, h-6, g)
	}
	fmt.Fprintf(&b, `<text x="%d" y="14" fill="#374151" font-size="11">%s</text>`, labelW, esc(tr(lang, "axis.score")))
	for i, it := range items {
		y := top + i*rowH
		label := it.Name
		if label == "" {
			label = it.Subject
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#111827">%s</text>`, labelW-8, y+13, esc(trunc(label, 44)))
		w := plotW * math.Max(0, math.Min(100, it.Score)) / 100
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s: %.1f</title></rect>`,
			labelW, y+2, w, rowH-8, SeverityColor(it.Severity), esc(label), it.Score)
		if it.PrevScore != nil {
			px := float64(labelW) + plotW*math.Max(0, math.Min(100, *it.PrevScore))/100
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="3" height="%d" fill="#111827"/>`, px-1.5, y, rowH-4)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#111827">%.1f %s</text>`, float64(labelW)+plotW+6, y+13, it.Score, esc(deltaText(lang, it)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func deltaText(lang string, it Item) string {
	switch {
	case it.New:
		return tr(lang, "new")
	case it.PrevScore == nil:
		return ""
	case it.Delta >= 0.05:
		return fmt.Sprintf("▲%.1f", it.Delta)
	case it.Delta <= -0.05:
		return fmt.Sprintf("▼%.1f", -it.Delta)
	}
	return "="
}

// dumbbell draws last week → this week for rising exposures (a hollow dot for last week, a filled
// dot for this week; new exposures have only the filled dot).
func dumbbell(lang, title string, items []Item, width int) template.HTML {
	if len(items) == 0 {
		return ""
	}
	const rowH, top, labelW, valueW = 24, 28, 340, 96
	plotW := float64(width - labelW - valueW)
	h := top + rowH*len(items) + 22
	xOf := func(s float64) float64 { return float64(labelW) + plotW*math.Max(0, math.Min(100, s))/100 }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		width, h, width, h, svgFont)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	for _, g := range []float64{0, 25, 50, 75, 100} {
		x := xOf(g)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e7eb"/>`, x, top-6, x, h-20)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#6b7280" font-size="10">%.0f</text>`, x, h-6, g)
	}
	fmt.Fprintf(&b, `<text x="%d" y="14" fill="#374151" font-size="11">%s</text>`, labelW, esc(tr(lang, "axis.dumbbell")))
	for i, it := range items {
		y := top + i*rowH + rowH/2 - 2
		label := it.Name
		if label == "" {
			label = it.Subject
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#111827">%s</text>`, labelW-8, y+4, esc(trunc(label, 52)))
		col := SeverityColor(it.Severity)
		x1 := xOf(it.Score)
		if it.PrevScore != nil {
			x0 := xOf(*it.PrevScore)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="3"/>`, x0, y, x1, y, col)
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="5" fill="#ffffff" stroke="%s" stroke-width="2"/>`, x0, y, col)
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="6" fill="%s"><title>%s: %.1f</title></circle>`, x1, y, col, esc(label), it.Score)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#111827">%.1f %s</text>`, float64(labelW)+plotW+8, y+4, it.Score, esc(deltaText(lang, it)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// groupedBars draws last week and this week side by side per category.
func groupedBars(lang, title string, cs []CategoryCount, width int) template.HTML {
	if len(cs) == 0 {
		return ""
	}
	const h, top, bottom, left = 230, 30, 46, 36
	maxV := 1
	for _, c := range cs {
		maxV = max(maxV, c.Now, c.Prev)
	}
	step := niceStep(maxV)
	axisMax := int(math.Ceil(float64(maxV)/float64(step))) * step
	plotH := float64(h - top - bottom)
	groupW := float64(width-left-10) / float64(len(cs))
	barW := math.Min(34, groupW/3)
	yOf := func(v int) float64 { return float64(top) + plotH*(1-float64(v)/float64(axisMax)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		width, h, width, h, svgFont)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	for v := 0; v <= axisMax; v += step {
		y := yOf(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e7eb"/>`, left, y, width-10, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#6b7280" font-size="10">%d</text>`, left-6, y+3, v)
	}
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="#cbd5e1"/><text x="%d" y="15" fill="#374151" font-size="11">%s</text>`,
		left, left+14, esc(tr(lang, "legend.last")))
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="#1d4ed8"/><text x="%d" y="15" fill="#374151" font-size="11">%s</text>`,
		left+80, left+94, esc(tr(lang, "legend.this")))
	for i, c := range cs {
		label := i18n.CategoryName(c.Category, lang)
		gx := float64(left) + groupW*float64(i) + groupW/2
		for j, v := range []int{c.Prev, c.Now} {
			x := gx - barW - 2 + float64(j)*(barW+4)
			y := yOf(v)
			fill := "#cbd5e1"
			if j == 1 {
				fill = "#1d4ed8"
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d</title></rect>`,
				x, y, barW, float64(top)+plotH-y, fill, esc(label), v)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#111827" font-size="11">%d</text>`, x+barW/2, y-4, v)
		}
		first, second, _ := strings.Cut(label, " ")
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#111827">%s</text>`, gx, h-bottom+16, esc(first))
		if second != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#111827">%s</text>`, gx, h-bottom+30, esc(second))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func niceStep(maxV int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000} {
		if maxV/s <= 6 {
			return s
		}
	}
	return int(math.Pow(10, math.Ceil(math.Log10(float64(maxV)/6))))
}
