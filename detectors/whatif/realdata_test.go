package whatif_test

import (
	"encoding/csv"
	"fmt"
	"github.com/chainwatch/chainwatch/detectors/whatif"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// comtradeShare reads the Comtrade CSV directly (not through collectors): reporter's imports of hs
// from partner ÷ from the world (partner code 0) in the latest year.
func comtradeShare(t *testing.T, path, reporter, partner, hs string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	byYear := map[int][2]float64{}
	for _, r := range rows[1:] {
		if r[col["reporterCode"]] != reporter || r[col["flowCode"]] != "M" || r[col["cmdCode"]] != hs {
			continue
		}
		y, _ := strconv.Atoi(r[col["refYear"]])
		v, _ := strconv.ParseFloat(r[col["primaryValue"]], 64)
		a := byYear[y]
		switch r[col["partnerCode"]] {
		case "0":
			a[1] += v
		case partner:
			a[0] += v
		}
		byYear[y] = a
	}
	last := 0
	for y := range byYear {
		last = max(last, y)
	}
	return byYear[last][0] / byYear[last][1]
}

// TestGalliumCHNRealData: a 180-day CHN export restriction on gallium from 2027-01-01, through the
// demo supply map, with the bundled USGS and Comtrade data. Wolfspeed (USA) supplies all GaN
// devices of E-NEV and E-SEMI; its dependence on CHN is the US import share of HS 811292 from CHN
// (computed here from the CSV). Chalco (CHN) → E-SEMI gallium is domestic: no loss.
//
//	E-NEV/C-GAN-HEMT: 24000 ÷ (4800/d × dep) d cover; Innoscience (in progress) ready day 90.
//	E-SEMI/C-GAN-RF:  40 ÷ (1.6/d × dep) d cover; no alternate; shock ends day 180.
func TestGalliumCHNRealData(t *testing.T) {
	recs := importAll(t,
		[2]string{"supplymap", "../../deploy/demo/supplymap"},
		[2]string{"substitution", "../../deploy/demo/substitution.csv"},
		[2]string{"production", "../../deploy/demo/real/usgs/mcs2024-galli_world.csv"},
		[2]string{"trade", "../../deploy/demo/real/comtrade/gallium_trade_data.csv"})
	en := whatif.New(buildGraph(t, recs), whatif.NewExposure(recs), whatif.DefaultConfig())
	f, err := os.Open("../../deploy/demo/whatif-gallium-chn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := whatif.ParseScenario(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	res, err := en.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	dep := comtradeShare(t, "../../deploy/demo/real/comtrade/gallium_trade_data.csv", "842", "156", "811292")
	if dep < 0.05 || dep > 0.5 {
		t.Fatalf("US import share from CHN %.3f: the CSV reading is off", dep)
	}
	nevCover := 24000 / (4800 * dep)
	semiCover := 40 / (1.6 * dep)
	want := []struct {
		stop       string
		from, days float64
	}{
		{"E-NEV/P-EV-DRIVE", nevCover, 90 - nevCover},
		{"E-SEMI/P-ETCHER", semiCover, 180 - semiCover},
	}
	if len(res.Stops) != len(want) {
		t.Fatalf("stops %+v absorbed %q scenario %+v", res.Stops, res.Absorbed, sc)
	}
	for i, w := range want {
		s := res.Stops[i]
		from := s.FirstStop.Sub(sc.Shocks[0].Start.Time).Hours() / 24
		if s.Enterprise+"/"+s.Product != w.stop || math.Abs(from-w.from) > 1e-3 || math.Abs(s.DaysStopped-w.days) > 0.006 {
			t.Errorf("stop %d: %s/%s from day %.3f for %.2f d, want %s from day %.3f for %.2f d", i, s.Enterprise, s.Product, from, s.DaysStopped, w.stop, w.from, w.days)
		}
		if !strings.Contains(s.Arithmetic[0], fmt.Sprintf("= %.1f%%", 100*dep)) || !strings.Contains(strings.Join(s.Path, " | "), "C-GALLIUM ⊂ C-GAN") {
			t.Errorf("%s: arithmetic %q path %q", w.stop, s.Arithmetic, s.Path)
		}
		t.Logf("%s: first stop %s, %.1f d; path %s; %s; action: %s", w.stop, s.FirstStop.Format(time.DateOnly), s.DaysStopped,
			strings.Join(s.Path, " → "), strings.Join(s.Arithmetic, " | "), s.Action)
	}
	for _, s := range res.Stops {
		if s.Product == "P-LITHO-TRACK" {
			t.Errorf("domestic gallium (Chalco → E-SEMI) must not be lost: %+v", s)
		}
	}
}
