package report_test

import (
	"bytes"
	"context"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/report"
	"github.com/chainwatch/chainwatch/internal/report/reporttest"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// demoService loads the demo data into a fresh database and returns a service whose clock is the
// demo's anchor, reading through a recorder.
func demoService(t *testing.T) (*report.Service, *reporttest.Recorder, *reporttest.Dataset, driver.Conn) {
	t.Helper()
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds, err := reporttest.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	rec := &reporttest.Recorder{Q: conn}
	svc := report.NewWithQuerier(rec, exposure.DefaultConfig(), report.DefaultConfig(), nil)
	svc.SetClock(func() time.Time { return reporttest.Anchor })
	return svc, rec, ds, conn
}

type fakeMailer struct {
	to            []string
	subject, html string
	text          string
	sent          []sentMail // every mail, in order
}

type sentMail struct {
	to                  []string
	subject, html, text string
}

func (m *fakeMailer) Send(_ context.Context, to []string, subject, html, text string) error {
	m.to, m.subject, m.html, m.text = to, subject, html, text
	m.sent = append(m.sent, sentMail{to, subject, html, text})
	return nil
}

func TestDigestIntegration(t *testing.T) {
	svc, rec, ds, conn := demoService(t)
	ctx := context.Background()
	week := report.Week{Year: reporttest.Year, Week: reporttest.Week}

	d, err := svc.Generate(ctx, week, report.Scope{}, "en")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Complete || d.From.Format("2006-01-02") != "2026-11-16" {
		t.Fatalf("week bounds: complete=%v from=%s", d.Complete, d.From)
	}
	s := d.Summary
	if s.Exposures != 26 || s.Critical != 6 || s.New != 1 {
		t.Errorf("summary = %+v", s)
	}
	if len(d.Chokepoints) == 0 || d.Chokepoints[0].Subject != "CMP-LITHO" {
		t.Fatalf("top chokepoint: %+v", d.Chokepoints)
	}
	if len(d.Rising) == 0 || !d.Rising[0].New || d.Rising[0].Subject != "ENT-HFDG|CMP-MLCC" {
		t.Errorf("rising[0] should be the new Hefei MLCC exposure: %+v", d.Rising)
	}
	found := false
	for _, it := range d.Rising {
		if it.Subject == "ENT-SZEV|CMP-MCU" {
			found = true
			if it.PrevScore == nil || it.Delta < 15 {
				t.Errorf("SZEV MCU delta = %v", it.Delta)
			}
		}
		if it.Score == reporttest.FailedRunScore {
			t.Errorf("failed run leaked: %+v", it)
		}
	}
	if !found {
		t.Errorf("Shenzhen EV MCU exposure (+18) not among rising: %+v", d.Rising)
	}
	var chips report.CategoryCount
	for _, c := range d.SingleSource {
		if c.Category == "high_end_chip" {
			chips = c
		}
	}
	if chips.Now != 5 || chips.Prev != 5 {
		t.Errorf("single-source high-end chips = %+v, want 5 both weeks", chips)
	}
	if len(d.ChokeList) != 6 {
		t.Errorf("卡点 list: %d items, want 6: %+v", len(d.ChokeList), d.ChokeList)
	}
	if len(d.ChainLeaders) == 0 || !d.ChainLeaders[0].ChainLeader {
		t.Errorf("chain leaders: %+v", d.ChainLeaders)
	}
	stale := 0
	for _, f := range d.Freshness {
		if f.Stale {
			stale++
		}
	}
	if len(d.Freshness) < 7 || stale == 0 {
		t.Errorf("freshness rows %d, stale %d: %+v", len(d.Freshness), stale, d.Freshness)
	}

	// Scoped digest.
	js, err := svc.Generate(ctx, week, report.Scope{Region: "Jiangsu", Industry: "semiconductors"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if js.Summary.Exposures != 8 {
		t.Errorf("Jiangsu semiconductors exposures = %d, want 8", js.Summary.Exposures)
	}
	for _, c := range js.Chokepoints {
		if c.SubjectType == "material" {
			t.Errorf("material chokepoint in a scoped digest: %+v", c)
		}
	}

	// Formats.
	for _, f := range []string{"html", "md", "csv", "json"} {
		b, err := report.Render(d, f)
		if err != nil || len(b) < 500 {
			t.Fatalf("render %s: %v (%d bytes)", f, err, len(b))
		}
		if !bytes.Contains(b, []byte("Suzhou Microelectronics")) && f != "csv" {
			t.Errorf("%s lacks the top enterprise", f)
		}
	}
	md, _ := report.Render(d, "md")
	for _, want := range []string{"2026-W47", "| Exposures tracked | 26 |", "DUV lithography scanner", "Chokepoint (卡点) list status", "stale"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	csvb, _ := report.Render(d, "csv")
	if !strings.HasPrefix(string(csvb), strings.Join(report.CSVHeader("en"), ",")) || !strings.Contains(string(csvb), "single_source,,category,high_end_chip,High-end chips") {
		t.Errorf("csv:\n%s", csvb[:min(len(csvb), 600)])
	}

	// Archive and read back; the API path (Get) then serves the archived copy.
	arch := report.New(conn, exposure.DefaultConfig(), report.DefaultConfig(), nil)
	arch.SetClock(func() time.Time { return reporttest.Anchor })
	if err := arch.Archive(ctx, d, []string{"html", "md", "csv"}); err != nil {
		t.Fatal(err)
	}
	got, err := arch.Get(ctx, week, report.Scope{}, "md", "en")
	if err != nil || !bytes.Equal(got, md) {
		t.Fatalf("archived md differs: %v", err)
	}
	// The zh digest (the default language) of the same scope and week is archived next to the en one.
	zhMD, err := arch.Get(ctx, week, report.Scope{}, "md", "")
	if err != nil || !strings.Contains(string(zhMD), "# 供应链风险周报") || !strings.Contains(string(zhMD), "| 跟踪的风险敞口 | 26 |") {
		t.Fatalf("zh md: %v\n%s", err, zhMD[:min(len(zhMD), 400)])
	}
	if got, _, err := arch.Archived(ctx, week, report.Scope{}, "md", "zh-CN"); err != nil || !bytes.Equal(got, zhMD) {
		t.Errorf("zh md not archived: %v", err)
	}
	if got, err := arch.Get(ctx, week, report.Scope{}, "md", "en"); err != nil || !bytes.Equal(got, md) {
		t.Errorf("the zh digest replaced the en one: %v", err)
	}
	list, err := arch.List(ctx, nil, nil, 10)
	if err != nil || len(list) != 1 || list[0].Week != "2026-W47" || len(list[0].Formats) != 3 ||
		strings.Join(list[0].Langs, ",") != "zh-CN,en" {
		t.Fatalf("list: %v %+v", err, list)
	}
	// Not archived yet: generated on demand and archived.
	if _, err := arch.Get(ctx, week, report.Scope{Region: "Guangdong"}, "csv", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := arch.Archived(ctx, week, report.Scope{Region: "Guangdong"}, "html", ""); err != nil {
		t.Errorf("on-demand digest of a complete week not archived: %v", err)
	}
	if _, _, err := arch.Archived(ctx, week, report.Scope{Region: "Guangdong"}, "html", "en"); err == nil {
		t.Errorf("an en Guangdong digest is archived though only zh was generated")
	}
	if _, err := arch.Generate(ctx, report.Week{Year: 2027, Week: 10}, report.Scope{}, ""); err == nil {
		t.Errorf("future week accepted")
	}

	// Scheduled run: every scope archived and mailed, each in its configured language (national:
	// digest.lang = zh-CN by default; Jiangsu: scopes[1].lang = en).
	cfg := report.DefaultConfig()
	cfg.Recipients = []string{"risk-office@example.gov.cn"}
	cfg.Scopes = []report.ScopeConfig{{}, {Region: "Jiangsu", Recipients: []string{"js@example.gov.cn"}, Lang: "en"}}
	sched := report.New(conn, exposure.DefaultConfig(), cfg, nil)
	sched.SetClock(func() time.Time { return reporttest.Anchor })
	m := &fakeMailer{}
	dls, err := sched.RunOnce(ctx, week, m)
	if err != nil || len(dls) != 2 || !dls[1].Archived || m.to[0] != "js@example.gov.cn" || dls[0].Lang != "zh-CN" || dls[1].Lang != "en" {
		t.Fatalf("run once: %v %+v %v", err, dls, m.to)
	}
	if !strings.Contains(m.subject, "2026-W47") || !strings.Contains(m.subject, "Jiangsu · all industries") ||
		!strings.Contains(m.html, "<svg") || !strings.Contains(m.text, "## 1. Top chokepoints") {
		t.Errorf("en mail: %q", m.subject)
	}
	if zh := m.sent[0]; !strings.Contains(zh.subject, "供应链风险周报 2026-W47 — 全国") || !strings.Contains(zh.html, `lang="zh-CN"`) ||
		!strings.Contains(zh.text, "## 1. 主要卡点") {
		t.Errorf("zh mail: %q", zh.subject)
	}
	if _, _, err := sched.Archived(ctx, week, report.Scope{Region: "Jiangsu"}, "html", "en"); err != nil {
		t.Errorf("scheduled en digest not archived under en: %v", err)
	}
	sc, err := report.NewScheduler(sched, m)
	if err != nil {
		t.Fatal(err)
	}
	next := sc.Next(reporttest.Anchor)
	if next.Weekday() != time.Monday || next.Hour() != 8 || next.Format("2006-01-02") != "2026-11-30" {
		t.Errorf("next run %s, want Mon 2026-11-30 08:00 Asia/Shanghai", next)
	}

	// On demand (`chainwatch digest`).
	var out bytes.Buffer
	w47 := report.Week{Year: 2026, Week: 47}
	req := report.Request{Week: &w47, Format: report.FormatMarkdown, Scope: report.Scope{Region: "Jiangsu", Industry: "semiconductors"}}
	if err := svc.Produce(ctx, req, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "江苏 · 半导体") {
		t.Errorf("cli output (default zh-CN):\n%s", out.String()[:min(out.Len(), 400)])
	}
	out.Reset()
	req.Lang = "en"
	if err := svc.Produce(ctx, req, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Jiangsu · Semiconductors") || strings.Contains(out.String(), "主要卡点") {
		t.Errorf("cli output (--lang en):\n%s", out.String()[:min(out.Len(), 400)])
	}
	req.Lang = "fr"
	if err := svc.Produce(ctx, req, nil, &out); err == nil {
		t.Errorf("language fr accepted")
	}
	if err := svc.Produce(ctx, report.Request{Week: &report.Week{Year: 2099, Week: 1}, Format: report.FormatMarkdown}, nil, &out); err == nil {
		t.Errorf("future week accepted")
	}

	// The same SQL on a current ClickHouse engine.
	rep := reporttest.RunChDB(t, ds, rec.Queries("digest"))
	for _, r := range rep.Results {
		if r.Error != "" {
			t.Errorf("chdb: %s failed: %s", r.Name, r.Error)
		}
	}
}

// TestDigestChromiumIntegration renders the zh-CN and the en HTML digest (with the local-sourcing,
// ledger and demand sections) in headless Chromium, checks each screenshot is not blank and that the
// key numbers and the key strings of its language — and none of the other language's headings — are
// in the rendered DOM. With CHAINWATCH_UPDATE_DOCS=1 it also writes docs/digest-example-{zh,en}.html
// and .png.
func TestDigestChromiumIntegration(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		chromium, err = exec.LookPath("/usr/bin/chromium")
	}
	reporttest.RequireTool(t, "chromium", "run deploy/local/tools.sh", err == nil)
	svc, rec, _, _ := demoService(t)
	det := detectors.DefaultConfig()
	det.Ledger.Items = []detectors.LedgerItem{
		{ID: "KD-01", Title: "16 nm FPGA", ComponentID: "CMP-FPGA", Owner: "ENT-SZME", Route: detectors.RouteJiebang, Stage: "攻关", TargetDate: "2027-12-31"},
		{ID: "KD-02", Title: "Automotive MCU", ComponentID: "CMP-MCU", Owner: "ENT-SZEV", Route: detectors.RouteSaima, Stage: "中试验证", TargetDate: "2026-06-30"},
	}
	svc.SetRegional(exposure.NewRegional(exposure.NewStore(rec, exposure.DefaultConfig()), det))
	week := report.Week{Year: reporttest.Year, Week: reporttest.Week}
	keys := map[string]struct{ want, notWant []string }{
		"zh-CN": {
			want: []string{"供应链风险周报", "主要卡点", "上升及新增风险敞口", "各品类单一来源敞口", "卡点清单状态", "链主企业风险敞口",
				"B计划预警", "数据时效", "卡点攻关台账", "高端芯片", "关键材料", "揭榜挂帅", "严重", "2026年11月16日（周一）至11月22日（周日）"},
			notWant: []string{"Top chokepoints", "Data freshness", "Rising and new exposures", "High-end chips", "Chain leader"},
		},
		"en": {
			want: []string{"Supply-chain risk weekly digest", "Top chokepoints", "Rising and new exposures", "Single-source exposures by category",
				"Data freshness", "Chokepoint (卡点) ledger", "High-end chips", "Key materials", "open call", "Mon 16 Nov – Sun 22 Nov 2026"},
			notWant: []string{"供应链风险周报", "主要卡点", "数据时效", "高端芯片", "关键材料"},
		},
	}
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			d, err := svc.Generate(context.Background(), week, report.Scope{}, lang)
			if err != nil {
				t.Fatal(err)
			}
			if d.Ledger == nil || len(d.Ledger.Items) != 2 {
				t.Fatalf("ledger: %+v", d.Ledger)
			}
			html, err := report.Render(d, "html")
			if err != nil {
				t.Fatal(err)
			}
			short := map[string]string{"zh-CN": "zh", "en": "en"}[lang]
			chromiumCheck(t, chromium, html, short, append([]string{`id="kpi-exposures">26<`, `id="kpi-critical">6<`,
				"DUV lithography scanner", "95.0", "Shenzhen EV Drive Systems", "<svg", `lang="` + lang + `"`}, keys[lang].want...), keys[lang].notWant)
		})
	}
}

// chromiumCheck renders html in headless Chromium: a non-blank screenshot, every want and no
// notWant in the rendered DOM; with CHAINWATCH_UPDATE_DOCS=1 the page and a full screenshot go to
// docs/digest-example-<name>.html and .png.
func chromiumCheck(t *testing.T, chromium string, html []byte, name string, want, notWant []string) {
	t.Helper()
	dir := t.TempDir()
	page := filepath.Join(dir, "digest.html")
	shot := filepath.Join(dir, "digest.png")
	if err := os.WriteFile(page, html, 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile")}
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append(append([]string{}, common...), args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.Bytes()
	}
	run("--screenshot="+shot, "--window-size=1200,2000", "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if frac := inkFraction(img); frac < 0.03 {
		t.Errorf("screenshot looks blank: %.2f%% non-white pixels", 100*frac)
	} else {
		t.Logf("screenshot: %.1f%% non-white pixels", 100*frac)
	}
	dom := string(run("--dump-dom", "--virtual-time-budget=2000", "file://"+page))
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered DOM lacks %q", w)
		}
	}
	for _, w := range notWant {
		if strings.Contains(dom, w) {
			t.Errorf("rendered DOM has %q of the other language", w)
		}
	}
	if os.Getenv("CHAINWATCH_UPDATE_DOCS") == "1" {
		docs := filepath.Join(reporttest.RepoRoot(), "docs")
		base := filepath.Join(docs, "digest-example-"+name)
		if err := os.WriteFile(base+".html", html, 0o644); err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(dir, "full.png")
		run("--screenshot="+full, "--window-size=1200,4900", "file://"+page)
		b, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".png", b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s.html and .png", base)
	}
}

// inkFraction is the share of pixels that are not (near) white.
func inkFraction(img image.Image) float64 {
	b := img.Bounds()
	ink, total := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
		}
	}
	return float64(ink) / float64(total)
}
