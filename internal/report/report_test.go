package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"strings"
	"testing"
	"time"
)

func TestWeeks(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	w, err := ParseWeek("2026-W47")
	if err != nil || w != (Week{2026, 47}) || w.String() != "2026-W47" {
		t.Fatalf("parse: %v %v", w, err)
	}
	if got := w.Start(sh).Format("2006-01-02 15:04 -0700 Mon"); got != "2026-11-16 00:00 +0800 Mon" {
		t.Errorf("start %s", got)
	}
	if got := w.End(sh).Format("2006-01-02"); got != "2026-11-23" {
		t.Errorf("end %s", got)
	}
	for _, c := range []struct {
		s    string
		want Week
	}{{"2020-W53", Week{2020, 53}}, {"2026w1", Week{2026, 1}}, {"2027-W01", Week{2027, 1}}} {
		if got, err := ParseWeek(c.s); err != nil || got != c.want {
			t.Errorf("%s: %v %v", c.s, got, err)
		}
	}
	for _, bad := range []string{"2025-W53", "2026-W0", "2026", "W47", "26-W47", "2026-W4x", ""} {
		if _, err := ParseWeek(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// ISO week 1 of 2027 starts on Monday 4 January 2027; 2026-12-31 is in 2026-W53.
	if got := (Week{2027, 1}).Start(time.UTC).Format("2006-01-02"); got != "2027-01-04" {
		t.Errorf("2027-W01 starts %s", got)
	}
	if got := WeekOf(time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), time.UTC); got != (Week{2026, 53}) {
		t.Errorf("WeekOf = %v", got)
	}
	if got := (Week{2027, 1}).Prev(); got != (Week{2026, 53}) {
		t.Errorf("Prev = %v", got)
	}
	// Monday 08:00 Shanghai: the last complete week is the one that ended at midnight.
	if got := LastComplete(time.Date(2026, 11, 23, 8, 0, 0, 0, sh), sh); got != (Week{2026, 47}) {
		t.Errorf("LastComplete = %v", got)
	}
}

func f(v float64) *float64 { return &v }

func sample() *Digest {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	w := Week{2026, 47}
	return &Digest{
		Title: "Supply-chain risk weekly digest", Lang: "en", Week: w, Scope: Scope{Region: "Jiangsu"}, From: w.Start(sh), To: w.End(sh),
		AsOf: w.End(sh), Timezone: "Asia/Shanghai", Complete: true, GeneratedAt: time.Date(2026, 11, 23, 0, 5, 0, 0, time.UTC),
		Severity: exposure.SeverityConfig{Critical: 80, High: 60, Medium: 40}, RisingMinDelta: 5, StaleAfterHours: 72,
		Summary: Summary{Exposures: 12, Critical: 3, High: 4, MaxScore: 91.7, Rising: 2, New: 1, SingleSource: 9},
		Chokepoints: []Item{{Rank: 1, SubjectType: "component", Subject: "CMP-LITHO", Name: "DUV lithography scanner <b>",
			Category: "machine_tool", Score: 95, PrevScore: f(94), Delta: 1, Severity: "critical", Flags: []string{"chokepoint_list"}}},
		Rising: []Item{
			{Rank: 1, Subject: "E|C", Name: "Suzhou Micro / FPGA", EnterpriseID: "E", ComponentID: "C", Score: 55, New: true, Severity: "medium", Flags: []string{}},
			{Rank: 2, Subject: "E|M", Name: "Suzhou Micro / MCU | v2", Score: 73.6, PrevScore: f(57.9), Delta: 15.7, Severity: "high", TTSDays: f(30), TTRDays: f(180)},
		},
		SingleSource: []CategoryCount{{"key_material", "Key materials", 6, 6}, {"high_end_chip", "High-end chips", 5, 4}},
		ChokeList:    []ListItem{{ComponentID: "CMP-FPGA", Name: "FPGA", Category: "high_end_chip", Score: 83, PrevScore: f(78), Delta: 5, Severity: "critical", Status: "escalating", Exposed: 2}},
		Alerts:       AlertSummary{Available: true, Raised: 3, Resolved: 1, BySev: map[string]int{"warning": 3}},
		Freshness: []FreshnessRow{{Table: "procurement_awards", Source: "ocds", LastIngested: time.Date(2026, 11, 18, 6, 0, 0, 0, time.UTC),
			AgeHours: 106, StaleAfterHours: 72, Rows: 4, Stale: true}},
		Notes: []string{"a note"},
	}
}

func TestRender(t *testing.T) {
	d := sample()
	html, err := Render(d, FormatHTML)
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	for _, want := range []string{"<svg", `id="kpi-exposures">12<`, "DUV lithography scanner &lt;b&gt;", "Jiangsu · all industries",
		"▲ 15.7", `class="new">new`, "escalating", "stale", "@media print", "卡点", "Mon 16 Nov – Sun 22 Nov 2026"} {
		if !strings.Contains(h, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(h, "scanner <b>") || strings.Contains(h, "<script") || strings.Contains(h, "<link") ||
		strings.Contains(strings.ReplaceAll(h, "http://www.w3.org/2000/svg", ""), "http") {
		t.Errorf("html not escaped or references external resources")
	}
	md, _ := Render(d, FormatMarkdown)
	for _, want := range []string{"# Supply-chain risk weekly digest", "| Exposures tracked | 12 |", `MCU \| v2`, "| 2 | Suzhou Micro | MCU \\| v2 |", "+15.7", "**stale**"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q\n%s", want, md)
		}
	}
	c, _ := Render(d, FormatCSV)
	recs, err := csv.NewReader(bytes.NewReader(c)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if len(r) != len(CSVHeader("en")) {
			t.Fatalf("csv row %d has %d fields, header %d", i, len(r), len(CSVHeader("en")))
		}
	}
	sections := map[string]int{}
	for _, r := range recs[1:] {
		sections[r[4]]++
	}
	for _, s := range []string{"summary", "chokepoints", "rising", "single_source", "chokepoint_list", "alerts", "freshness"} {
		if sections[s] == 0 {
			t.Errorf("csv has no %s rows", s)
		}
	}
	if _, err := Render(d, "pdf"); err == nil {
		t.Errorf("pdf accepted")
	}
	if s := Subject(d); !strings.Contains(s, "2026-W47") || !strings.Contains(s, "3 critical") {
		t.Errorf("subject %q", s)
	}
}

func TestProduceErrors(t *testing.T) {
	svc := NewWithQuerier(nil, exposure.DefaultConfig(), DefaultConfig(), nil)
	var out bytes.Buffer
	if err := svc.Produce(context.Background(), Request{Format: "pdf"}, nil, &out); err == nil {
		t.Errorf("format pdf accepted")
	}
}

func TestSchedulerNext(t *testing.T) {
	cfg := DefaultConfig()
	svc := NewWithQuerier(nil, exposure.DefaultConfig(), cfg, nil)
	sc, err := NewScheduler(svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 23:00 UTC = Monday 07:00 Shanghai: next run is the same Monday 08:00 Shanghai.
	next := sc.Next(time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC))
	if next.UTC() != time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) {
		t.Errorf("next = %s", next)
	}
	if _, err := NewScheduler(NewWithQuerier(nil, exposure.DefaultConfig(), Config{Schedule: "bad"}, nil), nil); err == nil {
		t.Errorf("bad schedule accepted")
	}
}
