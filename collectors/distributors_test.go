package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/schemas"
)

// invariant: every source record is emitted, rejected, skipped or a duplicate.
func invariant(t *testing.T, what string, st Stats) {
	t.Helper()
	if st.Read != st.Emitted+st.RejectedTotal()+st.Skipped+st.Duplicates {
		t.Errorf("%s: read %d != emitted %d + rejected %d + skipped %d + duplicates %d", what, st.Read, st.Emitted,
			st.RejectedTotal(), st.Skipped, st.Duplicates)
	}
}

func findOffer(parts []*schemas.ComponentAvailability, dist, sku string) *schemas.ComponentAvailability {
	return findFirst(parts, func(p *schemas.ComponentAvailability) bool { return p.Distributor == dist && p.SKU == sku })
}

func TestMouserResponseImport(t *testing.T) {
	m, st := importT(t, ImportAvailability, "../testdata/availability/mouser/search_partnumber.json", testOpts())
	invariant(t, "mouser", st)
	if st.Read != 5 || st.Emitted != 4 || st.Rejected["bad_number"] != 1 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "bad_number", "#SearchResults.Parts[4]", "stock")
	parts := decodeAll[*schemas.ComponentAvailability](t, m.Events)
	ne := findOffer(parts, "Mouser", "595-NE555P")
	if ne == nil || ne.Stock != 6809 || ne.StockUnknown || !ptrEq(ne.LeadTimeDays, 42) || ne.Lifecycle != schemas.LifecycleUnknown ||
		!ptrEq(ne.Price, 0.5) || ne.Currency != "USD" || ne.PartNumber != "NE555P" || ne.Packaging != "Tube" {
		t.Errorf("NE555P %+v", ne)
	}
	lm := findOffer(parts, "Mouser", "595-LM358DR")
	if lm == nil || lm.Stock != 1204 || !ptrEq(lm.LeadTimeDays, 84) || lm.Lifecycle != schemas.LifecycleNRND ||
		lm.Packaging != "Reel, Cut Tape, MouseReel" {
		t.Errorf("LM358DR %+v", lm)
	}
	eol := findOffer(parts, "Mouser", "523-M83513/19-E01NW")
	if eol == nil || eol.Stock != 0 || eol.StockUnknown || eol.Lifecycle != schemas.LifecycleEOL || !ptrEq(eol.LeadTimeDays, 84) {
		t.Errorf("EOL part %+v", eol)
	}
	stm := findOffer(parts, "Mouser", "511-STM32H562RGT6")
	if stm == nil || !stm.StockUnknown || stm.LeadTimeDays != nil || stm.Lifecycle != schemas.LifecycleActive ||
		!ptrEq(stm.Price, 8.53) || stm.Currency != "EUR" {
		t.Errorf("on-order part %+v", stm)
	}
}

func TestNexarResponseImport(t *testing.T) {
	m, st := importT(t, ImportAvailability, "../testdata/availability/nexar/supSearchMpn.json", testOpts())
	invariant(t, "nexar", st)
	// Digi-Key's Custom Reel (Digi-Reel) offer repeats the cut-tape stock, and its Tape & Reel stock
	// (17,500, not above the cut tape's 52,310) is part of the cut-tape figure: both skipped.
	if st.Read != 9 || st.Emitted != 6 || st.Skipped != 2 || st.Rejected["bad_number"] != 1 || st.Duplicates != 0 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "bad_number", "sellers[0].offers[1]", "inventoryLevel")
	parts := decodeAll[*schemas.ComponentAvailability](t, m.Events)
	ct, tr := findOffer(parts, "Digi-Key", "296-1395-1-ND"), findOffer(parts, "Digi-Key", "296-1395-2-ND")
	if ct == nil || tr != nil || ct.Stock != 52310 || ct.Packaging != "Cut Tape" ||
		ct.Lifecycle != schemas.LifecycleActive || !ptrEq(ct.LeadTimeDays, 42) || !ptrEq(ct.Price, 0.42) ||
		!ct.AsOf.Equal(time.Date(2026, 11, 30, 4, 12, 9, 0, time.UTC)) {
		t.Errorf("digikey offers %+v / %+v", ct, tr)
	}
	if findOffer(parts, "Digi-Key", "296-1395-6-ND") != nil {
		t.Error("Custom Reel counted next to its cut tape")
	}
	var broker []*schemas.ComponentAvailability
	for _, p := range parts {
		if p.Distributor == "Win Source Electronics" {
			broker = append(broker, p)
		}
	}
	if len(broker) != 2 || !broker[0].StockUnknown || !broker[1].StockUnknown || broker[0].Packaging == broker[1].Packaging {
		t.Errorf("broker offers (-2, -4; keyed by packaging) %+v", broker)
	}
	if ar := findOffer(parts, "Arrow Electronics", "TPS7A4700RGWR"); ar == nil || ar.Stock != 0 || ar.StockUnknown ||
		ar.Lifecycle != schemas.LifecycleEOL || !ptrEq(ar.LeadTimeDays, 126) {
		t.Errorf("non-stocked (-1) EOL offer %+v", ar)
	}
	if st := findOffer(parts, "LCSC", "C8734"); st == nil || st.Lifecycle != schemas.LifecycleNRND || st.LeadTimeDays != nil {
		t.Errorf("NRND offer %+v", st)
	}
}

func TestDigiKeyResponseImport(t *testing.T) {
	m, st := importT(t, ImportAvailability, "../testdata/availability/digikey", testOpts())
	invariant(t, "digikey", st)
	// productdetails: 3 variations, the Digi-Reel and the Tape & Reel (within the cut tape's stock)
	// skipped; keyword: 3 products (one without variations).
	if st.Files != 2 || st.Read != 6 || st.Emitted != 4 || st.Skipped != 2 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	parts := decodeAll[*schemas.ComponentAvailability](t, m.Events)
	ct := findOffer(parts, "DigiKey", "296-1395-1-ND")
	tr := findOffer(parts, "DigiKey", "296-1395-2-ND")
	if ct == nil || tr != nil || ct.Stock != 52310 || ct.Packaging != "Cut Tape (CT)" || !ptrEq(ct.LeadTimeDays, 42) ||
		ct.Lifecycle != schemas.LifecycleActive || !ptrEq(ct.Price, 0.42) || ct.Currency != "USD" {
		t.Errorf("variations %+v / %+v", ct, tr)
	}
	if findOffer(parts, "DigiKey", "296-1395-6-ND") != nil {
		t.Error("Digi-Reel counted next to its cut tape")
	}
	for sku, lc := range map[string]string{"296-38885-1-ND": schemas.LifecycleLastTimeBuy, "": schemas.LifecycleUnknown,
		"497-6063-ND": schemas.LifecycleNRND} {
		if p := findOffer(parts, "DigiKey", sku); p == nil || p.Lifecycle != lc {
			t.Errorf("%q: %+v", sku, p)
		}
	}
	if p := findOffer(parts, "DigiKey", "497-6063-ND"); !ptrEq(p.LeadTimeDays, 84) {
		t.Errorf("\"12 Weeks\" lead: %+v", p)
	}
}

func TestKitspaceResponseImport(t *testing.T) {
	m, st := importT(t, ImportAvailability, "../testdata/availability/kitspace/partinfo_match.json", testOpts())
	invariant(t, "kitspace", st)
	if st.Read != 7 || st.Emitted != 6 || st.Rejected["bad_number"] != 1 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	parts := decodeAll[*schemas.ComponentAvailability](t, m.Events)
	for sku, lc := range map[string]string{"511-STM32F407VGT6": schemas.LifecycleActive, "14AC5911": schemas.LifecycleLastTimeBuy,
		"714-0820": schemas.LifecycleEOL, "497-STM32U5A9NJH6Q-ND": schemas.LifecycleActive} {
		if p := findFirst(parts, func(p *schemas.ComponentAvailability) bool { return p.SKU == sku }); p == nil || p.Lifecycle != lc {
			t.Errorf("%s: %+v", sku, p)
		}
	}
	if f := findOffer(parts, "Farnell", "2064363"); f == nil || !f.StockUnknown || f.Currency != "GBP" {
		t.Errorf("farnell %+v", f)
	}
}

// TestOffersDoNotCollapse: offers of one MPN with different SKUs (or packagings) are separate
// events; a repeated SKU is counted as a duplicate, in CSV, JSON Lines and JSON alike.
func TestOffersDoNotCollapse(t *testing.T) {
	dir := t.TempDir()
	csv := "mpn,manufacturer,distributor,sku,packaging,stock,lifecycle,as_of\n" +
		"LM358DR,TI,Digi-Key,296-1395-1-ND,Cut Tape,52310,Active,2026-11-30\n" +
		"LM358DR,TI,Digi-Key,296-1395-2-ND,Tape & Reel,17500,Active,2026-11-30\n" +
		"LM358DR,TI,Digi-Key,,Tube,300,Active,2026-11-30\n" +
		"LM358DR,TI,Digi-Key,,Tray,200,Active,2026-11-30\n" +
		"LM358DR,TI,Digi-Key,296-1395-2-ND,Tape & Reel,17400,Active,2026-11-30\n"
	var jsonl, arr strings.Builder
	arr.WriteString("[\n")
	for i, line := range strings.Split(strings.TrimSpace(csv), "\n")[1:] {
		f := strings.Split(line, ",")
		rec := map[string]string{"mpn": f[0], "manufacturer": f[1], "distributor": f[2], "sku": f[3], "packaging": f[4],
			"stock": f[5], "lifecycle": f[6], "as_of": f[7]}
		b, _ := json.Marshal(rec)
		jsonl.Write(append(b, '\n'))
		pretty, _ := json.MarshalIndent(rec, "  ", "  ")
		if i > 0 {
			arr.WriteString(",\n")
		}
		arr.Write(pretty)
	}
	arr.WriteString("\n]\n")
	for name, body := range map[string]string{"offers.csv": csv, "offers.jsonl": jsonl.String(), "offers.json": arr.String()} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(body), 0o644)
		m, st := importT(t, ImportAvailability, path, testOpts())
		invariant(t, name, st)
		if st.Read != 5 || st.Emitted != 4 || st.Duplicates != 1 || st.RejectedTotal() != 0 {
			t.Errorf("%s: stats %+v %v", name, st, m.Rejects)
		}
		ids := map[string]bool{}
		var total int64
		for _, p := range decodeAll[*schemas.ComponentAvailability](t, m.Events) {
			total += p.Stock
		}
		for _, e := range m.Events {
			ids[e.EventID] = true
		}
		// The duplicate is still handed on (the later record wins), but under one id.
		if len(m.Events) != 5 || len(ids) != 4 || total != 52310+17500+300+200+17400 {
			t.Errorf("%s: %d events, %d ids, stock %d", name, len(m.Events), len(ids), total)
		}
	}
	// Across the files of one import too.
	m, st := importT(t, ImportAvailability, dir, testOpts())
	invariant(t, "dir", st)
	if st.Read != 15 || st.Emitted != 4 || st.Duplicates != 11 || len(m.Events) != 15 {
		t.Errorf("directory: %+v", st)
	}
}

// TestPrettyJSONFeedOverHTTP: a pretty-printed JSON document (array or wrapper object) served
// over HTTP is read as records, not as lines of bad JSON.
func TestPrettyJSONFeedOverHTTP(t *testing.T) {
	var recs []map[string]any
	for i := range 8 {
		recs = append(recs, map[string]any{"part_number": fmt.Sprintf("P%d", i), "manufacturer": "TI", "distributor": "D",
			"sku": fmt.Sprintf("S%d", i), "stock": fmt.Sprintf("%d In Stock", i*100), "lifecycle": "", "lead_time": "42 Days"})
	}
	docs := map[string]any{"/array.json": recs, "/wrapped.json": map[string]any{"count": 8, "data": recs}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.MarshalIndent(docs[r.URL.Path], "", "    ")
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	defer srv.Close()
	d := testDeps()
	f := NewAvailabilityFeed(AvailabilityFeedOptions{URLs: []string{srv.URL + "/array.json", srv.URL + "/wrapped.json"}},
		d.withDefaults().httpClient("availability", 100, 1, nil), d)
	m := &collectorstest.Memory{}
	st, err := f.Run(context.Background(), m)
	invariant(t, "feed", st)
	if err != nil || st.Read != 16 || st.RejectedTotal() != 0 || st.Emitted != 8 || st.Duplicates != 8 {
		t.Fatalf("stats %+v %v %v", st, err, m.Rejects)
	}
	p := decodeAll[*schemas.ComponentAvailability](t, m.Events)[3]
	if p.Stock != 300 || p.Lifecycle != schemas.LifecycleUnknown || !ptrEq(p.LeadTimeDays, 42) {
		t.Errorf("record %+v", p)
	}
}

func TestMalformedJSONDocumentIsOneReject(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(path, []byte("{\n  \"data\": [\n    {\"mpn\": \"A\", \"mfr\": \"B\"},\n"), 0o644)
	m, st := importT(t, ImportAvailability, path, testOpts())
	if st.Read != 1 || st.Rejected["bad_json"] != 1 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "bad_json", "", "malformed JSON document")
}

// fakeVendor serves a token endpoint and an API; it records what it was sent.
type fakeVendor struct {
	mu       sync.Mutex
	tokens   int
	requests []*http.Request
	bodies   []string
	fail401  int // answer this many API calls with 401
}

func (f *fakeVendor) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	f.tokens++
	n := f.tokens
	f.mu.Unlock()
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_secret") != "s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("tok%d", n), "token_type": "Bearer", "expires_in": 3600})
}

// api records the call and answers 401 while fail401 > 0, else calls serve.
func (f *fakeVendor) api(serve func(w http.ResponseWriter, r *http.Request, body string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, r)
		f.bodies = append(f.bodies, string(b))
		fail := f.fail401 > 0
		if fail {
			f.fail401--
		}
		f.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Date", "Mon, 30 Nov 2026 15:04:05 GMT")
		serve(w, r, string(b))
	}
}

func serveFile(t *testing.T, path string) func(w http.ResponseWriter, r *http.Request, body string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request, body string) { w.Write(b) }
}

func TestMouserAPICollector(t *testing.T) {
	fv := &fakeVendor{}
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/search/partnumber", fv.api(serveFile(t, "../testdata/availability/mouser/search_partnumber.json")))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := DefaultMouserConfig()
	cfg.Enabled, cfg.Endpoint, cfg.APIKey, cfg.RatePerSecond, cfg.Burst = true, srv.URL, "mk", 100, 5
	for i := range 12 {
		cfg.PartNumbers = append(cfg.PartNumbers, fmt.Sprintf("PN%02d", i))
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d := testDeps()
	c := NewMouserAPI(cfg, d.withDefaults().httpClient("mouser", cfg.RatePerSecond, cfg.Burst, nil), d)
	m := &collectorstest.Memory{}
	st, err := c.Run(context.Background(), m)
	invariant(t, "mouser run", st)
	// Two requests (10 + 2 part numbers) answer the same 5 parts: the second 4 are duplicates.
	if err != nil || len(fv.requests) != 2 || st.Read != 10 || st.Emitted != 4 || st.Duplicates != 4 || st.Rejected["bad_number"] != 2 {
		t.Fatalf("run %+v %v (%d requests)", st, err, len(fv.requests))
	}
	var req struct {
		SearchByPartRequest struct{ MouserPartNumber, PartSearchOptions string }
	}
	json.Unmarshal([]byte(fv.bodies[1]), &req)
	if fv.requests[0].URL.Query().Get("apiKey") != "mk" || req.SearchByPartRequest.MouserPartNumber != "PN10|PN11" ||
		req.SearchByPartRequest.PartSearchOptions != "Exact" || !strings.HasPrefix(fv.bodies[0], `{"SearchByPartRequest":{"mouserPartNumber":"PN00|PN01|`) {
		t.Errorf("request %s %s", fv.requests[0].URL, fv.bodies)
	}
	p := decodeAll[*schemas.ComponentAvailability](t, m.Events)[0]
	if !p.AsOf.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) || m.Events[0].Source != "mouser" {
		t.Errorf("as_of %s (the response day), source %s", p.AsOf, m.Events[0].Source)
	}
}

func TestNexarAPICollector(t *testing.T) {
	fv := &fakeVendor{fail401: 1}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connect/token", fv.token)
	mux.Handle("POST /graphql", fv.api(serveFile(t, "../testdata/availability/nexar/supSearchMpn.json")))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := DefaultNexarConfig()
	cfg.Enabled, cfg.Endpoint, cfg.TokenURL, cfg.RatePerSecond, cfg.Burst = true, srv.URL+"/graphql", srv.URL+"/connect/token", 100, 5
	cfg.ClientID, cfg.ClientSecret, cfg.MPNs = "cid", "s3cret", []string{"LM358DR", "TPS7A4700RGWR"}
	d := testDeps()
	c := NewNexarAPI(cfg, d.withDefaults().httpClient("nexar", 100, 5, nil), d)
	m := &collectorstest.Memory{}
	st, err := c.Run(context.Background(), m)
	invariant(t, "nexar run", st)
	if err != nil || st.Emitted != 6 || st.Duplicates != 6 || st.Skipped != 4 || st.Rejected["bad_number"] != 2 {
		t.Fatalf("run %+v %v", st, err)
	}
	// 401 on the first call: the token is fetched again once, then cached for the second MPN.
	if fv.tokens != 2 || len(fv.requests) != 3 || fv.requests[2].Header.Get("Authorization") != "Bearer tok2" {
		t.Errorf("tokens %d, requests %d, auth %q", fv.tokens, len(fv.requests), fv.requests[len(fv.requests)-1].Header.Get("Authorization"))
	}
	var q struct {
		Query     string
		Variables map[string]any
	}
	json.Unmarshal([]byte(fv.bodies[2]), &q)
	if !strings.Contains(q.Query, "supSearchMpn") || q.Variables["q"] != "TPS7A4700RGWR" || q.Variables["authorizedOnly"] != true {
		t.Errorf("graphql body %s", fv.bodies[2])
	}
	// A wrong secret fails the run with an error that does not leak it.
	cfg.ClientSecret = "wrong-secret"
	_, err = NewNexarAPI(cfg, d.withDefaults().httpClient("nexar", 100, 5, nil), d).Run(context.Background(), m)
	if err == nil || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("bad secret: %v", err)
	}
}

func TestDigiKeyAPICollector(t *testing.T) {
	fv := &fakeVendor{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", fv.token)
	details := serveFile(t, "../testdata/availability/digikey/productdetails_LM358DR.json")
	mux.Handle("GET /products/v4/search/{pn}/productdetails", fv.api(func(w http.ResponseWriter, r *http.Request, body string) {
		if r.PathValue("pn") != "LM358DR" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		details(w, r, body)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := DefaultDigiKeyConfig()
	cfg.Enabled, cfg.Endpoint, cfg.TokenURL = true, srv.URL, srv.URL+"/v1/oauth2/token"
	cfg.ClientID, cfg.ClientSecret, cfg.PartNumbers = "dk-id", "s3cret", []string{"LM358DR", "NOPE/1"}
	d := testDeps()
	c := NewDigiKeyAPI(cfg, d.withDefaults().httpClient("digikey", 100, 5, nil), d)
	m := &collectorstest.Memory{}
	st, err := c.Run(context.Background(), m)
	invariant(t, "digikey run", st)
	if err != nil || st.Read != 3 || st.Emitted != 1 || st.Skipped != 2 {
		t.Fatalf("run %+v %v", st, err)
	}
	h := fv.requests[0].Header
	if fv.tokens != 1 || h.Get("X-DIGIKEY-Client-Id") != "dk-id" || h.Get("Authorization") != "Bearer tok1" ||
		h.Get("X-DIGIKEY-Locale-Currency") != "USD" || fv.requests[1].URL.EscapedPath() != "/products/v4/search/NOPE%2F1/productdetails" {
		t.Errorf("headers %v, tokens %d, path %s", h, fv.tokens, fv.requests[1].URL.EscapedPath())
	}
}

func TestDistributorConfig(t *testing.T) {
	c := DefaultConfig()
	c.Mouser.Enabled, c.Nexar.Enabled, c.DigiKey.Enabled = true, true, true
	c.Nexar.Limit = 0
	c.DigiKey.PartNumbers = []string{"X", " "}
	msg := confkit.Prefix("collectors", c.Validate()).Error()
	for _, key := range []string{"collectors.mouser.api_key", "collectors.mouser.part_numbers", "collectors.nexar.client_id",
		"collectors.nexar.client_secret", "collectors.nexar.mpns", "collectors.nexar.limit", "collectors.digikey.client_secret",
		"collectors.digikey.part_numbers[1]"} {
		if !strings.Contains(msg, key+":") {
			t.Errorf("no problem for %s in %s", key, msg)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "key"), []byte("mouser-key\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("nexar-secret\n"), 0o600)
	c.Mouser.APIKeyFile, c.Nexar.ClientSecretFile = filepath.Join(dir, "key"), filepath.Join(dir, "secret")
	c.DigiKey.ClientSecretFile = filepath.Join(dir, "missing")
	err := c.ResolveSecrets()
	if c.Mouser.APIKey.Reveal() != "mouser-key" || c.Nexar.ClientSecret.Reveal() != "nexar-secret" ||
		err == nil || !strings.Contains(err.Error(), "digikey.client_secret_file") {
		t.Errorf("secrets %q %q err %v", c.Mouser.APIKey.Reveal(), c.Nexar.ClientSecret.Reveal(), err)
	}
	c.Mouser.PartNumbers, c.Nexar.MPNs, c.Nexar.ClientID, c.Nexar.Limit = []string{"A"}, []string{"A"}, "id", 10
	c.DigiKey.Enabled = false
	reg, err := NewRegistry(c, testDeps())
	if err != nil || strings.Join(reg.Names(), ",") != "mouser,nexar" {
		t.Errorf("registry %v %v", reg.Names(), err)
	}
}

// TestVendorErrorBodies: an API error body fails the import or run (it is not data), naming the
// vendor's message.
func TestVendorErrorBodies(t *testing.T) {
	for body, want := range map[string]string{
		`{"Errors":[{"Id":0,"Code":"InvalidAuthorization","Message":"Invalid unique identifier.","ResourceKey":"InvalidIdentifier"}],"SearchResults":null}`: "Mouser API error InvalidAuthorization: Invalid unique identifier.",
		`{"errors":[{"message":"The current user is not authorized to access this resource."}],"data":null}`:                                                "Nexar API error: The current user is not authorized",
	} {
		o := newOut(context.Background(), &collectorstest.Memory{}, "t", testNow, 10)
		err := importAvailability(o, strings.NewReader(body), "resp.json", availabilityConv{asOf: testNow})
		if err == nil || !strings.Contains(err.Error(), want) || o.stats.Read != 0 {
			t.Errorf("%s: err %v, stats %+v", body[:20], err, o.stats)
		}
	}
}

// TestMouserRecordedResponses: public recordings of Mouser responses (thismatters/django-ctb, see
// testdata/availability/mouser/PROVENANCE.txt): one part, and two SKUs of one MPN that must stay two offers.
func TestMouserRecordedResponses(t *testing.T) {
	m, st := importT(t, ImportAvailability, "../testdata/availability/mouser/django-ctb_get_part_response.json", testOpts())
	invariant(t, "one", st)
	if st.Read != 1 || st.Emitted != 1 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	p := decodeAll[*schemas.ComponentAvailability](t, m.Events)[0]
	if p.PartNumber != "BAT54SLT1G" || p.Manufacturer != "onsemi" || p.SKU != "863-BAT54SLT1G" || p.Stock != 1498379 ||
		!ptrEq(p.LeadTimeDays, 63) || p.Lifecycle != schemas.LifecycleUnknown || !ptrEq(p.Price, 0.15) || p.Currency != "USD" ||
		p.Packaging != "Reel, Cut Tape, MouseReel" {
		t.Errorf("BAT54SLT1G %+v", p)
	}
	m, st = importT(t, ImportAvailability, "../testdata/availability/mouser/django-ctb_get_many_part_response.json", testOpts())
	invariant(t, "many", st)
	ids := map[string]bool{}
	for _, e := range m.Events {
		ids[e.EventID] = true
	}
	if st.Read != 2 || st.Emitted != 2 || st.Duplicates != 0 || len(ids) != 2 {
		t.Errorf("two SKUs of one MPN: %+v, %d ids", st, len(ids))
	}
}

func TestDigiKeyLeadWeeksAsNumber(t *testing.T) {
	body := `{"Product":{"ManufacturerProductNumber":"CD4014BE","Manufacturer":{"Name":"Texas Instruments"},
		"QuantityAvailable":20000,"ManufacturerLeadWeeks":16,"ProductStatus":{"Id":1,"Status":"Active"},"ProductVariations":[]},
		"SearchLocaleUsed":{"Currency":"USD"}}`
	mem := &collectorstest.Memory{}
	o := newOut(context.Background(), mem, "t", testNow, 10)
	if err := importAvailability(o, strings.NewReader(body), "dk.json", availabilityConv{asOf: testNow}); err != nil {
		t.Fatal(err)
	}
	o.flush()
	parts := decodeAll[*schemas.ComponentAvailability](t, mem.Events)
	if len(parts) != 1 || !ptrEq(parts[0].LeadTimeDays, 112) || parts[0].Stock != 20000 || parts[0].SKU != "" {
		t.Errorf("%+v %v", parts, mem.Rejects)
	}
}
