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
}

func (m *fakeMailer) Send(_ context.Context, to []string, subject, html, text string) error {
	m.to, m.subject, m.html, m.text = to, subject, html, text
	return nil
}

func TestDigestIntegration(t *testing.T) {
	svc, rec, ds, conn := demoService(t)
	ctx := context.Background()
	week := report.Week{Year: reporttest.Year, Week: reporttest.Week}

	d, err := svc.Generate(ctx, week, report.Scope{})
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
	js, err := svc.Generate(ctx, week, report.Scope{Region: "Jiangsu", Industry: "semiconductors"})
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
	for _, want := range []string{"2026-W47", "| Exposures tracked | 26 |", "DUV lithography scanner", "卡点 list status", "stale"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	csvb, _ := report.Render(d, "csv")
	if !strings.HasPrefix(string(csvb), strings.Join(report.CSVHeader, ",")) || !strings.Contains(string(csvb), "single_source,,category,high_end_chip,High-end chips") {
		t.Errorf("csv:\n%s", csvb[:min(len(csvb), 600)])
	}

	// Archive and read back; the API path (Get) then serves the archived copy.
	arch := report.New(conn, exposure.DefaultConfig(), report.DefaultConfig(), nil)
	arch.SetClock(func() time.Time { return reporttest.Anchor })
	if err := arch.Archive(ctx, d, []string{"html", "md", "csv"}); err != nil {
		t.Fatal(err)
	}
	got, err := arch.Get(ctx, week, report.Scope{}, "md")
	if err != nil || !bytes.Equal(got, md) {
		t.Fatalf("archived md differs: %v", err)
	}
	list, err := arch.List(ctx, nil, nil, 10)
	if err != nil || len(list) != 1 || list[0].Week != "2026-W47" || len(list[0].Formats) != 3 {
		t.Fatalf("list: %v %+v", err, list)
	}
	// Not archived yet: generated on demand and archived.
	if _, err := arch.Get(ctx, week, report.Scope{Region: "Guangdong"}, "csv"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := arch.Archived(ctx, week, report.Scope{Region: "Guangdong"}, "html"); err != nil {
		t.Errorf("on-demand digest of a complete week not archived: %v", err)
	}
	if _, err := arch.Generate(ctx, report.Week{Year: 2027, Week: 10}, report.Scope{}); err == nil {
		t.Errorf("future week accepted")
	}

	// Scheduled run: every scope archived and mailed.
	cfg := report.DefaultConfig()
	cfg.Recipients = []string{"risk-office@example.gov.cn"}
	cfg.Scopes = []report.ScopeConfig{{}, {Region: "Jiangsu", Recipients: []string{"js@example.gov.cn"}}}
	sched := report.New(conn, exposure.DefaultConfig(), cfg, nil)
	sched.SetClock(func() time.Time { return reporttest.Anchor })
	m := &fakeMailer{}
	dls, err := sched.RunOnce(ctx, week, m)
	if err != nil || len(dls) != 2 || !dls[1].Archived || m.to[0] != "js@example.gov.cn" {
		t.Fatalf("run once: %v %+v %v", err, dls, m.to)
	}
	if !strings.Contains(m.subject, "2026-W47") || !strings.Contains(m.html, "<svg") || !strings.Contains(m.text, "## 1. Top chokepoints") {
		t.Errorf("mail: %q", m.subject)
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
	if !strings.Contains(out.String(), "Jiangsu · semiconductors") {
		t.Errorf("cli output:\n%s", out.String()[:min(out.Len(), 400)])
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

// TestDigestChromiumIntegration renders the HTML digest in headless Chromium, checks the screenshot
// is not blank and the key numbers are in the rendered DOM. With CHAINWATCH_UPDATE_DOCS=1 it also
// writes docs/digest-example.html and docs/digest-example.png.
func TestDigestChromiumIntegration(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		chromium, err = exec.LookPath("/usr/bin/chromium")
	}
	reporttest.RequireTool(t, "chromium", "run deploy/local/tools.sh", err == nil)
	svc, _, _, _ := demoService(t)
	d, err := svc.Generate(context.Background(), report.Week{Year: reporttest.Year, Week: reporttest.Week}, report.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	html, err := report.Render(d, "html")
	if err != nil {
		t.Fatal(err)
	}
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
	for _, want := range []string{
		`id="kpi-exposures">26<`, `id="kpi-critical">6<`, "DUV lithography scanner", "95.0", "Shenzhen EV Drive Systems",
		"Top chokepoints", "Data freshness", "<svg",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if os.Getenv("CHAINWATCH_UPDATE_DOCS") == "1" {
		docs := filepath.Join(reporttest.RepoRoot(), "docs")
		if err := os.WriteFile(filepath.Join(docs, "digest-example.html"), html, 0o644); err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(dir, "full.png")
		run("--screenshot="+full, "--window-size=1200,3750", "file://"+page)
		b, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, "digest-example.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/digest-example.html and docs/digest-example.png")
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
