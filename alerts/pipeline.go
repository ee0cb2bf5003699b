package alerts

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// pipeline is the notify side (Alertmanager's notify stages after dedup): one bounded queue per
// integration with its workers; each job goes through the retry stage (Notify with bounded
// attempts and exponential backoff), then, on success, the set-notifies stage (the notification
// log). Queues are created on first use once Run has started.
type pipeline struct {
	queues  map[string]*queue // integration →
	runCtx  context.Context
	workers sync.WaitGroup
	pending atomic.Int64 // jobs queued or being sent
}

type queue struct {
	name string
	ch   chan *job
}

type job struct {
	key         nflogKey
	notifier    Notifier
	alerts      []*Alert
	info        GroupInfo
	firing      map[string]Severity
	alternates  map[string][]string // firing fingerprint → alternateKeys
	resolved    []string
	at          time.Time
	maxAttempts int
	timeout     time.Duration
	retryMin    time.Duration
	retryMax    time.Duration
}

// enqueue hands a job to the integration's queue without blocking. Callers hold m.mu.
func (m *Manager) enqueue(name string, j *job) {
	q := m.queues[name]
	if q == nil {
		if m.runCtx == nil {
			return
		}
		q = &queue{name: name, ch: make(chan *job, m.cfg.Queue.Size)}
		m.queues[name] = q
		for range m.cfg.Queue.Workers {
			m.workers.Add(1)
			go m.worker(m.runCtx, q)
		}
	}
	select {
	case q.ch <- j:
		m.inflight[j.key] = true
		m.pending.Add(1)
		m.met.queueLength.WithLabelValues(name).Inc()
	default:
		m.met.failed.WithLabelValues(name, ReasonQueueFull).Inc()
		m.log.Warn("notification queue full; the group is retried at its next interval", "integration", name, "group", j.key.group)
	}
}

func (m *Manager) worker(ctx context.Context, q *queue) {
	defer m.workers.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-q.ch:
			m.met.queueLength.WithLabelValues(q.name).Dec()
			if m.retryStage(ctx, q.name, j) {
				m.setNotifiesStage(j)
			} else {
				m.mu.Lock()
				delete(m.inflight, j.key)
				m.mu.Unlock()
			}
			m.pending.Add(-1)
		}
	}
}

// retryStage sends one notification with bounded retries and exponential backoff; it reports
// whether the integration accepted it.
func (m *Manager) retryStage(ctx context.Context, name string, j *job) bool {
	backoff := j.retryMin
	for attempt := 1; ; attempt++ {
		nctx, cancel := context.WithTimeout(WithGroupInfo(ctx, j.info), j.timeout)
		start := time.Now()
		retry, err := j.notifier.Notify(nctx, j.alerts...)
		cancel()
		m.met.notifications.WithLabelValues(name).Inc()
		m.met.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		if err == nil {
			return true
		}
		reason := ReasonOf(err)
		if ctx.Err() != nil {
			reason = ReasonTimeout
		}
		m.met.failed.WithLabelValues(name, reason).Inc()
		if !retry || attempt >= j.maxAttempts || ctx.Err() != nil {
			m.log.Warn("notification failed", "integration", name, "group", j.key.group, "alerts", len(j.alerts),
				"attempts", attempt, "retryable", retry, "reason", reason, "err", err)
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, j.retryMax)
	}
}

// setNotifiesStage records a delivered notification in the notification log.
func (m *Manager) setNotifiesStage(j *job) {
	e := &nflogEntry{Group: j.key.group, Integration: j.key.integration, SentAt: j.at, Firing: j.firing,
		Alternates: j.alternates, Resolved: j.resolved}
	m.mu.Lock()
	appendErr, compactErr := m.record(e, m.store)
	m.mu.Unlock()
	if appendErr != nil {
		m.log.Error("persist notification log; a restart may re-send this notification", "group", j.key.group,
			"integration", j.key.integration, "err", appendErr)
	}
	if compactErr != nil {
		m.log.Warn("compact notification log", "err", compactErr)
	}
	m.log.Info("notification sent", "integration", j.key.integration, "group", j.key.group,
		"firing", len(j.firing), "resolved", len(j.resolved))
}
