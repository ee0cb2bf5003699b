package exposure

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names of the exposure collector (docs/monitoring.md).
const (
	MetricExposures      = "chainwatch_exposures"
	MetricChokepoints    = "chainwatch_chokepoints"
	MetricExposureFlags  = "chainwatch_exposure_flags"
	MetricTopExposure    = "chainwatch_top_exposure_score"
	MetricMaxScore       = "chainwatch_exposure_max_score"
	MetricLatestRun      = "chainwatch_exposure_latest_run_timestamp_seconds"
	MetricDataIngested   = "chainwatch_data_last_ingested_timestamp_seconds"
	MetricRefreshSuccess = "chainwatch_exposure_last_refresh_timestamp_seconds"
	MetricRefreshSeconds = "chainwatch_exposure_refresh_duration_seconds"
	MetricRefreshErrors  = "chainwatch_exposure_refresh_errors_total"
	// Refreshes that served the last findings series again: no detector run had succeeded since.
	MetricRefreshUnchanged = "chainwatch_exposure_refresh_findings_unchanged_total"
	// Refreshes that served the last local-sourcing series again: the supply map read had not changed.
	MetricLocalSourcingUnchanged = "chainwatch_exposure_refresh_local_sourcing_unchanged_total"
	// Local-sourcing index of each chain leader (issue 14; SetRegional).
	MetricLocalSourcing       = "chainwatch_local_sourcing_index_ratio"
	MetricLocalSourcingChange = "chainwatch_local_sourcing_index_change_ratio"
)

// Other is the label value that absorbs industries and regions beyond api.exposure.max_label_values.
const Other = "other"

// Unknown replaces an empty label value.
const Unknown = "unknown"

// maxSources bounds the table × source series of chainwatch_data_last_ingested_timestamp_seconds.
const maxSources = 200

// Collector is a prometheus.Collector serving a cached summary of the latest findings. Run refreshes
// the cache every api.exposure.refresh_interval; a scrape never queries ClickHouse. Series:
//
//	chainwatch_exposures{severity,category,industry,region}        latest exposures (enterprise × component)
//	chainwatch_chokepoints{severity,category}                      latest chokepoint findings
//	chainwatch_exposure_flags{flag}                                latest exposures carrying each flag
//	chainwatch_top_exposure_score{rank,enterprise,component}       the api.exposure.top_n highest exposures
//	chainwatch_exposure_max_score                                  highest exposure score
//	chainwatch_exposure_latest_run_timestamp_seconds{detector}     computed_at of each detector's latest run
//	chainwatch_data_last_ingested_timestamp_seconds{table,source}  newest ingested row per event table and source
//	chainwatch_exposure_last_refresh_timestamp_seconds             last successful refresh
//	chainwatch_exposure_refresh_duration_seconds                   duration of the last refresh
//	chainwatch_exposure_refresh_errors_total                       failed refreshes
//	chainwatch_exposure_refresh_findings_unchanged_total           refreshes that read no findings (no run since)
//	chainwatch_local_sourcing_index_ratio{enterprise,region_group}         chain leaders' in-group supply share
//	chainwatch_local_sourcing_index_change_ratio{enterprise,region_group}  its change over 7 days
//
// Cardinality is bounded: severities (4) × categories (6) × industries and regions (each capped at
// api.exposure.max_label_values, the rest summed under "other"); top_n rank series; flags are the
// detectors' fixed set.
type Collector struct {
	store *Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	descExposures, descChokepoints, descFlags, descTop, descMax, descRun, descData,
	descRefresh, descRefreshSeconds, descLocal, descLocalChange *prometheus.Desc
	errors   prometheus.Counter
	regional *Regional // nil: no local-sourcing series

	refreshMu     sync.Mutex          // one refresh at a time: it owns the fields below
	findings      []prometheus.Metric // the findings series of the last read (findingsGauges)
	findingsRuns  map[string]string   // the newest successful run of each detector at that read
	findingsSkips prometheus.Counter  // refreshes that served findings again without reading them
	localMemo     LocalSourcingMemo   // the local-sourcing index of the last read
	localSkips    prometheus.Counter  // refreshes that served it again without reading the supply map

	mu      sync.RWMutex
	metrics []prometheus.Metric // the last successful snapshot
	first   chan struct{}       // closed after the first refresh attempt
	once    sync.Once
}

// NewCollector builds the collector and registers it on reg (nil: not registered). Call Run.
func NewCollector(store *Store, reg prometheus.Registerer, log *slog.Logger) (*Collector, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &Collector{
		store: store, cfg: store.Config(), log: log, now: time.Now, first: make(chan struct{}),
		descExposures: prometheus.NewDesc(MetricExposures,
			"Exposures (enterprise × component findings) of the latest exposure run, by severity band, component category, industry and region.",
			[]string{"severity", "category", "industry", "region"}, nil),
		descChokepoints: prometheus.NewDesc(MetricChokepoints,
			"Chokepoint (卡点) findings of the latest chokepoint run, by severity band and component category.",
			[]string{"severity", "category"}, nil),
		descFlags: prometheus.NewDesc(MetricExposureFlags,
			"Exposures of the latest exposure run carrying each flag (single_source, no_alternate, tts_below_ttr, ...).",
			[]string{"flag"}, nil),
		descTop: prometheus.NewDesc(MetricTopExposure,
			"Score (0-100) of the top-N exposures of the latest exposure run; rank 1 is the highest.",
			[]string{"rank", "enterprise", "component"}, nil),
		descMax: prometheus.NewDesc(MetricMaxScore,
			"Highest exposure score (0-100) of the latest exposure run (0 when there is none).", nil, nil),
		descRun: prometheus.NewDesc(MetricLatestRun,
			"Unix time of the latest run with findings, per detector.", []string{"detector"}, nil),
		descData: prometheus.NewDesc(MetricDataIngested,
			"Unix time of the newest row ingested into ClickHouse, per event table and source.", []string{"table", "source"}, nil),
		descRefresh: prometheus.NewDesc(MetricRefreshSuccess,
			"Unix time of the last successful refresh of the exposure metrics from ClickHouse.", nil, nil),
		descRefreshSeconds: prometheus.NewDesc(MetricRefreshSeconds,
			"Duration of the last refresh of the exposure metrics.", nil, nil),
		descLocal: prometheus.NewDesc(MetricLocalSourcing,
			"Local-sourcing index of each chain leader (链主): share of its supply (count-weighted over components) from suppliers in its region group.",
			[]string{"enterprise", "region_group"}, nil),
		descLocalChange: prometheus.NewDesc(MetricLocalSourcingChange,
			"Change of the local-sourcing index over the last 7 days (supply map as of now vs 7 days ago).",
			[]string{"enterprise", "region_group"}, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricRefreshErrors,
			Help: "Refreshes of the exposure metrics that failed (the previous values are kept)."}),
		findingsSkips: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricRefreshUnchanged,
			Help: "Refreshes of the exposure metrics that read no findings: no detector run had succeeded since the last read, whose series they served again."}),
		localSkips: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricLocalSourcingUnchanged,
			Help: "Refreshes of the exposure metrics that served the local-sourcing index again without reading the supply map: nothing it reads had changed since the last read."}),
	}
	if reg != nil {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.descExposures, c.descChokepoints, c.descFlags, c.descTop, c.descMax,
		c.descRun, c.descData, c.descRefresh, c.descRefreshSeconds, c.descLocal, c.descLocalChange} {
		ch <- d
	}
	c.errors.Describe(ch)
	c.findingsSkips.Describe(ch)
	c.localSkips.Describe(ch)
}

// SetRegional adds the local-sourcing series, read at each refresh (call before Run).
func (c *Collector) SetRegional(r *Regional) { c.regional = r }

// localSourcing appends the local-sourcing gauges of at most max_label_values chain leaders. The
// index is computed again only when the supply map it reads may have changed since the last
// refresh (Regional.LocalSourcingSince); otherwise the last rows are served again.
func (c *Collector) localSourcing(ctx context.Context, gauge func(*prometheus.Desc, float64, ...string)) error {
	if c.regional == nil {
		return nil
	}
	rows, reused, err := c.regional.LocalSourcingSince(ctx, c.now(), &c.localMemo)
	if err != nil {
		return err
	}
	if reused {
		c.localSkips.Inc()
	}
	for i, r := range rows {
		if i == c.cfg.MaxLabelValues {
			break
		}
		gauge(c.descLocal, r.Index, r.EnterpriseID, r.RegionGroup)
		gauge(c.descLocalChange, r.Change, r.EnterpriseID, r.RegionGroup)
	}
	return nil
}

// Collect implements prometheus.Collector: it serves the cached snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	ms := c.metrics
	c.mu.RUnlock()
	for _, m := range ms {
		ch <- m
	}
	c.errors.Collect(ch)
	c.findingsSkips.Collect(ch)
	c.localSkips.Collect(ch)
}

// Run refreshes now and then every refresh_interval until ctx ends.
func (c *Collector) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.RefreshInterval)
	defer t.Stop()
	for {
		if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("exposure metrics refresh failed; keeping the previous values", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refreshed is closed once the first refresh has been attempted (tests, readiness).
func (c *Collector) Refreshed() <-chan struct{} { return c.first }

// Refresh reads ClickHouse once and replaces the snapshot. On error the old snapshot stays.
func (c *Collector) Refresh(ctx context.Context) error {
	defer c.once.Do(func() { close(c.first) })
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	start := c.now()
	ms, err := c.snapshot(ctx)
	if err != nil {
		c.errors.Inc()
		return err
	}
	ms = append(ms,
		prometheus.MustNewConstMetric(c.descRefresh, prometheus.GaugeValue, float64(c.now().UnixMilli())/1000),
		prometheus.MustNewConstMetric(c.descRefreshSeconds, prometheus.GaugeValue, c.now().Sub(start).Seconds()))
	c.mu.Lock()
	c.metrics = ms
	c.mu.Unlock()
	return nil
}

func (c *Collector) snapshot(ctx context.Context) ([]prometheus.Metric, error) {
	var ms []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ms = append(ms, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	exists, err := TableExists(ctx, c.store.q, FindingsTable)
	if err != nil {
		return nil, err
	}
	if exists {
		fm, err := c.findingsGauges(ctx)
		if err != nil {
			return nil, err
		}
		ms = append(ms, fm...)
	} else {
		gauge(c.descMax, 0)
	}
	fresh, err := c.store.Freshness(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	if len(fresh) > maxSources {
		sort.Slice(fresh, func(i, j int) bool { return fresh[i].LastIngested.After(fresh[j].LastIngested) })
		fresh = fresh[:maxSources]
	}
	for _, f := range fresh {
		gauge(c.descData, float64(f.LastIngested.Unix()), f.Table, label(f.Source))
	}
	if err := c.localSourcing(ctx, gauge); err != nil {
		return nil, err
	}
	return ms, nil
}

// findingsGauges are the series read from the latest findings (exposures, chokepoints, flags,
// top-N, max score, latest runs). The latest findings change only when a detector run succeeds, so
// each refresh first reads the newest successful run of each detector (one small query on
// detector_runs, Store.LatestRunIDs) and reads the findings only when those differ from the last
// read's: six queries over the latest-findings chain, which cost ClickHouse 18.16 about 0.1 s of
// CPU each even on an empty findings table, and more with the findings a full run writes. While
// no detector has succeeded there are no findings to read: the max score is 0 and nothing else.
// A run that succeeds between the two reads is read again at the next refresh.
func (c *Collector) findingsGauges(ctx context.Context) ([]prometheus.Metric, error) {
	runs, err := c.store.LatestRunIDs(ctx)
	if err != nil {
		return nil, err
	}
	if c.findings != nil && maps.Equal(runs, c.findingsRuns) {
		c.findingsSkips.Inc()
		return c.findings, nil
	}
	var ms []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ms = append(ms, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	if len(runs) == 0 {
		gauge(c.descMax, 0)
		c.findings, c.findingsRuns = ms, runs
		return ms, nil
	}
	counts, err := c.store.Counts(ctx, c.cfg.Detector, time.Time{})
	if err != nil {
		return nil, err
	}
	for _, x := range c.bound(counts) {
		gauge(c.descExposures, float64(x.N), x.Severity, x.Category, x.Industry, x.Region)
	}
	choke, err := c.store.Counts(ctx, c.cfg.ChokepointDetector, time.Time{})
	if err != nil {
		return nil, err
	}
	byKey := map[[2]string]uint64{}
	for _, x := range choke {
		byKey[[2]string{x.Severity, label(x.Category)}] += x.N
	}
	for k, n := range byKey {
		gauge(c.descChokepoints, float64(n), k[0], k[1])
	}
	flags, err := c.store.FlagCounts(ctx, c.cfg.Detector, time.Time{})
	if err != nil {
		return nil, err
	}
	for f, n := range flags {
		gauge(c.descFlags, float64(n), f)
	}
	top, _, err := c.store.Findings(ctx, Filter{Detectors: []string{c.cfg.Detector}}, Page{Sort: "-score", Limit: c.cfg.TopN})
	if err != nil {
		return nil, err
	}
	maxScore := 0.0
	for i, f := range top {
		ent, comp := f.EnterpriseID, f.ComponentID
		if ent == "" && comp == "" {
			comp = f.Subject
		}
		gauge(c.descTop, f.Score, strconv.Itoa(i+1), label(ent), label(comp))
		if i == 0 {
			maxScore = f.Score
		}
	}
	gauge(c.descMax, maxScore)
	latest, err := c.store.Runs(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	for _, r := range latest {
		gauge(c.descRun, float64(r.ComputedAt.Unix()), r.Detector)
	}
	c.findings, c.findingsRuns = ms, runs
	return ms, nil
}

// bound caps the distinct industry and region values at max_label_values (largest counts kept),
// summing the rest under "other", and replaces empty values with "unknown".
func (c *Collector) bound(counts []Count) []Count {
	keep := func(get func(Count) string) map[string]bool {
		tot := map[string]uint64{}
		for _, x := range counts {
			tot[label(get(x))] += x.N
		}
		names := make([]string, 0, len(tot))
		for n := range tot {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if tot[names[i]] != tot[names[j]] {
				return tot[names[i]] > tot[names[j]]
			}
			return names[i] < names[j]
		})
		k := map[string]bool{}
		for i, n := range names {
			if i < c.cfg.MaxLabelValues {
				k[n] = true
			}
		}
		return k
	}
	inds := keep(func(x Count) string { return x.Industry })
	regs := keep(func(x Count) string { return x.Region })
	type key struct{ s, c, i, r string }
	sum := map[key]uint64{}
	for _, x := range counts {
		k := key{x.Severity, label(x.Category), label(x.Industry), label(x.Region)}
		if !inds[k.i] {
			k.i = Other
		}
		if !regs[k.r] {
			k.r = Other
		}
		sum[k] += x.N
	}
	out := make([]Count, 0, len(sum))
	for k, n := range sum {
		out = append(out, Count{Severity: k.s, Category: k.c, Industry: k.i, Region: k.r, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		if a.Industry != b.Industry {
			return a.Industry < b.Industry
		}
		return a.Region < b.Region
	})
	return out
}

func label(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

// ErrNotRefreshed is returned by WaitRefreshed when ctx ends first.
var ErrNotRefreshed = errors.New("exposure metrics: not refreshed yet")

// WaitRefreshed blocks until the first refresh was attempted or ctx ends.
func (c *Collector) WaitRefreshed(ctx context.Context) error {
	select {
	case <-c.first:
		return nil
	case <-ctx.Done():
		return errors.Join(ErrNotRefreshed, ctx.Err())
	}
}
