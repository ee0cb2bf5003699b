package whatif

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/chainwatch/chainwatch/detectors/supplygraph"
)

// Engine runs scenarios on one supply graph and one set of statistics. It is read-only and safe
// for concurrent Run calls.
type Engine struct {
	G        *supplygraph.Graph
	X        *Exposure
	Cfg      Config
	pos      []int32              // item → position in G.Order
	supPairs [][]supplygraph.Pair // item → the (enterprise, item) pairs with suppliers
}

// New returns an engine.
func New(g *supplygraph.Graph, x *Exposure, cfg Config) *Engine {
	if x == nil {
		x = NewExposure(nil)
	}
	e := &Engine{G: g, X: x, Cfg: cfg, pos: make([]int32, len(g.Items))}
	for i, it := range g.Order {
		e.pos[it] = int32(i)
	}
	e.supPairs = make([][]supplygraph.Pair, len(g.Items))
	for k := range g.Supply {
		e.supPairs[k.Item()] = append(e.supPairs[k.Item()], k)
	}
	for _, ks := range e.supPairs {
		slices.Sort(ks)
	}
	return e
}

// Stop is one (enterprise, product) that cannot be made at full rate during the scenario.
type Stop struct {
	Enterprise     string    `json:"enterprise_id"`
	EnterpriseName string    `json:"enterprise_name,omitempty"`
	ChainLeader    bool      `json:"chain_leader,omitempty"`
	Product        string    `json:"product_id"`
	ProductName    string    `json:"product_name,omitempty"`
	FirstStop      time.Time `json:"first_stop"`
	Until          time.Time `json:"until"`
	DaysStopped    float64   `json:"days_stopped"`
	Shortfall      float64   `json:"shortfall"` // largest fraction of output lost while stopped
	// Path runs from the shock to the product; Arithmetic holds one line per buffer on the path,
	// upstream first; Action is the B计划 action that avoids the stop at the product's own input.
	Path       []string `json:"path"`
	Arithmetic []string `json:"arithmetic"`
	Action     string   `json:"action"`
}

// Result is a scenario run.
type Result struct {
	Scenario Scenario  `json:"scenario"`
	Start    time.Time `json:"start"` // the earliest shock start: day 0 of the arithmetic
	Stops    []Stop    `json:"stops"`
	// Absorbed lists the buffers and alternates that took a loss without a stop (one line each).
	Absorbed []string `json:"absorbed,omitempty"`
}

// Enterprises returns the ids of the enterprises with at least one stop, sorted.
func (r *Result) Enterprises() []string {
	var out []string
	for _, s := range r.Stops {
		out = append(out, s.Enterprise)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// outage is a time window (days from run start) in which a fraction of an input or a product is
// missing, with how it came about.
type outage struct {
	from, to, frac float64
	path           []string
	why            []string
	action         string
}

// run is the state of one scenario run.
type run struct {
	en      *Engine
	t0      time.Time
	shocks  []Shock
	direct  map[supplygraph.Pair][]outage // supply losses of (enterprise, input) before buffers
	site    map[supplygraph.Pair][]outage // (enterprise, product) stopped by a site shock
	prodOut map[supplygraph.Pair][]outage // (enterprise, product) outages after buffers
	lost    map[supplygraph.Pair][]int32  // suppliers whose supply of the pair a shock cut
	notes   []string
}

func (r *run) day(d float64) time.Time {
	return r.t0.Add(time.Duration(d * float64(24*time.Hour))).Truncate(time.Second)
}

func (r *run) date(d float64) string { return r.day(d).Format(time.DateOnly) }

// Run propagates the scenario. Shocks must be valid (Scenario.Validate); unknown ids are an error.
func (en *Engine) Run(sc Scenario) (*Result, error) {
	if len(sc.Shocks) == 0 {
		return nil, fmt.Errorf("whatif: scenario has no shocks")
	}
	r := &run{en: en, shocks: sc.Shocks, t0: sc.Shocks[0].Start.Time, direct: map[supplygraph.Pair][]outage{},
		site: map[supplygraph.Pair][]outage{}, prodOut: map[supplygraph.Pair][]outage{},
		lost: map[supplygraph.Pair][]int32{}}
	for _, s := range sc.Shocks {
		if s.Start.Before(r.t0) {
			r.t0 = s.Start.Time
		}
	}
	for _, s := range sc.Shocks {
		if err := r.applyShock(s); err != nil {
			return nil, err
		}
	}
	for _, k := range r.cone() {
		r.product(k)
	}
	res := &Result{Scenario: sc, Start: r.t0, Absorbed: r.notes}
	for k, outs := range r.prodOut {
		res.Stops = append(res.Stops, r.stop(k, outs))
	}
	slices.SortFunc(res.Stops, func(a, b Stop) int {
		return cmp.Or(a.FirstStop.Compare(b.FirstStop), cmp.Compare(a.Enterprise, b.Enterprise), cmp.Compare(a.Product, b.Product))
	})
	return res, nil
}

// cone lists the (maker, product) pairs downstream of the shocked pairs, inputs first.
func (r *run) cone() []supplygraph.Pair {
	g := r.en.G
	seen := map[supplygraph.Pair]bool{}
	var queue []supplygraph.Pair
	push := func(k supplygraph.Pair) {
		if !seen[k] {
			seen[k] = true
			queue = append(queue, k)
		}
	}
	for k := range r.direct {
		e, it := k.Split()
		for _, u := range g.Users[it] {
			if slices.Contains(g.Makers[u], e) {
				push(supplygraph.PairOf(e, u))
			}
		}
	}
	for k := range r.site {
		push(k)
	}
	for i := 0; i < len(queue); i++ {
		_, p := queue[i].Split()
		for _, u := range g.Users[p] {
			for _, m := range g.Makers[u] {
				push(supplygraph.PairOf(m, u))
			}
		}
	}
	slices.SortFunc(queue, func(a, b supplygraph.Pair) int {
		ea, pa := a.Split()
		eb, pb := b.Split()
		return cmp.Or(cmp.Compare(r.en.pos[pa], r.en.pos[pb]), cmp.Compare(ea, eb))
	})
	return queue
}

// product computes the outages of (enterprise, product) k from its inputs and site shocks.
func (r *run) product(k supplygraph.Pair) {
	g := r.en.G
	e, p := k.Split()
	outs := slices.Clone(r.site[k])
	for _, in := range g.Inputs[p] {
		ik := supplygraph.PairOf(e, in.Item)
		losses := slices.Clone(r.direct[ik])
		losses = append(losses, r.upstream(e, in.Item)...)
		if len(losses) == 0 {
			continue
		}
		outs = append(outs, r.buffer(ik, losses)...)
	}
	if len(outs) > 0 {
		label := g.Ents[e].ID + "/" + g.Items[p].ID
		merged := union(outs, false)
		for i := range merged {
			merged[i].path = append(slices.Clone(merged[i].path), label)
		}
		r.prodOut[k] = merged
	}
}

// upstream turns the outages of in-house makers of item into losses of enterprise e's supply of
// it: each of n makers carries 1/n of the in-house share (1 − Σ active supplier shares).
func (r *run) upstream(e, item int32) []outage {
	g := r.en.G
	makers := g.Makers[item]
	if len(makers) == 0 {
		return nil
	}
	inHouse := 1.0
	for _, s := range g.ActiveSupplies(supplygraph.PairOf(e, item)) {
		inHouse -= s.Share
	}
	if inHouse <= 0 {
		return nil
	}
	var out []outage
	for _, m := range makers {
		for _, o := range r.prodOut[supplygraph.PairOf(m, item)] {
			o.frac *= inHouse / float64(len(makers))
			out = append(out, o)
		}
	}
	return out
}

// stop summarises the outages of one (enterprise, product).
func (r *run) stop(k supplygraph.Pair, outs []outage) Stop {
	g := r.en.G
	e, p := k.Split()
	s := Stop{Enterprise: g.Ents[e].ID, EnterpriseName: g.Ents[e].Name, ChainLeader: g.Ents[e].ChainLeader,
		Product: g.Items[p].ID, ProductName: g.Items[p].Name}
	bind := outs[0]
	for _, o := range outs {
		s.DaysStopped += o.to - o.from
		s.Shortfall = max(s.Shortfall, o.frac)
	}
	s.FirstStop, s.Until = r.day(bind.from), r.day(outs[len(outs)-1].to)
	s.Path, s.Arithmetic, s.Action = bind.path, bind.why, bind.action
	s.DaysStopped = round2(s.DaysStopped)
	s.Shortfall = round2(s.Shortfall)
	return s
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
