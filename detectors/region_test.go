package detectors

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/schemas"
)

func TestNormalizeRegion(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"北京", "北京"}, {"Beijing", "北京"}, {"北京市", "北京"}, {" beijing shi ", "北京"},
		{"河北/保定", "河北/保定"}, {"Hebei/Baoding", "河北/保定"}, {"河北省·保定市", "河北/保定"},
		{"Shenzhen", "广东/深圳"}, {"广东/深圳", "广东/深圳"}, {"Guangdong", "广东"}, {"Inner Mongolia", "内蒙古"},
		{"广西壮族自治区", "广西"}, {"Hong Kong SAR", "香港"}, {"Macau", "澳门"}, {"Liaoning/Dalian", "辽宁/大连"},
		{"", ""}, {"Bavaria", "Bavaria"},
	} {
		if got := NormalizeRegion(c.in).String(); got != c.want {
			t.Errorf("NormalizeRegion(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if NormalizeRegion("Bavaria").Known {
		t.Error("Bavaria is not a region of China")
	}
}

func TestRegionGroupOf(t *testing.T) {
	c := DefaultRegions()
	for _, x := range []struct{ region, want string }{
		{"北京", "京津冀"}, {"Tianjin", "京津冀"}, {"河北/保定", "京津冀"}, {"Hebei", "京津冀"},
		{"Jiangsu", "长三角"}, {"上海", "长三角"}, {"广东/深圳", "粤港澳大湾区"}, {"Shenzhen", "粤港澳大湾区"},
		{"Hong Kong", "粤港澳大湾区"}, {"广东", ""}, {"广东/汕头", ""}, {"Liaoning", ""}, {"", ""},
	} {
		if got := c.GroupOf(x.region); got != x.want {
			t.Errorf("GroupOf(%q) = %q, want %q", x.region, got, x.want)
		}
	}
	if got := c.SMETagsOf([]string{"链主", "小巨人", "专精特新"}); strings.Join(got, ",") != "专精特新,小巨人" {
		t.Errorf("SMETagsOf = %v", got)
	}
}

func TestRegionsValidate(t *testing.T) {
	c := RegionsConfig{Groups: []RegionGroup{{Name: "X", Members: []string{"北京", "Atlantis"}}, {Name: "X"}}, SMETags: []string{""}}
	var p confkit.Problems
	c.validate(&p, "regions.")
	err := p.Err()
	if err == nil {
		t.Fatal("no problems")
	}
	for _, want := range []string{"regions.groups[0].members[1]", "regions.groups[1].name", "regions.groups[1].members", "regions.sme_tags[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %s: %v", want, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestRankAlternates: domestic → same region group → tagged SMEs → others, then days.
func TestRankAlternatesRegional(t *testing.T) {
	for _, c := range []struct {
		name          string
		alts          []Alternate
		domesticFirst bool
		want          string
	}{
		{"keys in order", []Alternate{
			{SupplierID: "F", QualificationDays: 10},
			{SupplierID: "D", Domestic: true, QualificationDays: 20},
			{SupplierID: "DT", Domestic: true, Tags: []string{"专精特新"}, QualificationDays: 90},
			{SupplierID: "DG", Domestic: true, RegionGroup: "京津冀", QualificationDays: 200},
			{SupplierID: "DGT", Domestic: true, RegionGroup: "京津冀", Tags: []string{"小巨人"}, QualificationDays: 300},
		}, true, "DGT DG DT D F"},
		{"days within a tier", []Alternate{
			{SupplierID: "B", Domestic: true, RegionGroup: "长三角", QualificationDays: 90},
			{SupplierID: "A", Domestic: true, RegionGroup: "长三角", QualificationDays: 30},
		}, true, "A B"},
		{"without domestic_first the group leads", []Alternate{
			{SupplierID: "D", Domestic: true, QualificationDays: 5},
			{SupplierID: "F", QualificationDays: 1},
			{SupplierID: "G", Domestic: true, RegionGroup: "京津冀", QualificationDays: 50},
		}, false, "G F D"},
	} {
		rankAlternates(c.alts, c.domesticFirst, true)
		var got []string
		for _, a := range c.alts {
			got = append(got, a.SupplierID)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: got %v, want %s", c.name, got, c.want)
		}
	}
}

// demoInputs imports the demo supply map and substitution list (deploy/demo) into Inputs.
func demoInputs(t *testing.T, cfg Config, extra ...schemas.Record) *Inputs {
	t.Helper()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	em := &recEmitter{}
	for _, f := range [][2]string{{"supplymap", "../deploy/demo/supplymap"}, {"substitution", "../deploy/demo/substitution.csv"}} {
		if _, err := collectors.Import(context.Background(), f[0], f[1], em, collectors.ImportOptions{Now: func() time.Time { return now }}); err != nil {
			t.Fatalf("import %s: %v", f[1], err)
		}
	}
	if len(em.rejects) > 0 {
		t.Fatalf("%d rejects, first %+v", len(em.rejects), em.rejects[0])
	}
	b := NewBuilder(cfg, now)
	for _, r := range append(em.recs, extra...) {
		b.Add(r)
	}
	return b.Inputs()
}

type recEmitter struct {
	recs    []schemas.Record
	rejects []schemas.Rejected
}

func (e *recEmitter) Emit(_ context.Context, envs ...schemas.Envelope) error {
	for _, env := range envs {
		b, err := json.Marshal(env)
		if err != nil {
			return err
		}
		_, rec, err := schemas.Decode(b, "")
		if err != nil {
			return err
		}
		e.recs = append(e.recs, rec)
	}
	return nil
}

func (e *recEmitter) Reject(_ context.Context, rs ...schemas.Rejected) error {
	e.rejects = append(e.rejects, rs...)
	return nil
}

// TestDemoAlternatesRegional: on the demo map, the FPGA alternates of the Beijing enterprises (京津冀)
// and of the Jiangsu one (长三角) rank domestic → same group → tagged SME → others.
func TestDemoAlternatesRegional(t *testing.T) {
	in := demoInputs(t, DefaultConfig())
	a, err := in.Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ent, want string }{
		// 京微齐力 (北京, 京津冀, 专精特新/小巨人) 300 d; 高云 (广州, 专精特新) 330 d; 复旦微 (上海) 270 d;
		// 紫光同创 (深圳) 280 d; Lattice (USA) 290 d.
		{"E-SEMI", "S-JWQL[domestic same_region_group sme_tag] S-GOWIN[domestic sme_tag] S-FMSH[domestic] S-PANGO[domestic] S-LATTICE[]"},
		{"E-ROBOT", "S-JWQL[domestic same_region_group sme_tag] S-GOWIN[domestic sme_tag] S-FMSH[domestic] S-PANGO[domestic] S-LATTICE[]"},
		// Jiangsu is in 长三角 with Shanghai: 复旦微 first.
		{"E-NEV", "S-FMSH[domestic same_region_group] S-JWQL[domestic sme_tag] S-GOWIN[domestic sme_tag] S-PANGO[domestic] S-LATTICE[]"},
	} {
		p := a.Pair(c.ent, "C-FPGA")
		if p == nil {
			t.Fatalf("no pair %s|C-FPGA", c.ent)
		}
		var got []string
		if p.NumAlternates != len(a.Alternates(p)) {
			t.Errorf("%s|C-FPGA: NumAlternates %d, %d alternates", c.ent, p.NumAlternates, len(a.Alternates(p)))
		}
		for _, al := range a.Alternates(p) {
			got = append(got, al.SupplierID+"["+strings.Join(al.Reasons, " ")+"]")
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s|C-FPGA alternates:\n got %s\nwant %s", c.ent, strings.Join(got, " "), c.want)
		}
		if p.TTR != 270 {
			t.Errorf("%s|C-FPGA TTR %v, want 270 (the fastest alternate, 复旦微)", c.ent, p.TTR)
		}
	}
	jw := a.Alternates(a.Pair("E-SEMI", "C-FPGA"))[0]
	if jw.Region != "北京" || jw.RegionGroup != "京津冀" || strings.Join(jw.Tags, ",") != "专精特新,小巨人" {
		t.Errorf("京微齐力 placed as %+v", jw)
	}
	// Turning the regional keys off restores domestic → days.
	cfg := DefaultConfig()
	cfg.Regions.RankAlternates = false
	a2, err := demoInputs(t, cfg).Analysis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, al := range a2.Alternates(a2.Pair("E-SEMI", "C-FPGA")) {
		got = append(got, al.SupplierID)
	}
	if strings.Join(got, " ") != "S-FMSH S-PANGO S-JWQL S-GOWIN S-LATTICE" {
		t.Errorf("rank_alternates=false: %v", got)
	}
}
