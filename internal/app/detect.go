package app

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/chstore"
)

// cmdDetect is `chainwatch detect [name ...]`: one detector run now, printed as a table.
func cmdDetect(ctx context.Context, in Invocation) error {
	args, cfg, log := in.Args, in.Config, in.Log
	conn, err := chstore.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := chstore.MigrateConfig(ctx, conn, cfg.ClickHouse); err != nil {
		return err
	}
	r, err := detectors.NewRunner(conn, cfg.Detectors, nil, log)
	if err != nil {
		return err
	}
	sum, runErr := r.RunOnce(ctx, args...)
	tw := tabwriter.NewWriter(in.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "run %s (inputs loaded in %s)\n", sum.RunID, sum.Load.Round(1e6))
	fmt.Fprintln(tw, "DETECTOR\tFINDINGS\tDURATION\tERROR")
	for _, d := range sum.Detectors {
		e := ""
		if d.Err != nil {
			e = d.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", d.Detector, d.Findings, d.Duration.Round(1e6), e)
	}
	_ = tw.Flush()
	if runErr != nil {
		return runErr
	}
	top, err := detectors.LatestFindings(ctx, conn, detectors.Filter{Detectors: []string{"exposure"}, Limit: 10})
	if err != nil {
		return err
	}
	if len(top) > 0 {
		fmt.Println("\ntop exposures:")
		tw = tabwriter.NewWriter(in.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SCORE\tSUBJECT\tFLAGS\tTOP TERMS")
		for _, f := range top {
			terms := ""
			for i, name := range detectors.TopTerms(&f, 3) {
				for _, t := range f.Terms {
					if t.Name == name {
						if i > 0 {
							terms += ", "
						}
						terms += fmt.Sprintf("%s=%.3g (%.0f%%)", t.Name, t.Value, 100*t.Share)
					}
				}
			}
			name := f.Subject
			if f.SubjectName != "" {
				name += " " + f.SubjectName
			}
			fmt.Fprintf(tw, "%.1f\t%s\t%v\t%s\n", f.Score, name, f.Flags, terms)
		}
		_ = tw.Flush()
	}
	return nil
}
