package chainmap

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/schemas"
)

var sev = exposure.DefaultConfig().Severity

// toy is a two-link chain: a material mined abroad and at home, and a product made at home.
func toy() (Chain, Data) {
	chain := Chain{ID: "toy", Name: "Toy chain", Links: []Link{
		{ID: "mat", Name: "Material", Materials: []string{"M"}},
		{ID: "chip", Name: "Chip", HSCodes: []string{"8541"}},
		{ID: "end", Name: "End product", Components: []string{"P", "X-MISSING"}},
	}}
	d := Data{
		Nodes: map[string]Node{
			"M":    {Type: "component", ID: "M", Name: "Gallium", Category: "key_material", Chokepoint: true},
			"C1":   {Type: "component", ID: "C1", Name: "IGBT", HSCode: "854129"},
			"C2":   {Type: "component", ID: "C2", Name: "Diode", HSCode: "854110"},
			"C3":   {Type: "component", ID: "C3", Name: "FPGA", HSCode: "854231"},
			"P":    {Type: "product", ID: "P", Name: "Drive"},
			"E":    {Type: "enterprise", ID: "E", Name: "Maker <&> Co", Country: "CHN", Region: "Jiangsu", ChainLeader: true},
			"S-DE": {Type: "supplier", ID: "S-DE", Name: "German", Country: "DEU"},
			"S-BJ": {Type: "supplier", ID: "S-BJ", Name: "Beijing Mine", Country: "CHN", Domestic: true, Region: "Beijing"},
			"S-ZJ": {Type: "supplier", ID: "S-ZJ", Name: "Zhejiang Chip", Country: "CHN", Domestic: true, Region: "Zhejiang"},
			"S-SH": {Type: "supplier", ID: "S-SH", Name: "Shanghai Alt", Country: "CHN", Domestic: true, Region: "Shanghai"},
		},
		Edges: []Edge{
			{Type: "supplies", SupplierID: "S-DE", EnterpriseID: "E", ComponentID: "M", Share: 0.6, Qualification: "qualified"},
			{Type: "supplies", SupplierID: "S-BJ", EnterpriseID: "E", ComponentID: "M", Share: 0.4, Qualification: "qualified"},
			{Type: "supplies", SupplierID: "S-DE", EnterpriseID: "E", ComponentID: "C1", Share: 1, Qualification: "qualified"},
			{Type: "supplies", SupplierID: "S-ZJ", EnterpriseID: "E", ComponentID: "C1", Share: 0, Qualification: "in_progress"},
			{Type: "supplies", SupplierID: "S-BJ", EnterpriseID: "E", ComponentID: "C2", Share: 1, Qualification: "disqualified"},
			{Type: EdgeAlternate, SupplierID: "S-SH", ComponentID: "C1", QualificationDays: 200},
			{Type: EdgeAlternate, SupplierID: "S-SH", ComponentID: "C1", EnterpriseID: "E", QualificationDays: 150},
			{Type: "makes", EnterpriseID: "E", ProductID: "P"},
			{Type: "supplies", SupplierID: "S-DE", EnterpriseID: "E", ComponentID: "NOT-IN-CHAIN", Share: 1, Qualification: "qualified"},
		},
		Exposures: []Exposure{
			{EnterpriseID: "E", ComponentID: "C1", Score: 85},
			{EnterpriseID: "E", ComponentID: "M", Score: 30},
			{EnterpriseID: "E", ComponentID: "NOT-IN-CHAIN", Score: 99},
		},
	}
	return chain, d
}

// summary renders a column as "members by group; gaps" for compact comparison.
func summary(c Column) string {
	var gs []string
	for _, g := range c.Groups {
		var ms []string
		for _, m := range g.Members {
			s := m.ID + ":" + m.Status
			if m.Score != nil {
				s += fmt.Sprintf(":%g", *m.Score)
			}
			ms = append(ms, s)
		}
		gs = append(gs, g.Label+"["+strings.Join(ms, " ")+"]")
	}
	var gaps []string
	for _, g := range c.Gaps {
		gaps = append(gaps, g.Kind+"("+strings.Join(g.Candidates, ",")+")")
	}
	return strings.Join(gs, " ") + " | gaps " + strings.Join(gaps, " ")
}

func TestBuild(t *testing.T) {
	chain, d := toy()
	tests := []struct {
		name   string
		region string
		want   []string // one summary per link
		gaps   int
	}{
		{"national", "", []string{
			"CHN · Beijing[S-BJ:qualified:30] DEU[S-DE:qualified:30] | gaps ",
			"CHN · Shanghai[S-SH:alternate] CHN · Zhejiang[S-ZJ:in_progress] DEU[S-DE:qualified:85] | gaps domestic(Shanghai Alt,Zhejiang Chip)",
			"CHN · Jiangsu[E:qualified:85] | gaps ",
		}, 1},
		{"beijing", "Beijing", []string{
			"CHN · Beijing[S-BJ:qualified:30] DEU[S-DE:qualified:30] | gaps ",
			"CHN · Shanghai[S-SH:alternate] CHN · Zhejiang[S-ZJ:in_progress] DEU[S-DE:qualified:85] | gaps domestic(Shanghai Alt,Zhejiang Chip) region()",
			"CHN · Jiangsu[E:qualified:85] | gaps region()",
		}, 3},
		{"region group, case-insensitive", "jiangsu, zhejiang", []string{
			"CHN · Beijing[S-BJ:qualified:30] DEU[S-DE:qualified:30] | gaps region()",
			"CHN · Zhejiang[S-ZJ:in_progress] CHN · Shanghai[S-SH:alternate] DEU[S-DE:qualified:85] | gaps domestic(Shanghai Alt,Zhejiang Chip) region(Zhejiang Chip)",
			"CHN · Jiangsu[E:qualified:85] | gaps ",
		}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Build(chain, d, Options{Region: tc.region, Home: "CHN", Severity: sev})
			if len(m.Links) != len(tc.want) {
				t.Fatalf("%d links", len(m.Links))
			}
			for i, c := range m.Links {
				if got := summary(c); got != tc.want[i] {
					t.Errorf("link %d:\n got %s\nwant %s", i, got, tc.want[i])
				}
				if c.Position != i+1 {
					t.Errorf("link %d position %d", i, c.Position)
				}
			}
			if len(m.Gaps) != tc.gaps {
				t.Errorf("%d gaps, want %d: %+v", len(m.Gaps), tc.gaps, m.Gaps)
			}
			if m.MaxScore == nil || *m.MaxScore != 85 || m.Severity != "critical" {
				t.Errorf("max score %v %s, want 85 critical (99 is outside the chain)", m.MaxScore, m.Severity)
			}
		})
	}
}

func TestBuildItemsAndMembers(t *testing.T) {
	chain, d := toy()
	m := Build(chain, d, Options{Home: "CHN", Severity: sev})
	var items [][]string
	for _, c := range m.Links {
		var ids []string
		for _, it := range c.Items {
			ids = append(ids, it.ID+"/"+it.Kind+"/"+it.ViaHS+fmt.Sprint("/", it.Known))
		}
		items = append(items, ids)
	}
	want := [][]string{{"M/material//true"}, {"C1/component/8541/true", "C2/component/8541/true"}, {"P/product//true", "X-MISSING/component//false"}}
	for i := range want {
		if !slices.Equal(items[i], want[i]) {
			t.Errorf("link %d items %v, want %v", i, items[i], want[i])
		}
	}
	chip := m.Links[1]
	if chip.Score == nil || *chip.Score != 85 || chip.Severity != "critical" || chip.Domestic != 0 || chip.InRegion != nil {
		t.Errorf("chip column: score %v %s, domestic %d, in region %v", chip.Score, chip.Severity, chip.Domestic, chip.InRegion)
	}
	alt := chip.Groups[0].Members[0]
	if alt.ID != "S-SH" || alt.QualificationDays == nil || *alt.QualificationDays != 150 || alt.Score != nil || !alt.Domestic {
		t.Errorf("alternate: %+v", alt)
	}
	maker := m.Links[2].Groups[0].Members[0]
	if !maker.Domestic || !maker.ChainLeader || maker.Type != "enterprise" || !slices.Equal(maker.Items, []string{"P"}) || maker.Severity != "critical" {
		t.Errorf("maker (domestic by home country): %+v", maker)
	}
	if m.Links[0].Items[0].Name != "Gallium" || !m.Links[0].Items[0].Chokepoint {
		t.Errorf("material item: %+v", m.Links[0].Items[0])
	}
	// Without a home country the maker is not domestic: the end link becomes a gap.
	m = Build(chain, d, Options{Severity: sev})
	if len(m.Links[2].Gaps) != 1 || m.Links[2].Gaps[0].Kind != GapDomestic {
		t.Errorf("end link without home: %+v", m.Links[2].Gaps)
	}
	// No data at all: every link is a domestic gap, nothing scored.
	m = Build(chain, Data{}, Options{Home: "CHN", Severity: sev})
	if len(m.Gaps) != 3 || m.MaxScore != nil || m.Links[1].Items != nil {
		t.Errorf("empty data: %d gaps, max %v, items %v", len(m.Gaps), m.MaxScore, m.Links[1].Items)
	}
}

// DemoEnvelopes imports deploy/demo/supplymap and substitution.csv through the collectors and
// returns the envelopes and their decoded records (exported for the integration test).
func DemoEnvelopes(t testing.TB) ([]schemas.Envelope, []schemas.Record) {
	t.Helper()
	em := &recEmitter{}
	now := func() time.Time { return time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC) }
	for kind, path := range map[string]string{"supplymap": "../../deploy/demo/supplymap", "substitution": "../../deploy/demo/substitution.csv"} {
		if _, err := collectors.Import(context.Background(), kind, path, em, collectors.ImportOptions{Now: now}); err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
	}
	if em.rejects > 0 {
		t.Fatalf("%d demo records rejected", em.rejects)
	}
	return em.envs, em.recs
}

type recEmitter struct {
	envs    []schemas.Envelope
	recs    []schemas.Record
	rejects int
}

func (e *recEmitter) Emit(_ context.Context, envs ...schemas.Envelope) error {
	for _, env := range envs {
		raw, err := json.Marshal(env)
		if err != nil {
			return err
		}
		if _, rec, err := schemas.Decode(raw, ""); err != nil {
			return err
		} else {
			e.envs, e.recs = append(e.envs, env), append(e.recs, rec)
		}
	}
	return nil
}

func (e *recEmitter) Reject(_ context.Context, rs ...schemas.Rejected) error {
	e.rejects += len(rs)
	return nil
}

// demoData is the demo map as Build's input, with the given exposures.
func demoData(t *testing.T, xs ...Exposure) Data {
	_, recs := DemoEnvelopes(t)
	d := Data{Nodes: map[string]Node{}, Exposures: xs}
	for _, r := range recs {
		switch r := r.(type) {
		case *schemas.SupplyNode:
			d.Nodes[r.NodeID] = Node{Type: r.NodeType, ID: r.NodeID, Name: r.Name, Country: r.Country, Region: r.Region, Domestic: r.Domestic,
				ChainLeader: r.ChainLeader, Tags: r.Tags, Category: r.Category, HSCode: r.HSCode, Chokepoint: r.Chokepoint}
		case *schemas.SupplyLink:
			d.Edges = append(d.Edges, Edge{Type: r.LinkType, EnterpriseID: r.EnterpriseID, ProductID: r.ProductID, ComponentID: r.ComponentID,
				SupplierID: r.SupplierID, Qualification: r.Qualification, Share: r.Share})
		case *schemas.Substitution:
			d.Edges = append(d.Edges, Edge{Type: EdgeAlternate, ComponentID: r.ComponentID, SupplierID: r.AltSupplierID, EnterpriseID: r.EnterpriseID,
				QualificationDays: r.QualificationDays})
		}
	}
	return d
}

// TestDemoChains places the demo map on the three shipped chains: the gaps are where the demo
// supply map has no qualified domestic source.
func TestDemoChains(t *testing.T) {
	chains, err := Config{File: "../../deploy/demo/chains.yaml"}.Load()
	if err != nil {
		t.Fatal(err)
	}
	d := demoData(t, Exposure{EnterpriseID: "E-NEV", ComponentID: "C-IGBT", Score: 81}, Exposure{EnterpriseID: "E-NEV", ComponentID: "C-COBALT", Score: 20})
	want := map[string][]string{
		"nev":            {"power-chips/domestic"},
		"semiconductors": {"devices/domestic", "software/domestic"},
		"robots":         {"controller/domestic", "machine-tools/domestic"},
	}
	for _, c := range chains {
		m := Build(c, d, Options{Home: "CHN", Severity: sev})
		var got []string
		for _, g := range m.Gaps {
			got = append(got, g.Link+"/"+g.Kind)
		}
		if !slices.Equal(got, want[c.ID]) {
			t.Errorf("%s: gaps %v, want %v", c.ID, got, want[c.ID])
		}
		for _, l := range m.Links {
			if len(l.Groups) == 0 {
				t.Errorf("%s/%s: nobody at the link", c.ID, l.ID)
			}
		}
	}
	nev := Build(chains[0], d, Options{Home: "CHN", Severity: sev, Region: "Zhejiang"})
	chips := nev.Links[1]
	if len(chips.Gaps) != 2 || !slices.Contains(chips.Gaps[0].Candidates, "斯达半导 StarPower Semiconductor") ||
		!slices.Contains(chips.Gaps[1].Candidates, "斯达半导 StarPower Semiconductor") || chips.Groups[0].Label != "CHN · Zhejiang" || !chips.Groups[0].InRegion {
		t.Errorf("NEV power chips, Zhejiang view: %s", summary(chips))
	}
	if chips.Score == nil || *chips.Score != 81 || chips.Severity != "critical" {
		t.Errorf("NEV power chips score %v %s, want 81 critical", chips.Score, chips.Severity)
	}
	if s := summary(nev.Links[3]); s != "CHN · Jiangsu[E-NEV:qualified:81] | gaps region()" {
		t.Errorf("NEV vehicle: %s", s)
	}
	if nev.Links[0].InRegion == nil || *nev.Links[0].InRegion != 1 || len(nev.Links[0].Gaps) != 0 {
		t.Errorf("NEV materials in Zhejiang (Huayou Cobalt): %s", summary(nev.Links[0]))
	}
}

func TestGroupRegions(t *testing.T) {
	g := GroupRegions{Config: detectors.DefaultRegions()}
	tests := []struct {
		want, region string
		match        bool
	}{
		{"京津冀", "Beijing", true},
		{"京津冀", "北京市", true},
		{"京津冀", "河北/保定", true},
		{"京津冀", "Jiangsu", false},
		{"粤港澳大湾区", "广东/深圳", true},
		{"粤港澳大湾区", "广东/汕头", false},
		{"Liaoning", "辽宁/瓦房店", true},
		{"辽宁/大连", "Liaoning/Dalian", true},
		{"辽宁/大连", "辽宁/瓦房店", false},
		{"Tianjin, Hebei", "Hebei", true},
		{"Beijing", "", false},
	}
	for _, tc := range tests {
		if got := g.Match(tc.want, tc.region); got != tc.match {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.want, tc.region, got, tc.match)
		}
	}
	if p := g.Place("Liaoning/Dalian"); p != "辽宁" {
		t.Errorf("Place = %q", p)
	}
	if p := g.Place(" Bavaria "); p != "Bavaria" {
		t.Errorf("Place(unknown) = %q", p)
	}
	// On the demo map, 京津冀 finds Chalco (gallium, Beijing) and the Beijing robot maker.
	chains, err := Config{File: "../../deploy/demo/chains.yaml"}.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := Build(chains[2], demoData(t), Options{Home: "CHN", Severity: sev, Region: "京津冀", Regions: g})
	robot := m.Links[3]
	if robot.InRegion == nil || *robot.InRegion != 1 || len(robot.Gaps) != 0 || robot.Groups[0].Label != "CHN · 北京" {
		t.Errorf("robots/robot in 京津冀: %s", summary(robot))
	}
	if len(m.Links[0].Gaps) != 1 || m.Links[0].Gaps[0].Kind != GapRegion {
		t.Errorf("robots/components in 京津冀 (bearings from 辽宁 and abroad): %s", summary(m.Links[0]))
	}
}
