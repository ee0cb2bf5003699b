package collectors

import (
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/schemas"
)

func TestParseStock(t *testing.T) {
	for _, c := range []struct {
		in    string
		stock int64
		known bool
		rej   string // substring of the reject detail; "" = accepted
	}{
		{"6809 In Stock", 6809, true, ""},
		{"1,204 In Stock", 1204, true, ""},
		{"1,200", 1200, true, ""},
		{"1.200", 1200, true, ""},
		{"12 000", 12000, true, ""},
		{"10000+", 10000, true, ""},
		{"0", 0, true, ""},
		{"42", 42, true, ""},
		{"", 0, false, ""},
		{"None", 0, false, ""},
		{"Call", 0, false, ""},
		{"In Stock", 0, false, ""},
		{"On Order", 0, false, ""},
		{"Non-Stocked", 0, false, ""},
		{"-5", 0, false, "negative"},
		{"-12 In Stock", 0, false, "negative"},
		{"2.5", 0, false, "whole"},
		{"20000000000000", 0, false, "plausible"},
		{"12O0", 0, false, "not a stock quantity"},
		{"5 boxes", 0, false, "not a stock quantity"},
	} {
		st, known, rej := ParseStock("stock", c.in)
		switch {
		case c.rej != "" && (rej == nil || rej.reason != "bad_number" || !strings.Contains(rej.detail, c.rej) || !strings.HasPrefix(rej.detail, "stock: ")):
			t.Errorf("%q: want reject %q, got %v", c.in, c.rej, rej)
		case c.rej == "" && (rej != nil || st != c.stock || known != c.known):
			t.Errorf("%q → %d known=%v rej=%v, want %d %v", c.in, st, known, rej, c.stock, c.known)
		}
	}
}

func TestNexarStockCodes(t *testing.T) {
	for level, want := range map[int64]struct {
		stock int64
		known bool
	}{52310: {52310, true}, 0: {0, true}, -1: {0, true}, -2: {0, false}, -3: {0, false}, -4: {0, false}} {
		st, known, rej := NexarStock("inventoryLevel", level)
		if rej != nil || st != want.stock || known != want.known {
			t.Errorf("%d → %d %v %v", level, st, known, rej)
		}
	}
	if _, _, rej := NexarStock("inventoryLevel", -7); rej == nil || !strings.HasPrefix(rej.detail, "inventoryLevel: ") {
		t.Errorf("-7: %v", rej)
	}
}

func TestParseLeadDays(t *testing.T) {
	for _, c := range []struct {
		in, unit string
		days     float64 // -1: nil
		rej      string
	}{
		{"42 Days", "", 42, ""},
		{"8 Weeks", "", 56, ""},
		{"12 wks", "", 84, ""},
		{"6 weeks", "", 42, ""},
		{"30d", "", 30, ""},
		{"12w", "", 84, ""},
		{"3 months", "", 90, ""},
		{"8-10 weeks", "", 70, ""},
		{"16", "weeks", 112, ""},
		{"84", "days", 84, ""},
		{"", "", -1, ""},
		{"N/A", "", -1, ""},
		{"Call", "days", -1, ""},
		{"Unknown", "", -1, ""},
		{"5", "", 0, "missing_unit"},
		{"-3 weeks", "", 0, "bad_number"},
		{"soon", "", 0, "bad_number"},
		{"900 weeks", "", 0, "bad_number"},
		{"5 fortnights", "", 0, "bad_number"},
	} {
		d, rej := ParseLeadDays("lead_time", c.in, c.unit)
		switch {
		case c.rej != "":
			if rej == nil || rej.reason != c.rej || !strings.HasPrefix(rej.detail, "lead_time") {
				t.Errorf("%q: want %s, got %v", c.in, c.rej, rej)
			}
		case rej != nil:
			t.Errorf("%q: %v", c.in, rej)
		case c.days < 0 && d != nil, c.days >= 0 && (d == nil || *d != c.days):
			t.Errorf("%q (%s) → %v, want %v", c.in, c.unit, d, c.days)
		}
	}
}

func TestNormalizeLifecycleVendorWords(t *testing.T) {
	for in, want := range map[string]string{
		"Production (Last Updated: 2 weeks ago)": schemas.LifecycleActive,
		"EOL (Last Updated: 3 days ago)":         schemas.LifecycleEOL,
		"NRND (Last Updated: 1 month ago)":       schemas.LifecycleNRND,
		"TO BE DISCONTINUED":                     schemas.LifecycleLastTimeBuy,
		"LAST SHIPMENTS":                         schemas.LifecycleEOL,
		"Pre-Release":                            schemas.LifecycleActive,
		"New Product":                            schemas.LifecycleActive,
		"Not Recommended for New Designs":        schemas.LifecycleNRND,
		"Not For New Designs":                    schemas.LifecycleNRND,
		"Last Time Buy":                          schemas.LifecycleLastTimeBuy,
		"End of Life":                            schemas.LifecycleEOL,
		"Obsolete":                               schemas.LifecycleObsolete,
		"Discontinued at Digi-Key":               schemas.LifecycleUnknown,
		"":                                       schemas.LifecycleUnknown,
		"Unknown":                                schemas.LifecycleUnknown,
	} {
		if got, ok := NormalizeLifecycle(in); !ok || got != want {
			t.Errorf("%q → %q %v, want %q", in, got, ok, want)
		}
	}
	if got, ok := NormalizeLifecycle("Gone Fishing"); ok || got != schemas.LifecycleUnknown {
		t.Errorf("unknown word → %q %v", got, ok)
	}
}

func TestParsePrice(t *testing.T) {
	for in, want := range map[string]struct {
		p   float64
		cur string
	}{"$0.50": {0.5, "USD"}, "8,53 €": {8.53, "EUR"}, "1.234,56 €": {1234.56, "EUR"}, "¥2,100": {2100, ""},
		"£13.58": {13.58, "GBP"}, "0.0034": {0.0034, ""}, "1,5": {1.5, ""}} {
		p, cur, err := parsePrice(in)
		if err != nil || p == nil || *p != want.p || cur != want.cur {
			t.Errorf("%q → %v %q %v", in, p, cur, err)
		}
	}
	if _, _, err := parsePrice("cheap"); err == nil {
		t.Error("cheap accepted")
	}
}
