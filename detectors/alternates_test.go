package detectors

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/synth"
	"github.com/chainwatch/chainwatch/schemas"
)

func TestDedupeAlternates(t *testing.T) {
	alts := []Alternate{
		{SupplierID: "S-STARPOWER", QualificationDays: 67.5, Domestic: true, Origin: "supply_map", Notes: "qualification in progress"},
		{SupplierID: "S-STARPOWER", QualificationDays: 120, Domestic: true, Origin: "substitution", Notes: "sample lots passed"},
		{SupplierID: "S-OTHER", QualificationDays: 90, Domestic: false, Origin: "substitution"},
		{ComponentID: "C-ALT", SupplierID: "S-STARPOWER", QualificationDays: 200, Domestic: true, Origin: "substitution"},
	}
	rankAlternates(alts, true)
	got := dedupeAlternates(alts)
	if len(got) != 3 {
		t.Fatalf("got %d alternates, want 3: %+v", len(got), got)
	}
	if got[0].SupplierID != "S-STARPOWER" || got[0].QualificationDays != 67.5 || got[0].Notes != "qualification in progress; sample lots passed" {
		t.Errorf("survivor %+v", got[0])
	}
	if got[1].ComponentID != "C-ALT" || got[2].SupplierID != "S-OTHER" {
		t.Errorf("order %+v", got)
	}
}

// TestAlternatesOnDemand: the alternates are not kept per pair but computed again for the findings
// kept and for callers (Analysis.Alternates). For every pair of a synthetic network they must agree
// with the figures the pair step kept (count, no-alternate flag, TTR), come out the same on every
// call, and every kept pair finding must carry exactly its pair's list.
func TestAlternatesOnDemand(t *testing.T) {
	cfg := benchConfig()
	cfg.MaxFindingsPerDetector = 500
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	b := NewBuilder(cfg, now)
	synth.Generate(synth.Config{Edges: 20000, TradeRows: 20000, Seed: 3, Now: now}, func(r schemas.Record) { b.Add(r) })
	in := b.Inputs()
	a, err := in.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	with := 0
	for i := range a.Pairs {
		p := &a.Pairs[i]
		alts := a.Alternates(p)
		if len(alts) != p.NumAlternates || (len(alts) == 0) != p.NoAlternate {
			t.Fatalf("%s|%s: %d alternates, NumAlternates %d, NoAlternate %v", in.ID(p.Ent), in.ID(p.Comp), len(alts), p.NumAlternates, p.NoAlternate)
		}
		if !reflect.DeepEqual(alts, a.Alternates(p)) {
			t.Fatalf("%s|%s: alternates differ between two calls", in.ID(p.Ent), in.ID(p.Comp))
		}
		for _, al := range alts {
			if al.QualificationDays < p.TTR {
				t.Fatalf("%s|%s: alternate %+v faster than the pair's TTR %v", in.ID(p.Ent), in.ID(p.Comp), al, p.TTR)
			}
		}
		if len(alts) > 0 {
			with++
		}
	}
	if with == 0 {
		t.Fatal("no pair has alternates: the check proves nothing")
	}
	for _, name := range []string{NameSingleSource, NameTTSTTR, NameExposure} {
		d, err := NewRegistry(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dets, err := d.Select(name)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := dets[0].Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.SubjectType != SubjectEnterpriseComponent {
				continue
			}
			want := a.Alternates(a.Pair(f.EnterpriseID, f.ComponentID))
			if want == nil {
				want = []Alternate{}
			}
			if f.Alternates == nil || !reflect.DeepEqual(f.Alternates, want) || f.pair != nil {
				t.Fatalf("%s %s: alternates %+v, want %+v", name, f.Subject, f.Alternates, want)
			}
		}
	}
}
