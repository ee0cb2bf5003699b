package chstore

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// CheckClusterSettings verifies the server settings cluster mode relies on, as the connection's
// user sees them. distributed_product_mode must be 'global': chainwatch's reads filter Distributed
// tables with IN/JOIN subqueries on Distributed tables (e.g. the findings of the latest
// detector_runs), which the default, deny, refuses and local would answer from one shard's rows.
// It is a server (users profile) setting because clickhouse-go cannot send string settings to
// ClickHouse 18.16 (its old protocol carries only numeric ones).
func CheckClusterSettings(ctx context.Context, conn driver.Conn) error {
	var mode string
	if err := conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'distributed_product_mode'").Scan(&mode); err != nil {
		return fmt.Errorf("clickhouse.cluster: reading distributed_product_mode: %w", err)
	}
	if mode != "global" {
		return fmt.Errorf("clickhouse.cluster: the server's distributed_product_mode is %q for this user; cluster mode needs "+
			"<distributed_product_mode>global</distributed_product_mode> in the user's settings profile (docs/scaling.md)", mode)
	}
	return nil
}
