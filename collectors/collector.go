// Package collectors turns real-world data sources into validated, versioned events.
//
// Each source implements Collector. Collectors never talk to Kafka directly: they hand events
// and rejects to an Emitter (the Kafka producer in production, an in-memory one in tests).
package collectors

import (
	"context"

	"github.com/chainwatch/chainwatch/schemas"
)

// Emitter receives a collector's output. Emit and Reject may block for back-pressure and return
// an error when the downstream cannot accept the records (the collector then stops and reports it).
type Emitter interface {
	Emit(ctx context.Context, envs ...schemas.Envelope) error
	Reject(ctx context.Context, rejects ...schemas.Rejected) error
}

// Collector is one scheduled source. Run fetches what is new since the last run (or everything,
// for sources without state), hands envelopes and rejects to em, and returns its counts. A Run
// error fails that run only: the scheduler counts it and tries again at the next tick.
type Collector interface {
	Name() string
	Run(ctx context.Context, em Emitter) (Stats, error)
}

// Stats counts what one run or import did. Read counts source records (a CSV line, a JSON element,
// a USGS cell, an OCDS release); each becomes events (an OCDS release one per award, a product row
// a node and a "makes" link), rejects, or is skipped (it carries nothing for the kind, such as an
// OCDS release without awards). Nothing else happens to it. An event whose id was already
// emitted in the same import or run is counted under Duplicates instead of Emitted (it is still
// handed to the Emitter: the later record wins, as it would in ClickHouse). For the
// one-event-per-record sources (trade, production, availability, substitution, the distributor
// APIs) Read == Emitted + RejectedTotal() + Skipped + Duplicates.
type Stats struct {
	Read       int64            `json:"read"`
	Emitted    int64            `json:"emitted"`
	Rejected   map[string]int64 `json:"rejected,omitempty"` // by reason
	Skipped    int64            `json:"skipped,omitempty"`
	Duplicates int64            `json:"duplicates,omitempty"` // events whose id collapsed into an earlier one
	Bytes      int64            `json:"bytes,omitempty"`      // source bytes consumed, where known
	Files      int              `json:"files,omitempty"`
	// SkippedFiles are the entries of an imported folder that were not read, each "name: reason".
	SkippedFiles []string `json:"skipped_files,omitempty"`
}

// RejectedTotal sums Rejected.
func (s Stats) RejectedTotal() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Read += o.Read
	s.Emitted += o.Emitted
	s.Skipped += o.Skipped
	s.Duplicates += o.Duplicates
	s.Bytes += o.Bytes
	s.Files += o.Files
	s.SkippedFiles = append(s.SkippedFiles, o.SkippedFiles...)
	for k, v := range o.Rejected {
		if s.Rejected == nil {
			s.Rejected = map[string]int64{}
		}
		s.Rejected[k] += v
	}
}

func (s *Stats) reject(reason string) {
	if s.Rejected == nil {
		s.Rejected = map[string]int64{}
	}
	s.Rejected[reason]++
}
