package collectors

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

func nodeByID(nodes []*schemas.SupplyNode, typ, id string) *schemas.SupplyNode {
	return findFirst(nodes, func(n *schemas.SupplyNode) bool { return n.NodeType == typ && n.NodeID == id })
}

func linksOf(links []*schemas.SupplyLink, typ string) []*schemas.SupplyLink {
	var out []*schemas.SupplyLink
	for _, l := range links {
		if l.LinkType == typ {
			out = append(out, l)
		}
	}
	return out
}

func eventIDs(m *collectorstest.Memory) []string {
	var ids []string
	for _, e := range m.Events {
		ids = append(ids, e.EventID)
	}
	sort.Strings(ids)
	return ids
}

func checkDemoMap(t *testing.T, m *collectorstest.Memory, st Stats, file func(section string, line int) string) {
	t.Helper()
	if st.Read != 34 || st.Emitted != 24 || st.RejectedTotal() != 10 {
		t.Fatalf("stats %+v\n%v", st, m.Rejects)
	}
	wantReject(t, m, "bad_country", file("enterprises", 4), "country")
	wantReject(t, m, "bad_category", file("components", 7), "category")
	wantReject(t, m, "duplicate", file("components", 8), "id")
	wantReject(t, m, "missing_field", file("suppliers", 5), "country")
	wantReject(t, m, "unknown_reference", file("products", 4), `enterprise_id: unknown enterprise "E9"`)
	wantReject(t, m, "unknown_reference", file("bom", 5), `component_id: unknown component "C99"`)
	wantReject(t, m, "unknown_reference", file("bom", 6), `product_id: unknown product "P3"`)
	wantReject(t, m, "unknown_reference", file("supplies", 5), `supplier_id: unknown supplier "S9"`)
	wantReject(t, m, "invalid", file("supplies", 6), "share")
	wantReject(t, m, "invalid", file("inventory", 4), "inventory_units")
	nodes := decodeAll[*schemas.SupplyNode](t, m.ByKind(schemas.KindSupplyNode))
	links := decodeAll[*schemas.SupplyLink](t, m.ByKind(schemas.KindSupplyLink))
	e1 := nodeByID(nodes, schemas.NodeEnterprise, "E1")
	e2 := nodeByID(nodes, schemas.NodeEnterprise, "E2")
	if e1 == nil || !e1.ChainLeader || e1.Country != "CHN" || strings.Join(e1.Tags, ",") != "专精特新,上市" || e1.Region != "广东深圳" ||
		e2 == nil || e2.Country != "CHN" || strings.Join(e2.Tags, ",") != "专精特新,小巨人" {
		t.Errorf("enterprises %+v %+v", e1, e2)
	}
	c1 := nodeByID(nodes, schemas.NodeComponent, "C1")
	c3 := nodeByID(nodes, schemas.NodeComponent, "C3")
	if c1 == nil || c1.Name != "IGBT模块" || c1.Category != "high_end_chip" || c1.HSCode != "854129" || !c1.Chokepoint ||
		c3 == nil || c3.Category != "industrial_software" {
		t.Errorf("components %+v %+v", c1, c3)
	}
	s2 := nodeByID(nodes, schemas.NodeSupplier, "S2")
	s3 := nodeByID(nodes, schemas.NodeSupplier, "S3")
	if s2 == nil || !s2.Domestic || s3 == nil || s3.Country != "USA" || s3.Domestic {
		t.Errorf("suppliers %+v %+v", s2, s3)
	}
	if len(linksOf(links, "makes")) != 2 || len(linksOf(links, "bom")) != 4 || len(linksOf(links, "supplies")) != 4 || len(linksOf(links, "stocks")) != 2 {
		t.Errorf("links %d makes %d bom %d supplies %d stocks", len(linksOf(links, "makes")), len(linksOf(links, "bom")),
			len(linksOf(links, "supplies")), len(linksOf(links, "stocks")))
	}
	for _, l := range linksOf(links, "supplies") {
		if l.SupplierID == "S1" && l.ComponentID == "C1" && l.Share != 0.7 {
			t.Errorf("70%% share: %v", l.Share)
		}
		if l.SupplierID == "S3" && l.EnterpriseID == "E2" && l.Qualification != "qualified" {
			t.Errorf("approved → qualified: %q", l.Qualification)
		}
	}
	for _, l := range linksOf(links, "bom") {
		if l.ProductID == "P1" && l.ComponentID == "C4" && l.QtyPerUnit != 0.5 {
			t.Errorf("qty %v", l.QtyPerUnit)
		}
	}
}

func TestSupplyMapCSV(t *testing.T) {
	opts := testOpts()
	opts.HomeCountry = "CHN"
	opts.AsOf = time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	m, st := importT(t, ImportSupplyMap, "../testdata/supplymap/demo", opts)
	if st.Files != 7 {
		t.Errorf("files %d", st.Files)
	}
	checkDemoMap(t, m, st, func(s string, line int) string { return filepath.Join("demo", s+".csv") + ":" + strconv.Itoa(line) })
	// The YAML form of the same map: same events.
	my, sty := importT(t, ImportSupplyMap, "../testdata/supplymap/demo.yaml", opts)
	first := map[string]int{"enterprises": 4, "components": 8, "suppliers": 16, "products": 21, "bom": 25, "supplies": 32, "inventory": 39}
	checkDemoMap(t, my, sty, func(s string, line int) string { return "demo.yaml:" + strconv.Itoa(first[s]+line-2) })
	a, b := eventIDs(m), eventIDs(my)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("CSV and YAML forms give different events")
	}
	for i := range m.Events {
		if m.Events[i].EventID == my.Events[i].EventID && string(m.Events[i].Payload) != string(my.Events[i].Payload) {
			t.Errorf("payloads differ:\n%s\n%s", m.Events[i].Payload, my.Events[i].Payload)
		}
	}
}

func TestWillemsChain01(t *testing.T) {
	m, st := importT(t, ImportWillems, "../testdata/supplymap/willems/chains/willems_01.csv", testOpts())
	// 8 stages (3 Part, 2 Manuf, 3 Retail), 10 arcs: 1 enterprise + 3 parts + 3 suppliers + 2 Manuf
	// components + 5 products = 14 nodes; 5 makes + 10 bom + 3 supplies = 18 links.
	if st.Emitted != 32 || st.RejectedTotal() != 0 || len(m.ByKind(schemas.KindSupplyNode)) != 14 {
		t.Fatalf("stats %+v", st)
	}
	if m.Events[0].Source != SourceWillems {
		t.Errorf("source %s", m.Events[0].Source)
	}
	nodes := decodeAll[*schemas.SupplyNode](t, m.ByKind(schemas.KindSupplyNode))
	links := decodeAll[*schemas.SupplyLink](t, m.ByKind(schemas.KindSupplyLink))
	ent := nodeByID(nodes, schemas.NodeEnterprise, "willems-01")
	if ent == nil || !ent.ChainLeader || ent.Industry != "Industrial Organic Chemicals, Not Elsewhere Classified" ||
		!ent.AsOf.Equal(time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("enterprise %+v", ent)
	}
	// PROVENANCE: Retail_0002 is dual-sourced (Manuf_0001, Manuf_0002), Retail_0001 and _0003 single-sourced.
	inputs := map[string]int{}
	for _, l := range linksOf(links, "bom") {
		inputs[l.ProductID]++
	}
	if inputs["w01-Retail_0002"] != 2 || inputs["w01-Retail_0001"] != 1 || inputs["w01-Retail_0003"] != 1 ||
		inputs["w01-Manuf_0001"] != 3 || inputs["w01-Manuf_0002"] != 3 {
		t.Errorf("bom inputs %v", inputs)
	}
	sup := nodeByID(nodes, schemas.NodeSupplier, "w01-sup-Part_0001")
	if sup == nil || sup.Country == "" || sup.Domestic != (sup.Country == "CHN") {
		t.Errorf("supplier %+v", sup)
	}
	// Deterministic: a second conversion gives the same payloads.
	m2, _ := importT(t, ImportWillems, "../testdata/supplymap/willems/chains/willems_01.csv", testOpts())
	for i := range m.Events {
		if string(m.Events[i].Payload) != string(m2.Events[i].Payload) {
			t.Fatal("conversion is not deterministic")
		}
	}
}

func TestWillemsDirectoryAndCSVRoundTrip(t *testing.T) {
	m, st := importT(t, ImportWillems, "../testdata/supplymap/willems/chains", testOpts())
	if st.Files != 4 || st.RejectedTotal() != 0 || len(m.DuplicateIDs()) != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Chain 22: 253 stages and 253 arcs (PROVENANCE).
	f, _ := os.Open("../testdata/supplymap/willems/chains/willems_22.csv")
	ch, err := ParseWillems(f, "willems_22.csv")
	f.Close()
	if err != nil || len(ch.Stages) != 253 || len(ch.Arcs) != 253 {
		t.Fatalf("chain 22: %d stages %d arcs %v", len(ch.Stages), len(ch.Arcs), err)
	}
	// Chain 19 classifies parts as "Parts" (sic): still components with suppliers.
	links := decodeAll[*schemas.SupplyLink](t, m.ByKind(schemas.KindSupplyLink))
	n19 := 0
	for _, l := range linksOf(links, "supplies") {
		if strings.HasPrefix(l.ComponentID, "w19-") {
			n19++
		}
	}
	if n19 == 0 {
		t.Error("chain 19 has no supplied parts")
	}
	// Converter → CSV directory → import: the same events.
	dir := t.TempDir()
	f, _ = os.Open("../testdata/supplymap/willems/chains/willems_01.csv")
	ch01, _ := ParseWillems(f, "willems_01.csv")
	f.Close()
	if err := ch01.SupplyMap("Industrial Organic Chemicals, Not Elsewhere Classified").WriteCSV(dir); err != nil {
		t.Fatal(err)
	}
	opts := testOpts()
	opts.Source = SourceWillems
	mc, _ := importT(t, ImportSupplyMap, dir, opts)
	md, _ := importT(t, ImportWillems, "../testdata/supplymap/willems/chains/willems_01.csv", testOpts())
	if strings.Join(eventIDs(mc), ",") != strings.Join(eventIDs(md), ",") {
		t.Error("CSV round trip changes the events")
	}
}

func TestWillemsAllSharedChains(t *testing.T) {
	dir := "../../shared/data/willems2008_msom_supply_chains/chains"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared data not present")
	}
	m, st := importT(t, ImportWillems, dir, testOpts())
	// Chain 27 has two arcs into Part stages (a part made from a part): a BOM line may name a
	// component as its parent (multi-level BOM), so everything lands.
	if st.Files != 29 || st.RejectedTotal() != 0 || len(m.DuplicateIDs()) != 0 {
		t.Fatalf("stats %+v", st)
	}
	f, _ := os.Open(filepath.Join(dir, "willems_38.csv"))
	ch, err := ParseWillems(f, "willems_38.csv")
	f.Close()
	if err != nil || len(ch.Stages) != 2025 || len(ch.Arcs) != 16225 {
		t.Fatalf("chain 38: %d stages %d arcs", len(ch.Stages), len(ch.Arcs))
	}
}

// Every supply-map reject carries the offending bytes: CSV lines that do not parse (bad_csv) and
// rows of a map built in code (SupplyMap.emit, e.g. from Willems chains) included.
func TestSupplyMapRejectsCarryRaw(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("enterprises.csv", "id,name,country\nE1,Good Co,CHN\nE2,\"Bad \"quote\" Co,CHN\nE3,Fine,DEU\n")
	write("components.csv", "id,name,category\r\nC1,MCU,key_material\r\nC2,\"Open quote\r\nstill open,key_material\r\n")
	m, st := importT(t, ImportSupplyMap, dir, testOpts())
	if st.RejectedTotal() != 2 || st.Rejected["bad_csv"] != 2 {
		t.Fatalf("stats %+v rejects %+v", st, m.Rejects)
	}
	raws := map[string]string{}
	for _, r := range m.Rejects {
		raws[filepath.Base(r.Location)] = string(r.Raw)
	}
	if got := raws["enterprises.csv:3"]; got != `E2,"Bad "quote" Co,CHN` {
		t.Errorf("enterprises.csv:3 raw %q", got)
	}
	if got := raws["components.csv:3"]; got != "C2,\"Open quote\r\nstill open,key_material" {
		t.Errorf("components.csv:3 raw %q (all: %q)", got, raws)
	}

	var sm SupplyMap
	sm.Add("enterprises", Row{"id": "E1", "name": "Maker", "country": "CHN"})
	sm.Add("bom", Row{"product_id": "P-unknown", "component_id": "C1"})
	mem := &collectorstest.Memory{}
	o := newOut(t.Context(), mem, SourceSupplyMap, testNow, 10)
	if err := sm.emit(newSupplyMapProc(o, testCountries, testNow, "CHN"), "chain"); err != nil {
		t.Fatal(err)
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	checkStats(t, mem, o.stats)
	if len(mem.Rejects) != 1 || mem.Rejects[0].Location != "chain#bom[0]" ||
		string(mem.Rejects[0].Raw) != `{"component_id":"C1","product_id":"P-unknown"}` {
		t.Errorf("emit rejects %+v", mem.Rejects)
	}
	for _, e := range mem.Events {
		if len(e.Payload) == 0 {
			t.Errorf("event %s without payload", e.EventID)
		}
	}
}
