package chstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// TestMigrationsOnCurrentClickHouseIntegration runs every migration statement as is on a current
// ClickHouse engine (chdb), plus an insert and a FINAL read of every event table.
func TestMigrationsOnCurrentClickHouseIntegration(t *testing.T) {
	setup, err := schemas.MigrationDDL()
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, k := range schemas.Kinds() {
		spec, _ := schemas.Lookup(k)
		queries = append(queries, "SELECT count() FROM "+spec.Table+" FINAL")
	}
	queries = append(queries, "SELECT count() FROM rejected FINAL")
	out := testenv.Chdb(t, setup, queries)
	if len(out.SetupErrors) > 0 {
		t.Fatalf("DDL fails on ClickHouse %s: %v", out.Version, out.SetupErrors)
	}
	for i, r := range out.Results {
		if r.Error != "" || r.Rows != 1 {
			t.Errorf("%s on %s: rows %d err %s", queries[i], out.Version, r.Rows, r.Error)
		}
	}
	t.Logf("all %d migration statements ran on ClickHouse %s (chdb)", len(setup), out.Version)
}

// TestMigrateIdempotentIntegration: migrations apply on ClickHouse 18.16, are recorded, and a second
// run applies nothing; duplicate events collapse under FINAL.
func TestMigrateIdempotentIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t) // already migrated once
	ctx := context.Background()
	n, err := chstore.Migrate(ctx, conn)
	if err != nil || n != 0 {
		t.Fatalf("second migrate applied %d (err %v), want 0", n, err)
	}
	pend, err := chstore.Pending(ctx, conn)
	if err != nil || len(pend) != 0 {
		t.Fatalf("pending %v err %v", pend, err)
	}
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	// The same event inserted twice in separate batches collapses to one row.
	w := 1.0
	rec := &schemas.TradeFlow{ReporterM49: 842, PartnerM49: 156, Flow: "M", HSCode: "811292", Year: 2023, ValueUSD: 5, NetWeightKg: &w}
	env, err := schemas.NewEnvelope("test", rec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := schemas.Lookup(schemas.KindTrade)
	row := rec.AppendValues(schemas.AppendEnvelope(nil, &env))
	for i := 0; i < 2; i++ {
		if err := chstore.Insert(ctx, conn, spec.InsertSQL(), [][]any{row}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := chstore.Count(ctx, conn, spec.Table, "hs_code = ?", "811292")
	if err != nil || c != 1 {
		t.Fatalf("FINAL count = %d (err %v), want 1", c, err)
	}
	if !strings.HasPrefix(version, "18.") && !strings.HasPrefix(version, "2") {
		t.Logf("unexpected server version %s", version)
	}
	t.Logf("ClickHouse %s: migrations idempotent, duplicates collapse", version)
}
