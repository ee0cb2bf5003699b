package api

import (
	"context"
	"net/http"

	"github.com/chainwatch/chainwatch/detectors/whatif"
)

// ScenarioService runs what-if scenarios on the stored supply map and stores each run
// (the lead implements it with detectors/whatif on ClickHouse).
type ScenarioService interface {
	// Run propagates sc, stores the run with its inputs and returns the run id and the result;
	// with stress it also runs the reverse stress test.
	Run(ctx context.Context, sc whatif.Scenario, stress bool) (ScenarioRun, error)
}

// ScenarioRun is the answer of POST /api/v1/scenarios.
type ScenarioRun struct {
	RunID  string                `json:"run_id"`
	Result *whatif.Result        `json:"result"`
	Stress []whatif.StressResult `json:"reverse_stress,omitempty"`
}

// ScenarioRequest is the body of POST /api/v1/scenarios.
type ScenarioRequest struct {
	Name   string         `json:"name"`
	Shocks []whatif.Shock `json:"shocks"`
	// Stress also runs the reverse stress test.
	Stress bool `json:"stress,omitempty"`
}

func (s *server) runScenario(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.deps.Scenarios == nil {
		return notImplemented("the what-if engine")
	}
	var req ScenarioRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	sc := whatif.Scenario{Name: req.Name, Shocks: req.Shocks}
	sc.Defaults()
	if err := sc.Validate(); err != nil {
		return badRequest("%s", err.Error())
	}
	run, err := s.deps.Scenarios.Run(r.Context(), sc, req.Stress)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, run)
	return nil
}
