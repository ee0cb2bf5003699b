package exposure

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/chstore"
)

// Querier is the read side of a ClickHouse connection (driver.Conn satisfies it). Every query of
// this package, internal/report and internal/api goes through it with its values already inlined as
// literals (see Str, Num, Time), so a test can record the exact SQL and replay it on another engine.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (driver.Rows, error)
}

// Str quotes s as a ClickHouse string literal ('...' with \ and ' escaped), the same escaping the
// clickhouse-go client uses for bound parameters (chstore.Quote). It is safe for any user input.
func Str(s string) string { return chstore.Quote(s) }

// Strs renders a tuple of string literals for IN: ('a', 'b'). An empty list renders (”).
func Strs(ss []string) string {
	if len(ss) == 0 {
		return "('')"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = Str(s)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// Num renders a finite float literal (NaN and ±Inf become 0).
func Num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Int renders an integer literal.
func Int(n int64) string { return strconv.FormatInt(n, 10) }

// Time renders t as toDateTime(<unix seconds>): unambiguous whatever the server's time zone.
func Time(t time.Time) string { return "toDateTime(" + strconv.FormatInt(t.Unix(), 10) + ")" }

// and joins conditions with AND ("1 = 1" when there are none).
func and(conds []string) string {
	if len(conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(conds, " AND ")
}

// TableExists reports whether table exists in the connection's current database.
func TableExists(ctx context.Context, q Querier, table string) (bool, error) {
	rows, err := q.Query(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = "+Str(table))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var n uint64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
	}
	return n > 0, rows.Err()
}
