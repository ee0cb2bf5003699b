package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/schemas"
)

// scaleResult is one size of the scale benchmark.
type scaleResult struct {
	Edges      int     `json:"edges"`
	Links      int     `json:"links"`
	TradeRows  int     `json:"trade_rows"`
	Records    int     `json:"records"`
	Pairs      int     `json:"pairs"`
	GraphNodes int     `json:"graph_nodes"`
	Ingest     float64 `json:"ingest_s"`  // generate + build Inputs (streamed)
	Rescore    float64 `json:"rescore_s"` // analysis + all five detectors
	Findings   int     `json:"findings"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Sampled    bool    `json:"sampled"`
}

// synthInputs builds the Inputs of the synthetic network sc (its clock set to now) under cfg.
func synthInputs(cfg Config, now time.Time, sc synth.Config) *Inputs {
	b := NewBuilder(cfg, now)
	sc.Now = now
	synth.Generate(sc, func(r schemas.Record) { b.Add(r) })
	return b.Inputs()
}

func benchConfig() Config {
	cfg := DefaultConfig()
	cfg.Chokepoint.Materials = map[string]ChokepointMaterial{"cobalt": {HSCodes: []string{"810520", "282200"}, SubstitutionIndex: 0.9}}
	return cfg
}

// runScale generates a network of `edges` supply links (and 5 × edges trade rows), builds Inputs in
// memory and rescores it with every detector.
func runScale(edges int) scaleResult {
	cfg := benchConfig()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	t0 := time.Now()
	b := NewBuilder(cfg, now)
	st := synth.Generate(synth.Config{Edges: edges, TradeRows: 5 * edges, Seed: 1, Now: now}, func(r schemas.Record) { b.Add(r) })
	in := b.Inputs()
	ingest := time.Since(t0)
	runtime.GC()
	t1 := time.Now()
	reg, _ := NewRegistry(cfg)
	dets, _ := reg.Select()
	// one detector at a time, findings dropped after counting: what the Runner does (it writes and
	// releases each detector's findings before the next)
	n := 0
	for _, d := range dets {
		fs, err := d.Run(context.Background(), in)
		if err != nil {
			panic(err)
		}
		n += len(fs)
		if os.Getenv("CHAINWATCH_SCALEBENCH_VERBOSE") != "" {
			fmt.Fprintf(os.Stderr, "%s: %d findings at %v\n", d.Name(), len(fs), time.Since(t1))
		}
	}
	rescore := time.Since(t1)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	a, err := in.Analysis(context.Background())
	if err != nil {
		panic(err)
	}
	return scaleResult{Edges: edges, Links: st.Links, TradeRows: st.ByKind[schemas.KindTrade], Records: st.Records,
		Pairs: len(a.Pairs), GraphNodes: a.Graph.N(), Ingest: ingest.Seconds(), Rescore: rescore.Seconds(), Findings: n,
		PeakRSSMiB: float64(ru.Maxrss) / 1024, Sampled: a.Betweenness.Sampled}
}

// TestScaleBench prints wall time and peak RSS of rescoring synthetic networks. It runs only when
// CHAINWATCH_SCALEBENCH is set (a comma list of sizes, or "1" for 10000,100000,1000000); each size
// runs in its own process so peak RSS is per size:
//
//	CHAINWATCH_SCALEBENCH=1 go test -run '^TestScaleBench$' -v -timeout 30m ./detectors/
func TestScaleBench(t *testing.T) {
	if one := os.Getenv("CHAINWATCH_SCALEBENCH_ONE"); one != "" {
		n, err := strconv.Atoi(one)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(runScale(n))
		fmt.Printf("SCALE %s\n", b)
		return
	}
	spec := os.Getenv("CHAINWATCH_SCALEBENCH")
	if spec == "" {
		t.Skip("set CHAINWATCH_SCALEBENCH=1 (or a list of sizes) to run the scale benchmark")
	}
	if spec == "1" {
		spec = "10000,100000,1000000"
	}
	var rows []scaleResult
	for _, s := range strings.Split(spec, ",") {
		cmd := exec.Command(os.Args[0], "-test.run=^TestScaleBench$", "-test.v")
		cmd.Env = append(os.Environ(), "CHAINWATCH_SCALEBENCH_ONE="+strings.TrimSpace(s))
		outb, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("size %s: %v\n%s", s, err, outb)
		}
		for _, line := range strings.Split(string(outb), "\n") {
			if js, ok := strings.CutPrefix(line, "SCALE "); ok {
				var r scaleResult
				if err := json.Unmarshal([]byte(js), &r); err != nil {
					t.Fatal(err)
				}
				rows = append(rows, r)
			}
		}
	}
	fmt.Printf("\n%-9s %-9s %-10s %-9s %-9s %-10s %-10s %-9s %-10s %s\n", "edges", "links", "trade", "pairs", "nodes",
		"ingest_s", "rescore_s", "findings", "rss_MiB", "betweenness")
	for _, r := range rows {
		mode := "exact"
		if r.Sampled {
			mode = "sampled"
		}
		fmt.Printf("%-9d %-9d %-10d %-9d %-9d %-10.2f %-10.2f %-9d %-10.0f %s\n", r.Edges, r.Links, r.TradeRows, r.Pairs,
			r.GraphNodes, r.Ingest, r.Rescore, r.Findings, r.PeakRSSMiB, mode)
	}
	if len(rows) > 1 {
		first, last := rows[0], rows[len(rows)-1]
		fmt.Printf("rescore time per link: %.2f µs at %d links, %.2f µs at %d links\n",
			1e6*first.Rescore/float64(first.Links), first.Links, 1e6*last.Rescore/float64(last.Links), last.Links)
	}
}

// BenchmarkRescore is the Go benchmark of the pure scoring path at 10k supply links.
func BenchmarkRescore(b *testing.B) {
	cfg := benchConfig()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []schemas.Record
	synth.Generate(synth.Config{Edges: 10000, Seed: 1, Now: now}, func(r schemas.Record) { recs = append(recs, r) })
	reg, _ := NewRegistry(cfg)
	dets, _ := reg.Select()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bl := NewBuilder(cfg, now)
		for _, r := range recs {
			bl.Add(r)
		}
		if _, err := RunAll(context.Background(), bl.Inputs(), dets); err != nil {
			b.Fatal(err)
		}
	}
}

// Betweenness cost per BFS source at growing graph sizes: the basis of the exact/sampled threshold.
func TestBetweennessCostMeasure(t *testing.T) {
	if os.Getenv("CHAINWATCH_SCALEBENCH") == "" {
		t.Skip("set CHAINWATCH_SCALEBENCH=1 to measure")
	}
	for _, n := range []int{1000, 3000, 10000, 100000} {
		g := NewGraph(n, randomGraph(n, 4*n, 1))
		k := min(n, 200)
		t0 := time.Now()
		if _, err := Betweenness(context.Background(), g, 0, k, 1); err != nil {
			t.Fatal(err)
		}
		per := time.Since(t0) / time.Duration(k)
		fmt.Printf("betweenness n=%d m=%d: %v per source; exact would take %v\n", n, 4*n, per, per*time.Duration(n))
	}
}
