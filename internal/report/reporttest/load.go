package reporttest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/exposure"
)

// Insert loads the data set into the connection's database (migrated by testenv.ClickHouse) through
// PrepareBatch + Append + Send. Tables that do not exist (alert_events
// before alerts/ lands its migration) are skipped; columns a table does not have are left out.
func (d *Dataset) Insert(ctx context.Context, conn driver.Conn) error {
	for _, table := range d.Tables {
		cols, err := columns(ctx, conn, table)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			continue
		}
		names := d.columnsOf(table, cols)
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(names, ", ")+")")
		if err != nil {
			return fmt.Errorf("demo %s: prepare: %w", table, err)
		}
		for i, r := range d.Rows[table] {
			vals := make([]any, len(names))
			for j, n := range names {
				v, err := convert(r[n], cols[n])
				if err != nil {
					_ = b.Abort()
					return fmt.Errorf("demo %s row %d column %s (%s): %w", table, i, n, cols[n], err)
				}
				vals[j] = v
			}
			if err := b.Append(vals...); err != nil {
				_ = b.Abort()
				return fmt.Errorf("demo %s row %d: %w", table, i, err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("demo %s: send: %w", table, err)
		}
	}
	return nil
}

// columnsOf lists the row keys of table that the table has, sorted.
func (d *Dataset) columnsOf(table string, cols map[string]string) []string {
	seen := map[string]bool{}
	for _, r := range d.Rows[table] {
		for k := range r {
			if _, ok := cols[k]; ok {
				seen[k] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func columns(ctx context.Context, q exposure.Querier, table string) (map[string]string, error) {
	rows, err := q.Query(ctx, "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = "+exposure.Str(table))
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		out[n] = t
	}
	return out, rows.Err()
}

// convert turns a fixture value into the Go type clickhouse-go wants for a column type.
func convert(v any, typ string) (any, error) {
	if inner, ok := strings.CutPrefix(typ, "Nullable("); ok {
		return convertNullable(v, strings.TrimSuffix(inner, ")"))
	}
	if rv := reflect.ValueOf(v); v != nil && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			v = nil
		} else {
			v = rv.Elem().Interface()
		}
	}
	if inner, ok := strings.CutPrefix(typ, "Array("); ok {
		return convertArray(v, strings.TrimSuffix(inner, ")"))
	}
	return convertScalar(v, typ)
}

// convertNullable: nil (or a nil pointer) stays nil, anything else becomes a pointer to its
// conversion to inner.
func convertNullable(v any, inner string) (any, error) {
	rv := reflect.ValueOf(v)
	if v == nil || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return nil, nil
	}
	if rv.Kind() == reflect.Pointer {
		v = rv.Elem().Interface()
	}
	x, err := convert(v, inner)
	if err != nil {
		return nil, err
	}
	p := reflect.New(reflect.TypeOf(x))
	p.Elem().Set(reflect.ValueOf(x))
	return p.Interface(), nil
}

// convertArray converts every element of a slice to inner; nil becomes an empty slice.
func convertArray(v any, inner string) (any, error) {
	rv := reflect.ValueOf(v)
	n := 0
	if v != nil && rv.Kind() == reflect.Slice {
		n = rv.Len()
	}
	var out reflect.Value
	for i := 0; i < n; i++ {
		x, err := convert(rv.Index(i).Interface(), inner)
		if err != nil {
			return nil, err
		}
		if !out.IsValid() {
			out = reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(x)), 0, n)
		}
		out = reflect.Append(out, reflect.ValueOf(x))
	}
	if !out.IsValid() {
		z, err := convert(nil, inner)
		if err != nil {
			return nil, err
		}
		return reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(z)), 0, 0).Interface(), nil
	}
	return out.Interface(), nil
}

// number reads a fixture number (any Go numeric type, a bool or a numeric string; else 0).
func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case bool:
		if x {
			return 1
		}
	case string:
		g, _ := strconv.ParseFloat(x, 64)
		return g
	}
	return 0
}

// convertScalar converts v to the Go type of a scalar column type.
func convertScalar(v any, typ string) (any, error) {
	f := func() float64 { return number(v) }
	switch {
	case typ == "String" || strings.HasPrefix(typ, "FixedString") || strings.HasPrefix(typ, "Enum"):
		switch x := v.(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		default:
			return fmt.Sprint(x), nil
		}
	case typ == "UInt8":
		return uint8(f()), nil
	case typ == "UInt16":
		return uint16(f()), nil
	case typ == "UInt32":
		return uint32(f()), nil
	case typ == "UInt64":
		return uint64(f()), nil
	case typ == "Int8":
		return int8(f()), nil
	case typ == "Int16":
		return int16(f()), nil
	case typ == "Int32":
		return int32(f()), nil
	case typ == "Int64":
		return int64(f()), nil
	case typ == "Float32":
		return float32(f()), nil
	case typ == "Float64":
		return f(), nil
	case strings.HasPrefix(typ, "DateTime") || typ == "Date":
		if t, ok := v.(time.Time); ok {
			return t.UTC(), nil
		}
		return time.Unix(0, 0).UTC(), nil
	}
	return nil, fmt.Errorf("unsupported column type %s", typ)
}

// ---- literals for chdb ----------------------------------------------------------------------------

// InsertLiterals is one table's rows rendered as SQL literals, for INSERT ... VALUES in chdb.
type InsertLiterals struct {
	Table   string     `json:"table"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Literals renders every table's rows (all keys; the chdb script keeps the columns the table has).
func (d *Dataset) Literals() []InsertLiterals {
	var out []InsertLiterals
	for _, table := range d.Tables {
		keys := map[string]bool{}
		for _, r := range d.Rows[table] {
			for k := range r {
				keys[k] = true
			}
		}
		cols := slices.Sorted(maps.Keys(keys))
		il := InsertLiterals{Table: table, Columns: cols}
		for _, r := range d.Rows[table] {
			row := make([]string, len(cols))
			for i, c := range cols {
				row[i] = Literal(r[c])
			}
			il.Rows = append(il.Rows, row)
		}
		out = append(out, il)
	}
	return out
}

// Literal renders a fixture value as a ClickHouse literal.
func Literal(v any) string {
	rv := reflect.ValueOf(v)
	if v == nil || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return "NULL"
	}
	if rv.Kind() == reflect.Pointer {
		return Literal(rv.Elem().Interface())
	}
	switch x := v.(type) {
	case string:
		return exposure.Str(x)
	case []byte:
		return exposure.Str(string(x))
	case time.Time:
		return strconv.FormatInt(x.Unix(), 10)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case float64:
		return exposure.Num(x)
	case float32:
		return exposure.Num(float64(x))
	}
	if rv.Kind() == reflect.Slice {
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = Literal(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:12])
}

// Summary lists the tables of the data set with their row counts (for logs).
func (d *Dataset) Summary() string {
	var parts []string
	for _, t := range d.Tables {
		parts = append(parts, fmt.Sprintf("%s=%d", t, len(d.Rows[t])))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
