-- chainwatch 0005: what-if scenario runs (detectors/whatif) with their inputs.
-- Runs on ClickHouse 18.16 and on current ClickHouse: no LowCardinality, TTL, DateTime64, Map.
-- scenario_runs: one row per run; scenario is the scenario JSON as given (shocks, data), result the
-- full result JSON (stops with paths, buffer arithmetic and B计划 actions, absorbed buffers).
-- scenario_stops: one row per (run, enterprise, product) that stops, for queries and dashboards.

CREATE TABLE IF NOT EXISTS scenario_runs (
    run_id String,
    name String,
    created_at DateTime,
    start DateTime,
    shocks UInt16,
    stops UInt32,
    enterprises UInt32,
    scenario String,
    result String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (created_at, run_id);

CREATE TABLE IF NOT EXISTS scenario_stops (
    run_id String,
    created_at DateTime,
    enterprise_id String,
    product_id String,
    chain_leader UInt8,
    first_stop DateTime,
    until DateTime,
    days_stopped Float64,
    shortfall Float64,
    path Array(String),
    arithmetic Array(String),
    action String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (run_id, enterprise_id, product_id);
