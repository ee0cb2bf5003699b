package detectors

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func hashFixture() Finding {
	tts, ttr := 12.5, 40.0
	w := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	return Finding{RunID: "r1", ComputedAt: w, Detector: NameExposure, SubjectType: SubjectEnterpriseComponent,
		Subject: "E1|C1", SubjectName: "name", EnterpriseID: "E1", ComponentID: "C1", Category: "chips", Industry: "auto",
		Region: "河北", ChainLeader: true, Score: 71.5, Flags: []string{FlagSingleSource},
		Terms:   []Term{{Name: "hhi", Value: 1, Norm: 0.9, Weight: 2, Contribution: 30, Share: 0.4, Detail: "d"}},
		TTSDays: &tts, TTRDays: &ttr,
		Alternates: []Alternate{{ComponentID: "C2", SupplierID: "S2", Country: "CHN", Domestic: true, QualificationDays: 90,
			HHIAfter: 0.5, Origin: "supply_map", Notes: "n", Region: "北京", RegionGroup: "京津冀", Tags: []string{"专精特新"},
			Reasons: []string{ReasonDomestic}}},
		Products: []string{"P1"}, WindowFrom: w.AddDate(0, 0, -30), WindowTo: w}
}

// mutate changes a leaf value (string, bool, float, *float64, []string, time, or a list of structs
// by one more element).
func mutate(t *testing.T, name string, v reflect.Value) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeOf(time.Time{}):
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(48 * time.Hour)))
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "x")
	case v.Kind() == reflect.Bool:
		v.SetBool(!v.Bool())
	case v.Kind() == reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Float64:
		x := v.Elem().Float() + 1
		v.Set(reflect.ValueOf(&x))
	case v.Kind() == reflect.Slice:
		v.Set(reflect.Append(v, v.Index(0)))
	default:
		t.Fatalf("%s: a field of kind %s the test does not know how to change; extend findingHash and this test", name, v.Kind())
	}
}

// TestFindingHashCoversEveryField changes every field of a finding, those of its terms and
// alternates too, one at a time: each must change the digest, except the fields the copy sets for
// the new run (run_id, computed_at, prev_score) and the unexported pair and reference marks (a
// reference carries the digest of the finding it stands for: findingreuse.go).
func TestFindingHashCoversEveryField(t *testing.T) {
	base := hashFixture()
	w := windowOf(base.WindowFrom, base.WindowTo)
	h0 := findingHash(&base, w)
	runFields := map[string]bool{"RunID": true, "ComputedAt": true, "PrevScore": true, "pair": true, "reused": true, "reusedHash": true}
	checked := 0
	check := func(name string, field func(f *Finding) reflect.Value) {
		f := hashFixture()
		mutate(t, name, field(&f))
		checked++
		if findingHash(&f, w) == h0 {
			t.Errorf("changing %s leaves the digest unchanged", name)
		}
	}
	ft := reflect.TypeOf(Finding{})
	for i := range ft.NumField() {
		if name := ft.Field(i).Name; !runFields[name] {
			check(name, func(f *Finding) reflect.Value { return reflect.ValueOf(f).Elem().Field(i) })
		}
	}
	for i := range reflect.TypeOf(Term{}).NumField() {
		check("Terms[0]."+reflect.TypeOf(Term{}).Field(i).Name, func(f *Finding) reflect.Value { return reflect.ValueOf(&f.Terms[0]).Elem().Field(i) })
	}
	for i := range reflect.TypeOf(Alternate{}).NumField() {
		check("Alternates[0]."+reflect.TypeOf(Alternate{}).Field(i).Name, func(f *Finding) reflect.Value {
			return reflect.ValueOf(&f.Alternates[0]).Elem().Field(i)
		})
	}
	if want := ft.NumField() - len(runFields) + reflect.TypeOf(Term{}).NumField() + reflect.TypeOf(Alternate{}).NumField(); checked != want {
		t.Fatalf("checked %d fields, want %d", checked, want)
	}
	f := hashFixture()
	f.RunID, f.ComputedAt, f.PrevScore = "r2", f.ComputedAt.Add(time.Hour), ptr(3.0)
	if findingHash(&f, w) != h0 {
		t.Error("run_id, computed_at or prev_score changed the digest")
	}
}

// TestFindingHashWindow: a finding with its run's window hashes the same in any run (the copy moves
// it to the new run's window); a window of its own hashes by value.
func TestFindingHashWindow(t *testing.T) {
	a, b := hashFixture(), hashFixture()
	b.WindowFrom, b.WindowTo = a.WindowFrom.Add(time.Hour), a.WindowTo.Add(time.Hour)
	if findingHash(&a, windowOf(a.WindowFrom, a.WindowTo)) != findingHash(&b, windowOf(b.WindowFrom, b.WindowTo)) {
		t.Error("two findings with their runs' windows hash differently")
	}
	if findingHash(&a, windowOf(a.WindowFrom, a.WindowTo)) == findingHash(&a, windowOf(b.WindowFrom, b.WindowTo)) {
		t.Error("a window of its own hashes like the run's window")
	}
	c := a
	c.WindowTo = a.WindowTo.Add(500 * time.Millisecond) // below DateTime's second: stored the same
	if findingHash(&a, windowOf(b.WindowFrom, b.WindowTo)) != findingHash(&c, windowOf(b.WindowFrom, b.WindowTo)) {
		t.Error("a sub-second difference, which ClickHouse does not store, changed the digest")
	}
	d := a
	d.Flags, d.Products = nil, nil
	e := a
	e.Flags, e.Products = []string{}, []string{}
	if findingHash(&d, windowOf(a.WindowFrom, a.WindowTo)) != findingHash(&e, windowOf(a.WindowFrom, a.WindowTo)) {
		t.Error("nil and empty lists, stored alike, hash differently")
	}
}

// TestPlanWrite: which findings a run sends, and when it is a full run rather than a delta run.
func TestPlanWrite(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	w1, w2 := windowOf(at.AddDate(0, 0, -90), at), windowOf(at.AddDate(0, 0, -89), at.Add(24*time.Hour))
	mk := func(subject string, score float64, w runWindow) Finding {
		f := hashFixture()
		f.Subject, f.Score, f.WindowFrom, f.WindowTo = subject, score, time.Unix(w.from, 0).UTC(), time.Unix(w.to, 0).UTC()
		return f
	}
	// prev is run1, a delta run on run0 (a full run of 100 rows the same day, 10 delta rows since)
	prevFs := []Finding{mk("a", 1, w1), mk("b", 2, w1), mk("gone", 3, w1)}
	prev := stampRun(prevFs, runScores{}, "run1", at, w1)
	chain := runChain{base: "run0", baseDay: utcDay(at), baseRows: 100, deltas: 1, deltaRows: 10}
	prev.chain = chain
	with := func(c runChain) runScores { p := prev; p.chain = c; return p }
	three := []Finding{mk("a", 1, w2), mk("b", 5, w2), mk("new", 4, w2)}
	for _, tc := range []struct {
		name     string
		prev     runScores
		fs       []Finding
		at       time.Time // the run's computed_at (zero: an hour after prev)
		delta    bool
		sent     []string
		gone     []string
		prevOf   map[string]float64
		unhashed bool
	}{
		{name: "one changed, one new, one gone", prev: prev, fs: three,
			delta: true, sent: []string{"b", "new"}, gone: []string{"gone"}, prevOf: map[string]float64{"a": 1, "b": 2}},
		{name: "nothing unchanged", prev: prev, fs: []Finding{mk("a", 9, w2), mk("b", 9, w2)}, sent: []string{"a", "b"}},
		{name: "previous run read back without digests", prev: runScores{runID: "run1", subjects: prev.subjects},
			fs: []Finding{mk("a", 1, w2)}, sent: []string{"a"}},
		{name: "no previous run", prev: runScores{}, fs: []Finding{mk("a", 1, w2)}, sent: []string{"a"}},
		{name: "two findings for one subject", prev: prev, fs: []Finding{mk("a", 1, w2), mk("a", 1, w2)},
			sent: []string{"a", "a"}, unhashed: true},
		{name: "previous run with two findings for one subject", prev: stampRun([]Finding{mk("a", 1, w1), mk("a", 1, w1)}, runScores{}, "run1", at, w1),
			fs: []Finding{mk("a", 1, w2)}, sent: []string{"a"}},
		{name: "the base was yesterday (UTC)", prev: prev, fs: three, at: time.Date(2026, 6, 2, 0, 0, 1, 0, time.UTC),
			sent: []string{"a", "b", "new"}},
		{name: "the chain has its most deltas", prev: with(runChain{base: "run0", baseDay: utcDay(at), baseRows: 100, deltas: maxChainDeltas}),
			fs: three, sent: []string{"a", "b", "new"}},
		{name: "the delta rows would pass half the base", prev: with(runChain{base: "run0", baseDay: utcDay(at), baseRows: 100, deltas: 3, deltaRows: 48}),
			fs: three, sent: []string{"a", "b", "new"}},
		{name: "the delta rows reach half the base", prev: with(runChain{base: "run0", baseDay: utcDay(at), baseRows: 100, deltas: 3, deltaRows: 47}),
			fs: three, delta: true, sent: []string{"b", "new"}, gone: []string{"gone"}},
		{name: "the previous run's chain is unknown", prev: with(runChain{}), fs: three, sent: []string{"a", "b", "new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := slices.Clone(tc.fs)
			now := tc.at
			if now.IsZero() {
				now = at.Add(time.Hour)
			}
			cur := stampRun(fs, tc.prev, "run2", now, w2)
			if cur.hashed == tc.unhashed {
				t.Errorf("hashed %v", cur.hashed)
			}
			w := planWrite(fs, cur, tc.prev, now)
			if (w.base != "") != tc.delta {
				t.Fatalf("delta run %v (base %q), want %v", w.base != "", w.base, tc.delta)
			}
			var sent, gone []string
			for _, f := range w.sent {
				sent = append(sent, f.Subject)
			}
			for _, k := range w.gone {
				gone = append(gone, k.subject)
			}
			if !slices.Equal(sent, tc.sent) || len(w.all) != len(fs) {
				t.Errorf("sent %v, want %v", sent, tc.sent)
			}
			if !slices.Equal(gone, tc.gone) {
				t.Errorf("gone %v, want %v", gone, tc.gone)
			}
			next := tc.prev.chain.after(w, "run2", now)
			switch {
			case tc.delta && (w.base != "run0" || next != runChain{base: "run0", baseDay: utcDay(at), baseRows: 100,
				deltas: tc.prev.chain.deltas + 1, deltaRows: tc.prev.chain.deltaRows + len(sent) + len(gone)}):
				t.Errorf("delta run: base %q, chain after %+v", w.base, next)
			case !tc.delta && next != runChain{base: "run2", baseDay: utcDay(now), baseRows: len(fs)}:
				t.Errorf("full run: chain after %+v", next)
			}
			for _, f := range fs {
				if want, ok := tc.prevOf[f.Subject]; ok && (f.PrevScore == nil || *f.PrevScore != want) {
					t.Errorf("%s: prev_score %v, want %v", f.Subject, f.PrevScore, want)
				}
				if f.RunID != "run2" {
					t.Errorf("%s: run id %q", f.Subject, f.RunID)
				}
			}
		})
	}
}
