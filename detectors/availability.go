package detectors

import (
	"context"
	"fmt"
	"time"
)

// ---- 3. availability ----------------------------------------------------------------------------

type availability struct{}

func (availability) Name() string { return NameAvailability }

func (availability) Run(ctx context.Context, in *Inputs) ([]Finding, error) {
	a, err := in.Analysis(ctx)
	if err != nil {
		return nil, err
	}
	cfg := in.Cfg.Availability
	w := cfg.Weights
	var out []Finding
	for _, p := range a.Parts {
		lifeSignal := p.LifeMoved && p.LifeTo != "active"
		if !p.LeadJump && !p.Collapse && !lifeSignal {
			continue
		}
		ratio := 0.0
		if p.LeadBase > 0 {
			ratio = p.LeadLatest / p.LeadBase
		}
		stockRatio := 0.0
		if p.StockMedian > 0 {
			stockRatio = p.StockLatest / p.StockMedian
		}
		terms := []Term{
			term("lead_time_jump", ratio, b01(p.LeadJump)*p.LeadNorm, w.LeadTimeJump,
				fmt.Sprintf("latest %.0f d vs EWMA(α=%.2f) baseline %.1f d", p.LeadLatest, cfg.EWMAAlpha, p.LeadBase)),
			term("stock_collapse", stockRatio, b01(p.Collapse)*p.StockNorm, w.StockCollapse,
				fmt.Sprintf("latest %.0f vs trailing median %.0f", p.StockLatest, p.StockMedian)),
			term("lifecycle", LifecycleSeverity(p.LifeTo), LifecycleSeverity(p.LifeTo), w.Lifecycle,
				fmt.Sprintf("%s → %s", p.LifeFrom, p.LifeTo)),
		}
		var flags []string
		if p.LeadJump {
			flags = append(flags, FlagLeadTimeJump)
		}
		if p.Collapse {
			flags = append(flags, FlagStockCollapse)
		}
		if lifeSignal {
			flags = append(flags, FlagLifecycle)
		}
		f := Finding{Detector: NameAvailability, SubjectType: SubjectPart, Subject: p.Part, SubjectName: p.Part,
			ComponentID: p.Comp, Terms: terms, Flags: flags,
			WindowFrom: time.Unix(p.FirstDay*86400, 0).UTC(), WindowTo: time.Unix(p.LastDay*86400, 0).UTC(), Products: []string{}}
		if c := a.Component(p.Comp); c != nil && p.Comp != "" {
			f.Category = c.Info.Category
			f.Products = in.productIDs(c.Products)
		}
		f.Score = Composite(f.Terms)
		out = append(out, f)
	}
	return capFindings(out, in.Cfg.MaxFindingsPerDetector), ctx.Err()
}
