package detectors

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/schemas"
)

// Row-level deltas of the supply links (docs/scoring.md, "Loading, the table cache and the rescore").
//
// A changed supply_links table need not be read again in full: the run reads, for every link key
// that has a row ingested at or after a threshold T, the key's newest version among those rows (the
// full read's argMax over as_of, on the rows ingested at or after T only: ClickHouse reads the new
// parts, not the whole table), and the replay keeps, per key, the newer of it and the cached
// version. The newest version over all rows is the newer of the newest over the rows below T and
// the newest over the rest, so that is exact when every row with ingested_at < T was already there
// when the cached rows were read (on a tie in as_of, which the full read resolves as ClickHouse
// happens to, the row ingested later wins). A row can reach
// ClickHouse long after its ingested_at (a Kafka backlog), so this is checked, not assumed:
//
//   - With every read (full or delta), the cache keeps a threshold T (max(ingested_at) −
//     deltaMargin, or max(ingested_at) + 1 s after a bulk load; planDelta), below =
//     count(ingested_at < T) and the sum of those rows' version digests (rowDigest), counted before
//     the read's data query, so every row counted is in the rows read.
//   - The next run counts and sums the rows with ingested_at < T again. The same two numbers mean
//     no row below T arrived since, and the delta over the keys with rows at or after T is exact.
//     Any other (a late row, or a merge that removed a duplicate) means a full read, and so does a
//     window (rows at or after T) larger than the overlay may grow. The count alone missed a late
//     row that replaces a version once a merge has dropped that version (one row in, one out); the
//     sum of the digests moves then (TestLoadCacheLateVersionIntegration).
//
// Keys are never removed (the table only gains versions), so the delta only replaces and adds. The
// delta's links live in an overlay beside the cached rows, which stay as they are during the load
// (an overlay link replaces its key's cached link in the replay unless that one is newer; a load
// that fails leaves the cache as it was). Once the load has succeeded, the cache folds the overlay
// into the rows (recorder.foldOverlay): each replaced row takes its overlay version where the
// replay did, and the new keys follow the rows in the replay's order, so the next replay of the rows
// alone is the same as this one. The next delta's overlay then holds only the keys changed since
// this load: without the fold, each run's overlay held every key changed since the last full read,
// and was copied and indexed again at every run (at 1M edges the eight rescores after the first
// took 1.63–1.68 s, median, against 1.40–1.47 s for the first; docs/benchmarks.md) until it passed
// 1/overlayMaxFrac of the links, which forced a full read. A delta larger than that is still read
// in full.

// deltaMargin is how far below the newest ingested_at a delta starts: rows still arriving that
// much out of order cost no full read.
const deltaMargin = 2 * time.Minute

// overlayMaxFrac bounds an overlay at 1/overlayMaxFrac of the cached links.
const overlayMaxFrac = 8

// deltaFunc records the newest version of every key of a table with a row ingested at or after
// since (Unix seconds).
type deltaFunc func(ctx context.Context, conn driver.Conn, b inputSink, since int64) error

// deltaState is what a cached read covers: every row with ingested_at < threshold (Unix seconds)
// that existed when below (their number) and digest (the sum of their rowDigest) were counted.
type deltaState struct {
	threshold int64
	below     uint64
	digest    uint64
}

// deltaPlan is what planDelta decided for one step: patch base with the keys changed since from,
// or (base nil) read in full; next is the state the result covers.
type deltaPlan struct {
	base *recorder
	from int64
	next deltaState
}

// planDelta counts the rows below the cached threshold and below the candidate new ones (one query,
// run just before the step's data query) and decides between a delta and a full read. The same
// query gives the table's signature (count(), max(ingested_at) and the sum of the rows' digests,
// as the signatures query does for the other tables): a step with deltas is planned at the start of
// a load, beside the signatures query instead of after it (at 1M edges that query was 45 to 110 ms
// of a rescore's load, the links' delta read waiting for it). Its signature is of a moment before
// its data query, as the signatures query's are.
//
// The new threshold is max(ingested_at) − deltaMargin, unless more than 1/(2·overlayMaxFrac) of the
// rows are at or above it (a table loaded in one go): then it is max(ingested_at) + 1 s, which
// covers every row counted and leaves only later rows to the next delta. That max(ingested_at) is
// read just before the counts (a row ingested in between is at or above both thresholds, left to
// the next delta).
func (c *LoadCache) planDelta(ctx context.Context, conn driver.Conn, s loadStep) (tableSig, *deltaPlan, error) {
	var lastAt time.Time
	if err := conn.QueryRow(ctx, "SELECT max(ingested_at) FROM "+s.table).Scan(&lastAt); err != nil {
		return tableSig{}, nil, fmt.Errorf("load %s: newest ingested_at: %w", s.name, err)
	}
	last := lastAt.Unix()
	margin, tight := max(0, last-int64(deltaMargin/time.Second)), last+1
	c.mu.Lock()
	e, ok := c.entries[s.name]
	c.mu.Unlock()
	old := tight
	if ok && e.delta != nil {
		old = e.delta.threshold
	}
	var n, belowOld, belowMargin, belowTight, digest, digestOld, digestMargin, digestTight uint64
	var sigLast time.Time
	if err := conn.QueryRow(ctx, deltaCountsSQL(s.table), old, margin, tight, old, margin, tight).Scan(&n, &sigLast, &digest,
		&belowOld, &belowMargin, &belowTight, &digestOld, &digestMargin, &digestTight); err != nil {
		return tableSig{}, nil, fmt.Errorf("load %s: delta counts: %w", s.name, err)
	}
	sig := newTableSig(n, sigLast, digest)
	p := &deltaPlan{next: deltaState{threshold: margin, below: belowMargin, digest: digestMargin}}
	if (n-belowMargin)*2*overlayMaxFrac > n {
		p.next = deltaState{threshold: tight, below: belowTight, digest: digestTight}
	}
	// a delta needs every row below the cached threshold to be covered (their count and digest
	// unchanged) and a window that can give a small overlay
	if ok && e.delta != nil && belowOld == e.delta.below && digestOld == e.delta.digest &&
		(n-belowOld)*overlayMaxFrac <= uint64(e.rec.links.len()) {
		p.base, p.from = e.rec, old
	}
	return sig, p, nil
}

// deltaCountsSQL is planDelta's query of a table: its signature (count(), max(ingested_at), the
// sum of the rows' digests), then the rows and the sums of their digests below three thresholds
// (the cached one, the margin and the tight one: parameters in that order, twice).
func deltaCountsSQL(table string) string {
	return "SELECT count(), max(ingested_at), sum(" + rowDigest + "), countIf(ingested_at < toDateTime(?)), countIf(ingested_at < toDateTime(?)), " +
		"countIf(ingested_at < toDateTime(?)), sumIf(" + rowDigest + ", ingested_at < toDateTime(?)), sumIf(" + rowDigest +
		", ingested_at < toDateTime(?)), sumIf(" + rowDigest + ", ingested_at < toDateTime(?)) FROM " + table
}

// readStep reads one step's rows: as a delta over its plan's base when there is one (and the
// overlay stays small), else in full. It says which it did ("delta" or "read").
func readStep(ctx context.Context, conn driver.Conn, s loadStep, args loadArgs, p *deltaPlan) (*recorder, string, error) {
	if p != nil && p.base != nil {
		d := &recorder{}
		if err := s.delta(ctx, conn, d, p.from); err != nil {
			return nil, "", err
		}
		if r, ok := p.base.withLinkDelta(d); ok {
			return r, "delta", nil
		}
	}
	r := &recorder{}
	if err := s.load(ctx, conn, r, args); err != nil {
		return nil, "", err
	}
	return r, "read", nil
}

// loadLinksSince records, for every supply link key with a row ingested at or after since, the
// newest version among those rows.
func loadLinksSince(ctx context.Context, conn driver.Conn, b inputSink, since int64) error {
	return queryLinks(ctx, conn, b, ` WHERE ingested_at >= toDateTime(?)`, since)
}

// linkOverlay holds the links that replace cached ones (same key, unless the cached one is newer)
// or add to them, in first-seen order.
type linkOverlay struct {
	rows []schemas.SupplyLink
	// base maps the cached rows' interned key of a link to its row (links whose five key strings
	// are all in the cached string table; the others are new keys).
	base map[[5]uint32]int32
	// baseBits is a one-hash Bloom filter of base's keys (baseShift: 64 − log₂ of its bits, at
	// least 16 per key): a cached link whose bit is clear has no overlay row, known without a map
	// lookup. With an overlay of at most 1/overlayMaxFrac of the links, that is nearly every cached
	// link of a replay (about a third of its time went to those lookups at 1M links).
	baseBits  []uint64
	baseShift uint8
	// at says, per row, what the last replay through the overlay did with it (nil before one): the
	// index of the recorded link it replaced, or overlayKeptOlder (the recorded link of its key is
	// newer and was kept), or overlayNewKey (no recorded link has its key: added after them).
	at []int32
}

const (
	overlayNewKey    = -1
	overlayKeptOlder = -2
)

// keyBit is the filter bit of an interned link key: the top bits of a multiplicative hash.
func (ov *linkOverlay) keyBit(k [5]uint32) uint64 {
	h := (uint64(k[0])<<32 | uint64(k[1])) * 0x9e3779b97f4a7c15
	h ^= (uint64(k[2])<<32 | uint64(k[3])) * 0xc2b2ae3d27d4eb4f
	h ^= uint64(k[4]) * 0x165667b19e3779f9
	h ^= h >> 31
	return (h * 0x9e3779b97f4a7c15) >> ov.baseShift
}

// index builds baseBits from base.
func (ov *linkOverlay) index() {
	shift := uint8(64 - 6) // 64 bits at least
	for bits := uint64(64); bits < 16*uint64(len(ov.base)); bits *= 2 {
		shift--
	}
	ov.baseShift = shift
	ov.baseBits = make([]uint64, (uint64(1)<<(64-shift))/64)
	for k := range ov.base {
		b := ov.keyBit(k)
		ov.baseBits[b/64] |= 1 << (b % 64)
	}
}

// replaces returns the overlay row of a cached link's interned key, if there is one.
func (ov *linkOverlay) replaces(k [5]uint32) (int32, bool) {
	if b := ov.keyBit(k); ov.baseBits[b/64]&(1<<(b%64)) == 0 {
		return 0, false
	}
	i, ok := ov.base[k]
	return i, ok
}

// withLinkDelta returns a recorder that replays r's rows with d's links in place of the older ones
// of the same key and d's new keys after them; r is not changed. d holds one version per key (the
// delta query's newest); should it hold more, the overlay keeps the newest (the later on a tie). It
// fails (false) when r has an overlay of its own (the cache folds it once the load that made it has
// succeeded) or when the overlay would exceed 1/overlayMaxFrac of r's links.
func (r *recorder) withLinkDelta(d *recorder) (*recorder, bool) {
	ov := &linkOverlay{base: map[[5]uint32]int32{}}
	byKey := map[[5]string]int32{}
	add := func(l schemas.SupplyLink) {
		k := [5]string{l.LinkType, l.EnterpriseID, l.ProductID, l.ComponentID, l.SupplierID}
		if i, ok := byKey[k]; ok {
			if !ov.rows[i].AsOf.After(l.AsOf) {
				ov.rows[i] = l
			}
			return
		}
		byKey[k] = int32(len(ov.rows))
		ov.rows = append(ov.rows, l)
	}
	if r.overlay != nil { // a cached recorder's overlay is folded when its load succeeds (foldOverlay)
		return nil, false
	}
	d.links.each(func(x *linkRow) { add(d.link(x)) })
	if len(ov.rows)*overlayMaxFrac > r.links.len() {
		return nil, false
	}
	for k, i := range byKey {
		var ids [5]uint32
		known := true
		for j, s := range k {
			ids[j], known = r.strs.idx[s]
			if !known {
				break
			}
		}
		if known {
			ov.base[ids] = i
		}
	}
	ov.index()
	out := *r // shares the cached rows and string table, which neither changes
	out.overlay, out.base = ov, r
	return &out, true
}

// foldOverlay makes the overlay part of the recorded rows, where the last replay through it put
// its rows (linkOverlay.at): a recorded link an overlay row replaced becomes that row, in its place,
// and the overlay's new keys are recorded after the rows, in overlay order; the overlay is dropped.
// A replay of the result adds the same links in the same order as that replay. Without a replay
// there is nothing to fold by: the overlay stays, and the next delta on the recorder is refused
// (a full read).
//
// It changes the rows in place, which the recorder shares with the one it was patched from
// (withLinkDelta): the cache calls it only once a load has succeeded, under its load lock, when the
// older recorder is being replaced by this one and no other load replays either.
func (r *recorder) foldOverlay() {
	ov := r.overlay
	if ov == nil || ov.at == nil {
		return
	}
	for i, at := range ov.at {
		if at >= 0 {
			*r.links.at(int(at)) = r.linkRow(&ov.rows[i])
		}
	}
	for i, at := range ov.at {
		if at == overlayNewKey {
			r.AddLink(&ov.rows[i])
		}
	}
	r.overlay, r.base = nil, nil
}

// replayLinks adds the recorded links to b in their order, each replaced by the overlay's version
// of its key unless the recorded one is newer, then the overlay's new keys.
func (r *recorder) replayLinks(b *Builder) {
	// The recorded links' ids are translated to the Builder's once per distinct string (the
	// Builder would otherwise hash every id of every link again).
	st := r.strs.strs
	tr := &idTranslation{in: b.in, strs: st, ids: make([]int32, len(st))}
	for i := range tr.ids {
		tr.ids[i] = -1
	}
	ov := r.overlay
	n := map[string]int{}
	if ov != nil {
		ov.begin()
		for i := range ov.rows {
			n[ov.rows[i].LinkType]++
		}
	}
	// the Builder's slices and maps sized once for the links (growing them as they come allocates
	// about five times a large slice's final size), from the counts kept when the links were
	// recorded
	count := func(typ string) int {
		c := n[typ]
		if id, ok := r.strs.idx[typ]; ok {
			c += r.linkTypes[id]
		}
		return c
	}
	b.reserve(count(schemas.LinkSupplies), count(schemas.LinkBOM), count(schemas.LinkMakes), count(schemas.LinkStocks), len(st))
	// With a unique Builder (the load's), a recorded link's type and qualification are read from
	// tables over the recorder's strings, made once, instead of comparing strings per link.
	var kinds, quals []uint8
	if b.unique {
		kinds, quals = make([]uint8, len(st)), make([]uint8, len(st))
		for i, s := range st {
			kinds[i], quals[i] = linkKind(s), qualOf(s)
		}
	}
	var l schemas.SupplyLink
	pos := int32(-1)
	r.links.each(func(x *linkRow) {
		pos++
		if ov != nil {
			if o := ov.place(x, pos); o != nil {
				l = *o
				b.AddLink(&l)
				return
			}
		}
		if kinds != nil { // a unique Builder: straight into the edges, no SupplyLink made
			b.addEdge(kinds[x.typ], &linkIDs{in: b.in, tr: tr, x: x}, x.share, quals[x.qual], x.inventory, x.perDay)
			return
		}
		l = r.link(x)
		b.addLink(&l, &linkIDs{in: b.in, l: &l, tr: tr, x: x})
	})
	if ov != nil {
		ov.addNewKeys(b)
	}
}

// begin readies the overlay for a replay through it (replayLinks, patchLinks): every row a new key
// until place finds the recorded link of its key.
func (ov *linkOverlay) begin() {
	ov.at = make([]int32, len(ov.rows))
	for i := range ov.at {
		ov.at[i] = overlayNewKey
	}
}

// place notes in the overlay what a replay does with the recorded link x at position pos, and
// returns the overlay row that takes its place (nil: the recorded link stays, having no overlay
// row or a newer version than it).
func (ov *linkOverlay) place(x *linkRow, pos int32) *schemas.SupplyLink {
	i, ok := ov.replaces([5]uint32{x.typ, x.ent, x.prod, x.comp, x.sup})
	if !ok {
		return nil
	}
	return ov.placeRow(i, x, pos)
}

// placeRow is place for the recorded link x at pos whose key has overlay row i.
func (ov *linkOverlay) placeRow(i int32, x *linkRow, pos int32) *schemas.SupplyLink {
	ov.at[i] = overlayKeptOlder
	if time.Unix(x.asOf, int64(x.asOfNs)).After(ov.rows[i].AsOf) {
		return nil
	}
	ov.at[i] = pos
	return &ov.rows[i]
}

// addNewKeys adds to b, in overlay order, the rows no recorded link has the key of (after the
// recorded links, as a replay does).
func (ov *linkOverlay) addNewKeys(b *Builder) {
	for i, at := range ov.at {
		if at == overlayNewKey {
			l := ov.rows[i]
			b.AddLink(&l)
		}
	}
}

// link returns a recorded link as a SupplyLink.
func (r *recorder) link(x *linkRow) schemas.SupplyLink {
	st := r.strs.strs
	return schemas.SupplyLink{LinkType: st[x.typ], EnterpriseID: st[x.ent], ProductID: st[x.prod], ComponentID: st[x.comp],
		SupplierID: st[x.sup], Qualification: st[x.qual], QtyPerUnit: x.qty, Share: x.share, InventoryUnits: x.inventory,
		ConsumptionPerDay: x.perDay, AsOf: time.Unix(x.asOf, int64(x.asOfNs)).UTC()}
}
