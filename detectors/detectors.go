package detectors

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/chainwatch/chainwatch/schemas"
)

type configMaterial = ChokepointMaterial

var lifecycleNames = schemas.Lifecycles

// Detector names.
const (
	NameSingleSource = "single_source"
	NameChokepoint   = "chokepoint"
	NameAvailability = "availability"
	NameTTSTTR       = "tts_ttr"
	NameExposure     = "exposure"
)

// Detector turns one run's Inputs into findings. RunID, ComputedAt and PrevScore are filled by the
// Runner; a detector sets everything else.
type Detector interface {
	Name() string
	Run(ctx context.Context, in *Inputs) ([]Finding, error)
}

// Registry is the explicit, ordered set of detectors a Runner runs.
type Registry struct {
	list []Detector
}

// NewRegistry builds the registry of the detectors enabled in cfg, in Names order.
func NewRegistry(cfg Config) (*Registry, error) {
	all := map[string]Detector{
		NameSingleSource: singleSource{},
		NameChokepoint:   chokepoint{},
		NameAvailability: availability{},
		NameTTSTTR:       ttsTTR{},
		NameExposure:     exposure{},
	}
	enabled := map[string]bool{}
	for _, n := range cfg.Enabled {
		if _, ok := all[n]; !ok {
			return nil, fmt.Errorf("detectors: unknown detector %q", n)
		}
		enabled[n] = true
	}
	r := &Registry{}
	for _, n := range Names {
		if enabled[n] {
			r.list = append(r.list, all[n])
		}
	}
	return r, nil
}

// Names lists the registered detectors in run order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.list))
	for i, d := range r.list {
		out[i] = d.Name()
	}
	return out
}

// Select returns the named detectors (all when names is empty), or an error naming an unknown one.
func (r *Registry) Select(names ...string) ([]Detector, error) {
	if len(names) == 0 {
		return append([]Detector(nil), r.list...), nil
	}
	var out []Detector
	for _, n := range names {
		found := false
		for _, d := range r.list {
			if d.Name() == n {
				out = append(out, d)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("detectors: %q is not enabled (enabled: %s)", n, strings.Join(r.Names(), ", "))
		}
	}
	return out, nil
}

// RunAll runs every given detector on in and returns the findings per detector (no I/O: the
// pure-Go scoring path used by the Runner and the benchmarks).
func RunAll(ctx context.Context, in *Inputs, dets []Detector) (map[string][]Finding, error) {
	out := map[string][]Finding{}
	for _, d := range dets {
		f, err := d.Run(ctx, in)
		if err != nil {
			return out, fmt.Errorf("detector %s: %w", d.Name(), err)
		}
		out[d.Name()] = f
	}
	return out, nil
}

// ---- helpers ------------------------------------------------------------------------------------

func term(name string, value, norm, weight float64, detail string) Term {
	return Term{Name: name, Value: value, Norm: Clamp01(norm), Weight: weight, Detail: detail}
}

// unknown is a term whose input is missing: listed with weight 0 so the score renormalises over the
// known terms.
func unknown(name, why string) Term {
	return Term{Name: name, Detail: "n/a: " + why}
}

func b01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// uniqueFlags drops repeated flags, keeping the first occurrence's order.
func uniqueFlags(flags []string) []string {
	out := flags[:0]
	for _, f := range flags {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// sortFindings orders findings by score descending, then subject type and subject (compareFindings).
// It sorts the findings' indexes and then moves each finding once (permute): a Finding is about
// 400 bytes with pointers, and a sort swapping the findings themselves moved each about log n times,
// through the write barriers whenever a garbage collection was marking (at 1M edges the
// chokepoint detector's sort was most of its memmoves). Equal findings keep their order.
func sortFindings(fs []Finding) {
	order := make([]int32, len(fs))
	for i := range order {
		order[i] = int32(i)
	}
	sortOrder(fs, order)
	permute(fs, order)
}

// sortOrder sorts order, indexes into fs, into the findings order (compareFindings), equal findings
// by index. The comparisons read a copy of the scores beside the indexes, in one array: most
// findings differ in score, and reading each from its Finding was a cache miss per comparison
// (about 800,000 comparisons for 50,000 findings).
func sortOrder(fs []Finding, order []int32) {
	type keyed struct {
		score float64
		i     int32
	}
	ks := make([]keyed, len(order))
	for k, i := range order {
		ks[k] = keyed{fs[i].Score, i}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return cmp.Or(compareFindings(&fs[a.i], &fs[b.i]), cmp.Compare(a.i, b.i))
	})
	for k := range ks {
		order[k] = ks[k].i
	}
}

// compareFindings orders findings as sortFindings does: score descending, then subject type and
// subject ascending (better).
func compareFindings(x, y *Finding) int {
	switch {
	case better(x.Score, x.SubjectType, x.Subject, y.Score, y.SubjectType, y.Subject):
		return -1
	case better(y.Score, y.SubjectType, y.Subject, x.Score, x.SubjectType, x.Subject):
		return 1
	}
	return 0
}

// normalizeFindings dedupes each finding's flags and gives nil flags and products an empty list.
func normalizeFindings(fs []Finding) {
	for i := range fs {
		fs[i].Flags = uniqueFlags(fs[i].Flags)
		if fs[i].Flags == nil {
			fs[i].Flags = []string{}
		}
		if fs[i].Products == nil {
			fs[i].Products = []string{}
		}
	}
}

func capFindings(fs []Finding, n int) []Finding {
	normalizeFindings(fs)
	sortFindings(fs)
	if n > 0 && len(fs) > n {
		return fs[:n]
	}
	return fs
}

const maxProducts = 100

func (in *Inputs) productIDs(ids []int32) []string {
	out := make([]string, 0, min(len(ids), maxProducts))
	for i, p := range ids {
		if i == maxProducts {
			break
		}
		out = append(out, in.ID(p))
	}
	return out
}

// pairSubjectOf is the subject of an enterprise × component finding: "enterprise id|component id".
func pairSubjectOf(ent, comp string) string { return ent + "|" + comp }

// pairFinding fills the dimensions of an enterprise × component finding. Its alternates are added
// when the finding is kept (collector.result).
func (in *Inputs) pairFinding(det string, p *PairMetrics) Finding {
	ent, comp := in.ID(p.Ent), in.ID(p.Comp)
	f := Finding{Detector: det, SubjectType: SubjectEnterpriseComponent, Subject: pairSubjectOf(ent, comp),
		EnterpriseID: ent, ComponentID: comp, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo,
		Products: in.productIDs(p.Products), pair: p}
	name := ""
	if e := in.Enterprises[p.Ent]; e != nil {
		f.Industry, f.Region, f.ChainLeader = e.Industry, e.Region, e.ChainLeader
		name = e.Name
	}
	if c := in.Components[p.Comp]; c != nil {
		f.Category = c.Category
		name += " × " + c.Name
	}
	f.SubjectName = strings.Trim(name, " ×")
	if p.TTSKnown {
		f.TTSDays = ptr(p.TTS)
	}
	f.TTRDays = ptr(p.TTR)
	return f
}

func (in *Inputs) compFinding(det string, c *CompMetrics) Finding {
	id := in.ID(c.Comp)
	return Finding{Detector: det, SubjectType: SubjectComponent, Subject: id, SubjectName: c.Info.Name, ComponentID: id,
		Category: c.Info.Category, ChainLeader: c.ChainLeaders > 0, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo,
		Products: in.productIDs(c.Products)}
}

func ptr(f float64) *float64 { return &f }

func TopTerms(f *Finding, n int) []string {
	ts := append([]Term(nil), f.Terms...)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Contribution != ts[j].Contribution {
			return ts[i].Contribution > ts[j].Contribution
		}
		return ts[i].Name < ts[j].Name
	})
	var out []string
	for i := 0; i < len(ts) && i < n; i++ {
		if ts[i].Contribution > 0 || math.IsNaN(ts[i].Contribution) {
			out = append(out, ts[i].Name)
		}
	}
	return out
}
