package chainmap_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/chainmap"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

const token = "cw_chainmap_test_token"

// demoServer loads the demo supply map and substitution list into a fresh ClickHouse database,
// runs the detectors on it and serves the real API handler with the demo chains.
func demoServer(t *testing.T) *httptest.Server {
	t.Helper()
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	envs, recs := chainmap.DemoEnvelopes(t)
	rows := map[schemas.Kind][][]any{}
	for i := range envs {
		rows[envs[i].Kind] = append(rows[envs[i].Kind], recs[i].AppendValues(schemas.AppendEnvelope(nil, &envs[i])))
	}
	for kind, rs := range rows {
		spec, _ := schemas.Lookup(kind)
		if err := chstore.Insert(ctx, conn, spec.InsertSQL(), rs); err != nil {
			t.Fatalf("insert %s: %v", kind, err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner, err := detectors.NewRunner(conn, detectors.DefaultConfig(), nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.RunOnce(ctx); err != nil {
		t.Fatalf("detectors: %v", err)
	}
	chains, err := chainmap.Config{File: "../../deploy/demo/chains.yaml"}.Load()
	if err != nil {
		t.Fatal(err)
	}
	expCfg := exposure.DefaultConfig()
	svc := chainmap.NewService(chains, chainmap.NewStore(conn, expCfg.Detector), chainmap.Options{
		Home: "CHN", Severity: expCfg.Severity, Regions: chainmap.GroupRegions{Config: detectors.DefaultRegions()}})
	cfg := api.DefaultConfig()
	sum := sha256.Sum256([]byte(token))
	cfg.Tokens = []api.TokenConfig{{Name: "test", Role: api.RoleRead, SHA256: confkit.Secret(hex.EncodeToString(sum[:]))}}
	srv := httptest.NewServer(api.New(api.Deps{Store: exposure.NewStore(conn, expCfg), Chains: svc}, cfg, log))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestChainMapAPIIntegration reads the demo chains through the API: the list, the JSON map with
// its gaps and exposure colours, the SVG, the regional view and the errors.
func TestChainMapAPIIntegration(t *testing.T) {
	srv := demoServer(t)
	code, _, b := get(t, srv, "/api/v1/chains")
	var list api.List[api.ChainSummary]
	if code != 200 || json.Unmarshal(b, &list) != nil || list.Total != 3 || list.Items[0].ID != "nev" || list.Items[0].MapURL != "/api/v1/chains/nev/map" {
		t.Fatalf("chains: %d %s", code, b)
	}
	code, _, b = get(t, srv, "/api/v1/chains/nev/map")
	var m chainmap.Map
	if code != 200 || json.Unmarshal(b, &m) != nil || len(m.Links) != 4 {
		t.Fatalf("nev map: %d %s", code, b)
	}
	if len(m.Gaps) != 1 || m.Gaps[0].Link != "power-chips" || m.Gaps[0].Kind != chainmap.GapDomestic {
		t.Errorf("nev gaps: %+v", m.Gaps)
	}
	coloured := 0
	for _, l := range m.Links {
		for _, g := range l.Groups {
			for _, mb := range g.Members {
				if mb.Severity != "" {
					coloured++
				}
			}
		}
	}
	if m.MaxScore == nil || m.Severity == "" || coloured < 3 {
		t.Errorf("nev map not coloured by the latest exposures: max %v %q, %d coloured members", m.MaxScore, m.Severity, coloured)
	}
	code, _, b = get(t, srv, "/api/v1/chains/semiconductors/map?region=%E4%BA%AC%E6%B4%A5%E5%86%80") // 京津冀
	m = chainmap.Map{}
	if code != 200 || json.Unmarshal(b, &m) != nil || m.Region != "京津冀" || m.Links[3].InRegion == nil || *m.Links[3].InRegion != 1 {
		t.Fatalf("semiconductors in 京津冀: %d %s", code, b)
	}
	code, h, b := get(t, srv, "/api/v1/chains/robots/map?format=svg")
	if code != 200 || h.Get("Content-Type") != "image/svg+xml; charset=utf-8" || !bytes.HasPrefix(b, []byte("<svg")) || !bytes.Contains(b, []byte("京北精工机器人")) {
		t.Errorf("robots svg: %d %s %.200s", code, h.Get("Content-Type"), b)
	}
	for path, want := range map[string]int{
		"/api/v1/chains/nope/map":            404,
		"/api/v1/chains/nev/map?format=pdf":  400,
		"/api/v1/chains/nev/map?colour=red":  400,
		"/api/v1/chains/nev/map?region=%00x": 400,
	} {
		if code, _, b := get(t, srv, path); code != want {
			t.Errorf("%s: %d %s, want %d", path, code, b, want)
		}
	}
}

// TestChainMapChromiumIntegration renders the HTML map of the demo NEV chain (京津冀 view) served
// by the real handler in headless Chromium: the screenshot is not blank and the key names are in
// the DOM. With CHAINWATCH_UPDATE_DOCS=1 it writes docs/chainmap-example.png.
func TestChainMapChromiumIntegration(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		browser, err = exec.LookPath("chromium-browser")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is required under CI=true (deploy/local/tools.sh)")
		}
		t.Skip("chromium missing (deploy/local/tools.sh)")
	}
	srv := demoServer(t)
	code, h, page := get(t, srv, "/api/v1/chains/nev/map?format=html&region=%E4%BA%AC%E6%B4%A5%E5%86%80")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("html map: %d %s", code, page)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "chainmap.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "chainmap.png")
	headless(t, browser, dir, "--screenshot="+shot, "--window-size=1240,1100", "file://"+file)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	bounds, ink, n := img.Bounds(), 0, 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			n++
			if r, g, b, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
				ink++
			}
		}
	}
	if frac := float64(ink) / float64(n); frac < 0.04 {
		t.Errorf("screenshot looks blank: %.2f%% non-white", 100*frac)
	} else {
		t.Logf("screenshot %dx%d, %.1f%% non-white", bounds.Dx(), bounds.Dy(), 100*frac)
	}
	dom := string(headless(t, browser, dir, "--dump-dom", "--virtual-time-budget=2000", "file://"+file))
	for _, want := range []string{
		"新能源汽车产业链 NEV", "关键材料 Key materials", "功率与控制芯片 Power &amp; control chips", "整车 Vehicle",
		"Infineon Technologies", "华友钴业 Huayou Cobalt", "中铝 Chalco", "华东新能源汽车集团", "GAP 缺口", `id="legend"`,
		`class="gap" data-kind="domestic"`, `class="gap" data-kind="region"`, "◆ CHN · 北京 (区域内 in region)", "<svg",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if os.Getenv("CHAINWATCH_UPDATE_DOCS") == "1" {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/chainmap-example.png", b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("wrote docs/chainmap-example.png")
	}
}

// headless runs one headless Chromium command in a profile under dir and returns its stdout.
func headless(t *testing.T, browser, dir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-sync",
		"--disable-background-networking", "--disable-component-update", "--user-data-dir=" + filepath.Join(dir, "profile")}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, browser, append(flags, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", browser, args, err, errb.String())
	}
	return out.Bytes()
}
