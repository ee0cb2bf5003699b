package alerts

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	notifications *prometheus.CounterVec
	failed        *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	queueLength   *prometheus.GaugeVec
	alerts        *prometheus.GaugeVec
	skipped       *prometheus.CounterVec
	evaluations   prometheus.Counter
	archiveErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_notifications_total",
			Help: "Notification attempts, per integration.",
		}, []string{"integration"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_notifications_failed_total",
			Help: "Failed notification attempts, per integration and reason.",
		}, []string{"integration", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chainwatch_notification_latency_seconds",
			Help:    "Latency of notification attempts, per integration.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"integration"}),
		queueLength: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chainwatch_notification_queue_length",
			Help: "Notifications waiting in each integration's queue.",
		}, []string{"integration"}),
		alerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chainwatch_alerts",
			Help: "Alerts by state (firing, suppressed: silenced or acknowledged, resolved) and severity.",
		}, []string{"state", "severity"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainwatch_alerts_findings_skipped_total",
			Help: "Findings that raised no alert, by reason (no_enterprise, below_threshold).",
		}, []string{"reason"}),
		evaluations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chainwatch_alerts_evaluations_total",
			Help: "Evaluations of detector findings.",
		}),
		archiveErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chainwatch_alerts_archive_failures_total",
			Help: "Failed writes of alert events to the archive (ClickHouse).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.notifications, m.failed, m.latency, m.queueLength, m.alerts,
		m.skipped, m.evaluations, m.archiveErrors} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("alerts: register metrics: %w", err)
	}
	return m, nil
}
