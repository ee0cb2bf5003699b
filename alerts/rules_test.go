package alerts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/detectors"
)

func rules(t *testing.T, mutate func(*alerts.Config)) *alerts.Rules {
	t.Helper()
	cfg := alerts.DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	r, err := alerts.NewRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSeverityThresholdsAndFloors(t *testing.T) {
	r := rules(t, nil) // info 40, warning 60, critical 80
	cases := []struct {
		name  string
		score float64
		flags []string
		want  alerts.Severity
	}{
		{"below info", 20, nil, alerts.SeverityNone},
		{"info", 45, nil, alerts.SeverityInfo},
		{"warning", 60, nil, alerts.SeverityWarning},
		{"critical", 80, nil, alerts.SeverityCritical},
		{"chokepoint list is at least warning", 5, []string{detectors.FlagChokepointList}, alerts.SeverityWarning},
		{"single source with TTS<TTR is at least warning", 10, []string{detectors.FlagSingleSource, detectors.FlagTTSBelowTTR}, alerts.SeverityWarning},
		{"single source alone follows the score", 10, []string{detectors.FlagSingleSource}, alerts.SeverityNone},
		{"TTS<TTR alone follows the score", 45, []string{detectors.FlagTTSBelowTTR}, alerts.SeverityInfo},
		{"floors never lower", 90, []string{detectors.FlagChokepointList}, alerts.SeverityCritical},
		{"configured floor (foreign_control: info)", 1, []string{detectors.FlagForeignControl}, alerts.SeverityInfo},
	}
	for _, c := range cases {
		f := detectors.Finding{EnterpriseID: "E", ComponentID: "C", Score: c.score, Flags: c.flags}
		if got := r.Severity(&f); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestSeverityOverridesMostSpecificWins(t *testing.T) {
	r := rules(t, func(c *alerts.Config) {
		c.Rules.Overrides = []alerts.RuleOverride{
			{Category: "semiconductors", Thresholds: alerts.SeverityThresholds{Critical: 70}},
			{Enterprise: "ENT-1", Thresholds: alerts.SeverityThresholds{Critical: 65, Warning: 50}},
			{Enterprise: "ENT-1", Category: "semiconductors", Thresholds: alerts.SeverityThresholds{Critical: 95}},
			{Enterprise: "ENT-2", FlagFloors: map[string]string{"lead_time_jump": "critical"}},
			// An override cannot lower the built-in floors.
			{Enterprise: "ENT-3", FlagFloors: map[string]string{"chokepoint_list": "info"}},
		}
	})
	sev := func(ent, cat string, score float64, flags ...string) alerts.Severity {
		f := detectors.Finding{EnterpriseID: ent, ComponentID: "C", Category: cat, Score: score, Flags: flags}
		return r.Severity(&f)
	}
	if got := sev("ENT-9", "semiconductors", 72); got != alerts.SeverityCritical {
		t.Errorf("category override: %s", got)
	}
	if got := sev("ENT-1", "batteries", 66); got != alerts.SeverityCritical {
		t.Errorf("enterprise override: %s", got)
	}
	if got := sev("ENT-1", "batteries", 55); got != alerts.SeverityWarning {
		t.Errorf("enterprise warning override: %s", got)
	}
	if got := sev("ENT-1", "semiconductors", 90); got != alerts.SeverityWarning {
		t.Errorf("enterprise+category override must win (critical at 95): %s", got)
	}
	if got := sev("ENT-2", "x", 1, detectors.FlagLeadTimeJump); got != alerts.SeverityCritical {
		t.Errorf("enterprise flag floor: %s", got)
	}
	if got := sev("ENT-3", "x", 1, detectors.FlagChokepointList); got != alerts.SeverityWarning {
		t.Errorf("built-in chokepoint floor lowered: %s", got)
	}
}

func TestBuildAlertBPlan(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	a := alerts.SampleAlert(now, "Demo")
	if a.Severity != alerts.SeverityCritical || a.ComponentID != "MCU-STM32F4" || a.EnterpriseID != "ENT-DEMO" {
		t.Fatalf("alert: %+v", a)
	}
	if a.Fingerprint != alerts.Fingerprint("ENT-DEMO", "MCU-STM32F4", alerts.AlertName) {
		t.Errorf("fingerprint not stable")
	}
	if !a.Alternates[0].Domestic || a.Alternates[0].SupplierID != "SUP-GIGADEVICE" {
		t.Errorf("domestic alternate not first: %+v", a.Alternates)
	}
	if a.GapDays != 48 || a.ConsumptionPerDay == nil || *a.ConsumptionPerDay != 100 {
		t.Errorf("gap %v consumption %v", a.GapDays, a.ConsumptionPerDay)
	}
	for _, term := range a.TopTerms {
		if term.Name == alerts.ConsumptionTerm {
			t.Errorf("zero-weight consumption term listed as a reason")
		}
	}
	kinds := []string{}
	for _, act := range a.Actions {
		kinds = append(kinds, act.Kind)
		if act.Kind == alerts.ActionSafetyStock && act.Units != 4800 {
			t.Errorf("safety stock units %v, want 48 days × 100/day = 4800", act.Units)
		}
		if act.Kind == alerts.ActionQualifyAlternate && (!act.ExceedsTTS || act.Days != 45) {
			t.Errorf("qualify action %+v", act)
		}
		if act.Kind == alerts.ActionSplitVolume && (act.Share != 0.3 || act.HHIAfter != 0.58) {
			t.Errorf("split action %+v", act)
		}
	}
	if strings.Join(kinds, ",") != "qualify_alternate,raise_safety_stock,split_volume" {
		t.Errorf("actions %v", kinds)
	}

	// Without domestic preference the detector's order stays; without alternates: find one.
	cfg := alerts.DefaultConfig()
	cfg.Actions.PreferDomestic = false
	f := alerts.SampleFinding(now)
	b, _ := alerts.BuildAlert(cfg, f, now)
	if b.Alternates[0].Domestic {
		t.Errorf("prefer_domestic=false reordered alternates")
	}
	f.Alternates = nil
	f.Terms = f.Terms[:3] // no consumption
	c, _ := alerts.BuildAlert(cfg, f, now)
	if c.Actions[0].Kind != alerts.ActionFindAlternate || c.Actions[1].Kind != alerts.ActionSafetyStock || c.Actions[1].Units != 0 {
		t.Errorf("actions without alternates/consumption: %+v", c.Actions)
	}
}

func TestRenderBothLanguages(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	a := alerts.SampleAlert(now, "苏州智控装备")
	res := alerts.SampleAlert(now, "苏州智控装备")
	res.ComponentID, res.Status, res.EndsAt, res.Severity = "CAP-0402", alerts.StatusResolved, now, alerts.SeverityWarning
	info := alerts.GroupInfo{Key: "ENT-DEMO", EnterpriseID: "ENT-DEMO", EnterpriseName: "苏州智控装备", Lang: "en", ExternalURL: "http://cw.local", Now: now}
	msg := alerts.NewMessage(info, []*alerts.Alert{res, a})
	en, err := alerts.Render(msg, "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[CRITICAL] B-plan warning · 苏州智控装备 (ENT-DEMO): MCU-STM32F4",
		"Products affected (BOM): PLC-X200, HMI-7",
		"Time to survive (TTS) 12 days vs time to recover (TTR) 60 days: gap of 48 days",
		"supplier_share = 1 (weight 0.4, 46% of the score)",
		"1. SUP-GIGADEVICE / MCU-GD32F470 — CN, domestic · qualification 45 days · supplier HHI after switching 0.58",
		"Qualify alternate SUP-GIGADEVICE / MCU-GD32F470 (45 days)",
		"Raise safety stock by 4800 units to cover the TTR−TTS gap (48 days × 100 units/day)",
		"Split volume: move 30% of volume to SUP-GIGADEVICE / MCU-GD32F470",
		"Resolved (no longer exposed):", "CAP-0402 — was warning",
	} {
		if !strings.Contains(en.Subject+"\n"+en.Text, want) {
			t.Errorf("en text lacks %q", want)
		}
		if !strings.Contains(en.HTML, strings.ReplaceAll(want, "[CRITICAL] B-plan warning · 苏州智控装备 (ENT-DEMO): MCU-STM32F4", "B-plan warning")) {
			t.Errorf("html lacks %q", want)
		}
	}
	zh, err := alerts.Render(msg, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"【严重】B计划预警 · 苏州智控装备（ENT-DEMO）：MCU-STM32F4",
		"断供生存时间（TTS）12 天，恢复时间（TTR）60 天：缺口 48 天",
		"替代方案（国产优先）：", "CN，国产",
		"将安全库存提高 4800 件，覆盖 TTR−TTS 缺口（48 天 × 每天 100 件）",
		"认证替代方案 SUP-GIGADEVICE / MCU-GD32F470（45 天）",
		"分散采购：将 30% 的采购量转移至",
		"已解除（不再暴露）：",
		"2026-03-02 17:30 CST",
	} {
		if !strings.Contains(zh.Subject+"\n"+zh.Text, want) {
			t.Errorf("zh text lacks %q", want)
		}
	}
	// HTML escapes content.
	a.Alternates[0].Notes = "<script>x</script>"
	h, _ := alerts.Render(alerts.NewMessage(info, []*alerts.Alert{a}), "en")
	if strings.Contains(h.HTML, "<script>") {
		t.Error("html not escaped")
	}
	// Markdown limit: many alerts are cut to fit and counted.
	var many []*alerts.Alert
	for i := range 50 {
		x := alerts.SampleAlert(now, "苏州智控装备")
		x.ComponentID = "C-" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		many = append(many, x)
	}
	_, md, err := alerts.RenderMarkdown(alerts.NewMessage(info, many), "zh-CN", 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(md) > 4096 || !strings.Contains(md, "另有") {
		t.Errorf("markdown %d bytes, more line present: %v", len(md), strings.Contains(md, "另有"))
	}
}
