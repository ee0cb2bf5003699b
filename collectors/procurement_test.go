package collectors

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
	"github.com/chainwatch/chainwatch/schemas"
)

func findAward(awards []*schemas.ProcurementAward, ocid, awardID string) *schemas.ProcurementAward {
	return findFirst(awards, func(a *schemas.ProcurementAward) bool { return a.OCID == ocid && a.AwardID == awardID })
}

func TestOCDSRecordPackage(t *testing.T) {
	m, st := importT(t, ImportProcurement, "../testdata/procurement/ocdskit/record-package-1-2.json", testOpts())
	// 2 records; their compiledReleases (used as they are) hold 2 + 1 awards: one read unit each.
	if st.Read != 3 || st.Emitted != 3 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events)
	// PROVENANCE: INAH (INAH-195) → GAB0709244G5 189,654 and 37,930.71 MXN; SEMAR-272 → AIM170215T50 186,200.74 MXN.
	a1 := findAward(aw, "ocds-07smqs-993235", "991324")
	a2 := findAward(aw, "ocds-07smqs-993235", "1322806")
	a3 := findAward(aw, "ocds-07smqs-1542970", "1632718")
	if a1 == nil || a2 == nil || a3 == nil {
		t.Fatalf("awards %+v", aw)
	}
	if !ptrEq(a1.Value, 189654) || !ptrEq(a2.Value, 37930.71) || !ptrEq(a3.Value, 186200.74) || a1.Currency != "MXN" {
		t.Errorf("values %v %v %v", *a1.Value, *a2.Value, *a3.Value)
	}
	if a1.BuyerID != "INAH-195" || a1.BuyerName != "Instituto Nacional de Antropología e Historia" ||
		a1.SupplierIDs[0] != "GAB0709244G5" || !strings.HasPrefix(a1.SupplierNames[0], "GLOBAL ASSURANCE BROKERS") ||
		a1.SupplierCountries[0] != "MEX" || a3.BuyerID != "SEMAR-272" || a3.SupplierIDs[0] != "AIM170215T50" {
		t.Errorf("parties: %+v / %+v", a1, a3)
	}
	// No award date: the compiled release's date.
	if !a1.Date.Equal(time.Date(2016, 2, 4, 11, 2, 19, 0, time.UTC)) || a1.ReleaseID != "993235" || !a1.CompiledAt.Equal(a1.Date) {
		t.Errorf("date %s release %s compiled %s", a1.Date, a1.ReleaseID, a1.CompiledAt)
	}
}

func TestOCDSFixtures(t *testing.T) {
	m, st := importT(t, ImportProcurement, "../testdata/procurement/ocdskit", testOpts())
	// record-package-1-2 (2 records, 3 awards), record-package_1.1 (1, 1), release-package-1-2 (4 releases,
	// 4 versions of 2 awards of 2 ocids), release-package_1.1-2 (1 contract release, no award: skipped),
	// ISO-8859-1 package (3 releases, 3 versions of 1 award of 1 ocid). 12 read units, 7 compiled awards.
	if st.Files != 5 || st.Read != 12 || st.Emitted != 7 || st.Skipped != 5 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	// One event per ocid/award: 7 events, 7 distinct ids.
	ids := map[string]bool{}
	for _, e := range m.Events {
		ids[e.EventID] = true
	}
	if len(ids) != 7 {
		t.Errorf("%d distinct event ids, want 7", len(ids))
	}
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events)
	py := findAward(aw, "ocds-03ad3f-193399", "193399-adquisicion-scanner")
	if py == nil || !ptrEq(py.Value, 135630400) || py.Currency != "PYG" || py.SupplierNames[0] != "MASTER SOFT SRL" ||
		!py.Date.Equal(time.Date(2010, 4, 23, 12, 25, 10, 0, time.UTC)) {
		t.Errorf("paraguay %+v", py)
	}
	// OCDS 1.0 style: supplier id from identifier.id, buyer from buyer.identifier.
	cdmx := findAward(aw, "OCDS-87SD3T-AD-SF-DRM-063-2015", "1")
	if cdmx == nil || cdmx.SupplierIDs[0] != "C&C021030KX2" || cdmx.BuyerID != "GDF9712054NA" || cdmx.SupplierCountries[0] != "MEX" ||
		len(cdmx.ItemIDs) != 1 || cdmx.ItemDescriptions[0] != "COMPUTADORA PORTATIL TIPO 1" {
		t.Errorf("cdmx %+v", cdmx)
	}
}

func TestOCDSLatin1(t *testing.T) {
	raw, err := os.ReadFile("../testdata/procurement/ocdskit/release-package_encoding-iso-8859-1.json")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Í")) || !bytes.Contains(raw, []byte{0xD3}) {
		t.Fatal("fixture is not ISO-8859-1")
	}
	m, st := importT(t, ImportProcurement, "../testdata/procurement/ocdskit/release-package_encoding-iso-8859-1.json", testOpts())
	if st.Read != 3 || st.Emitted != 1 || st.Skipped != 2 {
		t.Fatalf("stats %+v", st)
	}
	for _, e := range m.Events {
		if bytes.Contains(e.Payload, []byte("\ufffd")) || bytes.Contains(e.Payload, []byte(`\ufffd`)) {
			t.Errorf("replacement character in %s", e.Payload)
		}
	}
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events)
	if aw[0].BuyerName != "SECRETARÍA DE FINANZAS" {
		t.Errorf("buyer name %q", aw[0].BuyerName)
	}
	// Releases 01, 02: amount 0 with currency null; release 03 (the latest): 193,817.35 MXN.
	if !ptrEq(aw[0].Value, 193817.35) || aw[0].Currency != "MXN" || aw[0].ReleaseID != "03" {
		t.Errorf("value %+v %s release %s", aw[0].Value, aw[0].Currency, aw[0].ReleaseID)
	}
	// A stray Latin-1 byte after the first MiB is decoded in place too.
	var buf bytes.Buffer
	buf.WriteString(`{"releases":[`)
	for buf.Len() < 1<<20+100 {
		buf.WriteString(`{"ocid":"x","id":"1","date":"2020-01-01T00:00:00Z"},`)
	}
	buf.WriteString(`{"ocid":"late","id":"1","date":"2020-01-01T00:00:00Z","buyer":{"id":"b","name":"AUTORIZACI` + "\xd3" + `N"},"awards":[{"id":"a"}]}]}`)
	o := newOut(context.Background(), &collectorstest.Memory{}, "t", testNow, 10)
	mem := o.em.(*collectorstest.Memory)
	if err := importOCDS(o, &buf, "late.json", testCountries); err != nil {
		t.Fatal(err)
	}
	o.flush()
	late := decodeAll[*schemas.ProcurementAward](t, mem.Events)
	if len(late) != 1 || late[0].BuyerName != "AUTORIZACIÓN" {
		t.Errorf("late latin-1: %+v", late)
	}
}

func TestOCDSJSONLinesUK(t *testing.T) {
	m, st := importT(t, ImportProcurement, "../testdata/procurement/uk", testOpts())
	// England head40: 40 releases, 35 with one award, 5 without; lines 1 and 2 are the same release
	// (34 compiled awards). Scotland head5: 5 tenders without awards (and without a release id - no
	// award, so no reject).
	if st.Read != 45 || st.Emitted != 34 || st.Skipped != 11 || st.RejectedTotal() != 0 {
		t.Fatalf("stats %+v", st)
	}
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events)
	a := findAward(aw, "ocds-b5fd17-e3b5f385-5989-4cf1-8849-01c247fc9c30", "ocds-b5fd17-e3b5f385-5989-4cf1-8849-01c247fc9c30-1")
	if a == nil {
		t.Fatal("line 1 award missing")
	}
	// PROVENANCE known example.
	if a.BuyerID != "GB-CFS-18525" || a.BuyerName != "London Borough of Merton" || a.SupplierIDs[0] != "GB-CFS-307567" ||
		a.SupplierNames[0] != "Marstons holdings plc" || a.SupplierCountries[0] != "GBR" || !ptrEq(a.Value, 93007) ||
		a.Currency != "GBP" || a.ItemSchemes[0] != "CPV" || a.ItemCodes[0] != "63712400" || a.ItemDescriptions[0] != "Parking services" ||
		!a.Date.Equal(time.Date(2024, 12, 22, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("award %+v", a)
	}
	if !strings.HasSuffix(m.Events[0].Source, "ocds") {
		t.Errorf("source %s", m.Events[0].Source)
	}
}

func TestOCDSBadLines(t *testing.T) {
	m, st := importT(t, ImportProcurement, "../testdata/procurement/bad/bad_releases.jsonl", testOpts())
	// Line 1 has two awards (two read units).
	if st.Read != 9 || st.Emitted != 2 || st.Skipped != 1 || st.RejectedTotal() != 6 {
		t.Fatalf("stats %+v %v", st, m.Rejects)
	}
	wantReject(t, m, "missing_field", ":1.awards[0]", "awards[0].id")
	wantReject(t, m, "missing_field", ":2", "ocid")
	wantReject(t, m, "bad_json", ":3", "JSON")
	wantReject(t, m, "bad_date", ":4.awards[0]", "awards[0].date")
	wantReject(t, m, "missing_field", ":5.awards[0]", "awards[0].value.currency")
	wantReject(t, m, "unsupported_record", ":8", "compiledRelease")
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events)
	good := findAward(aw, "ocds-test-1", "a2")
	if good == nil || !ptrEq(good.Value, 1200.5) || good.Currency != "GBP" || good.BuyerName != "City Council" ||
		good.SupplierNames[0] != "Acme Ltd" || good.SupplierCountries[0] != "GBR" || good.ItemCodes[0] != "31711000" {
		t.Errorf("good award %+v", good)
	}
	rec := findAward(aw, "ocds-test-7", "a1")
	if rec == nil || rec.SupplierCountries[0] != "CHN" || rec.SupplierIDs[0] != "" || rec.ItemCodes[0] != "32101600" || rec.ReleaseID != "compiled-7" {
		t.Errorf("record award %+v", rec)
	}
}

func TestOCDSFromURL(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir("../testdata/procurement/ocdskit")))
	defer srv.Close()
	_, st := importT(t, ImportProcurement, srv.URL+"/record-package-1-2.json", testOpts())
	if st.Emitted != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOCDSFeedConditionalGet(t *testing.T) {
	body, _ := os.ReadFile("../testdata/procurement/ocdskit/record-package-1-2.json")
	var hits, notModified int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(body)
	}))
	defer srv.Close()
	d := testDeps()
	f := NewOCDSFeed("", []string{srv.URL + "/pkg.json"}, d.withDefaults().httpClient("procurement", 100, 1, nil), d)
	m := &collectorstest.Memory{}
	st, err := f.Run(context.Background(), m)
	if err != nil || st.Emitted != 3 {
		t.Fatalf("first run %+v %v", st, err)
	}
	st, err = f.Run(context.Background(), m)
	if err != nil || st.Emitted != 0 || notModified != 1 || hits != 2 {
		t.Fatalf("second run %+v %v (hits %d, 304s %d)", st, err, hits, notModified)
	}
}

func TestSyntheticOCDS(t *testing.T) {
	var buf bytes.Buffer
	if err := collectorstest.WriteSyntheticOCDS(&buf, 1000); err != nil {
		t.Fatal(err)
	}
	m := &collectorstest.Memory{}
	o := newOut(context.Background(), m, SourceOCDS, testNow, 500)
	if err := importOCDS(o, &buf, "synthetic.json", testCountries); err != nil {
		t.Fatal(err)
	}
	o.flush()
	checkStats(t, m, o.stats)
	if o.stats.Emitted != 1000 || len(m.DuplicateIDs()) != 0 || m.MaxBatch != 500 {
		t.Fatalf("stats %+v max batch %d", o.stats, m.MaxBatch)
	}
	aw := decodeAll[*schemas.ProcurementAward](t, m.Events[:6])
	if aw[4].SupplierCountries[0] != "KOR" || len(aw[0].ItemCodes) != 2 {
		t.Errorf("synthetic award %+v", aw[4])
	}
}

func writeSyntheticFile(tb testing.TB, n int) (string, int64) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "synthetic-ocds.json")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := collectorstest.WriteSyntheticOCDS(f, n); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	fi, _ := os.Stat(path)
	return path, fi.Size()
}

// BenchmarkImportOCDS imports a generated release package (20,000 releases, ~27 MB) into a
// counting emitter and reports records/s and MB/s.
func BenchmarkImportOCDS(b *testing.B) {
	path, size := writeSyntheticFile(b, 20000)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var records int64
	start := time.Now()
	for b.Loop() {
		c := &collectorstest.Counter{}
		st, err := Import(context.Background(), ImportProcurement, path, c, ImportOptions{Countries: testCountries})
		if err != nil || st.Emitted != 20000 {
			b.Fatalf("%+v %v", st, err)
		}
		records += st.Emitted
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(records)/el, "records/s")
}

// TestOCDSImportPeakRSS generates a large release package (CHAINWATCH_OCDS_MEM_MB, default 500 MB),
// imports it into a counting emitter and reports the process's peak RSS (VmHWM). Run it alone:
//
//	go test -run TestOCDSImportPeakRSS -v ./collectors/
func TestOCDSImportPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and imports a ~500 MB file")
	}
	mb := 500
	if v := os.Getenv("CHAINWATCH_OCDS_MEM_MB"); v != "" {
		mb, _ = strconv.Atoi(v)
	}
	n := mb << 20 / 1185 // bytes per synthetic release
	path, size := writeSyntheticFile(t, n)
	// The peak RSS must be the import's: return what earlier tests of this process and the file
	// generator left to the OS, then reset the process's high-water mark (Linux: clear_refs 5).
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset the peak RSS before the import: %v", err)
	}
	before := vmHWM(t)
	c := &collectorstest.Counter{}
	start := time.Now()
	st, err := Import(context.Background(), ImportProcurement, path, c, ImportOptions{Countries: testCountries})
	el := time.Since(start)
	if err != nil || st.Emitted != int64(n) || c.Events.Load() != int64(n) {
		t.Fatalf("%+v %v", st, err)
	}
	peak := vmHWM(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("imported %d releases, %.0f MB in %s: %.0f records/s, %.1f MB/s; VmHWM before import %d MB, after %d MB; Go heap sys %d MB",
		n, float64(size)/1e6, el.Round(time.Millisecond), float64(n)/el.Seconds(), float64(size)/1e6/el.Seconds(),
		before>>10, peak>>10, ms.HeapSys>>20)
	fmt.Printf("OCDS import: %d MB file, peak RSS %d MB, %.0f records/s, %.1f MB/s\n", size>>20, peak>>10,
		float64(n)/el.Seconds(), float64(size)/1e6/el.Seconds())
	if peak>>10 > 200 {
		t.Errorf("peak RSS %d MB > 200 MB", peak>>10)
	}
}

// vmHWM returns the peak resident set size in kB.
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Skip("no VmHWM")
	return 0
}
