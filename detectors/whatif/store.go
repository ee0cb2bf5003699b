package whatif

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// StoredRun is a scenario run as read back from ClickHouse.
type StoredRun struct {
	RunID     string    `json:"run_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Scenario  Scenario  `json:"scenario"`
	Result    Result    `json:"result"`
	// StopRows is the number of scenario_stops rows of the run.
	StopRows uint64 `json:"stop_rows"`
}

const (
	insertRun  = "INSERT INTO scenario_runs (run_id, name, created_at, start, shocks, stops, enterprises, scenario, result)"
	insertStop = "INSERT INTO scenario_stops (run_id, created_at, enterprise_id, product_id, chain_leader, first_stop, until, days_stopped, shortfall, path, arithmetic, action)"
)

// RunID is the id of a run: the first 16 bytes (hex) of sha256(scenario JSON, created_at).
func RunID(scenarioJSON []byte, createdAt time.Time) string {
	h := sha256.New()
	h.Write(scenarioJSON)
	h.Write([]byte(createdAt.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Save stores a run (its scenario as input and the full result) in scenario_runs and its stops
// in scenario_stops, and returns the run id.
func Save(ctx context.Context, conn driver.Conn, res *Result, createdAt time.Time) (string, error) {
	sj, err := json.Marshal(res.Scenario)
	if err != nil {
		return "", fmt.Errorf("scenario json: %w", err)
	}
	rj, err := json.Marshal(res)
	if err != nil {
		return "", fmt.Errorf("result json: %w", err)
	}
	createdAt = createdAt.UTC().Truncate(time.Second)
	id := RunID(sj, createdAt)
	err = sendBatch(ctx, conn, insertRun, [][]any{{id, res.Scenario.Name, createdAt, res.Start.UTC(), uint16(len(res.Scenario.Shocks)),
		uint32(len(res.Stops)), uint32(len(res.Enterprises())), string(sj), string(rj)}})
	if err != nil {
		return "", err
	}
	rows := make([][]any, 0, len(res.Stops))
	for _, s := range res.Stops {
		leader := uint8(0)
		if s.ChainLeader {
			leader = 1
		}
		rows = append(rows, []any{id, createdAt, s.Enterprise, s.Product, leader, s.FirstStop.UTC(), s.Until.UTC(),
			s.DaysStopped, s.Shortfall, nonNil(s.Path), nonNil(s.Arithmetic), s.Action})
	}
	if len(rows) > 0 {
		if err := sendBatch(ctx, conn, insertStop, rows); err != nil {
			return "", err
		}
	}
	return id, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sendBatch(ctx context.Context, conn driver.Conn, insertSQL string, rows [][]any) error {
	b, err := conn.PrepareBatch(ctx, insertSQL)
	if err != nil {
		return fmt.Errorf("prepare %q: %w", insertSQL, err)
	}
	for i, r := range rows {
		if err := b.Append(r...); err != nil {
			return errors.Join(fmt.Errorf("append row %d: %w", i, err), b.Abort())
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send %d rows: %w", len(rows), err)
	}
	return nil
}

// Load reads one run back.
func Load(ctx context.Context, conn driver.Conn, runID string) (*StoredRun, error) {
	var sr StoredRun
	var sj, rj string
	row := conn.QueryRow(ctx, "SELECT run_id, name, created_at, scenario, result FROM scenario_runs WHERE run_id = ? LIMIT 1", runID)
	if err := row.Scan(&sr.RunID, &sr.Name, &sr.CreatedAt, &sj, &rj); err != nil {
		return nil, fmt.Errorf("scenario run %s: %w", runID, err)
	}
	if err := json.Unmarshal([]byte(sj), &sr.Scenario); err != nil {
		return nil, fmt.Errorf("scenario run %s: scenario: %w", runID, err)
	}
	if err := json.Unmarshal([]byte(rj), &sr.Result); err != nil {
		return nil, fmt.Errorf("scenario run %s: result: %w", runID, err)
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM scenario_stops WHERE run_id = ?", runID).Scan(&sr.StopRows); err != nil {
		return nil, fmt.Errorf("scenario run %s: stops: %w", runID, err)
	}
	return &sr, nil
}
