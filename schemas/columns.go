package schemas

import (
	"fmt"
	"time"
)

// Columns is a batch of rows held column by column, each column a typed slice ([]string, []uint16,
// []time.Time, []*float64, [][]string, ...) as clickhouse-go's batch.Column(i).Append takes it. A
// column's type is fixed by the first value appended to it; later values must have the same Go type.
// The slices are reused after Reset.
type Columns struct {
	n    int
	cols []column
	w    RowWriter // AppendRecord's, kept here: a writer of its own would go to the heap every row
}

// NewColumns returns an empty batch of width columns.
func NewColumns(width int) *Columns { return &Columns{cols: make([]column, width)} }

// Len is the number of complete rows.
func (c *Columns) Len() int { return c.n }

// Width is the number of columns.
func (c *Columns) Width() int { return len(c.cols) }

// Column returns column i as a typed slice (nil before the first row).
func (c *Columns) Column(i int) any {
	if c.cols[i] == nil {
		return nil
	}
	return c.cols[i].data()
}

// Reset empties every column, keeping capacity and types.
func (c *Columns) Reset() {
	c.n = 0
	for _, col := range c.cols {
		if col != nil {
			col.reset()
		}
	}
}

// Release empties every column and frees its memory, keeping the types (for a batch of a kind
// that stopped arriving: its capacity is not held for nothing).
func (c *Columns) Release() {
	c.n = 0
	for _, col := range c.cols {
		if col != nil {
			col.release()
		}
	}
}

// Cap is the number of rows the columns hold without growing (the smallest column capacity).
func (c *Columns) Cap() int {
	n := -1
	for _, col := range c.cols {
		if col != nil && (n < 0 || col.capacity() < n) {
			n = col.capacity()
		}
	}
	return max(n, 0)
}

// AppendRow appends one row (one value per column, in column order). On an error nothing is appended.
func (c *Columns) AppendRow(row []any) error {
	if len(row) != len(c.cols) {
		return fmt.Errorf("columns: row has %d values, want %d", len(row), len(c.cols))
	}
	for i, v := range row {
		if c.cols[i] == nil {
			col, err := newColumn(v)
			if err != nil {
				return fmt.Errorf("columns: column %d: %w", i, err)
			}
			c.cols[i] = col
		}
		if !c.cols[i].add(v) {
			for j := range i { // roll back the values of this row
				c.cols[j].truncate(c.n)
			}
			return fmt.Errorf("columns: column %d: value of type %T, column holds %T", i, v, c.cols[i].data())
		}
	}
	c.n++
	return nil
}

type column interface {
	add(v any) bool
	data() any
	reset()
	release()
	capacity() int
	truncate(n int)
}

type typed[T any] struct{ s []T }

func (c *typed[T]) add(v any) bool {
	x, ok := v.(T)
	if ok {
		c.s = append(c.s, x)
	}
	return ok
}
func (c *typed[T]) data() any      { return c.s }
func (c *typed[T]) reset()         { clear(c.s); c.s = c.s[:0] }
func (c *typed[T]) release()       { c.s = nil }
func (c *typed[T]) capacity() int  { return cap(c.s) }
func (c *typed[T]) truncate(n int) { c.s = c.s[:n] }

func newColumn(v any) (column, error) {
	switch v.(type) {
	case string:
		return &typed[string]{}, nil
	case uint8:
		return &typed[uint8]{}, nil
	case uint16:
		return &typed[uint16]{}, nil
	case uint32:
		return &typed[uint32]{}, nil
	case uint64:
		return &typed[uint64]{}, nil
	case int8:
		return &typed[int8]{}, nil
	case int16:
		return &typed[int16]{}, nil
	case int32:
		return &typed[int32]{}, nil
	case int64:
		return &typed[int64]{}, nil
	case float32:
		return &typed[float32]{}, nil
	case float64:
		return &typed[float64]{}, nil
	case *float64:
		return &typed[*float64]{}, nil
	case *string:
		return &typed[*string]{}, nil
	case *int64:
		return &typed[*int64]{}, nil
	case time.Time:
		return &typed[time.Time]{}, nil
	case *time.Time:
		return &typed[*time.Time]{}, nil
	case []string:
		return &typed[[]string]{}, nil
	case []uint16:
		return &typed[[]uint16]{}, nil
	case []float64:
		return &typed[[]float64]{}, nil
	case bool:
		return &typed[bool]{}, nil
	}
	return nil, fmt.Errorf("no columnar type for %T", v)
}

// RowWriter appends one row to Columns value by value, each straight into its typed column: no
// value is boxed into an interface, as AppendRow's []any row does (a row of 15–25 values was as many
// small allocations, the larger part of the sink's per-record garbage).
// With boxed set it appends the values to row instead, as AppendValues returns them: each record
// lists its columns once (appendColumns), for both paths.
type RowWriter struct {
	c     *Columns
	i     int
	err   error
	boxed bool
	row   []any
}

// put appends v to the writer's next column; the column is created with v's type, or must hold it.
func put[T any](w *RowWriter, v T) {
	if w.boxed {
		w.row = append(w.row, v)
		return
	}
	if w.err != nil {
		return
	}
	if w.i >= len(w.c.cols) {
		w.err = fmt.Errorf("columns: row has more than %d values", len(w.c.cols))
		return
	}
	switch col := w.c.cols[w.i].(type) {
	case nil:
		w.c.cols[w.i] = &typed[T]{s: []T{v}}
	case *typed[T]:
		col.s = append(col.s, v)
	default:
		w.err = fmt.Errorf("columns: column %d: value of type %T, column holds %T", w.i, v, col.data())
	}
	w.i++
}

// columnAppender is a record that appends its payload columns, in Spec.Columns order, through a
// RowWriter (every record of this package).
type columnAppender interface {
	appendColumns(w *RowWriter)
}

// appendBoxed appends rec's payload columns to dst as boxed values: the records' AppendValues.
func appendBoxed(rec columnAppender, dst []any) []any {
	w := RowWriter{boxed: true, row: dst}
	rec.appendColumns(&w)
	return w.row
}

// AppendRecord appends one row: the envelope's columns, then the record's. It appends what
// AppendRow(rec.AppendValues(AppendEnvelope(nil, env))) would (TestAppendRecordMatchesAppendRow:
// the same column list, boxed or not), without the []any row. On an error nothing is appended.
func (c *Columns) AppendRecord(env *Envelope, rec Record) error {
	ca, ok := rec.(columnAppender)
	if !ok {
		return c.AppendRow(rec.AppendValues(AppendEnvelope(nil, env)))
	}
	w := &c.w
	*w = RowWriter{c: c}
	put(w, env.EventID)
	put(w, env.Source)
	put(w, env.OccurredAt.UTC())
	put(w, env.IngestedAt.UTC())
	put(w, uint16(env.SchemaVersion))
	ca.appendColumns(w)
	if w.err == nil && w.i != len(c.cols) {
		w.err = fmt.Errorf("columns: row has %d values, want %d", w.i, len(c.cols))
	}
	if w.err != nil {
		for _, col := range c.cols {
			if col != nil {
				col.truncate(c.n)
			}
		}
		return w.err
	}
	c.n++
	return nil
}
