package report

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/detectors/whatif"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/i18n"
	"github.com/chainwatch/chainwatch/schemas"
)

// fullSample is sample() with every optional section: what-if, local sourcing, ledger, demands.
func fullSample(lang string) *Digest {
	d := sample()
	d.Lang = lang
	d.Title = tr(lang, "title")
	d.Rising[0].Region = "Jiangsu"
	d.ChainLeaders = []Item{{Rank: 1, Subject: "E|C", Name: "Suzhou Micro / FPGA", Category: "high_end_chip", Industry: "semiconductors",
		Score: 88, PrevScore: f(80), Delta: 8, Severity: "critical", ChainLeader: true}}
	d.WhatIf = []whatif.ChokepointRun{{Subject: whatif.Subject{Type: "component", ID: "CMP-LITHO"}, Stops: []whatif.Stop{{Enterprise: "Suzhou Micro",
		Product: "MCU", FirstStop: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), DaysStopped: 12.5, Action: "qualify ALT"}}}}
	d.LocalSourcing = []detectors.LocalSourcing{{EnterpriseID: "E", Name: "Suzhou Micro", Region: "江苏", RegionGroup: "长三角",
		Industry: "semiconductors", Components: 4, Suppliers: 6, InRegion: 2, Index: 0.4, PrevIndex: f(0.35), Change: 0.05}}
	d.Ledger = &detectors.Ledger{Progress: []detectors.LedgerProgress{{Year: 2025, Target: 30, Achieved: 1, Share: 1.0 / 30, Due: true},
		{Year: 2030, Target: 100, Achieved: 1, Share: 0.01}},
		Items: []detectors.LedgerStatus{
			{LedgerItem: detectors.LedgerItem{ID: "KD-01", Title: "FPGA <x>", ComponentID: "CMP-FPGA", Owner: "E", Route: detectors.RouteJiebang,
				Stage: "攻关", TargetDate: "2027-12-31"}, OwnerName: "Suzhou Micro", ComponentName: "FPGA", StageIndex: 3,
				Blockers: []string{detectors.BlockerNoDomestic, detectors.BlockerForeignControl}},
			{LedgerItem: detectors.LedgerItem{ID: "KD-02", ComponentID: "CMP-IGBT", Owner: "E", Route: detectors.RouteSaima, Stage: "批量入链",
				TargetDate: "2026-06-30"}, ComponentName: "IGBT", StageIndex: 6, DomesticSupplier: "StarPower", DomesticShare: 0.4, BrokenThrough: true},
		}}
	d.Demands = []detectors.Demand{{ComponentID: "CMP-FPGA", ComponentName: "FPGA", Category: "high_end_chip", Region: "长三角",
		Needs: []string{"no_alternate", "foreign_control"}, Enterprises: 2, ChainLeader: true,
		Matches: []detectors.Match{{Name: "Anlogic", Region: "上海", Tags: []string{"专精特新", "小巨人"}, Basis: detectors.BasisHSCode}}}}
	return d
}

func TestCatalogueComplete(t *testing.T) {
	if m := messages.Missing(); len(m) > 0 {
		t.Errorf("catalogue keys missing: %v", m)
	}
	for _, k := range csvKeys {
		if _, ok := messages[i18n.ZH]["csv."+k]; !ok {
			t.Errorf("no CSV header csv.%s", k)
		}
	}
	if h := CSVHeader("en"); h[0] != "year" || h[len(h)-1] != "note" || CSVHeader("zh-CN")[4] != "板块" {
		t.Errorf("CSV headers %v %v", h, CSVHeader("zh-CN"))
	}
}

// TestVocabularyCovered: every id the detectors emit that the digest shows has a name in both
// languages in the shared table (i18n).
func TestVocabularyCovered(t *testing.T) {
	check := func(kind string, ids ...string) {
		for _, id := range ids {
			if _, ok := i18n.Lookup(kind, id); !ok {
				t.Errorf("%s %q has no bilingual name", kind, id)
			}
		}
	}
	check(i18n.KindCategory, schemas.Categories...)
	check(i18n.KindFlag, detectors.FlagSingleSource, detectors.FlagSingleCountry, detectors.FlagConcentrated, detectors.FlagNoAlternate,
		detectors.FlagChokepointList, detectors.FlagForeignControl, detectors.FlagDependencyRule, detectors.FlagTTSBelowTTR,
		detectors.FlagLeadTimeJump, detectors.FlagStockCollapse, detectors.FlagLifecycle, detectors.FlagNoQualified, detectors.FlagBetweenness)
	check(i18n.KindStage, detectors.LedgerStages...)
	check(i18n.KindRoute, detectors.RouteJiebang, detectors.RouteSaima)
	check(i18n.KindBlocker, detectors.BlockerNoDomestic, detectors.BlockerDomesticShare, detectors.BlockerForeignControl, detectors.BlockerDependencyRule)
	check(i18n.KindBasis, detectors.BasisComponent, detectors.BasisHSCode, detectors.BasisHSHeading)
	check(i18n.KindTag, detectors.DefaultRegions().SMETags...)
	check(i18n.KindSeverity, "critical", "high", "medium", "low")
	check(i18n.KindIndustry, "semiconductors", "new_energy_vehicles", "industrial_robots", "semiconductor_equipment")
}

var (
	reSection = regexp.MustCompile(`<section id="([a-z-]+)"`)
	reTag     = regexp.MustCompile(`<(tr|h2|h3|th|td|svg|li)[ >]`)
)

// TestSameContentBothLanguages: the zh-CN and en renderings of one digest have the same sections,
// headings, rows and cells in every format.
func TestSameContentBothLanguages(t *testing.T) {
	zh, en := fullSample(i18n.ZH), fullSample(i18n.EN)
	hz, err := Render(zh, FormatHTML)
	if err != nil {
		t.Fatal(err)
	}
	he, _ := Render(en, FormatHTML)
	secs := func(b []byte) []string {
		var out []string
		for _, m := range reSection.FindAllSubmatch(b, -1) {
			out = append(out, string(m[1]))
		}
		return out
	}
	want := []string{"summary", "chokepoints", "whatif", "rising", "single-source", "chokepoint-list", "chain-leaders", "alerts",
		"freshness", "local-sourcing", "ledger", "demands"}
	if !slices.Equal(secs(hz), want) || !slices.Equal(secs(he), want) {
		t.Errorf("sections zh %v en %v, want %v", secs(hz), secs(he), want)
	}
	count := func(b []byte) map[string]int {
		m := map[string]int{}
		for _, x := range reTag.FindAllSubmatch(b, -1) {
			m[string(x[1])]++
		}
		return m
	}
	if cz, ce := count(hz), count(he); !mapsEqual(cz, ce) || cz["tr"] < 20 {
		t.Errorf("html elements differ: zh %v en %v", cz, ce)
	}
	mz, _ := Render(zh, FormatMarkdown)
	me, _ := Render(en, FormatMarkdown)
	shape := func(b []byte) (heads, rows []int) {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "#") {
				heads = append(heads, strings.Count(strings.Fields(l)[0], "#"))
			}
			if strings.HasPrefix(l, "|") {
				rows = append(rows, strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"))
			}
		}
		return
	}
	hzs, rzs := shape(mz)
	hes, res := shape(me)
	if !slices.Equal(hzs, hes) || !slices.Equal(rzs, res) || len(hzs) < 12 {
		t.Errorf("markdown shape differs: headings %v / %v, rows %v / %v", hzs, hes, rzs, res)
	}
	cz, _ := Render(zh, FormatCSV)
	ce, _ := Render(en, FormatCSV)
	rz, err1 := csv.NewReader(bytes.NewReader(cz)).ReadAll()
	re, err2 := csv.NewReader(bytes.NewReader(ce)).ReadAll()
	if err1 != nil || err2 != nil || len(rz) != len(re) {
		t.Fatalf("csv: %v %v, %d vs %d rows", err1, err2, len(rz), len(re))
	}
	name, note := slices.Index(csvKeys, "name"), slices.Index(csvKeys, "note")
	for i := 1; i < len(rz); i++ {
		for j := range rz[i] {
			if j != name && j != note && rz[i][j] != re[i][j] {
				t.Errorf("csv row %d column %s: zh %q en %q", i, csvKeys[j], rz[i][j], re[i][j])
			}
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// visible extracts the element texts of html (what a reader sees: no style sheet, no attributes).
func visible(html string) string {
	html = regexp.MustCompile(`(?s)<style>.*</style>`).ReplaceAllString(html, "")
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, "\n")
}

// TestChineseDigest: the zh-CN digest has every heading, label, header and note in Chinese: no
// English text of the catalogue is left in the rendered HTML or Markdown, and the data-derived names
// are escaped.
func TestChineseDigest(t *testing.T) {
	d := fullSample(i18n.ZH)
	b, err := Render(d, FormatHTML)
	if err != nil {
		t.Fatal(err)
	}
	h := string(b)
	for _, w := range []string{`<html lang="zh-CN">`, "<h1>供应链风险周报</h1>", "1. 主要卡点", "2. 上升及新增风险敞口", "8. 链主就近配套",
		"9. 卡点攻关台账（揭榜挂帅 / 赛马）", "10. 需求榜（链主出题、中小企业答题）", "断供推演", "江苏 · 全部行业",
		"2026年11月16日（周一）至11月22日（周日）", "<td>高端芯片</td>", "<td>工业母机</td>", ">严重</span>", ">升级</span>", ">过期</span>",
		"无替代、卡脖子（境外控制）", "攻关（3/6）", "无合格国产供应商、仍受境外控制", "已确认突破", "专精特新、小巨人", "同一HS编码", "（含链主）",
		"主要卡点评分（含上周评分）", "○ 上周 → ● 本周", "2030 年前 100 项", "FPGA &lt;x&gt;", "DUV lithography scanner &lt;b&gt;",
		"'WenQuanYi Micro Hei'", "5.0 个百分点"} {
		if !strings.Contains(h, w) {
			t.Errorf("zh html lacks %q", w)
		}
	}
	text := visible(h)
	for _, key := range sortedKeys() {
		en, zh := messages[i18n.EN][key], messages[i18n.ZH][key]
		if en == zh || strings.Contains(en, "%") || len([]rune(en)) < 5 || strings.HasPrefix(key, "csv.") {
			continue
		}
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(en) + `\b`).MatchString(text) {
			t.Errorf("zh html shows the English text of %s: %q", key, en)
		}
	}
	for _, n := range i18n.Names(i18n.KindCategory) {
		if strings.Contains(text, n.EN) {
			t.Errorf("zh html shows the English category %q", n.EN)
		}
	}
	md, _ := Render(d, FormatMarkdown)
	for _, w := range []string{"# 供应链风险周报", "**ISO 周 2026-W47**（2026-11-16 至 2026-11-22，Asia/Shanghai）· 范围：**江苏 · 全部行业**",
		"| 指标 | 数值 |", "| 跟踪的风险敞口 | 12 |", "## 9. 卡点攻关台账", "| 高端芯片 | 5 | 4 |"} {
		if !strings.Contains(string(md), w) {
			t.Errorf("zh markdown lacks %q", w)
		}
	}
	if s := Subject(d); s != "供应链风险周报 2026-W47 — 江苏 · 全部行业：严重 3 项，上升 2 项，新增 1 项" {
		t.Errorf("zh subject %q", s)
	}
	c, _ := Render(d, FormatCSV)
	if !strings.HasPrefix(string(c), "年份,周,地区,行业,板块,") {
		t.Errorf("zh csv header: %s", c[:60])
	}
	// The English digest of the same data shows no Chinese-only headings.
	e, _ := Render(fullSample(i18n.EN), FormatHTML)
	et := visible(string(e))
	for _, w := range []string{"供应链风险周报", "主要卡点", "数据时效", "高端芯片", "升级", "已确认突破"} {
		if strings.Contains(et, w) {
			t.Errorf("en html shows %q", w)
		}
	}
	for _, w := range []string{"9. Chokepoint (卡点) ledger", "R&amp;D (3/6)", "open call", "still foreign-controlled", "High-end chips",
		"Jiangsu · all industries", "Supply-chain risk weekly digest 2026-W47"} {
		if !strings.Contains(string(e)+Subject(fullSample(i18n.EN)), w) {
			t.Errorf("en digest lacks %q", w)
		}
	}
}

func sortedKeys() []string {
	var ks []string
	for k := range messages[i18n.EN] {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestLangSelectionConfig: digest.scopes[].lang wins for its scope, then digest.lang, then zh-CN;
// Validate rejects other languages by key.
func TestLangSelectionConfig(t *testing.T) {
	cfg := DefaultConfig()
	if cfg.LangFor(Scope{}) != i18n.ZH {
		t.Errorf("default language %q", cfg.LangFor(Scope{}))
	}
	cfg.Scopes = []ScopeConfig{{}, {Region: "Jiangsu", Lang: "en"}, {Region: "Guangdong", Industry: "new_energy_vehicles"}}
	if cfg.LangFor(Scope{Region: "Jiangsu"}) != i18n.EN || cfg.LangFor(Scope{}) != i18n.ZH ||
		cfg.LangFor(Scope{Region: "Jiangsu", Industry: "semiconductors"}) != i18n.ZH {
		t.Errorf("scope languages")
	}
	cfg.Lang = "en"
	if cfg.LangFor(Scope{Region: "Guangdong", Industry: "new_energy_vehicles"}) != i18n.EN || cfg.LangFor(Scope{Region: "Jiangsu"}) != i18n.EN {
		t.Errorf("digest.lang en not applied")
	}
	cfg.Scopes[1].Lang = "zh"
	if cfg.LangFor(Scope{Region: "Jiangsu"}) != i18n.ZH {
		t.Errorf("scope zh does not override digest.lang en")
	}
	svc := NewWithQuerier(nil, exposure.DefaultConfig(), cfg, nil)
	if svc.Lang(Scope{Region: "Jiangsu"}, "") != i18n.ZH || svc.Lang(Scope{Region: "Jiangsu"}, "en-GB") != i18n.EN {
		t.Errorf("Service.Lang")
	}
	cfg.Lang, cfg.Scopes[2].Lang = "fr", "english"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `lang: "fr" is not a digest language`) ||
		!strings.Contains(err.Error(), `scopes[2].lang: "english"`) {
		t.Errorf("validate: %v", err)
	}
	ok := DefaultConfig()
	ok.Title = ""
	if err := ok.Validate(); err != nil {
		t.Errorf("default config (empty title = the language's): %v", err)
	}
}

// TestArchiveFormat: the language is part of the archive key; bare legacy formats are English.
func TestArchiveFormat(t *testing.T) {
	if ArchiveFormat("html", "zh") != "html.zh-CN" || ArchiveFormat("md", "en") != "md.en" {
		t.Errorf("ArchiveFormat")
	}
	if got := archiveFormats("csv", "en"); !slices.Equal(got, []string{"csv.en", "csv"}) {
		t.Errorf("en formats %v", got)
	}
	if got := archiveFormats("csv", "zh-CN"); !slices.Equal(got, []string{"csv.zh-CN"}) {
		t.Errorf("zh formats %v", got)
	}
	for v, want := range map[string][2]string{"html.zh-CN": {"html", "zh-CN"}, "md.en": {"md", "en"}, "csv": {"csv", "en"}} {
		if f, l := splitArchiveFormat(v); f != want[0] || l != want[1] {
			t.Errorf("split %q = %s %s", v, f, l)
		}
	}
}
