package exposure

import (
	"context"
	"fmt"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

// Regional reads the regional views of issue 14 from ClickHouse: the chain leaders' local-sourcing
// index (with its week-over-week change), the 卡点 ledger confirmed from data, and the demand board.
// The supply map is read as it stood at the given time (detectors.LoadSupplyMap), the findings
// are those of the runs latest at that time; the computation is detectors' pure functions.
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
	now, err := detectors.LoadSupplyMap(ctx, r.store.q, r.det, t)
	if err != nil {
		return nil, fmt.Errorf("local sourcing: %w", err)
	}
	prev, err := detectors.LoadSupplyMap(ctx, r.store.q, r.det, t.Add(-Week))
	if err != nil {
		return nil, fmt.Errorf("local sourcing a week earlier: %w", err)
	}
	return detectors.WithChange(detectors.LocalSourcingIndex(now), detectors.LocalSourcingIndex(prev)), nil
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
