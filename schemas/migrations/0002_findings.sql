-- chainwatch 0002: detector findings and detector runs (issue #5, detectors/).
-- Runs on ClickHouse 18.16 and on current ClickHouse: no LowCardinality, TTL, DateTime64, Map, JSON.
-- findings is append-only: every run of a detector writes its findings under a new run_id, then one
-- detector_runs row (status 'ok' or 'error'). Readers take, per detector, the newest run_id whose
-- detector_runs row says 'ok' (run ids sort by time), so a half-written or failed run is never read.
-- Terms are parallel arrays (term_names[i] ↔ term_values[i] ↔ ...); alternates are JSON text.

CREATE TABLE IF NOT EXISTS findings (
    run_id String,
    computed_at DateTime,
    detector String,
    subject_type String,
    subject String,
    subject_name String,
    enterprise_id String,
    component_id String,
    category String,
    industry String,
    region String,
    chain_leader UInt8,
    score Float64,
    prev_score Nullable(Float64),
    delta Float64,
    flags Array(String),
    term_names Array(String),
    term_values Array(Float64),
    term_norms Array(Float64),
    term_weights Array(Float64),
    term_contributions Array(Float64),
    term_shares Array(Float64),
    term_details Array(String),
    tts_days Nullable(Float64),
    ttr_days Nullable(Float64),
    alternates_json String,
    products Array(String),
    window_from DateTime,
    window_to DateTime
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(computed_at)
ORDER BY (detector, run_id, subject_type, subject);

CREATE TABLE IF NOT EXISTS detector_runs (
    run_id String,
    detector String,
    started_at DateTime,
    finished_at DateTime,
    findings UInt32,
    status String,
    error String,
    window_from DateTime,
    window_to DateTime
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(started_at)
ORDER BY (detector, run_id);
