-- chainwatch 0004: the weekly digest archive (internal/report).
-- Runs on ClickHouse 18.16 and on current ClickHouse: no LowCardinality, TTL, DateTime64, Map.
-- One row per ISO week × scope (region, industry; '' = all) × format. A re-generated digest replaces
-- the older one (ReplacingMergeTree on generated_at); read with FINAL or argMax(body, generated_at).
-- Partitioned by ISO year so a year's archive can be dropped as one partition.

CREATE TABLE IF NOT EXISTS digests (
    year UInt16,
    week UInt8,
    region String,
    industry String,
    format String,
    generated_at DateTime,
    period_from DateTime,
    period_to DateTime,
    content_type String,
    body String
) ENGINE = ReplacingMergeTree(generated_at)
PARTITION BY year
ORDER BY (year, week, region, industry, format);
