package detectors

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/internal/chstore"
)

// A run's findings are stored in one of two ways (detector_runs.base_run_id, migration 0009):
//
//   - A full run (base_run_id = '') writes every finding of the run under its run_id.
//   - A delta run names the full run it builds on (its base) and writes only what changed since
//     the detector's previous run: the new and changed findings, and a row with removed = 1 (a
//     tombstone) for each subject that is gone. Its unchanged findings are the rows already stored
//     by the base and the delta runs between the base and it, which nothing copies.
//
// The findings of a run R are therefore, per subject, the newest row (highest run_id) among the
// rows of R's chain: its base and the successful delta runs on that base up to R, unless that
// newest row is a tombstone. A row of an earlier run of the chain is read as the copy of a carried
// finding was stored before delta runs: with R's run_id and computed_at, prev_score = its score and
// delta = 0 (unchanged since the previous run), and R's window where the row had its own run's
// window. Failed runs and runs without a detector_runs row are in no chain, so their rows are
// never read, as before.
//
// RunFindingsSQL is that reading, as one SELECT on ClickHouse 18.16 and current releases; every
// reader of findings goes through it (LatestFindingsTable, RunsFindingsTable, and the
// findings_latest view of migration 0009, which is LatestFindingsTable(zero time)).

// RunFindingsSQL returns a SELECT of the findings (FindingColumns, in that order) of the runs that
// targets selects: a SELECT of (detector, run_id) pairs, at most one run per detector. Targets that
// are not successful runs select nothing.
func RunFindingsSQL(targets string) string {
	tgt := "SELECT DISTINCT detector, run_id AS t_run, if(base_run_id = '', run_id, base_run_id) AS t_base, computed_at AS t_computed, " +
		"window_from AS t_wf, window_to AS t_wt FROM detector_runs WHERE status = 'ok' AND (detector, run_id) IN (" + targets + ")"
	chain := "SELECT DISTINCT detector, run_id, window_from AS own_wf, window_to AS own_wt, t_run, t_base, t_computed, t_wf, t_wt " +
		"FROM detector_runs ALL INNER JOIN (" + tgt + ") AS t USING (detector) " +
		"WHERE status = 'ok' AND run_id <= t_run AND (run_id = t_base OR base_run_id = t_base)"
	keys := "SELECT detector, run_id FROM (" + chain + ")"
	// A subject's newest row is the base's unless a delta run of the chain wrote it, and then the
	// newest of the deltas' (their run ids follow the base's): the sets to look rows up in hold the
	// subjects the deltas wrote, a few thousand a run, not every subject of the run.
	deltas := "SELECT detector, run_id FROM (" + chain + ") WHERE run_id != t_base"
	touched := "SELECT detector, subject_type, subject FROM findings WHERE (detector, run_id) IN (" + deltas + ")"
	newest := "SELECT detector, subject_type, subject, max(run_id) FROM findings WHERE (detector, run_id) IN (" + deltas +
		") GROUP BY detector, subject_type, subject"
	inner := make([]string, len(FindingColumns))
	outer := make([]string, len(FindingColumns))
	for i, col := range FindingColumns {
		// The expressions' aliases differ from the column names: a column-named alias would be what
		// the WHERE clause reads.
		expr := ""
		switch col {
		case "run_id":
			expr = "t_run"
		case "computed_at":
			expr = "if(run_id = t_run, computed_at, t_computed)"
		case "prev_score":
			expr = "if(run_id = t_run, prev_score, toNullable(score))"
		case "delta":
			expr = "if(run_id = t_run, delta, toFloat64(0))"
		case "window_from", "window_to":
			expr = "if(run_id = t_run OR window_from != own_wf OR window_to != own_wt, " + col + ", t_" + map[string]string{"window_from": "wf", "window_to": "wt"}[col] + ")"
		}
		if expr == "" {
			inner[i], outer[i] = col, col
			continue
		}
		inner[i], outer[i] = expr+" AS x_"+col, "x_"+col+" AS "+col
	}
	return "SELECT " + strings.Join(outer, ", ") + " FROM (SELECT " + strings.Join(inner, ", ") +
		" FROM findings ALL INNER JOIN (" + chain + ") AS c USING (detector, run_id)" +
		" WHERE (detector, run_id) IN (" + keys + ") AND removed = 0 AND (run_id = t_base AND (detector, subject_type, subject) NOT IN (" +
		touched + ") OR run_id != t_base AND (detector, subject_type, subject, run_id) IN (" + newest + ")))"
}

// LatestRunsSQL selects (detector, run_id) of the newest successful run of each detector (run ids
// sort by time), finished at or before asOf (zero: the newest); of the named detectors only, if
// any are named.
func LatestRunsSQL(asOf time.Time, detectors ...string) string {
	w := ""
	if !asOf.IsZero() {
		w = " AND finished_at <= toDateTime(" + strconv.FormatInt(asOf.Unix(), 10) + ")"
	}
	if len(detectors) > 0 {
		q := make([]string, len(detectors))
		for i, d := range detectors {
			q[i] = chstore.Quote(d)
		}
		w += " AND detector IN (" + strings.Join(q, ", ") + ")"
	}
	return "SELECT detector, max(run_id) FROM detector_runs WHERE status = 'ok'" + w + " GROUP BY detector"
}

// LatestFindingsTable is the findings of the newest successful run of each detector finished at
// or before asOf (zero: the newest), as a parenthesized subquery to read FROM; of the named
// detectors only, if any are named (a reader that wants some detectors names them here: ClickHouse
// 18.16 does not push a condition on the subquery's rows into it, and every detector's chain would
// be read). A failed or half-written run is never read. Every reader of the latest findings (this
// package, the API, the exposure metrics, the chain map) uses this one definition of "latest";
// with a zero asOf and no detectors it is the findings_latest view the dashboards read (migration
// 0009, TestFindingsLatestView).
func LatestFindingsTable(asOf time.Time, detectors ...string) string {
	return "(" + RunFindingsSQL(LatestRunsSQL(asOf, detectors...)) + ")"
}

// RunsFindingsTable is the findings of the named runs of one detector (empty and repeated ids
// are left out; none: no rows), each run with its own run_id, as a parenthesized subquery to read
// FROM.
func RunsFindingsTable(detector string, runIDs ...string) string {
	var parts []string
	for i, id := range runIDs {
		if id == "" || slices.Contains(runIDs[:i], id) {
			continue
		}
		parts = append(parts, "SELECT * FROM ("+RunFindingsSQL("SELECT "+chstore.Quote(detector)+", "+chstore.Quote(id))+")")
	}
	if len(parts) == 0 {
		return "(" + RunFindingsSQL("SELECT '', ''") + ")"
	}
	return "(" + strings.Join(parts, " UNION ALL ") + ")"
}
