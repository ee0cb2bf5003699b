package chstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/testenv"
)

// batchThenCancel inserts one row in a batch whose context is cancelled right after Send, then
// runs a query on the pool (one connection, so the same one), n times; it returns how many of the n
// rounds failed at any step.
func batchThenCancel(conn driver.Conn, n int) (failed int, first error) {
	for i := range n {
		if err := insertThenQuery(conn, i); err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	return failed, first
}

func insertThenQuery(conn driver.Conn, i int) error {
	ctx, cancel := context.WithCancel(context.Background())
	b, err := conn.PrepareBatch(ctx, "INSERT INTO batchctx_probe (n)")
	if err != nil {
		cancel()
		return fmt.Errorf("prepare: %w", err)
	}
	if err := b.Append(uint64(i)); err != nil {
		cancel()
		return errors.Join(fmt.Errorf("append: %w", err), b.Abort())
	}
	err = b.Send()
	cancel()
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	var one uint8
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return nil
}

// TestBatchContextCancelledAfterSendIntegration: cancelling an insert's context right after Send
// must not close the pooled connection under the next query (chstore's connection detaches the
// batch's context when Send returns; see batchctx.go). The driver's own connection is run the same
// way for comparison (29 of 300 rounds failed here, with these busy goroutines on 2 cores); its failures are logged, since
// they depend on goroutine scheduling.
func TestBatchContextCancelledAfterSendIntegration(t *testing.T) {
	_, cfg := testenv.ClickHouse(t)
	cfg.MaxOpenConns = 1
	cfg.CreateDB = false
	ctx := context.Background()
	conn, err := chstore.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS batchctx_probe (n UInt64) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	// Busy goroutines make the driver's watcher goroutine start late, as on a loaded machine.
	spin, stopSpin := context.WithCancel(ctx)
	defer stopSpin()
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for spin.Err() == nil {
				for i := 0; i < 1e5; i++ {
					_ = i * i
				}
			}
		}()
	}
	const n = 150
	raw, err := clickhouse.Open(chstore.Options(cfg, cfg.Database))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rawFailed, rawErr := batchThenCancel(raw, n)
	t.Logf("driver connection: %d of %d rounds (insert, cancel, query) failed (first: %v)", rawFailed, n, rawErr)
	if failed, first := batchThenCancel(conn, n); failed > 0 {
		t.Errorf("chstore connection: %d of %d rounds (insert, cancel, query) failed (first: %v)", failed, n, first)
	}
}
