#!/usr/bin/env python3
"""Generates deploy/grafana/dashboards/*.json (run: python3 deploy/grafana/generate_dashboards.py).

The JSON files are committed; edit this script and regenerate rather than editing the JSON by hand, then
run `go test ./deploy/` (TestDashboardsStatic, and TestDashboardSQLIntegration against ClickHouse 18.16
and chdb). Rules for panel SQL: it must run on ClickHouse 18.16 and current ClickHouse (no
$__timeInterval / toStartOfInterval, no WITH, JOINs with ANY/ALL and aliased subqueries, no alias equal
to a column name); variables only as ${name:singlequote}; the latest successful run of a detector is
selected through detector_runs (status = 'ok').
"""
import json
import os
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
os.makedirs(OUT, exist_ok=True)
CH = {"type": "grafana-clickhouse-datasource", "uid": "chainwatch-clickhouse"}
PROM = {"type": "prometheus", "uid": "chainwatch-prometheus"}

LATEST = "(detector, run_id) IN (SELECT detector, max(run_id) FROM detector_runs WHERE status = 'ok' GROUP BY detector)"
SEL = "industry IN (${industry:singlequote}) AND region IN (${region:singlequote})"
SCOPE_ENTS = ("SELECT node_id FROM supply_nodes FINAL WHERE node_type = 'enterprise' "
              "AND industry IN (${industry:singlequote}) AND region IN (${region:singlequote})")
SCOPE_COMPS = ("SELECT component_id FROM supply_links FINAL WHERE link_type IN ('supplies', 'stocks') "
               "AND enterprise_id IN (" + SCOPE_ENTS + ")")
DAILY_RUNS = ("SELECT max(run_id) FROM detector_runs WHERE detector = '%s' AND status = 'ok' "
              "AND $__timeFilter(finished_at) GROUP BY toStartOfDay(finished_at)")
SEV = "multiIf(score >= 80, 'critical', score >= 60, 'high', score >= 40, 'medium', 'low')"

def var(name, label, sql, multi=True):
    v = {"name": name, "label": label, "type": "query", "datasource": CH, "query": sql, "definition": sql,
         "refresh": 1, "sort": 1, "multi": multi, "includeAll": multi, "hide": 0, "regex": "", "skipUrlSync": False,
         "options": []}
    v["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]} if multi else {}
    return v

VARS = {
    "industry": var("industry", "Industry", "SELECT DISTINCT industry FROM supply_nodes FINAL WHERE node_type = 'enterprise' AND industry != '' ORDER BY industry"),
    "region": var("region", "Region", "SELECT DISTINCT region FROM supply_nodes FINAL WHERE node_type = 'enterprise' AND region != '' ORDER BY region"),
    "enterprise": var("enterprise", "Enterprise",
        "SELECT DISTINCT node_id FROM supply_nodes FINAL WHERE node_type = 'enterprise' AND industry IN (${industry:singlequote}) AND region IN (${region:singlequote}) ORDER BY node_id", multi=False),
}

class Dash:
    def __init__(self, uid, title, desc, variables):
        self.d = {"uid": uid, "title": title, "description": desc, "tags": ["chainwatch"], "timezone": "browser",
                  "schemaVersion": 39, "version": 1, "editable": True, "graphTooltip": 1, "refresh": "5m",
                  "time": {"from": "now-30d", "to": "now"}, "timepicker": {},
                  "annotations": {"list": []}, "links": [
                      {"title": "chainwatch dashboards", "type": "dashboards", "tags": ["chainwatch"], "asDropdown": True,
                       "includeVars": True, "keepTime": True}],
                  "templating": {"list": [VARS[v] for v in variables]}, "panels": []}
        self.y = 0; self.x = 0; self.rowh = 0; self.id = 1
    def row(self, title):
        self.newline()
        self.d["panels"].append({"type": "row", "title": title, "id": self.id, "collapsed": False,
                                 "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.id += 1; self.y += 1
    def newline(self):
        if self.x: self.y += self.rowh; self.x = 0; self.rowh = 0
    def panel(self, typ, title, w, h, targets, desc="", options=None, field=None):
        if self.x + w > 24: self.newline()
        p = {"type": typ, "title": title, "description": desc, "id": self.id,
             "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
             "datasource": targets[0]["datasource"], "targets": targets,
             "options": options or {}, "fieldConfig": field or {"defaults": {}, "overrides": []}}
        self.d["panels"].append(p); self.id += 1
        self.x += w; self.rowh = max(self.rowh, h)
        return p
    def save(self, name):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(self.d, f, indent=2, ensure_ascii=False); f.write("\n")

def ch(sql, fmt="table", ref="A"):
    # grafana-clickhouse-datasource v4 target: format 0 = time series, 1 = table.
    return {"datasource": CH, "refId": ref, "editorType": "sql", "queryType": "timeseries" if fmt == "time" else "table",
            "format": 0 if fmt == "time" else 1, "rawSql": " ".join(sql.split())}
def prom(expr, legend, ref="A"):
    return {"datasource": PROM, "refId": ref, "expr": expr, "legendFormat": legend, "range": True}

SEVCOLORS = {"defaults": {"color": {"mode": "thresholds"}, "thresholds": {"mode": "absolute", "steps": [
    {"color": "green", "value": None}, {"color": "#ca8a04", "value": 40}, {"color": "#ea580c", "value": 60}, {"color": "#b91c1c", "value": 80}]}},
    "overrides": []}
def colors(**cols):
    return [{"matcher": {"id": "byName", "options": k}, "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": v}}]} for k, v in cols.items()]
SEVSERIES = {"defaults": {"custom": {"stacking": {"mode": "normal"}, "fillOpacity": 60}}, "overrides": colors(critical="#b91c1c", high="#ea580c", medium="#ca8a04", low="#65a30d")}
TABLE = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}

# ---------------- Overview ----------------
d = Dash("chainwatch-overview", "chainwatch · Overview",
         "Latest exposures (enterprise × component), their trend, new and rising exposures, by category and region.",
         ["industry", "region"])
d.row("Now")
d.panel("stat", "Latest exposure run", 24, 4, [ch(f"""
SELECT count() AS exposures, countIf(score >= 80) AS critical, countIf(score >= 60 AND score < 80) AS high,
       countIf(has(flags, 'single_source')) AS single_source, countIf(chain_leader = 1 AND score >= 60) AS chain_leaders_high,
       round(max(score), 1) AS max_score
FROM findings WHERE detector = 'exposure' AND {LATEST} AND {SEL}""")],
    "Counts of the latest successful exposure run in the selected industries and regions. critical ≥ 80, high ≥ 60 (api.exposure.severity).",
    {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "none", "textMode": "value_and_name", "justifyMode": "center"})
d.row("Trend")
d.panel("timeseries", "Exposures by severity (daily snapshot)", 12, 9, [ch(f"""
SELECT toStartOfDay(computed_at) AS time, countIf(score >= 80) AS critical, countIf(score >= 60 AND score < 80) AS high,
       countIf(score >= 40 AND score < 60) AS medium, countIf(score < 40) AS low
FROM findings WHERE detector = 'exposure' AND $__timeFilter(computed_at) AND run_id IN ({DAILY_RUNS % 'exposure'}) AND {SEL}
GROUP BY time ORDER BY time""", "time")], "The last successful exposure run of each day.", {"legend": {"displayMode": "list", "placement": "bottom"}}, SEVSERIES)
d.panel("timeseries", "Mean and maximum exposure score", 12, 9, [ch(f"""
SELECT toStartOfDay(computed_at) AS time, round(avg(score), 1) AS mean_score, round(max(score), 1) AS max_score,
       round(quantile(0.9)(score), 1) AS p90_score
FROM findings WHERE detector = 'exposure' AND $__timeFilter(computed_at) AND run_id IN ({DAILY_RUNS % 'exposure'}) AND {SEL}
GROUP BY time ORDER BY time""", "time")], "", {"legend": {"displayMode": "list", "placement": "bottom"}},
    {"defaults": {"min": 0, "max": 100}, "overrides": []})
d.row("New and rising (last run vs the last run 7 days before the end of the range)")
d.panel("table", "New and rising exposures", 24, 10, [ch(f"""
SELECT subject AS "Subject", any(subject_name) AS "Name", any(category) AS "Category", any(industry) AS "Industry",
       any(region) AS "Region", round(argMax(score, run_id), 1) AS "Score", round(argMin(score, run_id), 1) AS "Score 7 days before",
       if(uniqExact(run_id) = 1, 'new', 'rising') AS "Status",
       round(if(uniqExact(run_id) = 1, argMax(score, run_id), argMax(score, run_id) - argMin(score, run_id)), 1) AS "Change"
FROM findings
WHERE detector = 'exposure' AND {SEL} AND run_id IN (
    SELECT max(run_id) FROM detector_runs WHERE detector = 'exposure' AND status = 'ok' AND finished_at <= $__toTime
    GROUP BY finished_at <= $__toTime - 604800)
GROUP BY subject
HAVING max(run_id) = (SELECT max(run_id) FROM detector_runs WHERE detector = 'exposure' AND status = 'ok' AND finished_at <= $__toTime)
   AND (uniqExact(run_id) = 1 OR argMax(score, run_id) - argMin(score, run_id) >= 5)
ORDER BY "Status" ASC, "Change" DESC LIMIT 50""")],
    "Exposures absent 7 days before the end of the time range (new), or whose score rose by 5 points or more (digest.rising_min_delta).",
    TABLE, SEVCOLORS)
d.row("Breakdown (latest run)")
d.panel("barchart", "Exposures by category", 12, 9, [ch(f"""
SELECT category, countIf(score >= 80) AS critical, countIf(score >= 60 AND score < 80) AS high,
       countIf(score >= 40 AND score < 60) AS medium, countIf(score < 40) AS low
FROM findings WHERE detector = 'exposure' AND {LATEST} AND {SEL} GROUP BY category ORDER BY category""")],
    "", {"stacking": "normal", "orientation": "horizontal", "legend": {"displayMode": "list", "placement": "bottom"}, "xTickLabelRotation": 0}, SEVSERIES)
d.panel("barchart", "Exposures by region", 12, 9, [ch(f"""
SELECT region, countIf(score >= 80) AS critical, countIf(score >= 60 AND score < 80) AS high,
       countIf(score >= 40 AND score < 60) AS medium, countIf(score < 40) AS low
FROM findings WHERE detector = 'exposure' AND {LATEST} AND {SEL} GROUP BY region ORDER BY critical DESC, high DESC, region""")],
    "", {"stacking": "normal", "orientation": "horizontal", "legend": {"displayMode": "list", "placement": "bottom"}}, SEVSERIES)
d.panel("table", "Top exposures", 24, 10, [ch(f"""
SELECT enterprise_id, component_id, subject_name AS "Name", category, industry, region, chain_leader, round(score, 1) AS "Score",
       round(delta, 1) AS "Change", {SEV} AS "Severity", arrayStringConcat(flags, ', ') AS "Flags"
FROM findings WHERE detector = 'exposure' AND {LATEST} AND {SEL} ORDER BY score DESC LIMIT 25""")], "", TABLE, SEVCOLORS)
d.save("overview.json")

# ---------------- Single-source ----------------
d = Dash("chainwatch-single-source", "chainwatch · Single-source exposure",
         "Single-source pairs by category and a per-enterprise drill-down: exposures, explained score terms, suppliers and history.",
         ["industry", "region", "enterprise"])
d.row("Selection")
d.panel("barchart", "Single-source pairs by category", 12, 9, [ch(f"""
SELECT category, count() AS single_source, countIf(has(flags, 'foreign_control')) AS foreign_dominated
FROM findings WHERE detector = 'single_source' AND {LATEST} AND has(flags, 'single_source') AND {SEL}
GROUP BY category ORDER BY single_source DESC""")], "Enterprise × component pairs with one active qualified supplier (single_source detector).",
    {"orientation": "horizontal", "legend": {"displayMode": "list", "placement": "bottom"}}, {"defaults": {}, "overrides": colors(single_source="#1d4ed8", foreign_dominated="#b91c1c")})
d.panel("table", "Enterprises with the most single-source exposures", 12, 9, [ch(f"""
SELECT enterprise_id, any(industry) AS "Industry", any(region) AS "Region", max(chain_leader) AS "Chain leader",
       count() AS single_source_pairs, round(max(score), 1) AS max_score
FROM findings WHERE detector = 'single_source' AND {LATEST} AND has(flags, 'single_source') AND {SEL}
GROUP BY enterprise_id ORDER BY single_source_pairs DESC, max_score DESC LIMIT 20""")], "", TABLE)
d.row("Enterprise $enterprise")
d.panel("stat", "Enterprise summary", 24, 4, [ch("""
SELECT count() AS exposures, countIf(has(flags, 'single_source')) AS single_source, countIf(score >= 80) AS critical,
       round(max(score), 1) AS max_score, max(chain_leader) AS chain_leader
FROM findings WHERE detector = 'exposure' AND """ + LATEST + """ AND enterprise_id = ${enterprise:singlequote}""")], "",
    {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "none", "textMode": "value_and_name"})
d.panel("table", "Exposures of the enterprise", 24, 9, [ch("""
SELECT component_id, subject_name AS "Name", category, round(score, 1) AS "Score", round(delta, 1) AS "Change",
       arrayStringConcat(flags, ', ') AS "Flags", tts_days, ttr_days, arrayStringConcat(products, ', ') AS "Products"
FROM findings WHERE detector = 'exposure' AND """ + LATEST + """ AND enterprise_id = ${enterprise:singlequote} ORDER BY score DESC""")],
    "TTS: days the enterprise can keep producing on its stock; TTR: days to qualify an alternate.", TABLE, SEVCOLORS)
d.panel("barchart", "What drives the score (sum of term contributions)", 12, 9, [ch("""
SELECT term, round(sum(contribution), 1) AS points
FROM findings ARRAY JOIN term_names AS term, term_contributions AS contribution
WHERE detector = 'exposure' AND """ + LATEST + """ AND enterprise_id = ${enterprise:singlequote}
GROUP BY term ORDER BY points DESC""")], "Score points contributed by each explained term, over the enterprise's exposures.",
    {"orientation": "horizontal", "legend": {"showLegend": False}})
d.panel("table", "Suppliers of the enterprise", 12, 9, [ch("""
SELECT component_id, supplier_id, supplier, country, round(share * 100, 1) AS share_pct, qualification
FROM (SELECT component_id, supplier_id, share, qualification FROM supply_links FINAL
      WHERE link_type = 'supplies' AND enterprise_id = ${enterprise:singlequote}) AS l
ANY LEFT JOIN (SELECT node_id AS supplier_id, argMax(name, as_of) AS supplier, argMax(country, as_of) AS country
               FROM supply_nodes WHERE node_type = 'supplier' GROUP BY node_id) AS s USING supplier_id
ORDER BY component_id, share_pct DESC""")], "", TABLE)
d.panel("timeseries", "Exposure score history", 24, 9, [ch("""
SELECT toStartOfDay(computed_at) AS time, component_id, max(score) AS score
FROM findings WHERE detector = 'exposure' AND enterprise_id = ${enterprise:singlequote} AND $__timeFilter(computed_at)
  AND run_id IN (""" + DAILY_RUNS % 'exposure' + """)
GROUP BY time, component_id ORDER BY time""", "time")], "Daily snapshot of each component's exposure score.",
    {"legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "max"]}}, {"defaults": {"min": 0, "max": 100}, "overrides": []})
d.save("single-source.json")

# ---------------- Chokepoints ----------------
d = Dash("chainwatch-chokepoints", "chainwatch · Chokepoints (卡点)",
         "World production concentration, import concentration, the 卡点 list status and dependency-rule hits.",
         ["industry", "region"])
d.row("Concentration")
d.panel("table", "World production concentration (latest year)", 12, 9, [ch("""
SELECT commodity, argMax(country, q) AS top_country, round(100 * max(q) / sum(q), 1) AS top_share_pct,
       round(sum(q * q) / (sum(q) * sum(q)), 3) AS hhi, count() AS countries
FROM (SELECT commodity, country, sum(assumeNotNull(quantity)) AS q FROM production_stats FINAL
      WHERE isNotNull(quantity) AND year = (SELECT max(year) FROM production_stats) GROUP BY commodity, country)
GROUP BY commodity ORDER BY top_share_pct DESC""")], "USGS-style production statistics: the leading country's share and the Herfindahl index over countries.",
    TABLE, {"defaults": {}, "overrides": [{"matcher": {"id": "byName", "options": "top_share_pct"}, "properties": [
        {"id": "custom.cellOptions", "value": {"type": "gauge", "mode": "basic"}}, {"id": "max", "value": 100}, {"id": "min", "value": 0}]}]})
d.panel("table", "Import concentration by HS code (latest year)", 12, 9, [ch("""
SELECT hs_code, argMax(partner, v) AS top_partner, round(100 * max(v) / sum(v), 1) AS top_share_pct,
       round(sum(v * v) / (sum(v) * sum(v)), 3) AS import_hhi, round(sum(v) / 1000000) AS imports_musd
FROM (SELECT hs_code, if(any(partner_iso3) = '', toString(partner_m49), any(partner_iso3)) AS partner, sum(value_usd) AS v
      FROM trade_flows FINAL WHERE flow = 'M' AND partner_m49 != 0 AND year = (SELECT max(year) FROM trade_flows WHERE flow = 'M')
      GROUP BY hs_code, partner_m49)
GROUP BY hs_code ORDER BY top_share_pct DESC""")], "Reported imports by partner (M49 code where no ISO3, e.g. 490 'Other Asia, nes').", TABLE)
d.row("卡点 list")
d.panel("table", "卡点 list status", 24, 9, [ch(f"""
SELECT subject AS "Component", subject_name AS "Name", category AS "Category", round(score, 1) AS "Score",
       round(delta, 1) AS "Change vs previous run",
       multiIf(delta >= 5, 'escalating', score >= 80, 'critical', delta <= -5, 'improving', score >= 60, 'watch', 'stable') AS "Status",
       arrayStringConcat(flags, ', ') AS "Flags"
FROM findings WHERE detector = 'chokepoint' AND {LATEST} AND subject_type = 'component' AND has(flags, 'chokepoint_list')
  AND component_id IN ({SCOPE_COMPS})
ORDER BY score DESC""")], "Components on the configured 卡点 list (detectors.chokepoint.list or supply_nodes.chokepoint) used by enterprises in the selection.",
    TABLE, SEVCOLORS)
d.panel("table", "Dependency-rule hits", 12, 9, [ch(f"""
SELECT subject_type, subject, subject_name AS "Name", category, round(score, 1) AS "Score", arrayStringConcat(flags, ', ') AS "Flags"
FROM findings WHERE detector = 'chokepoint' AND {LATEST} AND has(flags, 'dependency_rule') ORDER BY score DESC""")],
    "CEPII-style rule: concentrated imports of a product whose world exports are concentrated too.", TABLE, SEVCOLORS)
d.panel("bargauge", "Top chokepoints (latest run)", 12, 9, [ch(f"""
SELECT if(subject_name = '', subject, subject_name) AS "Chokepoint", round(score, 1) AS "Score"
FROM findings WHERE detector = 'chokepoint' AND {LATEST} ORDER BY score DESC LIMIT 10""")], "",
    {"orientation": "horizontal", "displayMode": "gradient", "reduceOptions": {"values": True, "calcs": [], "fields": ""}},
    {"defaults": {"min": 0, "max": 100, **SEVCOLORS["defaults"]}, "overrides": []})
d.panel("timeseries", "Chokepoint scores over time (current top 5)", 24, 9, [ch("""
SELECT toStartOfDay(computed_at) AS time, subject, max(score) AS score
FROM findings WHERE detector = 'chokepoint' AND $__timeFilter(computed_at)
  AND run_id IN (""" + DAILY_RUNS % 'chokepoint' + """)
  AND subject IN (SELECT subject FROM findings WHERE detector = 'chokepoint' AND """ + LATEST + """ ORDER BY score DESC LIMIT 5)
GROUP BY time, subject ORDER BY time""", "time")], "", {"legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull"]}},
    {"defaults": {"min": 0, "max": 100}, "overrides": []})
d.save("chokepoints.json")

# ---------------- Pipeline health ----------------
d = Dash("chainwatch-pipeline", "chainwatch · Pipeline health",
         "Collectors, the Kafka → ClickHouse sink, rejects, data freshness, detector runs and notifications.", [])
d.row("Prometheus")
d.panel("timeseries", "Rows stored per second by table", 12, 8, [prom("sum by (table) (rate(chainwatch_sink_rows_inserted_total[5m]))", "{{table}}")])
d.panel("timeseries", "Consumer lag by topic", 12, 8, [prom("sum by (topic) (chainwatch_sink_consumer_lag_records)", "{{topic}}")])
d.panel("timeseries", "Sink rejects per second by reason", 12, 8, [prom("sum by (reason) (rate(chainwatch_sink_rejected_total[5m]))", "{{reason}}")])
d.panel("timeseries", "Collector runs by result", 12, 8, [prom("sum by (collector, result) (increase(chainwatch_collector_runs_total[1h]))", "{{collector}} {{result}}")])
d.panel("table", "Hours since each collector's last success", 12, 8, [prom("(time() - chainwatch_collector_last_success_timestamp_seconds) / 3600", "{{collector}}")],
        "", {"showHeader": True}, {"defaults": {"unit": "h", "decimals": 1}, "overrides": []})
d.panel("timeseries", "Notification failures per second", 12, 8, [prom("sum by (integration, reason) (rate(chainwatch_notifications_failed_total[5m]))", "{{integration}} {{reason}}"),
                                                                  prom("histogram_quantile(0.95, sum by (le, integration) (rate(chainwatch_notification_latency_seconds_bucket[5m])))", "p95 latency {{integration}}", "B")])
d.row("ClickHouse")
d.panel("timeseries", "Rejected records per day by reason", 12, 8, [ch("""
SELECT toStartOfDay(received_at) AS time, reason, count() AS rejected
FROM rejected FINAL WHERE $__timeFilter(received_at) GROUP BY time, reason ORDER BY time""", "time")], "From the rejected table (collector and sink rejects).",
    {"drawStyle": "bars", "legend": {"displayMode": "list", "placement": "bottom"}}, {"defaults": {"custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}, "fillOpacity": 80}}, "overrides": []})
d.panel("table", "Rejected records by source", 12, 8, [ch("""
SELECT stage, source, kind, reason, count() AS records, max(received_at) AS last_seen, any(detail) AS example
FROM rejected FINAL WHERE $__timeFilter(received_at) GROUP BY stage, source, kind, reason ORDER BY records DESC""")], "", TABLE)
FRESH = " UNION ALL ".join(
    f"SELECT '{t}' AS tbl, source, max(ingested_at) AS last, count() AS n FROM {t} GROUP BY source"
    for t in ["trade_flows", "production_stats", "procurement_awards", "component_availability", "supply_nodes", "supply_links", "substitutions"])
d.panel("table", "Data freshness by table and source", 12, 9, [ch(f"""
SELECT tbl AS table, source, last AS last_ingested, round((toUInt32($__toTime) - toUInt32(last)) / 3600, 1) AS age_hours, n AS rows
FROM ({FRESH}) ORDER BY age_hours DESC""")], "Newest ingested row per event table and source, and its age at the end of the time range.",
    TABLE, {"defaults": {}, "overrides": [{"matcher": {"id": "byName", "options": "age_hours"}, "properties": [
        {"id": "thresholds", "value": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "#ea580c", "value": 72}, {"color": "#b91c1c", "value": 840}]}},
        {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}]})
d.panel("timeseries", "Rows ingested per day by table", 12, 9, [ch("SELECT time, tbl, sum(n) AS rows FROM (" + " UNION ALL ".join(
    f"SELECT toStartOfDay(ingested_at) AS time, '{t}' AS tbl, count() AS n FROM {t} WHERE $__timeFilter(ingested_at) GROUP BY time"
    for t in ["trade_flows", "production_stats", "procurement_awards", "component_availability", "supply_nodes", "supply_links", "substitutions"])
    + ") GROUP BY time, tbl ORDER BY time", "time")], "", {"legend": {"displayMode": "list", "placement": "bottom"}},
    {"defaults": {"custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}, "fillOpacity": 80}}, "overrides": []})
d.panel("table", "Detector runs", 24, 7, [ch("""
SELECT detector, countIf(status = 'ok') AS ok_runs, countIf(status != 'ok') AS failed_runs, maxIf(finished_at, status = 'ok') AS last_ok,
       argMax(findings, if(status = 'ok', run_id, '')) AS last_findings, argMax(error, run_id) AS last_error
FROM detector_runs WHERE $__timeFilter(started_at) GROUP BY detector ORDER BY detector""")], "", TABLE)
d.save("pipeline.json")

# ---------------- Chain map (Node Graph) ----------------
# Nodes: id, title, subtitle, mainstat, color; edges: id, source, target (Grafana's Node Graph panel
# takes the frame with source/target as edges). supplier → component → enterprise in the selected
# industries and regions; mainstat is the largest latest exposure score through the node.
EXPOSURE_LATEST = f"detector = 'exposure' AND {LATEST}"
SEVHEX = "multiIf(s >= 80, '#b91c1c', s >= 60, '#ea580c', s >= 40, '#ca8a04', s > 0, '#65a30d', '#94a3b8')"
SUPPLIES = ("SELECT supplier_id, enterprise_id, component_id FROM supply_links FINAL WHERE link_type = 'supplies' "
            "AND qualification != 'disqualified' AND enterprise_id IN (" + SCOPE_ENTS + ")")
d = Dash("chainwatch-chain-map", "chainwatch · Chain map (产业链图谱)",
         "Supplier → component → enterprise graph of the selected industries and regions, coloured by the latest exposure. "
         "The per-chain map with links, regions and gaps is GET /api/v1/chains/{id}/map (docs/api.md).",
         ["industry", "region"])
d.panel("nodegraph", "Supply graph: supplier → component → enterprise", 24, 20, [ch(f"""
SELECT node_id AS id, name AS title, concat('enterprise · ', region) AS subtitle, round(s, 1) AS mainstat, {SEVHEX} AS color
FROM (SELECT node_id, name, region FROM supply_nodes FINAL WHERE node_type = 'enterprise' AND {SEL}) AS ent
ANY LEFT JOIN (SELECT enterprise_id AS node_id, max(score) AS s FROM findings WHERE {EXPOSURE_LATEST} GROUP BY enterprise_id) AS ent_x USING node_id
UNION ALL
SELECT node_id AS id, name AS title, concat('component · ', category) AS subtitle, round(s, 1) AS mainstat, {SEVHEX} AS color
FROM (SELECT node_id, name, category FROM supply_nodes FINAL WHERE node_type = 'component' AND node_id IN (SELECT component_id FROM ({SUPPLIES}))) AS comp
ANY LEFT JOIN (SELECT component_id AS node_id, max(score) AS s FROM findings WHERE {EXPOSURE_LATEST}
               AND enterprise_id IN ({SCOPE_ENTS}) GROUP BY component_id) AS comp_x USING node_id
UNION ALL
SELECT node_id AS id, name AS title, concat('supplier · ', country, if(domestic = 1, ' 国内', '')) AS subtitle, round(s, 1) AS mainstat, {SEVHEX} AS color
FROM (SELECT node_id, name, country, domestic FROM supply_nodes FINAL WHERE node_type = 'supplier' AND node_id IN (SELECT supplier_id FROM ({SUPPLIES}))) AS sup
ANY LEFT JOIN (SELECT supplier_id AS node_id, max(fs) AS s
               FROM (SELECT supplier_id, enterprise_id, component_id FROM supply_links FINAL WHERE link_type = 'supplies' AND share > 0 AND qualification = 'qualified') AS sl
               ANY INNER JOIN (SELECT enterprise_id, component_id, max(score) AS fs FROM findings WHERE {EXPOSURE_LATEST} GROUP BY enterprise_id, component_id) AS pair_x
               USING (enterprise_id, component_id) GROUP BY supplier_id) AS sup_x USING node_id""", ref="nodes"),
    ch(f"""
SELECT concat(supplier_id, '>', component_id) AS id, supplier_id AS source, component_id AS target
FROM ({SUPPLIES}) GROUP BY supplier_id, component_id
UNION ALL
SELECT concat(component_id, '>', enterprise_id) AS id, component_id AS source, enterprise_id AS target
FROM ({SUPPLIES}) GROUP BY component_id, enterprise_id""", ref="edges")],
    "Nodes: enterprises in scope, the components they buy and their suppliers; mainstat = the largest latest exposure score "
    "(enterprise: its pairs; component: the in-scope pairs; supplier: the pairs it supplies, qualified with share > 0); "
    "colour by severity (grey: no finding). Edges: supplier → component → enterprise.",
    {"nodes": {"mainStatUnit": "none"}, "edges": {}})
d.save("chainmap.json")
print("ok")
