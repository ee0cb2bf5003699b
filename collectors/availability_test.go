package collectors

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

func findPart(parts []*schemas.ComponentAvailability, pn string) *schemas.ComponentAvailability {
	for _, p := range parts {
		if p.PartNumber == pn {
			return p
		}
	}
	return nil
}

func TestAvailabilityCSV(t *testing.T) {
	m, st := importT(t, ImportAvailability, "../testdata/availability/distributor_a.csv", testOpts())
	if st.Read != 10 || st.Emitted != 6 || st.RejectedTotal() != 4 || st.Read != st.Emitted+st.RejectedTotal()+st.Skipped+st.Duplicates {
		t.Fatalf("stats %+v", st)
	}
	wantReject(t, m, "bad_number", ":8", "stock")
	wantReject(t, m, "missing_field", ":9", "part_number")
	wantReject(t, m, "missing_field", ":10", "currency")
	wantReject(t, m, "bad_date", ":11", "as_of")
	parts := decodeAll[*schemas.ComponentAvailability](t, m.Events)
	stm := findPart(parts, "STM32F407VGT6")
	if stm == nil || stm.Stock != 1250 || !ptrEq(stm.LeadTimeDays, 84) || stm.Lifecycle != "active" || !ptrEq(stm.Price, 8.95) ||
		stm.Currency != "USD" || !stm.AsOf.Equal(time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)) || stm.Distributor != "Mouser" {
		t.Errorf("stm32 %+v", stm)
	}
	for pn, lc := range map[string]string{"GD32F407VGT6": "active", "LM358DR": "nrnd", "XC7Z020-1CLG400C": "last_time_buy", "MAX232CPE": "obsolete"} {
		if p := findPart(parts, pn); p == nil || p.Lifecycle != lc {
			t.Errorf("%s: %+v", pn, p)
		}
	}
	if p := findPart(parts, "MAX232CPE"); p.LeadTimeDays != nil || p.Price != nil {
		t.Errorf("empty lead time / price: %+v", p)
	}
	// An unknown lifecycle word is "unknown", not a reject.
	if p := findPart(parts, "AT89C51"); p == nil || p.Lifecycle != schemas.LifecycleUnknown {
		t.Errorf("Preliminary: %+v", p)
	}
}

func TestAvailabilityJSONLines(t *testing.T) {
	opts := testOpts()
	opts.Distributor = "Shenzhen Huaqiang"
	opts.AsOf = time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC)
	m, st := importT(t, ImportAvailability, "../testdata/availability/distributor_b.jsonl", opts)
	if st.Read != 5 || st.Emitted != 3 || st.RejectedTotal() != 2 || st.Read != st.Emitted+st.RejectedTotal()+st.Skipped+st.Duplicates {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "missing_unit", ":3", "lead_time")
	wantReject(t, m, "bad_json", ":6", "not a JSON value")
	parts := decodeAll[*schemas.ComponentAvailability](t, m.Events)
	hi := findPart(parts, "HI3516DV300")
	rk := findPart(parts, "RK3588")
	if hi == nil || !ptrEq(hi.LeadTimeDays, 42) || hi.ComponentID != "C-ISP" || hi.Stock != 300 || hi.Currency != "CNY" {
		t.Errorf("hisilicon %+v", hi)
	}
	if rk == nil || !ptrEq(rk.LeadTimeDays, 30) || rk.Lifecycle != "active" || rk.Distributor != "Shenzhen Huaqiang" ||
		!rk.AsOf.Equal(opts.AsOf) || rk.Manufacturer != "Rockchip" {
		t.Errorf("rockchip %+v", rk)
	}
	if x := findPart(parts, "X"); x == nil || x.Lifecycle != schemas.LifecycleUnknown || !x.StockUnknown {
		t.Errorf("Gone Fishing / no stock: %+v", x)
	}
}

func TestNormalizeLifecycle(t *testing.T) {
	for in, want := range map[string]string{"Active": "active", "ACTIVE": "active", "In Production": "active",
		"NRND": "nrnd", "Not Recommended for New Designs": "nrnd", "LTB": "last_time_buy", "Last-Time Buy": "last_time_buy",
		"EOL": "eol", "End of Life": "eol", "Obsolete": "obsolete", "Discontinued": "obsolete", "停产": "obsolete"} {
		if got, ok := NormalizeLifecycle(in); !ok || got != want {
			t.Errorf("%q → %q %v", in, got, ok)
		}
	}
	if got, ok := NormalizeLifecycle("Preliminary"); ok || got != schemas.LifecycleUnknown {
		t.Errorf("Preliminary → %q %v", got, ok)
	}
}

func TestAvailabilityFeedHTTP(t *testing.T) {
	body, _ := os.ReadFile("../testdata/availability/distributor_a.csv")
	lastMod := time.Date(2025, 5, 4, 6, 0, 0, 0, time.UTC)
	var gets, notMod int
	var apiKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets++
		apiKey = r.Header.Get("X-Api-Key")
		if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !lastMod.After(ims) {
			notMod++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", lastMod.Format(http.TimeFormat))
		w.Header().Set("Content-Type", "text/csv")
		w.Write(body)
	}))
	defer srv.Close()
	d := testDeps()
	f := NewAvailabilityFeed(AvailabilityFeedOptions{URLs: []string{srv.URL + "/stock.csv"}},
		d.withDefaults().httpClient("availability", 100, 1, http.Header{"X-Api-Key": {"k"}}), d)
	m := &collectorstest.Memory{}
	st, err := f.Run(context.Background(), m)
	if err != nil || st.Emitted != 6 || st.RejectedTotal() != 4 || apiKey != "k" {
		t.Fatalf("first run %+v %v key %q", st, err, apiKey)
	}
	st, err = f.Run(context.Background(), m)
	if err != nil || st.Emitted != 0 || st.Read != 0 || notMod != 1 {
		t.Fatalf("second run %+v %v (304s %d)", st, err, notMod)
	}
	lastMod = lastMod.Add(time.Hour)
	st, err = f.Run(context.Background(), m)
	if err != nil || st.Emitted != 6 {
		t.Fatalf("third run %+v %v", st, err)
	}
}

func TestAvailabilityFeedDirectory(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../testdata/availability/distributor_b.jsonl")
	path := filepath.Join(dir, "feed.jsonl")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644)
	mtime := time.Date(2025, 5, 5, 0, 0, 0, 0, time.UTC)
	os.Chtimes(path, mtime, mtime)
	f := NewAvailabilityFeed(AvailabilityFeedOptions{Dir: dir, Distributor: "Dir Distributor"}, nil, testDeps())
	m := &collectorstest.Memory{}
	st, err := f.Run(context.Background(), m)
	if err != nil || st.Emitted != 3 || st.RejectedTotal() != 2 || st.Files != 1 {
		t.Fatalf("first scan %+v %v", st, err)
	}
	parts := decodeAll[*schemas.ComponentAvailability](t, m.Events)
	if rk := findPart(parts, "RK3588"); rk == nil || !rk.AsOf.Equal(mtime) || rk.Distributor != "Dir Distributor" {
		t.Errorf("as_of defaults to the file's mtime: %+v", rk)
	}
	// Unchanged: nothing.
	if st, err := f.Run(context.Background(), m); err != nil || st.Read != 0 {
		t.Fatalf("second scan %+v %v", st, err)
	}
	// Changed (size and mtime): imported again; a new file too.
	os.WriteFile(path, append(src, []byte(`{"mpn":"ESP32-S3","mfr":"Espressif","lifecycle":"Active","stock":7}`+"\n")...), 0o644)
	os.WriteFile(filepath.Join(dir, "b.csv"), []byte("part_number,manufacturer,lifecycle\nA1,B1,EOL\n"), 0o644)
	st, err = f.Run(context.Background(), m)
	if err != nil || st.Files != 2 || st.Emitted != 5 {
		t.Fatalf("third scan %+v %v", st, err)
	}
	if !strings.Contains(m.Events[len(m.Events)-1].Source, "availability") {
		t.Errorf("source %s", m.Events[0].Source)
	}
}
