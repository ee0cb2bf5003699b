package collectors

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// DefaultOCDSPendingBytes bounds the release state an OCDS import holds while it compiles releases
// per ocid (the pruned releases, as compact JSON). Above it, the ocids seen first are compiled and
// emitted early; a later release of such an ocid starts a new compiled release (see
// docs/collectors.md, "OCDS merge").
const DefaultOCDSPendingBytes = 32 << 20

// ocdsPendingOverhead approximates the memory of one held release beyond its JSON bytes.
const ocdsPendingOverhead = 96

// ocdsPendingRel is one release waiting for its ocid to be compiled: only the kept fields, as JSON.
type ocdsPendingRel struct {
	date    time.Time
	hasDate bool
	seq     int
	id      string
	loc     string
	tree    []byte
}

type ocdsPending struct {
	ocid  string
	rels  []ocdsPendingRel
	units int64 // read units of its releases (max(1, awards) each)
	size  int
}

// ocdsCompiler holds the releases of each ocid of one file or response until its end (or until the
// pending state exceeds limit), then compiles them and converts the compiled release into rows.
type ocdsCompiler struct {
	conv    *ocdsConv
	pending map[string]*ocdsPending
	queue   []*ocdsPending // first-seen order
	size    int
	limit   int
	seq     int
}

func newOCDSCompiler(conv *ocdsConv, limit int) *ocdsCompiler {
	if limit <= 0 {
		limit = DefaultOCDSPendingBytes
	}
	return &ocdsCompiler{conv: conv, pending: map[string]*ocdsPending{}, limit: limit}
}

// add queues one release of ocid worth units read units.
func (c *ocdsCompiler) add(ocid string, units int64, rel ocdsPendingRel) error {
	p := c.pending[ocid]
	if p == nil {
		p = &ocdsPending{ocid: ocid}
		c.pending[ocid] = p
		c.queue = append(c.queue, p)
	}
	rel.seq = c.seq
	c.seq++
	p.rels = append(p.rels, rel)
	p.units += units
	n := len(rel.tree) + len(rel.id) + ocdsPendingOverhead
	p.size += n
	c.size += n
	for c.size > c.limit && len(c.queue) > 1 {
		if err := c.flushFront(); err != nil {
			return err
		}
	}
	return nil
}

func (c *ocdsCompiler) flushFront() error {
	p := c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	delete(c.pending, p.ocid)
	c.size -= p.size
	return c.compile(p)
}

// finish compiles every ocid still held, in first-seen order.
func (c *ocdsCompiler) finish() error {
	for len(c.queue) > 0 {
		if err := c.flushFront(); err != nil {
			return err
		}
	}
	return nil
}

// compile merges the held releases of one ocid in date order (releases without a date first, equal
// dates in file order, as ocdsmerge's stable sort) and emits the rows of the compiled release. An
// ocid with one release is that release.
func (c *ocdsCompiler) compile(p *ocdsPending) error {
	if len(p.rels) == 1 {
		rel := p.rels[0]
		var date time.Time
		if rel.hasDate {
			date = rel.date
		}
		return c.emit(p, rel.tree, rel.id, rel.loc, date)
	}
	slices.SortStableFunc(p.rels, func(a, b ocdsPendingRel) int {
		switch {
		case a.hasDate != b.hasDate:
			if a.hasDate {
				return 1
			}
			return -1
		case !a.date.Equal(b.date):
			return a.date.Compare(b.date)
		}
		return a.seq - b.seq
	})
	tree := map[string]any{}
	var relID, lastLoc string
	var date time.Time
	for _, rel := range p.rels {
		v, err := ocdsDecode(rel.tree)
		if err != nil {
			return fmt.Errorf("ocds compile %s: %w", p.ocid, err)
		}
		m := v.(map[string]any)
		delete(m, "id") // omitWhenMerged; the compiled release takes the latest
		delete(m, "date")
		ocdsMerge(tree, m, "")
		if rel.id != "" {
			relID = rel.id
		}
		lastLoc = rel.loc
		if rel.hasDate {
			date = rel.date
		}
	}
	if !date.IsZero() {
		tree["date"] = date.Format(time.RFC3339Nano)
	}
	tree["id"] = relID
	cb, err := json.Marshal(ocdsExport(tree, true))
	if err != nil {
		return fmt.Errorf("ocds compile %s: %w", p.ocid, err)
	}
	return c.emit(p, cb, relID, lastLoc, date)
}

// emit converts one compiled release (JSON with the hidden keys) into rows and balances the
// counts: the read units of the ocid's releases that did not become an award of the compiled
// release (releases without awards, award versions merged into one) are counted as skipped.
func (c *ocdsCompiler) emit(p *ocdsPending, cb []byte, relID, lastLoc string, date time.Time) error {
	o := c.conv.o
	var r ocdsRelease
	if err := json.Unmarshal(cb, &r); err != nil {
		// Releases that were each well-typed can still compile to a conflict.
		o.stats.Skipped += p.units - 1
		return o.rejectKind(schemas.KindProcurement, lastLoc+"#compiled", "bad_json",
			"compiled release: "+jsonFieldErr(err), ocdsPublic(cb, -1))
	}
	loc := func(i int) string {
		if l := r.Awards[i].Loc; l != "" {
			return l
		}
		return fmt.Sprintf("%s#compiled.awards[%d]", lastLoc, i)
	}
	raw := func(i int) []byte { return ocdsPublic(cb, i) }
	n, err := c.conv.rows(&r, relID, date, date, loc, raw)
	if err != nil {
		return err
	}
	o.stats.Skipped += p.units - int64(n)
	return nil
}

// ocdsPublic returns the compiled award i (i < 0: the whole compiled release) without hidden keys:
// the raw bytes of a reject.
func ocdsPublic(cb []byte, i int) []byte {
	v, err := ocdsDecode(cb)
	if err != nil {
		return cb
	}
	if i >= 0 {
		if m, ok := v.(map[string]any); ok {
			if awards, ok := m["awards"].([]any); ok && i < len(awards) {
				v = awards[i]
			}
		}
	}
	b, err := json.Marshal(ocdsExport(v, false))
	if err != nil {
		return cb
	}
	return b
}
