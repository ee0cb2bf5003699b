package detectors

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// TestLoadCacheIntegration: a cached load replays unchanged tables, re-reads changed ones, and its
// Inputs always equal an uncached load of the same data.
func TestLoadCacheIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	recs := fixtureRecords(now)
	insertRecords(t, ctx, conn, now.Add(-time.Hour), recs)
	cfg := fixtureConfig()
	cache := NewLoadCache()
	all := make([]string, 0, len(loadSteps))
	var cacheable []string
	for _, s := range loadSteps {
		all = append(all, s.name)
		if s.cacheable {
			cacheable = append(cacheable, s.name)
		}
	}
	// shared lists the built parts (loadcache_built.go) that two Inputs share: the same maps
	shared := func(a, b *Inputs) []string {
		if a == nil {
			return nil
		}
		same := func(x, y any) bool { return reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer() }
		var out []string
		if same(a.Enterprises, b.Enterprises) && same(a.Suppliers, b.Suppliers) && same(a.Components, b.Components) && same(a.Products, b.Products) {
			out = append(out, "nodes")
			if same(a.index, b.index) || &a.ids[0] == &b.ids[0] {
				t.Error("two loads share the ids or their index, which each Builder extends")
			}
		}
		if same(a.exportTotals, b.exportTotals) && same(a.importTotals, b.importTotals) && same(a.mirror, b.mirror) &&
			same(a.homeImports, b.homeImports) && same(a.iso3, b.iso3) {
			out = append(out, "trade")
		}
		if same(a.production, b.production) && same(a.worldProd, b.worldProd) {
			out = append(out, "production")
		}
		return out
	}
	var last *Inputs
	check := func(step string, wantRead, wantReused []string, wantDelta ...string) {
		t.Helper()
		got, st, err := cache.Load(ctx, conn, cfg, now)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if !slices.Equal(st.Read, wantRead) || !slices.Equal(st.Reused, wantReused) || !slices.Equal(st.Delta, wantDelta) {
			t.Errorf("%s: read %v reused %v delta %v, want read %v reused %v delta %v", step, st.Read, st.Reused, st.Delta,
				wantRead, wantReused, wantDelta)
		}
		want, err := Load(ctx, conn, cfg, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.built.trade.exportTotals) == 0 || want.built.nodes != nil || want.built.trade != nil || want.built.prod != nil {
			t.Errorf("%s: built parts %+v cached, %+v uncached", step, got.built, want.built)
		}
		built := got.built // compared without the record of the parts they were built from
		got.built = builtParts{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: cached Inputs differ from an uncached load", step)
		}
		got.built = built
		if len(got.Supplies) == 0 || len(got.Enterprises) == 0 {
			t.Fatalf("%s: empty inputs", step)
		}
		// the reused tables' parts are the last load's
		var wantShared []string
		for _, p := range [][2]string{{"supply_nodes", "nodes"}, {"trade_totals", "trade"}, {"production_stats", "production"}} {
			if slices.Contains(wantReused, p[0]) {
				wantShared = append(wantShared, p[1])
			}
		}
		if s := shared(last, got); !slices.Equal(s, wantShared) {
			t.Errorf("%s: shares %v with the last load, want %v", step, s, wantShared)
		}
		if s := shared(want, got); len(s) > 0 {
			t.Errorf("%s: shares %v with an uncached load", step, s)
		}
		last = got
	}
	check("first load", all, nil)
	check("nothing changed", []string{"procurement_awards", "component_availability"}, cacheable)

	// a new version of one supply link (half the inventory, a day later), ingested now: read as a
	// delta (loadcache_delta.go), the link replaced in place
	link := firstRecord(recs, func(l *schemas.SupplyLink) bool { return l.LinkType == schemas.LinkSupplies })
	if link == nil {
		t.Fatal("fixture has no supplies link")
	}
	link.Share /= 2
	link.AsOf = link.AsOf.Add(24 * time.Hour)
	insertRecords(t, ctx, conn, now, []schemas.Record{link})
	allBut := func(step string) []string {
		return slices.DeleteFunc(slices.Clone(cacheable), func(s string) bool { return s == step })
	}
	check("one link changed", []string{"procurement_awards", "component_availability"}, allBut("supply_links"), "supply_links")
	check("unchanged again", []string{"procurement_awards", "component_availability"}, cacheable)

	// a new version of a node (renamed): the nodes read and replayed, the rest shared
	node := firstRecord(recs, func(n *schemas.SupplyNode) bool { return n.NodeType == schemas.NodeSupplier })
	if node == nil {
		t.Fatal("fixture has no supplier node")
	}
	node.Name += " (renamed)"
	node.AsOf = node.AsOf.Add(time.Hour)
	insertRecords(t, ctx, conn, now.Add(time.Minute), []schemas.Record{node})
	check("a node renamed", []string{"supply_nodes", "procurement_awards", "component_availability"}, allBut("supply_nodes"))
	check("unchanged after the rename", []string{"procurement_awards", "component_availability"}, cacheable)

	// another configuration: nothing cached applies
	cfg.Chokepoint.YearsWindow++
	check("config changed", all, nil)
}

// TestRunnerLoadCacheIntegration: the Runner reuses unchanged tables on its next run, and reads
// every table every run with detectors.load_cache off.
func TestRunnerLoadCacheIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	insertRecords(t, ctx, conn, now, fixtureRecords(now))
	for _, on := range []bool{true, false} {
		cfg := fixtureConfig()
		cfg.LoadCache = on
		r, err := NewRunner(conn, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Now = func() time.Time { return now }
		first, err := r.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		second, err := r.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Reused) != 0 {
			t.Errorf("load_cache=%v: first run reused %v", on, first.Reused)
		}
		if want := 6; on && len(second.Reused) != want || !on && len(second.Reused) != 0 {
			t.Errorf("load_cache=%v: second run reused %v", on, second.Reused)
		}
		for _, d := range second.Detectors {
			if d.Err != nil || d.Detector == "" {
				t.Errorf("load_cache=%v: %+v", on, d)
			}
		}
	}
}

// TestRecorderReplaysLinks: supply links recorded (ids interned, no pointers) and replayed build
// the same Inputs as the links added to a Builder directly, versions and all.
func TestRecorderReplaysLinks(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cfg := fixtureConfig()
	var links []schemas.SupplyLink
	for i := range 3000 {
		l := schemas.SupplyLink{LinkType: []string{schemas.LinkSupplies, schemas.LinkBOM, schemas.LinkMakes, schemas.LinkStocks}[i%4],
			EnterpriseID: fmt.Sprintf("E%d", i%37), ProductID: fmt.Sprintf("P%d", i%11), ComponentID: fmt.Sprintf("C%d", i%53),
			SupplierID: fmt.Sprintf("S%d", i%29), QtyPerUnit: float64(i % 7), Share: float64(i%10) / 10,
			Qualification: []string{"qualified", "in_progress", "disqualified", ""}[i%4], InventoryUnits: float64(i),
			ConsumptionPerDay: float64(i%13) + 0.25, AsOf: now.Add(time.Duration(i%17) * time.Hour)}
		links = append(links, l)
	}
	for _, unique := range []bool{true, false} {
		direct, replayed := NewBuilder(cfg, now), NewBuilder(cfg, now)
		direct.unique, replayed.unique = unique, unique
		r := &recorder{}
		for i := range links {
			direct.AddLink(&links[i])
			r.AddLink(&links[i])
		}
		r.replay(replayed)
		a, b := direct.Inputs(), replayed.Inputs()
		if !reflect.DeepEqual(a.Supplies, b.Supplies) || !reflect.DeepEqual(a.BOM, b.BOM) || !reflect.DeepEqual(a.Makes, b.Makes) ||
			!reflect.DeepEqual(a.Stocks, b.Stocks) || !reflect.DeepEqual(a.ids, b.ids) {
			t.Fatalf("unique=%v: replayed links differ from the direct ones", unique)
		}
		if len(a.Supplies) == 0 || len(a.Stocks) == 0 || len(a.BOM) == 0 || len(a.Makes) == 0 {
			t.Fatal("the fixture misses a link type")
		}
	}
}

// TestLoadQueryFailsIntegration: a failing query ends the load with its step named, while the
// recorders already loaded are being replayed, and the cache keeps what it had; a failing
// signatures query ends it with its own error.
func TestLoadQueryFailsIntegration(t *testing.T) {
	conn, ctx, now := fixtureInClickHouse(t)
	cfg := fixtureConfig()
	cache := NewLoadCache()
	if _, _, err := cache.Load(ctx, conn, cfg, now); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "RENAME TABLE component_availability TO component_availability_gone"); err != nil {
		t.Fatal(err)
	}
	_, _, err := cache.Load(ctx, conn, cfg, now)
	if err == nil || !strings.Contains(err.Error(), "load component_availability") {
		t.Fatalf("load with a table missing: %v, want the failing step named", err)
	}
	if err := conn.Exec(ctx, "RENAME TABLE component_availability_gone TO component_availability"); err != nil {
		t.Fatal(err)
	}
	_, st, err := cache.Load(ctx, conn, cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Reused) == 0 {
		t.Errorf("the failed load emptied the cache: reused %v", st.Reused)
	}
	// the signatures query failing, while the reads that do not wait for it run: its error, and
	// the load returns (the reads started end with it)
	if err := conn.Exec(ctx, "RENAME TABLE production_stats TO production_stats_gone"); err != nil {
		t.Fatal(err)
	}
	_, _, err = cache.Load(ctx, conn, cfg, now)
	if err == nil || !strings.Contains(err.Error(), "change signatures") || !strings.Contains(err.Error(), "production_stats") {
		t.Fatalf("load with a signed table missing: %v, want the signatures query's error", err)
	}
	if err := conn.Exec(ctx, "RENAME TABLE production_stats_gone TO production_stats"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cache.Load(ctx, conn, cfg, now); err != nil {
		t.Fatal(err)
	}
	// the supply links' own plan query (planDelta, started beside the signatures query) failing:
	// the step named
	if err := conn.Exec(ctx, "RENAME TABLE supply_links TO supply_links_gone"); err != nil {
		t.Fatal(err)
	}
	_, _, err = cache.Load(ctx, conn, cfg, now)
	if err == nil || !strings.Contains(err.Error(), "load supply_links") {
		t.Fatalf("load with the links table missing: %v, want the failing step named", err)
	}
	if err := conn.Exec(ctx, "RENAME TABLE supply_links_gone TO supply_links"); err != nil {
		t.Fatal(err)
	}
	if _, st, err := cache.Load(ctx, conn, cfg, now); err != nil || !slices.Contains(st.Reused, "supply_links") {
		t.Fatalf("load after the links table is back: %v, reused %v (want supply_links among them)", err, st.Reused)
	}
}

// canonicalLinks lists the Inputs' supply-map edges as sorted strings (the order a load adds them
// in does not matter to the Inputs' meaning).
func canonicalLinks(in *Inputs) []string {
	var out []string
	for _, e := range in.Supplies {
		out = append(out, fmt.Sprintf("S %s %s %s %v", in.ID(e.Ent), in.ID(e.Comp), in.ID(e.Sup), e))
	}
	for k, e := range in.Stocks {
		ent, comp := pairOf(k)
		out = append(out, fmt.Sprintf("K %s %s %+v", in.ID(ent), in.ID(comp), e))
	}
	for _, b := range in.BOM {
		out = append(out, fmt.Sprintf("B %s %s %v", in.ID(b.Prod), in.ID(b.Comp), b))
	}
	for _, m := range in.Makes {
		out = append(out, fmt.Sprintf("M %s %s %v", in.ID(m.Ent), in.ID(m.Prod), m))
	}
	slices.Sort(out)
	return out
}

// loadCacheNetwork opens the test's ClickHouse database and makes a synthetic network of edges
// links (not stored yet); ctx ends with the test, after two minutes at most.
func loadCacheNetwork(t *testing.T, edges int) (driver.Conn, context.Context, time.Time, []schemas.Record) {
	t.Helper()
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return conn, ctx, time.Now().UTC().Truncate(time.Second), memoNetwork(t, edges)
}

// TestLoadCacheDeltaIntegration: a changed supply_links table is read as a delta (the keys with
// rows ingested since the last read) when no row arrived below the cached threshold, and the
// result equals a full load: changed attributes, an older version that must lose, new keys with
// new and with known ids. A row ingested late (below the threshold) makes the next load read in
// full.
func TestLoadCacheDeltaIntegration(t *testing.T) {
	conn, ctx, now, recs := loadCacheNetwork(t, 4000)
	var links []schemas.SupplyLink
	var rest []schemas.Record
	for _, r := range recs {
		if l, ok := r.(*schemas.SupplyLink); ok {
			links = append(links, *l)
		} else {
			rest = append(rest, r)
		}
	}
	asRecords := func(ls []schemas.SupplyLink) []schemas.Record {
		out := make([]schemas.Record, len(ls))
		for i := range ls {
			out[i] = &ls[i]
		}
		return out
	}
	insertRecords(t, ctx, conn, now.Add(-2*time.Hour), append(rest, asRecords(links[1:])...))
	insertRecords(t, ctx, conn, now.Add(-time.Hour), asRecords(links[:1])) // the newest ingested_at
	cfg := benchConfig()
	cache := NewLoadCache()
	load := func(step, want string) {
		t.Helper()
		got, st, err := cache.Load(ctx, conn, cfg, memoNow)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		how := "read"
		switch {
		case slices.Contains(st.Delta, "supply_links"):
			how = "delta"
		case slices.Contains(st.Reused, "supply_links"):
			how = "reused"
		}
		if how != want {
			t.Errorf("%s: supply_links %s, want %s (stats %+v)", step, how, want, st)
		}
		// a delta or an unchanged table patches the last load's edges (patchLinks), a read replays
		if l := got.built.links; l == nil || l.patched != (how != "read") {
			t.Errorf("%s: links part %+v, want one patched: %v", step, l, how != "read")
		}
		full, err := Load(ctx, conn, cfg, memoNow)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := canonicalLinks(got), canonicalLinks(full); !slices.Equal(g, w) {
			t.Fatalf("%s: cached links differ from a full load (%d vs %d edges)", step, len(g), len(w))
		}
		if g, w := runAll(t, got), runAll(t, full); !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: findings on the cached load differ from a full load", step)
		}
	}
	load("first load", "read")
	load("nothing changed", "reused")

	var change []schemas.SupplyLink
	var sup *schemas.SupplyLink
	for i := range links {
		if l := links[i]; l.LinkType == schemas.LinkSupplies && i%40 == 0 {
			l.InventoryUnits, l.Share, l.AsOf = l.InventoryUnits/2+1, l.Share/2, l.AsOf.Add(24*time.Hour)
			change = append(change, l)
			sup = &links[i]
		}
	}
	if len(change) < 5 || sup == nil {
		t.Fatalf("only %d supplies links to change", len(change))
	}
	older := *sup // an older version of a changed link: argMax keeps the newer one
	older.Share, older.AsOf = 0.01, older.AsOf.Add(-48*time.Hour)
	fresh := *sup // a new key with a supplier id the cache has never seen
	fresh.SupplierID, fresh.Share = "S-DELTA-NEW", 0.3
	known := *sup // a new key made of known ids: another enterprise's component and supplier
	for _, l := range links {
		if l.LinkType == schemas.LinkSupplies && l.EnterpriseID != sup.EnterpriseID {
			known.EnterpriseID = l.EnterpriseID
			break
		}
	}
	// only an older version of an unchanged link: the cached, newer version stays
	var stale schemas.SupplyLink
	for i, l := range links {
		if l.LinkType == schemas.LinkSupplies && i%40 == 7 {
			stale = l
			break
		}
	}
	stale.Share, stale.AsOf = 0.02, stale.AsOf.Add(-24*time.Hour)
	change = append(change, older, fresh, known, stale)
	insertRecords(t, ctx, conn, now, asRecords(change))
	load("1/40 of the supplies links changed", "delta")
	load("unchanged after the delta", "reused")

	// a second change on top of the overlay
	again := change[0]
	again.InventoryUnits, again.AsOf = 7, again.AsOf.Add(time.Hour)
	insertRecords(t, ctx, conn, now.Add(5*time.Minute), []schemas.Record{&again})
	load("a second delta", "delta")

	// a third, read past the first delta's rows: an older version of a key the overlay holds
	behind := change[1]
	behind.Share, behind.AsOf = 0.04, behind.AsOf.Add(-time.Hour)
	insertRecords(t, ctx, conn, now.Add(6*time.Minute), []schemas.Record{&behind})
	load("an older version of an overlay link", "delta")

	// Each delta is folded into the cached rows once its load has succeeded, so the next one's
	// overlay holds only the keys changed since: a series of deltas that together change more than
	// 1/overlayMaxFrac of the links stays a series of deltas (one overlay of them all would have
	// forced a full read by the fourth). Merges are stopped meanwhile: a merge that drops an older
	// version below the threshold also means a full read (planDelta), whenever the server runs it.
	if err := conn.Exec(ctx, "SYSTEM STOP MERGES supply_links"); err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 6; k++ {
		var batch []schemas.Record
		for i := range links {
			if i%40 == 10+k {
				l := links[i]
				l.Share, l.AsOf = l.Share/3, l.AsOf.Add(time.Duration(48+k)*time.Hour)
				batch = append(batch, &l)
			}
		}
		insertRecords(t, ctx, conn, now.Add(time.Duration(10*k)*time.Minute), batch)
		load(fmt.Sprintf("delta %d of a series, %d links", k, len(batch)), "delta")
		if rec := cache.entries["supply_links"].rec; rec.overlay != nil {
			t.Fatalf("delta %d: the cached links keep an overlay of %d rows", k, len(rec.overlay.rows))
		}
	}
	if err := conn.Exec(ctx, "SYSTEM START MERGES supply_links"); err != nil {
		t.Fatal(err)
	}

	// a row ingested below the threshold arrives late: a full read
	var late schemas.SupplyLink
	for i, l := range links {
		if l.LinkType == schemas.LinkSupplies && i%40 != 0 {
			late = l
			break
		}
	}
	late.Share, late.InventoryUnits, late.AsOf = 0.05, 1, late.AsOf.Add(72*time.Hour)
	insertRecords(t, ctx, conn, now.Add(-3*time.Hour), []schemas.Record{&late})
	load("a late row", "read")
}

// TestLoadCacheLateVersionIntegration: a late row (ingested before the last load's rows, inserted
// after it) that replaces a stored version of its key, once a merge has dropped that version,
// leaves count() and max(ingested_at) as they were, and for the links the count below the delta's
// threshold. The signatures and the delta check also sum the rows' version digests (rowDigest), so
// the load reads the table again and does not keep the older version.
func TestLoadCacheLateVersionIntegration(t *testing.T) {
	conn, ctx, now, recs := loadCacheNetwork(t, 2000)
	insertRecords(t, ctx, conn, now.Add(-2*time.Hour), recs)
	for _, table := range []string{"supply_nodes", "supply_links"} {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+table+" FINAL"); err != nil { // one version per key before
			t.Fatal(err)
		}
	}
	cfg := benchConfig()
	cache := NewLoadCache()
	load := func(step string) (*Inputs, LoadStats) {
		t.Helper()
		got, st, err := cache.Load(ctx, conn, cfg, memoNow)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		full, err := Load(ctx, conn, cfg, memoNow)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := canonicalLinks(got), canonicalLinks(full); !slices.Equal(g, w) {
			t.Fatalf("%s: cached links differ from a full load", step)
		}
		for id, w := range full.Components {
			if g := got.Components[got.Lookup(full.ID(id))]; g == nil || g.Name != w.Name {
				t.Fatalf("%s: component %s cached as %+v, a full load has %q", step, full.ID(id), g, w.Name)
			}
		}
		return got, st
	}
	stats := func(table string) (n uint64, last time.Time) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT count(), max(ingested_at) FROM "+table).Scan(&n, &last); err != nil {
			t.Fatal(err)
		}
		return n, last
	}
	load("first load")

	// a component renamed by a late row, its older version merged away
	var comp schemas.SupplyNode
	for _, r := range recs {
		if n, ok := r.(*schemas.SupplyNode); ok && n.NodeType == schemas.NodeComponent {
			comp = *n
			break
		}
	}
	n0, last0 := stats("supply_nodes")
	comp.Name, comp.AsOf = comp.Name+" (renamed late)", comp.AsOf.Add(12*time.Hour)
	insertRecords(t, ctx, conn, now.Add(-3*time.Hour), []schemas.Record{&comp})
	if err := conn.Exec(ctx, "OPTIMIZE TABLE supply_nodes FINAL"); err != nil {
		t.Fatal(err)
	}
	if n, last := stats("supply_nodes"); n != n0 || !last.Equal(last0) {
		t.Fatalf("supply_nodes: %d rows, newest %s after the late row; want %d, %s as before (else counts alone would see it)", n, last, n0, last0)
	}
	if _, st := load("a late node version"); slices.Contains(st.Reused, "supply_nodes") {
		t.Fatal("a late node version: supply_nodes reused")
	}

	// a link changed by a late row, its older version merged away, and a new link ingested now: the
	// links changed, and the rows below the delta's threshold are as many as before
	var links []schemas.SupplyLink
	for _, r := range recs {
		if l, ok := r.(*schemas.SupplyLink); ok && l.LinkType == schemas.LinkSupplies {
			links = append(links, *l)
		}
	}
	late, fresh := links[0], links[1]
	late.Share, late.AsOf = late.Share/4, late.AsOf.Add(12*time.Hour)
	fresh.SupplierID = "S-LATE-TEST"
	e := cache.entries["supply_links"]
	if e.delta == nil {
		t.Fatal("no delta state after the first load")
	}
	insertRecords(t, ctx, conn, now.Add(-3*time.Hour), []schemas.Record{&late})
	insertRecords(t, ctx, conn, now, []schemas.Record{&fresh})
	if err := conn.Exec(ctx, "OPTIMIZE TABLE supply_links FINAL"); err != nil {
		t.Fatal(err)
	}
	var below uint64
	if err := conn.QueryRow(ctx, "SELECT countIf(ingested_at < toDateTime(?)) FROM supply_links", e.delta.threshold).Scan(&below); err != nil {
		t.Fatal(err)
	}
	if below != e.delta.below {
		t.Fatalf("supply_links: %d rows below the threshold after the late row, want %d as before (else the count alone would see it)", below, e.delta.below)
	}
	if _, st := load("a late link version"); slices.Contains(st.Delta, "supply_links") || slices.Contains(st.Reused, "supply_links") {
		t.Fatalf("a late link version: supply_links not read again (stats %+v)", st)
	}
	load("after the late versions")
}

// TestRowDigestOnCurrentClickHouseIntegration: the signatures query and the links' plan queries
// (planDelta) run on current ClickHouse (chdb) over the migrated tables, and a sum of row digests
// there is the one ClickHouse 18.16 computes for the same rows.
func TestRowDigestOnCurrentClickHouseIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	rows := "(SELECT toDateTime(1700000000 + number) AS occurred_at, toDateTime(1700000000 + 7 * number) AS ingested_at FROM numbers(1000))"
	var digest uint64
	if err := conn.QueryRow(context.Background(), "SELECT sum("+rowDigest+") FROM "+rows).Scan(&digest); err != nil {
		t.Fatal(err)
	}
	setup, err := schemas.MigrationDDL()
	if err != nil {
		t.Fatal(err)
	}
	sigs, tables := signaturesSQL()
	out := testenv.Chdb(t, setup, []string{
		sigs,
		"SELECT 1 FROM (SELECT sum(" + rowDigest + ") AS d FROM " + rows + ") WHERE d = " + strconv.FormatUint(digest, 10),
		"SELECT max(ingested_at) FROM supply_links", // planDelta's queries, the parameters spelt out
		strings.ReplaceAll(deltaCountsSQL("supply_links"), "?", "1700000000"),
	})
	if len(out.SetupErrors) > 0 {
		t.Fatalf("chdb %s: setup errors %v", out.Version, out.SetupErrors)
	}
	for i, r := range out.Results {
		if r.Error != "" {
			t.Fatalf("chdb %s: query %d: %s", out.Version, i, r.Error)
		}
	}
	if got := out.Results[0].Rows; got != len(tables) {
		t.Errorf("chdb %s: %d signature rows, want %d", out.Version, got, len(tables))
	}
	if out.Results[2].Rows != 1 || out.Results[3].Rows != 1 {
		t.Errorf("chdb %s: the plan queries gave %d and %d rows, want one each", out.Version, out.Results[2].Rows, out.Results[3].Rows)
	}
	if out.Results[1].Rows != 1 {
		t.Errorf("chdb %s: the digest sum differs from ClickHouse 18.16's %d", out.Version, digest)
	}
}

// TestConcMemoIntegration: a run whose load took the last load's trade and production parts
// (loadcache_built.go) takes the last run's concentration step (concMemo), equal to a fresh one;
// another configuration computes it again.
func TestConcMemoIntegration(t *testing.T) {
	conn, ctx, now := fixtureInClickHouse(t)
	cfg := fixtureConfig()
	cache, memo := NewLoadCache(), NewPairMemo()
	analyse := func(in *Inputs, m *PairMemo) *Analysis {
		t.Helper()
		in.pairMemo = m
		a, err := in.Analysis(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	load := func(c *LoadCache) *Inputs {
		t.Helper()
		in, _, err := c.Load(ctx, conn, cfg, now)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	a1 := analyse(load(cache), memo)
	if a1.ConcReused || len(a1.HS) == 0 || len(a1.Mats) == 0 {
		t.Fatalf("first run: reused %v, %d HS codes, %d materials", a1.ConcReused, len(a1.HS), len(a1.Mats))
	}
	a2 := analyse(load(cache), memo)
	if !a2.ConcReused || &a2.HS[0] != &a1.HS[0] {
		t.Fatal("second run on the same cached tables: the concentration was computed again")
	}
	fresh := analyse(load(nil), memo) // no built parts: computed
	if fresh.ConcReused {
		t.Fatal("a load without a cache took the memo's concentration")
	}
	if !reflect.DeepEqual(a2.HS, fresh.HS) || !reflect.DeepEqual(a2.Mats, fresh.Mats) {
		t.Fatal("the reused concentration differs from a fresh one")
	}
	if a3 := analyse(load(cache), memo); !a3.ConcReused { // the uncached run kept nothing in the memo
		t.Fatal("the run after an uncached one computed the concentration again")
	}
	in := load(cache)
	in.Cfg.Chokepoint.DefaultRecyclingRate += 0.1
	if a := analyse(in, memo); a.ConcReused {
		t.Fatal("a run with another configuration took the memo's concentration")
	}
}

// fixtureInClickHouse stores the fixture's records, ingested an hour before now, in the test's own
// database, and returns its connection, a context ending in two minutes (or with the test) and now.
func fixtureInClickHouse(t *testing.T) (driver.Conn, context.Context, time.Time) {
	t.Helper()
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	now := time.Now().UTC().Truncate(time.Second)
	insertRecords(t, ctx, conn, now.Add(-time.Hour), fixtureRecords(now))
	return conn, ctx, now
}

// firstRecord returns a copy of the first record of type T that match accepts, or nil.
func firstRecord[T any](recs []schemas.Record, match func(*T) bool) *T {
	for _, r := range recs {
		if x, ok := any(r).(*T); ok && match(x) {
			c := *x
			return &c
		}
	}
	return nil
}

// TestBuilderLinkKinds: the Builder keeps the newest version per natural key, and a supplies link
// and a stocks link of one pair are two keys even when their other ids are equal (both link types
// begin with an s: keyed by the first byte, an empty supplier id made them one key, and an older
// stocks link was dropped).
func TestBuilderLinkKinds(t *testing.T) {
	b := NewBuilder(benchConfig(), memoNow)
	at := memoNow.Add(-time.Hour)
	b.AddLink(&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E", ComponentID: "C", Qualification: "qualified", Share: 1, AsOf: at})
	b.AddLink(&schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: "E", ComponentID: "C", InventoryUnits: 50, ConsumptionPerDay: 5, AsOf: at.Add(-time.Hour)})
	b.AddLink(&schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: "E", ComponentID: "C", InventoryUnits: 10, ConsumptionPerDay: 5, AsOf: at.Add(-2 * time.Hour)})
	in := b.Inputs()
	if len(in.Supplies) != 1 {
		t.Fatalf("%d supplies edges, want 1", len(in.Supplies))
	}
	if st, ok := in.Stocks[pairKey(in.Lookup("E"), in.Lookup("C"))]; !ok || st.Inventory != 50 {
		t.Fatalf("stocks %+v (found %v), want the newer stocks link's inventory 50", st, ok)
	}
}

// TestLoadCacheDroppedRows: the rows of a built part's recorders are let go once the part holds
// what they made, and such a recorder is taken from the cache only with its part.
func TestLoadCacheDroppedRows(t *testing.T) {
	c := NewLoadCache()
	nodes, totals, partners, prod, links := &recorder{}, &recorder{}, &recorder{}, &recorder{}, &recorder{}
	nodes.AddNode(&schemas.SupplyNode{NodeID: "C1", NodeType: "component"})
	totals.AddTradeTotals("850440", 2024, 156, "CHN", "M", 10, 8, 0, 0)
	partners.AddMirror("850440", 2024, 392, "JPN", 4)
	prod.AddProduction("cobalt", "mine", 2024, "Congo", "COD", 100, "t")
	l := schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E1", ComponentID: "C1", SupplierID: "S1", Share: 1}
	links.AddLink(&l)
	c.entries = map[string]cacheEntry{"supply_nodes": {sig: "1@1", rec: nodes}, "trade_totals": {sig: "1@1", rec: totals},
		"trade_partners": {sig: "1@1", rec: partners}, "production_stats": {sig: "1@1", rec: prod}, "supply_links": {sig: "1@1", rec: links}}
	c.built = builtParts{nodes: &builtNodes{rec: nodes}, trade: &builtTrade{totals: totals, partners: partners}, prod: &builtProd{rec: prod}}
	c.built.dropRows()
	for _, r := range []*recorder{nodes, totals, partners, prod} {
		if !r.dropped || r.nodes.len()+r.totals.len()+r.partner.len()+r.prod.len() != 0 {
			t.Fatalf("a part's recorder kept its rows: %+v", r)
		}
	}
	if links.dropped || links.links.len() != 1 {
		t.Fatal("the links' recorder, no part's, lost its rows")
	}
	for _, step := range []string{"supply_nodes", "trade_totals", "trade_partners", "production_stats", "supply_links"} {
		if c.lookup(step, "1@1") == nil {
			t.Errorf("%s: not taken with its part", step)
		}
	}
	c.built = builtParts{}
	for _, step := range []string{"supply_nodes", "trade_totals", "trade_partners", "production_stats"} {
		if c.lookup(step, "1@1") != nil {
			t.Errorf("%s: a recorder without its rows was taken without its part", step)
		}
	}
	if c.lookup("supply_links", "1@1") == nil {
		t.Error("supply_links: not taken")
	}
}

// TestLinkOverlayFilter: the overlay's filter passes every key it holds (a replay would otherwise
// add a replaced link again as a new one) and few others, and a replay through an overlay gives
// the links of a direct build of the newest versions.
func TestLinkOverlayFilter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() [5]uint32 {
		return [5]uint32{rng.Uint32N(4), rng.Uint32N(1 << 20), rng.Uint32N(1 << 20), rng.Uint32N(1 << 20), rng.Uint32N(1 << 20)}
	}
	for _, n := range []int{0, 1, 100, 10000} {
		ov := &linkOverlay{base: map[[5]uint32]int32{}}
		for len(ov.base) < n {
			ov.base[key()] = int32(len(ov.base))
		}
		ov.index()
		if bits := len(ov.baseBits) * 64; bits < 16*n || bits < 64 {
			t.Fatalf("n=%d: %d bits", n, bits)
		}
		for k, i := range ov.base {
			if j, ok := ov.replaces(k); !ok || j != i {
				t.Fatalf("n=%d: key %v: got %d %v, want %d", n, k, j, ok, i)
			}
		}
		pass := 0
		for range 100000 {
			k := key()
			if _, in := ov.base[k]; in {
				continue
			}
			if b := ov.keyBit(k); ov.baseBits[b/64]&(1<<(b%64)) != 0 {
				pass++
			}
			if _, ok := ov.replaces(k); ok {
				t.Fatalf("n=%d: key %v not held but replaced", n, k)
			}
		}
		if pass > 100000/10 {
			t.Errorf("n=%d: %d of 100000 other keys pass the filter", n, pass)
		}
	}

	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cfg := fixtureConfig()
	link := func(i int, asOf time.Time) schemas.SupplyLink {
		return schemas.SupplyLink{LinkType: []string{schemas.LinkSupplies, schemas.LinkBOM, schemas.LinkMakes, schemas.LinkStocks}[i%4],
			EnterpriseID: fmt.Sprintf("E%d", i%41), ProductID: fmt.Sprintf("P%d", i%13), ComponentID: fmt.Sprintf("C%d", i),
			SupplierID: fmt.Sprintf("S%d", i%31), Share: float64(i%10) / 10, Qualification: "qualified",
			InventoryUnits: float64(i), ConsumptionPerDay: 1, AsOf: asOf}
	}
	base, newest := &recorder{}, map[int]schemas.SupplyLink{}
	for i := range 4000 {
		l := link(i, now)
		base.AddLink(&l)
		newest[i] = l
	}
	delta := &recorder{}
	for i := 0; i < 4400; i += 11 { // replaces every 11th link, adds 36 new keys
		l := link(i, now.Add(time.Hour))
		l.Share, l.InventoryUnits = 0.05, 1
		delta.AddLink(&l)
		newest[i] = l
	}
	patched, ok := base.withLinkDelta(delta)
	if !ok {
		t.Fatal("the overlay was refused")
	}
	// direct builds the newest versions of the links numbered below n, in number order; replayed
	// replays r (through its overlay, if any).
	direct := func(n int) *Inputs {
		b := NewBuilder(cfg, now)
		b.unique = true
		for i := range n {
			if l, ok := newest[i]; ok {
				b.AddLink(&l)
			}
		}
		return b.Inputs()
	}
	replayed := func(r *recorder) *Inputs {
		b := NewBuilder(cfg, now)
		b.unique = true
		r.replay(b)
		return b.Inputs()
	}
	sameLinks := func(a, b *Inputs) bool {
		return reflect.DeepEqual(a.Supplies, b.Supplies) && reflect.DeepEqual(a.BOM, b.BOM) && reflect.DeepEqual(a.Makes, b.Makes) &&
			reflect.DeepEqual(a.Stocks, b.Stocks) && slices.Equal(a.ids, b.ids)
	}
	through := replayed(patched)
	if !sameLinks(direct(4400), through) {
		t.Fatal("the links replayed through the overlay differ from a direct build of the newest versions")
	}

	// Folded into the rows, the overlay replays as the rows themselves: the same links, their ids
	// interned in the same order.
	base.foldOverlay() // never replayed through an overlay: nothing to fold
	patched.foldOverlay()
	if patched.overlay != nil || patched.links.len() != 4000+36 {
		t.Fatalf("folded: overlay %v, %d rows, want none and 4036", patched.overlay != nil, patched.links.len())
	}
	if !sameLinks(through, replayed(patched)) {
		t.Fatal("the folded rows replay other links than the replay through the overlay")
	}
	// A second delta on the folded rows: its overlay holds its own keys only, and a key whose
	// recorded version is newer keeps it.
	delta2 := &recorder{}
	for i := 0; i < 4000; i += 13 { // some of them delta 1 replaced (i%11 = 0)
		l := link(i, now.Add(2*time.Hour))
		l.Share = 0.07
		delta2.AddLink(&l)
		newest[i] = l
	}
	older := link(22, now.Add(30*time.Minute)) // delta 1's version (an hour) is newer
	older.Share = 0.9
	olderAt := delta2.links.len() // its overlay row
	delta2.AddLink(&older)
	for i := 4400; i < 4500; i += 7 {
		l := link(i, now.Add(2*time.Hour))
		delta2.AddLink(&l)
		newest[i] = l
	}
	patched2, ok := patched.withLinkDelta(delta2)
	if !ok {
		t.Fatal("the second delta was refused")
	}
	if len(patched2.overlay.rows) != delta2.links.len() {
		t.Fatalf("second delta: overlay of %d rows, want %d", len(patched2.overlay.rows), delta2.links.len())
	}
	if _, ok := patched2.withLinkDelta(delta2); ok {
		t.Fatal("a delta on a recorder whose overlay is not folded was taken")
	}
	through2 := replayed(patched2)
	if !sameLinks(direct(4500), through2) {
		t.Fatal("the second delta's replay differs from a direct build of the newest versions")
	}
	if got := patched2.overlay.at[olderAt]; got != overlayKeptOlder {
		t.Fatalf("the older version of a folded link: at %d, want overlayKeptOlder", got)
	}
	patched2.foldOverlay()
	if !sameLinks(through2, replayed(patched2)) {
		t.Fatal("the second fold replays other links than the replay through its overlay")
	}
}

// TestRunnerRunRowsIntegration: a run's detectors get their run rows together, after every
// findings write; when they cannot be written, every detector of the run fails, and the next run
// compares with the last run that has its rows, not with the failed one.
func TestRunnerRunRowsIntegration(t *testing.T) {
	conn, ctx, now := fixtureInClickHouse(t)
	r, err := NewRunner(conn, fixtureConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Now = func() time.Time { return now }
	// without merges, the parts of detector_runs are its inserts
	if err := conn.Exec(ctx, "SYSTEM STOP MERGES detector_runs"); err != nil {
		t.Fatal(err)
	}
	first, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "SYSTEM START MERGES detector_runs"); err != nil {
		t.Fatal(err)
	}
	var rows, oks, parts uint64
	if err := conn.QueryRow(ctx, "SELECT count(), countIf(status = 'ok'), uniqExact(_part) FROM detector_runs WHERE run_id = ?", first.RunID).Scan(&rows, &oks, &parts); err != nil {
		t.Fatal(err)
	}
	if int(rows) != len(first.Detectors) || rows != oks || parts != 1 {
		t.Fatalf("run %s: %d run rows, %d ok, in %d inserts, want one ok row for each of %d detectors, in one insert", first.RunID, rows, oks, parts, len(first.Detectors))
	}
	if err := conn.Exec(ctx, "RENAME TABLE detector_runs TO detector_runs_gone"); err != nil {
		t.Fatal(err)
	}
	r.Now = func() time.Time { return now.Add(time.Hour) }
	failed, err := r.RunOnce(ctx)
	if err == nil {
		t.Fatal("a run whose run rows cannot be written succeeded")
	}
	for _, d := range failed.Detectors {
		if d.Err == nil || !strings.Contains(d.Err.Error(), "detector_runs") {
			t.Errorf("detector %s: error %v, want the run rows' write failure", d.Detector, d.Err)
		}
	}
	if err := conn.Exec(ctx, "RENAME TABLE detector_runs_gone TO detector_runs"); err != nil {
		t.Fatal(err)
	}
	r.Now = func() time.Time { return now.Add(2 * time.Hour) }
	third, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prevs := queryStrings(t, ctx, conn, "SELECT DISTINCT run_id FROM findings WHERE run_id != ? AND (detector, run_id) IN (SELECT detector, run_id FROM detector_runs)", third.RunID)
	if len(prevs) != 1 || prevs[0] != first.RunID {
		t.Errorf("runs with findings and run rows besides the third: %v, want only the first %s", prevs, first.RunID)
	}
	fs, err := LatestFindings(ctx, conn, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.RunID != third.RunID {
			t.Fatalf("a latest finding is of run %s, want %s", f.RunID, third.RunID)
		}
		if f.PrevScore == nil {
			t.Fatalf("finding %s/%s has no prev_score: the third run did not compare with the first", f.Detector, f.Subject)
		}
	}
	for _, d := range third.Detectors {
		if d.Err != nil {
			t.Errorf("third run: %s: %v", d.Detector, d.Err)
		}
	}
}

// TestPatchLinksMatchesReplay: a Load that takes the last Load's nodes part and whose links
// recorder is that Load's, with or without a delta's overlay, patches the last edges instead of
// replaying the links; its ids, their index, the edges and where the overlay's rows went must be
// those of a replay. Over a first delta (changed, older and new keys, some new ids), its fold and a
// second delta, and an unchanged table. Two stocks links on one enterprise × component leave the
// part unmade.
func TestPatchLinksMatchesReplay(t *testing.T) {
	// the search for the overlay's links in spans of 300 of the 4,000 (and 2 CPUs at least)
	defer func(n, procs int) { patchSplit = n; runtime.GOMAXPROCS(procs) }(patchSplit, runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	patchSplit = 300
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cfg := fixtureConfig()
	link := func(i int, asOf time.Time) schemas.SupplyLink {
		return schemas.SupplyLink{LinkType: []string{schemas.LinkSupplies, schemas.LinkBOM, schemas.LinkMakes, schemas.LinkStocks}[i%4],
			EnterpriseID: fmt.Sprintf("E%d", i%41), ProductID: fmt.Sprintf("P%d", i%13), ComponentID: fmt.Sprintf("C%d", i),
			SupplierID: fmt.Sprintf("S%d", i%31), Share: float64(i%10) / 10, Qualification: []string{"qualified", "in_progress"}[i%2],
			InventoryUnits: float64(i), ConsumptionPerDay: 1, AsOf: asOf}
	}
	nodes := &recorder{} // the enterprises and suppliers; the links intern the components and products
	for i := range 41 {
		nodes.AddNode(&schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: fmt.Sprintf("E%d", i), AsOf: now})
	}
	for i := range 31 {
		nodes.AddNode(&schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: fmt.Sprintf("S%d", i), AsOf: now})
	}
	base := &recorder{}
	for i := range 4000 {
		l := link(i, now)
		base.AddLink(&l)
	}
	// load replays (or takes) the nodes and then the links as a Load's replayer does, keeping the
	// parts; plain replays both into a fresh Builder.
	load := func(last builtParts, links *recorder) (*Inputs, builtParts) {
		rp := &replayer{b: NewBuilder(cfg, now), keep: true, last: last}
		rp.b.unique = true
		rp.step(0, nodes)
		rp.step(1, links)
		return rp.b.in, rp.next
	}
	plain := func(links *recorder) *Inputs {
		b := NewBuilder(cfg, now)
		b.unique = true
		nodes.replay(b)
		links.replayLinks(b)
		return b.in
	}
	same := func(step string, a, b *Inputs) {
		t.Helper()
		if !slices.Equal(a.ids, b.ids) || !maps.Equal(a.index, b.index) || !slices.Equal(a.Supplies, b.Supplies) ||
			!slices.Equal(a.BOM, b.BOM) || !slices.Equal(a.Makes, b.Makes) || !maps.Equal(a.Stocks, b.Stocks) {
			t.Fatalf("%s: the patched links differ from a replay (%d/%d ids, %d/%d supplies, %d/%d stocks)", step,
				len(a.ids), len(b.ids), len(a.Supplies), len(b.Supplies), len(a.Stocks), len(b.Stocks))
		}
	}
	delta := func(from, to, step int, asOf time.Time, share float64) *recorder {
		d := &recorder{}
		for i := from; i < to; i += step {
			l := link(i, asOf)
			l.Share, l.InventoryUnits, l.Qualification = share, float64(i)/2, "disqualified"
			d.AddLink(&l)
		}
		return d
	}
	in1, parts1 := load(builtParts{}, base)
	if parts1.links == nil || parts1.links.patched {
		t.Fatalf("first load: links part %+v, want one made by a replay", parts1.links)
	}
	same("first load", in1, plain(base))

	// a delta: every 11th link changed, 36 new keys (new component ids), and one older version
	d1 := delta(0, 4400, 11, now.Add(time.Hour), 0.05)
	older := link(3, now.Add(-time.Hour))
	d1.AddLink(&older)
	r1, ok := base.withLinkDelta(d1)
	if !ok {
		t.Fatal("the overlay was refused")
	}
	in2, parts2 := load(parts1, r1)
	if parts2.links == nil || !parts2.links.patched {
		t.Fatal("the delta load did not patch the last links")
	}
	at := slices.Clone(r1.overlay.at)
	same("a delta", in2, plain(r1))
	if !slices.Equal(at, r1.overlay.at) {
		t.Fatal("the patch placed the overlay's rows elsewhere than the replay")
	}
	if !slices.Contains(at, overlayKeptOlder) || !slices.Contains(at, overlayNewKey) {
		t.Fatal("the delta has no older version or no new key: the test does not exercise them")
	}

	// the fold, then a second delta on the folded rows (some keys of the first delta's new ones)
	r1.foldOverlay()
	r2, ok := r1.withLinkDelta(delta(0, 4500, 13, now.Add(2*time.Hour), 0.07))
	if !ok {
		t.Fatal("the second delta was refused")
	}
	in3, parts3 := load(parts2, r2)
	if parts3.links == nil || !parts3.links.patched {
		t.Fatal("the second delta load did not patch")
	}
	same("a second delta", in3, plain(r2))
	r2.foldOverlay()

	// unchanged: the same recorder, no overlay
	in4, parts4 := load(parts3, r2)
	if parts4.links == nil || !parts4.links.patched {
		t.Fatal("the unchanged load did not take the last links")
	}
	same("unchanged", in4, plain(r2))
	// another nodes part (a new nodes recorder): a replay
	nodes = &recorder{nodes: nodes.nodes}
	if _, p := load(parts4, r2); p.links == nil || p.links.patched {
		t.Fatal("a load on other nodes patched the links of the last")
	}

	// two stocks links on one pair: no part
	dup := &recorder{}
	for _, p := range []string{"P1", "P2"} {
		l := link(3, now)
		l.ProductID = p
		dup.AddLink(&l)
	}
	if _, p := load(builtParts{}, dup); p.links != nil {
		t.Fatal("a part was made of links with two stocks edges on one pair")
	}
}
