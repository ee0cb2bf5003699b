-- chainwatch 0001: event tables, the rejected table.
-- Runs on ClickHouse 18.16 and on current ClickHouse: no LowCardinality, TTL, DateTime64, Map.
-- Event tables are ReplacingMergeTree keyed so that a re-sent event (same event_id, which is a hash of
-- source + natural key) collapses; the natural key's business time picks the monthly partition, so
-- every copy of an event lands in the same partition. Read with FINAL (or argMax) for exact counts.

CREATE TABLE IF NOT EXISTS trade_flows (
    event_id String,
    source String,
    occurred_at DateTime,
    ingested_at DateTime,
    schema_version UInt16,
    reporter_m49 UInt16,
    reporter_iso3 String,
    partner_m49 UInt16,
    partner_iso3 String,
    partner2_m49 UInt16,
    flow String,
    hs_code String,
    hs_chapter String,
    classification String,
    year UInt16,
    month UInt8,
    customs_code String,
    mot_code UInt16,
    value_usd Float64,
    net_weight_kg Nullable(Float64),
    quantity Nullable(Float64),
    qty_unit String,
    estimated UInt8
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (hs_code, reporter_m49, flow, event_id);

CREATE TABLE IF NOT EXISTS production_stats (
    event_id String,
    source String,
    occurred_at DateTime,
    ingested_at DateTime,
    schema_version UInt16,
    commodity String,
    country String,
    country_iso3 String,
    stage String,
    year UInt16,
    quantity Nullable(Float64),
    unit String,
    estimated UInt8,
    flag String,
    note String
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (commodity, stage, event_id);

CREATE TABLE IF NOT EXISTS procurement_awards (
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
    currency String
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (ocid, event_id);

CREATE TABLE IF NOT EXISTS component_availability (
    event_id String,
    source String,
    occurred_at DateTime,
    ingested_at DateTime,
    schema_version UInt16,
    part_number String,
    manufacturer String,
    distributor String,
    component_id String,
    stock Int64,
    lead_time_days Nullable(Float64),
    lifecycle String,
    price Nullable(Float64),
    currency String,
    as_of DateTime
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (manufacturer, part_number, event_id);

-- The supply map and the substitution list are current-state tables: a key's newest as_of wins.
-- They are not partitioned by time, since a re-import in a later month must collapse onto the same key.
CREATE TABLE IF NOT EXISTS supply_nodes (
    event_id String,
    source String,
    occurred_at DateTime,
    ingested_at DateTime,
    schema_version UInt16,
    node_type String,
    node_id String,
    name String,
    country String,
    domestic UInt8,
    region String,
    industry String,
    chain_leader UInt8,
    tags Array(String),
    category String,
    hs_code String,
    chokepoint UInt8,
    as_of DateTime
) ENGINE = ReplacingMergeTree(as_of)
ORDER BY (node_type, node_id, event_id);

CREATE TABLE IF NOT EXISTS supply_links (
    event_id String,
    source String,
    occurred_at DateTime,
    ingested_at DateTime,
    schema_version UInt16,
    link_type String,
    enterprise_id String,
    product_id String,
    component_id String,
    supplier_id String,
    qty_per_unit Float64,
    share Float64,
    qualification String,
    inventory_units Float64,
    consumption_per_day Float64,
    as_of DateTime
) ENGINE = ReplacingMergeTree(as_of)
ORDER BY (link_type, component_id, enterprise_id, event_id);

CREATE TABLE IF NOT EXISTS substitutions (
    event_id String,
    source String,
    occurred_at DateTime,
    ingested_at DateTime,
    schema_version UInt16,
    component_id String,
    alt_component_id String,
    alt_supplier_id String,
    enterprise_id String,
    qualification_days Float64,
    domestic UInt8,
    country String,
    notes String,
    as_of DateTime
) ENGINE = ReplacingMergeTree(as_of)
ORDER BY (component_id, event_id);

-- Records that did not become events (collector or sink), with the reason and the raw bytes. They
-- arrive through the dead-letter topic. reject_id is stable per input (the original Kafka position, or a
-- hash of source, location and raw bytes), so a redelivered reject collapses.
CREATE TABLE IF NOT EXISTS rejected (
    reject_id String,
    received_at DateTime,
    stage String,
    source String,
    kind String,
    topic String,
    partition Int32,
    offset Int64,
    location String,
    record_key String,
    reason String,
    detail String,
    raw String
) ENGINE = ReplacingMergeTree(received_at)
ORDER BY (reject_id);
