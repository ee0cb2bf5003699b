package chstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// TestClusterDDLOnCurrentClickHouseIntegration parses every cluster-mode statement with a current
// ClickHouse (chdb, EXPLAIN AST): chdb has no cluster or ZooKeeper, so it checks the syntax there;
// TestClusterMigrateIntegration runs them for real on the 18.16 cluster.
func TestClusterDDLOnCurrentClickHouseIntegration(t *testing.T) {
	stmts, err := chstore.MigrationStatements(chstore.Config{Cluster: "chainwatch", Database: "chainwatch"})
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, s := range stmts {
		queries = append(queries, "EXPLAIN AST "+s)
	}
	out := testenv.Chdb(t, []string{}, queries)
	for i, r := range out.Results {
		if r.Error != "" || r.Rows == 0 {
			t.Errorf("ClickHouse %s does not parse %.100s: %s", out.Version, stmts[i], r.Error)
		}
	}
	t.Logf("%d cluster-mode statements parse on ClickHouse %s", len(stmts), out.Version)
}

// TestClusterMigrateIntegration migrates a fresh database on the 2x2 cluster, inserts duplicates
// through the Distributed tables from two different servers, and reads exact counts with FINAL.
func TestClusterMigrateIntegration(t *testing.T) {
	cl := testenv.RequireCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := chstore.DefaultConfig()
	cfg.Cluster, cfg.Database = cl.Name, "cwcluster_"+testenv.Suffix()
	conns := make([]driver.Conn, len(cl.ClickHouse))
	for i, addr := range cl.ClickHouse {
		c := cfg
		c.Addr, c.CreateDB = []string{addr}, i == 0
		conn, err := chstore.Open(ctx, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = conn
		defer conn.Close()
	}
	t.Cleanup(func() {
		_ = conns[0].Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database+" ON CLUSTER "+cl.Name)
	})
	n, err := chstore.MigrateConfig(ctx, conns[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := chstore.MigrateConfig(ctx, conns[3], cfg); err != nil || again != 0 {
		t.Fatalf("second migrate from another server: %d applied, err %v", again, err)
	}
	if pend, err := chstore.Pending(ctx, conns[2]); err != nil || len(pend) != 0 {
		t.Fatalf("pending on shard 2: %v %v", pend, err)
	}
	const distinct = 2000
	ins := "INSERT INTO rejected (reject_id, received_at, stage, source, reason, detail, raw)"
	for round, conn := range []driver.Conn{conns[0], conns[3], conns[1]} { // every id three times, via three servers
		var rows [][]any
		for i := range distinct {
			rows = append(rows, []any{fmt.Sprintf("r%05d", i), time.Unix(1700000000+int64(round), 0).UTC(), "sink", "test", "bad", "", ""})
		}
		if err := chstore.Insert(ctx, conn, ins, rows); err != nil {
			t.Fatalf("insert via server %d: %v", round, err)
		}
	}
	for i, conn := range conns {
		got, err := chstore.Count(ctx, conn, "rejected", "")
		if err != nil {
			t.Fatal(err)
		}
		if got != distinct {
			t.Errorf("count FINAL via %s = %d, want %d", cl.ClickHouse[i], got, distinct)
		}
	}
	// Both shards hold a share, and each replica of a shard has the same rows.
	for i, conn := range conns {
		if err := conn.Exec(ctx, "SYSTEM SYNC REPLICA rejected_local"); err != nil {
			t.Fatalf("sync replica %s: %v", cl.ClickHouse[i], err)
		}
		var local uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM rejected_local FINAL").Scan(&local); err != nil {
			t.Fatal(err)
		}
		if local == 0 || local == distinct {
			t.Errorf("%s holds %d of %d distinct rows: not sharded", cl.ClickHouse[i], local, distinct)
		}
		t.Logf("%s: %d rows (FINAL) in rejected_local", cl.ClickHouse[i], local)
	}
	t.Logf("%d migrations applied ON CLUSTER %s", n, cl.Name)
}
