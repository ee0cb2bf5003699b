package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/lease"
)

// Leader election (docs/scaling.md). In cluster mode (clickhouse.cluster set) several daemons share
// the Kafka consumer group and the ClickHouse cluster; the detectors with the alert evaluation and
// the digest schedule then run only in the daemon holding the lease (a Kafka group-coordinator lease,
// internal/lease). On one server nothing changes: they run at once, as before.

// leaderTopic and leaderGroup name the lease's one-partition topic and consumer group.
func (a *App) leaderTopic() string { return a.cfg.Kafka.TopicPrefix + ".leader.v1" }
func (a *App) leaderGroup() string { return a.cfg.Kafka.GroupID + "-leader" }

// startLeaderWork starts the detector loop and the digest scheduler, under the lease in cluster mode.
func (a *App) startLeaderWork(ctx context.Context) error {
	log := a.log.With("component", "detectors")
	if a.cfg.ClickHouse.Cluster == "" {
		a.goFail(func() error { return a.runDigests(ctx) })
		a.goRun(func() {
			detectLoop(ctx, a.runner, a.conn, a.mgr, a.cons, a.cfg.Detectors.Interval, a.trig, a.opt.OnDetect, log)
		})
		return nil
	}
	l, err := lease.NewKafka(lease.Config{Brokers: a.cfg.Kafka.Brokers, Topic: a.leaderTopic(), Group: a.leaderGroup(),
		SessionTimeout: a.cfg.Kafka.SessionTimeout, Dialer: a.cfg.Kafka.ConsumerDialer(), Transport: a.cfg.Kafka.ClientTransport()},
		a.reg, a.log.With("component", "lease"))
	if err != nil {
		return err
	}
	if a.mgr != nil {
		// Every daemon starts as a follower: only the lease holder owns the (shared) alert state.
		if err := a.mgr.Standby(); err != nil {
			return err
		}
	}
	a.goFail(func() error {
		return l.Run(ctx, func(lctx context.Context) {
			if a.mgr != nil {
				if err := a.mgr.Resume(); err != nil {
					a.log.Error("alert state not reloaded; this leader does not notify", "err", err)
				} else {
					defer func() {
						if err := a.mgr.Standby(); err != nil {
							a.log.Error("alert state not saved on losing the lease", "err", err)
						}
					}()
				}
			}
			a.route.leading.Store(true)
			defer func() {
				a.route.leading.Store(false)
				a.trig.abort(errLeaseLost) // waiting POST /-/detect?wait=true: 503, retry goes to the new leader
			}()
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				if err := advertiseLeader(lctx, a.conn, a.route.self); err != nil && lctx.Err() == nil {
					a.log.Error("leader URL not advertised; followers answer POST /-/detect with 503", "url", a.route.self, "err", err)
				}
			}()
			go func() { defer wg.Done(); a.slotLoop(lctx, log) }()
			if err := a.runDigests(lctx); err != nil {
				a.log.Error("digest scheduler failed while leading", "err", err)
			}
			wg.Wait()
		})
	})
	return nil
}

func (a *App) runDigests(ctx context.Context) error {
	if a.digestSched == nil {
		return nil
	}
	if err := a.digestSched.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// slotLoop is detectLoop for a leader: time is cut into slots of detectors.interval (aligned on the
// Unix epoch), and a slot's run happens once across the daemons. Before running, the leader checks
// detector_runs for a run started in the current slot (by a former leader), so a failover in the
// middle of a slot does not run it again; the next run is at the next slot's start. A trigger
// (POST /-/detect on the leader) runs at once, as in detectLoop.
func (a *App) slotLoop(ctx context.Context, log *slog.Logger) {
	interval := a.cfg.Detectors.Interval
	for {
		slot := time.Now().UTC().Truncate(interval)
		done, err := slotDone(ctx, a.conn, slot)
		if err != nil && ctx.Err() == nil {
			log.Error("reading detector_runs failed; running the slot", "slot", slot, "err", err)
		}
		if !done && ctx.Err() == nil {
			a.evaluate(ctx, log)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(slot.Add(interval))):
		case <-a.trig.ch:
			a.evaluate(ctx, log)
		}
	}
}

func (a *App) evaluate(ctx context.Context, log *slog.Logger) {
	run := a.trig.begin()
	sum, _, err := evaluateOnce(ctx, a.runner, a.conn, a.mgr, a.cons)
	err = leaseRunErr(ctx, sum.RunID, err)
	switch {
	case errors.Is(err, errLeaseLost):
		log.Info("detector run cut short: the lease ended during it", "run_id", sum.RunID, "cause", context.Cause(ctx))
	case err != nil:
		log.Error("detector run failed; retrying at the next slot", "run_id", sum.RunID, "err", err)
	}
	a.trig.end(run, sum, err)
	if a.opt.OnDetect != nil {
		a.opt.OnDetect(sum, err)
	}
}

// leaseRunErr is the error of a leader's run: when the lease ended during the run (a rebalance of
// the lease group, e.g. another daemon joining, ends the generation even when this daemon is elected
// again) the run's errors are the cancellation, not a detector failure, and callers waiting on the
// run get errLeaseLost (503, retry). Such a run leaves error rows in detector_runs, so slotDone does
// not count it and whoever leads next runs the slot again.
func leaseRunErr(ctx context.Context, runID string, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w (run %s was cut short)", errLeaseLost, runID)
}

// slotDone reports whether a detector run that started at or after slot completed: every detector
// of it has an ok row in detector_runs. A run a dead leader did not finish wrote nothing; a run cut
// short when the lease ended (or failed otherwise) wrote error rows, and the slot is run again by
// whoever leads next.
func slotDone(ctx context.Context, conn driver.Conn, slot time.Time) (bool, error) {
	var n uint64
	if err := conn.QueryRow(ctx, completedRunsSQL, slot).Scan(&n); err != nil {
		return false, fmt.Errorf("detector_runs: %w", err)
	}
	return n > 0, nil
}

// completedRunsSQL counts the runs started at or after ? none of whose detectors failed.
const completedRunsSQL = `SELECT count() FROM (SELECT run_id FROM detector_runs WHERE started_at >= ?
    GROUP BY run_id HAVING countIf(status != 'ok') = 0)`
