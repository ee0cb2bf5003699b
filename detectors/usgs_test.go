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

// readUSGSWorld parses one MCS2024 world CSV (BOM, footnote letters, "W"/"NA", thousands commas,
// blank comma rows) into production records for the 2023 estimate column.
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
		p := &schemas.ProductionStat{Commodity: commodity, Country: strings.TrimSpace(row[1]), Stage: "mine", Year: 2023, Unit: unit}
		cell := strings.TrimSpace(strings.ReplaceAll(row[col], ",", ""))
		if v, err := strconv.ParseFloat(cell, 64); err == nil {
			p.Quantity = &v
		} else {
			p.Flag = cell // W, NA, ...
		}
		out = append(out, p)
	}
	return out
}

// Known answers: shares and HHI of world mine production 2023 (MCS2024 estimates) against the
// leading-country share USGS publishes in MCS2024 Table 5 ("Leading_source_precent_world").
func TestProductionConcentrationUSGS(t *testing.T) {
	cases := []struct {
		file, commodity string
		top             string
		topShare        float64 // our share: country ÷ Σ non-World, non-withheld rows
		published       float64 // T5 leading share, percent
		hhi             float64 // Σ named country shares², "Other countries" atomistic
		countries       int
	}{
		{"mcs2024-cobal_world.csv", "cobalt", "COD", 170000.0 / 229300, 74, 0.558369, 12},
		{"mcs2024-galli_world.csv", "gallium", "CHN", 600000.0 / 610000, 98, 0.967584, 4},
		{"mcs2024-raree_world.csv", "rare earths", "CHN", 240000.0 / 353320, 69, 0.490919, 11},
	}
	cfg := DefaultConfig()
	cfg.Chokepoint.Governance = map[string]float64{}
	b := NewBuilder(cfg, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	for _, c := range cases {
		for _, p := range readUSGSWorld(t, c.file, c.commodity) {
			if err := p.Validate(); err != nil {
				t.Fatalf("%s %s: %v", c.file, p.Country, err)
			}
			b.Add(p)
		}
	}
	in := b.Inputs()
	if _, err := RunAll(context.Background(), in, nil); err != nil {
		t.Fatal(err)
	}
	mats := map[string]*ConcMetrics{}
	a, err := in.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range a.Mats {
		mats[m.Key] = m
	}
	for _, c := range cases {
		m := mats[c.commodity]
		if m == nil || !m.HasProd {
			t.Fatalf("%s: no production metrics", c.commodity)
		}
		if m.Producers[0].Key != c.top || math.Abs(m.Producers[0].Value-c.topShare) > 1e-9 {
			t.Errorf("%s: top %s %.4f, want %s %.4f", c.commodity, m.Producers[0].Key, m.Producers[0].Value, c.top, c.topShare)
		}
		// USGS divides by the rounded "World total" row (rare earths: 240,000 / 350,000 = 68.6% → 69);
		// we divide by the sum of the country rows (353,320 t): up to ~1.5 pp apart.
		if math.Abs(100*m.Producers[0].Value-c.published) > 1.5 {
			t.Errorf("%s: top share %.1f%% differs from the published %v%% by more than 1.5 pp", c.commodity, 100*m.Producers[0].Value, c.published)
		}
		if math.Abs(m.ProdHHI-c.hhi) > 1e-6 {
			t.Errorf("%s: HHI %.6f, want %.6f", c.commodity, m.ProdHHI, c.hhi)
		}
		positive := 0
		for _, p := range m.Producers {
			if p.Value > 0 {
				positive++
			}
		}
		if positive != c.countries {
			t.Errorf("%s: %d producing countries, want %d (%v)", c.commodity, positive, c.countries, m.Producers)
		}
		t.Logf("%-12s top %s %.1f%% (USGS T5: %v%%)  HHI %.4f (%.0f points)  effective producers %.2f",
			c.commodity, m.Producers[0].Key, 100*m.Producers[0].Value, c.published, m.ProdHHI, 1e4*m.ProdHHI, EffectiveNumber(m.ProdHHI))
	}
}
