package chstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/loadgen"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// chunk returns rows [from, to) of loadgen's trade events as columns.
func tradeChunk(t *testing.T, from, to int) *schemas.Columns {
	t.Helper()
	spec, _ := schemas.Lookup(schemas.KindTrade)
	cols := schemas.NewColumns(len(schemas.EnvelopeColumns) + len(spec.Columns))
	now := time.Unix(1_700_000_000, 0)
	for i := from; i < to; i++ {
		env := loadgen.Event(3*i, now) // i%3 == 0: trade
		_, rec, err := schemas.Decode(loadgen.Encode(env), schemas.KindTrade)
		if err != nil {
			t.Fatal(err)
		}
		if err := cols.AppendRecord(&env, rec); err != nil {
			t.Fatal(err)
		}
	}
	return cols
}

// TestInsertStreamsIntegration: blocks written to an open INSERT are stored only when it ends, in
// one part for the whole stream on ClickHouse 18.16 (the server squashes the blocks); an aborted
// INSERT stores nothing; a complete Insert goes beside the open ones.
func TestInsertStreamsIntegration(t *testing.T) {
	conn, ch := testenv.ClickHouse(t)
	ctx := context.Background()
	spec, _ := schemas.Lookup(schemas.KindTrade)
	streams := chstore.NewInsertStreams(conn)
	count := func() uint64 {
		n, err := chstore.Count(ctx, conn, spec.Table, "")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// the most parts of one partition (the table is partitioned by year)
	parts := func() uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT max(c) FROM (SELECT partition, count() AS c FROM system.parts WHERE database = ? AND table = ? AND active GROUP BY partition)",
			ch.Database, spec.Table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 8 {
		if err := streams.Write(ctx, spec.InsertSQL(), tradeChunk(t, i*500, (i+1)*500)); err != nil {
			t.Fatal(err)
		}
	}
	if ins, rows := streams.Open(); ins != 1 || rows != 4000 {
		t.Errorf("open: %d inserts, %d rows; want 1, 4000", ins, rows)
	}
	if n := count(); n != 0 {
		t.Errorf("%d rows visible before the insert ended", n)
	}
	stored, err := streams.End()
	if err != nil {
		t.Fatal(err)
	}
	if stored[spec.InsertSQL()] != 4000 {
		t.Errorf("End reported %v", stored)
	}
	if n, p := count(), parts(); n != 4000 || p != 1 {
		t.Errorf("after End: %d rows, %d parts in a partition; want 4000 in 1 (8 blocks squashed)", n, p)
	}

	// Aborted: the connection is closed mid-INSERT. ClickHouse 18.16 then stores what it was sent;
	// nothing was committed, so the sink sends those rows again and the table collapses them.
	for i := 8; i < 12; i++ {
		if err := streams.Write(ctx, spec.InsertSQL(), tradeChunk(t, i*500, (i+1)*500)); err != nil {
			t.Fatal(err)
		}
	}
	streams.Abort()
	if ins, rows := streams.Open(); ins != 0 || rows != 0 {
		t.Errorf("open after Abort: %d, %d", ins, rows)
	}
	if n := count(); n < 4000 || n > 6000 {
		t.Errorf("after Abort: %d rows", n)
	}

	// Sent again in an open INSERT (with rows stored before), beside a complete insert: every row
	// once.
	for i := 7; i < 12; i++ {
		if err := streams.Write(ctx, spec.InsertSQL(), tradeChunk(t, i*500, (i+1)*500)); err != nil {
			t.Fatal(err)
		}
	}
	if err := streams.Insert(ctx, spec.InsertSQL(), tradeChunk(t, 6000, 6500)); err != nil {
		t.Fatal(err)
	}
	if _, err := streams.End(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 6500 {
		t.Errorf("after the last End: %d distinct rows, want 6500", n)
	}

	// A block that does not fit its statement's columns fails the Write, and End after Abort is empty.
	bad := schemas.NewColumns(3)
	if err := bad.AppendRow([]any{"x", "y", "z"}); err != nil {
		t.Fatal(err)
	}
	if err := streams.Write(ctx, spec.InsertSQL(), bad); err == nil {
		t.Error("a block of 3 columns written to a statement of more succeeded")
	}
	streams.Abort()
	if stored, err := streams.End(); err != nil || len(stored) != 0 {
		t.Errorf("End after Abort: %v %v", stored, err)
	}
}
