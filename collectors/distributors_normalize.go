package collectors

import (
	"math"
	"regexp"
	"strings"

	"github.com/chainwatch/chainwatch/schemas"
)

// MaxStock is the largest stock quantity accepted: a larger number is a unit or parsing error of
// the source (no distributor holds ten billion of one part), rejected naming the field.
const MaxStock = 10_000_000_000

// MaxLeadDays is the largest lead time accepted (ten years).
const MaxLeadDays = 3650

// stockUnknownWords are stock values that say "no quantity given" (lower case, trimmed).
var stockUnknownWords = map[string]bool{
	"": true, "none": true, "call": true, "call for availability": true, "n/a": true, "na": true, "-": true,
	"--": true, "unknown": true, "null": true, "in stock": true, "available": true, "yes": true, "rfq": true,
	"on order": true, "non-stocked": true, "request quote": true, "contact us": true, "limited supply": true,
}

// stockRe: a number (thousands separators "," "." " " or NBSP allowed) with an optional "+" and
// an optional trailing phrase such as "In Stock", "pcs", "available".
var stockRe = regexp.MustCompile(`(?i)^([+-]?\s*[0-9][0-9,.\s\x{00a0}\x{202f}]*)\+?\s*(in\s*stock|available|pcs|pieces|units|stk|on\s*hand|can\s*ship\s*immediately)?\.?$`)

// stockDigitsRe: thousands groups of three after the first group, separated by "," "." or a space.
var stockDigitsRe = regexp.MustCompile(`^[0-9]{1,3}([,.\s\x{00a0}\x{202f}][0-9]{3})+$`)

// ParseStock normalises a stock value: "6809 In Stock", "1,200", "1.200" (a grouping, stock is
// whole), "10000+" and plain numbers give the quantity; "", "None", "Call", "In Stock" without
// a number and other words without digits give known == false (stock not stated). A negative
// number, a fraction, a number above MaxStock or digits mixed with other text are rejected with
// reason bad_number, the detail naming field.
func ParseStock(field, s string) (stock int64, known bool, rej *rejectErr) {
	t := strings.TrimSpace(s)
	if stockUnknownWords[strings.ToLower(t)] || !strings.ContainsAny(t, "0123456789") {
		return 0, false, nil
	}
	m := stockRe.FindStringSubmatch(t)
	if m == nil {
		return 0, false, rejectf("bad_number", "%s: %q is not a stock quantity", field, s)
	}
	num := strings.TrimSpace(m[1])
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimSpace(strings.TrimLeft(num, "+-"))
	if stockDigitsRe.MatchString(num) {
		num = strings.NewReplacer(",", "", ".", "", " ", "", "\u00a0", "", "\u202f", "").Replace(num)
	}
	f, err := parseNumber(num)
	switch {
	case err != nil:
		return 0, false, rejectf("bad_number", "%s: %q is not a stock quantity", field, s)
	case neg && f != 0:
		return 0, false, rejectf("bad_number", "%s: %q is negative", field, s)
	case f != math.Trunc(f):
		return 0, false, rejectf("bad_number", "%s: %q is not a whole number", field, s)
	case f > MaxStock:
		return 0, false, rejectf("bad_number", "%s: %q is above %d, not a plausible stock", field, s, int64(MaxStock))
	}
	return int64(f), true, nil
}

// NexarStock maps a Nexar / Octopart inventoryLevel: ≥ 0 is the quantity; the documented special
// codes (support.nexar.com article 101000525138) are -1 non-stocked (0, known), -2 "yes" (in
// stock, quantity not given), -3 unknown and -4 RFQ (all three: not stated). Anything below is
// rejected.
func NexarStock(field string, level int64) (stock int64, known bool, rej *rejectErr) {
	switch {
	case level >= 0 && level <= MaxStock:
		return level, true, nil
	case level > MaxStock:
		return 0, false, rejectf("bad_number", "%s: %d is above %d, not a plausible stock", field, level, int64(MaxStock))
	case level == -1:
		return 0, true, nil
	case level >= -4:
		return 0, false, nil
	}
	return 0, false, rejectf("bad_number", "%s: %d is negative and not a Nexar special code (-1..-4)", field, level)
}

// leadRe: a number or a range ("8-10") with an optional unit.
var leadRe = regexp.MustCompile(`(?i)^([0-9][0-9.,]*)(?:\s*(?:-|–|to)\s*([0-9][0-9.,]*))?\s*(d|day|days|天|w|wk|wks|week|weeks|周|m|mo|month|months|月)?\.?$`)

// leadUnknown are lead-time values that say "not stated".
var leadUnknown = map[string]bool{"": true, "n/a": true, "na": true, "-": true, "--": true, "none": true,
	"unknown": true, "null": true, "tbd": true, "call": true, "contact us": true, "non-stocked": true}

// ParseLeadDays normalises a lead time into days: "42 Days", "8 Weeks", "12 wks", "6 weeks",
// "30d", "12w", "3 months" (30 days each) and ranges "8-10 weeks" (the upper bound). A bare number
// takes defUnit ("days", "weeks"; empty: a bare number is rejected with missing_unit). "",
// "N/A", "Unknown", "TBD" give nil. Negative numbers and more than MaxLeadDays are rejected.
func ParseLeadDays(field, s, defUnit string) (*float64, *rejectErr) {
	t := strings.TrimSpace(s)
	if leadUnknown[strings.ToLower(t)] {
		return nil, nil
	}
	if strings.HasPrefix(t, "-") {
		return nil, rejectf("bad_number", "%s: %q is negative", field, s)
	}
	m := leadRe.FindStringSubmatch(t)
	if m == nil {
		return nil, rejectf("bad_number", "%s: %q is not a number of days or weeks", field, s)
	}
	num := m[1]
	if m[2] != "" {
		num = m[2]
	}
	f, err := parseNumber(num)
	if err != nil {
		return nil, rejectf("bad_number", "%s: %v", field, err)
	}
	unit := strings.ToLower(m[3])
	if unit == "" {
		unit = strings.ToLower(defUnit)
	}
	var mult float64
	switch unit {
	case "d", "day", "days", "天":
		mult = 1
	case "w", "wk", "wks", "week", "weeks", "周":
		mult = 7
	case "m", "mo", "month", "months", "月":
		mult = 30
	case "":
		return nil, rejectf("missing_unit", "%s: %q has no unit (use lead_time_days, lead_time_weeks, a lead_time_unit column or a value like \"6 weeks\")", field, s)
	default:
		return nil, rejectf("bad_unit", "lead_time_unit: %q is not days, weeks or months", unit)
	}
	d := f * mult
	if d > MaxLeadDays {
		return nil, rejectf("bad_number", "%s: %q is more than %d days", field, s, MaxLeadDays)
	}
	return &d, nil
}

// lifecycleWords maps normalised lifecycle words (lower case, letters and digits only, a
// parenthesised suffix such as "(Last Updated: 2 weeks ago)" removed) to schemas lifecycle values.
// Vocabularies: Mouser LifecycleStatus, Nexar/Octopart lifecycleStatus spec, DigiKey v4
// ProductStatus.Status, manufacturer terms (TI, ST, Infineon) and Chinese datasheet terms.
var lifecycleWords = map[string]string{
	// active (also not-yet-released parts: they are at the start of the lifecycle)
	"active": schemas.LifecycleActive, "production": schemas.LifecycleActive, "inproduction": schemas.LifecycleActive,
	"activeproduction": schemas.LifecycleActive, "volumeproduction": schemas.LifecycleActive, "massproduction": schemas.LifecycleActive,
	"new": schemas.LifecycleActive, "newproduct": schemas.LifecycleActive, "newatmouser": schemas.LifecycleActive,
	"activeandpreferred": schemas.LifecycleActive, "preferred": schemas.LifecycleActive, "released": schemas.LifecycleActive,
	"prerelease": schemas.LifecycleActive, "preview": schemas.LifecycleActive, "prototype": schemas.LifecycleActive,
	"sample": schemas.LifecycleActive, "samples": schemas.LifecycleActive, "comingsoon": schemas.LifecycleActive,
	"preproduction": schemas.LifecycleActive, "evaluation": schemas.LifecycleActive,
	"量产": schemas.LifecycleActive, "在产": schemas.LifecycleActive,
	// nrnd
	"nrnd": schemas.LifecycleNRND, "notrecommendedfornewdesigns": schemas.LifecycleNRND,
	"notrecommendedfornewdesign": schemas.LifecycleNRND, "notfornewdesigns": schemas.LifecycleNRND,
	"notfornewdesign": schemas.LifecycleNRND, "不推荐新设计": schemas.LifecycleNRND,
	// last time buy: discontinuation announced, orders still taken
	"ltb": schemas.LifecycleLastTimeBuy, "lasttimebuy": schemas.LifecycleLastTimeBuy, "lastbuy": schemas.LifecycleLastTimeBuy,
	"lifebuy": schemas.LifecycleLastTimeBuy, "tobediscontinued": schemas.LifecycleLastTimeBuy,
	// eol: past the last buy, remaining stock ships
	"eol": schemas.LifecycleEOL, "endoflife": schemas.LifecycleEOL, "lastshipments": schemas.LifecycleEOL,
	"lastshipment": schemas.LifecycleEOL, "停产通知": schemas.LifecycleEOL,
	// obsolete
	"obsolete": schemas.LifecycleObsolete, "discontinued": schemas.LifecycleObsolete, "nolongermanufactured": schemas.LifecycleObsolete,
	"inactive": schemas.LifecycleObsolete, "停产": schemas.LifecycleObsolete,
	// says nothing about the part
	"unknown": schemas.LifecycleUnknown, "discontinuedatdigikey": schemas.LifecycleUnknown,
	"marketplace": schemas.LifecycleUnknown, "notavailable": schemas.LifecycleUnknown,
}

var lifecycleSuffixRe = regexp.MustCompile(`\s*[(（\[].*$`)

// NormalizeLifecycle maps a lifecycle word to one of schemas.LifecycleValues: ok is false for a
// word no vocabulary knows (the value is then LifecycleUnknown). "" is LifecycleUnknown, ok.
func NormalizeLifecycle(s string) (string, bool) {
	s = lifecycleSuffixRe.ReplaceAllString(strings.TrimSpace(s), "")
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x2e80 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return schemas.LifecycleUnknown, true
	}
	v, ok := lifecycleWords[b.String()]
	if !ok {
		return schemas.LifecycleUnknown, false
	}
	return v, true
}

// priceCurrencies are currency marks accepted before or after a price.
var priceCurrencies = []struct{ mark, code string }{
	{"US$", "USD"}, {"USD", "USD"}, {"EUR", "EUR"}, {"GBP", "GBP"}, {"CNY", "CNY"}, {"RMB", "CNY"}, {"JPY", "JPY"},
	{"$", "USD"}, {"€", "EUR"}, {"£", "GBP"}, {"¥", ""}, {"￥", ""},
}

var (
	decimalCommaRe  = regexp.MustCompile(`^[0-9]+,[0-9]{1,2}$|^[0-9]+,[0-9]{4,}$|^0,[0-9]+$`)
	europeanPriceRe = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{3})*,[0-9]+$`)
)

// parsePrice reads a unit price: "$0.50", "0,15 €", "1.234,56 €", "¥2,100", "1.2345"; the currency
// mark (if any) is returned as an ISO code ("" when ambiguous, like ¥). A trailing mark means
// European notation (decimal comma); otherwise a comma followed by three digits groups
// thousands. "" and N/A give nil.
func parsePrice(s string) (*float64, string, error) {
	t := strings.TrimSpace(s)
	cur, suffix := "", false
	for _, c := range priceCurrencies {
		if strings.HasPrefix(t, c.mark) {
			t, cur = strings.TrimSpace(strings.TrimPrefix(t, c.mark)), c.code
			break
		}
		if strings.HasSuffix(t, c.mark) {
			t, cur, suffix = strings.TrimSpace(strings.TrimSuffix(t, c.mark)), c.code, true
			break
		}
	}
	switch {
	case suffix && europeanPriceRe.MatchString(t):
		t = strings.Replace(strings.ReplaceAll(t, ".", ""), ",", ".", 1)
	case decimalCommaRe.MatchString(t):
		t = strings.Replace(t, ",", ".", 1)
	}
	p, err := optNumber(t)
	return p, cur, err
}
