package report

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
)

// SetRegional adds the issue-14 sections to every digest: the chain leaders' local-sourcing index
// with its week-over-week change, the 卡点 ledger and its progress against the targets, and the
// demand board (nil: no sections).
func (s *Service) SetRegional(r *exposure.Regional) { s.regional = r }

// regionalSections reads the three views as of the digest's AsOf. A scoped digest keeps the
// leaders and demands of its region (its province or region group) and industry; the ledger is
// national.
func (g *gen) regionalSections(ctx context.Context) error {
	r := g.s.regional
	if r == nil {
		return nil
	}
	ls, err := r.LocalSourcing(ctx, g.d.AsOf)
	if err != nil {
		return err
	}
	g.d.LocalSourcing = []detectors.LocalSourcing{}
	for _, x := range ls {
		if g.inRegion(x.Region, x.RegionGroup) && (g.scope.Industry == "" || x.Industry == g.scope.Industry) {
			g.d.LocalSourcing = append(g.d.LocalSourcing, x)
		}
	}
	l, err := r.Ledger(ctx, g.d.AsOf)
	if err != nil {
		return err
	}
	g.d.Ledger = &l
	ds, err := r.Demands(ctx, g.d.AsOf)
	if err != nil {
		return err
	}
	g.d.Demands = []detectors.Demand{}
	for _, d := range ds {
		if !g.inRegion(d.Region, d.Region) || (g.scope.Industry != "" && !slices.Contains(d.Industries, g.scope.Industry)) {
			continue
		}
		if len(g.d.Demands) < g.s.cfg.TopN {
			g.d.Demands = append(g.d.Demands, d)
		}
	}
	return nil
}

// inRegion: no scope region, or the scope's region (normalised) is the province or group given.
func (g *gen) inRegion(province, group string) bool {
	if g.scope.Region == "" {
		return true
	}
	want := detectors.NormalizeRegion(g.scope.Region)
	return want.String() == province || want.Province == province || g.scope.Region == group
}

// regionalMarkdown renders the local-sourcing, ledger and demand sections in Markdown.
func regionalMarkdown(d *Digest) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	pc := func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }
	if len(d.LocalSourcing) > 0 {
		p("\n## 8. Chain-leader local sourcing (链主就近配套)\n\n| Chain leader | Region | Group | Components | In-group suppliers | Index | Last week | Change |\n|---|---|---|---:|---:|---:|---:|---:|\n")
		for _, x := range d.LocalSourcing {
			prev := "–"
			if x.PrevIndex != nil {
				prev = pc(*x.PrevIndex)
			}
			p("| %s (%s) | %s | %s | %d | %d / %d | %s | %s | %+.1f pp |\n", mdEsc(x.Name), x.EnterpriseID, mdEsc(x.Region), mdEsc(x.RegionGroup),
				x.Components, x.InRegion, x.Suppliers, pc(x.Index), prev, 100*x.Change)
		}
	}
	if d.Ledger != nil {
		p("\n## 9. 卡点 ledger\n\n| Target | Broken through | Progress |\n|---|---:|---:|\n")
		for _, t := range d.Ledger.Progress {
			p("| %d by %d | %d | %s |\n", t.Target, t.Year, t.Achieved, pc(t.Share))
		}
		if len(d.Ledger.Items) > 0 {
			p("\n| Item | Component | Owner | Route | Stage | Target date | Status |\n|---|---|---|---|---|---|---|\n")
			for _, it := range d.Ledger.Items {
				st := "突破 confirmed"
				if !it.BrokenThrough {
					st = strings.Join(it.Blockers, ", ")
				}
				p("| %s %s | %s (%s) | %s | %s | %s | %s | %s |\n", it.ID, mdEsc(it.Title), mdEsc(it.ComponentName), it.ComponentID,
					mdEsc(it.OwnerName), it.Route, it.Stage, it.TargetDate, st)
			}
		}
	}
	if len(d.Demands) > 0 {
		p("\n## 10. Demand board (链主出题、中小企业答题)\n\n| Component | Region | Needs | Enterprises | Matched SMEs |\n|---|---|---|---:|---|\n")
		for _, x := range d.Demands {
			var ms []string
			for _, m := range x.Matches {
				ms = append(ms, m.Name+" ("+m.Region+", "+strings.Join(m.Tags, "/")+", "+m.Basis+")")
			}
			p("| %s (%s) | %s | %s | %d | %s |\n", mdEsc(x.ComponentName), x.ComponentID, mdEsc(x.Region), strings.Join(x.Needs, ", "),
				x.Enterprises, mdEsc(strings.Join(ms, "; ")))
		}
	}
	return b.String()
}
