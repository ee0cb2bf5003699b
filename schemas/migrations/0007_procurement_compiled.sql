-- procurement_awards keeps the row of the latest compiled release, not the last one to arrive.
-- 0001 made it ReplacingMergeTree(ingested_at) partitioned by the award month: a re-import of an
-- older release replaced a newer one, and a corrected award date moved the row to another
-- partition where FINAL did not collapse it. ClickHouse 18.16 cannot change a table's engine or
-- keys, so a new table takes the name: version compiled_at (the compiled release date), no
-- partitioning (FINAL collapses an ocid + award over all time), same ORDER BY.
-- The rows stored so far are copied with compiled_at = 1970-01-01, so any re-import replaces them;
-- the old table is kept as procurement_awards_0001 (drop it once checked).
-- Re-running after a crash: statements 1-2 are idempotent; if the RENAME had run but the migration
-- was not recorded, record it by hand (INSERT INTO schema_migrations (version, name, applied_at) ...).
CREATE TABLE IF NOT EXISTS procurement_awards_0007 (
    event_id String,
    source String,
    occurred_at DateTime,
    ingested_at DateTime,
    schema_version UInt16,
    ocid String,
    release_id String,
    award_id String,
    status String,
    award_date DateTime,
    buyer_id String,
    buyer_name String,
    supplier_ids Array(String),
    supplier_names Array(String),
    supplier_countries Array(String),
    item_ids Array(String),
    item_descriptions Array(String),
    item_schemes Array(String),
    item_codes Array(String),
    value Nullable(Float64),
    currency String,
    compiled_at DateTime
) ENGINE = ReplacingMergeTree(compiled_at)
ORDER BY (ocid, event_id);

INSERT INTO procurement_awards_0007 (event_id, source, occurred_at, ingested_at, schema_version, ocid, release_id,
    award_id, status, award_date, buyer_id, buyer_name, supplier_ids, supplier_names, supplier_countries, item_ids,
    item_descriptions, item_schemes, item_codes, value, currency, compiled_at)
SELECT event_id, source, occurred_at, ingested_at, schema_version, ocid, release_id,
    award_id, status, award_date, buyer_id, buyer_name, supplier_ids, supplier_names, supplier_countries, item_ids,
    item_descriptions, item_schemes, item_codes, value, currency, toDateTime(0)
FROM procurement_awards;

RENAME TABLE procurement_awards TO procurement_awards_0001, procurement_awards_0007 TO procurement_awards;
