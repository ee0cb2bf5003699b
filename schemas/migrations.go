package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one numbered ClickHouse migration file, split into statements.
type Migration struct {
	Version    uint32
	Name       string
	Statements []string
}

// MigrationDDL returns every statement of the embedded migrations, in order (to create the schema
// as is on another engine, or to read the DDL as a whole).
func MigrationDDL() ([]string, error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range migs {
		out = append(out, m.Statements...)
	}
	return out, nil
}

// Migrations returns the embedded migrations in version order.
// Files are named NNNN_name.sql; statements end with ';' at the end of a line; '--' lines are comments.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []Migration
	seen := map[uint32]string{}
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		if !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %q: want NNNN_name.sql", name)
		}
		v, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("migration %q: bad number: %w", name, err)
		}
		if prev, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("migration %q: version %d already used by %q", name, v, prev)
		}
		seen[uint32(v)] = name
		body, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		out = append(out, Migration{Version: uint32(v), Name: strings.TrimSuffix(rest, ".sql"), Statements: SplitSQL(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SplitSQL splits a script into statements at ';' ending a line, dropping '--' comment lines.
func SplitSQL(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
