package exposure

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

// Regional reads the regional views of issue 14 from ClickHouse: the chain leaders' local-sourcing
// index (with its week-over-week change), the 卡点 ledger confirmed from data, and the demand board.
// The supply map is read as it stood at the given time (detectors.LoadSupplyMap; for the index,
// only what it reads: detectors.LoadLeaderSupplies), the findings are those of the runs latest at
// that time; the computation is detectors' pure functions.
type Regional struct {
	store *Store
	det   detectors.Config
}

// NewRegional returns the regional views over store, with the region groups, SME tags and ledger of det.
func NewRegional(store *Store, det detectors.Config) *Regional {
	return &Regional{store: store, det: det}
}

// Week is the look-back of the local-sourcing change.
const Week = 7 * 24 * time.Hour

// maxRegionalFindings bounds the findings the ledger and the demand board read.
const maxRegionalFindings = 200000

func at(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// LocalSourcing returns the index of every chain leader in a region group at t (zero: now), with
// PrevIndex and Change against t − 7 days.
func (r *Regional) LocalSourcing(ctx context.Context, t time.Time) ([]detectors.LocalSourcing, error) {
	t = at(t)
	now, err := detectors.LoadLeaderSupplies(ctx, r.store.q, r.det, t)
	if err != nil {
		return nil, fmt.Errorf("local sourcing: %w", err)
	}
	prev, err := detectors.LoadLeaderSupplies(ctx, r.store.q, r.det, t.Add(-Week))
	if err != nil {
		return nil, fmt.Errorf("local sourcing a week earlier: %w", err)
	}
	return detectors.WithChange(detectors.LocalSourcingIndex(now), detectors.LocalSourcingIndex(prev)), nil
}

// LocalSourcingMemo is a local-sourcing index kept with what it was computed from, so that the
// next computation can tell whether it would read anything else (LocalSourcingSince). The zero
// value holds nothing.
type LocalSourcingMemo struct {
	at    time.Time
	state []supplyState
	rows  []detectors.LocalSourcing
	ok    bool
}

// supplyState is what one supply table held at a read: its rows and the newest ingested_at.
type supplyState struct {
	Table string
	Rows  uint64
	Last  time.Time
}

// LocalSourcingSince returns the index at t as LocalSourcing does, computed again only when what
// memo was computed from may have changed, and keeps the result in memo; reused says the memo's
// rows were returned (the caller must not modify them). The index at t reads the supply nodes and
// links with as_of <= t and <= t − 7 days: from memo's time m to t, that changes only by rows
// inserted (or merged or deleted) since, which change a table's row count or newest ingested_at,
// and by stored rows whose as_of lies in (m, t] or (m − 7 days, t − 7 days]. One query reads both
// for the two tables (a few milliseconds at 1M links; the index itself reads every enterprise and
// supplier node and the chain leaders' links, twice). A change that leaves a table's count and
// newest ingested_at as they were (as many rows inserted, at or before that second, as a merge
// removed) goes unseen until the next change: replays of rows already stored are such a case, and
// do not change the index.
func (r *Regional) LocalSourcingSince(ctx context.Context, t time.Time, memo *LocalSourcingMemo) (rows []detectors.LocalSourcing, reused bool, err error) {
	t = at(t)
	from := t
	if memo.ok {
		from = memo.at
	}
	state, moved, err := r.supplyState(ctx, from, t)
	if err != nil {
		return nil, false, fmt.Errorf("local sourcing: %w", err)
	}
	if memo.ok && !moved && !t.Before(memo.at) && slices.Equal(state, memo.state) {
		memo.at = t
		return memo.rows, true, nil
	}
	rows, err = r.LocalSourcing(ctx, t)
	if err != nil {
		return nil, false, err
	}
	*memo = LocalSourcingMemo{at: t, state: state, rows: rows, ok: true}
	return rows, false, nil
}

// supplyState reads each supply table's row count and newest ingested_at, and whether any of their
// rows has an as_of in (from, to] or in the same span 7 days earlier.
func (r *Regional) supplyState(ctx context.Context, from, to time.Time) ([]supplyState, bool, error) {
	var parts []string
	var args []any
	for _, tbl := range []string{"supply_nodes", "supply_links"} {
		parts = append(parts, "SELECT "+Str(tbl)+" AS tbl, count() AS n, max(ingested_at) AS last, "+
			"countIf((as_of > ? AND as_of <= ?) OR (as_of > ? AND as_of <= ?)) AS moved FROM "+tbl)
		args = append(args, from, to, from.Add(-Week), to.Add(-Week))
	}
	rows, err := r.store.q.Query(ctx, "SELECT tbl, n, last, moved FROM ("+strings.Join(parts, " UNION ALL ")+") ORDER BY tbl", args...)
	if err != nil {
		return nil, false, fmt.Errorf("read the supply tables' state: %w", err)
	}
	defer rows.Close()
	var out []supplyState
	moved := false
	for rows.Next() {
		var s supplyState
		var m uint64
		if err := rows.Scan(&s.Table, &s.Rows, &s.Last, &m); err != nil {
			return nil, false, fmt.Errorf("read the supply tables' state: %w", err)
		}
		s.Last = s.Last.UTC()
		out, moved = append(out, s), moved || m > 0
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read the supply tables' state: %w", err)
	}
	return out, moved, nil
}

// Ledger returns the 卡点 ledger at t (zero: now).
func (r *Regional) Ledger(ctx context.Context, t time.Time) (detectors.Ledger, error) {
	t = at(t)
	in, fs, err := r.inputs(ctx, t)
	if err != nil {
		return detectors.Ledger{}, fmt.Errorf("ledger: %w", err)
	}
	return detectors.LedgerStatuses(in, r.det.Ledger, fs, t), nil
}

// Demands returns the demand board at t (zero: now).
func (r *Regional) Demands(ctx context.Context, t time.Time) ([]detectors.Demand, error) {
	t = at(t)
	in, fs, err := r.inputs(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("demand board: %w", err)
	}
	return detectors.DemandBoard(in, fs), nil
}

func (r *Regional) inputs(ctx context.Context, t time.Time) (*detectors.Inputs, []detectors.Finding, error) {
	exists, err := TableExists(ctx, r.store.q, FindingsTable)
	if err != nil {
		return nil, nil, err
	}
	in, err := detectors.LoadSupplyMap(ctx, r.store.q, r.det, t)
	if err != nil {
		return nil, nil, err
	}
	if !exists {
		return in, nil, nil
	}
	fs, _, err := r.store.Findings(ctx, Filter{Detectors: detectors.Names, AsOf: t}, Page{Sort: "subject", Limit: maxRegionalFindings})
	if err != nil {
		return nil, nil, err
	}
	return in, fs, nil
}
