package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

func findFlow(flows []*schemas.TradeFlow, rep, par uint16, flow string, year uint16) *schemas.TradeFlow {
	for _, f := range flows {
		if f.ReporterM49 == rep && f.PartnerM49 == par && f.Flow == flow && f.Year == year {
			return f
		}
	}
	return nil
}

func TestComtradeCSVGallium(t *testing.T) {
	m, st := importT(t, ImportTrade, "../testdata/trade/comtrade_csv/gallium_trade_data.csv", testOpts())
	if st.Read != 40 || st.Emitted != 40 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v, want 40 read and emitted", st)
	}
	if d := m.DuplicateIDs(); len(d) != 0 {
		t.Fatalf("duplicate event ids: %v", d)
	}
	flows := decodeAll[*schemas.TradeFlow](t, m.Events)
	// PROVENANCE known values.
	cases := []struct {
		rep, par   uint16
		flow       string
		year       uint16
		kg, usd    float64
		rISO, pISO string
	}{
		{842, 156, "M", 2023, 225165, 32791847, "USA", "CHN"},
		{842, 156, "M", 2024, 239849, 53325054, "USA", "CHN"},
		{156, 842, "X", 2023, 48596, 5251362, "CHN", "USA"},
		{156, 0, "X", 2023, 1681610.166, 295932667, "CHN", ""},
	}
	for _, c := range cases {
		f := findFlow(flows, c.rep, c.par, c.flow, c.year)
		if f == nil {
			t.Fatalf("no flow %d→%d %s %d", c.rep, c.par, c.flow, c.year)
		}
		if !ptrEq(f.NetWeightKg, c.kg) || f.ValueUSD != c.usd || f.ReporterISO3 != c.rISO || f.PartnerISO3 != c.pISO {
			t.Errorf("%d→%d %s %d: kg %v usd %v iso %s/%s", c.rep, c.par, c.flow, c.year, *f.NetWeightKg, f.ValueUSD, f.ReporterISO3, f.PartnerISO3)
		}
		if f.HSCode != "811292" || f.QtyUnit != "kg" || f.Month != 0 || f.CustomsCode != "C00" {
			t.Errorf("fields: %+v", f)
		}
	}
	// Classification change mid-series (H5 2020-2021, H6 2022-2024).
	if f := findFlow(flows, 842, 156, "M", 2021); f.Classification != "H5" {
		t.Errorf("2021 classification %q", f.Classification)
	}
	if f := findFlow(flows, 842, 156, "M", 2022); f.Classification != "H6" {
		t.Errorf("2022 classification %q", f.Classification)
	}
	// Re-import is idempotent: the same event ids.
	m2, _ := importT(t, ImportTrade, "../testdata/trade/comtrade_csv/gallium_trade_data.csv", testOpts())
	for i := range m.Events {
		if m.Events[i].EventID != m2.Events[i].EventID {
			t.Fatal("event ids differ between two imports of the same file")
		}
	}
}

func TestComtradeCSVDirectory(t *testing.T) {
	_, st := importT(t, ImportTrade, "../testdata/trade/comtrade_csv", testOpts())
	// gallium 40 + cobalt 86 rows (PROVENANCE), collection_summary.json is not in the copy.
	if st.Files != 2 || st.Read != 126 || st.Emitted != 126 {
		t.Fatalf("stats %+v", st)
	}
}

func TestComtradeAPIBodies(t *testing.T) {
	// The recorded bodies are cmdCode TOTAL (all commodities): not an HS code, so each is rejected
	// naming the field.
	m, st := importT(t, ImportTrade, "../testdata/trade/comtrade_api/data_v1_get_C_A_HS-60a6ad.json", testOpts())
	if st.Read != 4 || st.Emitted != 0 || st.Rejected["unsupported_hs_code"] != 4 {
		t.Fatalf("stats %+v", st)
	}
	for _, r := range m.Rejects {
		if !strings.Contains(r.Detail, `cmdCode: "TOTAL"`) || !strings.Contains(r.Location, "#data[") {
			t.Errorf("reject %+v", r)
		}
	}
	// The records themselves parse with the known values.
	f, _ := os.Open("../testdata/trade/comtrade_api/data_v1_get_C_A_HS-5e2730.body.json")
	defer f.Close()
	var recs []comtradeRecord
	body, err := decodeComtradeJSON(f, func(i int, raw json.RawMessage) error {
		var r comtradeRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil || body.Count != 4 || len(recs) != 4 || body.Error != "" {
		t.Fatalf("decode: %v %+v %d", err, body, len(recs))
	}
	want := map[string]float64{"M/276": 74251272075, "X/276": 68047133397, "M/32": 6804128143, "X/32": 6115764185}
	for _, r := range recs {
		k := fmt.Sprintf("%s/%d", r.FlowCode, r.PartnerCode)
		if r.PrimaryValue == nil || *r.PrimaryValue != want[k] || r.ReporterCode != 156 || r.NetWgt != nil {
			t.Errorf("%s: %+v", k, r)
		}
	}
	// Empty result and the bulk "error" body with an empty error: nothing, no error.
	for _, p := range []string{"data_v1_get_S_A_EB-b31ccb.body.json", "bulk_v1_get_C_A_HS-a503f3_error.json"} {
		_, st := importT(t, ImportTrade, "../testdata/trade/comtrade_api/"+p, testOpts())
		if st.Read != 0 || st.Emitted != 0 {
			t.Errorf("%s: %+v", p, st)
		}
	}
}

func TestComtradeCSVBadRows(t *testing.T) {
	m, st := importT(t, ImportTrade, "../testdata/trade/bad/bad_comtrade.csv", testOpts())
	if st.Read != 9 || st.Emitted != 3 || st.RejectedTotal() != 6 {
		t.Fatalf("stats %+v", st)
	}
	wantReject(t, m, "unsupported_flow", "bad_comtrade.csv:4", "flowCode")
	wantReject(t, m, "unsupported_hs_code", "bad_comtrade.csv:5", "cmdCode")
	wantReject(t, m, "bad_number", "bad_comtrade.csv:6", "reporterCode")
	wantReject(t, m, "missing_value", "bad_comtrade.csv:7", "primaryValue")
	wantReject(t, m, "bad_number", "bad_comtrade.csv:8", "netWgt")
	wantReject(t, m, "bad_csv", "bad_comtrade.csv:10", "quote")
	flows := decodeAll[*schemas.TradeFlow](t, m.Events)
	if f := findFlow(flows, 842, 156, "M", 2023); f == nil || f.ValueUSD != 32791847 {
		t.Errorf("good row lost: %+v", f)
	}
	if f := findFlow(flows, 842, 410, "M", 2023); f == nil || f.HSCode != "0301" {
		t.Errorf("leading zero not restored: %+v", f)
	}
	// Raw of a CSV reject is the line.
	for _, r := range m.Rejects {
		if r.Reason == "unsupported_flow" && !strings.Contains(string(r.Raw), ",DX,") {
			t.Errorf("raw %q", r.Raw)
		}
	}
}

func TestBACI(t *testing.T) {
	m, st := importT(t, ImportBACI, "../testdata/trade/baci/BACI_HS17_Y2022_V202401_sample.csv", testOpts())
	if st.Read != 9 || st.Emitted != 5 || st.RejectedTotal() != 4 {
		t.Fatalf("stats %+v", st)
	}
	wantReject(t, m, "unsupported_hs_code", ":7", "k:")
	wantReject(t, m, "bad_number", ":8", "i:")
	wantReject(t, m, "bad_number", ":9", "v:")
	wantReject(t, m, "bad_number", ":10", "j:")
	flows := decodeAll[*schemas.TradeFlow](t, m.Events)
	f := findFlow(flows, 156, 842, "X", 2022)
	if f == nil || f.ValueUSD != 6549290 || !ptrEq(f.NetWeightKg, 40800) || !ptrEq(f.Quantity, 40.8) || f.QtyUnit != "t" ||
		f.Classification != "H5" || f.ReporterISO3 != "CHN" || f.PartnerISO3 != "USA" || f.HSCode != "811292" {
		t.Errorf("China→USA: %+v", f)
	}
	if f := findFlow(flows, 156, 392, "X", 2022); f == nil || f.NetWeightKg != nil || f.Quantity != nil {
		t.Errorf("q NA: %+v", f)
	}
	if f := findFlow(flows, 156, 842, "X", 2022); f == nil {
		t.Fatal("missing")
	}
	found := false
	for _, f := range flows {
		found = found || f.HSCode == "010121"
	}
	if !found {
		t.Error("10121 not restored to 010121")
	}
	// A BACI file given as kind trade is refused with a hint.
	if _, err := Import(context.Background(), ImportTrade, "../testdata/trade/baci/BACI_HS17_Y2022_V202401_sample.csv",
		&collectorstest.Memory{}, testOpts()); err == nil || !strings.Contains(err.Error(), "baci") {
		t.Errorf("BACI as trade: %v", err)
	}
}

func FuzzComtradeCSVLine(f *testing.F) {
	b, err := os.ReadFile("../testdata/trade/bad/bad_comtrade.csv")
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header := lines[0]
	for _, l := range lines[1:] {
		f.Add(l)
	}
	f.Add(`C,A,1,2023,13,202313,842,,,M,,156,,,0,,,H6,HS,True,811292,,,,C00,,0,99999999,,8,,-1,x,8,,1,False,-5,False,0,False,1e400,,NaN,0,True,False,x,1,1`)
	f.Fuzz(func(t *testing.T, line string) {
		m := &collectorstest.Memory{}
		o := newOut(context.Background(), m, SourceComtrade, testNow, 2)
		err := importTrade(o, strings.NewReader(header+"\n"+line+"\n"), "fuzz.csv", testCountries)
		if err != nil {
			return // the header was fine; only an unreadable stream may fail
		}
		if err := o.flush(); err != nil {
			t.Fatal(err)
		}
		if o.stats.Read != o.stats.Emitted+o.stats.RejectedTotal() {
			t.Fatalf("read %d != emitted %d + rejected %d", o.stats.Read, o.stats.Emitted, o.stats.RejectedTotal())
		}
		for _, e := range m.Events {
			b, _ := json.Marshal(e)
			if _, _, err := schemas.Decode(b, schemas.KindTrade); err != nil {
				t.Fatalf("emitted an event that does not decode: %v", err)
			}
		}
		for _, r := range m.Rejects {
			if r.Reason == "" || r.Detail == "" {
				t.Fatalf("reject without reason/detail: %+v", r)
			}
		}
	})
}

// ---- Comtrade API ---------------------------------------------------------------------------------

// fakeComtrade plays the Comtrade v1 data API with the recorded response shape: it answers each
// query with one record per reporter × period × cmdCode × flow × partner (cloned from a recorded
// record), truncated at maxRecords like the real API, and injects a 429 (Retry-After: 1) on the
// first request and a 503 on the third.
type fakeComtrade struct {
	t        *testing.T
	template map[string]any
	mu       sync.Mutex
	n        int
	statuses []int
	queries  []string
	t429     time.Time
	after429 time.Duration
	errorFor string // reporter code whose queries get an "error" body
	key      string
	ua       string
}

func newFakeComtrade(t *testing.T) *fakeComtrade {
	b, err := os.ReadFile("../testdata/trade/comtrade_api/data_v1_get_C_A_HS-60a6ad.json")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	return &fakeComtrade{t: t, template: body.Data[0]}
}

func (f *fakeComtrade) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	if n == 2 && !f.t429.IsZero() {
		f.after429 = time.Since(f.t429)
	}
	f.key, f.ua = r.Header.Get("Ocp-Apim-Subscription-Key"), r.UserAgent()
	f.mu.Unlock()
	status := func(code int) {
		f.mu.Lock()
		f.statuses = append(f.statuses, code)
		f.mu.Unlock()
	}
	if !strings.HasPrefix(r.URL.Path, "/data/v1/get/C/A/HS") {
		status(404)
		http.NotFound(w, r)
		return
	}
	switch n {
	case 1:
		f.mu.Lock()
		f.t429 = time.Now()
		f.mu.Unlock()
		status(429)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}`)
		return
	case 3:
		status(503)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	f.queries = append(f.queries, q.Get("reporterCode")+"|"+q.Get("period")+"|"+q.Get("cmdCode")+"|"+q.Get("flowCode"))
	f.mu.Unlock()
	status(200)
	split := func(s string) []string { return strings.Split(s, ",") }
	if f.errorFor != "" && strings.Contains(","+q.Get("reporterCode")+",", ","+f.errorFor+",") {
		fmt.Fprint(w, `{"elapsedTime":"0.01 secs","count":0,"data":[],"error":"reporterCode `+f.errorFor+` is not valid"}`)
		return
	}
	var data []map[string]any
	for _, rep := range split(q.Get("reporterCode")) {
		for _, per := range split(q.Get("period")) {
			for _, cmd := range split(q.Get("cmdCode")) {
				for _, flow := range split(q.Get("flowCode")) {
					for _, par := range split(q.Get("partnerCode")) {
						rec := map[string]any{}
						for k, v := range f.template {
							rec[k] = v
						}
						var rc, pc int
						fmt.Sscan(rep, &rc)
						fmt.Sscan(par, &pc)
						var year int
						fmt.Sscan(per, &year)
						rec["reporterCode"], rec["partnerCode"], rec["period"], rec["refYear"] = rc, pc, per, year
						rec["refPeriodId"] = year*10000 + 101
						rec["reporterISO"], rec["partnerISO"] = testCountries.ISO3(uint16(rc)), testCountries.ISO3(uint16(pc))
						rec["cmdCode"], rec["flowCode"] = cmd, flow
						rec["classificationCode"] = "H6"
						rec["netWgt"] = float64(rc + pc + year)
						rec["qty"], rec["qtyUnitCode"], rec["qtyUnitAbbr"] = float64(rc+pc+year), 8, "kg"
						rec["primaryValue"] = float64(rc*1000 + pc + year)
						data = append(data, rec)
					}
				}
			}
		}
	}
	max := 100000
	fmt.Sscan(q.Get("maxRecords"), &max)
	if len(data) > max {
		data = data[:max]
	}
	json.NewEncoder(w).Encode(map[string]any{"elapsedTime": "0.05 secs", "count": len(data), "data": data, "error": ""})
}

func comtradeTestConfig(endpoint string) ComtradeConfig {
	return ComtradeConfig{Enabled: true, Interval: time.Hour, Endpoint: endpoint, SubscriptionKey: "test-key",
		TypeCode: "C", FreqCode: "A", ClCode: "HS", Reporters: []string{"CHN", "842", "DEU", "JPN"},
		Partners: []string{"0", "156"}, HSCodes: []string{"811292", "8105", "282200"}, Flows: []string{"M", "X"},
		Periods: []string{"2021-2023"}, MaxRecords: 20, ReportersPerRequest: 2, PeriodsPerRequest: 3, TotalsOnly: true,
		RatePerSecond: 1000, Burst: 10}
}

func testDeps() Deps {
	return Deps{Version: "test", Now: func() time.Time { return testNow }, Countries: testCountries,
		HTTP: HTTPConfig{Timeout: 5 * time.Second, RetryMax: 3, RetryWaitMin: time.Millisecond,
			RetryWaitMax: 10 * time.Millisecond, MaxRetryAfter: 2 * time.Second}}
}

func TestComtradeAPIChunksRetriesNoDuplicates(t *testing.T) {
	fake := newFakeComtrade(t)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := comtradeTestConfig(srv.URL)
	reg, err := NewRegistry(Config{BatchSize: 7, Comtrade: cfg}, testDeps())
	if err != nil {
		t.Fatal(err)
	}
	c, err := reg.Lookup("comtrade")
	if err != nil {
		t.Fatal(err)
	}
	m := &collectorstest.Memory{}
	st, err := c.Run(context.Background(), m)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	checkStats(t, m, st)
	const want = 4 * 3 * 3 * 2 * 2 // reporters × periods × HS codes × flows × partners
	if st.Emitted != want || st.Read != want || st.RejectedTotal() != 0 || st.Skipped != 0 {
		t.Fatalf("stats %+v, want %d emitted", st, want)
	}
	if d := m.DuplicateIDs(); len(d) != 0 {
		t.Fatalf("%d duplicate event ids", len(d))
	}
	if m.MaxBatch > 7 {
		t.Errorf("batch of %d > batch_size 7", m.MaxBatch)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.statuses[0] != 429 || fake.statuses[2] != 503 {
		t.Errorf("statuses %v", fake.statuses)
	}
	if fake.after429 < 900*time.Millisecond {
		t.Errorf("retried %s after a 429 with Retry-After: 1", fake.after429)
	}
	if fake.key != "test-key" || fake.ua != "chainwatch/test" {
		t.Errorf("key %q user agent %q", fake.key, fake.ua)
	}
	// The 72-record first chunk exceeded maxRecords=20 and was split down to ≤ 20.
	if len(fake.queries) < 8 {
		t.Errorf("only %d queries: %v", len(fake.queries), fake.queries)
	}
	flows := decodeAll[*schemas.TradeFlow](t, m.Events)
	f := findFlow(flows, 156, 0, "M", 2022)
	if f == nil || f.ReporterISO3 != "CHN" || f.PartnerISO3 != "" || f.Classification != "H6" {
		t.Errorf("flow %+v", f)
	}
}

func TestComtradeAPIErrorBodyFailsRunButKeepsOtherChunks(t *testing.T) {
	fake := newFakeComtrade(t)
	fake.n = 3 // skip the injected 429/503
	fake.errorFor = "392"
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := comtradeTestConfig(srv.URL)
	cfg.ReportersPerRequest, cfg.MaxRecords = 1, 1000
	c, err := NewComtradeAPI(cfg, testDeps().withDefaults().httpClient("comtrade", 1000, 10, nil), testDeps())
	if err != nil {
		t.Fatal(err)
	}
	m := &collectorstest.Memory{}
	st, err := c.Run(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "reporterCode 392 is not valid") {
		t.Fatalf("err %v", err)
	}
	if st.Emitted != 3*3*3*2*2 {
		t.Fatalf("emitted %d, want the 3 good reporters' 108", st.Emitted)
	}
}

func TestComtradeAPIUnauthorizedIsNotRetried(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{ "statusCode": 401, "message": "Access denied due to invalid subscription key." }`)
	}))
	defer srv.Close()
	cfg := comtradeTestConfig(srv.URL)
	cfg.Reporters, cfg.Periods = []string{"156"}, []string{"2023"}
	c, _ := NewComtradeAPI(cfg, testDeps().withDefaults().httpClient("comtrade", 1000, 10, nil), testDeps())
	_, err := c.Run(context.Background(), &collectorstest.Memory{})
	if err == nil || !strings.Contains(err.Error(), "invalid subscription key") || n != 1 {
		t.Fatalf("err %v after %d requests", err, n)
	}
}

func TestComtradePlan(t *testing.T) {
	cfg := comtradeTestConfig("http://x")
	cfg.Periods = []string{"2019-2021", "2023"}
	c, _ := NewComtradeAPI(cfg, testDeps().withDefaults().httpClient("c", 1, 1, nil), testDeps())
	chunks, err := c.plan()
	if err != nil {
		t.Fatal(err)
	}
	// periods 2019,2020,2021 | 2023 × reporters (156,842) | (276,392)
	if len(chunks) != 4 || strings.Join(chunks[0].periods, ",") != "2019,2020,2021" ||
		strings.Join(chunks[1].reporters, ",") != "276,392" || strings.Join(chunks[3].periods, ",") != "2023" {
		t.Fatalf("chunks %v", chunks)
	}
	u := c.url(chunks[0])
	for _, want := range []string{"/data/v1/get/C/A/HS?", "reporterCode=156%2C842", "period=2019%2C2020%2C2021",
		"cmdCode=811292%2C8105%2C282200", "flowCode=M%2CX", "partnerCode=0%2C156", "maxRecords=20", "motCode=0",
		"customsCode=C00", "partner2Code=0"} {
		if !strings.Contains(u, want) {
			t.Errorf("url %s lacks %s", u, want)
		}
	}
	cfg.Reporters = []string{"XXY"}
	c, _ = NewComtradeAPI(cfg, testDeps().withDefaults().httpClient("c", 1, 1, nil), testDeps())
	if _, err := c.plan(); err == nil {
		t.Error("unknown reporter accepted")
	}
}
