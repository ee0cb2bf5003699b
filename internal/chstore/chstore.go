// Package chstore connects to ClickHouse over the native protocol, applies chainwatch's embedded
// migrations, and inserts batches with an explicit column list (the only insert path that works on
// both ClickHouse 18.16 and current releases).
package chstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
		err = admin.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+cfg.Database)
		admin.Close()
		if err != nil {
			return nil, fmt.Errorf("clickhouse: create database %s: %w", cfg.Database, err)
		}
	}
	conn, err := clickhouse.Open(options(cfg, cfg.Database, log))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open: %w", err)
	}
	return conn, nil
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
	switch cfg.Compression {
	case "lz4":
		o.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	case "zstd":
		o.Compression = &clickhouse.Compression{Method: clickhouse.CompressionZSTD}
	}
	_ = log
	return o
}

// MigrationsTable records applied migrations.
const MigrationsTable = "schema_migrations"

// Migrate applies every embedded migration not yet recorded, in order, and returns how many it applied.
// Statements are idempotent (IF NOT EXISTS), so a crash between a statement and the record is safe.
func Migrate(ctx context.Context, conn driver.Conn) (int, error) {
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+MigrationsTable+` (
    version UInt32,
    name String,
    applied_at DateTime
) ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`); err != nil {
		return 0, fmt.Errorf("migrate: create %s: %w", MigrationsTable, err)
	}
	applied, err := AppliedVersions(ctx, conn)
	if err != nil {
		return 0, err
	}
	migs, err := schemas.Migrations()
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	n := 0
	for _, m := range migs {
		if applied[m.Version] {
			continue
		}
		for i, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return n, fmt.Errorf("migrate: %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+MigrationsTable+" (version, name, applied_at)")
		if err != nil {
			return n, fmt.Errorf("migrate: record %d: %w", m.Version, err)
		}
		if err := b.Append(m.Version, m.Name, time.Now().UTC()); err != nil {
			_ = b.Abort()
			return n, fmt.Errorf("migrate: record %d: %w", m.Version, err)
		}
		if err := b.Send(); err != nil {
			return n, fmt.Errorf("migrate: record %d: %w", m.Version, err)
		}
		n++
	}
	return n, nil
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

// Insert sends rows (each a full row in column order) to table through one native batch.
// An empty rows slice is a no-op.
func Insert(ctx context.Context, conn driver.Conn, insertSQL string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
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
func (i Inserter) Insert(ctx context.Context, insertSQL string, rows [][]any) error {
	return Insert(ctx, i.Conn, insertSQL, rows)
}
