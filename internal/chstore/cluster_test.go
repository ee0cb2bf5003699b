package chstore

import (
	"strings"
	"testing"
)

func TestClusterDDLRewritesEmbeddedMigrations(t *testing.T) {
	single, err := MigrationStatements(Config{})
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := MigrationStatements(Config{Cluster: "chainwatch", Database: "cw"})
	if err != nil {
		t.Fatal(err)
	}
	creates := 0
	for _, s := range single {
		if strings.HasPrefix(strings.TrimSpace(s), "CREATE TABLE") {
			creates++
		}
	}
	var locals, dists int
	for _, s := range stmts {
		if !strings.Contains(s, " ON CLUSTER chainwatch") && !strings.HasPrefix(s, "INSERT INTO") {
			t.Errorf("statement without ON CLUSTER: %.80s", s)
		}
		switch {
		case strings.Contains(s, "ENGINE = Replicated"):
			locals++
			if !strings.Contains(s, "_local ON CLUSTER") || !strings.Contains(s, "'/clickhouse/tables/{shard}/cw/") {
				t.Errorf("replicated table not local or without its ZooKeeper path: %.120s", s)
			}
		case strings.Contains(s, "ENGINE = Distributed("):
			dists++
		}
	}
	if locals != creates {
		t.Errorf("%d replicated local tables for %d CREATE TABLE statements", locals, creates)
	}
	if dists < creates {
		t.Errorf("%d Distributed tables for %d CREATE TABLE statements", dists, creates)
	}
	want := "CREATE TABLE IF NOT EXISTS cw.trade_flows ON CLUSTER chainwatch AS cw.trade_flows_local ENGINE = Distributed(chainwatch, cw, trade_flows_local, cityHash64(event_id))"
	if !contains(stmts, want) {
		t.Errorf("trade_flows Distributed table missing or not sharded on event_id; want %s", want)
	}
	if !contains(stmts, "CREATE TABLE IF NOT EXISTS cw.rejected ON CLUSTER chainwatch AS cw.rejected_local ENGINE = Distributed(chainwatch, cw, rejected_local, cityHash64(reject_id))") {
		t.Error("rejected is not sharded on its ORDER BY key reject_id")
	}
}

func TestClusterDDLStatements(t *testing.T) {
	c := newClusterDDL("cl", "db")
	got, err := c.rewrite("CREATE TABLE IF NOT EXISTS t (\n a String,\n b Nullable(Float64),\n at DateTime\n) ENGINE = ReplacingMergeTree(at)\nPARTITION BY toYYYYMM(at)\nORDER BY (a, b)")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE TABLE IF NOT EXISTS db.t_local ON CLUSTER cl (\n a String,\n b Nullable(Float64),\n at DateTime\n) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t_local', '{replica}', at)\nPARTITION BY toYYYYMM(at)\nORDER BY (a, b)",
		"CREATE TABLE IF NOT EXISTS db.t ON CLUSTER cl AS db.t_local ENGINE = Distributed(cl, db, t_local, cityHash64(a, b))",
	}
	assertStmts(t, "create", got, want)

	got, err = c.rewrite("ALTER TABLE t\n    ADD COLUMN c String DEFAULT ''")
	if err != nil {
		t.Fatal(err)
	}
	assertStmts(t, "alter", got, []string{
		"ALTER TABLE db.t_local ON CLUSTER cl ADD COLUMN c String DEFAULT ''",
		"DROP TABLE IF EXISTS db.t ON CLUSTER cl",
		want[1],
	})

	if _, err := c.rewrite("CREATE TABLE IF NOT EXISTS u (x UInt8) ENGINE = MergeTree() ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	got, err = c.rewrite("RENAME TABLE t TO t_old, u TO t")
	if err != nil {
		t.Fatal(err)
	}
	assertStmts(t, "rename", got, []string{
		"RENAME TABLE db.t_local TO db.t_old_local, db.u_local TO db.t_local ON CLUSTER cl",
		"DROP TABLE IF EXISTS db.t ON CLUSTER cl",
		"DROP TABLE IF EXISTS db.t_old ON CLUSTER cl",
		"DROP TABLE IF EXISTS db.u ON CLUSTER cl",
		"CREATE TABLE IF NOT EXISTS db.t_old ON CLUSTER cl AS db.t_old_local ENGINE = Distributed(cl, db, t_old_local, cityHash64(a, b))",
		"CREATE TABLE IF NOT EXISTS db.t ON CLUSTER cl AS db.t_local ENGINE = Distributed(cl, db, t_local, cityHash64(x))",
	})

	got, err = c.rewrite("CREATE VIEW IF NOT EXISTS v AS\n    SELECT a FROM t ALL INNER JOIN (SELECT a FROM t_old) AS o USING (a) WHERE a IN (SELECT a FROM t)")
	if err != nil {
		t.Fatal(err)
	}
	assertStmts(t, "view", got, []string{
		"CREATE VIEW IF NOT EXISTS db.v ON CLUSTER cl AS SELECT a FROM db.t ALL INNER JOIN (SELECT a FROM db.t_old) AS o USING (a) WHERE a IN (SELECT a FROM db.t)",
	})

	for _, bad := range []string{
		"CREATE MATERIALIZED VIEW v AS SELECT 1",
		"CREATE VIEW w AS SELECT a FROM nowhere",
		"CREATE TABLE j (x UInt8) ENGINE = Log",
		"ALTER TABLE nowhere ADD COLUMN x UInt8",
		"OPTIMIZE TABLE t FINAL",
	} {
		if _, err := c.rewrite(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestConfigClusterName(t *testing.T) {
	c := DefaultConfig()
	c.Cluster = "two shards"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "cluster: ") {
		t.Errorf("cluster: %v", err)
	}
	c.Cluster = "chainwatch"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func assertStmts(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d statements, want %d:\n%s", what, len(got), len(want), strings.Join(got, "\n---\n"))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s statement %d:\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
}
