package chainmap

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// wellFormed fails unless b parses as XML from start to end.
func wellFormed(t *testing.T, what string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	for {
		if _, err := dec.Token(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("%s is not well-formed XML: %v\n%s", what, err, b)
		}
	}
}

func TestSVG(t *testing.T) {
	chain, d := toy()
	n := d.Nodes["S-DE"]
	n.Name = `Evil "</text><script>alert(1)</script>' & Co`
	d.Nodes["S-DE"] = n
	chain.Name = "Toy <chain>"
	m := Build(chain, d, Options{Home: "CHN", Region: "Beijing", Severity: sev})
	svg := SVG(m)
	wellFormed(t, "SVG", svg)
	s := string(svg)
	for _, bad := range []string{"<script", "<chain>", `"</text>`} {
		if strings.Contains(s, bad) {
			t.Errorf("SVG contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"Toy &lt;chain&gt;", "Maker &lt;&amp;&gt; Co", "&lt;/text&gt;&lt;script&gt;", // escaped names
		`class="gap" data-kind="domestic"`, `class="gap" data-kind="region"`, "GAP 缺口 · 无合格国内企业", "no qualified enterprise in Beijing", "Shanghai Alt, Zhejiang Chip",
		`data-id="S-DE" data-status="qualified" data-severity="critical"`, `data-status="alternate"`, `stroke-dasharray="2 3"`,
		`marker-end="url(#arrow)"`, "卡点 Gallium", "X-MISSING (not in map)", "1. Material", "3. End product",
		"链主 Maker", "◆ CHN · Beijing (区域内 in region)", "○ DEU (境外 foreign)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if got := strings.Count(s, `class="link"`); got != 3 {
		t.Errorf("%d link columns, want 3", got)
	}
	if got := strings.Count(s, `marker-end=`); got != 2 {
		t.Errorf("%d arrows, want 2", got)
	}
}

func TestHTML(t *testing.T) {
	chain, d := toy()
	m := Build(chain, d, Options{Home: "CHN", Severity: sev})
	b, err := HTML(m)
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, "HTML", bytes.Replace(b, []byte("<!DOCTYPE html>"), nil, 1))
	s := string(b)
	for _, want := range []string{`<html lang="zh-CN">`, `id="legend"`, "critical", "无发现 no finding", "替代清单 alternate", "<svg", `<table id="gaps">`,
		"<td>Chip</td>", `<span id="gap-count">1</span>`} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		in    string
		width float64
		want  string
	}{
		{"short", 100, "short"},
		{"华东新能源汽车集团 East China NEV Group", 120, "华东新能源汽车集团…"},
		{"abcdefghij", 30, "abc…"},
		{"", 10, ""},
	}
	for _, tc := range tests {
		if got := fit(tc.in, 12, tc.width); got != tc.want {
			t.Errorf("fit(%q, %g) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}
