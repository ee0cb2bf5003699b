package detectors

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/schemas"
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
		b := NewBuilder(cfg, now)
		synth.Generate(synth.Config{Edges: 3000, TradeRows: 3000, Seed: 7, Now: now}, func(r schemas.Record) { b.Add(r) })
		in := b.Inputs()
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
