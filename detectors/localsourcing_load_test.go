package detectors

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

// TestLoadLeaderSuppliesIntegration: the local-sourcing index from LoadLeaderSupplies (the chain
// leaders' supplies links only, filtered in ClickHouse) equals the index from the whole supply map
// (LoadSupplyMap), on a synthetic network whose enterprises and suppliers sit in two region
// groups, with newer versions of some leaders' links (other shares, a disqualification, a new
// supplier) and a newer version of a node (a leader that stops being one), read before and after
// those versions and with no bound.
func TestLoadLeaderSuppliesIntegration(t *testing.T) {
	conn, ctx, now, recs := loadCacheNetwork(t, 20000)
	cfg := benchConfig()
	var g1, g2 []string // the synthetic enterprises' regions are R00–R30
	for i := range 31 {
		if i < 15 {
			g1 = append(g1, fmt.Sprintf("R%02d", i))
		} else {
			g2 = append(g2, fmt.Sprintf("R%02d", i))
		}
	}
	cfg.Regions.Groups = []RegionGroup{{Name: "G1", Members: g1}, {Name: "G2", Members: g2}}
	leaders := map[string]bool{}
	var base []schemas.Record
	for i, r := range recs {
		switch x := r.(type) {
		case *schemas.SupplyNode:
			n := *x
			if n.NodeType == schemas.NodeSupplier {
				n.Region = fmt.Sprintf("R%02d", i%40) // some in G1, some in G2, some in neither
			}
			if n.NodeType == schemas.NodeEnterprise && n.ChainLeader && cfg.Regions.GroupOf(n.Region) != "" {
				leaders[n.NodeID] = true
			}
			base = append(base, &n)
		default:
			base = append(base, r)
		}
	}
	later := memoNow.Add(24 * time.Hour)
	var newer []schemas.Record
	var changedLinks, droppedLeader int
	for _, r := range base {
		switch x := r.(type) {
		case *schemas.SupplyLink:
			if x.LinkType != schemas.LinkSupplies || !leaders[x.EnterpriseID] {
				continue
			}
			l := *x
			l.AsOf = later
			switch changedLinks % 3 {
			case 0:
				l.Share = l.Share / 2
			case 1:
				l.Qualification = "disqualified"
			case 2:
				l.SupplierID += "-NEW" // a new key: a supplier with no node
			}
			changedLinks++
			if changedLinks <= 60 {
				newer = append(newer, &l)
			}
		case *schemas.SupplyNode:
			if x.NodeType == schemas.NodeEnterprise && leaders[x.NodeID] && droppedLeader == 0 {
				n := *x
				n.ChainLeader, n.AsOf = false, later
				newer = append(newer, &n)
				droppedLeader++
			}
		}
	}
	if len(leaders) < 10 || changedLinks < 60 || droppedLeader != 1 {
		t.Fatalf("network too small for the test: %d leaders in a group, %d of their links", len(leaders), changedLinks)
	}
	insertRecords(t, ctx, conn, now.Add(-2*time.Hour), base)
	insertRecords(t, ctx, conn, now.Add(-time.Hour), newer)

	// leaders' ids in chunks of 7: several queries
	defer func(n int) { leaderChunk = n }(leaderChunk)
	leaderChunk = 7
	var results [][]LocalSourcing
	for _, at := range []time.Time{memoNow, later, {}} {
		full, err := LoadSupplyMap(ctx, conn, cfg, at)
		if err != nil {
			t.Fatal(err)
		}
		part, err := LoadLeaderSupplies(ctx, conn, cfg, at)
		if err != nil {
			t.Fatal(err)
		}
		want, got := LocalSourcingIndex(full), LocalSourcingIndex(part)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("at %v: %d rows from the leaders' supplies, %d from the whole map\n got %+v\nwant %+v", at, len(got), len(want), got, want)
		}
		if len(part.Supplies) >= len(full.Supplies)/2 {
			t.Errorf("at %v: %d supplies edges loaded, the whole map has %d", at, len(part.Supplies), len(full.Supplies))
		}
		inGroup := 0
		for _, r := range got {
			if r.InRegion > 0 {
				inGroup++
			}
		}
		if len(got) < 10 || inGroup == 0 {
			t.Fatalf("at %v: %d leaders with an index, %d with an in-group supplier", at, len(got), inGroup)
		}
		results = append(results, got)
	}
	if reflect.DeepEqual(results[0], results[1]) || !reflect.DeepEqual(results[1], results[2]) {
		t.Error("the newer versions did not change the index at their as_of, or the unbounded read differs from the read after them")
	}
}
