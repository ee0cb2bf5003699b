package whatif

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors/supplygraph"
	"github.com/chainwatch/chainwatch/schemas"
)

// synthGraph builds a layered supply graph: levels × width items; level 0 are bought parts and
// materials (1% gallium, HS 811292), each higher item is made by one of ents enterprises (the
// first leaders are 链主 and make the top level) from fanIn items of the level below. Every
// (maker, level-0 input) pair is bought from 1–2 of sups suppliers in 10 countries; every pair
// has 5–60 days of stock. Returns the graph and its edge count (BOM + supplies + makes).
func synthGraph(tb testing.TB, levels, width, fanIn, ents, leaders, sups int) (*supplygraph.Graph, int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(13, 2026))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	countries := []string{"CHN", "USA", "JPN", "DEU", "KOR", "TWN", "NLD", "MYS", "FRA", "GBR"}
	b := supplygraph.NewBuilder()
	for e := range ents {
		b.Add(&schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: fmt.Sprintf("E%d", e), Country: "CHN", ChainLeader: e < leaders, AsOf: at})
	}
	for s := range sups {
		b.Add(&schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: fmt.Sprintf("S%d", s), Country: countries[s%len(countries)], AsOf: at})
	}
	id := func(l, i int) string { return fmt.Sprintf("L%d-%d", l, i) }
	edges := 0
	for l := range levels {
		for i := range width {
			n := &schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: id(l, i), Category: schemas.CategoryOther, AsOf: at}
			if l == 0 && i%100 == 0 {
				n.HSCode = "811292"
			}
			b.Add(n)
			if l == 0 {
				continue
			}
			maker := rng.IntN(ents)
			if l == levels-1 {
				maker = rng.IntN(leaders)
			}
			ent := fmt.Sprintf("E%d", maker)
			b.Add(&schemas.SupplyNode{NodeType: schemas.NodeProduct, NodeID: id(l, i), AsOf: at})
			b.Add(&schemas.SupplyLink{LinkType: schemas.LinkMakes, EnterpriseID: ent, ProductID: id(l, i), AsOf: at})
			edges++
			for range fanIn {
				c := id(l-1, rng.IntN(width))
				b.Add(&schemas.SupplyLink{LinkType: schemas.LinkBOM, ProductID: id(l, i), ComponentID: c, QtyPerUnit: 1, AsOf: at})
				perDay := 1 + rng.Float64()*9
				b.Add(&schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: ent, ComponentID: c, InventoryUnits: perDay * (5 + 55*rng.Float64()), ConsumptionPerDay: perDay, AsOf: at})
				edges++
				if l == 1 {
					n := 1 + rng.IntN(2)
					for k := range n {
						b.Add(&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: ent, ComponentID: c, SupplierID: fmt.Sprintf("S%d", rng.IntN(sups)),
							Share: 1 / float64(n), Qualification: []string{"qualified", "in_progress"}[k%2], AsOf: at})
						edges++
					}
				}
			}
		}
	}
	g, err := b.Build()
	if err != nil {
		tb.Fatal(err)
	}
	return g, edges
}

func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "rss n/a"
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "VmHWM:") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

// BenchmarkScenario1MEdges: a gallium restriction by CHN plus a supplier outage on a graph of
// 5 levels × 50,000 items with fan-in 4 (≈1.1M edges). Figures are printed, not asserted.
func BenchmarkScenario1MEdges(b *testing.B) {
	t0 := time.Now()
	g, edges := synthGraph(b, 5, 50_000, 4, 1000, 100, 5000)
	runtime.GC()
	build := time.Since(t0)
	en := New(g, nil, DefaultConfig())
	start := Date{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	sc := Scenario{Name: "bench", Shocks: []Shock{
		{Type: ShockExport, Country: "CHN", Material: "gallium", Share: 1, Start: start, DurationDays: 120},
		{Type: ShockSupplier, Supplier: "S7", Start: start, DurationDays: 60},
	}}
	var res *Result
	b.ResetTimer()
	for b.Loop() {
		var err error
		if res, err = en.Run(sc); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	fmt.Printf("scenario on %d items, %d edges (graph built in %s): %d (enterprise, product) stops, %.3f s/run; %s\n",
		len(g.Items), edges, build.Round(time.Millisecond), len(res.Stops), b.Elapsed().Seconds()/float64(b.N), rss())
}

// BenchmarkReverseStress100Leaders: the reverse stress test for 100 链主 (every supplier, site and
// material × country candidate) on 5 levels × 10,000 items (≈220k edges).
func BenchmarkReverseStress100Leaders(b *testing.B) {
	g, edges := synthGraph(b, 5, 10_000, 4, 1000, 100, 2000)
	en := New(g, nil, DefaultConfig())
	var out []StressResult
	b.ResetTimer()
	for b.Loop() {
		var err error
		if out, err = en.ReverseStress(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	found := 0
	for _, r := range out {
		if r.Found {
			found++
		}
	}
	fmt.Printf("reverse stress: %d leader products, %d stopped by a single shock, %d candidates, %d items, %d edges: %.2f s/run; %s\n",
		len(out), found, out[0].Candidates, len(g.Items), edges, b.Elapsed().Seconds()/float64(b.N), rss())
}
