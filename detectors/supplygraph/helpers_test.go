package supplygraph_test

import (
	"context"
	"encoding/json"
	"github.com/chainwatch/chainwatch/detectors/supplygraph"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/schemas"
)

// memEmitter keeps decoded records and rejects in memory.
type memEmitter struct {
	recs    []schemas.Record
	rejects []schemas.Rejected
}

func (m *memEmitter) Emit(_ context.Context, envs ...schemas.Envelope) error {
	for _, env := range envs {
		b, err := json.Marshal(env)
		if err != nil {
			return err
		}
		_, rec, err := schemas.Decode(b, "")
		if err != nil {
			return err
		}
		m.recs = append(m.recs, rec)
	}
	return nil
}

func (m *memEmitter) Reject(_ context.Context, rs ...schemas.Rejected) error {
	m.rejects = append(m.rejects, rs...)
	return nil
}

// importGraph imports path with the collectors importer and builds the graph.
func importGraph(t *testing.T, kind, path string) (*supplygraph.Graph, *memEmitter) {
	t.Helper()
	em := &memEmitter{}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := collectors.Import(context.Background(), kind, path, em, collectors.ImportOptions{Now: func() time.Time { return now }}); err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	b := supplygraph.NewBuilder()
	for _, r := range em.recs {
		b.Add(r)
	}
	g, err := b.Build()
	if err != nil {
		t.Fatalf("build %s: %v", path, err)
	}
	if len(b.Skipped) > 0 {
		t.Fatalf("build %s: skipped %v", path, b.Skipped)
	}
	return g, em
}
