package detectors

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

const usgsDir = "../testdata/detectors/usgs_mcs2024_world"

// usgsStageOf derives the production stage from an MCS Type cell, as the USGS importer does.
func usgsStageOf(typ string) string {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "refinery"):
		return "refinery"
	case strings.Contains(t, "smelter"):
		return "smelter"
	case strings.Contains(t, "mine") || strings.Contains(t, "mne"):
		return "mine"
	case strings.Contains(t, "plant"):
		return "plant"
	}
	return "production"
}

// readUSGSWorld parses one MCS2024 world CSV (BOM, footnote letters, "W"/"NA", thousands commas,
// blank comma rows) into production records for the 2023 estimate column: one record per row,
// the stage from its Type, the "World total (rounded)" rows kept (as the importer stores them).
func readUSGSWorld(t *testing.T, file, commodity string) []*schemas.ProductionStat {
	t.Helper()
	f, err := os.Open(filepath.Join(usgsDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col, unit := -1, ""
	for i, h := range rows[0] {
		h = strings.TrimPrefix(h, "\ufeff")
		if strings.HasPrefix(h, "Prod_") && strings.HasSuffix(h, "2023") {
			col = i
			unit = strings.Split(h, "_")[1]
		}
	}
	if col < 0 {
		t.Fatalf("%s: no 2023 production column in %v", file, rows[0])
	}
	var out []*schemas.ProductionStat
	for _, row := range rows[1:] {
		if len(row) <= col || strings.TrimSpace(row[1]) == "" {
			continue
		}
		country := strings.TrimSpace(row[1])
		if strings.HasPrefix(strings.ToLower(country), "world") {
			country = "World"
		}
		p := &schemas.ProductionStat{Commodity: commodity, Country: country, Stage: usgsStageOf(row[2]), Year: 2023, Unit: unit}
		cell := strings.TrimSpace(strings.ReplaceAll(row[col], ",", ""))
		if v, err := strconv.ParseFloat(cell, 64); err == nil {
			p.Quantity = &v
		} else {
			p.Flag = "W" // W, NA, "Less than ½ unit.": no figure
		}
		out = append(out, p)
	}
	return out
}

// usgsInputs loads the given MCS files (file → commodity) into Inputs.
func usgsInputs(t *testing.T, files map[string]string) *Inputs {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Chokepoint.Governance = map[string]float64{}
	b := NewBuilder(cfg, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	for file, commodity := range files {
		for _, p := range readUSGSWorld(t, file, commodity) {
			if err := p.Validate(); err != nil {
				t.Fatalf("%s %s: %v", file, p.Country, err)
			}
			b.Add(p)
		}
	}
	return b.Inputs()
}

func materials(t *testing.T, in *Inputs) map[string]*ConcMetrics {
	t.Helper()
	a, err := in.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mats := map[string]*ConcMetrics{}
	for _, m := range a.Mats {
		mats[m.Key] = m
	}
	return mats
}

// Known answers: the leading producer of world production 2023 (MCS2024 estimates) and its share of
// the published "World total (rounded)". The quantities are read by eye from the CSVs (2023
// column); the expected share is computed here from them, never by the code under test.
func TestProductionConcentrationUSGS(t *testing.T) {
	cases := []struct {
		file, commodity, stage string
		top                    string
		qty, world             float64 // the top producer's 2023 figure and the World total row
		published              float64 // MCS2024 T5 "Leading_source_precent_world", percent (0: not used)
	}{
		{"mcs2024-galli_world.csv", "gallium", "production", "CHN", 600000, 610000, 98},
		{"mcs2024-raree_world.csv", "rare earths", "mine", "CHN", 240000, 350000, 69},
		{"mcs2024-tungs_world.csv", "tungsten", "mine", "CHN", 63000, 78000, 81},
		{"mcs2024-graph_world.csv", "graphite (natural)", "mine", "CHN", 1230000, 1600000, 77},
		{"mcs2024-antim_world.csv", "antimony", "mine", "CHN", 40000, 83000, 48},
		{"mcs2024-cobal_world.csv", "cobalt", "mine", "COD", 170000, 230000, 74},
		{"MCS2024-bismu_world.csv", "bismuth", "refinery", "CHN", 16000, 20000, 0},
	}
	files := map[string]string{"mcs2024-germa_world.csv": "germanium"}
	for _, c := range cases {
		files[c.file] = c.commodity
	}
	in := usgsInputs(t, files)
	mats := materials(t, in)
	for _, c := range cases {
		m := mats[c.commodity]
		if m == nil || !m.HasProd {
			t.Fatalf("%s: no production metrics", c.commodity)
		}
		want := c.qty / c.world
		got := m.Producers[0]
		if got.Key != c.top || math.Abs(got.Value-want) > 0.005 {
			t.Errorf("%s: top %s %.2f%%, want %s %.2f%% (%v / %v) ± 0.5 pp", c.commodity, got.Key, 100*got.Value, c.top, 100*want, c.qty, c.world)
		}
		if m.ProdStage != c.stage || m.ProdTotal != c.world || !m.Stages[0].OfWorld {
			t.Errorf("%s: stage %s, denominator %v (of World %v), want %s over the World total %v", c.commodity, m.ProdStage, m.ProdTotal, m.Stages[0].OfWorld, c.stage, c.world)
		}
		if c.published > 0 && math.Abs(100*got.Value-c.published) > 0.5 {
			t.Errorf("%s: %.2f%% is more than 0.5 pp from the published %v%%", c.commodity, 100*got.Value, c.published)
		}
		t.Logf("%-18s top %s %6.2f%% (USGS %v / %v = %.2f%%)  HHI %.4f", c.commodity, got.Key, 100*got.Value, c.qty, c.world, 100*want, m.ProdHHI)
	}
	// germanium: every figure is NA or W — no production metrics and no chokepoint finding
	if m := mats["germanium"]; m != nil && m.HasProd {
		t.Errorf("germanium has production metrics %+v", m)
	}
	fs, err := chokepoint{}.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Subject == "germanium" {
			t.Errorf("germanium finding without data: %+v", f)
		}
	}
	// gallium HHI over the World total, from the published rows: China, Japan, Korea, Russia.
	wantHHI := (600000.0*600000 + 3000*3000 + 2000*2000 + 5000*5000) / (610000.0 * 610000)
	if h := mats["gallium"].ProdHHI; math.Abs(h-wantHHI) > 1e-9 {
		t.Errorf("gallium HHI %.6f, want %.6f", h, wantHHI)
	}
}

// Helium: the United States has two rows (extracted from natural gas 60, Cliffside Field 19 million
// m³); they are one producer: 79 / 170 (World total).
func TestProductionCountryRowsSummedUSGS(t *testing.T) {
	m := materials(t, usgsInputs(t, map[string]string{"mcs2024-heliu_world.csv": "helium"}))["helium"]
	if m == nil || !m.HasProd {
		t.Fatal("no helium production metrics")
	}
	top := m.Producers[0]
	if top.Key != "USA" || math.Abs(top.Value-79.0/170) > 1e-9 {
		t.Errorf("helium top %s %.4f, want USA %.4f (60 + 19 of 170)", top.Key, top.Value, 79.0/170)
	}
	for _, p := range m.Producers[1:] {
		if p.Key == "USA" || strings.HasPrefix(p.Key, "UNITED STATES") {
			t.Errorf("the United States appears twice: %v", m.Producers)
		}
	}
}

// Every stage with data is scored: copper mine and refinery, bauxite mine and alumina refinery. The
// binding (most concentrated) stage enters world_hhi; each stage is listed as a term.
func TestProductionEveryStageUSGS(t *testing.T) {
	in := usgsInputs(t, map[string]string{"mcs2024-coppe_world.csv": "copper", "mcs2024-bauxi_world.csv": "bauxite and alumina"})
	mats := materials(t, in)
	cases := []struct {
		commodity, stage, top string
		qty, world            float64
		stages                []string
	}{
		// copper refinery: China 12 000 of 27 000 kt; mine: Chile 5 000 of 22 000 kt (less concentrated)
		{"copper", "refinery", "CHN", 12000, 27000, []string{"mine", "refinery"}},
		// alumina (refinery): China 82 000 of 140 000 kt
		{"bauxite and alumina", "refinery", "CHN", 82000, 140000, []string{"mine", "refinery"}},
	}
	for _, c := range cases {
		m := mats[c.commodity]
		if m == nil || len(m.Stages) != len(c.stages) {
			t.Fatalf("%s: stages %+v, want %v", c.commodity, m, c.stages)
		}
		for i, st := range m.Stages {
			if st.Stage != c.stages[i] || !(st.HHI > 0) {
				t.Errorf("%s: stage %d is %s (HHI %v), want %s", c.commodity, i, st.Stage, st.HHI, c.stages[i])
			}
		}
		if m.ProdStage != c.stage || m.Producers[0].Key != c.top || math.Abs(m.Producers[0].Value-c.qty/c.world) > 1e-9 {
			t.Errorf("%s: binding %s %v, want %s %s %.4f", c.commodity, m.ProdStage, m.Producers[0], c.stage, c.top, c.qty/c.world)
		}
		terms := concTerms(in, m)
		names := map[string]Term{}
		for _, tm := range terms {
			names[tm.Name] = tm
		}
		for _, s := range c.stages {
			tm, ok := names["production_hhi_"+s]
			if !ok || !strings.Contains(tm.Detail, "share of the USGS World total") {
				t.Errorf("%s: term production_hhi_%s missing or without its basis: %+v", c.commodity, s, tm)
			}
		}
		if w := names["world_hhi"]; w.Value != m.ProdHHI || !strings.Contains(w.Detail, "production "+c.stage) {
			t.Errorf("%s: world_hhi %+v, want the %s stage's HHI %v", c.commodity, w, c.stage, m.ProdHHI)
		}
	}
	// the mine stage of copper: Chile 5 000 / 22 000
	mine := mats["copper"].Stages[0]
	if mine.Producers[0].Key != "CHL" || math.Abs(mine.Producers[0].Value-5000.0/22000) > 1e-9 {
		t.Errorf("copper mine top %v, want CHL %.4f", mine.Producers[0], 5000.0/22000)
	}
}
