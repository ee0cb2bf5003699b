package whatif_test

import (
	"context"
	"github.com/chainwatch/chainwatch/detectors/whatif"
	"reflect"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/testenv"
	"github.com/chainwatch/chainwatch/schemas"
)

// TestScenarioStoreIntegration stores the known-answer run in the real ClickHouse (fresh database)
// and reads it back: inputs and result round-trip, one scenario_stops row per stop.
func TestScenarioStoreIntegration(t *testing.T) {
	testenv.Integration(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	cfg := whatif.DefaultConfig()
	cfg.QualifiedSwitchDays = 30
	res, err := whatif.New(whatif.FourTier(t), nil, cfg).Run(whatif.Gallium(120))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	id, err := whatif.Save(ctx, conn, res, created)
	if err != nil {
		t.Fatal(err)
	}
	got, err := whatif.Load(ctx, conn, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "gallium" || !got.CreatedAt.Equal(created) || got.StopRows != uint64(len(res.Stops)) || len(res.Stops) != 4 {
		t.Fatalf("stored %s %s %d stop rows, want gallium %s %d", got.Name, got.CreatedAt, got.StopRows, created, len(res.Stops))
	}
	if !reflect.DeepEqual(got.Scenario, res.Scenario) {
		t.Errorf("scenario round trip:\n got %+v\nwant %+v", got.Scenario, res.Scenario)
	}
	for i, s := range got.Result.Stops {
		w := res.Stops[i]
		if s.Enterprise != w.Enterprise || s.Product != w.Product || !s.FirstStop.Equal(w.FirstStop) || s.DaysStopped != w.DaysStopped ||
			!reflect.DeepEqual(s.Arithmetic, w.Arithmetic) || s.Action != w.Action {
			t.Errorf("stop %d round trip: got %+v want %+v", i, s, w)
		}
	}
	var days float64
	var path []string
	if err := conn.QueryRow(ctx, "SELECT days_stopped, path FROM scenario_stops WHERE run_id = ? AND product_id = 'P'", id).Scan(&days, &path); err != nil {
		t.Fatal(err)
	}
	if days != 6 || len(path) == 0 || path[len(path)-1] != "E4/P" {
		t.Errorf("scenario_stops E4/P: %v d, path %q", days, path)
	}
}

// TestGalliumFromClickHouseIntegration loads the demo map and the real gallium statistics into a
// fresh ClickHouse database, reads them back with LoadRecords and checks the run equals the one on
// the in-memory records.
func TestGalliumFromClickHouseIntegration(t *testing.T) {
	testenv.Integration(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	em := importEm(t,
		[2]string{"supplymap", "../../deploy/demo/supplymap"},
		[2]string{"substitution", "../../deploy/demo/substitution.csv"},
		[2]string{"production", "../../deploy/demo/real/usgs/mcs2024-galli_world.csv"},
		[2]string{"trade", "../../deploy/demo/real/comtrade/gallium_trade_data.csv"})
	byKind := map[schemas.Kind][][]any{}
	for i, env := range em.envs {
		row := schemas.AppendEnvelope(nil, &env)
		byKind[env.Kind] = append(byKind[env.Kind], em.recs[i].AppendValues(row))
	}
	for k, rows := range byKind {
		spec, _ := schemas.Lookup(k)
		if err := whatif.SendBatch(ctx, conn, spec.InsertSQL(), rows); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := whatif.LoadRecords(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	sc := whatif.Gallium(180)
	fromDB, err := whatif.New(buildGraph(t, recs), whatif.NewExposure(recs), whatif.DefaultConfig()).Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	inMem, err := whatif.New(buildGraph(t, em.recs), whatif.NewExposure(em.recs), whatif.DefaultConfig()).Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromDB.Stops) != 2 || !reflect.DeepEqual(fromDB.Stops, inMem.Stops) {
		t.Fatalf("from ClickHouse %+v\nin memory %+v", fromDB.Stops, inMem.Stops)
	}
}
