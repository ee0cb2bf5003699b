package whatif_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors/supplygraph"
	"github.com/chainwatch/chainwatch/schemas"
)

// memEmitter keeps decoded records and rejects in memory.
type memEmitter struct {
	envs    []schemas.Envelope
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
		m.envs = append(m.envs, env)
	}
	return nil
}

func (m *memEmitter) Reject(_ context.Context, rs ...schemas.Rejected) error {
	m.rejects = append(m.rejects, rs...)
	return nil
}

// importAll imports kind/path pairs through the collectors and returns the records.
func importAll(t testing.TB, files ...[2]string) []schemas.Record {
	t.Helper()
	return importEm(t, files...).recs
}

func importEm(t testing.TB, files ...[2]string) *memEmitter {
	t.Helper()
	em := &memEmitter{}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range files {
		if _, err := collectors.Import(context.Background(), f[0], f[1], em, collectors.ImportOptions{Now: func() time.Time { return now }}); err != nil {
			t.Fatalf("import %s: %v", f[1], err)
		}
	}
	if len(em.rejects) > 0 {
		t.Fatalf("%d rejects, first %+v", len(em.rejects), em.rejects[0])
	}
	return em
}

func buildGraph(t testing.TB, recs []schemas.Record) *supplygraph.Graph {
	t.Helper()
	b := supplygraph.NewBuilder()
	for _, r := range recs {
		b.Add(r)
	}
	g, err := b.Build()
	if err != nil || len(b.Skipped) > 0 {
		t.Fatalf("build: %v %v", err, b.Skipped)
	}
	return g
}
