package alerts

import (
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

// TestRenderRankReasons: the alert shows why an alternate ranks where it does (issue 14), in both
// languages and every format, with the data-derived names escaped in HTML.
func TestRenderRankReasons(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	f := SampleFinding(now)
	f.Alternates = []detectors.Alternate{
		{SupplierID: "S-JWQL", Country: "CHN", Domestic: true, QualificationDays: 300, HHIAfter: 0.5, Origin: "substitution",
			Region: "北京", RegionGroup: "京津冀", Tags: []string{"专精特新", "小巨人"},
			Reasons: []string{detectors.ReasonDomestic, detectors.ReasonSameRegionGroup, detectors.ReasonSMETag}},
		{SupplierID: "S-PANGO", Country: "CHN", Domestic: true, QualificationDays: 280, HHIAfter: 0.5, Origin: "substitution",
			Region: "广东/<b>深圳</b>", Reasons: []string{detectors.ReasonDomestic}},
		{SupplierID: "S-LATTICE", Country: "USA", QualificationDays: 290, HHIAfter: 0.5, Origin: "substitution"},
	}
	a, err := BuildAlert(DefaultConfig(), f, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang string
		want []string
	}{
		{LangEN, []string{"1. S-JWQL — CHN, domestic, 北京 · qualification 300 days", "ranked for: domestic, same region group 京津冀, SME 专精特新/小巨人",
			"2. S-PANGO — CHN, domestic, 广东/<b>深圳</b> · qualification 280 days · supplier HHI after switching 0.50 · ranked for: domestic\n"}},
		{LangZH, []string{"1. S-JWQL — CHN，国产，北京 · 认证周期 300 天", "排序依据：国产、同区域（京津冀）、专精特新/小巨人企业"}},
	} {
		r, err := Render(NewMessage(GroupInfo{EnterpriseID: "ENT-DEMO"}, []*Alert{a}), c.lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s text lacks %q:\n%s", c.lang, w, r.Text)
			}
		}
		if !strings.Contains(r.HTML, "京津冀") || strings.Contains(r.HTML, "<b>深圳") || !strings.Contains(r.HTML, "&lt;b&gt;深圳") {
			t.Errorf("%s HTML: reasons missing or region not escaped", c.lang)
		}
		if !strings.Contains(r.Markdown, "京津冀") {
			t.Errorf("%s markdown lacks the region group", c.lang)
		}
		if strings.Contains(r.Text, "S-LATTICE — USA, foreign · qualification 290 days · supplier HHI after switching 0.50 · ") {
			t.Errorf("%s: an alternate without reasons got a reasons segment", c.lang)
		}
	}
}
