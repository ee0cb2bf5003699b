package detectors

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/cespare/xxhash/v2"
)

// runWindow is a run's window as ClickHouse stores it (DateTime: Unix seconds, clamped).
type runWindow struct{ from, to int64 }

func windowOf(from, to time.Time) runWindow {
	return runWindow{clampTime(from).Unix(), clampTime(to).Unix()}
}

// findingHash is a 64-bit digest (xxhash) of everything a finding stores except what belongs to
// the run rather than to the subject: run_id, computed_at, prev_score and delta. Its window counts
// as "the run's window" (one marker, not the times) when it equals w, the window of the run that
// scored it, and by value otherwise (availability and chokepoint findings carry windows of their
// own). Two findings with the same digest, scored in runs with windows w1 and w2, are stored as the
// same row up to those run columns and w1 → w2; that is what lets a delta run carry its unchanged
// findings as the rows of its chain instead of writing them again (store_runs.go). A collision (two
// different findings with one digest, odds about n/2⁶⁴ for n findings) would keep a stale row.
// Every field of Finding is either hashed here or named in TestFindingHashCoversEveryField.
func findingHash(f *Finding, w runWindow) uint64 {
	var h hasher
	return h.finding(f, w)
}

// hasher lays a finding's fields out in a buffer it reuses, each length-prefixed (so that
// ("ab","c") and ("a","bc") differ), and digests the buffer at once.
type hasher struct{ buf []byte }

func (h *hasher) finding(f *Finding, w runWindow) uint64 {
	h.buf = h.buf[:0]
	h.str(f.Detector)
	h.str(f.SubjectType)
	h.str(f.Subject)
	h.str(f.SubjectName)
	h.str(f.EnterpriseID)
	h.str(f.ComponentID)
	h.str(f.Category)
	h.str(f.Industry)
	h.str(f.Region)
	h.boolean(f.ChainLeader)
	h.num(f.Score)
	h.strs(f.Flags)
	h.int(int64(len(f.Terms)))
	for i := range f.Terms {
		t := &f.Terms[i]
		h.str(t.Name)
		h.num(t.Value)
		h.num(t.Norm)
		h.num(t.Weight)
		h.num(t.Contribution)
		h.num(t.Share)
		h.str(t.Detail)
	}
	h.optNum(f.TTSDays)
	h.optNum(f.TTRDays)
	h.int(int64(len(f.Alternates)))
	for i := range f.Alternates {
		a := &f.Alternates[i]
		h.str(a.ComponentID)
		h.str(a.SupplierID)
		h.str(a.Country)
		h.boolean(a.Domestic)
		h.num(a.QualificationDays)
		h.num(a.HHIAfter)
		h.str(a.Origin)
		h.str(a.Notes)
		h.str(a.Region)
		h.str(a.RegionGroup)
		h.strs(a.Tags)
		h.strs(a.Reasons)
	}
	h.strs(f.Products)
	if fw := windowOf(f.WindowFrom, f.WindowTo); fw == w {
		h.int(1)
	} else {
		h.int(0)
		h.int(fw.from)
		h.int(fw.to)
	}
	return xxhash.Sum64(h.buf)
}

// streamHasher digests a long input: its hasher's buffer goes to an xxhash digest every 64 KiB
// (spill), not held whole.
type streamHasher struct {
	hasher
	d *xxhash.Digest
}

func newStreamHasher() *streamHasher { return &streamHasher{d: xxhash.New()} }

// spill hands the buffer to the digest once it holds 64 KiB.
func (s *streamHasher) spill() {
	if len(s.buf) >= 64<<10 {
		_, _ = s.d.Write(s.buf) // xxhash.Digest.Write never fails
		s.buf = s.buf[:0]
	}
}

// sum is the digest of everything written.
func (s *streamHasher) sum() uint64 {
	_, _ = s.d.Write(s.buf)
	return s.d.Sum64()
}

func (h *hasher) int(v int64) { h.buf = binary.LittleEndian.AppendUint64(h.buf, uint64(v)) }

func (h *hasher) num(v float64) { h.buf = binary.LittleEndian.AppendUint64(h.buf, math.Float64bits(v)) }

func (h *hasher) str(s string) {
	h.int(int64(len(s)))
	h.buf = append(h.buf, s...)
}

func (h *hasher) strs(s []string) {
	h.int(int64(len(s)))
	for _, x := range s {
		h.str(x)
	}
}

func (h *hasher) boolean(b bool) {
	if b {
		h.int(1)
	} else {
		h.int(0)
	}
}

func (h *hasher) optNum(p *float64) {
	if p == nil {
		h.int(0)
		return
	}
	h.int(1)
	h.num(*p)
}
