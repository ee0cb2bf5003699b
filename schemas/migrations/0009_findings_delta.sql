-- chainwatch 0009: delta runs of the detectors (issue #15; detectors/store_runs.go).
-- A run now either writes all its findings (a full run, base_run_id = '') or, building on a full
-- run (its base), only the findings new or changed since the detector's previous run plus one row
-- with removed = 1 for each subject that is gone; its unchanged findings stay the rows the base and
-- the delta runs before it wrote, which are no longer copied. Old runs are full runs (the defaults).
-- detector_runs.computed_at is the run's computed_at, which a delta run's carried findings take.
-- Runs on ClickHouse 18.16 and on current ClickHouse.
ALTER TABLE findings
    ADD COLUMN removed UInt8 DEFAULT 0;

ALTER TABLE detector_runs
    ADD COLUMN base_run_id String DEFAULT '',
    ADD COLUMN computed_at DateTime DEFAULT started_at;

-- findings_latest: the findings of the newest successful run of each detector, read through its
-- chain (detectors.LatestFindingsTable with no as-of time; TestFindingsLatestView holds the two
-- equal). The dashboards read it; rows with removed = 1 never appear in it.
CREATE VIEW IF NOT EXISTS findings_latest AS
    SELECT x_run_id AS run_id, x_computed_at AS computed_at, detector, subject_type, subject,
    subject_name, enterprise_id, component_id, category, industry, region, chain_leader, score,
    x_prev_score AS prev_score, x_delta AS delta, flags, term_names, term_values, term_norms,
    term_weights, term_contributions, term_shares, term_details, tts_days, ttr_days,
    alternates_json, products, x_window_from AS window_from, x_window_to AS window_to FROM (SELECT
    t_run AS x_run_id, if(run_id = t_run, computed_at, t_computed) AS x_computed_at, detector,
    subject_type, subject, subject_name, enterprise_id, component_id, category, industry, region,
    chain_leader, score, if(run_id = t_run, prev_score, toNullable(score)) AS x_prev_score,
    if(run_id = t_run, delta, toFloat64(0)) AS x_delta, flags, term_names, term_values, term_norms,
    term_weights, term_contributions, term_shares, term_details, tts_days, ttr_days,
    alternates_json, products, if(run_id = t_run OR window_from != own_wf OR window_to != own_wt,
    window_from, t_wf) AS x_window_from, if(run_id = t_run OR window_from != own_wf OR window_to !=
    own_wt, window_to, t_wt) AS x_window_to FROM findings ALL INNER JOIN (SELECT DISTINCT detector,
    run_id, window_from AS own_wf, window_to AS own_wt, t_run, t_base, t_computed, t_wf, t_wt FROM
    detector_runs ALL INNER JOIN (SELECT DISTINCT detector, run_id AS t_run, if(base_run_id = '',
    run_id, base_run_id) AS t_base, computed_at AS t_computed, window_from AS t_wf, window_to AS
    t_wt FROM detector_runs WHERE status = 'ok' AND (detector, run_id) IN (SELECT detector,
    max(run_id) FROM detector_runs WHERE status = 'ok' GROUP BY detector)) AS t USING (detector)
    WHERE status = 'ok' AND run_id <= t_run AND (run_id = t_base OR base_run_id = t_base)) AS c
    USING (detector, run_id) WHERE (detector, run_id) IN (SELECT detector, run_id FROM (SELECT
    DISTINCT detector, run_id, window_from AS own_wf, window_to AS own_wt, t_run, t_base,
    t_computed, t_wf, t_wt FROM detector_runs ALL INNER JOIN (SELECT DISTINCT detector, run_id AS
    t_run, if(base_run_id = '', run_id, base_run_id) AS t_base, computed_at AS t_computed,
    window_from AS t_wf, window_to AS t_wt FROM detector_runs WHERE status = 'ok' AND (detector,
    run_id) IN (SELECT detector, max(run_id) FROM detector_runs WHERE status = 'ok' GROUP BY
    detector)) AS t USING (detector) WHERE status = 'ok' AND run_id <= t_run AND (run_id = t_base OR
    base_run_id = t_base))) AND removed = 0 AND (run_id = t_base AND (detector, subject_type,
    subject) NOT IN (SELECT detector, subject_type, subject FROM findings WHERE (detector, run_id)
    IN (SELECT detector, run_id FROM (SELECT DISTINCT detector, run_id, window_from AS own_wf,
    window_to AS own_wt, t_run, t_base, t_computed, t_wf, t_wt FROM detector_runs ALL INNER JOIN
    (SELECT DISTINCT detector, run_id AS t_run, if(base_run_id = '', run_id, base_run_id) AS t_base,
    computed_at AS t_computed, window_from AS t_wf, window_to AS t_wt FROM detector_runs WHERE
    status = 'ok' AND (detector, run_id) IN (SELECT detector, max(run_id) FROM detector_runs WHERE
    status = 'ok' GROUP BY detector)) AS t USING (detector) WHERE status = 'ok' AND run_id <= t_run
    AND (run_id = t_base OR base_run_id = t_base)) WHERE run_id != t_base)) OR run_id != t_base AND
    (detector, subject_type, subject, run_id) IN (SELECT detector, subject_type, subject,
    max(run_id) FROM findings WHERE (detector, run_id) IN (SELECT detector, run_id FROM (SELECT
    DISTINCT detector, run_id, window_from AS own_wf, window_to AS own_wt, t_run, t_base,
    t_computed, t_wf, t_wt FROM detector_runs ALL INNER JOIN (SELECT DISTINCT detector, run_id AS
    t_run, if(base_run_id = '', run_id, base_run_id) AS t_base, computed_at AS t_computed,
    window_from AS t_wf, window_to AS t_wt FROM detector_runs WHERE status = 'ok' AND (detector,
    run_id) IN (SELECT detector, max(run_id) FROM detector_runs WHERE status = 'ok' GROUP BY
    detector)) AS t USING (detector) WHERE status = 'ok' AND run_id <= t_run AND (run_id = t_base OR
    base_run_id = t_base)) WHERE run_id != t_base) GROUP BY detector, subject_type, subject)));
