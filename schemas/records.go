package schemas

import (
	"strconv"
	"time"
)

// ---- trade ----------------------------------------------------------------------------------------

// TradeFlow is one HS-code trade record (UN Comtrade v1 or a BACI-style bulk row).
// Country codes are M49 numeric (0 = World) with ISO alpha-3 where known.
type TradeFlow struct {
	ReporterM49    uint16   `json:"reporter_m49"`
	ReporterISO3   string   `json:"reporter_iso3,omitempty"`
	PartnerM49     uint16   `json:"partner_m49"`
	PartnerISO3    string   `json:"partner_iso3,omitempty"`
	Partner2M49    uint16   `json:"partner2_m49,omitempty"`
	Flow           string   `json:"flow"` // M import, X export, RM re-import, RX re-export
	HSCode         string   `json:"hs_code"`
	Classification string   `json:"classification,omitempty"` // H5, H6, ...
	Year           uint16   `json:"year"`
	Month          uint8    `json:"month,omitempty"` // 0 = annual
	CustomsCode    string   `json:"customs_code,omitempty"`
	MOTCode        uint16   `json:"mot_code,omitempty"`
	ValueUSD       float64  `json:"value_usd"`
	NetWeightKg    *float64 `json:"net_weight_kg,omitempty"`
	Quantity       *float64 `json:"quantity,omitempty"`
	QtyUnit        string   `json:"qty_unit,omitempty"`
	Estimated      bool     `json:"estimated,omitempty"`
}

func (*TradeFlow) Kind() Kind           { return KindTrade }
func (t *TradeFlow) NaturalKey() string { return string(t.appendKey(nil)) }
func (t *TradeFlow) appendKey(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(t.ReporterM49), 10)
	b = keyU16(b, t.PartnerM49)
	b = keyU16(b, t.Partner2M49)
	b = keyStr(b, t.Flow)
	b = keyStr(b, t.HSCode)
	b = keyU16(b, t.Year)
	b = keyU16(b, uint16(t.Month))
	b = keyStr(b, t.CustomsCode)
	return keyU16(b, t.MOTCode)
}
func (t *TradeFlow) OccurredAt() time.Time {
	m := time.Month(t.Month)
	if m < 1 || m > 12 {
		m = 1
	}
	return time.Date(int(t.Year), m, 1, 0, 0, 0, 0, time.UTC)
}
func (t *TradeFlow) Validate() error {
	var v verrs
	v.oneOf("flow", t.Flow, "M", "X", "RM", "RX")
	if !ValidHS(t.HSCode) {
		v.add("hs_code", "%q is not a 2, 4 or 6 digit HS code", t.HSCode)
	}
	if t.Year < 1988 || t.Year > 2100 {
		v.add("year", "%d out of range 1988..2100", t.Year)
	}
	if t.Month > 12 {
		v.add("month", "%d out of range 0..12", t.Month)
	}
	v.iso3("reporter_iso3", t.ReporterISO3, true)
	v.iso3("partner_iso3", t.PartnerISO3, true)
	v.nonNeg("value_usd", t.ValueUSD)
	if t.NetWeightKg != nil {
		v.nonNeg("net_weight_kg", *t.NetWeightKg)
	}
	if t.Quantity != nil {
		v.nonNeg("quantity", *t.Quantity)
	}
	return v.err()
}
func (t *TradeFlow) AppendValues(dst []any) []any { return appendBoxed(t, dst) }

func (t *TradeFlow) appendColumns(w *RowWriter) {
	put(w, t.ReporterM49)
	put(w, t.ReporterISO3)
	put(w, t.PartnerM49)
	put(w, t.PartnerISO3)
	put(w, t.Partner2M49)
	put(w, t.Flow)
	put(w, t.HSCode)
	put(w, HSChapter(t.HSCode))
	put(w, t.Classification)
	put(w, t.Year)
	put(w, t.Month)
	put(w, t.CustomsCode)
	put(w, t.MOTCode)
	put(w, t.ValueUSD)
	put(w, t.NetWeightKg)
	put(w, t.Quantity)
	put(w, t.QtyUnit)
	put(w, b2u(t.Estimated))
}

var tradeSpec = Spec{Kind: KindTrade, Table: "trade_flows", New: func() Record { return new(TradeFlow) },
	Columns: []string{"reporter_m49", "reporter_iso3", "partner_m49", "partner_iso3", "partner2_m49", "flow",
		"hs_code", "hs_chapter", "classification", "year", "month", "customs_code", "mot_code",
		"value_usd", "net_weight_kg", "quantity", "qty_unit", "estimated"}}

// ---- production -----------------------------------------------------------------------------------

// ProductionStat is one country's production of a material in a year (USGS MCS world tables).
// Quantity is nil when the source withholds or lacks it; Flag keeps the source's marker
// ("W" withheld, "NA", "--", ">" lower bound, "<" upper bound) instead of a guess.
type ProductionStat struct {
	Commodity   string   `json:"commodity"`
	Country     string   `json:"country"`
	CountryISO3 string   `json:"country_iso3,omitempty"`
	Stage       string   `json:"stage"` // mine, refinery, smelter, plant, production
	Year        uint16   `json:"year"`
	Quantity    *float64 `json:"quantity,omitempty"`
	Unit        string   `json:"unit"`
	Estimated   bool     `json:"estimated,omitempty"`
	Flag        string   `json:"flag,omitempty"`
	Note        string   `json:"note,omitempty"`
}

func (*ProductionStat) Kind() Kind           { return KindProduction }
func (p *ProductionStat) NaturalKey() string { return string(p.appendKey(nil)) }
func (p *ProductionStat) appendKey(b []byte) []byte {
	return keyU16(keyStr(keyStr(append(b, p.Commodity...), p.Country), p.Stage), p.Year)
}
func (p *ProductionStat) OccurredAt() time.Time {
	return time.Date(int(p.Year), 1, 1, 0, 0, 0, 0, time.UTC)
}
func (p *ProductionStat) Validate() error {
	var v verrs
	v.required("commodity", p.Commodity)
	v.required("country", p.Country)
	v.required("stage", p.Stage)
	v.required("unit", p.Unit)
	v.iso3("country_iso3", p.CountryISO3, true)
	if p.Year < 1900 || p.Year > 2100 {
		v.add("year", "%d out of range 1900..2100", p.Year)
	}
	if p.Quantity != nil {
		v.nonNeg("quantity", *p.Quantity)
	} else if p.Flag == "" {
		v.add("quantity", "missing without a flag saying why")
	}
	return v.err()
}
func (p *ProductionStat) AppendValues(dst []any) []any { return appendBoxed(p, dst) }

func (p *ProductionStat) appendColumns(w *RowWriter) {
	put(w, p.Commodity)
	put(w, p.Country)
	put(w, p.CountryISO3)
	put(w, p.Stage)
	put(w, p.Year)
	put(w, p.Quantity)
	put(w, p.Unit)
	put(w, b2u(p.Estimated))
	put(w, p.Flag)
	put(w, p.Note)
}

var productionSpec = Spec{Kind: KindProduction, Table: "production_stats", New: func() Record { return new(ProductionStat) },
	Columns: []string{"commodity", "country", "country_iso3", "stage", "year", "quantity", "unit", "estimated", "flag", "note"}}

// ---- procurement ----------------------------------------------------------------------------------

// ProcurementAward is one award of an OCDS release, flattened; the OCDS ids are kept so a
// re-import collapses onto the same rows.
type ProcurementAward struct {
	OCID              string    `json:"ocid"`
	ReleaseID         string    `json:"release_id"`
	AwardID           string    `json:"award_id"`
	Status            string    `json:"status,omitempty"`
	Date              time.Time `json:"date"`
	BuyerID           string    `json:"buyer_id,omitempty"`
	BuyerName         string    `json:"buyer_name,omitempty"`
	SupplierIDs       []string  `json:"supplier_ids"`
	SupplierNames     []string  `json:"supplier_names"`
	SupplierCountries []string  `json:"supplier_countries"`
	ItemIDs           []string  `json:"item_ids"`
	ItemDescriptions  []string  `json:"item_descriptions"`
	ItemSchemes       []string  `json:"item_schemes"` // CPV, UNSPSC, ...
	ItemCodes         []string  `json:"item_codes"`
	Value             *float64  `json:"value,omitempty"`
	Currency          string    `json:"currency,omitempty"`
	// CompiledAt is the date of the compiled release the award comes from (the latest release date
	// of its ocid). It is the ReplacingMergeTree version of procurement_awards, so the row of the
	// latest compiled release survives whatever the order of arrival; unset (records of schema
	// version 1 in flight) it is stored as 1970-01-01, below any compiled date.
	CompiledAt time.Time `json:"compiled_at,omitzero"`
}

func (*ProcurementAward) Kind() Kind                  { return KindProcurement }
func (a *ProcurementAward) NaturalKey() string        { return string(a.appendKey(nil)) }
func (a *ProcurementAward) appendKey(b []byte) []byte { return keyStr(append(b, a.OCID...), a.AwardID) }
func (a *ProcurementAward) OccurredAt() time.Time     { return a.Date }
func (a *ProcurementAward) Validate() error {
	var v verrs
	v.required("ocid", a.OCID)
	v.required("award_id", a.AwardID)
	v.required("release_id", a.ReleaseID)
	v.date("date", a.Date)
	if len(a.SupplierNames) != len(a.SupplierIDs) || len(a.SupplierCountries) != len(a.SupplierIDs) {
		v.add("supplier_ids", "supplier_ids, supplier_names and supplier_countries must have equal length")
	}
	n := len(a.ItemIDs)
	if len(a.ItemDescriptions) != n || len(a.ItemSchemes) != n || len(a.ItemCodes) != n {
		v.add("item_ids", "item_ids, item_descriptions, item_schemes and item_codes must have equal length")
	}
	if a.Value != nil {
		v.nonNeg("value", *a.Value)
		if a.Currency == "" {
			v.add("currency", "required when value is set")
		}
	}
	return v.err()
}
func (a *ProcurementAward) AppendValues(dst []any) []any { return appendBoxed(a, dst) }

func (a *ProcurementAward) appendColumns(w *RowWriter) {
	put(w, a.OCID)
	put(w, a.ReleaseID)
	put(w, a.AwardID)
	put(w, a.Status)
	put(w, a.Date.UTC())
	put(w, a.BuyerID)
	put(w, a.BuyerName)
	put(w, nz(a.SupplierIDs))
	put(w, nz(a.SupplierNames))
	put(w, nz(a.SupplierCountries))
	put(w, nz(a.ItemIDs))
	put(w, nz(a.ItemDescriptions))
	put(w, nz(a.ItemSchemes))
	put(w, nz(a.ItemCodes))
	put(w, a.Value)
	put(w, a.Currency)
	put(w, a.version())
}

// version is the value of the compiled_at column: CompiledAt, or the Unix epoch when unset.
func (a *ProcurementAward) version() time.Time {
	if a.CompiledAt.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return a.CompiledAt.UTC()
}

var procurementSpec = Spec{Kind: KindProcurement, Table: "procurement_awards", New: func() Record { return new(ProcurementAward) },
	Columns: []string{"ocid", "release_id", "award_id", "status", "award_date", "buyer_id", "buyer_name",
		"supplier_ids", "supplier_names", "supplier_countries", "item_ids", "item_descriptions",
		"item_schemes", "item_codes", "value", "currency", "compiled_at"}}

// ---- availability ---------------------------------------------------------------------------------

// Lifecycle states of a part, normalised.
const (
	LifecycleActive      = "active"
	LifecycleNRND        = "nrnd"
	LifecycleLastTimeBuy = "last_time_buy"
	LifecycleEOL         = "eol"
	LifecycleObsolete    = "obsolete"
	// LifecycleUnknown: the source gave no lifecycle, or a word no vocabulary maps. It carries no
	// lifecycle signal and is deliberately not in Lifecycles (which is ranked, healthiest first).
	LifecycleUnknown = "unknown"
)

// Lifecycles lists the known lifecycle states, healthiest first (detectors rank by index).
var Lifecycles = []string{LifecycleActive, LifecycleNRND, LifecycleLastTimeBuy, LifecycleEOL, LifecycleObsolete}

// LifecycleValues lists every value the lifecycle field accepts: Lifecycles and LifecycleUnknown.
var LifecycleValues = append(append([]string(nil), Lifecycles...), LifecycleUnknown)

// ComponentAvailability is one distributor offer (SKU / packaging) for a part at AsOf.
type ComponentAvailability struct {
	PartNumber   string `json:"part_number"`
	Manufacturer string `json:"manufacturer"`
	Distributor  string `json:"distributor"`
	// SKU is the distributor's own part number of this offer (Mouser "595-NE555P", DigiKey
	// "296-1411-5-ND"); one MPN has several (cut tape, reel, ...).
	SKU string `json:"sku,omitempty"`
	// Packaging of the offer ("Cut Tape (CT)", "Tape & Reel (TR)"); in the natural key when SKU is empty.
	Packaging   string `json:"packaging,omitempty"`
	ComponentID string `json:"component_id,omitempty"` // supply-map component, when known
	Stock       int64  `json:"stock"`
	// StockUnknown: the source did not give a quantity ("Call", "None", empty); Stock is then 0
	// and means nothing.
	StockUnknown bool      `json:"stock_unknown,omitempty"`
	LeadTimeDays *float64  `json:"lead_time_days,omitempty"`
	Lifecycle    string    `json:"lifecycle"`
	Price        *float64  `json:"price,omitempty"`
	Currency     string    `json:"currency,omitempty"`
	AsOf         time.Time `json:"as_of"`
}

func (*ComponentAvailability) Kind() Kind { return KindAvailability }

// NaturalKey is distributor, manufacturer, part number, the offer (SKU, else "pkg:" + packaging)
// and as_of. A record without SKU and packaging keeps the key of schema version 1 records, so
// re-imports of such feeds still collapse onto the rows stored before the SKU existed.
func (c *ComponentAvailability) NaturalKey() string { return string(c.appendKey(nil)) }
func (c *ComponentAvailability) appendKey(b []byte) []byte {
	b = keyStr(keyStr(append(b, c.Distributor...), c.Manufacturer), c.PartNumber)
	switch {
	case c.SKU != "":
		b = keyStr(b, c.SKU)
	case c.Packaging != "":
		b = append(keyStr(b, "pkg:"), c.Packaging...)
	}
	return c.AsOf.UTC().AppendFormat(append(b, '|'), time.RFC3339)
}
func (c *ComponentAvailability) OccurredAt() time.Time { return c.AsOf }
func (c *ComponentAvailability) Validate() error {
	var v verrs
	v.required("part_number", c.PartNumber)
	v.required("manufacturer", c.Manufacturer)
	v.required("distributor", c.Distributor)
	if c.Stock < 0 || c.Stock > MaxQuantity {
		v.add("stock", "must be in 0..%g, got %d", MaxQuantity, c.Stock)
	}
	if c.StockUnknown && c.Stock != 0 {
		v.add("stock", "must be 0 when stock_unknown, got %d", c.Stock)
	}
	if c.LeadTimeDays != nil {
		v.nonNeg("lead_time_days", *c.LeadTimeDays)
	}
	v.oneOf("lifecycle", c.Lifecycle, LifecycleValues...)
	if c.Price != nil {
		v.nonNeg("price", *c.Price)
	}
	v.date("as_of", c.AsOf)
	return v.err()
}
func (c *ComponentAvailability) AppendValues(dst []any) []any { return appendBoxed(c, dst) }

func (c *ComponentAvailability) appendColumns(w *RowWriter) {
	var unknown uint8
	if c.StockUnknown {
		unknown = 1
	}
	put(w, c.PartNumber)
	put(w, c.Manufacturer)
	put(w, c.Distributor)
	put(w, c.ComponentID)
	put(w, c.Stock)
	put(w, c.LeadTimeDays)
	put(w, c.Lifecycle)
	put(w, c.Price)
	put(w, c.Currency)
	put(w, c.AsOf.UTC())
	put(w, c.SKU)
	put(w, c.Packaging)
	put(w, unknown)
}

// availabilitySpec: sku, packaging and stock_unknown come from migration 0006.
var availabilitySpec = Spec{Kind: KindAvailability, Table: "component_availability", New: func() Record { return new(ComponentAvailability) },
	Columns: []string{"part_number", "manufacturer", "distributor", "component_id", "stock", "lead_time_days",
		"lifecycle", "price", "currency", "as_of", "sku", "packaging", "stock_unknown"}}

// ---- supply map -----------------------------------------------------------------------------------

// Node types of the supply map.
const (
	NodeEnterprise = "enterprise"
	NodeProduct    = "product"
	NodeComponent  = "component"
	NodeSupplier   = "supplier"
)

// Component categories (the 卡脖子 classes of the industrial plans).
const (
	CategoryKeyMaterial        = "key_material"
	CategoryHighEndChip        = "high_end_chip"
	CategoryIndustrialSoftware = "industrial_software"
	CategoryBaseComponent      = "base_component"
	CategoryMachineTool        = "machine_tool"
	CategoryOther              = "other"
)

// Categories lists the component categories.
var Categories = []string{CategoryKeyMaterial, CategoryHighEndChip, CategoryIndustrialSoftware,
	CategoryBaseComponent, CategoryMachineTool, CategoryOther}

// SupplyNode is an entity of the supply map. Fields that do not apply to a node type stay empty.
type SupplyNode struct {
	NodeType    string    `json:"node_type"`
	NodeID      string    `json:"node_id"`
	Name        string    `json:"name"`
	Country     string    `json:"country,omitempty"` // ISO alpha-3
	Domestic    bool      `json:"domestic,omitempty"`
	Region      string    `json:"region,omitempty"`
	Industry    string    `json:"industry,omitempty"`
	ChainLeader bool      `json:"chain_leader,omitempty"` // 链主
	Tags        []string  `json:"tags,omitempty"`         // e.g. 专精特新
	Category    string    `json:"category,omitempty"`     // components
	HSCode      string    `json:"hs_code,omitempty"`      // components
	Chokepoint  bool      `json:"chokepoint,omitempty"`   // on the configured 卡点 list
	AsOf        time.Time `json:"as_of"`
}

func (*SupplyNode) Kind() Kind                  { return KindSupplyNode }
func (n *SupplyNode) NaturalKey() string        { return string(n.appendKey(nil)) }
func (n *SupplyNode) appendKey(b []byte) []byte { return keyStr(append(b, n.NodeType...), n.NodeID) }
func (n *SupplyNode) OccurredAt() time.Time     { return n.AsOf }
func (n *SupplyNode) Validate() error {
	var v verrs
	v.oneOf("node_type", n.NodeType, NodeEnterprise, NodeProduct, NodeComponent, NodeSupplier)
	v.required("node_id", n.NodeID)
	v.iso3("country", n.Country, n.NodeType != NodeSupplier)
	if n.NodeType == NodeComponent {
		v.oneOf("category", n.Category, Categories...)
		if n.HSCode != "" && !ValidHS(n.HSCode) {
			v.add("hs_code", "%q is not a 2, 4 or 6 digit HS code", n.HSCode)
		}
	}
	v.date("as_of", n.AsOf)
	return v.err()
}
func (n *SupplyNode) AppendValues(dst []any) []any { return appendBoxed(n, dst) }

func (n *SupplyNode) appendColumns(w *RowWriter) {
	put(w, n.NodeType)
	put(w, n.NodeID)
	put(w, n.Name)
	put(w, n.Country)
	put(w, b2u(n.Domestic))
	put(w, n.Region)
	put(w, n.Industry)
	put(w, b2u(n.ChainLeader))
	put(w, nz(n.Tags))
	put(w, n.Category)
	put(w, n.HSCode)
	put(w, b2u(n.Chokepoint))
	put(w, n.AsOf.UTC())
}

var nodeSpec = Spec{Kind: KindSupplyNode, Table: "supply_nodes", New: func() Record { return new(SupplyNode) },
	Columns: []string{"node_type", "node_id", "name", "country", "domestic", "region", "industry",
		"chain_leader", "tags", "category", "hs_code", "chokepoint", "as_of"}}

// Link types of the supply map.
const (
	LinkMakes    = "makes"    // enterprise → product
	LinkBOM      = "bom"      // product → component, QtyPerUnit
	LinkSupplies = "supplies" // supplier → enterprise for a component, Share and Qualification
	LinkStocks   = "stocks"   // enterprise holds a component: InventoryUnits, ConsumptionPerDay
)

// SupplyLink is an edge of the supply map. Which ids and numbers are set depends on LinkType.
type SupplyLink struct {
	LinkType          string    `json:"link_type"`
	EnterpriseID      string    `json:"enterprise_id,omitempty"`
	ProductID         string    `json:"product_id,omitempty"`
	ComponentID       string    `json:"component_id,omitempty"`
	SupplierID        string    `json:"supplier_id,omitempty"`
	QtyPerUnit        float64   `json:"qty_per_unit,omitempty"`
	Share             float64   `json:"share,omitempty"`         // fraction 0..1 of the pair's volume
	Qualification     string    `json:"qualification,omitempty"` // qualified, in_progress, disqualified
	InventoryUnits    float64   `json:"inventory_units,omitempty"`
	ConsumptionPerDay float64   `json:"consumption_per_day,omitempty"`
	AsOf              time.Time `json:"as_of"`
}

func (*SupplyLink) Kind() Kind           { return KindSupplyLink }
func (l *SupplyLink) NaturalKey() string { return string(l.appendKey(nil)) }
func (l *SupplyLink) appendKey(b []byte) []byte {
	b = keyStr(keyStr(append(b, l.LinkType...), l.EnterpriseID), l.ProductID)
	return keyStr(keyStr(b, l.ComponentID), l.SupplierID)
}
func (l *SupplyLink) OccurredAt() time.Time { return l.AsOf }
func (l *SupplyLink) Validate() error {
	var v verrs
	switch l.LinkType {
	case LinkMakes:
		v.required("enterprise_id", l.EnterpriseID)
		v.required("product_id", l.ProductID)
	case LinkBOM:
		v.required("product_id", l.ProductID)
		v.required("component_id", l.ComponentID)
		if !(l.QtyPerUnit > 0) {
			v.add("qty_per_unit", "must be > 0, got %v", l.QtyPerUnit)
		}
	case LinkSupplies:
		v.required("enterprise_id", l.EnterpriseID)
		v.required("component_id", l.ComponentID)
		v.required("supplier_id", l.SupplierID)
		if l.Share < 0 || l.Share > 1 || l.Share != l.Share {
			v.add("share", "must be a fraction in [0, 1], got %v", l.Share)
		}
		v.oneOf("qualification", l.Qualification, "qualified", "in_progress", "disqualified")
	case LinkStocks:
		v.required("enterprise_id", l.EnterpriseID)
		v.required("component_id", l.ComponentID)
		v.nonNeg("inventory_units", l.InventoryUnits)
		v.nonNeg("consumption_per_day", l.ConsumptionPerDay)
	default:
		v.add("link_type", "%q is not one of makes, bom, supplies, stocks", l.LinkType)
	}
	v.date("as_of", l.AsOf)
	return v.err()
}
func (l *SupplyLink) AppendValues(dst []any) []any { return appendBoxed(l, dst) }

func (l *SupplyLink) appendColumns(w *RowWriter) {
	put(w, l.LinkType)
	put(w, l.EnterpriseID)
	put(w, l.ProductID)
	put(w, l.ComponentID)
	put(w, l.SupplierID)
	put(w, l.QtyPerUnit)
	put(w, l.Share)
	put(w, l.Qualification)
	put(w, l.InventoryUnits)
	put(w, l.ConsumptionPerDay)
	put(w, l.AsOf.UTC())
}

var linkSpec = Spec{Kind: KindSupplyLink, Table: "supply_links", New: func() Record { return new(SupplyLink) },
	Columns: []string{"link_type", "enterprise_id", "product_id", "component_id", "supplier_id", "qty_per_unit",
		"share", "qualification", "inventory_units", "consumption_per_day", "as_of"}}

// ---- substitution ---------------------------------------------------------------------------------

// Substitution is one entry of a substitution list (替代清单): an alternative component and/or
// supplier for a component, optionally scoped to one enterprise.
type Substitution struct {
	ComponentID       string    `json:"component_id"`
	AltComponentID    string    `json:"alt_component_id,omitempty"`
	AltSupplierID     string    `json:"alt_supplier_id,omitempty"`
	EnterpriseID      string    `json:"enterprise_id,omitempty"` // empty = any enterprise
	QualificationDays float64   `json:"qualification_days"`
	Domestic          bool      `json:"domestic,omitempty"` // 国产替代
	Country           string    `json:"country,omitempty"`
	Notes             string    `json:"notes,omitempty"`
	AsOf              time.Time `json:"as_of"`
}

func (*Substitution) Kind() Kind           { return KindSubstitution }
func (s *Substitution) NaturalKey() string { return string(s.appendKey(nil)) }
func (s *Substitution) appendKey(b []byte) []byte {
	return keyStr(keyStr(keyStr(append(b, s.ComponentID...), s.AltComponentID), s.AltSupplierID), s.EnterpriseID)
}
func (s *Substitution) OccurredAt() time.Time { return s.AsOf }
func (s *Substitution) Validate() error {
	var v verrs
	v.required("component_id", s.ComponentID)
	if s.AltComponentID == "" && s.AltSupplierID == "" {
		v.add("alt_component_id", "alt_component_id or alt_supplier_id is required")
	}
	v.nonNeg("qualification_days", s.QualificationDays)
	v.iso3("country", s.Country, true)
	v.date("as_of", s.AsOf)
	return v.err()
}
func (s *Substitution) AppendValues(dst []any) []any { return appendBoxed(s, dst) }

func (s *Substitution) appendColumns(w *RowWriter) {
	put(w, s.ComponentID)
	put(w, s.AltComponentID)
	put(w, s.AltSupplierID)
	put(w, s.EnterpriseID)
	put(w, s.QualificationDays)
	put(w, b2u(s.Domestic))
	put(w, s.Country)
	put(w, s.Notes)
	put(w, s.AsOf.UTC())
}

var substitutionSpec = Spec{Kind: KindSubstitution, Table: "substitutions", New: func() Record { return new(Substitution) },
	Columns: []string{"component_id", "alt_component_id", "alt_supplier_id", "enterprise_id", "qualification_days",
		"domestic", "country", "notes", "as_of"}}

// keyStr and keyU16 append a natural key's next part: the parts are joined by "|".
func keyStr(b []byte, s string) []byte { return append(append(b, '|'), s...) }
func keyU16(b []byte, n uint16) []byte { return strconv.AppendUint(append(b, '|'), uint64(n), 10) }

// appendKey appends rec's natural key (NaturalKey) to b. A type switch, not an interface method,
// so that b stays on the caller's stack.
func appendKey(b []byte, rec Record) []byte {
	switch r := rec.(type) {
	case *TradeFlow:
		return r.appendKey(b)
	case *ProductionStat:
		return r.appendKey(b)
	case *ProcurementAward:
		return r.appendKey(b)
	case *ComponentAvailability:
		return r.appendKey(b)
	case *SupplyNode:
		return r.appendKey(b)
	case *SupplyLink:
		return r.appendKey(b)
	case *Substitution:
		return r.appendKey(b)
	}
	return append(b, rec.NaturalKey()...)
}

func nz(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
