package detectors

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// Qualification states of a supplies link, interned.
const (
	QualQualified    uint8 = 0
	QualInProgress   uint8 = 1
	QualDisqualified uint8 = 2
)

// NodeInfo is the current state of a supply-map node (newest as_of wins).
type NodeInfo struct {
	Name        string
	Country     string
	Domestic    bool
	Region      string
	Industry    string
	ChainLeader bool
	Category    string
	HSCode      string
	Chokepoint  bool
	// Tags are the node's SME tags (detectors.regions.sme_tags: 专精特新, 小巨人, 单项冠军);
	// Province the normalised region (NormalizeRegion), RegionGroup its configured group ("" = none).
	Tags        []string
	Province    string
	RegionGroup string
}

// SupplyEdge is a `supplies` link: Sup supplies component Comp to enterprise Ent.
type SupplyEdge struct {
	Ent, Comp, Sup int32
	Share          float64
	Qual           uint8
}

// StockEdge is a `stocks` link.
type StockEdge struct {
	Inventory, PerDay float64
}

// BOMEdge is a `bom` link: product Prod contains component Comp.
type BOMEdge struct{ Prod, Comp int32 }

// MakesEdge is a `makes` link: enterprise Ent makes product Prod.
type MakesEdge struct{ Ent, Prod int32 }

// Sub is a substitution-list entry; -1 means "none" for AltComp, AltSup and Ent.
type Sub struct {
	Comp, AltComp, AltSup, Ent int32
	Days                       float64
	Domestic                   bool
	Country                    string
	Notes                      string
}

// Award is the part of a procurement award the single-source detector uses.
type Award struct {
	BuyerID, BuyerName string
	SupplierIDs        []string
	SupplierNames      []string
	ItemIDs, ItemCodes []string
	Value              float64
	Date               time.Time
}

// tradeKey addresses an aggregate of trade_flows.
type tradeKey struct {
	HS      string
	Year    uint16
	Country uint16 // M49
}

// tradeTotals are one reporter's annual totals for one HS code and flow.
type tradeTotals struct {
	World, Partners     float64 // value_usd with partner World, summed over partners
	WorldKg, PartnersKg float64
}

// prodKey addresses a production_stats aggregate.
type prodKey struct {
	Commodity, Stage string
	Year             uint16
}

// prodRow is one country's production in a prodKey (its rows summed), or the World total.
type prodRow struct {
	Key     string // ISO3 (from the row, else from the name); "" for "Other countries" and World
	Country string // the first name seen
	Qty     float64
	Unit    string
}

// availKey is one part on one day.
type availKey struct {
	Part string // manufacturer|part_number
	Day  int64  // unix day
}

// availAgg aggregates distributors' snapshots of a part on a day.
type availAgg struct {
	Comp     string
	Stock    float64 // sum over the offers whose stock is known
	Known    bool    // some offer reported a stock ("Call", "On Order" and the like do not)
	Lead     float64 // min over distributors; NaN when none reported
	LifeRank int     // worst lifecycle (index in schemas.Lifecycles)
}

// Inputs is everything detectors read, loaded once per run: the supply map and substitution list
// (current state), procurement awards in the window, trade and production aggregates, and
// availability series. Build it with a Builder (from records, or from ClickHouse via Load).
type Inputs struct {
	Now        time.Time
	WindowFrom time.Time
	WindowTo   time.Time
	Cfg        Config

	ids   []string
	index map[string]int32

	Enterprises map[int32]*NodeInfo
	Suppliers   map[int32]*NodeInfo
	Components  map[int32]*NodeInfo
	Products    map[int32]*NodeInfo

	Supplies []SupplyEdge
	Stocks   map[uint64]StockEdge // key pairKey(ent, comp)
	BOM      []BOMEdge
	Makes    []MakesEdge
	Subs     []Sub
	Awards   []Award

	exportTotals map[tradeKey]*tradeTotals // flow X, by reporter
	importTotals map[tradeKey]*tradeTotals // flow M, by reporter
	mirror       map[tradeKey]float64      // imports reported by others, by partner
	homeImports  map[tradeKey]float64      // home reporter's imports, by partner
	iso3         map[uint16]string         // M49 → ISO3 seen in the data

	production map[prodKey][]prodRow
	worldProd  map[prodKey]prodRow // published World totals ("World", "World (qualifier)" rows summed)
	avail      map[availKey]*availAgg

	mu       sync.Mutex
	analysis *Analysis
	// betweenness is the runner's memo of its last graph and betweenness (nil: none).
	betweenness *BetweennessMemo
	// pairMemo is the runner's memo of its last pair step (nil: none).
	pairMemo *PairMemo
	// runID is the runner's run these Inputs are for ("" outside a runner): the memos record it.
	runID string
	// built are the parts a cached load built or took from the last load (loadcache_built.go).
	built builtParts
}

// ID returns the string of an interned id.
func (in *Inputs) ID(i int32) string {
	if i < 0 || int(i) >= len(in.ids) {
		return ""
	}
	return in.ids[i]
}

// Lookup returns the interned id of s, or -1.
func (in *Inputs) Lookup(s string) int32 {
	if i, ok := in.index[s]; ok {
		return i
	}
	return -1
}

func (in *Inputs) intern(s string) int32 {
	if i, ok := in.index[s]; ok {
		return i
	}
	i := int32(len(in.ids))
	in.ids = append(in.ids, s)
	in.index[s] = i
	return i
}

func pairKey(ent, comp int32) uint64 { return uint64(uint32(ent))<<32 | uint64(uint32(comp)) }
func pairOf(k uint64) (ent, comp int32) {
	return int32(uint32(k >> 32)), int32(uint32(k))
}

// linkKind names a link type by one byte (supplies and stocks both begin with an s): 'p' supplies,
// 'b' bom, 'm' makes, 'k' stocks, 0 any other.
func linkKind(typ string) byte {
	switch typ {
	case schemas.LinkSupplies:
		return 'p'
	case schemas.LinkBOM:
		return 'b'
	case schemas.LinkMakes:
		return 'm'
	case schemas.LinkStocks:
		return 'k'
	}
	return 0
}

// Builder accumulates records (or pre-aggregated ClickHouse rows) into Inputs.
type Builder struct {
	in       *Inputs
	unique   bool                 // rows are already one per natural key (ClickHouse loader): skip version tracking
	nodeAt   map[string]time.Time // newest as_of per node type|id
	links    map[linkKey]linkVersion
	subsAt   map[string]int // natural key → index in in.Subs
	subsAsOf []time.Time
	regions  map[string][2]string // region text → (province, region group): few distinct values
}

// linkKey is a supply link's natural key over interned ids.
type linkKey struct {
	kind                  byte
	ent, prod, comp, supp int32
}

type linkVersion struct {
	asOf time.Time
	kind byte // 'p' supplies, 'b' bom, 'm' makes (unset for stocks)
	idx  int
}

// NewBuilder starts Inputs for a run at now over the configured window.
func NewBuilder(cfg Config, now time.Time) *Builder {
	now = now.UTC()
	in := &Inputs{
		Now: now, WindowTo: now, WindowFrom: now.AddDate(0, 0, -cfg.WindowDays), Cfg: cfg,
		index:       map[string]int32{},
		Enterprises: map[int32]*NodeInfo{}, Suppliers: map[int32]*NodeInfo{},
		Components: map[int32]*NodeInfo{}, Products: map[int32]*NodeInfo{},
		Stocks:       map[uint64]StockEdge{},
		exportTotals: map[tradeKey]*tradeTotals{}, importTotals: map[tradeKey]*tradeTotals{},
		mirror: map[tradeKey]float64{}, homeImports: map[tradeKey]float64{}, iso3: map[uint16]string{},
		production: map[prodKey][]prodRow{}, worldProd: map[prodKey]prodRow{}, avail: map[availKey]*availAgg{},
	}
	return &Builder{in: in, nodeAt: map[string]time.Time{}, links: map[linkKey]linkVersion{}, subsAt: map[string]int{},
		regions: map[string][2]string{}}
}

// Add takes one record of any kind. Records of the supply map and the substitution list keep the
// newest as_of per natural key (as the ReplacingMergeTree tables do); trade, production and
// availability records are aggregated as the ClickHouse loader's SQL does.
func (b *Builder) Add(rec schemas.Record) {
	switch r := rec.(type) {
	case *schemas.SupplyNode:
		b.AddNode(r)
	case *schemas.SupplyLink:
		b.AddLink(r)
	case *schemas.Substitution:
		b.AddSubstitution(r)
	case *schemas.ProcurementAward:
		b.AddAward(Award{BuyerID: r.BuyerID, BuyerName: r.BuyerName, SupplierIDs: r.SupplierIDs,
			SupplierNames: r.SupplierNames, ItemIDs: r.ItemIDs, ItemCodes: r.ItemCodes, Value: deref(r.Value), Date: r.Date}, r.Status)
	case *schemas.TradeFlow:
		if r.Month != 0 || r.Partner2M49 != 0 || r.MOTCode != 0 || !(r.CustomsCode == "" || r.CustomsCode == "C00") {
			return
		}
		kg := deref(r.NetWeightKg)
		var world, partners, worldKg, partnersKg float64
		if r.PartnerM49 == 0 {
			world, worldKg = r.ValueUSD, kg
		} else {
			partners, partnersKg = r.ValueUSD, kg
		}
		b.AddTradeTotals(r.HSCode, r.Year, r.ReporterM49, r.ReporterISO3, r.Flow, world, partners, worldKg, partnersKg)
		if r.Flow == "M" && r.PartnerM49 != 0 {
			b.AddMirror(r.HSCode, r.Year, r.PartnerM49, r.PartnerISO3, r.ValueUSD)
			if int(r.ReporterM49) == b.in.Cfg.HomeM49 {
				b.AddHomeImport(r.HSCode, r.Year, r.PartnerM49, r.PartnerISO3, r.ValueUSD)
			}
		}
	case *schemas.ProductionStat:
		if r.Quantity == nil || r.Flag == "W" {
			return
		}
		b.AddProduction(r.Commodity, r.Stage, r.Year, r.Country, r.CountryISO3, *r.Quantity, r.Unit)
	case *schemas.ComponentAvailability:
		lead := math.NaN()
		if r.LeadTimeDays != nil {
			lead = *r.LeadTimeDays
		}
		stock := float64(r.Stock)
		if r.StockUnknown {
			stock = math.NaN()
		}
		b.AddAvailability(r.Manufacturer, r.PartNumber, r.ComponentID, r.AsOf, stock, lead, r.Lifecycle)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// AddNode records a supply-map node; a newer as_of replaces an older one.
func (b *Builder) AddNode(n *schemas.SupplyNode) {
	if !b.unique {
		k := n.NodeType + "|" + n.NodeID
		if at, ok := b.nodeAt[k]; ok && at.After(n.AsOf) {
			return
		}
		b.nodeAt[k] = n.AsOf
	}
	id := b.in.intern(n.NodeID)
	reg, ok := b.regions[n.Region]
	if !ok {
		reg = [2]string{NormalizeRegion(n.Region).String(), b.in.Cfg.Regions.GroupOf(n.Region)}
		b.regions[n.Region] = reg
	}
	info := &NodeInfo{Name: n.Name, Country: strings.ToUpper(n.Country), Domestic: n.Domestic, Region: n.Region,
		Industry: n.Industry, ChainLeader: n.ChainLeader, Category: n.Category, HSCode: n.HSCode, Chokepoint: n.Chokepoint,
		Tags: b.in.Cfg.Regions.SMETagsOf(n.Tags), Province: reg[0], RegionGroup: reg[1]}
	switch n.NodeType {
	case schemas.NodeEnterprise:
		b.in.Enterprises[id] = info
	case schemas.NodeSupplier:
		b.in.Suppliers[id] = info
	case schemas.NodeComponent:
		b.in.Components[id] = info
	case schemas.NodeProduct:
		b.in.Products[id] = info
	}
}

// AddLink records a supply-map edge; a newer as_of replaces an older one of the same natural key.
func (b *Builder) AddLink(l *schemas.SupplyLink) {
	b.addLink(l, &linkIDs{in: b.in, l: l})
}

// linkIDs interns a link's ids (in the Builder's id space), each when first asked for: the id
// strings of l, or, for a recorded link (x), through the recorder's translation table.
type linkIDs struct {
	in *Inputs
	l  *schemas.SupplyLink
	tr *idTranslation
	x  *linkRow
}

func (r *linkIDs) ent() int32 {
	if r.tr != nil {
		return r.tr.id(r.x.ent)
	}
	return r.in.intern(r.l.EnterpriseID)
}

func (r *linkIDs) prod() int32 {
	if r.tr != nil {
		return r.tr.id(r.x.prod)
	}
	return r.in.intern(r.l.ProductID)
}

func (r *linkIDs) comp() int32 {
	if r.tr != nil {
		return r.tr.id(r.x.comp)
	}
	return r.in.intern(r.l.ComponentID)
}

func (r *linkIDs) sup() int32 {
	if r.tr != nil {
		return r.tr.id(r.x.sup)
	}
	return r.in.intern(r.l.SupplierID)
}

// addLink is AddLink with the ids given by ids: the load cache's replay translates its own string
// table once per distinct id instead. Ids are asked for in the same order either way, so the
// Inputs are the same.
func (b *Builder) addLink(l *schemas.SupplyLink, ids *linkIDs) {
	if b.unique {
		b.addEdge(linkKind(l.LinkType), ids, l.Share, qualOf(l.Qualification), l.InventoryUnits, l.ConsumptionPerDay)
		return
	}
	k := linkKey{kind: linkKind(l.LinkType), ent: ids.ent(), prod: ids.prod(), comp: ids.comp(), supp: ids.sup()}
	prev, seen := b.links[k]
	if seen && prev.asOf.After(l.AsOf) {
		return
	}
	in := b.in
	switch l.LinkType {
	case schemas.LinkSupplies:
		e := SupplyEdge{Ent: ids.ent(), Comp: ids.comp(), Sup: ids.sup(),
			Share: l.Share, Qual: qualOf(l.Qualification)}
		if seen {
			in.Supplies[prev.idx] = e
		} else {
			prev = linkVersion{kind: 'p', idx: len(in.Supplies)}
			in.Supplies = append(in.Supplies, e)
		}
	case schemas.LinkBOM:
		e := BOMEdge{Prod: ids.prod(), Comp: ids.comp()}
		if seen {
			in.BOM[prev.idx] = e
		} else {
			prev = linkVersion{kind: 'b', idx: len(in.BOM)}
			in.BOM = append(in.BOM, e)
		}
	case schemas.LinkMakes:
		e := MakesEdge{Ent: ids.ent(), Prod: ids.prod()}
		if seen {
			in.Makes[prev.idx] = e
		} else {
			prev = linkVersion{kind: 'm', idx: len(in.Makes)}
			in.Makes = append(in.Makes, e)
		}
	case schemas.LinkStocks:
		in.Stocks[pairKey(ids.ent(), ids.comp())] = StockEdge{Inventory: l.InventoryUnits, PerDay: l.ConsumptionPerDay}
	default:
		return
	}
	prev.asOf = l.AsOf
	b.links[k] = prev
}

// addEdge adds a link of a unique Builder (one row per link key, no versions) by its kind
// (linkKind) and figures. A recorded link's replay calls it without making the link's SupplyLink
// (recorder.replayLinks). The order in which it asks for the ids is the order they are interned in.
func (b *Builder) addEdge(kind byte, ids *linkIDs, share float64, qual uint8, inventory, perDay float64) {
	in := b.in
	switch kind {
	case 'p':
		in.Supplies = append(in.Supplies, SupplyEdge{Ent: ids.ent(), Comp: ids.comp(), Sup: ids.sup(), Share: share, Qual: qual})
	case 'b':
		in.BOM = append(in.BOM, BOMEdge{Prod: ids.prod(), Comp: ids.comp()})
	case 'm':
		in.Makes = append(in.Makes, MakesEdge{Ent: ids.ent(), Prod: ids.prod()})
	case 'k':
		in.Stocks[pairKey(ids.ent(), ids.comp())] = StockEdge{Inventory: inventory, PerDay: perDay}
	}
}

func qualOf(s string) uint8 {
	switch s {
	case "qualified":
		return QualQualified
	case "in_progress":
		return QualInProgress
	}
	return QualDisqualified
}

// AddSubstitution records a substitution-list entry (newest as_of per natural key wins).
func (b *Builder) AddSubstitution(s *schemas.Substitution) {
	k := s.NaturalKey()
	in := b.in
	opt := func(x string) int32 {
		if x == "" {
			return -1
		}
		return in.intern(x)
	}
	e := Sub{Comp: in.intern(s.ComponentID), AltComp: opt(s.AltComponentID), AltSup: opt(s.AltSupplierID),
		Ent: opt(s.EnterpriseID), Days: s.QualificationDays, Domestic: s.Domestic, Country: strings.ToUpper(s.Country), Notes: s.Notes}
	if i, ok := b.subsAt[k]; ok {
		if b.subsAsOf[i].After(s.AsOf) {
			return
		}
		in.Subs[i], b.subsAsOf[i] = e, s.AsOf
		return
	}
	b.subsAt[k] = len(in.Subs)
	in.Subs = append(in.Subs, e)
	b.subsAsOf = append(b.subsAsOf, s.AsOf)
}

// AddAward records an award when it falls in the award window and was not cancelled.
func (b *Builder) AddAward(a Award, status string) {
	if status == "cancelled" || status == "unsuccessful" {
		return
	}
	from := b.in.Now.AddDate(0, 0, -b.in.Cfg.SingleSource.AwardWindowDays)
	if a.Date.Before(from) || a.Date.After(b.in.Now) {
		return
	}
	b.in.Awards = append(b.in.Awards, a)
}

// AddTradeTotals adds to a reporter's annual totals of one HS code and flow (M or X; re-flows ignored).
func (b *Builder) AddTradeTotals(hs string, year, reporter uint16, iso3, flow string, world, partners, worldKg, partnersKg float64) {
	var m map[tradeKey]*tradeTotals
	switch flow {
	case "X":
		m = b.in.exportTotals
	case "M":
		m = b.in.importTotals
	default:
		return
	}
	b.seeISO3(reporter, iso3)
	k := tradeKey{hs, year, reporter}
	t := m[k]
	if t == nil {
		t = &tradeTotals{}
		m[k] = t
	}
	t.World += world
	t.Partners += partners
	t.WorldKg += worldKg
	t.PartnersKg += partnersKg
}

// AddMirror adds imports reported by any reporter from partner (for mirror exports).
func (b *Builder) AddMirror(hs string, year, partner uint16, iso3 string, value float64) {
	b.seeISO3(partner, iso3)
	b.in.mirror[tradeKey{hs, year, partner}] += value
}

// AddHomeImport adds the monitored reporter's imports from partner.
func (b *Builder) AddHomeImport(hs string, year, partner uint16, iso3 string, value float64) {
	b.seeISO3(partner, iso3)
	b.in.homeImports[tradeKey{hs, year, partner}] += value
}

func (b *Builder) seeISO3(m49 uint16, iso3 string) {
	if iso3 != "" {
		b.in.iso3[m49] = strings.ToUpper(iso3)
	}
}

// AddProduction adds one production_stats row. Rows of one country in a (commodity, stage, year)
// are summed: the country is its ISO3 code, else the ISO3 its name maps to (qualifiers such as
// "United States (from Cliffside Field)" dropped), so helium's two United States rows make one
// producer. "Other countries" rows are summed into one line; "World…" rows are kept apart as the
// published World total (several qualified World rows are summed).
func (b *Builder) AddProduction(commodity, stage string, year uint16, country, iso3 string, qty float64, unit string) {
	if !(qty >= 0) {
		return
	}
	k := prodKey{strings.ToLower(strings.TrimSpace(commodity)), strings.ToLower(strings.TrimSpace(stage)), year}
	if isWorldRow(country) {
		w := b.in.worldProd[k]
		w.Country, w.Qty, w.Unit = "World", w.Qty+qty, unit
		b.in.worldProd[k] = w
		return
	}
	key := strings.ToUpper(strings.TrimSpace(iso3))
	switch {
	case isOtherRow(country):
		key = ""
	case key == "":
		key = countryISO3(country)
	}
	rows := b.in.production[k]
	for i := range rows {
		if rows[i].Key == key && isOtherRow(rows[i].Country) == isOtherRow(country) {
			rows[i].Qty += qty
			return
		}
	}
	b.in.production[k] = append(rows, prodRow{Key: key, Country: country, Qty: qty, Unit: unit})
}

func isWorldRow(country string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(country)), "world")
}

func isOtherRow(country string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(country)), "other")
}

// AddAvailability adds one distributor snapshot (or a per-day aggregate) of a part. stock is NaN
// when the offer gave no number ("Call", "On Order"): the day then counts for lead time and
// lifecycle, not for the stock series.
func (b *Builder) AddAvailability(manufacturer, part, comp string, asOf time.Time, stock, lead float64, lifecycle string) {
	k := availKey{Part: manufacturer + "|" + part, Day: asOf.UTC().Unix() / 86400}
	if asOf.Before(b.in.WindowFrom.Truncate(24*time.Hour)) || asOf.After(b.in.Now) {
		return
	}
	a := b.in.avail[k]
	if a == nil {
		a = &availAgg{Lead: math.NaN()}
		b.in.avail[k] = a
	}
	if comp > a.Comp {
		a.Comp = comp
	}
	if !math.IsNaN(stock) {
		a.Stock += stock
		a.Known = true
	}
	if !math.IsNaN(lead) && (math.IsNaN(a.Lead) || lead < a.Lead) {
		a.Lead = lead
	}
	if r := lifecycleRank(lifecycle); r > a.LifeRank {
		a.LifeRank = r
	}
}

func lifecycleRank(s string) int {
	return max(slices.Index(schemas.Lifecycles, s), 0)
}

// reserve sizes the Inputs for about this many links of each type and ids (upper bounds of what
// is to come; a hint only, the Inputs are the same without it).
func (b *Builder) reserve(supplies, bom, makes, stocks, ids int) {
	in := b.in
	in.Supplies = slices.Grow(in.Supplies, supplies)
	in.BOM = slices.Grow(in.BOM, bom)
	in.Makes = slices.Grow(in.Makes, makes)
	if len(in.Stocks) == 0 && stocks > 0 {
		in.Stocks = make(map[uint64]StockEdge, stocks)
	}
	if len(in.index) < ids/2 {
		index := make(map[string]int32, max(len(in.index), ids)*9/8)
		maps.Copy(index, in.index)
		in.index = index
	}
}

// Inputs finishes the build. The Builder must not be used afterwards.
func (b *Builder) Inputs() *Inputs {
	in := b.in
	// keep the last years_window years of trade (as the loader's SQL does)
	maxYear := uint16(0)
	for k := range in.exportTotals {
		maxYear = max(maxYear, k.Year)
	}
	for k := range in.importTotals {
		maxYear = max(maxYear, k.Year)
	}
	for k := range in.mirror {
		maxYear = max(maxYear, k.Year)
	}
	if w := in.Cfg.Chokepoint.YearsWindow; maxYear > 0 && w > 0 {
		oldTotals := func(k tradeKey, _ *tradeTotals) bool { return int(k.Year) <= int(maxYear)-w }
		oldValue := func(k tradeKey, _ float64) bool { return int(k.Year) <= int(maxYear)-w }
		maps.DeleteFunc(in.exportTotals, oldTotals)
		maps.DeleteFunc(in.importTotals, oldTotals)
		maps.DeleteFunc(in.mirror, oldValue)
		maps.DeleteFunc(in.homeImports, oldValue)
	}
	sort.SliceStable(in.Subs, func(i, j int) bool { return in.Subs[i].Comp < in.Subs[j].Comp })
	b.in = nil
	return in
}

// countryKey returns the ISO3 of an M49 code seen in the data or in the built-in table, else "M49:n".
func (in *Inputs) countryKey(m49 uint16) string {
	if s, ok := in.iso3[m49]; ok {
		return s
	}
	if s, ok := m49ISO3[m49]; ok {
		return s
	}
	return "M49:" + strconv.Itoa(int(m49))
}

// m49ISO3 maps the M49 codes of the main trading countries to ISO alpha-3 (used when trade rows
// carry no ISO code).
var m49ISO3 = map[uint16]string{
	4: "AFG", 8: "ALB", 12: "DZA", 24: "AGO", 32: "ARG", 36: "AUS", 40: "AUT", 50: "BGD", 56: "BEL", 68: "BOL",
	76: "BRA", 100: "BGR", 104: "MMR", 116: "KHM", 124: "CAN", 152: "CHL", 156: "CHN", 170: "COL", 178: "COG",
	180: "COD", 191: "HRV", 192: "CUB", 203: "CZE", 208: "DNK", 218: "ECU", 818: "EGY", 231: "ETH", 246: "FIN",
	251: "FRA", 250: "FRA", 276: "DEU", 288: "GHA", 300: "GRC", 304: "GRL", 344: "HKG", 348: "HUN", 356: "IND",
	699: "IND", 360: "IDN", 364: "IRN", 368: "IRQ", 372: "IRL", 376: "ISR", 380: "ITA", 381: "ITA", 392: "JPN",
	398: "KAZ", 404: "KEN", 410: "KOR", 418: "LAO", 450: "MDG", 458: "MYS", 484: "MEX", 496: "MNG", 504: "MAR",
	508: "MOZ", 516: "NAM", 528: "NLD", 540: "NCL", 554: "NZL", 566: "NGA", 578: "NOR", 579: "NOR", 586: "PAK",
	598: "PNG", 604: "PER", 608: "PHL", 616: "POL", 620: "PRT", 634: "QAT", 642: "ROU", 643: "RUS", 682: "SAU",
	702: "SGP", 703: "SVK", 704: "VNM", 705: "SVN", 710: "ZAF", 724: "ESP", 752: "SWE", 756: "CHE", 757: "CHE",
	158: "TWN", 490: "TWN", 764: "THA", 784: "ARE", 792: "TUR", 804: "UKR", 826: "GBR", 834: "TZA", 840: "USA",
	842: "USA", 858: "URY", 860: "UZB", 862: "VEN", 894: "ZMB", 716: "ZWE", 112: "BLR", 31: "AZE", 51: "ARM",
	268: "GEO", 417: "KGZ", 762: "TJK", 795: "TKM", 48: "BHR", 414: "KWT", 512: "OMN", 400: "JOR", 422: "LBN",
}
