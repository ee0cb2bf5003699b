package exposure_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report/reporttest"
	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

type envEmitter struct{ envs []schemas.Envelope }

func (e *envEmitter) Emit(_ context.Context, envs ...schemas.Envelope) error {
	e.envs = append(e.envs, envs...)
	return nil
}
func (e *envEmitter) Reject(_ context.Context, rs ...schemas.Rejected) error { return nil }

// demoRows imports kind/path through the collectors and returns the rows by table.
func demoRows(t *testing.T, d *reporttest.Dataset, kind, path string) {
	t.Helper()
	em := &envEmitter{}
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if _, err := collectors.Import(context.Background(), kind, path, em, collectors.ImportOptions{Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	for _, env := range em.envs {
		b, _ := json.Marshal(env)
		_, rec, err := schemas.Decode(b, "")
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := schemas.Lookup(rec.Kind())
		vals := rec.AppendValues(schemas.AppendEnvelope(nil, &env))
		r := reporttest.Row{}
		for i, c := range spec.AllColumns() {
			r[c] = vals[i]
		}
		if _, ok := d.Rows[spec.Table]; !ok {
			d.Tables = append(d.Tables, spec.Table)
		}
		d.Rows[spec.Table] = append(d.Rows[spec.Table], r)
	}
}

// demoSupplyMap adds the demo supply map (as_of 2026-11-01) and substitution list to d.
func demoSupplyMap(t *testing.T, d *reporttest.Dataset) {
	t.Helper()
	root := reporttest.RepoRoot()
	demoRows(t, d, "supplymap", filepath.Join(root, "deploy/demo/supplymap"))
	demoRows(t, d, "substitution", filepath.Join(root, "deploy/demo/substitution.csv"))
}

// newerSupplies adds the demo supply map again with StarPower's newer IGBT share (as_of 2026-11-15).
func newerSupplies(t *testing.T, d *reporttest.Dataset) {
	t.Helper()
	root := reporttest.RepoRoot()
	after := t.TempDir()
	for _, f := range []string{"bom.csv", "components.csv", "enterprises.csv", "inventory.csv", "products.csv", "suppliers.csv"} {
		b, _ := os.ReadFile(filepath.Join(root, "deploy/demo/supplymap", f))
		if err := os.WriteFile(filepath.Join(after, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(root, "testdata/regional/after/supplies.csv"))
	if err := os.WriteFile(filepath.Join(after, "supplies.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	demoRows(t, d, "supplymap", after)
}

// TestRegionalIntegration: the demo supply map in ClickHouse 18.16, then StarPower's newer IGBT
// share: the local-sourcing index as of each date with its 7-day change, the ledger item confirmed
// by the newer data only, and the demand board — the same answers as the pure functions.
func TestRegionalIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	d := &reporttest.Dataset{Rows: map[string][]reporttest.Row{}}
	demoSupplyMap(t, d)
	newerSupplies(t, d)
	if err := d.Insert(ctx, conn); err != nil {
		t.Fatal(err)
	}
	cfg := detectors.DefaultConfig()
	cfg.Ledger.Items = []detectors.LedgerItem{{ID: "KD-001", ComponentID: "C-IGBT", Owner: "E-NEV", Route: detectors.RouteSaima, Stage: "首试首用", TargetDate: "2026-12-31"}}
	rg := exposure.NewRegional(exposure.NewStore(conn, exposure.DefaultConfig()), cfg)

	before := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC) // the demo map (as_of 2026-11-01) only
	later := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)  // with StarPower at 60 % (as_of 2026-11-15)
	ls, err := rg.LocalSourcing(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].EnterpriseID != "E-NEV" || ls[0].Index != 0.35 || ls[0].PrevIndex == nil || *ls[0].PrevIndex != 0.2 ||
		ls[0].Change != 0.15 || ls[1].EnterpriseID != "E-SEMI" || ls[1].Index != 0.2 || ls[1].Change != 0 {
		t.Errorf("local sourcing at %s: %+v", later, ls)
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{before, false}, {later, true}} {
		l, err := rg.Ledger(ctx, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 1 || l.Items[0].BrokenThrough != c.want {
			t.Errorf("ledger at %s: %+v", c.at, l.Items)
		}
	}
	ds, err := rg.Demands(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 { // no detector run yet: no finding posts a need
		t.Errorf("demands without findings: %+v", ds)
	}
	if !strings.HasPrefix(ls[0].Name, "华东") {
		t.Errorf("names not read: %+v", ls[0])
	}
	regionalOverHTTP(t, exposure.NewStore(conn, exposure.DefaultConfig()), rg, before, later)
}

// regionalOverHTTP serves the same views through the real API handler with a read token:
// GET /local-sourcing, /ledger (with ?owner=), /demands, and a bad parameter.
func regionalOverHTTP(t *testing.T, st *exposure.Store, rg *exposure.Regional, before, later time.Time) {
	t.Helper()
	tok, hash, err := api.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.DefaultConfig()
	cfg.Tokens = []api.TokenConfig{{Name: "reader", Role: api.RoleRead, SHA256: confkit.Secret(hash)}}
	srv := httptest.NewServer(api.New(api.Deps{Store: st, Regional: rg, DetectorNames: detectors.Names}, cfg, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	get := func(path string, want int, out any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+api.Prefix+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
	}
	at := func(x time.Time) string { return url.QueryEscape(x.Format(time.RFC3339)) }
	var ls api.LocalSourcingList
	get("/local-sourcing?as_of="+at(later), http.StatusOK, &ls)
	if len(ls.Items) != 2 || ls.Items[0].EnterpriseID != "E-NEV" || ls.Items[0].Index != 0.35 || ls.Items[0].Change != 0.15 {
		t.Errorf("GET /local-sourcing: %+v", ls.Items)
	}
	for _, c := range []struct {
		at    time.Time
		owner string
		n     int
		want  bool
	}{{before, "E-NEV", 1, false}, {later, "E-NEV", 1, true}, {later, "E-SEMI", 0, false}} {
		var l detectors.Ledger
		get("/ledger?as_of="+at(c.at)+"&owner="+c.owner, http.StatusOK, &l)
		if len(l.Items) != c.n || (c.n == 1 && l.Items[0].BrokenThrough != c.want) {
			t.Errorf("GET /ledger at %s owner %s: %+v", c.at, c.owner, l.Items)
		}
	}
	var dl api.DemandList
	get("/demands?as_of="+at(later), http.StatusOK, &dl)
	if dl.Total != 0 || dl.Items == nil {
		t.Errorf("GET /demands without findings: %+v", dl)
	}
	get("/demands?need=bogus", http.StatusBadRequest, nil)
	get("/ledger?as_of=yesterday", http.StatusBadRequest, nil)
}

// TestLocalSourcingSinceIntegration: the index is read again only when what it reads changed — rows
// inserted, a stored row's as_of coming into the view at t or into the view 7 days earlier — and is
// otherwise served from the memo; every answer equals an uncached LocalSourcing at the same time.
// The exposure collector counts the refreshes it served again.
func TestLocalSourcingSinceIntegration(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// the index's reads of supply links (not the state query)
	q := &queryCounter{q: conn, match: func(s string) bool { return strings.Contains(s, "FROM supply_links") && strings.Contains(s, "argMax(") }}
	rg := exposure.NewRegional(exposure.NewStore(q, exposure.DefaultConfig()), detectors.DefaultConfig())
	var memo exposure.LocalSourcingMemo
	step := func(name string, at time.Time, wantRead bool, wantNEV, wantChange float64) {
		t.Helper()
		before := q.n.Load()
		got, reused, err := rg.LocalSourcingSince(ctx, at, &memo)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if read := q.n.Load() > before; read != wantRead || reused == wantRead {
			t.Errorf("%s: supply map read %v (reused %v), want %v", name, read, reused, wantRead)
		}
		want, err := rg.LocalSourcing(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, uncached %+v", name, got, want)
		}
		if len(got) != 2 || got[0].EnterpriseID != "E-NEV" || got[0].Index != wantNEV || got[0].Change != wantChange {
			t.Errorf("%s: %+v, want E-NEV at %v (change %v) first", name, got, wantNEV, wantChange)
		}
	}
	insert := func(add func(*testing.T, *reporttest.Dataset)) {
		d := &reporttest.Dataset{Rows: map[string][]reporttest.Row{}}
		add(t, d)
		if err := d.Insert(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }

	insert(demoSupplyMap) // as_of 2026-11-01
	step("first read", day(10), true, 0.2, 0)
	step("an hour later", day(10).Add(time.Hour), false, 0.2, 0)
	insert(newerSupplies) // StarPower's newer share, as_of 2026-11-15
	step("rows inserted", day(10).Add(2*time.Hour), true, 0.2, 0)
	step("nothing since", day(11), false, 0.2, 0)
	step("the newer share's as_of reached", day(20), true, 0.35, 0.15)
	step("a day later", day(21), false, 0.35, 0.15)
	step("its as_of reached 7 days earlier too", day(23), true, 0.35, 0)
	step("back in time", day(21), true, 0.35, 0.15)

	reg := prometheus.NewRegistry()
	c, err := exposure.NewCollector(exposure.NewStore(q, exposure.DefaultConfig()), reg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	c.SetRegional(rg)
	for i, want := range []float64{0, 1, 2} {
		before := q.n.Load()
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if v, _ := testenv.Value(t, reg, exposure.MetricLocalSourcingUnchanged, nil); v != want {
			t.Errorf("refresh %d: %s = %v, want %v", i, exposure.MetricLocalSourcingUnchanged, v, want)
		}
		if read := q.n.Load() > before; read != (i == 0) {
			t.Errorf("refresh %d: supply map read %v", i, read)
		}
		if v, ok := testenv.Value(t, reg, exposure.MetricLocalSourcing, map[string]string{"enterprise": "E-NEV", "region_group": "长三角"}); !ok || v != 0.35 {
			t.Errorf("refresh %d: %s{E-NEV} = %v (present %v), want 0.35", i, exposure.MetricLocalSourcing, v, ok)
		}
	}
}
