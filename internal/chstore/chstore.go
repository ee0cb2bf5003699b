// Package chstore connects to ClickHouse over the native protocol, applies chainwatch's embedded
// migrations, and inserts batches with an explicit column list (the only insert path that works on
// both ClickHouse 18.16 and current releases).
package chstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/schemas"
)

// Open connects to ClickHouse, creating the database first when cfg.CreateDB is set.
// The returned connection uses cfg.Database as its default database.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (driver.Conn, error) {
	if cfg.CreateDB {
		admin, err := clickhouse.Open(options(cfg, "default", log))
		if err != nil {
			return nil, fmt.Errorf("clickhouse: open: %w", err)
		}
		create := "CREATE DATABASE IF NOT EXISTS " + cfg.Database
		if cfg.Cluster != "" {
			create += " ON CLUSTER " + cfg.Cluster
		}
		err = admin.Exec(ctx, create)
		admin.Close()
		if err != nil {
			return nil, fmt.Errorf("clickhouse: create database %s: %w", cfg.Database, err)
		}
	}
	conn, err := clickhouse.Open(options(cfg, cfg.Database, log))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open: %w", err)
	}
	return wrap(conn), nil
}

func options(cfg Config, db string, log *slog.Logger) *clickhouse.Options {
	o := &clickhouse.Options{
		Protocol: clickhouse.Native,
		Addr:     cfg.Addr,
		Auth:     clickhouse.Auth{Database: db, Username: cfg.Username, Password: cfg.Password.Reveal()},
		ClientInfo: clickhouse.ClientInfo{Products: []struct {
			Name    string
			Version string
		}{{Name: "chainwatch", Version: "1"}}},
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		MaxOpenConns: cfg.MaxOpenConns,
		MaxIdleConns: cfg.MaxOpenConns,
	}
	if cfg.Cluster != "" {
		// Inserts into a Distributed table return once every shard stored its part (not when the
		// receiving server queued them on its disk), so the sink commits Kafka offsets only for
		// rows that are on a shard.
		o.Settings = clickhouse.Settings{"insert_distributed_sync": 1}
	}
	switch cfg.Compression {
	case "lz4":
		o.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	case "zstd":
		o.Compression = &clickhouse.Compression{Method: clickhouse.CompressionZSTD}
	}
	// TLS (clickhouse.tls; the secure native port, 9440 by default). A setting that fails since
	// validation (a CA file gone) makes every connection fail with that error.
	if tc, err := cfg.TLS.Config(); err != nil {
		o.DialContext = func(context.Context, string) (net.Conn, error) {
			return nil, fmt.Errorf("clickhouse.tls: %w", err)
		}
	} else {
		o.TLS = tc
	}
	_ = log
	return o
}

// Options returns the clickhouse-go options of cfg for database db (TLS, credentials, timeouts).
func Options(cfg Config, db string) *clickhouse.Options { return options(cfg, db, nil) }

// MigrationsTable records applied migrations.
const MigrationsTable = "schema_migrations"

// Migrate applies every embedded migration not yet recorded, in order, on a single server, and
// returns how many it applied.
func Migrate(ctx context.Context, conn driver.Conn) (int, error) {
	return MigrateConfig(ctx, conn, Config{})
}

// MigrateConfig applies every embedded migration not yet recorded, in order, and returns how many it
// applied. With cfg.Cluster set every statement is rewritten for the cluster (see clusterDDL).
// Statements are idempotent (IF NOT EXISTS), so a crash between a statement and the record is safe.
func MigrateConfig(ctx context.Context, conn driver.Conn, cfg Config) (int, error) {
	plan, err := migrationPlan(cfg)
	if err != nil {
		return 0, err
	}
	for _, stmt := range plan.table {
		if err := conn.Exec(ctx, stmt); err != nil {
			return 0, fmt.Errorf("migrate: create %s: %w", MigrationsTable, err)
		}
	}
	applied, err := AppliedVersions(ctx, conn)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range plan.migrations {
		if applied[m.Version] {
			continue
		}
		for i, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return n, fmt.Errorf("migrate: %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := Insert(ctx, conn, "INSERT INTO "+MigrationsTable+" (version, name, applied_at)",
			[][]any{{m.Version, m.Name, time.Now().UTC()}}); err != nil {
			return n, fmt.Errorf("migrate: record %d: %w", m.Version, err)
		}
		n++
	}
	return n, nil
}

const migrationsDDL = `CREATE TABLE IF NOT EXISTS ` + MigrationsTable + ` (
    version UInt32,
    name String,
    applied_at DateTime
) ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`

type plan struct {
	table      []string            // creates MigrationsTable
	migrations []schemas.Migration // statements as they are executed
}

// migrationPlan returns the statements Migrate executes: the embedded ones, or in cluster mode their
// rewrite (every migration is rewritten, applied or not, so that later ones know the tables).
func migrationPlan(cfg Config) (plan, error) {
	migs, err := schemas.Migrations()
	if err != nil {
		return plan{}, fmt.Errorf("migrate: %w", err)
	}
	if cfg.Cluster == "" {
		return plan{table: []string{migrationsDDL}, migrations: migs}, nil
	}
	c := newClusterDDL(cfg.Cluster, cfg.Database)
	p := plan{}
	if p.table, err = c.rewrite(migrationsDDL); err != nil {
		return plan{}, err
	}
	for _, m := range migs {
		out := schemas.Migration{Version: m.Version, Name: m.Name}
		for i, stmt := range m.Statements {
			rs, err := c.rewrite(stmt)
			if err != nil {
				return plan{}, fmt.Errorf("migrate: %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
			out.Statements = append(out.Statements, rs...)
		}
		p.migrations = append(p.migrations, out)
	}
	return p, nil
}

// MigrationStatements returns every statement MigrateConfig would run for cfg, in order, with the
// MigrationsTable DDL first (for checking the cluster-mode DDL on other engines).
func MigrationStatements(cfg Config) ([]string, error) {
	p, err := migrationPlan(cfg)
	if err != nil {
		return nil, err
	}
	out := append([]string(nil), p.table...)
	for _, m := range p.migrations {
		out = append(out, m.Statements...)
	}
	return out, nil
}

// AppliedVersions returns the recorded migration versions.
func AppliedVersions(ctx context.Context, conn driver.Conn) (map[uint32]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM "+MigrationsTable)
	if err != nil {
		return nil, fmt.Errorf("migrate: read %s: %w", MigrationsTable, err)
	}
	defer rows.Close()
	out := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrate: scan: %w", err)
		}
		out[v] = true
	}
	return out, rows.Err()
}

// Pending returns the versions of embedded migrations not yet applied (for /readyz).
func Pending(ctx context.Context, conn driver.Conn) ([]uint32, error) {
	applied, err := AppliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	migs, err := schemas.Migrations()
	if err != nil {
		return nil, err
	}
	var out []uint32
	for _, m := range migs {
		if !applied[m.Version] {
			out = append(out, m.Version)
		}
	}
	return out, nil
}

// Insert sends rows (each a full row in column order) to table through one native batch, column by
// column (InsertColumns). Rows whose values do not form typed columns (mixed Go types in one column)
// go row by row. An empty rows slice is a no-op.
func Insert(ctx context.Context, conn driver.Conn, insertSQL string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	cols := schemas.NewColumns(len(rows[0]))
	for _, r := range rows {
		if err := cols.AppendRow(r); err != nil {
			return insertRows(ctx, conn, insertSQL, rows)
		}
	}
	return InsertColumns(ctx, conn, insertSQL, cols)
}

// InsertColumns sends a columnar batch through one native batch: batch.Column(i).Append(slice).
func InsertColumns(ctx context.Context, conn driver.Conn, insertSQL string, cols *schemas.Columns) error {
	if cols.Len() == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, insertSQL)
	if err != nil {
		return fmt.Errorf("prepare %q: %w", insertSQL, err)
	}
	if err := appendColumns(b, cols); err != nil {
		return errors.Join(err, b.Abort())
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send %d rows: %w", cols.Len(), err)
	}
	return nil
}

// appendColumns appends cols to b column by column (InsertColumns, InsertStreams.Write).
func appendColumns(b driver.Batch, cols *schemas.Columns) error {
	for i := range cols.Width() {
		if err := b.Column(i).Append(cols.Column(i)); err != nil {
			return fmt.Errorf("append column %d: %w", i, err)
		}
	}
	return nil
}

func insertRows(ctx context.Context, conn driver.Conn, insertSQL string, rows [][]any) error {
	b, err := conn.PrepareBatch(ctx, insertSQL)
	if err != nil {
		return fmt.Errorf("prepare %q: %w", insertSQL, err)
	}
	for i, r := range rows {
		if err := b.Append(r...); err != nil {
			return errors.Join(fmt.Errorf("append row %d: %w", i, err), b.Abort())
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send %d rows: %w", len(rows), err)
	}
	return nil
}

// Count returns SELECT count() FROM table FINAL [WHERE where].
func Count(ctx context.Context, conn driver.Conn, table, where string, args ...any) (uint64, error) {
	q := "SELECT count() FROM " + table + " FINAL"
	if where != "" {
		q += " WHERE " + where
	}
	var n uint64
	if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// Inserter adapts a connection to the sink's Store seam.
type Inserter struct{ Conn driver.Conn }

// Insert implements sink.Store.
func (i Inserter) Insert(ctx context.Context, insertSQL string, cols *schemas.Columns) error {
	return InsertColumns(ctx, i.Conn, insertSQL, cols)
}
