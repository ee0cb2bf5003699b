package chstore

import (
	"fmt"
	"regexp"
	"strings"
)

// Cluster mode (clickhouse.cluster set): the embedded migrations are written for one server; clusterDDL
// rewrites each statement for a sharded, replicated cluster instead of keeping a second copy of them.
//
//   - CREATE TABLE t (...) ENGINE = XMergeTree(args) ... becomes
//     t_local ON CLUSTER, ENGINE = ReplicatedXMergeTree('/clickhouse/tables/{shard}/<db>/t_local', '{replica}', args)
//     plus t ON CLUSTER AS t_local ENGINE = Distributed(<cluster>, <db>, t_local, <sharding key>).
//     The application keeps using t: inserts go through the Distributed table (synchronously, see
//     Open), reads use FINAL on it and every shard collapses its own rows.
//   - The sharding key is cityHash64(event_id) when event_id is part of the ORDER BY key (event_id
//     is a hash of source and natural key), otherwise cityHash64 of the whole ORDER BY key. Rows a
//     ReplacingMergeTree would collapse have equal ORDER BY keys, so they always land on one shard.
//   - ALTER TABLE t ... runs ON CLUSTER on t_local; when it changes columns the Distributed table is
//     dropped and re-created (ClickHouse 18.16 refuses ALTER ON CLUSTER of a Distributed table over
//     replicated shards; the Distributed table holds no data).
//   - RENAME TABLE a TO b renames the local tables ON CLUSTER and re-creates the Distributed ones.
//   - DROP TABLE t drops both. INSERT ... SELECT is kept: it reads and writes the Distributed tables.
//   - CREATE VIEW v AS SELECT ... is created ON CLUSTER, on every node, reading the Distributed
//     tables: the tables its query names are given the database (a node runs the DDL in its own
//     default database).
//   - Any other statement is an error, so a new kind of migration cannot silently stay single-node.
type clusterDDL struct {
	cluster, db string
	keys        map[string]string // table → sharding expression, learnt from the CREATEs seen so far
}

func newClusterDDL(cluster, db string) *clusterDDL {
	return &clusterDDL{cluster: cluster, db: db, keys: map[string]string{}}
}

var (
	reCreate = regexp.MustCompile(`(?is)^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*ENGINE\s*=\s*([A-Za-z]*MergeTree)\s*(?:\(([^()]*)\))?(.*)$`)
	reAlter  = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	reRename = regexp.MustCompile(`(?is)^\s*RENAME\s+TABLE\s+(.*)$`)
	reDrop   = regexp.MustCompile(`(?is)^\s*DROP\s+TABLE\s+(IF\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	reView   = regexp.MustCompile(`(?is)^\s*CREATE\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s+AS\s+(SELECT\s.*)$`)
	reTable  = regexp.MustCompile(`(?i)\b(FROM|JOIN)(\s+)([A-Za-z_][A-Za-z0-9_]*)\b`)
	reInsert = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+[A-Za-z_][A-Za-z0-9_]*\s*(\([^)]*\))?\s*SELECT\s`)
	reOrder  = regexp.MustCompile(`(?is)\bORDER\s+BY\s+(\([^()]*\)|[A-Za-z_][A-Za-z0-9_]*)`)
	rePair   = regexp.MustCompile(`(?is)^\s*([A-Za-z_][A-Za-z0-9_]*)\s+TO\s+([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	reColumn = regexp.MustCompile(`(?is)\b(ADD|DROP|MODIFY|RENAME|CLEAR)\s+COLUMN\b`)
)

// LocalSuffix names the per-shard replicated table behind each Distributed table in cluster mode.
const LocalSuffix = "_local"

// rewrite returns the cluster-mode statements replacing stmt.
func (c *clusterDDL) rewrite(stmt string) ([]string, error) {
	if m := reCreate.FindStringSubmatch(stmt); m != nil {
		return c.create(m[2], m[3], m[4], m[5], m[6])
	}
	if m := reAlter.FindStringSubmatch(stmt); m != nil {
		return c.alter(m[1], strings.TrimSpace(m[2]))
	}
	if m := reRename.FindStringSubmatch(stmt); m != nil {
		return c.rename(m[1])
	}
	if m := reDrop.FindStringSubmatch(stmt); m != nil {
		delete(c.keys, m[2])
		return []string{
			fmt.Sprintf("DROP TABLE IF EXISTS %s ON CLUSTER %s", c.q(m[2]), c.cluster),
			fmt.Sprintf("DROP TABLE IF EXISTS %s ON CLUSTER %s", c.q(m[2]+LocalSuffix), c.cluster),
		}, nil
	}
	if m := reView.FindStringSubmatch(stmt); m != nil {
		return c.view(m[2], m[3])
	}
	if reInsert.MatchString(stmt) {
		return []string{stmt}, nil
	}
	return nil, fmt.Errorf("cluster mode: cannot rewrite statement %.60q (supported: CREATE TABLE ... ENGINE = *MergeTree, CREATE VIEW, ALTER, RENAME, DROP TABLE, INSERT ... SELECT)", stmt)
}

func (c *clusterDDL) q(table string) string { return c.db + "." + table }

func (c *clusterDDL) create(table, columns, engine, args, rest string) ([]string, error) {
	key, err := shardingKey(rest)
	if err != nil {
		return nil, fmt.Errorf("cluster mode: table %s: %w", table, err)
	}
	c.keys[table] = key
	local := table + LocalSuffix
	rargs := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", c.db, local)
	if a := strings.TrimSpace(args); a != "" {
		rargs += ", " + a
	}
	return []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s (%s) ENGINE = Replicated%s(%s)%s",
			c.q(local), c.cluster, columns, engine, rargs, rest),
		c.distributed(table),
	}, nil
}

func (c *clusterDDL) distributed(table string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s AS %s ENGINE = Distributed(%s, %s, %s, %s)",
		c.q(table), c.cluster, c.q(table+LocalSuffix), c.cluster, c.db, table+LocalSuffix, c.keys[table])
}

// view creates a view on every node; the tables its query reads, each created by an earlier
// migration, are named with the database.
func (c *clusterDDL) view(name, query string) ([]string, error) {
	var unknown []string
	q := reTable.ReplaceAllStringFunc(query, func(m string) string {
		p := reTable.FindStringSubmatch(m)
		if _, ok := c.keys[p[3]]; !ok {
			unknown = append(unknown, p[3])
			return m
		}
		return p[1] + p[2] + c.q(p[3])
	})
	if len(unknown) > 0 {
		return nil, fmt.Errorf("cluster mode: view %s reads %s, which no earlier migration created", name, strings.Join(unknown, ", "))
	}
	return []string{fmt.Sprintf("CREATE VIEW IF NOT EXISTS %s ON CLUSTER %s AS %s", c.q(name), c.cluster, q)}, nil
}

func (c *clusterDDL) alter(table, actions string) ([]string, error) {
	if _, ok := c.keys[table]; !ok {
		return nil, fmt.Errorf("cluster mode: ALTER of %s, which no earlier migration created", table)
	}
	out := []string{fmt.Sprintf("ALTER TABLE %s ON CLUSTER %s %s", c.q(table+LocalSuffix), c.cluster, actions)}
	if reColumn.MatchString(actions) {
		out = append(out, fmt.Sprintf("DROP TABLE IF EXISTS %s ON CLUSTER %s", c.q(table), c.cluster), c.distributed(table))
	}
	return out, nil
}

func (c *clusterDDL) rename(list string) ([]string, error) {
	var pairs [][2]string
	for _, p := range strings.Split(list, ",") {
		m := rePair.FindStringSubmatch(p)
		if m == nil {
			return nil, fmt.Errorf("cluster mode: RENAME pair %q: want name TO name", strings.TrimSpace(p))
		}
		if _, ok := c.keys[m[1]]; !ok {
			return nil, fmt.Errorf("cluster mode: RENAME of %s, which no earlier migration created", m[1])
		}
		pairs = append(pairs, [2]string{m[1], m[2]})
	}
	var locals []string
	var out []string
	keys := map[string]string{}
	for _, p := range pairs {
		locals = append(locals, c.q(p[0]+LocalSuffix)+" TO "+c.q(p[1]+LocalSuffix))
		keys[p[1]] = c.keys[p[0]]
	}
	out = append(out, fmt.Sprintf("RENAME TABLE %s ON CLUSTER %s", strings.Join(locals, ", "), c.cluster))
	for _, p := range pairs {
		for _, t := range p {
			out = append(out, fmt.Sprintf("DROP TABLE IF EXISTS %s ON CLUSTER %s", c.q(t), c.cluster))
		}
		delete(c.keys, p[0])
	}
	for _, p := range pairs {
		c.keys[p[1]] = keys[p[1]]
		out = append(out, c.distributed(p[1]))
	}
	return dedupe(out), nil
}

// shardingKey derives the Distributed sharding expression from the table's ORDER BY clause.
func shardingKey(rest string) (string, error) {
	m := reOrder.FindStringSubmatch(rest)
	if m == nil {
		return "", fmt.Errorf("no ORDER BY to derive a sharding key from")
	}
	var cols []string
	for _, col := range strings.Split(strings.Trim(m[1], "()"), ",") {
		col = strings.TrimSpace(col)
		if col == "event_id" {
			return "cityHash64(event_id)", nil
		}
		cols = append(cols, col)
	}
	return "cityHash64(" + strings.Join(cols, ", ") + ")", nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
