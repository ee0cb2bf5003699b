-- chainwatch 0003: alert lifecycle events (alerts/archive), counted by the weekly digest.
-- Runs on ClickHouse 18.16 and on current ClickHouse: no LowCardinality, TTL, DateTime64, Map.
-- One row per transition: status 'firing' when an alert starts or changes severity, 'resolved'
-- when its finding clears. event_id is a hash of fingerprint, status, severity and time, so a
-- re-sent event collapses (read with FINAL or argMax). Inserted only with PrepareBatch and an
-- explicit column list.

CREATE TABLE IF NOT EXISTS alert_events (
    event_id String,
    fingerprint String,
    alert_name String,
    enterprise_id String,
    component_id String,
    category String,
    severity String,
    status String,
    score Float64,
    flags Array(String),
    run_id String,
    starts_at DateTime,
    at DateTime,
    recorded_at DateTime
) ENGINE = ReplacingMergeTree(recorded_at)
PARTITION BY toYYYYMM(at)
ORDER BY (enterprise_id, fingerprint, at, event_id);
