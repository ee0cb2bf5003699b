package app

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
)

// localSourcingBench times the exposure metrics' local-sourcing index on the detector bench's map
// (one refresh's read: the index now and 7 days earlier), in the bench's own process, median of 3
// each: the whole supply map read twice (LoadSupplyMap, what a refresh did until 2026-12-07), the
// chain leaders' links only (LoadLeaderSupplies: a refresh after the map changed), and a refresh
// with nothing changed (Regional.LocalSourcingSince serving its memo). The synthetic map's
// enterprises lie in regions R00–R30, none in a default region group, so two groups cover them
// all here (about 5% of them are chain leaders). AllocMiB is what the read allocated.
type localSourcingBench struct {
	Leaders      int     `json:"leaders"`
	WholeMapS    float64 `json:"whole_map_s"`
	WholeMapMiB  float64 `json:"whole_map_alloc_mib"`
	LeadersS     float64 `json:"leaders_links_s"`
	LeadersMiB   float64 `json:"leaders_links_alloc_mib"`
	UnchangedS   float64 `json:"unchanged_s"`
	UnchangedMiB float64 `json:"unchanged_alloc_mib"`
}

func benchLocalSourcing(t *testing.T, conn driver.Conn) *localSourcingBench {
	t.Helper()
	ctx := context.Background()
	cfg := benchDetConfig()
	var g1, g2 []string
	for i := range 31 {
		if i < 15 {
			g1 = append(g1, fmt.Sprintf("R%02d", i))
		} else {
			g2 = append(g2, fmt.Sprintf("R%02d", i))
		}
	}
	cfg.Regions.Groups = []detectors.RegionGroup{{Name: "G1", Members: g1}, {Name: "G2", Members: g2}}
	at := benchNow.Add(time.Hour)
	rg := exposure.NewRegional(exposure.NewStore(conn, exposure.DefaultConfig()), cfg)
	timed := func(f func() int) (float64, float64, int) {
		var secs, mib []float64
		n := 0
		for range 3 {
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := time.Now()
			n = f()
			secs = append(secs, time.Since(start).Seconds())
			runtime.ReadMemStats(&m1)
			mib = append(mib, float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20))
		}
		return median(secs), median(mib), n
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	var b localSourcingBench
	var whole []detectors.LocalSourcing
	b.WholeMapS, b.WholeMapMiB, _ = timed(func() int {
		now, err := detectors.LoadSupplyMap(ctx, conn, cfg, at)
		must(err)
		prev, err := detectors.LoadSupplyMap(ctx, conn, cfg, at.Add(-exposure.Week))
		must(err)
		whole = detectors.WithChange(detectors.LocalSourcingIndex(now), detectors.LocalSourcingIndex(prev))
		return len(whole)
	})
	var memo exposure.LocalSourcingMemo
	b.LeadersS, b.LeadersMiB, b.Leaders = timed(func() int {
		memo = exposure.LocalSourcingMemo{}
		rows, _, err := rg.LocalSourcingSince(ctx, at, &memo)
		must(err)
		return len(rows)
	})
	if b.Leaders != len(whole) || b.Leaders == 0 {
		t.Fatalf("local sourcing: %d leaders from their links, %d from the whole map", b.Leaders, len(whole))
	}
	b.UnchangedS, b.UnchangedMiB, _ = timed(func() int {
		rows, reused, err := rg.LocalSourcingSince(ctx, at, &memo)
		must(err)
		if !reused {
			t.Fatal("local sourcing: an unchanged map was read again")
		}
		return len(rows)
	})
	return &b
}
