package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/detectors/whatif"
)

// WhatIfFunc answers "what would stop if…" for chokepoint subjects, with shocks starting at start
// (the lead builds it on the what-if engine over ClickHouse).
type WhatIfFunc func(ctx context.Context, subjects []whatif.Subject, start time.Time) ([]whatif.ChokepointRun, error)

// WhatIfTop is the number of top chokepoints the digest runs a what-if scenario for.
const WhatIfTop = 3

// SetWhatIf enables the digest section "what would stop if…" (nil disables it).
func (s *Service) SetWhatIf(f WhatIfFunc) { s.whatIf = f }

// whatIfSection runs the top chokepoints' scenarios from the end of the digest week.
func (g *gen) whatIfSection(ctx context.Context) error {
	if g.s.whatIf == nil || len(g.d.Chokepoints) == 0 {
		return nil
	}
	var subs []whatif.Subject
	for _, it := range g.d.Chokepoints[:min(WhatIfTop, len(g.d.Chokepoints))] {
		subs = append(subs, whatif.Subject{Type: it.SubjectType, ID: it.Subject})
	}
	runs, err := g.s.whatIf(ctx, subs, g.d.To)
	if err != nil {
		// The digest still goes out; the section says why it is missing.
		g.note("note.whatif", err.Error())
		return nil
	}
	g.d.WhatIf = runs
	return nil
}

// whatIfMarkdown renders the section (nothing when it is off).
func whatIfMarkdown(d *Digest) string {
	if len(d.WhatIf) == 0 {
		return ""
	}
	lang := d.lang()
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", tr(lang, "s.whatif"))
	for _, r := range d.WhatIf {
		fmt.Fprintf(&b, "**%s %s** — %s\n\n", trOr(lang, "type.", r.Subject.Type), mdEsc(r.Subject.ID), mdEsc(r.Scenario.Name))
		if r.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", mdEsc(r.Note))
			continue
		}
		if len(r.Stops) == 0 {
			fmt.Fprintf(&b, "%s\n\n", tr(lang, "whatif.none"))
			continue
		}
		mdTable(&b, lang, "th.enterprise", "th.product", "th.firststop", "th.daysstopped>", "th.bplan")
		for _, s := range r.Stops {
			fmt.Fprintf(&b, "| %s | %s | %s | %.1f | %s |\n", mdEsc(s.Enterprise), mdEsc(s.Product),
				s.FirstStop.Format(time.DateOnly), s.DaysStopped, mdEsc(s.Action))
		}
		b.WriteString("\n")
	}
	return b.String()
}
