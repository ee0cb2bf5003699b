package chstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/schemas"
)

// InsertStreams keeps one INSERT per statement open across Write calls. Each Write sends its
// columns to the server as one data block of that INSERT (clickhouse-go's Batch.Flush), and the
// Go side lets go of them; End finishes every open INSERT, and only then is what they carried
// stored. The server squashes the blocks of one INSERT into parts of up to
// min_insert_block_size_rows rows (1,048,576 by default), so a backlog drained in many small
// batches lands in few parts.
//
// Why: on ClickHouse 18.16 an INSERT costs the server about 40–110 ms of CPU of its own, whatever
// its rows (docs/benchmarks.md). 40 inserts of 25,000 rows took 3.0–3.1 s of server CPU, one
// INSERT carrying the same 40 blocks 1.4–1.5 s.
//
// Each open INSERT holds a connection of conn's pool until End or Abort: the pool needs one per
// statement written, twice over when a detached set ends while the next one is written (Detach),
// besides what else uses it. InsertStreams is not safe for concurrent use.
type InsertStreams struct {
	conn  driver.Conn
	open  map[string]*openInsert
	order []string // statements in the order they were opened
}

type openInsert struct {
	b    driver.Batch
	rows int
}

// NewInsertStreams returns streams inserting through conn.
func NewInsertStreams(conn driver.Conn) *InsertStreams {
	return &InsertStreams{conn: conn, open: map[string]*openInsert{}}
}

// Insert stores cols through one complete INSERT of its own (the sink's Store seam).
func (s *InsertStreams) Insert(ctx context.Context, insertSQL string, cols *schemas.Columns) error {
	return InsertColumns(ctx, s.conn, insertSQL, cols)
}

// Write sends cols as one block of the INSERT of insertSQL, opening it when none is open. The
// batch lives under ctx: when ctx ends, an End still to come fails. On an error the caller must
// Abort: the INSERT's state on the server is unknown.
func (s *InsertStreams) Write(ctx context.Context, insertSQL string, cols *schemas.Columns) error {
	if cols.Len() == 0 {
		return nil
	}
	o, ok := s.open[insertSQL]
	if !ok {
		b, err := s.conn.PrepareBatch(ctx, insertSQL)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", insertSQL, err)
		}
		o = &openInsert{b: b}
		s.open[insertSQL] = o
		s.order = append(s.order, insertSQL)
	}
	if err := appendColumns(o.b, cols); err != nil {
		return err
	}
	// Flush writes to the connection without a deadline of its own: a server that stopped
	// reading (SIGSTOP) blocks it until the socket drains. It then runs on while ctx has ended,
	// and the connection is given up with the batch.
	done := make(chan error, 1)
	go func() { done <- o.b.Flush() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("send block of %d rows: %w", cols.Len(), err)
		}
	case <-ctx.Done():
		delete(s.open, insertSQL) // not aborted: Flush still uses it
		s.order = slices.DeleteFunc(s.order, func(q string) bool { return q == insertSQL })
		return fmt.Errorf("send block of %d rows: %w", cols.Len(), ctx.Err())
	}
	o.rows += cols.Len()
	return nil
}

// Open reports how many INSERTs are open and the rows they carry.
func (s *InsertStreams) Open() (inserts, rows int) {
	for _, o := range s.open {
		rows += o.rows
	}
	return len(s.open), rows
}

// End finishes the open INSERTs, all at once (the server writes their parts in parallel), and
// returns the rows each stored, by statement. If any fails, the error names each failure; the
// rows of those must be sent again (the others are stored, and collapse by event id when sent
// again with them).
func (s *InsertStreams) End() (map[string]int, error) {
	type result struct {
		q   string
		err error
	}
	done := make(chan result, len(s.order))
	for _, q := range s.order {
		go func(q string, b driver.Batch) { done <- result{q, b.Send()} }(q, s.open[q].b)
	}
	stored := map[string]int{}
	var errs []error
	for range s.order {
		r := <-done
		if r.err != nil {
			errs = append(errs, fmt.Errorf("end insert of %d rows (%s): %w", s.open[r.q].rows, r.q, r.err))
			continue
		}
		stored[r.q] = s.open[r.q].rows
	}
	clear(s.open)
	s.order = s.order[:0]
	return stored, errors.Join(errs...)
}

// Detach hands the open INSERTs over to the returned function and leaves none open, so that the
// next Write opens new ones (on other connections of the pool) while those end. end finishes
// them as End does; it may run while s is written to.
func (s *InsertStreams) Detach() (end func() (map[string]int, error)) {
	d := &InsertStreams{conn: s.conn, open: s.open, order: s.order}
	s.open, s.order = map[string]*openInsert{}, nil
	return d.End
}

// Abort gives up every open INSERT and closes its connection. What the server does with the blocks
// it was sent is its own: ClickHouse 18.16 stores them (TestInsertStreamsIntegration). The caller
// has committed nothing for them and sends them again; the tables collapse the rows by event id.
func (s *InsertStreams) Abort() {
	for _, q := range s.order {
		_ = s.open[q].b.Abort() // it only gives the connection up, closed
	}
	clear(s.open)
	s.order = s.order[:0]
}
