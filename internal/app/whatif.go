package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors/supplygraph"
	"github.com/chainwatch/chainwatch/detectors/whatif"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/config"
	"github.com/chainwatch/chainwatch/internal/report"
	"github.com/chainwatch/chainwatch/schemas"
)

// cmdWhatIf runs a scenario file: chainwatch whatif [--format table|json] [--stress] [--store] scenario.yaml
func cmdWhatIf(ctx context.Context, in Invocation) error {
	fs := flag.NewFlagSet("whatif", flag.ContinueOnError)
	format := fs.String("format", "table", "output: table or json")
	stress := fs.Bool("stress", false, "also run the reverse stress test (smallest single shock per 链主 product)")
	store := fs.Bool("store", false, "store the run in ClickHouse (scenario_runs, scenario_stops)")
	tiers := fs.Bool("tiers", false, "also print the tier-N single sources and the top 10 criticalities (impact if removed)")
	if err := fs.Parse(in.Args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*format != "table" && *format != "json") {
		return errors.New("usage: chainwatch whatif [--format table|json] [--stress] [--tiers] [--store] scenario.yaml")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	sc, err := whatif.ParseScenario(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	en, err := whatIfEngine(ctx, in.Config, sc.Data, filepath.Dir(fs.Arg(0)), in.Log)
	if err != nil {
		return err
	}
	res, err := en.Run(sc)
	if err != nil {
		return err
	}
	var rs []whatif.StressResult
	if *stress {
		if rs, err = en.ReverseStress(res.Start); err != nil {
			return err
		}
	}
	if *store {
		id, err := storeRun(ctx, in.Config, res, in.Log)
		if err != nil {
			return err
		}
		in.Log.Info("scenario run stored", "run_id", id)
	}
	if *format == "json" {
		enc := json.NewEncoder(in.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*whatif.Result
			Stress []whatif.StressResult `json:"reverse_stress,omitempty"`
		}{res, rs})
	}
	if err := whatif.WriteTable(in.Stdout, res); err != nil {
		return err
	}
	if *tiers {
		fmt.Fprintln(in.Stdout, "\ntier-N single sources and criticality:")
		if err := whatif.WriteTiers(in.Stdout, en, 10); err != nil {
			return err
		}
	}
	if *stress {
		fmt.Fprintln(in.Stdout, "\nreverse stress test (each candidate lasts whatif.horizon_days):")
		return whatif.WriteStressTable(in.Stdout, rs)
	}
	return nil
}

func storeRun(ctx context.Context, cfg config.Config, res *whatif.Result, log *slog.Logger) (string, error) {
	conn, err := chstore.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return whatif.Save(ctx, conn, res, time.Now())
}

// whatIfEngine builds the engine from the scenario's data files (relative to dir) or, when the
// scenario names no supply map, from ClickHouse.
func whatIfEngine(ctx context.Context, cfg config.Config, data whatif.Data, dir string, log *slog.Logger) (*whatif.Engine, error) {
	var recs []schemas.Record
	var err error
	if data.SupplyMap == "" {
		conn, err := chstore.Open(ctx, cfg.ClickHouse, log)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if recs, err = whatif.LoadRecords(ctx, conn); err != nil {
			return nil, err
		}
	} else if recs, err = importScenarioData(ctx, cfg, data, dir, log); err != nil {
		return nil, err
	}
	return newEngine(recs, cfg.WhatIf, log)
}

// newEngine builds the supply graph (a BOM cycle is an error naming it) and the engine.
func newEngine(recs []schemas.Record, cfg whatif.Config, log *slog.Logger) (*whatif.Engine, error) {
	b := supplygraph.NewBuilder()
	for _, r := range recs {
		b.Add(r)
	}
	g, err := b.Build()
	if err != nil {
		return nil, err
	}
	for _, s := range b.Skipped {
		log.Warn("supply graph: record skipped", "detail", s)
	}
	return whatif.New(g, whatif.NewExposure(recs), cfg), nil
}

// importScenarioData imports the scenario's files into memory. Rejected rows are counted and
// logged (they are not in the graph); the run goes on without them.
func importScenarioData(ctx context.Context, cfg config.Config, data whatif.Data, dir string, log *slog.Logger) ([]schemas.Record, error) {
	files := [][2]string{{collectors.ImportSupplyMap, data.SupplyMap}}
	if data.Substitutions != "" {
		files = append(files, [2]string{collectors.ImportSubstitution, data.Substitutions})
	}
	for _, p := range data.Production {
		files = append(files, [2]string{collectors.ImportProduction, p})
	}
	for _, p := range data.Trade {
		files = append(files, [2]string{collectors.ImportTrade, p})
	}
	mem := &recordSink{}
	for _, f := range files {
		path := f[1]
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		st, err := collectors.Import(ctx, f[0], path, mem, collectors.ImportOptions{Logger: log, HomeCountry: cfg.Collectors.HomeCountry})
		if err != nil {
			return nil, fmt.Errorf("whatif data %s %s: %w", f[0], path, err)
		}
		if n := st.RejectedTotal(); n > 0 {
			log.Warn("whatif data: rows rejected", "kind", f[0], "path", path, "rejected", n, "by_reason", st.Rejected)
		}
	}
	return mem.recs, nil
}

// recordSink is an in-memory collectors.Emitter that keeps the decoded records.
type recordSink struct {
	recs    []schemas.Record
	rejects int
}

func (m *recordSink) Emit(_ context.Context, envs ...schemas.Envelope) error {
	for _, env := range envs {
		b, err := json.Marshal(env)
		if err != nil {
			return fmt.Errorf("whatif data: %w", err)
		}
		_, rec, err := schemas.Decode(b, "")
		if err != nil {
			return fmt.Errorf("whatif data: %w", err)
		}
		m.recs = append(m.recs, rec)
	}
	return nil
}

func (m *recordSink) Reject(_ context.Context, rs ...schemas.Rejected) error {
	m.rejects += len(rs)
	return nil
}

// scenarioService runs API scenarios on the supply map in ClickHouse and stores each run
// (api.ScenarioService).
type scenarioService struct {
	conn driver.Conn
	cfg  whatif.Config
	log  *slog.Logger
}

func (s *scenarioService) Run(ctx context.Context, sc whatif.Scenario, stress bool) (api.ScenarioRun, error) {
	recs, err := whatif.LoadRecords(ctx, s.conn)
	if err != nil {
		return api.ScenarioRun{}, err
	}
	en, err := newEngine(recs, s.cfg, s.log)
	if err != nil {
		return api.ScenarioRun{}, err
	}
	res, err := en.Run(sc)
	if err != nil {
		return api.ScenarioRun{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	out := api.ScenarioRun{Result: res}
	if stress {
		if out.Stress, err = en.ReverseStress(res.Start); err != nil {
			return api.ScenarioRun{}, err
		}
	}
	if out.RunID, err = whatif.Save(ctx, s.conn, res, time.Now()); err != nil {
		return api.ScenarioRun{}, err
	}
	return out, nil
}

// DigestWhatIfDays is how long the digest's chokepoint scenarios last.
const DigestWhatIfDays = 90

// digestWhatIf answers the digest's "what would stop if…" section from ClickHouse.
func digestWhatIf(conn driver.Conn, cfg whatif.Config, log *slog.Logger) report.WhatIfFunc {
	return func(ctx context.Context, subs []whatif.Subject, start time.Time) ([]whatif.ChokepointRun, error) {
		recs, err := whatif.LoadRecords(ctx, conn)
		if err != nil {
			return nil, err
		}
		en, err := newEngine(recs, cfg, log)
		if err != nil {
			return nil, err
		}
		return en.WhatWouldStop(subs, start, DigestWhatIfDays)
	}
}
