package collectors

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/schemas"
)

var (
	testNow       = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	testCountries = m49.MustNew()
)

// findFirst returns the first element of xs for which ok holds, or nil.
func findFirst[T any](xs []*T, ok func(*T) bool) *T {
	if i := slices.IndexFunc(xs, ok); i >= 0 {
		return xs[i]
	}
	return nil
}

func testOpts() ImportOptions {
	return ImportOptions{Now: func() time.Time { return testNow }, Countries: testCountries}
}

// importT runs Import and checks the invariants every import must keep.
func importT(t *testing.T, kind, path string, opts ImportOptions) (*collectorstest.Memory, Stats) {
	t.Helper()
	m := &collectorstest.Memory{}
	st, err := Import(context.Background(), kind, path, m, opts)
	if err != nil {
		t.Fatalf("Import(%s, %s): %v", kind, path, err)
	}
	checkStats(t, m, st)
	return m, st
}

func checkStats(t *testing.T, m *collectorstest.Memory, st Stats) {
	t.Helper()
	// A duplicate is handed on too (the later record wins), counted apart from Emitted.
	if int64(len(m.Events)) != st.Emitted+st.Duplicates {
		t.Errorf("stats say %d emitted + %d duplicates, the emitter got %d", st.Emitted, st.Duplicates, len(m.Events))
	}
	if int64(len(m.Rejects)) != st.RejectedTotal() {
		t.Errorf("stats say %d rejected, the emitter got %d", st.RejectedTotal(), len(m.Rejects))
	}
	for _, r := range m.Rejects {
		if r.Stage != schemas.StageCollect || r.RejectID == "" || r.Location == "" || r.Reason == "" || r.Detail == "" || r.Source == "" {
			t.Errorf("incomplete reject: %+v", r)
		}
		if r.RejectID != schemas.CollectRejectID(r.Source, r.Location, r.Raw) {
			t.Errorf("reject id of %s does not match CollectRejectID", r.Location)
		}
	}
	for _, e := range m.Events {
		b, _ := json.Marshal(e)
		if _, _, err := schemas.Decode(b, e.Kind); err != nil {
			t.Errorf("event %s does not decode: %v", e.EventID, err)
		}
	}
}

func decodeAll[T schemas.Record](t *testing.T, envs []schemas.Envelope) []T {
	t.Helper()
	out, err := collectorstest.Decode[T](envs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantReject asserts exactly one reject with reason whose location ends with locSuffix and whose
// detail contains field.
func wantReject(t *testing.T, m *collectorstest.Memory, reason, locSuffix, field string) {
	t.Helper()
	n := 0
	for _, r := range m.Rejects {
		if r.Reason == reason && strings.HasSuffix(r.Location, locSuffix) {
			n++
			if !strings.Contains(r.Detail, field) {
				t.Errorf("reject %s at %s: detail %q does not name %q", reason, r.Location, r.Detail, field)
			}
		}
	}
	if n != 1 {
		var got []string
		for _, r := range m.Rejects {
			got = append(got, r.Location+" "+r.Reason+" "+r.Detail)
		}
		t.Errorf("want one %s reject at *%s, got %d; all rejects:\n%s", reason, locSuffix, n, strings.Join(got, "\n"))
	}
}

func ptrEq(p *float64, v float64) bool { return p != nil && *p == v }
