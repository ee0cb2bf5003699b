package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the per-collector Prometheus metrics. Build one per process with NewMetrics on the
// daemon's registerer and pass it to RunOnce / Schedule (and ImportOptions.Metrics).
type Metrics struct {
	duration    *prometheus.HistogramVec
	runs        *prometheus.CounterVec
	emitted     *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
}

// Run results, the values of the "result" label.
const (
	ResultSuccess  = "success"
	ResultError    = "error"
	ResultCanceled = "canceled"
)

// NewMetrics registers the collector metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chainwatch_collector_run_duration_seconds",
			Help: "Duration of collector runs and imports.", Buckets: prometheus.ExponentialBuckets(0.05, 4, 10)},
			[]string{"collector"}),
		runs: counter("chainwatch_collector_runs_total", "Collector runs by result (success, error, canceled).",
			"collector", "result"),
		emitted:  counter("chainwatch_collector_records_emitted_total", "Events handed to the emitter.", "collector"),
		rejected: counter("chainwatch_collector_records_rejected_total", "Source records rejected, by reason.", "collector", "reason"),
		duplicates: counter("chainwatch_collector_records_duplicate_total",
			"Events whose id collapsed into an earlier one of the same run or import.", "collector"),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chainwatch_collector_last_success_timestamp_seconds",
			Help: "Unix time of the last successful run."}, []string{"collector"}),
	}
	for _, c := range []prometheus.Collector{m.duration, m.runs, m.emitted, m.rejected, m.duplicates, m.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("collectors: register metrics: %w", err)
		}
	}
	return m, nil
}

// observe records one finished run. m may be nil.
func (m *Metrics) observe(name string, st Stats, d time.Duration, err error, end time.Time) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(name).Observe(d.Seconds())
	m.emitted.WithLabelValues(name).Add(float64(st.Emitted))
	m.duplicates.WithLabelValues(name).Add(float64(st.Duplicates))
	for reason, n := range st.Rejected {
		m.rejected.WithLabelValues(name, reason).Add(float64(n))
	}
	switch {
	case err == nil:
		m.runs.WithLabelValues(name, ResultSuccess).Inc()
		m.lastSuccess.WithLabelValues(name).Set(float64(end.UnixNano()) / 1e9)
	case errors.Is(err, context.Canceled):
		m.runs.WithLabelValues(name, ResultCanceled).Inc()
	default:
		m.runs.WithLabelValues(name, ResultError).Inc()
	}
}

// RunOnce runs c once, instruments it and logs the outcome (the error is returned, not logged
// as an error: the caller decides). A panic in the collector becomes an error.
func RunOnce(ctx context.Context, c Collector, em Emitter, m *Metrics, log *slog.Logger) (st Stats, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("collector %s panicked: %v", c.Name(), r)
			}
		}()
		st, err = c.Run(ctx, em)
	}()
	end := time.Now()
	m.observe(c.Name(), st, end.Sub(start), err, end)
	log.Info("collector run finished", "collector", c.Name(), "duration", end.Sub(start).Round(time.Millisecond),
		"read", st.Read, "emitted", st.Emitted, "rejected", st.RejectedTotal(), "skipped", st.Skipped, "ok", err == nil)
	return st, err
}

// Scheduled is a collector with its interval.
type Scheduled struct {
	Collector Collector
	Interval  time.Duration
}

// Schedule runs every collector now and then every Interval until ctx is done, each in its own
// goroutine. A failed run is counted, logged at warn and retried at the next tick; it never stops
// the scheduler. Schedule returns when ctx is done and every run in flight has returned.
func Schedule(ctx context.Context, entries []Scheduled, em Emitter, m *Metrics, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	for _, e := range entries {
		if e.Interval <= 0 {
			log.Warn("collector has no interval; not scheduled", "collector", e.Collector.Name())
			continue
		}
		wg.Add(1)
		go func(e Scheduled) {
			defer wg.Done()
			t := time.NewTicker(e.Interval)
			defer t.Stop()
			for {
				if _, err := RunOnce(ctx, e.Collector, em, m, log); err != nil && ctx.Err() == nil {
					log.Warn("collector run failed; retrying at the next tick", "collector", e.Collector.Name(),
						"next_in", e.Interval, "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}(e)
	}
	wg.Wait()
}
