package alerts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/internal/i18n"
)

// TestRenderSharedNames: category and flag names in B计划 warnings come from the shared bilingual
// table (internal/i18n), in the message's language.
func TestRenderSharedNames(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	a := alerts.SampleAlert(now, "苏州智控装备")
	a.Category, a.Flags = "high_end_chip", []string{"foreign_control", "single_source"}
	info := alerts.GroupInfo{Key: "ENT-DEMO", EnterpriseID: "ENT-DEMO", EnterpriseName: "苏州智控装备", Now: now}
	msg := alerts.NewMessage(info, []*alerts.Alert{a})
	for lang, want := range map[string][]string{
		"zh-CN": {"品类 " + i18n.CategoryName("high_end_chip", i18n.ZH), i18n.FlagName("foreign_control", i18n.ZH) + "、单一来源"},
		"en":    {"category High-end chips", "foreign-controlled, single source"},
	} {
		r, err := alerts.Render(msg, lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s text lacks %q:\n%s", lang, w, r.Text)
			}
		}
	}
}
