package report

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/i18n"
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
	lang := d.lang()
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	if len(d.LocalSourcing) > 0 {
		p("\n## %s\n\n", tr(lang, "s.local"))
		mdTable(&b, lang, "th.leader", "th.region", "th.group", "th.components>", "th.ingroup>", "th.index>", "th.lastweek>", "th.change>")
		for _, x := range d.LocalSourcing {
			prev := "–"
			if x.PrevIndex != nil {
				prev = pctText(*x.PrevIndex)
			}
			p("| %s (%s) | %s | %s | %d | %d / %d | %s | %s | %s |\n", mdEsc(x.Name), mdEsc(x.EnterpriseID), mdEsc(regionName(x.Region, lang)),
				mdEsc(x.RegionGroup), x.Components, x.InRegion, x.Suppliers, pctText(x.Index), prev,
				trf(lang, "pp", strconv.FormatFloat(100*x.Change, 'f', 1, 64)))
		}
	}
	if d.Ledger != nil {
		ledgerMarkdown(&b, d.Ledger, lang)
	}
	if len(d.Demands) > 0 {
		p("\n## %s\n\n", tr(lang, "s.demands"))
		mdTable(&b, lang, "th.component", "th.category", "th.region", "th.needs", "th.enterprises>", "th.matched")
		for _, x := range d.Demands {
			var ms []string
			for _, m := range x.Matches {
				ms = append(ms, m.Name+" ("+regionName(m.Region, lang)+", "+joinNames(i18n.KindTag, m.Tags, lang)+", "+
					i18n.Display(i18n.KindBasis, m.Basis, lang)+")")
			}
			match := tr(lang, "none.matches")
			if len(ms) > 0 {
				match = strings.Join(ms, "; ")
			}
			ents := strconv.Itoa(x.Enterprises)
			if x.ChainLeader {
				ents += tr(lang, "demand.leader")
			}
			p("| %s (%s) | %s | %s | %s | %s | %s |\n", mdEsc(x.ComponentName), mdEsc(x.ComponentID), mdEsc(i18n.CategoryName(x.Category, lang)),
				mdEsc(regionName(x.Region, lang)), mdEsc(joinNames(i18n.KindFlag, x.Needs, lang)), ents, mdEsc(match))
		}
	}
	return b.String()
}

// ledgerMarkdown renders the 卡点 ledger: progress against the targets, then the items.
func ledgerMarkdown(b *strings.Builder, l *detectors.Ledger, lang string) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n## %s\n\n", tr(lang, "s.ledger"))
	mdTable(b, lang, "th.target", "th.broken>", "th.progress>", "th.status")
	for _, t := range l.Progress {
		st := tr(lang, "ledger.open")
		switch {
		case t.Met:
			st = tr(lang, "ledger.met")
		case t.Due:
			st = tr(lang, "ledger.missed")
		}
		p("| %s | %d | %s | %s |\n", trf(lang, "ledger.target", t.Target, t.Year), t.Achieved, pctText(t.Share), st)
	}
	if len(l.Items) == 0 {
		p("\n%s\n", tr(lang, "none.ledger"))
		return
	}
	p("\n")
	mdTable(b, lang, "th.item", "th.component", "th.owner", "th.route", "th.stage", "th.targetdate", "th.domsupplier", "th.status")
	for _, it := range l.Items {
		st := tr(lang, "ledger.confirmed")
		if !it.BrokenThrough {
			st = joinNames(i18n.KindBlocker, it.Blockers, lang)
		}
		date := it.TargetDate
		if it.Overdue {
			date += " " + tr(lang, "ledger.overdue")
		}
		sup := it.DomesticSupplier
		if sup != "" {
			sup += " " + pctText(it.DomesticShare)
		}
		p("| %s %s | %s (%s) | %s | %s | %s | %s | %s | %s |\n", mdEsc(it.ID), mdEsc(it.Title), mdEsc(it.ComponentName), mdEsc(it.ComponentID),
			mdEsc(it.OwnerName), mdEsc(i18n.Display(i18n.KindRoute, it.Route, lang)),
			mdEsc(trf(lang, "ledger.stage", i18n.Display(i18n.KindStage, it.Stage, lang), it.StageIndex)), mdEsc(date), mdEsc(sup), mdEsc(st))
	}
}
