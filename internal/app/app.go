// Package app wires chainwatch together: it is the only package that imports collectors, the sink,
// detectors and alerts at once. cmd/chainwatch calls it; tests embed it.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report"
	"github.com/chainwatch/chainwatch/internal/sink"
)

// Version is set at build time with -ldflags "-X github.com/chainwatch/chainwatch/internal/app.Version=...".
var Version = "dev"

// Options are the process-level inputs of Run besides the config.
type Options struct {
	Log      *slog.Logger
	Registry *prometheus.Registry // nil: a new one
	// Ready, if set, receives the HTTP listen address once the daemon serves HTTP and the sink has started.
	Ready chan<- string
	// ConfigPath is re-read on reload (SIGHUP or POST /-/reload); empty means defaults + environment.
	ConfigPath string
	// Reload, if set, triggers a reload when it receives (cmd wires SIGHUP to it).
	Reload <-chan struct{}
	// DetectNow, if set, starts a detector run when it receives.
	DetectNow <-chan struct{}
	// OnDetect, if set, is called after every detector run and alert evaluation.
	OnDetect func(detectors.RunSummary, error)
	// AlertOptions are passed to the alert manager (tests inject a clock).
	AlertOptions []alerts.Option
}

// Run is `chainwatch serve`: migrate (if configured), ensure topics, then run the sink, the lag
// poller and the HTTP server until ctx ends; then drain and return.
func Run(ctx context.Context, cfg config.Config, opt Options) error {
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	reg := opt.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	}
	conn, err := connectClickHouse(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if cfg.ClickHouse.MigrateOnRun {
		n, err := chstore.Migrate(ctx, conn)
		if err != nil {
			return err
		}
		log.Info("clickhouse migrations applied", "new", n, "database", cfg.ClickHouse.Database)
	}
	if cfg.Kafka.CreateTopics {
		if err := retryUntil(ctx, log, "kafka topics", func() error { return bus.EnsureTopics(ctx, cfg.Kafka) }); err != nil {
			return err
		}
	}
	producer := bus.NewProducer(cfg.Kafka, reg)
	defer producer.Close()

	// Collectors on their schedules, emitting through the producer.
	colMetrics, err := collectors.NewMetrics(reg)
	if err != nil {
		return err
	}
	colReg, err := collectors.NewRegistry(cfg.Collectors, collectors.Deps{Logger: log.With("component", "collectors"), Version: Version})
	if err != nil {
		return err
	}
	// Detectors, then alerts on their findings.
	runner, err := detectors.NewRunner(conn, cfg.Detectors, reg, log.With("component", "detectors"))
	if err != nil {
		return err
	}
	cons := &consumption{}
	var mgr *alerts.Manager
	if cfg.Alerts.Enabled {
		if mgr, err = newAlerts(cfg, conn, cons, reg, log.With("component", "alerts"), opt.AlertOptions...); err != nil {
			return err
		}
	}

	h := &health{cfg: cfg, conn: conn}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	rl := &reloader{path: opt.ConfigPath, mgr: mgr, log: log}
	mux.HandleFunc("POST /-/reload", rl.serveHTTP)
	trig := newDetectTrigger()
	mux.HandleFunc("POST /-/detect", trig.serveHTTP)
	// Exposure metrics (bounded cardinality), the weekly digest and the authenticated API v1.
	store := exposure.NewStore(conn, cfg.API.Exposure)
	expo, err := exposure.NewCollector(store, reg, log.With("component", "exposure"))
	if err != nil {
		return err
	}
	digests := report.New(conn, cfg.API.Exposure, cfg.Digest, log.With("component", "digest"))
	digests.SetWhatIf(digestWhatIf(conn, cfg.WhatIf, log.With("component", "whatif")))
	var digestSched *report.Scheduler
	if cfg.Digest.Enabled {
		mailer, err := digestMailer(cfg)
		if err != nil {
			return err
		}
		if digestSched, err = report.NewScheduler(digests, mailer); err != nil {
			return err
		}
	}
	if cfg.API.Enabled {
		deps := api.Deps{Store: store, Digests: digests, Scenarios: &scenarioService{conn, cfg.WhatIf, log.With("component", "whatif")}}
		if mgr != nil {
			deps.Alerts = api.FromAlertsManager(mgr)
		}
		mux.Handle(api.Prefix, api.New(deps, cfg.API, log.With("component", "api")))
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: listen %s: %w", cfg.HTTP.Listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	topics := bus.Topics(cfg.Kafka.TopicPrefix)
	sinkMetrics := sink.NewMetrics(reg)
	var readers []*kafka.Reader
	var sinks []*sink.Sink
	for i := 0; i < cfg.Sink.Workers; i++ { // workers share the group: Kafka spreads partitions over them
		r := sink.NewReader(cfg.Kafka, topics, log.With("component", "sink", "worker", i))
		readers = append(readers, r)
		sinks = append(sinks, sink.NewWithMetrics(cfg.Sink, cfg.Kafka.TopicPrefix, r, chstore.Inserter{Conn: conn}, producer,
			sinkMetrics, log.With("component", "sink", "worker", i)))
	}

	var wg sync.WaitGroup
	errc := make(chan error, 4+len(sinks))
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	sinkCtx, stopSink := context.WithCancel(ctx)
	defer stopSink()
	for _, sk := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sk.Run(sinkCtx); err != nil {
				errc <- err
			}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); pollLag(sinkCtx, cfg.Kafka, topics, reg, log) }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		collectors.Schedule(sinkCtx, colReg.Scheduled(), producer, colMetrics, log.With("component", "collectors"))
	}()
	if mgr != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := mgr.Run(sinkCtx); err != nil {
				errc <- err
			}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); expo.Run(sinkCtx) }()
	if digestSched != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := digestSched.Run(sinkCtx); err != nil && sinkCtx.Err() == nil {
				errc <- err
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		detectLoop(sinkCtx, runner, conn, mgr, cons, cfg.Detectors.Interval, trig, opt.OnDetect, log.With("component", "detectors"))
	}()
	if opt.DetectNow != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-sinkCtx.Done():
					return
				case <-opt.DetectNow:
					trig.poke()
				}
			}
		}()
	}
	if opt.Reload != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-sinkCtx.Done():
					return
				case <-opt.Reload:
					if err := rl.reload(); err != nil {
						log.Error("reload failed; keeping the running configuration", "err", err)
					}
				}
			}
		}()
	}

	log.Info("chainwatch serving", "http", ln.Addr().String(), "kafka", cfg.Kafka.Brokers, "clickhouse", cfg.ClickHouse.Addr, "version", Version)
	if opt.Ready != nil {
		opt.Ready <- ln.Addr().String()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	stopSink()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Sink.ShutdownWait+5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	wg.Wait()
	for _, r := range readers {
		_ = r.Close()
	}
	close(errc)
	for e := range errc {
		runErr = errors.Join(runErr, e)
	}
	log.Info("chainwatch stopped")
	return runErr
}

func connectClickHouse(ctx context.Context, cfg config.Config, log *slog.Logger) (driver.Conn, error) {
	var conn driver.Conn
	err := retryUntil(ctx, log, "clickhouse", func() error {
		c, err := chstore.Open(ctx, cfg.ClickHouse, log)
		if err != nil {
			return err
		}
		if err := c.Ping(ctx); err != nil {
			c.Close()
			return fmt.Errorf("clickhouse: ping: %w", err)
		}
		conn = c
		return nil
	})
	return conn, err
}

// retryUntil retries f with backoff (1s..15s) until it succeeds or ctx ends: the daemon waits for
// its dependencies at start instead of failing.
func retryUntil(ctx context.Context, log *slog.Logger, what string, f func() error) error {
	wait := time.Second
	for {
		err := f()
		if err == nil {
			return nil
		}
		log.Warn("dependency not ready; retrying", "what", what, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, errors.Join(err, ctx.Err()))
		case <-time.After(wait):
		}
		wait = min(wait*2, 15*time.Second)
	}
}

func pollLag(ctx context.Context, cfg config.KafkaConfig, topics []string, reg prometheus.Registerer, log *slog.Logger) {
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chainwatch_sink_consumer_lag_records",
		Help: "Records in Kafka not yet committed by the sink's consumer group, by topic."}, []string{"topic"})
	reg.MustRegister(lag)
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := bus.Lag(qctx, cfg, cfg.GroupID, topics)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				log.Debug("consumer lag poll failed", "err", err)
			}
		} else {
			for topic, n := range m {
				lag.WithLabelValues(topic).Set(float64(n))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type health struct {
	cfg  config.Config
	conn driver.Conn
}

func (h *health) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz: Kafka and ClickHouse reachable, migrations applied.
func (h *health) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var problems []string
	if err := bus.Ping(ctx, h.cfg.Kafka); err != nil {
		problems = append(problems, "kafka: "+err.Error())
	}
	if err := h.conn.Ping(ctx); err != nil {
		problems = append(problems, "clickhouse: "+err.Error())
	} else if pend, err := chstore.Pending(ctx, h.conn); err != nil {
		problems = append(problems, "migrations: "+err.Error())
	} else if len(pend) > 0 {
		problems = append(problems, fmt.Sprintf("migrations: %d pending %v", len(pend), pend))
	}
	w.Header().Set("Content-Type", "text/plain")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, p := range problems {
			_, _ = w.Write([]byte(p + "\n"))
		}
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// reloader re-reads the config and applies what can change at run time (alert rules and routes).
type reloader struct {
	path string
	mgr  *alerts.Manager
	log  *slog.Logger
	mu   sync.Mutex
}

func (r *reloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := config.Load(r.path, nil)
	if err != nil {
		return err
	}
	if r.mgr != nil {
		if err := r.mgr.Reload(cfg.Alerts); err != nil {
			return err
		}
	}
	r.log.Info("configuration reloaded", "path", r.path)
	return nil
}

func (r *reloader) serveHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.reload(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": "reload_failed", "message": err.Error()})
		return
	}
	_, _ = w.Write([]byte(`{"status":"reloaded"}` + "\n"))
}

// Migrate is `chainwatch migrate`.
func Migrate(ctx context.Context, cfg config.Config, log *slog.Logger) (int, error) {
	conn, err := chstore.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return chstore.Migrate(ctx, conn)
}
