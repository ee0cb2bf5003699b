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

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/channels"
	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chainmap"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report"
	"github.com/chainwatch/chainwatch/internal/sink"
	"github.com/chainwatch/chainwatch/schemas"
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

// App is the daemon of `chainwatch serve`, built by New, run by Start and drained by Stop. Tests
// embed it; cmd/chainwatch wires the process signals to it (SIGINT/SIGTERM end the context given to
// Run, SIGHUP calls Reload).
type App struct {
	cfg config.Config
	opt Options
	log *slog.Logger
	reg *prometheus.Registry

	conn        driver.Conn
	producer    *bus.Producer
	colMetrics  *collectors.Metrics
	colReg      *collectors.Registry
	runner      *detectors.Runner
	mgr         *alerts.Manager
	cons        *consumption
	trig        *detectTrigger
	route       *leaderRoute // POST /-/detect: served here on the leader, forwarded by a follower
	reloader    *reloader
	store       *exposure.Store
	regional    *exposure.Regional // local sourcing, 卡点 ledger, demand board (issue 14)
	digestSvc   *report.Service
	expo        *exposure.Collector
	digestSched *report.Scheduler
	srv         *http.Server
	ln          net.Listener
	readers     []*sink.GroupReader
	sinkConn    driver.Conn // the sink's pool (buildSinks)
	sinks       []*sink.Sink

	stop func() // cancels the context of the background loops (set by Start)
	wg   sync.WaitGroup
	errc chan error
}

// Run is `chainwatch serve`: New, Start, then wait until ctx ends or a component fails; then Stop.
func Run(ctx context.Context, cfg config.Config, opt Options) error {
	a, err := New(ctx, cfg, opt)
	if err != nil {
		return err
	}
	var runErr error
	if runErr = a.Start(ctx); runErr == nil {
		select {
		case <-ctx.Done():
		case runErr = <-a.errc:
		}
	}
	return errors.Join(runErr, a.Stop(context.WithoutCancel(ctx)))
}

// New connects to ClickHouse (waiting for it), migrates (if configured), ensures the Kafka topics and
// builds every component and the HTTP listener. ctx bounds only this start-up. On an error everything
// built so far is closed.
func New(ctx context.Context, cfg config.Config, opt Options) (a *App, err error) {
	a = &App{cfg: cfg, opt: opt, log: opt.Log, reg: opt.Registry, cons: &consumption{}, trig: newDetectTrigger()}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.reg == nil {
		a.reg = prometheus.NewRegistry()
		a.reg.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	}
	defer func() {
		if err != nil {
			a.close()
			a = nil
		}
	}()
	if err := a.connect(ctx); err != nil {
		return a, err
	}
	if err := a.buildComponents(); err != nil {
		return a, err
	}
	mux, err := a.buildHTTP()
	if err != nil {
		return a, err
	}
	if a.ln, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		return a, fmt.Errorf("http: listen %s: %w", cfg.HTTP.Listen, err)
	}
	a.route.self = advertiseURL(cfg.HTTP.AdvertiseURL, a.ln.Addr())
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.buildSinks()
	return a, nil
}

// connect opens ClickHouse (migrating it if configured), the Kafka topics and the producer.
func (a *App) connect(ctx context.Context) error {
	var err error
	if a.conn, err = connectClickHouse(ctx, a.cfg, a.log); err != nil {
		return err
	}
	sc := a.cfg.ClickHouse
	sc.CreateDB = false
	sc.MaxOpenConns = sinkPoolSize(a.cfg.Sink.Workers)
	if a.sinkConn, err = chstore.Open(ctx, sc, a.log); err != nil {
		return err
	}
	if a.cfg.ClickHouse.Cluster != "" {
		if err := chstore.CheckClusterSettings(ctx, a.conn); err != nil {
			return err
		}
	}
	if a.cfg.ClickHouse.MigrateOnRun {
		n, err := chstore.MigrateConfig(ctx, a.conn, a.cfg.ClickHouse)
		if err != nil {
			return err
		}
		a.log.Info("clickhouse migrations applied", "new", n, "database", a.cfg.ClickHouse.Database)
	}
	if a.cfg.Kafka.CreateTopics {
		if err := retryUntil(ctx, a.log, "kafka topics", func() error { return bus.EnsureTopics(ctx, a.cfg.Kafka) }); err != nil {
			return err
		}
	}
	a.producer = bus.NewProducer(a.cfg.Kafka, a.reg)
	return nil
}

// buildComponents builds the collectors, the detector runner, the alert manager, the exposure
// metrics and the digest scheduler.
func (a *App) buildComponents() error {
	cfg, log := a.cfg, a.log
	var err error
	if a.colMetrics, err = collectors.NewMetrics(a.reg); err != nil {
		return err
	}
	if a.colReg, err = collectors.NewRegistry(cfg.Collectors, collectors.Deps{Logger: log.With("component", "collectors"), Version: Version}); err != nil {
		return err
	}
	if a.runner, err = detectors.NewRunner(a.conn, cfg.Detectors, a.reg, log.With("component", "detectors")); err != nil {
		return err
	}
	if cfg.Alerts.Enabled {
		if a.mgr, err = newAlerts(cfg, a.conn, a.cons, a.reg, log.With("component", "alerts"), a.opt.AlertOptions...); err != nil {
			return err
		}
	}
	a.reloader = &reloader{path: a.opt.ConfigPath, mgr: a.mgr, log: log}
	a.store = exposure.NewStore(a.conn, cfg.API.Exposure)
	if a.expo, err = exposure.NewCollector(a.store, a.reg, log.With("component", "exposure")); err != nil {
		return err
	}
	a.regional = exposure.NewRegional(a.store, cfg.Detectors)
	a.expo.SetRegional(a.regional)
	a.digestSvc = report.New(a.conn, cfg.API.Exposure, cfg.Digest, log.With("component", "digest"))
	a.digestSvc.SetWhatIf(digestWhatIf(a.conn, cfg.WhatIf, log.With("component", "whatif")))
	a.digestSvc.SetRegional(a.regional)
	if cfg.Digest.Enabled {
		mailer, err := digestMailer(cfg)
		if err != nil {
			return err
		}
		if a.digestSched, err = report.NewScheduler(a.digestSvc, mailer); err != nil {
			return err
		}
	}
	return nil
}

// buildHTTP mounts /metrics, the health and control endpoints and (if enabled) the API v1.
func (a *App) buildHTTP() (*http.ServeMux, error) {
	h := &health{cfg: a.cfg, conn: a.conn}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	// The control endpoints take the API's operate tokens and share its failed-authentication budget.
	guard := api.NewGuard(a.cfg.API, a.log.With("component", "auth"))
	mux.Handle("POST /-/reload", guard.Require(api.RoleOperate, http.HandlerFunc(a.reloader.serveHTTP)))
	a.route = newLeaderRoute(a.cfg.ClickHouse.Cluster != "", currentLeader(a.conn), http.HandlerFunc(a.trig.serveHTTP))
	mux.Handle("POST /-/detect", guard.Require(api.RoleOperate, a.route))
	if a.cfg.API.Enabled {
		deps := api.Deps{Store: a.store, Digests: a.digestSvc, DetectorNames: detectors.Names, Guard: guard, Regional: a.regional,
			Scenarios: &scenarioService{a.conn, a.cfg.WhatIf, a.log.With("component", "whatif")}}
		if a.mgr != nil {
			deps.Alerts = api.FromAlertsManager(a.mgr)
		}
		chains, err := a.cfg.Chains.Load()
		if err != nil {
			return nil, err
		}
		deps.Chains = chainmap.NewService(chains, chainmap.NewStore(a.conn, a.cfg.API.Exposure.Detector), chainmap.Options{
			Home: a.cfg.Detectors.HomeISO3, Severity: a.cfg.API.Exposure.Severity, Regions: chainmap.GroupRegions{Config: a.cfg.Detectors.Regions}})
		mux.Handle(api.Prefix, api.New(deps, a.cfg.API, a.log.With("component", "api")))
	}
	return mux, nil
}

// buildSinks builds sink.workers consumers; they share the group, so Kafka spreads the partitions.
func (a *App) buildSinks() {
	topics := bus.Topics(a.cfg.Kafka.TopicPrefix)
	m := sink.NewMetrics(a.reg)
	for i := range a.cfg.Sink.Workers {
		log := a.log.With("component", "sink", "worker", i)
		r := sink.NewGroupReader(a.cfg.Kafka, a.cfg.Sink, topics, log)
		a.readers = append(a.readers, r)
		s := sink.NewWithMetrics(a.cfg.Sink, a.cfg.Kafka.TopicPrefix, r, chstore.NewInsertStreams(a.sinkConn), a.producer, m, log)
		s.OnStored(a.trig.stored) // availability rows → event-driven detector run
		a.sinks = append(a.sinks, s)
	}
}

// Start serves HTTP and starts the sink workers, the lag poller, the collectors' schedules, the alert
// manager, the exposure metrics, the digest scheduler and the detector loop, then reports the listen
// address on Options.Ready. They run until Stop (ctx is only their parent context).
func (a *App) Start(ctx context.Context) error {
	if a.stop != nil {
		return errors.New("app: already started")
	}
	ctx, a.stop = context.WithCancel(ctx)
	a.errc = make(chan error, 4+len(a.sinks))
	a.goFail(func() error {
		if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	for _, sk := range a.sinks {
		a.goFail(func() error { return sk.Run(ctx) })
	}
	topics := bus.Topics(a.cfg.Kafka.TopicPrefix)
	a.goRun(func() { pollLag(ctx, a.cfg.Kafka, topics, a.reg, a.log) })
	a.goRun(func() {
		collectors.Schedule(ctx, a.colReg.Scheduled(), a.producer, a.colMetrics, a.log.With("component", "collectors"))
	})
	if a.mgr != nil {
		a.goFail(func() error { return a.mgr.Run(ctx) })
	}
	a.goRun(func() { a.expo.Run(ctx) })
	if err := a.startLeaderWork(ctx); err != nil { // detectors and digests; under the lease in cluster mode (lease.go)
		return err
	}
	a.goRun(func() { a.forward(ctx) })
	a.log.Info("chainwatch serving", "http", a.Addr(), "kafka", a.cfg.Kafka.Brokers, "clickhouse", a.cfg.ClickHouse.Addr, "version", Version)
	if a.opt.Ready != nil {
		a.opt.Ready <- a.Addr()
	}
	return nil
}

// forward turns Options.DetectNow and Options.Reload into detector runs and reloads.
func (a *App) forward(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.opt.DetectNow: // a nil channel never receives
			a.trig.poke()
		case <-a.opt.Reload:
			if err := a.Reload(); err != nil {
				a.log.Error("reload failed; keeping the running configuration", "err", err)
			}
		}
	}
}

func (a *App) goRun(f func()) {
	a.wg.Add(1)
	go func() { defer a.wg.Done(); f() }()
}

func (a *App) goFail(f func() error) {
	a.goRun(func() {
		if err := f(); err != nil {
			a.errc <- err
		}
	})
}

// Err receives the first error of a component that failed while running.
func (a *App) Err() <-chan error { return a.errc }

// Addr is the HTTP listen address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Reload re-reads the config file and applies what can change at run time.
func (a *App) Reload() error { return a.reloader.reload() }

// Stop ends the background loops (the sinks drain within sink.shutdown_wait), shuts the HTTP server
// down, closes the Kafka readers, the producer and ClickHouse, and returns the components' errors.
func (a *App) Stop(ctx context.Context) error {
	if a.stop != nil {
		a.stop()
	}
	shutCtx, cancel := context.WithTimeout(ctx, a.cfg.Sink.ShutdownWait+5*time.Second)
	defer cancel()
	var errs []error
	if a.srv != nil {
		_ = a.srv.Shutdown(shutCtx)
	}
	a.wg.Wait()
	if a.errc != nil {
		close(a.errc)
		for e := range a.errc {
			errs = append(errs, e)
		}
	}
	a.close()
	a.log.Info("chainwatch stopped")
	return errors.Join(errs...)
}

// close releases what New opened (readers, listener, producer, ClickHouse).
func (a *App) close() {
	for _, r := range a.readers {
		_ = r.Close()
	}
	if a.ln != nil {
		_ = a.ln.Close() // already closed by Shutdown once served
	}
	if a.producer != nil {
		_ = a.producer.Close()
	}
	if a.conn != nil {
		_ = a.conn.Close()
	}
	if a.sinkConn != nil {
		_ = a.sinkConn.Close()
	}
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

func pollLag(ctx context.Context, cfg bus.Config, topics []string, reg prometheus.Registerer, log *slog.Logger) {
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
		// The integrations are rebuilt from the new config, so a reload can add, change or
		// remove a channel; nothing is applied when either part is invalid.
		nreg, err := channels.Build(cfg.Alerts, channels.Options{Log: r.log})
		if err != nil {
			return fmt.Errorf("reload: alerts channels: %w", err)
		}
		if err := r.mgr.Reload(cfg.Alerts, nreg); err != nil {
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
	return chstore.MigrateConfig(ctx, conn, cfg.ClickHouse)
}

// sinkPoolSize is the connections of the sink's own pool for this many workers: an INSERT kept
// open across batches holds a connection per table (sink.insert_rows), twice while a full group
// ends beside the next one, and two more for the INSERTs of their own between them (dead letters,
// a batch that is not behind).
func sinkPoolSize(workers int) int { return workers * (2*len(schemas.Kinds()) + 2) }
