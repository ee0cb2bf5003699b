package detectors

// Pure scoring math. Every function here is deterministic, allocation-light and free of I/O; the
// formulas are repeated in docs/scoring.md. Shares are fractions (0..1), never percent.

import (
	"maps"
	"math"
	"slices"
	"sort"
)

// NormaliseShares returns the values divided by their sum, dropping nothing: non-positive or NaN
// values count as 0. A zero sum gives all zeros.
//
//	sᵢ = max(vᵢ, 0) / Σⱼ max(vⱼ, 0)
func NormaliseShares(values []float64) []float64 {
	return normaliseSharesInto(make([]float64, 0, len(values)), values)
}

// normaliseSharesInto is NormaliseShares writing into dst's memory (dst[:len(values)], grown when short).
func normaliseSharesInto(dst, values []float64) []float64 {
	out := slices.Grow(dst[:0], len(values))[:len(values)]
	clear(out)
	sum := 0.0
	for _, v := range values {
		if v > 0 {
			sum += v
		}
	}
	if sum <= 0 {
		return out
	}
	for i, v := range values {
		if v > 0 {
			out[i] = v / sum
		}
	}
	return out
}

// HHI is the Herfindahl–Hirschman index of shares given as fractions, normalised first when they do
// not sum to 1 (so volumes can be passed directly). 0 for an empty or all-zero input; 1 for a monopoly.
//
//	HHI = Σᵢ (vᵢ / Σⱼ vⱼ)²
func HHI(values []float64) float64 {
	sum := 0.0
	for _, v := range values {
		if v > 0 {
			sum += v
		}
	}
	if sum <= 0 {
		return 0
	}
	h := 0.0
	for _, v := range values {
		if v > 0 {
			s := v / sum
			h += s * s
		}
	}
	return h
}

// HHIPartial is the HHI of named shares against a larger total: entries in values are squared as
// shares of total, and whatever total has beyond Σ values is treated as atomistic (many tiny
// producers contributing ~0). Used for production tables with an "Other countries" line.
//
//	HHI = Σᵢ (vᵢ / T)²,   T ≥ Σᵢ vᵢ
func HHIPartial(values []float64, total float64) float64 {
	if !(total > 0) {
		return 0
	}
	h := 0.0
	for _, v := range values {
		if v > 0 {
			s := v / total
			h += s * s
		}
	}
	return h
}

// EffectiveNumber is the "numbers-equivalent" of an HHI: 1/HHI (0 when HHI is 0).
func EffectiveNumber(hhi float64) float64 {
	if hhi <= 0 {
		return 0
	}
	return 1 / hhi
}

// Share is one named share (a supplier, a country).
type Share struct {
	Key   string
	Value float64 // fraction 0..1 after normalisation
}

// SharesOf normalises a map of volumes into shares sorted by share descending, then key.
func SharesOf(volumes map[string]float64) []Share {
	// summed in key order: a float sum in map order would differ between runs in the last bits
	keys := slices.Sorted(maps.Keys(volumes))
	sum := 0.0
	for _, k := range keys {
		if v := volumes[k]; v > 0 {
			sum += v
		}
	}
	out := make([]Share, 0, len(volumes))
	if sum <= 0 {
		return out
	}
	for _, k := range keys {
		if v := volumes[k]; v > 0 {
			out = append(out, Share{Key: k, Value: v / sum})
		}
	}
	SortShares(out)
	return out
}

// SortShares sorts by share descending, then key ascending (deterministic ties).
func SortShares(s []Share) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Value != s[j].Value {
			return s[i].Value > s[j].Value
		}
		return s[i].Key < s[j].Key
	})
}

// HHIShares is HHI over Share values.
func HHIShares(s []Share) float64 {
	h := 0.0
	for _, x := range s {
		h += x.Value * x.Value
	}
	return h
}

// ImportReliance is the net import reliance of a region, as USGS defines it:
//
//	IR = (M − X) / (P + M − X)
//
// with imports M, exports X and domestic production P in the same physical unit. ok is false when
// the apparent consumption P + M − X is not positive. IR is negative for a net exporter; callers clamp
// it to [0, 1] for scoring.
func ImportReliance(imports, exports, production float64) (ir float64, ok bool) {
	den := production + imports - exports
	if !(den > 0) {
		return 0, false
	}
	return (imports - exports) / den, true
}

// YearTrade is one year of a product's trade as seen from the monitored region.
type YearTrade struct {
	Year      int
	ImportHHI float64 // concentration of the region's imports over partner countries
	ExportHHI float64 // concentration of world exports over exporter countries
	Imports   float64 // the region's imports (value)
	Exports   float64 // the region's exports (value)
	// Coverage is Σ listed partners ÷ the region's imports from partner World, when CoverageKnown
	// (a World row exists); years without a World row are not assessed.
	Coverage      float64
	CoverageKnown bool
}

// DependencyRule is the CEPII-style strategic dependency test (Vicard & Wibaux 2023, after Jaravel
// & Méjean 2021): in a year the region is dependent on a product when
//
//	importHHI > hI  and  worldExportHHI > hX  and  M / X > r      (X = 0 with M > 0 counts as > r)
//
// and the product is flagged when that holds in at least `required` of the last `window` years
// present in the series (years are taken from the most recent backwards; missing years count as
// misses). It returns the number of hit years among those considered and whether the rule fires.
func DependencyRule(series []YearTrade, hI, hX, r float64, required, window int) (hits int, fires bool) {
	d := DependencyRuleCovered(series, hI, hX, r, required, window, 0)
	return d.Hits, d.Fires
}

// Dependency is the outcome of DependencyRuleCovered.
type Dependency struct {
	Hits  int // years that count
	Fires bool
	// Uncovered counts the years of the window whose import coverage is below the floor: they never
	// count. Insufficient is true when the rule does not fire and such a year exists: it cannot say
	// "no dependency", only "insufficient coverage".
	Uncovered    int
	Insufficient bool
	MinCoverage  float64 // lowest assessed coverage in the window (1 when none was assessed)
}

// DependencyRuleCovered is DependencyRule with an import-coverage floor: a year whose listed
// partners cover less than minCoverage of the region's World imports (Coverage, when known) is not
// counted, so the rule fires on covered years only; when it does not fire and a year was uncovered
// the result is Insufficient instead of a plain "no".
func DependencyRuleCovered(series []YearTrade, hI, hX, r float64, required, window int, minCoverage float64) Dependency {
	d := Dependency{MinCoverage: 1}
	if len(series) == 0 || window <= 0 {
		return d
	}
	latest := series[0].Year
	for _, y := range series {
		if y.Year > latest {
			latest = y.Year
		}
	}
	for _, y := range series {
		if y.Year <= latest-window {
			continue
		}
		if y.CoverageKnown {
			d.MinCoverage = min(d.MinCoverage, y.Coverage)
			if y.Coverage < minCoverage {
				d.Uncovered++
				continue
			}
		}
		ratioOK := false
		switch {
		case y.Exports > 0:
			ratioOK = y.Imports/y.Exports > r
		case y.Imports > 0:
			ratioOK = true
		}
		if y.ImportHHI > hI && y.ExportHHI > hX && ratioOK {
			d.Hits++
		}
	}
	d.Fires = d.Hits >= required
	d.Insufficient = !d.Fires && d.Uncovered > 0
	return d
}

// PartnerConcentration is the concentration of the region's imports over its partners against its
// total imports from partner World (Comtrade partner code 0) when that is known:
//
//	sₚ = vₚ / W,  HHI = Σₚ sₚ²,  coverage = Σₚ vₚ / W,  remainder = max(0, W − Σₚ vₚ)
//
// The remainder (partners not listed) is treated as fragmented (≈ 0 in the HHI). Without a World
// total (world ≤ 0, e.g. BACI) or when the listed partners exceed it by more than
// WorldTotalTolerance, the shares are of the listed sum (coverage not assessed, ofWorld false).
func PartnerConcentration(partners map[string]float64, world float64) (shares []Share, hhi, coverage, remainder float64, ofWorld bool) {
	named, listed := positive(partners)
	den := listed
	if world > 0 && listed <= world*(1+WorldTotalTolerance) {
		den, ofWorld = world, true
	}
	if !(den > 0) {
		return []Share{}, 0, 0, 0, ofWorld
	}
	shares = make([]Share, 0, len(named))
	for _, k := range named {
		s := partners[k] / den
		shares = append(shares, Share{Key: k, Value: s})
		hhi += s * s
	}
	SortShares(shares)
	if ofWorld {
		coverage = listed / world
		remainder = max(0, world-listed)
	} else {
		coverage = 1
	}
	return shares, Clamp01(hhi), coverage, remainder, ofWorld
}

// positive returns the keys with positive volume (sorted) and their sum.
func positive(m map[string]float64) ([]string, float64) {
	keys := make([]string, 0, len(m))
	sum := 0.0
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
			sum += v
		}
	}
	slices.Sort(keys)
	return keys, sum
}

// WorldTotalTolerance is how far listed rows may exceed a published World total and still be
// measured against it: USGS rounds its World totals (rare earths 2023: the country rows sum to
// 353 320 t against a World total of 350 000 t, +0.9 %). Beyond it the World row is taken to
// describe something else and the listed sum is used.
const WorldTotalTolerance = 0.05

// ProductionConc is the concentration of one production table (commodity, stage, year).
type ProductionConc struct {
	Producers []Share // named countries, shares of Total, descending
	HHI       float64
	Total     float64 // the denominator: the World total when OfWorld, else the listed sum
	Listed    float64 // Σ listed rows, "Other countries" included
	Other     float64 // "Other countries" rows
	Remainder float64 // Total − Σ named countries (≥ 0): "Other countries" + unlisted, fragmented
	World     float64 // the published World total (0 when none)
	OfWorld   bool
}

// ProductionConcentration computes producer shares and HHI of one production table from the named
// countries' volumes (rows of one country already summed), the "Other countries" rows and the
// published World total (0 when none):
//
//	T = W when W > 0 and Σ listed ≤ W × (1 + WorldTotalTolerance), else Σ listed (named + other)
//	s_c = q_c / T,   HHI = min(1, Σ_named s_c²)
//
// "Other countries" and the unlisted remainder W − Σ listed are many small producers, treated as
// fragmented: they add ≈ 0 to the HHI (so the HHI is a lower bound; counting the whole remainder
// as one producer would add (Remainder/T)²).
func ProductionConcentration(named map[string]float64, other, world float64) ProductionConc {
	keys, sum := positive(named)
	pc := ProductionConc{Listed: sum + max(other, 0), Other: max(other, 0), World: max(world, 0)}
	pc.Total = pc.Listed
	if world > 0 && pc.Listed <= world*(1+WorldTotalTolerance) {
		pc.Total, pc.OfWorld = world, true
	}
	pc.Producers = make([]Share, 0, len(keys))
	if !(pc.Total > 0) {
		return pc
	}
	for _, k := range keys {
		s := named[k] / pc.Total
		pc.Producers = append(pc.Producers, Share{Key: k, Value: s})
		pc.HHI += s * s
	}
	SortShares(pc.Producers)
	pc.HHI = Clamp01(pc.HHI)
	pc.Remainder = max(0, pc.Total-sum)
	return pc
}

// SupplyRisk is an EU-CRM-style supply risk (European Commission 2017 methodology, simplified to one
// sourcing stage):
//
//	SR = (Σ_c s_c² × G_c × T_c) × (1 − EoL_RIR) × SI
//
// s_c country shares (fractions), G_c the governance factor (EU: WGI scaled 0..10), T_c the
// trade-restriction factor (EU: 1..1.1), EoL_RIR the end-of-life recycling input rate and SI the
// substitution index (1 = no substitute). gov and tr return the factor of an ISO3 code.
func SupplyRisk(shares []Share, gov, tr func(iso3 string) float64, recycling, substitution float64) float64 {
	sum := 0.0
	for _, s := range shares {
		sum += s.Value * s.Value * gov(s.Key) * tr(s.Key)
	}
	return sum * (1 - recycling) * substitution
}

// WeightedReach counts the downstream dependants of a node, a chain leader (链主) counting w times:
//
//	reach = Σ_enterprises (w if chain leader else 1)
func WeightedReach(enterprises, chainLeaders int, w float64) float64 {
	return float64(enterprises-chainLeaders) + w*float64(chainLeaders)
}

// Saturate maps a non-negative count to 0..1 with half-saturation at half: x / (x + half).
func Saturate(x, half float64) float64 {
	if x <= 0 || !(half > 0) {
		return 0
	}
	return x / (x + half)
}

// Clamp01 clamps to [0, 1]; NaN becomes 0.
func Clamp01(x float64) float64 {
	switch {
	case x != x || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

// Composite fills Contribution and Share of each term and returns the score (0..100):
//
//	score = 100 × Σᵢ wᵢ nᵢ / Σᵢ wᵢ,   contributionᵢ = 100 wᵢ nᵢ / Σⱼ wⱼ,   shareᵢ = contributionᵢ / score
//
// nᵢ is the term's Norm (0..1, clamped). Terms with weight 0 are listed with contribution 0 (a term
// whose input is unknown is given weight 0 by its detector and says so in Detail). Σ contributions
// = score and Σ shares = 1 (when score > 0).
func Composite(terms []Term) float64 {
	wsum := 0.0
	for _, t := range terms {
		if t.Weight > 0 {
			wsum += t.Weight
		}
	}
	score := 0.0
	for i := range terms {
		t := &terms[i]
		t.Norm = Clamp01(t.Norm)
		if t.Weight < 0 || wsum == 0 {
			t.Weight = math.Max(t.Weight, 0)
			t.Contribution = 0
			continue
		}
		t.Contribution = 100 * t.Weight * t.Norm / wsum
		score += t.Contribution
	}
	for i := range terms {
		if score > 0 {
			terms[i].Share = terms[i].Contribution / score
		} else {
			terms[i].Share = 0
		}
	}
	return score
}

// EWMA is the exponentially weighted moving average of xs with smoothing alpha, seeded with xs[0]:
//
//	m₀ = x₀,   mₜ = α xₜ + (1 − α) mₜ₋₁
func EWMA(xs []float64, alpha float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = alpha*x + (1-alpha)*m
	}
	return m
}

// Median of xs (0 for none); xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	c := append([]float64(nil), xs...)
	sort.Float64s(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

// LeadTimeJump compares the latest lead time with the EWMA baseline of the earlier ones:
//
//	b = EWMA(x₀..xₙ₋₂, α),   ratio = xₙ₋₁ / b,   jump ⇔ ratio ≥ R and xₙ₋₁ − b ≥ D
//	norm = clamp(1 − b / xₙ₋₁)    (share of today's lead time that is new: ratio 2 → 0.5)
func LeadTimeJump(xs []float64, alpha, ratio, minDays float64) (baseline, latest, norm float64, jump bool) {
	if len(xs) < 2 {
		return 0, 0, 0, false
	}
	baseline = EWMA(xs[:len(xs)-1], alpha)
	latest = xs[len(xs)-1]
	if latest <= 0 {
		return baseline, latest, 0, false
	}
	norm = Clamp01(1 - baseline/latest)
	if baseline <= 0 {
		return baseline, latest, norm, latest >= minDays
	}
	jump = latest/baseline >= ratio && latest-baseline >= minDays
	return baseline, latest, norm, jump
}

// StockCollapse compares the latest stock with the median of the previous `trailing` snapshots:
//
//	m = median(xₙ₋₁₋ₖ..xₙ₋₂),   collapse ⇔ m > 0 and xₙ₋₁ < f × m,   norm = clamp(1 − xₙ₋₁ / m)
func StockCollapse(xs []float64, trailing int, fraction float64) (median, latest, norm float64, collapse bool) {
	if len(xs) < 2 {
		return 0, 0, 0, false
	}
	latest = xs[len(xs)-1]
	prev := xs[:len(xs)-1]
	if trailing > 0 && len(prev) > trailing {
		prev = prev[len(prev)-trailing:]
	}
	median = Median(prev)
	if median <= 0 {
		return median, latest, 0, false
	}
	norm = Clamp01(1 - latest/median)
	return median, latest, norm, latest < fraction*median
}

// LifecycleSeverity ranks lifecycle states: active 0, nrnd 0.25, last_time_buy 0.5, eol 0.75,
// obsolete 1. Unknown states count as active.
func LifecycleSeverity(state string) float64 {
	switch state {
	case "nrnd":
		return 0.25
	case "last_time_buy":
		return 0.5
	case "eol":
		return 0.75
	case "obsolete":
		return 1
	}
	return 0
}

// TimeToSurvive is how long stock lasts without resupply: TTS = inventory ÷ consumption per day.
// ok is false when consumption is not positive (no burn: TTS is unbounded).
func TimeToSurvive(inventory, perDay float64) (days float64, ok bool) {
	if !(perDay > 0) {
		return 0, false
	}
	return math.Max(inventory, 0) / perDay, true
}

// TTSGap is the part of the time-to-recover not covered by stock:
//
//	gap = max(0, TTR − TTS),   norm = gap / TTR
func TTSGap(tts, ttr float64) (gap, norm float64) {
	if !(ttr > 0) {
		return 0, 0
	}
	gap = math.Max(0, ttr-tts)
	return gap, Clamp01(gap / ttr)
}

// HHIAfterSwitch is the supplier HHI after moving half of the top supplier's share onto an
// alternate (altIndex < 0: a new supplier; otherwise an existing one at that index):
//
//	s′_top = s_top / 2,   s′_alt = s_alt + s_top / 2,   HHI′ = Σ s′ᵢ²
func HHIAfterSwitch(shares []float64, altIndex int) float64 {
	if len(shares) == 0 {
		return 0
	}
	return hhiAfterSwitchNormalised(NormaliseShares(shares), altIndex)
}

// hhiAfterSwitchNormalised is HHIAfterSwitch on shares already normalised (s is overwritten).
func hhiAfterSwitchNormalised(s []float64, altIndex int) float64 {
	top := 0
	for i := range s {
		if s[i] > s[top] {
			top = i
		}
	}
	if altIndex == top {
		return HHI(s)
	}
	half := s[top] / 2
	s[top] = half
	h := 0.0
	for i, x := range s {
		if i == altIndex {
			x += half
		}
		h += x * x
	}
	if altIndex < 0 || altIndex >= len(s) {
		h += half * half
	}
	return h
}
