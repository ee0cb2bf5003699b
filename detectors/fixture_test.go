package detectors

import (
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// fixtureConfig is the detectors config of the small supply map (monitored region: China).
func fixtureConfig() Config {
	cfg := DefaultConfig()
	cfg.HomeISO3, cfg.HomeM49 = "CHN", 156
	cfg.Chokepoint.MinScore = 60
	cfg.Chokepoint.Materials = map[string]ChokepointMaterial{
		"gallium": {HSCodes: []string{"811292"}, RecyclingRate: 0, SubstitutionIndex: 0.9},
	}
	return cfg
}

func f64(v float64) *float64 { return &v }

// fixtureRecords is a small supply map with known answers (see TestDetectorsIntegration):
//
//   - ENT-A (chain leader) buys COMP-CHIP only from SUP-US1 (USA): single source, single country,
//     foreign; stock lasts 30 days, the substitution list's domestic SUP-CN9 needs 120 days → exposed.
//   - ENT-B buys COMP-CHIP from SUP-US1 too, SUP-TW1 in qualification (67.5 days), stock 100 days.
//   - ENT-B buys COMP-GA from SUP-CN1 70% / SUP-JP1 30% and, per a 2026 award, from SUP-KR1:
//     three active suppliers, still highly concentrated.
//   - ENT-A buys COMP-BOLT from five suppliers at 20%: no single-source finding.
//   - COMP-CHIP is on the 卡点 list; HS 854231 meets the dependency rule (China imports 9× its
//     exports from a concentrated set, world exports concentrated; Malaysia only as a mirror).
//   - part ACME|M8X20 (COMP-BOLT): lead time 30 → 90 days, stock 1000 → 100, active → nrnd.
func fixtureRecords(now time.Time) []schemas.Record {
	asOf := now.Add(-time.Hour)
	var recs []schemas.Record
	node := func(typ, id, name, country string, mod func(n *schemas.SupplyNode)) {
		n := &schemas.SupplyNode{NodeType: typ, NodeID: id, Name: name, Country: country, AsOf: asOf}
		if mod != nil {
			mod(n)
		}
		recs = append(recs, n)
	}
	node("enterprise", "ENT-A", "Alpha EV", "CHN", func(n *schemas.SupplyNode) {
		n.Domestic, n.ChainLeader, n.Industry, n.Region = true, true, "ev", "Jiangsu"
	})
	node("enterprise", "ENT-B", "Beta Phones", "CHN", func(n *schemas.SupplyNode) {
		n.Domestic, n.Industry, n.Region = true, "electronics", "Guangdong"
	})
	node("component", "COMP-CHIP", "MCU 32-bit", "", func(n *schemas.SupplyNode) {
		n.Category, n.HSCode, n.Chokepoint = "high_end_chip", "854231", true
	})
	node("component", "COMP-GA", "Gallium 6N", "", func(n *schemas.SupplyNode) { n.Category, n.HSCode = "key_material", "811292" })
	node("component", "COMP-BOLT", "Bolt M8", "", func(n *schemas.SupplyNode) { n.Category, n.HSCode = "base_component", "731815" })
	node("product", "PROD-EV1", "EV one", "", nil)
	node("product", "PROD-PHONE", "Phone", "", nil)
	for _, s := range []struct{ id, country string }{
		{"SUP-US1", "USA"}, {"SUP-TW1", "TWN"}, {"SUP-CN1", "CHN"}, {"SUP-CN2", "CHN"}, {"SUP-CN3", "CHN"},
		{"SUP-CN9", "CHN"}, {"SUP-JP1", "JPN"}, {"SUP-DE1", "DEU"}, {"SUP-KR1", "KOR"},
	} {
		id := s.id
		node("supplier", id, "Supplier "+id[4:], s.country, func(n *schemas.SupplyNode) { n.Domestic = n.Country == "CHN" })
	}
	link := func(l schemas.SupplyLink) {
		l.AsOf = asOf
		recs = append(recs, &l)
	}
	link(schemas.SupplyLink{LinkType: "makes", EnterpriseID: "ENT-A", ProductID: "PROD-EV1"})
	link(schemas.SupplyLink{LinkType: "makes", EnterpriseID: "ENT-B", ProductID: "PROD-PHONE"})
	for _, b := range [][2]string{{"PROD-EV1", "COMP-CHIP"}, {"PROD-EV1", "COMP-BOLT"}, {"PROD-EV1", "COMP-GA"},
		{"PROD-PHONE", "COMP-CHIP"}, {"PROD-PHONE", "COMP-GA"}} {
		link(schemas.SupplyLink{LinkType: "bom", ProductID: b[0], ComponentID: b[1], QtyPerUnit: 2})
	}
	sup := func(ent, comp, s string, share float64, q string) {
		link(schemas.SupplyLink{LinkType: "supplies", EnterpriseID: ent, ComponentID: comp, SupplierID: s, Share: share, Qualification: q})
	}
	sup("ENT-A", "COMP-CHIP", "SUP-US1", 1, "qualified")
	sup("ENT-B", "COMP-CHIP", "SUP-US1", 1, "qualified")
	sup("ENT-B", "COMP-CHIP", "SUP-TW1", 0, "in_progress")
	sup("ENT-B", "COMP-GA", "SUP-CN1", 0.7, "qualified")
	sup("ENT-B", "COMP-GA", "SUP-JP1", 0.3, "qualified")
	for _, s := range []string{"SUP-CN1", "SUP-CN2", "SUP-CN3", "SUP-DE1", "SUP-JP1"} {
		sup("ENT-A", "COMP-BOLT", s, 0.2, "qualified")
	}
	link(schemas.SupplyLink{LinkType: "stocks", EnterpriseID: "ENT-A", ComponentID: "COMP-CHIP", InventoryUnits: 300, ConsumptionPerDay: 10})
	link(schemas.SupplyLink{LinkType: "stocks", EnterpriseID: "ENT-B", ComponentID: "COMP-CHIP", InventoryUnits: 1000, ConsumptionPerDay: 10})
	link(schemas.SupplyLink{LinkType: "stocks", EnterpriseID: "ENT-A", ComponentID: "COMP-BOLT", InventoryUnits: 100, ConsumptionPerDay: 50})
	recs = append(recs, &schemas.Substitution{ComponentID: "COMP-CHIP", AltSupplierID: "SUP-CN9", QualificationDays: 120,
		Domestic: true, Country: "CHN", Notes: "国产替代 candidate", AsOf: asOf})
	recs = append(recs, &schemas.ProcurementAward{OCID: "ocds-1", ReleaseID: "r1", AwardID: "a1", Status: "active",
		Date: now.AddDate(0, -2, 0), BuyerID: "ENT-B", BuyerName: "Beta Phones",
		SupplierIDs: []string{"kr-001"}, SupplierNames: []string{"Supplier KR1"}, SupplierCountries: []string{"KOR"},
		ItemIDs: []string{"COMP-GA"}, ItemDescriptions: []string{"gallium"}, ItemSchemes: []string{"internal"}, ItemCodes: []string{"811292"},
		Value: f64(1e5), Currency: "USD"})
	// an award outside the window does not count
	recs = append(recs, &schemas.ProcurementAward{OCID: "ocds-0", ReleaseID: "r0", AwardID: "a0", Status: "active",
		Date: now.AddDate(-3, 0, 0), BuyerID: "ENT-A", SupplierIDs: []string{"SUP-KR1"}, SupplierNames: []string{"Supplier KR1"},
		SupplierCountries: []string{"KOR"}, ItemIDs: []string{"COMP-CHIP"}, ItemDescriptions: []string{"mcu"},
		ItemSchemes: []string{"internal"}, ItemCodes: []string{"854231"}})

	trade := func(rep uint16, flow string, partner uint16, hs string, year uint16, v, kg float64) {
		recs = append(recs, &schemas.TradeFlow{ReporterM49: rep, PartnerM49: partner, Flow: flow, HSCode: hs, Year: year,
			CustomsCode: "C00", ValueUSD: v, NetWeightKg: f64(kg)})
	}
	for _, y := range []uint16{2021, 2022, 2023} {
		// HS 854231: exporters TWN 800, KOR 100, USA 100 (+ MYS 100 as mirror of China's imports)
		trade(490, "X", 0, "854231", y, 800, 8)
		trade(410, "X", 0, "854231", y, 100, 1)
		trade(842, "X", 0, "854231", y, 100, 1)
		trade(156, "X", 0, "854231", y, 100, 1)
		trade(156, "M", 490, "854231", y, 700, 7)
		trade(156, "M", 410, "854231", y, 50, 0.5)
		trade(156, "M", 842, "854231", y, 50, 0.5)
		trade(156, "M", 458, "854231", y, 100, 1)
		// HS 811292: China exports 900 of 1000, imports 10 from Japan
		trade(156, "X", 0, "811292", y, 900, 9000)
		trade(392, "X", 0, "811292", y, 50, 500)
		trade(643, "X", 0, "811292", y, 50, 500)
		trade(156, "M", 392, "811292", y, 10, 100)
	}
	// a monthly row and a by-mode row are not totals: ignored
	recs = append(recs, &schemas.TradeFlow{ReporterM49: 156, PartnerM49: 490, Flow: "M", HSCode: "854231", Year: 2023, Month: 5, ValueUSD: 1e9})
	recs = append(recs, &schemas.TradeFlow{ReporterM49: 156, PartnerM49: 490, Flow: "M", HSCode: "854231", Year: 2023, MOTCode: 1000, ValueUSD: 1e9})
	// gallium production 2023 (USGS MCS2024, kg), with the World row and a withheld row to skip
	prod := func(country, iso string, q *float64, flag string) {
		recs = append(recs, &schemas.ProductionStat{Commodity: "gallium", Country: country, CountryISO3: iso, Stage: "primary production",
			Year: 2023, Quantity: q, Unit: "kg", Flag: flag})
	}
	prod("United States", "USA", f64(0), "")
	prod("China", "CHN", f64(600000), "")
	prod("Japan", "JPN", f64(3000), "")
	prod("Korea, Republic of", "KOR", f64(2000), "")
	prod("Russia", "RUS", f64(5000), "")
	prod("Other countries", "", f64(0), "")
	prod("World total (rounded)", "", f64(610000), "")
	prod("Germany", "DEU", nil, "W")
	// availability: a part whose lead time jumps, stock collapses and lifecycle moves; a quiet part
	for i, d := range []struct {
		stock int64
		lead  float64
		life  string
	}{{1000, 30, "active"}, {1000, 30, "active"}, {1000, 30, "active"}, {1000, 30, "active"}, {100, 90, "nrnd"}} {
		at := now.AddDate(0, 0, -5+i).Truncate(24 * time.Hour).Add(6 * time.Hour)
		if at.After(now) {
			at = now.Add(-time.Minute)
		}
		recs = append(recs, &schemas.ComponentAvailability{PartNumber: "M8X20", Manufacturer: "ACME", Distributor: "dist-1",
			ComponentID: "COMP-BOLT", Stock: d.stock, LeadTimeDays: f64(d.lead), Lifecycle: d.life, AsOf: at})
		recs = append(recs, &schemas.ComponentAvailability{PartNumber: "M6X10", Manufacturer: "ACME", Distributor: "dist-1",
			ComponentID: "COMP-BOLT", Stock: 500, LeadTimeDays: f64(20), Lifecycle: "active", AsOf: at})
	}
	return recs
}

// wantFixture lists the findings the fixture must produce, per detector: subject → flags that must be set.
var wantFixture = map[string]map[string][]string{
	NameSingleSource: {
		"ENT-A|COMP-CHIP": {FlagSingleSource, FlagSingleCountry, FlagConcentrated, FlagForeignControl},
		"ENT-B|COMP-CHIP": {FlagSingleSource, FlagSingleCountry, FlagConcentrated, FlagForeignControl},
		"ENT-B|COMP-GA":   {FlagConcentrated},
	},
	NameTTSTTR: {
		"ENT-A|COMP-CHIP": {FlagTTSBelowTTR},
	},
	NameChokepoint: {
		"COMP-CHIP": {FlagChokepointList, FlagDependencyRule, FlagForeignControl},
		"854231":    {FlagDependencyRule, FlagForeignControl},
	},
	NameAvailability: {
		"ACME|M8X20": {FlagLeadTimeJump, FlagStockCollapse, FlagLifecycle},
	},
	NameExposure: {
		"ENT-A|COMP-CHIP": {FlagTTSBelowTTR, FlagSingleSource},
		"ENT-B|COMP-CHIP": {FlagSingleSource},
		"COMP-CHIP":       {FlagChokepointList},
	},
}
