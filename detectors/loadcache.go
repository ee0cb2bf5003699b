package detectors

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/chainwatch/chainwatch/schemas"
)

// Loading, concurrently and with a cache of unchanged tables (docs/scoring.md, "Loading and the
// incremental rescore").
//
// Every input table is read by its own query into a recorder, several tables at a time, and the
// recorders are then replayed into one Builder in a fixed order, so the Inputs are the same as a
// sequential load. A LoadCache keeps the recorders of the tables whose query does not depend on the
// run's clock (supply map, substitutions, trade, production) together with the table's change
// signature: count() and max(ingested_at). A later run reads the signatures first (one cheap
// aggregate per table) and re-reads only the tables whose signature moved; an unchanged table is
// replayed from memory. Every insert adds rows and carries the collector's ingested_at, so a
// stored change moves count() or max(ingested_at); a background merge that only removes
// duplicates lowers count() and causes a harmless re-read. Awards and availability are windowed on
// the run's clock and are read every run.

// inputSink receives loaded rows: the Builder, or a recorder that replays them into one later.
type inputSink interface {
	AddNode(n *schemas.SupplyNode)
	AddLink(l *schemas.SupplyLink)
	AddSubstitution(s *schemas.Substitution)
	AddAward(a Award, status string)
	AddTradeTotals(hs string, year, reporter uint16, iso3, flow string, world, partners, worldKg, partnersKg float64)
	AddMirror(hs string, year, partner uint16, iso3 string, value float64)
	AddHomeImport(hs string, year, partner uint16, iso3 string, value float64)
	AddProduction(commodity, stage string, year uint16, country, iso3 string, qty float64, unit string)
	AddAvailability(manufacturer, part, comp string, asOf time.Time, stock, lead float64, lifecycle string)
}

// loadArgs are the run-dependent parameters of the loaders.
type loadArgs struct {
	cfg             Config
	now, windowFrom time.Time
}

type loadFunc func(ctx context.Context, conn driver.Conn, b inputSink, a loadArgs) error

// loadStep is one query of an input table: its name, the table (whose signature guards the cache),
// its loader, and whether its result may be cached (clock-free query).
type loadStep struct {
	name, table string
	load        loadFunc
	cacheable   bool
	slowFirst   bool      // the longest queries (ClickHouse-side FINAL over the trade rows): started first
	delta       deltaFunc // reads only the keys with rows ingested since a time (loadcache_delta.go); nil: none
}

// loadSteps lists the input tables in replay order.
var loadSteps = []loadStep{
	{"supply_nodes", "supply_nodes", currentMap(loadMapNodes), true, false, nil},
	{"supply_links", "supply_links", currentMap(loadMapLinks), true, false, loadLinksSince},
	{"substitutions", "substitutions", currentMap(loadMapSubs), true, false, nil},
	{"procurement_awards", "procurement_awards", loadAwards, false, false, nil},
	{"trade_totals", "trade_flows", loadTradeTotals, true, true, nil},
	{"trade_partners", "trade_flows", loadTradePartners, true, true, nil},
	{"production_stats", "production_stats", loadProduction, true, false, nil},
	{"component_availability", "component_availability", loadAvailability, false, false, nil},
}

// loadParallelism bounds the concurrent table reads.
const loadParallelism = 3

// LoadCache keeps the recorded rows of unchanged input tables between runs. The zero value is not
// usable: use NewLoadCache; a nil *LoadCache reads every table every time.
type LoadCache struct {
	// loading is held for a whole Load: one load at a time uses the cache (a successful load
	// changes the cached links' rows in place, recorder.foldOverlay).
	loading sync.Mutex
	mu      sync.Mutex
	cfgKey  string
	entries map[string]cacheEntry
	built   builtParts // what the last successful Load built from its recorders (loadcache_built.go)
}

type cacheEntry struct {
	sig   string
	rec   *recorder
	delta *deltaState // what the recorded rows cover, for a delta read (nil: none)
}

// NewLoadCache returns an empty cache.
func NewLoadCache() *LoadCache { return &LoadCache{entries: map[string]cacheEntry{}} }

// LoadStats says what a cached load read, what it replayed from memory, and what it patched with
// the rows of the keys changed since its last read (Delta).
type LoadStats struct {
	Read, Reused, Delta []string
}

// Load reads the Inputs of a run at now: unchanged cacheable tables come from the cache, the others
// from ClickHouse (concurrently). On error the cache is left as it was before the call. The loads of
// one cache run one at a time.
func (c *LoadCache) Load(ctx context.Context, conn driver.Conn, cfg Config, now time.Time) (*Inputs, LoadStats, error) {
	if c != nil {
		c.loading.Lock()
		defer c.loading.Unlock()
	}
	c.configure(cfg)
	b := NewBuilder(cfg, now)
	b.unique = true // the SQL returns one row per natural key
	args := loadArgs{cfg: cfg, now: b.in.Now, windowFrom: b.in.WindowFrom}
	recs := make([]*recorder, len(loadSteps))
	ready := make([]chan struct{}, len(loadSteps))
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(lctx)
	g.SetLimit(loadParallelism)
	// The recorders are replayed in loadSteps order as soon as each is there, while the slower
	// queries still run: the Builder's work overlaps ClickHouse's.
	rp := &replayer{b: b, keep: c != nil, last: c.lastBuilt()}
	replayed := make(chan error, 1)
	go func() { replayed <- rp.inOrder(gctx, recs, ready) }()
	outcome := make([]string, len(loadSteps)) // "reused", "read" or "delta"; each goroutine sets its own
	for i := range outcome {
		outcome[i] = "read"
	}
	plans := make([]*deltaPlan, len(loadSteps))
	// readInto reads step i into recs[i] (as a delta when its plan says so).
	readInto := func(i int, plan *deltaPlan) error {
		s := loadSteps[i]
		r, how, err := readStep(gctx, conn, s, args, plan)
		if err != nil {
			return fmt.Errorf("load %s: %w", s.name, err)
		}
		recs[i], outcome[i] = r, how
		close(ready[i])
		return nil
	}
	read := func(i int) { g.Go(func() error { return readInto(i, nil) }) }
	// A step with deltas (with a cache) is planned by a query of its own, which gives its table's
	// signature too (planDelta); then it is taken from the cache, or read as a delta or in full.
	deltaSigs := make([]tableSig, len(loadSteps))
	readDelta := func(i int) {
		g.Go(func() error {
			s := loadSteps[i]
			sig, plan, err := c.planDelta(gctx, conn, s)
			if err != nil {
				return err
			}
			deltaSigs[i] = sig
			if rec := c.lookup(s.name, sig.sig); rec != nil {
				recs[i], outcome[i] = rec, "reused"
				close(ready[i])
				return nil
			}
			plans[i] = plan
			return readInto(i, plan)
		})
	}
	// The steps no cache can spare are read whatever the signatures say, and the steps with deltas
	// are planned without them: their queries start before the signatures query, beside it (in a
	// rescore at 1M edges they had waited 45 to 110 ms for it, and then shared the server with the
	// delta read of the changed links).
	for _, i := range launchOrder() {
		if s := loadSteps[i]; !s.cacheable {
			read(i)
		} else if planned(c, s) {
			readDelta(i)
		}
	}
	sigs, err := c.signatures(gctx, conn)
	if err != nil {
		failed := gctx.Err() != nil // a read failed first and ended the signatures query: its error is the cause
		cancel()
		if werr := g.Wait(); failed && werr != nil { // else the reads already started end with lctx
			err = werr
		}
		<-replayed
		return nil, LoadStats{}, err
	}
	cached := make([]*recorder, len(loadSteps))
	for i, s := range loadSteps {
		if !s.cacheable || planned(c, s) {
			continue // read already, by its own goroutine
		}
		if cached[i] = c.lookup(s.name, sigs[s.table].sig); cached[i] != nil {
			outcome[i] = "reused"
		}
	}
	for _, i := range launchOrder() {
		s := loadSteps[i]
		switch {
		case !s.cacheable || planned(c, s):
		case cached[i] != nil:
			recs[i] = cached[i]
			close(ready[i])
		default:
			read(i)
		}
	}
	err = g.Wait()
	if rerr := <-replayed; err == nil {
		err = rerr
	}
	st := loadStats(outcome)
	if err != nil {
		return nil, st, err
	}
	for i, s := range loadSteps {
		if planned(c, s) {
			sigs[s.table] = deltaSigs[i]
		}
	}
	c.store(recs, sigs, plans, &rp.next)
	in := b.Inputs()
	in.built = rp.next
	return in, st, nil
}

// loadStats lists the steps by their outcome ("reused", "delta", else read).
func loadStats(outcome []string) LoadStats {
	var st LoadStats
	for i, s := range loadSteps {
		switch outcome[i] {
		case "reused":
			st.Reused = append(st.Reused, s.name)
		case "delta":
			st.Delta = append(st.Delta, s.name)
		default:
			st.Read = append(st.Read, s.name)
		}
	}
	return st
}

// launchOrder is the order the queries start in: the slow ones first (slowFirst), then loadSteps order.
func launchOrder() []int {
	order := make([]int, 0, len(loadSteps))
	for _, slow := range []bool{true, false} {
		for i, s := range loadSteps {
			if s.slowFirst == slow {
				order = append(order, i)
			}
		}
	}
	return order
}

// inOrder replays recs into the replayer's Builder in loadSteps order, each once its ready channel is closed. It
// stops when ctx ends first (a query failed).
func (p *replayer) inOrder(ctx context.Context, recs []*recorder, ready []chan struct{}) error {
	for i := range recs {
		select {
		case <-ready[i]:
		case <-ctx.Done():
			select {
			case <-ready[i]: // Wait returned after every query succeeded: ctx ends then too
			default:
				return ctx.Err()
			}
		}
		p.step(i, recs[i])
	}
	return nil
}

// tableSig is a table's change signature: count(), max(ingested_at) and the sum of the rows'
// digests (rowDigest).
type tableSig struct {
	sig string
}

func newTableSig(n uint64, last time.Time, digest uint64) tableSig {
	return tableSig{sig: fmt.Sprintf("%d@%d#%x", n, last.Unix(), digest)}
}

// rowDigest is the SQL of a row's version digest: a hash of its occurred_at (the version of the
// tables that keep the newest as_of) and its ingested_at. Counts alone miss a late row that
// replaces a stored version once a merge has dropped that one: the row count is as it was, and so
// is max(ingested_at) when the late row is older. The sum of the rows' digests (mod 2⁶⁴) moves
// then, unless the late row has the same occurred_at and ingested_at as the version it replaces
// (the same version sent again). intHash64 of the two seconds in one UInt64: ClickHouse 18.16 and
// current versions compute it the same.
const rowDigest = "intHash64(toUInt64(occurred_at) * 4294967296 + toUInt64(ingested_at))"

// signatures reads count(), max(ingested_at) and the sum of the row digests of every cacheable
// table that no step with deltas reads (nothing without a cache).
func (c *LoadCache) signatures(ctx context.Context, conn driver.Conn) (map[string]tableSig, error) {
	sigs := map[string]tableSig{}
	if c == nil {
		return sigs, nil
	}
	query, tables := signaturesSQL()
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("load: change signatures of %s: %w", strings.Join(tables, ", "), err)
	}
	defer rows.Close()
	for rows.Next() {
		var t uint8
		var n, digest uint64
		var last time.Time
		if err := rows.Scan(&t, &n, &last, &digest); err != nil {
			return nil, fmt.Errorf("load: change signatures: %w", err)
		}
		if int(t) >= len(tables) {
			return nil, fmt.Errorf("load: change signatures: table number %d of %d", t, len(tables))
		}
		sigs[tables[t]] = newTableSig(n, last, digest)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load: change signatures: %w", err)
	}
	for _, t := range tables {
		if _, ok := sigs[t]; !ok {
			return nil, fmt.Errorf("load: change signatures: no row for %s", t)
		}
	}
	return sigs, nil
}

// configure empties the cache when cfg is not the configuration of what it holds: nothing cached
// applies then.
func (c *LoadCache) configure(cfg Config) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if key := fmt.Sprintf("%+v", cfg); key != c.cfgKey {
		c.cfgKey, c.entries, c.built = key, map[string]cacheEntry{}, builtParts{}
	}
}

// planned reports whether step s of a load with cache c is planned by a query of its own
// (planDelta), which gives its table's signature: a step with deltas, with a cache.
func planned(c *LoadCache, s loadStep) bool { return c != nil && s.cacheable && s.delta != nil }

// signaturesSQL is the query of the signatures of the cacheable tables that no step with deltas
// reads (those have their own, planDelta), one row per table (t: its index in tables): one query
// for every table (a UNION ALL, whose parts ClickHouse runs in parallel), one round trip before the
// load's reads instead of one per table.
func signaturesSQL() (query string, tables []string) {
	var parts []string
	for _, s := range loadSteps {
		if !s.cacheable || s.delta != nil || slices.Contains(tables, s.table) {
			continue
		}
		tables = append(tables, s.table)
		parts = append(parts, "SELECT "+strconv.Itoa(len(parts))+" AS t, count() AS n, max(ingested_at) AS last, sum("+rowDigest+") AS digest FROM "+s.table)
	}
	return strings.Join(parts, " UNION ALL "), tables
}

// lastBuilt returns the parts the last successful Load built (none without a cache).
func (c *LoadCache) lastBuilt() builtParts {
	if c == nil {
		return builtParts{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.built
}

func (c *LoadCache) lookup(step, sig string) *recorder {
	if c == nil || sig == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[step]; ok && e.sig == sig && (!e.rec.dropped || slices.Contains(c.built.recorders(), e.rec)) {
		return e.rec
	}
	return nil
}

// store keeps the recorders of the cacheable steps under their tables' signatures. A step read in
// full or as a delta keeps its plan's new delta state; a reused one keeps the state it had.
func (c *LoadCache) store(recs []*recorder, sigs map[string]tableSig, plans []*deltaPlan, built *builtParts) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.built = *built
	built.dropRows()
	for i, s := range loadSteps {
		sig, ok := sigs[s.table]
		if !ok || !s.cacheable {
			continue
		}
		recs[i].foldOverlay() // the load succeeded: its delta becomes part of the rows
		e := cacheEntry{sig: sig.sig, rec: recs[i]}
		if plans[i] != nil {
			e.delta = &plans[i].next
		} else if old, ok := c.entries[s.name]; ok && old.rec == recs[i] {
			e.delta = old.delta
		}
		c.entries[s.name] = e
	}
}

// recorder keeps one table's loaded rows, in order, to replay them into Builders. Replaying does
// not change its rows (the Builder copies what it keeps); a replay through a links overlay notes in
// the overlay where its rows went, for the fold (foldOverlay).
type recorder struct {
	nodes chunked[schemas.SupplyNode]
	links chunked[linkRow]
	strs  stringTable // the links' ids
	// linkTypes counts the recorded links per link type (its id in strs), for the Builder's sizing
	linkTypes map[uint32]int
	subs      chunked[schemas.Substitution]
	awards    chunked[awardRow]
	totals    chunked[tradeTotalsRow]
	partner   chunked[partnerRow] // AddMirror and AddHomeImport calls, in call order
	prod      chunked[prodRecord]
	avail     chunked[availRecord]
	overlay   *linkOverlay // links replacing recorded ones or added (a delta read), nil: none
	base      *recorder    // with an overlay: the recorder it patches (withLinkDelta), until the fold
	// dropped says the recorder's rows were let go once a built part held what they made
	// (builtParts.dropRows): it can be taken with that part only, never replayed.
	dropped bool
}

// chunked is an append-only list in fixed-size blocks: growing it never copies what it holds (a
// million recorded links would otherwise be re-allocated and copied at every doubling).
type chunked[T any] struct{ blocks [][]T }

const chunkLen = 4096

func (c *chunked[T]) add(v T) {
	if n := len(c.blocks); n == 0 || len(c.blocks[n-1]) == chunkLen {
		c.blocks = append(c.blocks, make([]T, 0, chunkLen))
	}
	last := &c.blocks[len(c.blocks)-1]
	*last = append(*last, v)
}

// len returns the number of elements.
func (c *chunked[T]) len() int {
	n := 0
	for _, b := range c.blocks {
		n += len(b)
	}
	return n
}

// at returns a pointer to element i.
func (c *chunked[T]) at(i int) *T { return &c.blocks[i/chunkLen][i%chunkLen] }

// each calls f with a pointer to every element, in order (f must not keep it).
func (c *chunked[T]) each(f func(*T)) {
	for _, b := range c.blocks {
		for i := range b {
			f(&b[i])
		}
	}
}

// linkRow is a recorded supply link without pointers: its ids index the recorder's string table,
// its as_of is Unix seconds and nanoseconds (a million links: 72 MB the garbage collector need not scan, not
// 150 MB of structs plus their five strings each).
type linkRow struct {
	typ, ent, prod, comp, sup, qual uint32
	qty, share, inventory, perDay   float64
	asOf                            int64
	asOfNs                          int32
}

// stringTable interns strings: each distinct one is kept once and named by its index.
type stringTable struct {
	strs []string
	idx  map[string]uint32
}

func (t *stringTable) id(s string) uint32 {
	if i, ok := t.idx[s]; ok {
		return i
	}
	if t.idx == nil {
		t.idx = map[string]uint32{}
	}
	i := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.idx[s] = i
	return i
}

// idTranslation maps a recorder's string ids to a Builder's, interning each string once.
type idTranslation struct {
	in   *Inputs
	strs []string
	ids  []int32 // -1: not yet interned
}

func (t *idTranslation) id(i uint32) int32 {
	if t.ids[i] < 0 {
		t.ids[i] = t.in.intern(t.strs[i])
	}
	return t.ids[i]
}

type awardRow struct {
	a      Award
	status string
}

type tradeTotalsRow struct {
	hs                                   string
	year, reporter                       uint16
	iso3, flow                           string
	world, partners, worldKg, partnersKg float64
}

type partnerRow struct {
	home          bool // AddHomeImport, else AddMirror
	hs            string
	year, partner uint16
	iso3          string
	value         float64
}

type prodRecord struct {
	commodity, stage string
	year             uint16
	country, iso3    string
	qty              float64
	unit             string
}

type availRecord struct {
	manufacturer, part, comp string
	asOf                     time.Time
	stock, lead              float64
	lifecycle                string
}

func (r *recorder) AddNode(n *schemas.SupplyNode) { r.nodes.add(*n) }
func (r *recorder) AddLink(l *schemas.SupplyLink) {
	x := r.linkRow(l)
	if r.linkTypes == nil {
		r.linkTypes = map[uint32]int{}
	}
	r.linkTypes[x.typ]++
	r.links.add(x)
}

// linkRow is l as a recorded row, its ids interned in the recorder's string table.
func (r *recorder) linkRow(l *schemas.SupplyLink) linkRow {
	return linkRow{typ: r.strs.id(l.LinkType), ent: r.strs.id(l.EnterpriseID), prod: r.strs.id(l.ProductID),
		comp: r.strs.id(l.ComponentID), sup: r.strs.id(l.SupplierID), qual: r.strs.id(l.Qualification),
		qty: l.QtyPerUnit, share: l.Share, inventory: l.InventoryUnits, perDay: l.ConsumptionPerDay, asOf: l.AsOf.Unix(), asOfNs: int32(l.AsOf.Nanosecond())}
}
func (r *recorder) AddSubstitution(s *schemas.Substitution) { r.subs.add(*s) }
func (r *recorder) AddAward(a Award, status string)         { r.awards.add(awardRow{a, status}) }
func (r *recorder) AddTradeTotals(hs string, year, reporter uint16, iso3, flow string, world, partners, worldKg, partnersKg float64) {
	r.totals.add(tradeTotalsRow{hs, year, reporter, iso3, flow, world, partners, worldKg, partnersKg})
}
func (r *recorder) AddMirror(hs string, year, partner uint16, iso3 string, value float64) {
	r.partner.add(partnerRow{false, hs, year, partner, iso3, value})
}
func (r *recorder) AddHomeImport(hs string, year, partner uint16, iso3 string, value float64) {
	r.partner.add(partnerRow{true, hs, year, partner, iso3, value})
}
func (r *recorder) AddProduction(commodity, stage string, year uint16, country, iso3 string, qty float64, unit string) {
	r.prod.add(prodRecord{commodity, stage, year, country, iso3, qty, unit})
}
func (r *recorder) AddAvailability(manufacturer, part, comp string, asOf time.Time, stock, lead float64, lifecycle string) {
	r.avail.add(availRecord{manufacturer, part, comp, asOf, stock, lead, lifecycle})
}

// replay adds the recorded rows to b, kind by kind in load order. The Builder copies what it keeps:
// the recorder is not changed.
func (r *recorder) replay(b *Builder) {
	r.nodes.each(b.AddNode)
	r.replayLinks(b)
	r.subs.each(b.AddSubstitution)
	r.awards.each(func(a *awardRow) { b.AddAward(a.a, a.status) })
	r.totals.each(func(t *tradeTotalsRow) {
		b.AddTradeTotals(t.hs, t.year, t.reporter, t.iso3, t.flow, t.world, t.partners, t.worldKg, t.partnersKg)
	})
	r.partner.each(func(m *partnerRow) {
		if m.home {
			b.AddHomeImport(m.hs, m.year, m.partner, m.iso3, m.value)
		} else {
			b.AddMirror(m.hs, m.year, m.partner, m.iso3, m.value)
		}
	})
	r.prod.each(func(p *prodRecord) { b.AddProduction(p.commodity, p.stage, p.year, p.country, p.iso3, p.qty, p.unit) })
	r.avail.each(func(a *availRecord) {
		b.AddAvailability(a.manufacturer, a.part, a.comp, a.asOf, a.stock, a.lead, a.lifecycle)
	})
}
