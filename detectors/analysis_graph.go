package detectors

import (
	"cmp"
	"context"
	"maps"
	"math"
	"runtime"
	"slices"

	"strings"
)

// ---- availability -------------------------------------------------------------------------------

func (a *Analysis) parts(ctx context.Context) error {
	in := a.in
	cfg := in.Cfg.Availability
	byPart := map[string][]availKey{}
	for k := range in.avail {
		byPart[k.Part] = append(byPart[k.Part], k)
	}
	for i, part := range slices.Sorted(maps.Keys(byPart)) {
		if err := tick(ctx, i); err != nil {
			return err
		}
		ks := byPart[part]
		slices.SortFunc(ks, func(x, y availKey) int { return cmp.Compare(x.Day, y.Day) })
		pm := &PartMetrics{Part: part, Snapshots: len(ks), FirstDay: ks[0].Day, LastDay: ks[len(ks)-1].Day}
		var leads, stocks []float64
		for _, k := range ks {
			ag := in.avail[k]
			if ag.Comp != "" {
				pm.Comp = ag.Comp
			}
			if !math.IsNaN(ag.Lead) {
				leads = append(leads, ag.Lead)
			}
			if ag.Known {
				stocks = append(stocks, ag.Stock)
			}
		}
		first, lastA := in.avail[ks[0]], in.avail[ks[len(ks)-1]]
		pm.LifeFrom, pm.LifeTo = lifecycleName(first.LifeRank), lifecycleName(lastA.LifeRank)
		pm.LifeNorm = LifecycleSeverity(pm.LifeTo)
		pm.LifeMoved = lastA.LifeRank > first.LifeRank
		if len(ks) >= cfg.MinSnapshots {
			if len(leads) >= cfg.MinSnapshots {
				pm.LeadBase, pm.LeadLatest, pm.LeadNorm, pm.LeadJump = LeadTimeJump(leads, cfg.EWMAAlpha, cfg.LeadTimeJumpRatio, cfg.LeadTimeJumpMinDays)
			}
			if len(stocks) >= cfg.MinSnapshots {
				pm.StockMedian, pm.StockLatest, pm.StockNorm, pm.Collapse = StockCollapse(stocks, cfg.StockTrailing, cfg.StockCollapseFraction)
			}
		}
		a.Parts = append(a.Parts, pm)
	}
	return nil
}

func lifecycleName(rank int) string {
	if rank >= 0 && rank < len(lifecycleNames) {
		return lifecycleNames[rank]
	}
	return "active"
}

// ---- graph --------------------------------------------------------------------------------------

// graph nodes: index = position; kind 'o' org (enterprise/supplier), 'c' component, 'p' product.
type graphNode struct {
	kind byte
	id   int32
}

func (a *Analysis) graph(ctx context.Context) error {
	in := a.in
	cfg := in.Cfg.Chokepoint
	var links uint64
	if in.betweenness != nil {
		links = graphLinksDigest(in)
		if g, nodes, bet, ok := in.betweenness.lookupGraph(a.idsDigest, links, cfg); ok {
			a.Graph, a.graphNodes, a.Betweenness, a.BetweennessReused, a.GraphReused = g, nodes, bet, true, true
			return nil
		}
	}
	idx := map[graphNode]int32{}
	var nodes []graphNode
	node := func(kind byte, id int32) int32 {
		k := graphNode{kind, id}
		if i, ok := idx[k]; ok {
			return i
		}
		i := int32(len(nodes))
		nodes = append(nodes, k)
		idx[k] = i
		return i
	}
	edges := make([][2]int32, 0, 2*len(in.Supplies)+len(in.Stocks)+len(in.BOM)+len(in.Makes))
	for _, e := range in.Supplies {
		if e.Qual == QualDisqualified {
			continue
		}
		c := node('c', e.Comp)
		edges = append(edges, [2]int32{node('o', e.Sup), c}, [2]int32{c, node('o', e.Ent)})
	}
	for k := range in.Stocks {
		ent, comp := pairOf(k)
		edges = append(edges, [2]int32{node('c', comp), node('o', ent)})
	}
	for _, b := range in.BOM {
		edges = append(edges, [2]int32{node('p', b.Prod), node('c', b.Comp)})
	}
	for _, m := range in.Makes {
		edges = append(edges, [2]int32{node('o', m.Ent), node('p', m.Prod)})
	}
	// deterministic node order for sampling: edges come from maps (stocks) in random order, so
	// renumber nodes by (kind, id string).
	perm := make([]int32, len(nodes))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(i, j int32) int {
		x, y := nodes[i], nodes[j]
		return cmp.Or(cmp.Compare(x.kind, y.kind), cmp.Compare(in.ID(x.id), in.ID(y.id)))
	})
	newIdx := make([]int32, len(nodes))
	for ni, old := range perm {
		newIdx[old] = int32(ni)
	}
	for i := range edges {
		edges[i][0], edges[i][1] = newIdx[edges[i][0]], newIdx[edges[i][1]]
	}
	sorted := make([]graphNode, len(nodes))
	for ni, old := range perm {
		sorted[ni] = nodes[old]
	}
	a.Graph = NewGraph(len(sorted), edges)
	a.graphNodes = sorted
	bet, ok := in.betweenness.lookup(in, sorted, a.Graph, cfg)
	if !ok {
		var err error
		if bet, err = Betweenness(ctx, a.Graph, cfg.BetweennessExactMaxNodes, cfg.BetweennessSamples, cfg.BetweennessSeed); err != nil {
			return err
		}
	}
	a.Betweenness, a.BetweennessReused = bet, ok
	in.betweenness.store(in, sorted, a.Graph, cfg, bet, a.idsDigest, links)
	return nil
}

// graphLinksDigest digests the links the graph is built from, as the multiset of its typed edges
// (supplier → component → enterprise for each supplies link not disqualified, component →
// enterprise for each stocks link, product → component, enterprise → product): each edge is mixed
// to 64 bits and the results summed, so the digest does not depend on the links' order (the graph,
// with its nodes renumbered and its rows sorted and deduplicated, does not either).
func graphLinksDigest(in *Inputs) uint64 {
	edge := func(tag uint64, x, y int32) uint64 {
		return mix64(mix64(tag<<32|uint64(uint32(x))) ^ uint64(uint32(y)))
	}
	var sum uint64
	for i := range in.Supplies {
		if e := &in.Supplies[i]; e.Qual != QualDisqualified {
			sum += edge(1, e.Sup, e.Comp) + edge(2, e.Comp, e.Ent)
		}
	}
	for k := range in.Stocks {
		ent, comp := pairOf(k)
		sum += edge(3, comp, ent)
	}
	for _, b := range in.BOM {
		sum += edge(4, b.Prod, b.Comp)
	}
	for _, m := range in.Makes {
		sum += edge(5, m.Ent, m.Prod)
	}
	return sum
}

// mix64 is SplitMix64's finaliser: a bijection of 64-bit values that spreads every input bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// ---- components ---------------------------------------------------------------------------------

// compUsers accumulates, per component index, its downstream enterprises and the supplier and
// country volumes over its users.
type compUsers struct {
	users  []map[int32]bool
	supVol []map[string]float64
	ctyVol []map[string]float64
}

func newCompUsers(n int) *compUsers {
	return &compUsers{users: make([]map[int32]bool, n), supVol: make([]map[string]float64, n), ctyVol: make([]map[string]float64, n)}
}

func (u *compUsers) init(ci int32) {
	if u.users[ci] == nil {
		u.users[ci], u.supVol[ci], u.ctyVol[ci] = map[int32]bool{}, map[string]float64{}, map[string]float64{}
	}
}

// components fills a.Comps: each component's shape and pair aggregates (from the memo's last step
// where they stay the same, analysis_compmemo.go), then the figures computed every run.
func (a *Analysis) components(ctx context.Context) error {
	memo := a.in.pairMemo
	var structure uint64
	var last *compMemo
	if memo != nil && a.pairSince != nil {
		structure = a.compStructure()
		last = memo.compsFor(a.pairsFrom, structure, &a.in.Cfg)
	}
	if last != nil {
		if err := a.componentsAgain(ctx, last); err != nil {
			return err
		}
		a.pairComp = last.pairComp
	} else {
		a.componentList()
		u := newCompUsers(len(a.Comps))
		a.pairComp = make([]int32, len(a.Pairs))
		for i := range a.Pairs {
			if err := tick(ctx, i); err != nil {
				return err
			}
			p := &a.Pairs[i]
			ci := a.compIdx[p.Comp]
			a.pairComp[i] = ci
			u.init(ci)
			u.users[ci][p.Ent] = true
			a.addPairAggregates(a.Comps[ci], u, ci, p)
		}
		a.componentMakers(u)
		for ci, c := range a.Comps {
			a.componentShape(c, u, ci)
			a.finishAggregates(c, u, int32(ci))
		}
	}
	compB, maxB := a.componentBetweenness()
	partSig := map[string]float64{}
	for _, p := range a.Parts {
		if p.Comp != "" {
			partSig[p.Comp] = math.Max(partSig[p.Comp], p.Signal())
		}
	}
	hsIdx := map[string]*ConcMetrics{}
	for _, c := range a.HS {
		hsIdx[c.Key] = c
	}
	matOfHS := map[string]*ConcMetrics{}
	for _, m := range a.Mats {
		for _, h := range m.HSCodes {
			matOfHS[h] = m
		}
	}
	list := listSet(a.in.Cfg.Chokepoint.List)
	// the concentration terms of an HS code or material, once for all its components (a pure
	// function of the ConcMetrics and the configuration)
	concT := map[*ConcMetrics][]Term{}
	for ci, c := range a.Comps {
		if err := tick(ctx, ci); err != nil {
			return err
		}
		c.Betweenness = compB[ci]
		if maxB > 0 {
			c.BetweennessRel = compB[ci] / maxB
		}
		c.Availability = partSig[a.in.ID(c.Comp)]
		if m := matOfHS[c.Info.HSCode]; m != nil && c.Info.HSCode != "" {
			c.Conc, c.Material = m, m.Key
		} else if h := hsIdx[c.Info.HSCode]; h != nil {
			c.Conc = h
		}
		c.OnList = c.Info.Chokepoint || list[strings.ToLower(a.in.ID(c.Comp))] ||
			(c.Info.HSCode != "" && list[c.Info.HSCode]) || (c.Material != "" && list[c.Material])
		if _, ok := concT[c.Conc]; !ok {
			concT[c.Conc] = concTerms(a.in, c.Conc)
		}
	}
	// Each component's chokepoint terms read the shared results and write only the component: two
	// or more goroutines split them (at 1M edges they were 50 ms of the analysis's last step, which
	// every detector waits on).
	bdetail := betweennessDetail(a.Betweenness)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(a.Comps)/compChunkMin))
	if err := parallelRange(ctx, len(a.Comps), workers, func(_, ci int) {
		c := a.Comps[ci]
		c.chokeTerms, c.chokeFlags = a.componentChokeTerms(c, concT[c.Conc], bdetail)
		c.ChokeScore = Composite(c.chokeTerms)
	}); err != nil {
		return err
	}
	a.compareComps()
	if memo != nil && a.pairSince != nil {
		kept := make([]CompMetrics, len(a.Comps))
		for ci, c := range a.Comps {
			kept[ci] = carried(c)
		}
		memo.keepComps(&compMemo{seq: a.seq, structure: structure, cfg: a.in.Cfg, comps: kept, compIdx: a.compIdx, pairComp: a.pairComp})
	}
	return nil
}

// compChunkMin is the fewest components worth a goroutine of their own in the chokepoint terms.
var compChunkMin = 2000

// componentInfo is a component's node attributes, or those of a component that is no node.
func componentInfo(in *Inputs, id int32) *NodeInfo {
	if info := in.Components[id]; info != nil {
		return info
	}
	return &NodeInfo{Category: "other"}
}

// componentList fills a.Comps with every component of the map, of a pair or of a BOM, sorted by id.
func (a *Analysis) componentList() {
	in := a.in
	ids := map[int32]bool{}
	for id := range in.Components {
		ids[id] = true
	}
	for i := range a.Pairs {
		ids[a.Pairs[i].Comp] = true
	}
	for _, b := range in.BOM {
		ids[b.Comp] = true
	}
	list := slices.SortedFunc(maps.Keys(ids), func(x, y int32) int { return cmp.Compare(in.ID(x), in.ID(y)) })
	for i, id := range list {
		a.Comps = append(a.Comps, &CompMetrics{Comp: id, Info: componentInfo(in, id)})
		a.compIdx[id] = int32(i)
	}
}

// addPairAggregates adds a pair to its component's aggregates: pairs, supplier and country
// volumes, foreign share, single-sourced, no-alternate and TTS/TTR counts.
func (a *Analysis) addPairAggregates(c *CompMetrics, u *compUsers, ci int32, p *PairMetrics) {
	in := a.in
	u.init(ci)
	c.Pairs++
	for _, s := range p.Suppliers {
		u.supVol[ci][in.ID(s.Sup)] += s.Share
		u.ctyVol[ci][countryOrUnknown(s.Country)] += s.Share
		if !s.Domestic {
			c.ForeignShare += s.Share
		}
	}
	if len(p.Suppliers) <= in.Cfg.SingleSource.MaxSuppliersSingle {
		c.SingleSourced++
	}
	if p.NoAlternate {
		c.NoAlternate++
	}
	if p.TTSKnown {
		c.TTSKnown++
		_, g := TTSGap(p.TTS, p.TTR)
		c.TTSGapNorm += g
		if p.TTS < p.TTR {
			c.Exposed++
		}
	}
}

// finishAggregates turns a component's summed pair aggregates into shares and means.
func (a *Analysis) finishAggregates(c *CompMetrics, u *compUsers, ci int32) {
	c.SupplierShares = SharesOf(u.supVol[ci])
	c.CountryShares = SharesOf(u.ctyVol[ci])
	if c.Pairs > 0 {
		c.ForeignShare /= float64(c.Pairs)
	}
	if c.TTSKnown > 0 {
		c.TTSGapNorm /= float64(c.TTSKnown)
	}
}

// componentMakers adds the products containing each component (BOM) and their makers as users.
func (a *Analysis) componentMakers(u *compUsers) {
	in := a.in
	makers := map[int32][]int32{}
	for _, m := range in.Makes {
		makers[m.Prod] = append(makers[m.Prod], m.Ent)
	}
	for _, b := range in.BOM {
		ci, ok := a.compIdx[b.Comp]
		if !ok {
			continue
		}
		u.init(ci)
		a.Comps[ci].Products = append(a.Comps[ci].Products, b.Prod)
		for _, e := range makers[b.Prod] {
			u.users[ci][e] = true
		}
	}
}

// componentBetweenness returns the normalised betweenness per component index and its maximum.
func (a *Analysis) componentBetweenness() ([]float64, float64) {
	maxB := 0.0
	compB := make([]float64, len(a.Comps))
	for ni, gn := range a.graphNodes {
		if gn.kind != 'c' {
			continue
		}
		if ci, ok := a.compIdx[gn.id]; ok {
			compB[ci] = a.Betweenness.Norm[ni]
			maxB = math.Max(maxB, compB[ci])
		}
	}
	return compB, maxB
}

// componentShape finishes a component's shape: downstream enterprises, chain leaders among them,
// products and reach.
func (a *Analysis) componentShape(c *CompMetrics, u *compUsers, ci int) {
	in := a.in
	for e := range u.users[ci] {
		c.Enterprises++
		if info := in.Enterprises[e]; info != nil && info.ChainLeader {
			c.ChainLeaders++
		}
	}
	c.Products = in.sortedUniqueIDs(c.Products)
	c.Reach = WeightedReach(c.Enterprises, c.ChainLeaders, in.Cfg.Chokepoint.ChainLeaderWeight)
}

// sortedUniqueIDs sorts ids by their string and drops repeats (in place).
func (in *Inputs) sortedUniqueIDs(ids []int32) []int32 {
	slices.SortFunc(ids, func(x, y int32) int { return cmp.Compare(in.ID(x), in.ID(y)) })
	return slices.Compact(ids)
}

func listSet(l []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range l {
		m[strings.ToLower(strings.TrimSpace(x))] = true
	}
	return m
}

// ---- suppliers ----------------------------------------------------------------------------------

func (a *Analysis) suppliers(ctx context.Context) error {
	in := a.in
	// per interned id: betweenness, pairs, sole pairs, enterprises, chain leaders among them
	n := len(in.ids)
	bet := make([]float64, n)
	maxB := 0.0
	for ni, gn := range a.graphNodes {
		if gn.kind != 'o' {
			continue
		}
		if _, ok := in.Suppliers[gn.id]; !ok {
			continue
		}
		bet[gn.id] = a.Betweenness.Norm[ni]
		maxB = math.Max(maxB, a.Betweenness.Norm[ni])
	}
	pairs, sole, ents, leaders := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	// a.Pairs is sorted by enterprise first: each enterprise's pairs are contiguous, so a supplier
	// has a new enterprise when its last one differs
	lastEnt := make([]int32, n)
	for i := range lastEnt {
		lastEnt[i] = -1
	}
	for i := range a.Pairs {
		if err := tick(ctx, i); err != nil {
			return err
		}
		p := &a.Pairs[i]
		for _, s := range p.Suppliers {
			pairs[s.Sup]++
			if len(p.Suppliers) == 1 {
				sole[s.Sup]++
			}
			if lastEnt[s.Sup] != p.Ent {
				lastEnt[s.Sup] = p.Ent
				ents[s.Sup]++
				if info := in.Enterprises[p.Ent]; info != nil && info.ChainLeader {
					leaders[s.Sup]++
				}
			}
		}
	}
	ids := slices.SortedFunc(maps.Keys(in.Suppliers), func(x, y int32) int { return cmp.Compare(in.ID(x), in.ID(y)) })
	a.Sups = make([]*SupplierMetric, len(ids))
	metrics := make([]SupplierMetric, len(ids))
	for i, id := range ids {
		m := &metrics[i]
		*m = SupplierMetric{Sup: id, Info: in.Suppliers[id], Betweenness: bet[id], Pairs: int(pairs[id]), SolePairs: int(sole[id]),
			Enterprises: int(ents[id]), ChainLeaders: int(leaders[id])}
		m.Foreign = !in.isDomestic(m.Info)
		if maxB > 0 {
			m.BetweennessRel = bet[id] / maxB
		}
		a.Sups[i] = m
	}
	return nil
}

// Pair returns the metrics of an enterprise × component, or nil.
