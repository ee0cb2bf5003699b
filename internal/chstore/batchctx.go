package chstore

import (
	"context"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Batches and their context (a clickhouse-go hazard, worked around here).
//
// batch.Send starts a goroutine that closes the batch's TCP connection when the batch's context
// ends, and tells it to stop when Send returns. If that goroutine has not yet run when Send
// returns, and the context ends right after (the usual `ctx, cancel := context.WithTimeout(...);
// defer cancel()` around an insert), it sees both signals and may pick the context's: it then
// closes a connection that is back in the pool, possibly in use by another query. That query
// fails with "use of closed network connection" (seen in CI: the server logged a broken pipe for
// an INSERT sent on a connection whose previous user's context had just been cancelled).
//
// conn wraps the driver so that a batch's context follows the caller's context only while the
// batch is being prepared, filled and sent; when Send (or Abort) returns, the batch's context is
// detached from the caller's, and ended only a while later, when no goroutine of that Send is
// left to react to it.

// batchDetachDelay is how long after Send a batch's context stays open.
const batchDetachDelay = 2 * time.Second

type conn struct{ driver.Conn }

// wrap returns c with batch contexts detached after Send (see above).
func wrap(c driver.Conn) driver.Conn { return conn{c} }

func (c conn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	bctx, detach := batchContext(ctx)
	b, err := c.Conn.PrepareBatch(bctx, query, opts...)
	if err != nil {
		detach()
		return nil, err
	}
	return &batch{Batch: b, detach: detach}, nil
}

// batchContext returns a context that carries ctx's values and deadline and ends when ctx ends,
// until detach is called; after detach it ends batchDetachDelay later (or at the deadline).
func batchContext(ctx context.Context) (context.Context, func()) {
	bctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	cancelDeadline := func() {}
	if d, ok := ctx.Deadline(); ok {
		bctx, cancelDeadline = context.WithDeadline(bctx, d)
	}
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	var once sync.Once
	return bctx, func() {
		once.Do(func() {
			stop()
			time.AfterFunc(batchDetachDelay, func() { cancelDeadline(); cancel(nil) })
		})
	}
}

type batch struct {
	driver.Batch
	detach func()
}

func (b *batch) Send() error {
	defer b.detach()
	return b.Batch.Send()
}

func (b *batch) Abort() error {
	defer b.detach()
	return b.Batch.Abort()
}
