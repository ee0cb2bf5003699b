package whatif

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints a run: one row per stopped (enterprise, product), then per stop the buffer
// arithmetic and the B计划 action, then the buffers that absorbed a loss.
func WriteTable(w io.Writer, res *Result) error {
	fmt.Fprintf(w, "scenario %q: %d shock(s) from %s; %d product(s) of %d enterprise(s) stop\n",
		res.Scenario.Name, len(res.Scenario.Shocks), res.Start.Format(time.DateOnly), len(res.Stops), len(res.Enterprises()))
	for _, s := range res.Scenario.Shocks {
		fmt.Fprintf(w, "  shock: %s, %s for %g d\n", s, s.Start.Format(time.DateOnly), s.DurationDays)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTERPRISE\t链主\tPRODUCT\tFIRST STOP\tDAYS STOPPED\tSHORTFALL\tBINDING PATH")
	for _, s := range res.Stops {
		leader := ""
		if s.ChainLeader {
			leader = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.0f%%\t%s\n", s.Enterprise, leader, s.Product,
			s.FirstStop.Format("2006-01-02 15:04"), s.DaysStopped, 100*s.Shortfall, strings.Join(s.Path, " → "))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, s := range res.Stops {
		fmt.Fprintf(w, "\n%s/%s stops %s:\n", s.Enterprise, s.Product, s.FirstStop.Format("2006-01-02 15:04"))
		for _, a := range s.Arithmetic {
			fmt.Fprintf(w, "    %s\n", a)
		}
		fmt.Fprintf(w, "  B计划: %s\n", s.Action)
	}
	if len(res.Absorbed) > 0 {
		fmt.Fprintln(w, "\nabsorbed (no stop):")
		for _, a := range res.Absorbed {
			fmt.Fprintf(w, "    %s\n", a)
		}
	}
	return nil
}

// WriteStressTable prints the reverse stress test.
func WriteStressTable(w io.Writer, rs []StressResult) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTERPRISE\tPRODUCT\tSMALLEST SINGLE SHOCK\tDAYS TO STOP\tBINDING PATH")
	for _, r := range rs {
		if !r.Found {
			fmt.Fprintf(tw, "%s\t%s\tnone of %d candidates stops it\t-\t\n", r.Enterprise, r.Product, r.Candidates)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", r.Enterprise, r.Product, r.Shock, r.DaysToStop, strings.Join(r.Path, " → "))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// WriteTiers prints the tier-N detectors of the engine's graph: stage-level single sources (deepest
// tier first) and the top criticalities (impact if removed, 链主 weighted).
func WriteTiers(w io.Writer, en *Engine, top int) error {
	g := en.G
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIER\tENTERPRISE\tPRODUCT\tINPUT\tSOLE SOURCE\tREACHES")
	for _, f := range g.SingleSources() {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s (%s)\t%d product(s) of %s\n", f.Tier, f.Enterprise, f.Product, f.Input, f.Source,
			f.SourceKind, len(f.Products), strings.Join(f.Enterprises, ", "))
	}
	fmt.Fprintln(tw, "\nREMOVED\tID\tSCORE\tPRODUCTS CUT\tENTERPRISES CUT\t链主 CUT")
	for i, c := range g.Criticalities(en.Cfg.ChainLeaderWeight) {
		if i == top {
			break
		}
		fmt.Fprintf(tw, "%s\t%s\t%g\t%d\t%d\t%d\n", c.Kind, c.ID, c.Score, c.ProductsCut, c.EnterprisesCut, c.LeadersCut)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
