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
