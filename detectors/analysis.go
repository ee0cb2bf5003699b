package detectors

import (
	"context"
	"fmt"
	"math"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Analysis is the shared, computed view of one run's Inputs. Every detector reads it; it is built
// once (lazily) per Inputs. All numbers here are the terms the detectors score and explain.
type Analysis struct {
	in *Inputs

	Pairs   []PairMetrics    // per enterprise × component, sorted by (enterprise id, component id)
	pairIdx map[uint64]int32 // pairKey → index in Pairs
	Comps   []*CompMetrics   // per component, sorted by id
	compIdx map[int32]int32  // component → index in Comps
	// pairComp is, per pair, its component's index in Comps (the components step's lookups, kept
	// for the detectors' loops over the pairs)
	pairComp []int32
	HS       []*ConcMetrics    // per HS code in the trade data, sorted
	Mats     []*ConcMetrics    // per material (production commodity or configured material), sorted
	Sups     []*SupplierMetric // per supplier in the graph, sorted by id
	Parts    []*PartMetrics    // per part with availability data, sorted

	altIx *pairIndex // what Alternates needs of the pair step's indexes

	Graph       *Graph
	Betweenness BetweennessResult
	// BetweennessReused says Betweenness came from the runner's memo (the graph was unchanged).
	BetweennessReused bool
	// PairsReused is how many Pairs took their metrics from the runner's last run (PairMemo).
	PairsReused int
	// ConcReused says HS and Mats are the memo's, computed by an earlier run (concMemo).
	ConcReused bool
	// CompsReused is how many components took their pair aggregates from the last run (compMemo).
	CompsReused int
	// layoutShared says the pair layout is the memo's, made by an earlier run (pairLayout).
	layoutShared bool
	// seq numbers this analysis among the runner's (PairMemo.beginRun). pairSince says, per pair,
	// since which run its metrics and products are the same; compSince, per component, since which
	// run the figures the exposure of a pair reads are (findingreuse.go). Nil without the memo.
	seq       uint64
	pairSince []uint64
	compSince []uint64
	// pairsFrom is the number of the run whose pair metrics this one's reused pairs took (0: none);
	// global the pair step's run digest (pairGlobalDigest), with the memo.
	pairsFrom uint64
	global    uint64
	// keys are the pair keys of Pairs, in order (the layout's slice when it is shared); subjects
	// their finding subjects, with the memo (pairSubject).
	keys     []uint64
	subjects []string
	// GraphReused says Graph, its nodes and Betweenness came from the runner's memo without
	// building the graph (its links and ids were the same).
	GraphReused bool
	graphNodes  []graphNode
	idsDigest   uint64 // of in.ids, when the runner's memos are on
	prodsDigest uint64 // of the BOM and makes links (productsDigest), when the runner's memos are on
}

// SupShare is one supplier's share of an enterprise × component.
type SupShare struct {
	Sup      int32
	Share    float64
	Country  string
	Domestic bool
	Award    bool // active through a procurement award only
}

// PairMetrics are the single-source, TTS/TTR and alternates figures of one enterprise × component.
type PairMetrics struct {
	Ent, Comp    int32
	Suppliers    []SupShare // active qualified suppliers, share descending
	HHI          float64    // Σ sᵢ² over Suppliers
	CountryHHI   float64
	TopCountry   string
	TopCountryS  float64
	ForeignShare float64
	Countries    []Share
	InProgress   int
	SubsCount    int // substitution-list entries applicable
	// NumAlternates is the number of alternates (at most max_alternates); the list itself is
	// Analysis.Alternates(p), computed on demand.
	NumAlternates int
	NoAlternate   bool
	TTS           float64
	TTSKnown      bool
	TTR           float64
	TTRSource     string
	Products      []int32
}

// TopShare is the largest supplier share (1 when there is no qualified supplier).
func (p *PairMetrics) TopShare() float64 {
	if len(p.Suppliers) == 0 {
		return 1
	}
	return p.Suppliers[0].Share
}

// CompMetrics are the per-component figures: chokepoint terms and aggregates over its users.
type CompMetrics struct {
	Comp           int32
	Info           *NodeInfo
	Conc           *ConcMetrics // world / import concentration of its HS code or material, nil if none
	Material       string
	Enterprises    int // downstream enterprises (users + makers of products containing it)
	ChainLeaders   int
	Products       []int32
	Reach          float64
	Betweenness    float64 // normalised 0..1 (whole graph)
	BetweennessRel float64 // relative to the most central component
	SupplierShares []Share // over all users (each pair weighs 1)
	CountryShares  []Share
	ForeignShare   float64
	Pairs          int
	SingleSourced  int
	NoAlternate    int
	TTSKnown       int
	Exposed        int
	TTSGapNorm     float64 // mean over pairs with TTS known
	Availability   float64 // worst part signal 0..1
	OnList         bool
	ChokeScore     float64 // the chokepoint detector's score of this component (0..100)
	chokeTerms     []Term
	chokeFlags     []string
}

// ConcMetrics is the supply concentration of one HS code or material.
type ConcMetrics struct {
	Key       string
	Year      int
	ExportHHI float64 // world exports over exporter countries (latest year)
	Exporters []Share
	ImportHHI float64 // the monitored region's imports over partners (latest year), shares of World imports
	Partners  []Share
	// import coverage (latest year): Σ listed partners ÷ imports from partner World, when a World row exists
	ImportWorld         float64
	ImportCoverage      float64
	ImportRemainder     float64
	ImportCoverageKnown bool
	HomeM               float64
	HomeX               float64
	HomeMKg             float64
	HomeXKg             float64
	DepHits             int
	DepYears            int
	Dependency          bool
	Dep                 Dependency // the rule's full outcome (coverage floor included)
	HasTrade            bool
	HasImports          bool
	// production (materials): every stage with data (production_stages order), and the binding stage
	// (the most concentrated) copied into the Prod* fields below.
	Stages     []*StageConc
	ProdYear   int
	ProdStage  string
	ProdUnit   string
	ProdHHI    float64
	Producers  []Share
	ProdTotal  float64
	HomeProd   float64 // of the preferred stage (the first in production_stages), for import reliance
	HasProd    bool
	HasHomeP   bool
	IRStage    string
	IRUnit     string
	IR         float64
	HasIR      bool
	SupplyRisk float64
	RiskShares string // "production (<stage>)" or "exports"
	HSCodes    []string
}

// StageConc is the producer concentration of one production stage of a material, in its latest
// year with production.
type StageConc struct {
	Stage string
	Year  int
	Unit  string
	ProductionConc
	HomeProd   float64
	HasHomeP   bool
	SupplyRisk float64
}

// Binding is the stage a material's world_hhi is taken from: the most concentrated one.
func (c *ConcMetrics) binding() *StageConc {
	var b *StageConc
	for _, st := range c.Stages {
		if b == nil || st.HHI > b.HHI {
			b = st
		}
	}
	return b
}

// SupplierMetric is the graph position of one supplier.
type SupplierMetric struct {
	Sup            int32
	Info           *NodeInfo
	Betweenness    float64
	BetweennessRel float64
	Enterprises    int
	ChainLeaders   int
	Pairs          int
	SolePairs      int
	Foreign        bool
}

// PartMetrics are the availability signals of one part.
type PartMetrics struct {
	Part        string
	Comp        string
	Snapshots   int
	LeadBase    float64
	LeadLatest  float64
	LeadNorm    float64
	LeadJump    bool
	StockMedian float64
	StockLatest float64
	StockNorm   float64
	Collapse    bool
	LifeFrom    string
	LifeTo      string
	LifeMoved   bool
	LifeNorm    float64
	FirstDay    int64
	LastDay     int64
}

// Signal is the part's worst signal in 0..1 (used by exposure).
func (p *PartMetrics) Signal() float64 {
	s := p.LifeNorm
	if p.LeadJump {
		s = math.Max(s, p.LeadNorm)
	}
	if p.Collapse {
		s = math.Max(s, p.StockNorm)
	}
	return s
}

// Analysis returns the run's shared analysis, computing it on first use. The computation stops
// with ctx's error when ctx ends (the detector timeout bounds it); a failed analysis is not kept,
// so a later call with a live context computes it again.
func (in *Inputs) Analysis(ctx context.Context) (*Analysis, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.analysis != nil {
		return in.analysis, nil
	}
	a, err := analyze(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("detectors: analysis: %w", err)
	}
	in.analysis = a
	return a, nil
}

func (in *Inputs) home() string { return strings.ToUpper(in.Cfg.HomeISO3) }

func (in *Inputs) isDomestic(info *NodeInfo) bool {
	return info != nil && (info.Domestic || (info.Country != "" && info.Country == in.home()))
}

func countryOrUnknown(c string) string {
	if c == "" {
		return "UNK"
	}
	return c
}

func analyze(ctx context.Context, in *Inputs) (*Analysis, error) {
	a := &Analysis{in: in, compIdx: map[int32]int32{}} // pairs() sizes pairIdx
	if in.pairMemo != nil || in.betweenness != nil {
		a.idsDigest = idsDigest(in.ids) // what the memos' interned indexes mean
	}
	if in.pairMemo != nil {
		a.seq = in.pairMemo.beginRun(in.runID)
	}
	// The first four steps read only the Inputs and write fields of their own (HS and Mats; Parts;
	// Pairs, pairIdx and altIx; Graph, Betweenness and graphNodes): they run concurrently. The
	// components and suppliers steps read their results, and run concurrently after them (Comps
	// and compIdx; Sups).
	for _, steps := range [][]func(context.Context) error{{a.pairs, a.graph, a.concentration, a.parts}, {a.components, a.suppliers}} {
		g, gctx := errgroup.WithContext(ctx)
		for _, step := range steps {
			g.Go(func() error { return step(gctx) })
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *Analysis) Pair(ent, comp string) *PairMetrics {
	k := pairKey(a.in.Lookup(ent), a.in.Lookup(comp))
	if i, ok := a.pairIdx[k]; ok {
		return &a.Pairs[i]
	}
	return nil
}

// Component returns the metrics of a component, or nil.
func (a *Analysis) Component(id string) *CompMetrics {
	if i, ok := a.compIdx[a.in.Lookup(id)]; ok {
		return a.Comps[i]
	}
	return nil
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

func topShares(s []Share, n int) string {
	var b strings.Builder
	for i, x := range s {
		if i == n {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.Key)
		b.WriteByte(' ')
		b.WriteString(pct(x.Value))
	}
	return b.String()
}
