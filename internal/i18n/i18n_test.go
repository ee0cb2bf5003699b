package i18n

import (
	"slices"
	"testing"

	"github.com/chainwatch/chainwatch/schemas"
)

func TestParseAndNormalize(t *testing.T) {
	for in, want := range map[string]string{"": "", "zh": ZH, "zh-CN": ZH, "zh_cn": ZH, "ZH-Hans": ZH, "cn": ZH, "en": EN, "en-US": EN, " EN ": EN} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"fr", "english", "zhx", "de-DE"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if Normalize("zh_TW") != ZH || Normalize("fr") != EN || Normalize("") != EN {
		t.Errorf("Normalize")
	}
	if l := Langs(); len(l) != 2 || l[0] != ZH {
		t.Errorf("Langs = %v", l)
	}
}

func TestCatalog(t *testing.T) {
	c := Catalog{EN: {"a": "A %d", "b": "B"}, ZH: {"a": "甲 %d"}}
	if c.T(ZH, "a") != "甲 %d" || c.T(ZH, "b") != "B" || c.T(ZH, "c") != "c" || c.F(ZH, "a", 3) != "甲 3" {
		t.Errorf("T/F fallbacks")
	}
	if m := c.Missing(); len(m[ZH]) != 1 || m[ZH][0] != "b" || len(m[EN]) != 0 {
		t.Errorf("Missing = %v", m)
	}
}

func TestNamesTable(t *testing.T) {
	for _, k := range Kinds() {
		ns := Names(k)
		if len(ns) == 0 {
			t.Errorf("kind %s has no names", k)
		}
		seen := map[string]bool{}
		for _, n := range ns {
			if n.ID == "" || n.ZH == "" || n.EN == "" {
				t.Errorf("%s: incomplete name %+v", k, n)
			}
			if seen[n.ID] {
				t.Errorf("%s: id %q twice", k, n.ID)
			}
			seen[n.ID] = true
		}
	}
	if len(names) != len(Kinds()) {
		t.Errorf("Kinds() lists %d kinds, the table has %d", len(Kinds()), len(names))
	}
	var cats []string
	for _, n := range Names(KindCategory) {
		cats = append(cats, n.ID)
	}
	if !slices.Equal(cats, schemas.Categories) {
		t.Errorf("categories %v, schemas has %v", cats, schemas.Categories)
	}
	if CategoryName("high_end_chip", ZH) != "高端芯片" || CategoryName("high_end_chip", EN) != "High-end chips" ||
		CategoryName("", ZH) != "未分类" || CategoryName("x-unknown", ZH) != "x-unknown" {
		t.Errorf("CategoryName")
	}
	if IndustryName("new_energy_vehicles", ZH) != "新能源汽车" || FlagName("foreign_control", EN) != "foreign-controlled" ||
		SeverityName("critical", ZH) != "严重" {
		t.Errorf("names")
	}
	// Names returns a copy.
	ns := Names(KindCategory)
	ns[0].ZH = "x"
	if CategoryName(ns[0].ID, ZH) == "x" {
		t.Errorf("Names exposes the table")
	}
}
