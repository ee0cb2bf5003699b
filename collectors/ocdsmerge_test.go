package collectors

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

// mergeAll merges JSON objects in the given order and returns the exported result as JSON.
func mergeAll(t *testing.T, releases ...string) map[string]any {
	t.Helper()
	tree := map[string]any{}
	for _, r := range releases {
		v, err := ocdsDecode([]byte(r))
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		ocdsMerge(tree, v.(map[string]any), "")
	}
	b, _ := json.Marshal(ocdsExport(tree, false))
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonEq(t *testing.T, got map[string]any, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.Marshal(got)
		t.Errorf("merged\n got %s\nwant %s", g, want)
	}
}

func TestOCDSMergeRules(t *testing.T) {
	cases := []struct {
		name     string
		releases []string
		want     string
	}{
		{"later overrides, absent keeps",
			[]string{`{"a":1,"b":{"c":"x","d":"y"}}`, `{"a":2,"b":{"c":"z"}}`},
			`{"a":2,"b":{"c":"z","d":"y"}}`},
		{"null removes a field",
			[]string{`{"a":1,"b":{"c":"x","d":"y"}}`, `{"a":null,"b":{"d":null}}`},
			`{"b":{"c":"x"}}`},
		{"null, then set again",
			[]string{`{"a":1}`, `{"a":null}`, `{"a":3}`},
			`{"a":3}`},
		{"null over an object keeps its fields (ocdsmerge)",
			[]string{`{"v":{"amount":5,"currency":"GBP"}}`, `{"v":null}`},
			`{"v":{"amount":5,"currency":"GBP"}}`},
		{"empty object and empty array change nothing",
			[]string{`{"v":{"amount":5},"xs":[{"id":"1"}],"tags":["a"]}`, `{"v":{},"xs":[],"tags":[]}`},
			`{"v":{"amount":5},"xs":[{"id":"1"}],"tags":["a"]}`},
		{"arrays of objects merge by id, 1 and \"1\" are one id",
			[]string{`{"xs":[{"id":1,"a":"p"},{"id":"2","a":"q"}]}`, `{"xs":[{"id":"1","b":"r"},{"id":"3","a":"s"}]}`},
			`{"xs":[{"id":1,"a":"p","b":"r"},{"id":"2","a":"q"},{"id":"3","a":"s"}]}`},
		{"elements without id are appended, empty ones ignored",
			[]string{`{"xs":[{"a":"p"}]}`, `{"xs":[{"a":"p"},{}]}`},
			`{"xs":[{"a":"p"},{"a":"p"}]}`},
		{"arrays of scalars are replaced whole",
			[]string{`{"tags":["a","b"]}`, `{"tags":["c"]}`},
			`{"tags":["c"]}`},
		{"whole-list field parties.roles: an empty one replaces",
			[]string{`{"parties":[{"id":"P","roles":["buyer","payer"]}]}`, `{"parties":[{"id":"P","roles":[]}]}`},
			`{"parties":[{"id":"P","roles":[]}]}`},
		{"a scalar does not replace an object (ocdsmerge keeps its fields)",
			[]string{`{"v":{"amount":5}}`, `{"v":"n/a"}`},
			`{"v":{"amount":5}}`},
		{"an object replaces an earlier scalar",
			[]string{`{"v":"n/a"}`, `{"v":{"amount":5}}`},
			`{"v":{"amount":5}}`},
		{"nested id arrays",
			[]string{`{"awards":[{"id":"a","suppliers":[{"id":"S1","name":"Old"}]}]}`,
				`{"awards":[{"id":"a","suppliers":[{"id":"S1","name":"New"},{"id":"S2","name":"Two"}]}]}`},
			`{"awards":[{"id":"a","suppliers":[{"id":"S1","name":"New"},{"id":"S2","name":"Two"}]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { jsonEq(t, mergeAll(t, c.releases...), c.want) })
	}
}

func TestOCDSKeptFormKeepsOnlyAwardFields(t *testing.T) {
	var k keptRelease
	if err := json.Unmarshal([]byte(`{"ocid":"o","id":"r","date":"2025-01-01T00:00:00Z","tag":["award"],
		"planning":{"budget":{"amount":{"amount":1}}},"tender":{"title":"T","items":[{"id":"i","quantity":3,
		"classification":{"scheme":"CPV","id":"1","uri":"u"}},{"quantity":1},{}]},"parties":[{"id":"P","roles":null}],
		"awards":[{},{"id":"a","title":"x","_cw_loc":"forged","_cw_present":false,"value":{"amount":1,"currency":"GBP"}},
		{"title":"only unkept fields"}],"contracts":[{"id":"c"}]}`), &k); err != nil {
		t.Fatal(err)
	}
	k.tidy("f:1")
	b, err := json.Marshal(&k)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, got, `{"ocid":"o","id":"r","date":"2025-01-01T00:00:00Z","parties":[{"id":"P","roles":null,"_cw_present":true}],
		"tender":{"items":[{"id":"i","classification":{"scheme":"CPV","id":"1"},"_cw_present":true},{"_cw_present":true}]},
		"awards":[{"id":"a","value":{"amount":1,"currency":"GBP"},"_cw_loc":"f:1.awards[1]","_cw_present":true},
			{"_cw_loc":"f:1.awards[2]","_cw_present":true}]}`)
}

// partialUpdates is a JSON Lines file of hand-made releases whose compiled form is known: the
// latest release of ocds-syn-1 (status only) comes first and the earliest (the full award) second.
// (The empty parties mark the releases as OCDS 1.1 for ocdskit; an empty array changes nothing.)
const partialUpdates = `{"ocid":"ocds-syn-1","id":"r3","date":"2025-03-01T00:00:00Z","tag":["awardUpdate"],"parties":[],"awards":[{"id":"a1","status":"cancelled"}]}
{"ocid":"ocds-syn-1","id":"r1","date":"2025-01-01T00:00:00Z","tag":["award"],"parties":[{"id":"S1","name":"Acme Ltd","roles":["supplier"],"address":{"countryName":"United Kingdom"}},{"id":"B1","name":"City Council","roles":["buyer"]}],"buyer":{"id":"B1","name":"City Council"},"tender":{"id":"t1","items":[{"id":"i1","description":"MCU","classification":{"scheme":"CPV","id":"32000000"}}]},"awards":[{"id":"a1","status":"pending","date":"2025-01-01T00:00:00Z","value":{"amount":1000,"currency":"GBP"},"suppliers":[{"id":"S1","name":"Acme Ltd"}]}]}
{"ocid":"ocds-syn-1","id":"r2","date":"2025-02-01T00:00:00Z","tag":["awardUpdate"],"parties":[],"awards":[{"id":"a1","status":"active","value":{"amount":900}},{"id":"a2","date":"2025-02-01T00:00:00Z","value":{"amount":50,"currency":"EUR"},"suppliers":[{"id":"S2","name":"Beta GmbH"}]}]}
{"ocid":"ocds-syn-2","id":"n1","date":"2025-01-01T00:00:00Z","tag":["award"],"parties":[],"awards":[{"id":"a1","date":"2025-01-05T00:00:00Z","value":{"amount":10,"currency":"USD"},"suppliers":[{"id":"S1","name":"Old name"}],"items":[{"id":"x","description":"old item"}]}]}
{"ocid":"ocds-syn-2","id":"n2","date":"2025-01-02T00:00:00Z","tag":["awardUpdate"],"parties":[],"awards":[{"id":"a1","date":null,"value":{"amount":null},"suppliers":[{"id":"S1","name":"New name"},{"id":"S3","name":"Gamma"}],"items":[{"id":"x","description":null}]}]}
{"ocid":"ocds-syn-3","id":"e1","date":"2025-04-01T00:00:00Z","tag":["award"],"parties":[],"awards":[{"id":"a1","status":"pending","value":{"amount":1,"currency":"CNY"},"suppliers":[{"id":"S9","name":"Nine"}]}]}
{"ocid":"ocds-syn-3","id":"e2","date":"2025-04-01T00:00:00Z","tag":["awardUpdate"],"parties":[],"awards":[{"id":"a1","status":"active"}]}
{"ocid":"ocds-syn-3","id":"e0","date":"2025-03-31T00:00:00Z","tag":["tender"],"parties":[],"tender":{"id":"t3","classification":{"scheme":"CPV","id":"31711000","description":"Electronic supplies"}}}
`

func importString(t *testing.T, body, name string, limit int) (*collectorstest.Memory, Stats) {
	t.Helper()
	m := &collectorstest.Memory{}
	o := newOut(context.Background(), m, SourceOCDS, testNow, 3)
	if err := importOCDSLimit(o, strings.NewReader(body), name, testCountries, limit); err != nil {
		t.Fatal(err)
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	checkStats(t, m, o.stats)
	if st := o.stats; st.Read != st.Emitted+st.RejectedTotal()+st.Skipped+st.Duplicates {
		t.Errorf("read %d != emitted %d + rejected %d + skipped %d + duplicates %d", st.Read, st.Emitted,
			st.RejectedTotal(), st.Skipped, st.Duplicates)
	}
	return m, o.stats
}

func TestOCDSPartialUpdates(t *testing.T) {
	m, st := importString(t, partialUpdates, "partial.jsonl", 0)
	// 8 releases: 8 award versions + 1 release without awards = 9 read units; 4 compiled awards.
	if st.Read != 9 || st.Emitted != 4 || st.Skipped != 5 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events)
	day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 0, 0, 0, 0, time.UTC) }
	a1 := findAward(aw, "ocds-syn-1", "a1")
	// The status-only release (latest, first in the file) keeps the value, suppliers, date and items
	// of the earlier ones; the amount correction of r2 keeps r1's currency.
	if a1 == nil || a1.Status != "cancelled" || !ptrEq(a1.Value, 900) || a1.Currency != "GBP" ||
		!reflect.DeepEqual(a1.SupplierIDs, []string{"S1"}) || a1.SupplierNames[0] != "Acme Ltd" ||
		a1.SupplierCountries[0] != "GBR" || a1.BuyerName != "City Council" || !a1.Date.Equal(day(1, 1)) ||
		a1.ReleaseID != "r3" || !a1.CompiledAt.Equal(day(3, 1)) || len(a1.ItemCodes) != 1 || a1.ItemCodes[0] != "32000000" {
		t.Errorf("syn-1 a1 %+v", a1)
	}
	a2 := findAward(aw, "ocds-syn-1", "a2")
	if a2 == nil || !ptrEq(a2.Value, 50) || a2.Currency != "EUR" || a2.SupplierNames[0] != "Beta GmbH" || a2.ReleaseID != "r3" {
		t.Errorf("syn-1 a2 %+v", a2)
	}
	// null removes: the award date (→ the compiled release date), the amount (→ no value), the item
	// description; suppliers merge by id.
	b := findAward(aw, "ocds-syn-2", "a1")
	if b == nil || b.Value != nil || b.Currency != "" || !b.Date.Equal(day(1, 2)) ||
		!reflect.DeepEqual(b.SupplierNames, []string{"New name", "Gamma"}) || b.ItemDescriptions[0] != "" || b.ItemIDs[0] != "x" {
		t.Errorf("syn-2 a1 %+v", b)
	}
	// Equal dates: file order; the tender release (earlier date, last in the file) gives the items.
	c := findAward(aw, "ocds-syn-3", "a1")
	if c == nil || c.Status != "active" || !ptrEq(c.Value, 1) || c.ReleaseID != "e2" || len(c.ItemCodes) != 1 ||
		c.ItemCodes[0] != "31711000" || c.ItemIDs[0] != "tender" {
		t.Errorf("syn-3 a1 %+v", c)
	}
}

func TestOCDSOutOfOrderDoesNotDependOnFileOrder(t *testing.T) {
	lines := strings.SplitAfter(strings.TrimSpace(partialUpdates)+"\n", "\n")
	lines = lines[:len(lines)-1]
	want, _ := importString(t, partialUpdates, "a.jsonl", 0)
	// Reverse the file: same rows (equal-date releases of syn-3 excepted, which follow file order).
	var rev strings.Builder
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.Contains(lines[i], "ocds-syn-3") {
			rev.WriteString(lines[i])
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "ocds-syn-3") {
			rev.WriteString(l)
		}
	}
	got, _ := importString(t, rev.String(), "a.jsonl", 0)
	key := func(m *collectorstest.Memory) map[string]string {
		out := map[string]string{}
		for _, e := range m.Events {
			out[e.EventID] = string(e.Payload)
		}
		return out
	}
	if !reflect.DeepEqual(key(want), key(got)) {
		t.Errorf("rows depend on file order:\n%v\n%v", key(want), key(got))
	}
}

func TestOCDSEnglandCorrection(t *testing.T) {
	m, st := importT(t, ImportProcurement, "../testdata/procurement/uk_corrections", testOpts())
	// PROVENANCE: 30 releases (26 with one award, 4 without), 24 distinct awards.
	if st.Read != 30 || st.Emitted != 24 || st.Skipped != 6 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events)
	const ocid = "ocds-b5fd17-09a309a3-8541-48b9-91c4-411c52e5bd34"
	a := findAward(aw, ocid, ocid+"-1")
	if a == nil || !ptrEq(a.Value, 109320) || a.Currency != "GBP" || a.ReleaseID != "02d6ce8b-83f0-4993-869c-c177d2efbd52-832942" ||
		!a.CompiledAt.Equal(time.Date(2025, 3, 11, 10, 7, 26, 0, time.UTC)) || a.SupplierNames[0] != "PwC (PricewaterhouseCoopers)" {
		t.Errorf("corrected award %+v", a)
	}
}

func TestOCDSPendingLimit(t *testing.T) {
	// A limit of one byte compiles an ocid as soon as another one arrives. With syn-2 between the
	// releases of syn-1, syn-1's first release is compiled alone, its later two together (the
	// documented limit: two rows, the later compiled date wins in ClickHouse). Counts still balance.
	lines := strings.SplitAfter(partialUpdates, "\n")
	body := lines[0] + lines[3] + lines[1] + lines[2] + strings.Join(lines[4:], "")
	m, st := importString(t, body, "partial.jsonl", 1)
	if st.Read != 9 || st.Emitted+st.Skipped != 9 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	n := 0
	for _, a := range decodeAll[*schemas.ProcurementAward](t, m.Events) {
		if a.OCID == "ocds-syn-1" && a.AwardID == "a1" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("syn-1 a1 emitted %d times, want 2 (once per compiled part)", n)
	}
}

func TestOCDSAwardWithoutKeptFieldsIsRejected(t *testing.T) {
	m, st := importString(t, `{"ocid":"o-1","id":"r","date":"2025-01-01T00:00:00Z","awards":[{"title":"no id"},{"id":"a","value":{"amount":1,"currency":"GBP"}}]}`+"\n", "x.jsonl", 0)
	if st.Read != 2 || st.Emitted != 1 || st.RejectedTotal() != 1 {
		t.Fatalf("stats %+v", st)
	}
	wantReject(t, m, "missing_field", "x.jsonl:1.awards[0]", "awards[0].id")
	if !bytes.Contains(m.Rejects[0].Raw, []byte("{")) {
		t.Errorf("reject raw %q", m.Rejects[0].Raw)
	}
}

func TestOCDSCompiledTypeConflictIsRejected(t *testing.T) {
	// Each release is well-formed alone; compiled, the later object replaces the earlier status
	// string, and the compiled award's status is not a string.
	body := `{"ocid":"o-2","id":"r1","date":"2025-01-01T00:00:00Z","awards":[{"id":"a","status":"active"}]}
{"ocid":"o-2","id":"r2","date":"2025-01-02T00:00:00Z","awards":[{"id":"a","status":{"code":"x"}}]}
`
	m, st := importString(t, body, "c.jsonl", 0)
	if st.Read != 2 || st.Emitted != 0 || st.RejectedTotal() != 1 || st.Skipped != 1 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "bad_json", "c.jsonl:2#compiled", "status")
	if bytes.Contains(m.Rejects[0].Raw, []byte("_cw_")) || !bytes.Contains(m.Rejects[0].Raw, []byte(`"code":"x"`)) {
		t.Errorf("raw %s", m.Rejects[0].Raw)
	}
}
