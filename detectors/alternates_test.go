package detectors

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/synth"
)

func TestDedupeAlternates(t *testing.T) {
	alts := []Alternate{
		{SupplierID: "S-STARPOWER", QualificationDays: 67.5, Domestic: true, Origin: "supply_map", Notes: "qualification in progress"},
		{SupplierID: "S-STARPOWER", QualificationDays: 120, Domestic: true, Origin: "substitution", Notes: "sample lots passed"},
		{SupplierID: "S-OTHER", QualificationDays: 90, Domestic: false, Origin: "substitution"},
		{ComponentID: "C-ALT", SupplierID: "S-STARPOWER", QualificationDays: 200, Domestic: true, Origin: "substitution"},
	}
	rankAlternates(alts, true, false)
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
	in := synthInputs(cfg, now, synth.Config{Edges: 20000, TradeRows: 20000, Seed: 3})
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

// TestAltSummaryMatchesAlternates: the pair step keeps figures of the compact alternates
// (altSummary, deduped by interned ids) and the findings show the full list (pairAlternates: the
// same ranked entries spelt out, deduped by id strings, notes merged). For every pair of a
// synthetic network, under both rank orders and with and without domestic-first, the count, the
// no-alternate flag, the TTR and its source must be those of the full list, and the compact list
// must be the full one entry by entry. A third of the suppliers carry SME tags and a region group
// shared with a third of the enterprises, so every rank key is exercised.
func TestAltSummaryMatchesAlternates(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ regions, domesticFirst bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		cfg := benchConfig()
		cfg.Regions.RankAlternates, cfg.Exposure.DomesticFirst = tc.regions, tc.domesticFirst
		in := synthInputs(cfg, now, synth.Config{Edges: 20000, TradeRows: 1000, Seed: 5})
		for id, info := range in.Suppliers {
			if info != nil && id%3 == 0 {
				info.Tags, info.RegionGroup = []string{"专精特新"}, "京津冀"
			}
			if info != nil && id%5 == 0 {
				info.RegionGroup = "长三角"
			}
		}
		for id, info := range in.Enterprises {
			if info != nil && id%3 != 1 {
				info.RegionGroup = "京津冀"
			}
		}
		a, err := in.Analysis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var ties, subs, sources, keys int
		for i := range a.Pairs {
			p := &a.Pairs[i]
			inProg := a.inProgress(a.altIx, i)
			shares := make([]float64, len(p.Suppliers))
			for i, s := range p.Suppliers {
				shares[i] = s.Share
			}
			ttrDefault := cfg.TTSTTR.TTRDefault(a.category(p.Comp))
			alts, nsubs := a.pairAlternates(p, inProg, shares, a.altIx, ttrDefault)
			lite, _ := a.altsLite(p, inProg, shares, a.altIx.compCands[p.Comp], ttrDefault, &altScratch{})
			if len(lite) != len(alts) {
				t.Fatalf("%+v %s|%s: %d compact alternates, %d full", tc, in.ID(p.Ent), in.ID(p.Comp), len(lite), len(alts))
			}
			for i, al := range alts {
				l := lite[i]
				if in.ID(l.sup) != al.SupplierID || in.ID(l.comp) != al.ComponentID || l.days != al.QualificationDays ||
					l.hhiAfter != al.HHIAfter || l.domestic != al.Domestic || (l.src == altSubstitution) != (al.Origin == "substitution") ||
					l.group != (al.RegionGroup != "") || l.tagged != (len(al.Tags) > 0) {
					t.Fatalf("%+v %s|%s: alternate %d: compact %+v, full %+v", tc, in.ID(p.Ent), in.ID(p.Comp), i, l, al)
				}
				if i > 0 && (l.group != lite[i-1].group || l.tagged != lite[i-1].tagged) {
					keys++
				}
			}
			ttr, source := cfg.TTSTTR.TTRDefault(a.category(p.Comp)), "category_default"
			for i, al := range alts {
				if i == 0 || al.QualificationDays < ttr {
					ttr, source = al.QualificationDays, al.Origin
				}
				if i > 0 && al.QualificationDays == alts[i-1].QualificationDays {
					ties++
				}
			}
			if p.NumAlternates != min(len(alts), cfg.Exposure.MaxAlternates) || p.NoAlternate != (len(alts) == 0) ||
				p.SubsCount != nsubs || p.TTR != ttr || p.TTRSource != source {
				t.Fatalf("%+v %s|%s: kept n=%d none=%v subs=%d ttr=%v (%s), full list n=%d subs=%d ttr=%v (%s)", tc,
					in.ID(p.Ent), in.ID(p.Comp), p.NumAlternates, p.NoAlternate, p.SubsCount, p.TTR, p.TTRSource,
					len(alts), nsubs, ttr, source)
			}
			subs += nsubs
			if source == "substitution" {
				sources++
			}
		}
		if ties == 0 || subs == 0 || sources == 0 || keys == 0 {
			t.Fatalf("%+v: %d ties, %d substitution entries, %d substitution TTRs, %d neighbours differing in region group or tags: the check proves little",
				tc, ties, subs, sources, keys)
		}
	}
}

// rankAlternates orders hand-made full alternates by compareAltRank, the order the pair step ranks
// its compact alternates in.
func rankAlternates(alts []Alternate, domesticFirst, regions bool) {
	key := func(x *Alternate) altRank {
		return altRank{domestic: x.Domestic, group: x.RegionGroup != "", tagged: len(x.Tags) > 0, days: x.QualificationDays,
			hhiAfter: x.HHIAfter, sup: x.SupplierID, comp: x.ComponentID}
	}
	slices.SortStableFunc(alts, func(x, y Alternate) int { return compareAltRank(key(&x), key(&y), domesticFirst, regions) })
}
