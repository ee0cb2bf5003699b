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

// tradeChunk returns rows [from, to) of loadgen's trade events as columns.
func tradeChunk(t *testing.T, from, to int) *schemas.Columns {
	return loadgenChunk(t, schemas.KindTrade, 0, from, to)
}

// loadgenChunk returns rows [from, to) of loadgen's events i with i%3 == rem, of kind, as columns.
func loadgenChunk(t *testing.T, kind schemas.Kind, rem, from, to int) *schemas.Columns {
	t.Helper()
	spec, _ := schemas.Lookup(kind)
	cols := schemas.NewColumns(len(schemas.EnvelopeColumns) + len(spec.Columns))
	now := time.Unix(1_700_000_000, 0)
	for i := from; i < to; i++ {
		env := loadgen.Event(3*i+rem, now)
		_, rec, err := schemas.Decode(loadgen.Encode(env), kind)
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
// INSERT stores what it was sent (18.16), and rows sent again collapse; a complete Insert goes
// beside the open ones; detached INSERTs end while new ones take the next blocks.
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

	// Detached: the INSERTs of two tables end together while the next blocks go to a new INSERT;
	// each stores its own rows, and neither is visible before its end.
	links, _ := schemas.Lookup(schemas.KindSupplyLink)
	countLinks := func() uint64 {
		n, err := chstore.Count(ctx, conn, links.Table, "")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 13; i < 15; i++ {
		if err := streams.Write(ctx, spec.InsertSQL(), tradeChunk(t, i*500, (i+1)*500)); err != nil {
			t.Fatal(err)
		}
		if err := streams.Write(ctx, links.InsertSQL(), loadgenChunk(t, schemas.KindSupplyLink, 2, i*500, (i+1)*500)); err != nil {
			t.Fatal(err)
		}
	}
	end := streams.Detach()
	if ins, rows := streams.Open(); ins != 0 || rows != 0 {
		t.Errorf("open after Detach: %d inserts, %d rows; want none", ins, rows)
	}
	if err := streams.Write(ctx, spec.InsertSQL(), tradeChunk(t, 15*500, 16*500)); err != nil {
		t.Fatal(err)
	}
	stored, err = end()
	if err != nil {
		t.Fatal(err)
	}
	if stored[spec.InsertSQL()] != 1000 || stored[links.InsertSQL()] != 1000 || len(stored) != 2 {
		t.Errorf("the detached end reported %v, want 1000 rows of each table", stored)
	}
	if n, l := count(), countLinks(); n != 6500+1000 || l != 1000 {
		t.Errorf("after the detached end: %d trade rows, %d links; want 7500 and 1000", n, l)
	}
	if stored, err := streams.End(); err != nil || stored[spec.InsertSQL()] != 500 || count() != 8000 {
		t.Errorf("the INSERT opened after Detach: %v %v, %d trade rows (want 500 stored, 8000)", stored, err, count())
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
