package detectors

import (
	"context"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/synth"
)

// TestPairsParallelEqualsSequential: the pair metrics computed in parallel chunks give the same
// findings as one goroutine (run under -race in make test's race step to catch shared writes).
func TestPairsParallelEqualsSequential(t *testing.T) {
	cfg := benchConfig()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	run := func(chunkMin int) map[string][]Finding {
		old, oldBlock := pairChunkMin, parallelBlock
		pairChunkMin, parallelBlock = chunkMin, 16 // blocks interleave between the workers
		defer func() { pairChunkMin, parallelBlock = old, oldBlock }()
		in := synthInputs(cfg, now, synth.Config{Edges: 3000, TradeRows: 3000, Seed: 7})
		reg, _ := NewRegistry(cfg)
		dets, _ := reg.Select()
		out := map[string][]Finding{}
		for _, d := range dets {
			fs, err := d.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			out[d.Name()] = fs
		}
		a, err := in.Analysis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Pairs) < 100 {
			t.Fatalf("only %d pairs", len(a.Pairs))
		}
		return out
	}
	seq, par := run(1<<30), run(7)
	for name, fs := range seq {
		if len(fs) == 0 && name != "availability" {
			t.Errorf("%s: no findings", name)
		}
		if !reflect.DeepEqual(fs, par[name]) {
			t.Errorf("%s: parallel pair metrics change the findings (%d vs %d)", name, len(fs), len(par[name]))
			for i := range min(len(fs), len(par[name])) {
				if !reflect.DeepEqual(fs[i], par[name][i]) {
					t.Logf("first difference at %d:\n%+v\n%+v", i, fs[i], par[name][i])
					break
				}
			}
		}
	}
}

// TestComponentCandidatesBlocks checks the block-parallel candidate lists against a plain
// reading: per component of the sorted supplies, its qualified suppliers once each, domestic first
// when configured, then by id; and their digests. Blocks of 5 links, taken one at a time by the
// workers, cut through most components, so a component listed by no block or by two fails it.
func TestComponentCandidatesBlocks(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, domesticFirst := range []bool{true, false} {
		cfg := benchConfig()
		cfg.Exposure.DomesticFirst = domesticFirst
		in := synthInputs(cfg, now, synth.Config{Edges: 3000, TradeRows: 3000, Seed: 11})
		a, err := in.Analysis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		order := a.altIx.order
		want := map[int32][]candidate{}
		for i := 0; i < len(order); {
			comp := in.Supplies[order[i]].Comp
			seen := map[int32]bool{}
			var cs []candidate
			for ; i < len(order) && in.Supplies[order[i]].Comp == comp; i++ {
				e := &in.Supplies[order[i]]
				if e.Qual == QualQualified && !seen[e.Sup] {
					seen[e.Sup] = true
					info := in.Suppliers[e.Sup]
					cs = append(cs, candidate{e.Sup, in.isDomestic(info), countryOf(info)})
				}
			}
			sort.Slice(cs, func(x, y int) bool {
				if domesticFirst && cs[x].domestic != cs[y].domestic {
					return cs[x].domestic
				}
				return in.ID(cs[x].sup) < in.ID(cs[y].sup)
			})
			want[comp] = cs
		}
		domestic, multi := 0, 0
		for _, cs := range want {
			if len(cs) > 1 {
				multi++
			}
			for _, c := range cs {
				if c.domestic {
					domestic++
				}
			}
		}
		if len(want) < 50 || multi < 20 || domestic == 0 {
			t.Fatalf("a network too plain to test: %d components, %d with several candidates, %d domestic candidates", len(want), multi, domestic)
		}
		for _, block := range []int{5, 1 << 30} {
			oldCand, oldPar := candBlock, parallelBlock
			candBlock, parallelBlock = block, 1
			ix := &pairIndex{order: order}
			err := a.componentCandidates(context.Background(), ix, true)
			candBlock, parallelBlock = oldCand, oldPar
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ix.compCands, want) {
				t.Errorf("domestic first %v, blocks of %d: the candidate lists differ from a plain reading", domesticFirst, block)
			}
			var h hasher
			for comp, cs := range want {
				if d, ok := ix.candDigests[comp]; !ok || d != candsDigest(&h, cs) {
					t.Errorf("domestic first %v, blocks of %d: component %s: digest %x (%v), want %x", domesticFirst, block, in.ID(comp), d, ok, candsDigest(&h, cs))
					break
				}
			}
			if len(ix.candDigests) != len(want) {
				t.Errorf("domestic first %v, blocks of %d: %d digests for %d components", domesticFirst, block, len(ix.candDigests), len(want))
			}
		}
	}
}

// TestChokepointSupplierFindings: the chokepoint run, which finds its reported suppliers before it
// builds any finding, reports every supplier that supplierFinding reports, in the analysis's
// supplier order, and no other (the synth network has both kinds).
func TestChokepointSupplierFindings(t *testing.T) {
	cfg := benchConfig()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	in := synthInputs(cfg, now, synth.Config{Edges: 3000, TradeRows: 3000, Seed: 7})
	in.Cfg.MaxFindingsPerDetector = 0 // all of them
	fs, err := chokepoint{}.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	a, err := in.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := newChokeRun(in, a)
	want := map[string]Finding{}
	for _, s := range a.Sups {
		if f, ok := r.supplierFinding(s); ok {
			one := []Finding{f}
			normalizeFindings(one) // as the run's findings are
			want[f.Subject] = one[0]
		}
	}
	got := map[string]Finding{}
	for _, f := range fs {
		if f.SubjectType == SubjectSupplier {
			got[f.Subject] = f
		}
	}
	if len(want) == 0 || len(want) == len(a.Sups) {
		t.Fatalf("%d of %d suppliers reported: the test needs some of each", len(want), len(a.Sups))
	}
	if len(got) != len(want) {
		t.Fatalf("%d supplier findings, want %d", len(got), len(want))
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("supplier %s: finding %+v, want %+v", id, g, w)
		}
	}
}
