package detectors

import "testing"

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
