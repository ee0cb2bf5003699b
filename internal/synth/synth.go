// Package synth generates realistic synthetic supply networks as chainwatch schemas records: several
// tiers (OEMs, tier-1 suppliers that buy in turn, raw-material suppliers), heavy-tailed degrees
// (Zipf-distributed popularity of components, suppliers and buyers), countries with skewed shares
// (each component has a dominant supplier country), stocks, BOMs, substitution lists, procurement
// awards, availability series, production statistics and Comtrade-style trade rows.
//
// Output is streamed through a callback so that millions of records never sit in memory at once.
// The same Config and Seed always give the same records.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// Config sizes one synthetic network.
type Config struct {
	// Edges is the target number of supply_links (makes + bom + supplies + stocks); the result is
	// within a few percent of it.
	Edges int
	// TradeRows is the target number of trade_flows rows (0: only the rows the components' HS codes need).
	TradeRows int
	Seed      uint64
	Now       time.Time
	HomeISO3  string // the monitored (domestic) country, default CHN
	HomeM49   uint16 // default 156
}

// Stats counts what Generate emitted.
type Stats struct {
	Records     int
	ByKind      map[schemas.Kind]int
	Links       int
	Enterprises int
	Suppliers   int
	Components  int
	Products    int
	Pairs       int
}

type country struct {
	iso    string
	m49    uint16
	weight float64
}

// countries with skewed supplier shares (rough order of electronics / materials supply).
var countries = []country{
	{"CHN", 156, 30}, {"USA", 842, 12}, {"JPN", 392, 10}, {"DEU", 276, 8}, {"KOR", 410, 8}, {"TWN", 490, 8},
	{"NLD", 528, 3}, {"MYS", 458, 3}, {"VNM", 704, 3}, {"FRA", 251, 2}, {"GBR", 826, 2}, {"ITA", 380, 2},
	{"IND", 699, 2}, {"THA", 764, 2}, {"MEX", 484, 1.5}, {"CAN", 124, 1.5}, {"AUS", 36, 1}, {"BRA", 76, 1},
	{"RUS", 643, 1}, {"COD", 180, 0.5}, {"CHL", 152, 0.5}, {"IDN", 360, 1}, {"ZAF", 710, 0.5}, {"SGP", 702, 1},
}

// realHS are real HS6 codes used for components (the rest of the trade table uses synthetic codes).
var realHS = []string{"854231", "854232", "854233", "854239", "811292", "810520", "280530", "250410", "381800",
	"850650", "850760", "853400", "854140", "903180", "847149", "848210", "731815", "848340", "850132", "870899",
	"284690", "811220", "810890", "282200", "750210", "740311", "283691", "720293", "846693", "901380"}

var materials = []string{"cobalt", "gallium", "germanium", "rare earths", "graphite", "lithium", "tungsten", "antimony", "nickel", "silicon"}

type gen struct {
	cfg   Config
	r     *rand.Rand
	emit  func(schemas.Record)
	st    *Stats
	asOf  time.Time
	cumW  []float64
	byCty [][]int // supplier indexes per country

	// the network's shape, drawn by Generate's stages in order
	pairs, nEnt, nSup, nComp, nTier1 int
	supCountry                       []int    // country index per supplier
	compTier                         []uint8  // per component
	compDom                          []int    // dominant country per component
	compHS                           []string // HS code per component
	pools                            [][]int32
	entComps                         [][]int32 // components each OEM buys
	supZ, compZ, entZ                *rand.Zipf
}

func (g *gen) out(rec schemas.Record) {
	g.st.Records++
	g.st.ByKind[rec.Kind()]++
	if rec.Kind() == schemas.KindSupplyLink {
		g.st.Links++
	}
	g.emit(rec)
}

func (g *gen) country() int {
	x := g.r.Float64() * g.cumW[len(g.cumW)-1]
	for i, w := range g.cumW {
		if x < w {
			return i
		}
	}
	return len(g.cumW) - 1
}

// zipf draws 0..n-1 with P(k) ∝ 1/(k+1)^s (s > 1), heavy-tailed.
func (g *gen) zipf(z *rand.Zipf) int { return int(z.Uint64()) }

func newZipf(r *rand.Rand, s float64, n int) *rand.Zipf {
	return rand.NewZipf(r, s, 1, uint64(max(n, 2)-1))
}

// Generate streams a network of about cfg.Edges supply links (and cfg.TradeRows trade rows) to emit.
func Generate(cfg Config, emit func(schemas.Record)) Stats {
	if cfg.HomeISO3 == "" {
		cfg.HomeISO3, cfg.HomeM49 = "CHN", 156
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	st := Stats{ByKind: map[schemas.Kind]int{}}
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), emit: emit, st: &st, asOf: cfg.Now.Add(-24 * time.Hour)}
	sum := 0.0
	for _, c := range countries {
		sum += c.weight
		g.cumW = append(g.cumW, sum)
	}
	// proportions (measured): supplies ≈ 1.8 per pair, stocks 0.7, makes + bom ≈ 0.3 → ≈ 2.6 links per pair
	g.pairs = max(cfg.Edges*10/26, 20)
	g.nEnt = max(g.pairs/10, 5)
	g.nSup = max(g.pairs/6, 10)
	g.nComp = max(g.pairs/12, 8)
	g.nTier1 = g.nSup / 5 // the first fifth of suppliers also buy (tier-1 enterprises)
	st.Enterprises, st.Suppliers, st.Components = g.nEnt+g.nTier1, g.nSup, g.nComp

	g.nodes()
	g.supplierPools()
	g.pairLinks()
	g.products()
	g.substitutions()
	g.awards()
	g.availability()
	g.production()
	g.trade()
	return st
}

// nodes emits the enterprises, suppliers (the first fifth also as tier-1 enterprises) and components.
func (g *gen) nodes() {
	for i := 0; i < g.nEnt; i++ {
		ci := 0 // enterprises are mostly domestic
		if g.r.Float64() < 0.1 {
			ci = g.country()
		}
		c := countries[ci]
		g.out(&schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: entID(i), Name: fmt.Sprintf("Enterprise %d", i),
			Country: c.iso, Domestic: c.iso == g.cfg.HomeISO3, Region: fmt.Sprintf("R%02d", g.r.IntN(31)),
			Industry:    []string{"ev", "electronics", "machinery", "aerospace", "medical"}[g.r.IntN(5)],
			ChainLeader: g.r.Float64() < 0.05, AsOf: g.asOf})
	}
	g.byCty = make([][]int, len(countries))
	g.supCountry = make([]int, g.nSup)
	for i := 0; i < g.nSup; i++ {
		ci := g.country()
		g.supCountry[i] = ci
		g.byCty[ci] = append(g.byCty[ci], i)
		c := countries[ci]
		n := &schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: supID(i), Name: fmt.Sprintf("Supplier %d", i),
			Country: c.iso, Domestic: c.iso == g.cfg.HomeISO3, Chokepoint: g.r.Float64() < 0.002, AsOf: g.asOf}
		g.out(n)
		if i < g.nTier1 {
			g.out(&schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: supID(i), Name: n.Name, Country: c.iso,
				Domestic: n.Domestic, Industry: "components", AsOf: g.asOf})
		}
	}
	hsZ := newZipf(g.r, 1.3, len(realHS))
	g.compTier = make([]uint8, g.nComp)
	g.compDom = make([]int, g.nComp)
	g.compHS = make([]string, g.nComp)
	for i := 0; i < g.nComp; i++ {
		g.compTier[i] = uint8(g.r.IntN(3))
		g.compDom[i] = g.country()
		g.compHS[i] = realHS[g.zipf(hsZ)]
		g.out(&schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: compID(i), Name: fmt.Sprintf("Component %d", i),
			Category: schemas.Categories[g.r.IntN(len(schemas.Categories))], HSCode: g.compHS[i],
			Chokepoint: g.r.Float64() < 0.01, AsOf: g.asOf})
	}
}

// supplierPools draws each component's supplier pool: heavy-tailed size, biased to its dominant country.
func (g *gen) supplierPools() {
	g.supZ = newZipf(g.r, 1.1, g.nSup)
	g.pools = make([][]int32, g.nComp)
	for i := 0; i < g.nComp; i++ {
		size := min(1+int(math.Floor(paretoDraw(g.r, 1.2))), 40)
		seen := map[int]bool{}
		for tries := 0; len(g.pools[i]) < size && tries < size*4; tries++ {
			var s int
			if dc := g.byCty[g.compDom[i]]; len(dc) > 0 && g.r.Float64() < 0.6 {
				s = dc[g.r.IntN(len(dc))]
			} else {
				s = g.zipf(g.supZ)
			}
			if !seen[s] {
				seen[s] = true
				g.pools[i] = append(g.pools[i], int32(s))
			}
		}
	}
}

// pairLinks emits buyer (OEM or tier-1) × component pairs with Zipf popularity on both sides: supplies
// links with shares, some in qualification, and stocks links.
func (g *gen) pairLinks() {
	g.compZ = newZipf(g.r, 1.05, g.nComp)
	g.entZ = newZipf(g.r, 1.1, g.nEnt)
	tierZ := newZipf(g.r, 1.1, max(g.nTier1, 1))
	g.entComps = make([][]int32, g.nEnt)
	seenPair := make(map[uint64]struct{}, g.pairs)
	for tries := 0; g.st.Pairs < g.pairs && tries < g.pairs*4; tries++ {
		c := g.zipf(g.compZ)
		var buyer string
		ent := -1
		if g.compTier[c] > 0 && g.nTier1 > 0 && g.r.Float64() < 0.5 {
			t := g.zipf(tierZ)
			buyer = supID(t)
			if _, dup := seenPair[uint64(g.nEnt+t)<<32|uint64(c)]; dup {
				continue
			}
			seenPair[uint64(g.nEnt+t)<<32|uint64(c)] = struct{}{}
		} else {
			ent = g.zipf(g.entZ)
			buyer = entID(ent)
			if _, dup := seenPair[uint64(ent)<<32|uint64(c)]; dup {
				continue
			}
			seenPair[uint64(ent)<<32|uint64(c)] = struct{}{}
			g.entComps[ent] = append(g.entComps[ent], int32(c))
		}
		g.st.Pairs++
		pool := g.pools[c]
		k := 1
		for k < len(pool) && g.r.Float64() < 0.55 {
			k++
		}
		start := g.r.IntN(len(pool))
		weights := make([]float64, k)
		tot := 0.0
		for j := range weights {
			weights[j] = math.Pow(g.r.Float64()+0.05, 2)
			tot += weights[j]
		}
		for j := 0; j < k; j++ {
			s := pool[(start+j)%len(pool)]
			if supID(int(s)) == buyer {
				continue
			}
			g.out(&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: buyer, ComponentID: compID(c),
				SupplierID: supID(int(s)), Share: math.Round(weights[j]/tot*1e4) / 1e4, Qualification: "qualified", AsOf: g.asOf})
		}
		if len(pool) > k && g.r.Float64() < 0.15 {
			s := pool[(start+k)%len(pool)]
			if supID(int(s)) != buyer {
				g.out(&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: buyer, ComponentID: compID(c),
					SupplierID: supID(int(s)), Qualification: "in_progress", AsOf: g.asOf})
			}
		}
		if g.r.Float64() < 0.7 {
			perDay := math.Round(1 + 500*g.r.Float64()*g.r.Float64())
			tts := math.Exp(math.Log(45) + 0.8*g.r.NormFloat64())
			g.out(&schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: buyer, ComponentID: compID(c),
				InventoryUnits: math.Round(perDay * tts), ConsumptionPerDay: perDay, AsOf: g.asOf})
		}
	}
}

// products emits 1..5 products per OEM whose BOMs use the OEM's components.
func (g *gen) products() {
	prod := 0
	for e := 0; e < g.nEnt; e++ {
		comps := g.entComps[e]
		if len(comps) == 0 {
			continue
		}
		np := 1 + min(len(comps)/8, 4)
		for p := 0; p < np; p++ {
			id := fmt.Sprintf("P%07d", prod)
			prod++
			g.out(&schemas.SupplyNode{NodeType: schemas.NodeProduct, NodeID: id, Name: "Product " + id[1:], AsOf: g.asOf})
			g.out(&schemas.SupplyLink{LinkType: schemas.LinkMakes, EnterpriseID: entID(e), ProductID: id, AsOf: g.asOf})
			n := min(len(comps), 3+g.r.IntN(6))
			off := g.r.IntN(len(comps))
			for j := 0; j < n; j++ {
				g.out(&schemas.SupplyLink{LinkType: schemas.LinkBOM, ProductID: id, ComponentID: compID(int(comps[(off+j)%len(comps)])),
					QtyPerUnit: float64(1 + g.r.IntN(8)), AsOf: g.asOf})
			}
		}
	}
	g.st.Products = prod
}

// substitutions emits alternates for 30% of components.
func (g *gen) substitutions() {
	for c := 0; c < g.nComp; c++ {
		if g.r.Float64() >= 0.3 {
			continue
		}
		for j := 0; j < 1+g.r.IntN(2); j++ {
			s := g.zipf(g.supZ)
			cty := countries[g.supCountry[s]]
			g.out(&schemas.Substitution{ComponentID: compID(c), AltSupplierID: supID(s), QualificationDays: float64(30 + g.r.IntN(330)),
				Domestic: cty.iso == g.cfg.HomeISO3, Country: cty.iso, AsOf: g.asOf})
		}
	}
}

// awards emits a few procurement awards per hundred pairs.
func (g *gen) awards() {
	for a := 0; a < max(g.pairs/100, 1); a++ {
		e, c := g.zipf(g.entZ), g.zipf(g.compZ)
		s := g.pools[c][g.r.IntN(len(g.pools[c]))]
		g.out(&schemas.ProcurementAward{OCID: fmt.Sprintf("ocds-synth-%d", a), ReleaseID: "r", AwardID: "a", Status: "active",
			Date: g.cfg.Now.AddDate(0, 0, -g.r.IntN(300)), BuyerID: entID(e), SupplierIDs: []string{supID(int(s))},
			SupplierNames: []string{fmt.Sprintf("Supplier %d", s)}, SupplierCountries: []string{countries[g.supCountry[s]].iso},
			ItemIDs: []string{compID(c)}, ItemDescriptions: []string{"part"}, ItemSchemes: []string{"internal"}, ItemCodes: []string{g.compHS[c]}})
	}
}

// availability emits weekly part snapshots for 10% of components, some with shocks.
func (g *gen) availability() {
	for c := 0; c < g.nComp; c += 10 {
		lead, stock := float64(14+g.r.IntN(60)), float64(100+g.r.IntN(100000))
		shock := g.r.Float64() < 0.2
		life := "active"
		for w := 0; w < 8; w++ {
			if shock && w == 7 {
				lead, stock = lead*3, stock*0.1
				life = schemas.Lifecycles[1+g.r.IntN(4)]
			}
			g.out(&schemas.ComponentAvailability{PartNumber: fmt.Sprintf("PN-%d", c), Manufacturer: "MFR", Distributor: "dist",
				ComponentID: compID(c), Stock: int64(stock * (0.9 + 0.2*g.r.Float64())), LeadTimeDays: ptr(lead), Lifecycle: life,
				AsOf: g.cfg.Now.AddDate(0, 0, -7*(8-w))})
		}
	}
}

// production emits production statistics: materials × producing countries, dominant producer skewed.
func (g *gen) production() {
	for _, m := range materials {
		dom := g.country()
		for ci, c := range countries {
			q := g.r.Float64() * 1000
			if ci == dom {
				q *= 20
			}
			g.out(&schemas.ProductionStat{Commodity: m, Country: c.iso, CountryISO3: c.iso, Stage: "mine", Year: 2023,
				Quantity: ptr(math.Round(q)), Unit: "t"})
		}
	}
}

// trade emits Comtrade-style annual rows: per HS code, year and reporter: exports to World and by
// partner, imports from World and by partner. Codes beyond the real ones are synthetic.
func (g *gen) trade() {
	years := []uint16{2021, 2022, 2023}
	nc := len(countries)
	perCode := len(years) * nc * 2 * nc // both flows, World + each of the nc-1 partners
	codes := len(realHS)
	if g.cfg.TradeRows > codes*perCode {
		codes = g.cfg.TradeRows / perCode
	}
	rows := 0
	for h := 0; h < codes; h++ {
		hs := fmt.Sprintf("%06d", 900000+h)
		if h < len(realHS) {
			hs = realHS[h]
		}
		dom := g.country()
		cap := make([]float64, nc) // export capacity per country, skewed to a dominant exporter
		for i := range cap {
			cap[i] = countries[i].weight * g.r.Float64()
			if i == dom {
				cap[i] *= 10
			}
		}
		for _, y := range years {
			for ri, rc := range countries {
				for _, flow := range []string{"X", "M"} {
					total := 0.0
					for pi := range countries {
						if pi == ri {
							continue
						}
						var v float64
						if flow == "X" {
							v = cap[ri] * countries[pi].weight * 1e5 * (0.8 + 0.4*g.r.Float64())
						} else {
							v = cap[pi] * countries[ri].weight * 1e5 * (0.8 + 0.4*g.r.Float64())
						}
						total += v
						g.out(&schemas.TradeFlow{ReporterM49: rc.m49, ReporterISO3: rc.iso, PartnerM49: countries[pi].m49,
							PartnerISO3: countries[pi].iso, Flow: flow, HSCode: hs, Year: y, CustomsCode: "C00", ValueUSD: math.Round(v),
							NetWeightKg: ptr(math.Round(v / 20))})
						rows++
					}
					g.out(&schemas.TradeFlow{ReporterM49: rc.m49, ReporterISO3: rc.iso, PartnerM49: 0, Flow: flow, HSCode: hs, Year: y,
						CustomsCode: "C00", ValueUSD: math.Round(total), NetWeightKg: ptr(math.Round(total / 20))})
					rows++
				}
			}
		}
	}
}

func paretoDraw(r *rand.Rand, alpha float64) float64 {
	return math.Pow(1-r.Float64(), -1/alpha) - 1
}

func ptr(f float64) *float64 { return &f }

func entID(i int) string  { return fmt.Sprintf("E%07d", i) }
func supID(i int) string  { return fmt.Sprintf("S%07d", i) }
func compID(i int) string { return fmt.Sprintf("C%07d", i) }
