package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/detectors/supplygraph"
	"github.com/chainwatch/chainwatch/detectors/whatif"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/schemas"
)

// engineScenarios runs the real engine on an in-memory graph and "stores" by counting.
type engineScenarios struct {
	en     *whatif.Engine
	stored int
}

func (e *engineScenarios) Run(_ context.Context, sc whatif.Scenario, stress bool) (ScenarioRun, error) {
	res, err := e.en.Run(sc)
	if err != nil {
		return ScenarioRun{}, err
	}
	e.stored++
	out := ScenarioRun{RunID: "run-1", Result: res}
	if stress {
		out.Stress, err = e.en.ReverseStress(res.Start)
	}
	return out, err
}

// tinyGraph: 链主 E makes P from X; S supplies all of X; E holds 10 units, uses 1 a day.
func tinyGraph(t *testing.T) *supplygraph.Graph {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := supplygraph.NewBuilder()
	for _, r := range []schemas.Record{
		&schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: "E", ChainLeader: true, AsOf: at},
		&schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: "S", Country: "DEU", AsOf: at},
		&schemas.SupplyNode{NodeType: schemas.NodeProduct, NodeID: "P", AsOf: at},
		&schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: "X", Category: schemas.CategoryOther, AsOf: at},
		&schemas.SupplyLink{LinkType: schemas.LinkMakes, EnterpriseID: "E", ProductID: "P", AsOf: at},
		&schemas.SupplyLink{LinkType: schemas.LinkBOM, ProductID: "P", ComponentID: "X", QtyPerUnit: 1, AsOf: at},
		&schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: "E", ComponentID: "X", SupplierID: "S", Share: 1, Qualification: "qualified", AsOf: at},
		&schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: "E", ComponentID: "X", InventoryUnits: 10, ConsumptionPerDay: 1, AsOf: at},
	} {
		b.Add(r)
	}
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPostScenario(t *testing.T) {
	svc := &engineScenarios{en: whatif.New(tinyGraph(t), nil, whatif.DefaultConfig())}
	deps := Deps{Store: exposure.NewStore(noQuery{t}, exposure.DefaultConfig()), Scenarios: svc}
	srv := httptest.NewServer(New(deps, testConfig(), slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	body := `{"name":"S down","stress":true,"shocks":[{"type":"supplier_down","supplier":"S","start":"2027-01-01","duration_days":30}]}`
	if code, _, b := do(t, srv, "POST", "/api/v1/scenarios", readToken, body); code != 403 {
		t.Fatalf("read token: %d %s", code, b)
	}
	code, _, b := do(t, srv, "POST", "/api/v1/scenarios", opToken, body)
	if code != 201 {
		t.Fatalf("operate token: %d %s", code, b)
	}
	var run ScenarioRun
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	// 10 units ÷ 1 a day = 10 d of cover: P stops 2027-01-11 for the remaining 20 d.
	if len(run.Result.Stops) != 1 || run.Result.Stops[0].DaysStopped != 20 || run.Result.Stops[0].FirstStop.Format(time.DateOnly) != "2027-01-11" ||
		svc.stored != 1 || len(run.Stress) != 1 || run.Stress[0].Shock.Supplier != "S" || run.Stress[0].DaysToStop != 10 {
		t.Fatalf("run %s", b)
	}
	code, _, b = do(t, srv, "POST", "/api/v1/scenarios", opToken, `{"shocks":[{"type":"supplier_down","start":"2027-01-01","duration_days":-1}]}`)
	if code != 400 || !strings.Contains(string(b), "shocks[0].supplier: required") || !strings.Contains(string(b), "shocks[0].duration_days") {
		t.Fatalf("invalid scenario: %d %s", code, b)
	}
	srv2, _ := newTestServer(t)
	if code, _, b := do(t, srv2, "POST", "/api/v1/scenarios", opToken, body); code != 501 {
		t.Fatalf("no engine: %d %s", code, b)
	}
}
