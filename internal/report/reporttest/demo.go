// Package reporttest builds chainwatch's demo data set for tests, the Grafana dashboard checks and the
// example digest: a small supply map of three industrial chains, real USGS MCS 2024 production
// shares, trade, procurement, availability and reject rows, and five weeks of daily detector runs
// (findings) whose scores rise and fall in a scripted way, plus alert events when the alerts table
// exists. Insert loads it into a real ClickHouse through PrepareBatch; Statements renders it as
// INSERT ... VALUES for chdb.
package reporttest

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/schemas"
)

// Anchor is the demo's "now": Monday 2026-11-23 14:00 in Asia/Shanghai. The last complete ISO week
// is 2026-W47 (Mon 16 – Sun 22 November 2026).
var Anchor = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

// Report week of the demo.
const (
	Year = 2026
	Week = 47
)

// Days of daily detector runs before Anchor.
const days = 36

// Row is one row by column name. Values are Go values of the natural type (string, float64, uint8,
// time.Time, *float64, []string, []float64); Insert converts them to the table's column types and
// leaves out columns the table does not have.
type Row map[string]any

// Dataset is the demo data by table, in insert order.
type Dataset struct {
	Tables []string
	Rows   map[string][]Row
}

func (d *Dataset) add(table string, r Row) {
	if _, ok := d.Rows[table]; !ok {
		d.Tables = append(d.Tables, table)
	}
	d.Rows[table] = append(d.Rows[table], r)
}

// RepoRoot returns the repository root (from this file's location).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Demo builds the data set. It reads the USGS files under testdata/report/usgs_mcs2024.
func Demo() (*Dataset, error) {
	d := &Dataset{Rows: map[string][]Row{}}
	if err := d.events(); err != nil {
		return nil, err
	}
	d.findings()
	d.alertEvents()
	return d, nil
}

// ---- events ---------------------------------------------------------------------------------------

func (d *Dataset) event(source string, rec schemas.Record, ingested time.Time) error {
	env, err := schemas.NewEnvelope(source, rec, ingested)
	if err != nil {
		return fmt.Errorf("demo %s record: %w", rec.Kind(), err)
	}
	spec, _ := schemas.Lookup(rec.Kind())
	vals := rec.AppendValues(schemas.AppendEnvelope(nil, &env))
	cols := spec.AllColumns()
	r := Row{}
	for i, c := range cols {
		r[c] = vals[i]
	}
	d.add(spec.Table, r)
	return nil
}

func (d *Dataset) events() error {
	mapAt := Anchor.Add(-20 * 24 * time.Hour).Truncate(time.Hour)
	var errs []error
	ev := func(source string, rec schemas.Record, at time.Time) {
		if err := d.event(source, rec, at); err != nil {
			errs = append(errs, err)
		}
	}
	for _, e := range enterprises {
		ev("supply-map", &schemas.SupplyNode{NodeType: schemas.NodeEnterprise, NodeID: e.id, Name: e.name, Country: "CHN",
			Domestic: true, Region: e.region, Industry: e.industry, ChainLeader: e.leader, AsOf: mapAt}, mapAt)
	}
	for _, c := range components {
		ev("supply-map", &schemas.SupplyNode{NodeType: schemas.NodeComponent, NodeID: c.id, Name: c.name, Category: c.category,
			HSCode: c.hs, Chokepoint: c.list, AsOf: mapAt}, mapAt)
	}
	for _, s := range suppliers {
		ev("supply-map", &schemas.SupplyNode{NodeType: schemas.NodeSupplier, NodeID: s.id, Name: s.name, Country: s.country,
			Domestic: s.country == "CHN", AsOf: mapAt}, mapAt)
	}
	for _, p := range products {
		ev("supply-map", &schemas.SupplyNode{NodeType: schemas.NodeProduct, NodeID: p.id, Name: p.name, AsOf: mapAt}, mapAt)
		ev("supply-map", &schemas.SupplyLink{LinkType: schemas.LinkMakes, EnterpriseID: p.enterprise, ProductID: p.id, AsOf: mapAt}, mapAt)
		for _, c := range p.bom {
			ev("supply-map", &schemas.SupplyLink{LinkType: schemas.LinkBOM, ProductID: p.id, ComponentID: c, QtyPerUnit: 1, AsOf: mapAt}, mapAt)
		}
	}
	for _, s := range supplies {
		ev("supply-map", &schemas.SupplyLink{LinkType: schemas.LinkSupplies, EnterpriseID: s.ent, ComponentID: s.comp,
			SupplierID: s.sup, Share: s.share, Qualification: s.qual, AsOf: mapAt}, mapAt)
	}
	for _, p := range pairs {
		ev("supply-map", &schemas.SupplyLink{LinkType: schemas.LinkStocks, EnterpriseID: p.ent, ComponentID: p.comp,
			InventoryUnits: p.ttsDays * 100, ConsumptionPerDay: 100, AsOf: mapAt}, mapAt)
		if p.alt != "" {
			ev("substitution-list", &schemas.Substitution{ComponentID: p.comp, AltSupplierID: p.alt, EnterpriseID: p.ent,
				QualificationDays: p.altDays, Domestic: true, Country: "CHN", Notes: "domestic alternate in qualification", AsOf: mapAt}, mapAt)
		}
	}
	// USGS world production (real figures).
	prodAt := Anchor.Add(-30 * 24 * time.Hour).Truncate(time.Hour)
	for _, commodity := range slices.Sorted(maps.Keys(usgsFiles)) {
		stats, err := usgs(commodity)
		if err != nil {
			return err
		}
		for _, st := range stats {
			ev("usgs-mcs2024", st, prodAt)
		}
	}
	// UN Comtrade-style imports of China, three years; ingested two days before the anchor.
	tradeAt := Anchor.Add(-50 * time.Hour)
	for y, growth := range map[uint16]float64{2022: 0.92, 2023: 1, 2024: 1.07} {
		for _, t := range tradePartners {
			ev("comtrade-api", &schemas.TradeFlow{ReporterM49: 156, ReporterISO3: "CHN", PartnerM49: t.partner, PartnerISO3: t.iso3,
				Flow: "M", HSCode: t.hs, Classification: "H6", Year: y, ValueUSD: math.Round(t.usd * growth)}, tradeAt)
		}
		ev("comtrade-api", &schemas.TradeFlow{ReporterM49: 156, ReporterISO3: "CHN", PartnerM49: 0, Flow: "X", HSCode: "370790",
			Classification: "H6", Year: y, ValueUSD: math.Round(60e6 * growth)}, tradeAt)
	}
	// Procurement awards (OCDS); the feed last delivered five days before the anchor (stale).
	for i, a := range []struct{ buyer, sup, supName, country, item string }{
		{"GOV-JS-01", "SUP-JP-RES", "Tokyo Resist Materials KK", "JPN", "ArF photoresist, 200 L"},
		{"GOV-GD-02", "SUP-DE-MCU", "Rhein Automotive Semiconductors GmbH", "DEU", "Automotive MCU, 50k units"},
		{"GOV-SH-03", "SUP-DE-CNC", "Baden Machine Tools AG", "DEU", "5-axis machining centre"},
		{"GOV-JS-04", "SUP-CN-RES", "Xuzhou Photoresist Co.", "CHN", "KrF photoresist pilot lot"},
	} {
		at := Anchor.Add(-time.Duration(5*24+i*24*7) * time.Hour)
		v := float64(250000 * (i + 1))
		ev("ocds-demo", &schemas.ProcurementAward{OCID: fmt.Sprintf("ocds-demo-%04d", i+1), ReleaseID: fmt.Sprintf("r-%d", i+1),
			AwardID: fmt.Sprintf("a-%d", i+1), Status: "active", Date: at.Add(-72 * time.Hour), BuyerID: a.buyer,
			BuyerName: "Provincial procurement centre", SupplierIDs: []string{a.sup}, SupplierNames: []string{a.supName},
			SupplierCountries: []string{a.country}, ItemIDs: []string{"1"}, ItemDescriptions: []string{a.item},
			ItemSchemes: []string{"CPV"}, ItemCodes: []string{"31712000"}, Value: &v, Currency: "CNY"}, Anchor.Add(-5*24*time.Hour))
	}
	// Distributor availability: weekly snapshots; the MCU lead time jumps in the report week.
	for wk := 0; wk < 5; wk++ {
		asOf := Anchor.Add(-time.Duration(7*(4-wk)+1) * 24 * time.Hour).Truncate(24 * time.Hour)
		for _, p := range []struct {
			part, mfr, comp string
			lead            []float64
			stock           []int64
		}{
			{"RA-MCU-32A", "Rhein Automotive Semiconductors", "CMP-MCU", []float64{84, 84, 91, 98, 210}, []int64{52000, 50500, 47000, 31000, 4200}},
			{"PPL-FPGA-16", "Pacific Programmable Logic", "CMP-FPGA", []float64{140, 140, 150, 150, 196}, []int64{800, 760, 700, 640, 210}},
			{"KCC-MLCC-0603", "Kyoto Ceramic Capacitors", "CMP-MLCC", []float64{56, 56, 60, 63, 70}, []int64{2.1e6, 2.0e6, 1.7e6, 0.9e6, 0.3e6}},
		} {
			lead := p.lead[wk]
			price := 3.2 + float64(wk)*0.1
			ev("distributor-feed", &schemas.ComponentAvailability{PartNumber: p.part, Manufacturer: p.mfr, Distributor: "Demo Components Ltd",
				ComponentID: p.comp, Stock: p.stock[wk], LeadTimeDays: &lead, Lifecycle: schemas.LifecycleActive, Price: &price,
				Currency: "USD", AsOf: asOf}, asOf.Add(2*time.Hour))
		}
	}
	// Rejected records from collectors and the sink.
	for i, r := range []struct{ stage, source, kind, reason, detail string }{
		{schemas.StageCollect, "usgs-mcs2024", "production", "invalid", "quantity: missing without a flag saying why (\"Included in World total.\")"},
		{schemas.StageCollect, "comtrade-api", "trade", "invalid", "hs_code: \"85423\" is not a 2, 4 or 6 digit HS code"},
		{schemas.StageCollect, "distributor-feed", "availability", "unknown_lifecycle", "lifecycle: \"Not Recommended\" is not one of active, nrnd, last_time_buy, eol, obsolete"},
		{schemas.StageSink, "distributor-feed", "availability", "bad_payload", "stock: json: cannot unmarshal string into Go value of type int64"},
		{schemas.StageSink, "ocds-demo", "procurement", "bad_json", "invalid character '}' looking for beginning of object key string"},
	} {
		at := Anchor.Add(-time.Duration(1+i*3) * 24 * time.Hour)
		rej := schemas.Rejected{RejectID: fmt.Sprintf("demo-reject-%d", i+1), Stage: r.stage, Source: r.source, Kind: schemas.Kind(r.kind),
			Location: "demo", Reason: r.reason, Detail: r.detail, Raw: []byte(`{"demo":true}`), ReceivedAt: at}
		vals := rej.AppendValues(nil)
		row := Row{}
		for j, c := range schemas.RejectedColumns {
			row[c] = vals[j]
		}
		d.add(schemas.RejectedTable, row)
	}
	if len(errs) > 0 {
		return fmt.Errorf("demo events: %v", errs)
	}
	return nil
}

// usgs reads the 2023 estimates of one commodity's world file, skipping the world total, "Other
// countries" and cells without a number; footnote markers glued to names are removed.
func usgs(commodity string) ([]*schemas.ProductionStat, error) {
	path := filepath.Join(RepoRoot(), "testdata", "report", "usgs_mcs2024", usgsFiles[commodity])
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("demo: %s: empty", path)
	}
	head := recs[0]
	col, unit := -1, ""
	for i, h := range head {
		h = strings.TrimPrefix(h, "\ufeff")
		if strings.HasPrefix(h, "Prod_") && strings.HasSuffix(h, "_2023") {
			col = i
			unit = strings.Split(strings.TrimPrefix(h, "Prod_"), "_")[0]
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("demo: %s: no 2023 production column", path)
	}
	var out []*schemas.ProductionStat
	for _, rec := range recs[1:] {
		if len(rec) <= col || rec[0] != "MCS2024" {
			continue
		}
		name := cleanCountry(rec[1])
		iso, ok := usgsISO3[name]
		if !ok {
			continue // world total, other countries
		}
		q, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(rec[col]), ",", ""), 64)
		if err != nil || q <= 0 {
			continue
		}
		out = append(out, &schemas.ProductionStat{Commodity: commodity, Country: name, CountryISO3: iso, Stage: "mine",
			Year: 2023, Quantity: &q, Unit: unit, Estimated: true, Note: "USGS MCS 2024"})
	}
	return out, nil
}

func cleanCountry(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", " "))
	s = strings.TrimRight(s, "0123456789")
	if _, ok := usgsISO3[s]; !ok && strings.HasSuffix(s, "e") {
		if _, ok := usgsISO3[strings.TrimSuffix(s, "e")]; ok {
			return strings.TrimSuffix(s, "e")
		}
	}
	return s
}

// ---- findings -------------------------------------------------------------------------------------

// RunTimes returns the computed_at of the demo's daily runs (18:00 UTC = 02:00 Asia/Shanghai), oldest first.
func RunTimes() []time.Time {
	last := time.Date(Anchor.Year(), Anchor.Month(), Anchor.Day()-1, 18, 0, 0, 0, time.UTC)
	out := make([]time.Time, days)
	for i := range out {
		out[i] = last.Add(-time.Duration(days-1-i) * 24 * time.Hour)
	}
	return out
}

// Week boundaries of the demo report week, in Asia/Shanghai.
var (
	shanghai  = time.FixedZone("CST", 8*3600)
	weekStart = time.Date(2026, 11, 16, 0, 0, 0, 0, shanghai)
	weekEnd   = weekStart.Add(7 * 24 * time.Hour)
)

// scoreAt interpolates a scripted score: s0 at the first run, s1 at the end of the previous week,
// s2 at the end of the report week, s2 afterwards.
func scoreAt(t time.Time, s0, s1, s2 float64) float64 {
	first := RunTimes()[0]
	switch {
	case t.Before(weekStart):
		span := weekStart.Sub(first).Hours()
		return s0 + (s1-s0)*t.Sub(first).Hours()/span
	case t.Before(weekEnd):
		return s1 + (s2-s1)*t.Sub(weekStart).Hours()/(7*24)
	default:
		return s2
	}
}

// exposure terms and weights (the defaults of detectors.exposure.weights).
var exposureTerms = []struct {
	name string
	w    float64
}{{"supplier_hhi", 2}, {"single_source", 1}, {"country_hhi", 1}, {"foreign_share", 1}, {"no_alternate", 1},
	{"tts_gap", 2}, {"chokepoint", 2}, {"availability", 1}}

var chokeTerms = []struct {
	name string
	w    float64
}{{"world_hhi", 2}, {"import_hhi", 2}, {"import_reliance", 1}, {"dependency", 2}, {"supply_risk", 1},
	{"reach", 1}, {"betweenness", 1}, {"foreign_control", 2}}

// terms builds explained terms whose composite is exactly score (when reachable): the terms of
// raised flags are pinned at 1, the terms of flags not raised are capped at 0.7, and the others
// scale together (bisection on a common factor).
func terms(defs []struct {
	name string
	w    float64
}, score float64, flagged map[string]bool) []detectors.Term {
	sumW := 0.0
	for _, d := range defs {
		sumW += d.w
	}
	norms := func(x float64) []float64 {
		out := make([]float64, len(defs))
		for i, d := range defs {
			on, special := flagged[d.name]
			switch {
			case special && on:
				out[i] = 1
			case special:
				out[i] = math.Min(0.7, math.Max(0, 0.5*x))
			default:
				out[i] = math.Min(1, math.Max(0, x*(0.7+0.1*float64(i%4))))
			}
		}
		return out
	}
	total := func(x float64) float64 {
		s := 0.0
		for i, n := range norms(x) {
			s += defs[i].w * n
		}
		return 100 * s / sumW
	}
	lo, hi := 0.0, 2.0
	for k := 0; k < 60; k++ {
		mid := (lo + hi) / 2
		if total(mid) < score {
			lo = mid
		} else {
			hi = mid
		}
	}
	ns := norms(hi)
	out := make([]detectors.Term, len(defs))
	sum := 0.0
	for i, d := range defs {
		c := 100 * d.w * ns[i] / sumW
		out[i] = detectors.Term{Name: d.name, Value: round(ns[i], 4), Norm: round(ns[i], 4), Weight: d.w, Contribution: round(c, 3)}
		sum += c
	}
	for i := range out {
		if sum > 0 {
			out[i].Share = round(100*defs[i].w*ns[i]/sumW/sum, 4)
		}
	}
	return out
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// composite is the score of ts (the sum of the contributions, 2 places) and the previous run's score
// of key (nil in the first run); prev is updated to this run.
func composite(ts []detectors.Term, prev map[string]float64, key string) (float64, *float64) {
	score := 0.0
	for _, t := range ts {
		score += t.Contribution
	}
	score = round(score, 2)
	var prevScore *float64
	if v, ok := prev[key]; ok {
		prevScore = ptr(v)
	}
	prev[key] = score
	return score, prevScore
}

func (d *Dataset) findings() {
	ents := map[string]enterprise{}
	for _, e := range enterprises {
		ents[e.id] = e
	}
	comps := map[string]component{}
	for _, c := range components {
		comps[c.id] = c
	}
	prods := map[string][]string{} // enterprise|component → products
	for _, p := range products {
		for _, c := range p.bom {
			k := p.enterprise + "|" + c
			prods[k] = append(prods[k], p.id)
		}
	}
	prev := map[string]float64{}
	for _, at := range RunTimes() {
		runID := RunID(at)
		wFrom := at.AddDate(-3, 0, 0)
		n0 := len(d.Rows["findings"])
		for _, p := range pairs {
			if p.newInWeek && at.Before(weekStart) {
				continue
			}
			e, c := ents[p.ent], comps[p.comp]
			subject := p.ent + "|" + p.comp
			for _, det := range []string{"exposure", "single_source"} {
				target := scoreAt(at, p.s0, p.s1, p.s2)
				if p.newInWeek {
					target = p.s2
				}
				if det == "single_source" {
					target = math.Max(5, target-6)
				}
				ts := terms(exposureTerms, target, map[string]bool{"single_source": has(p.flags, "single_source"),
					"no_alternate": has(p.flags, "no_alternate"), "chokepoint": has(p.flags, "chokepoint_list")})
				score, prevScore := composite(ts, prev, det+"/"+subject)
				tts := p.ttsDays
				ttr := c.ttr
				if p.alt != "" {
					ttr = math.Min(ttr, p.altDays)
				}
				var alts []detectors.Alternate
				if p.alt != "" {
					alts = append(alts, detectors.Alternate{SupplierID: p.alt, Country: "CHN", Domestic: true,
						QualificationDays: p.altDays, HHIAfter: 0.5, Origin: "substitution", Notes: "domestic alternate in qualification"})
				}
				flags := p.flags
				if det == "single_source" {
					flags = filter(p.flags, "single_source", "highly_concentrated", "single_country", "foreign_control", "no_alternate")
				}
				d.finding(Row{"run_id": runID, "computed_at": at, "detector": det, "subject_type": detectors.SubjectEnterpriseComponent,
					"subject": subject, "subject_name": e.name + " / " + c.name, "enterprise_id": p.ent, "component_id": p.comp,
					"category": c.category, "industry": e.industry, "region": e.region, "chain_leader": b2u(e.leader),
					"score": score, "prev_score": prevScore, "flags": flags, "tts_days": ptr(tts), "ttr_days": ptr(ttr),
					"alternates": alts, "products": prods[subject], "window_from": wFrom, "window_to": at}, ts)
			}
		}
		for _, k := range chokeSubjects() {
			score0 := scoreAt(at, k.s0, k.s1, k.s2)
			ts := terms(chokeTerms, score0, map[string]bool{"dependency": has(k.flags, "dependency_rule"),
				"foreign_control": has(k.flags, "foreign_control")})
			score, prevScore := composite(ts, prev, "chokepoint/"+k.subject)
			r := Row{"run_id": runID, "computed_at": at, "detector": "chokepoint", "subject_type": k.subjectType,
				"subject": k.subject, "subject_name": k.name, "enterprise_id": "", "component_id": "", "category": k.category,
				"industry": "", "region": "", "chain_leader": uint8(0), "score": score, "prev_score": prevScore, "flags": k.flags,
				"tts_days": (*float64)(nil), "ttr_days": (*float64)(nil), "alternates": []detectors.Alternate(nil),
				"products": []string{}, "window_from": wFrom, "window_to": at}
			if k.subjectType == detectors.SubjectComponent {
				r["component_id"] = k.subject
				r["subject_name"] = comps[k.subject].name
				var ps []string
				for _, p := range products {
					if has(p.bom, k.subject) {
						ps = append(ps, p.id)
					}
				}
				r["products"] = ps
			}
			d.finding(r, ts)
		}
		counts := map[string]uint32{}
		for _, r := range d.Rows["findings"][n0:] {
			counts[r["detector"].(string)]++
		}
		for _, det := range slices.Sorted(maps.Keys(counts)) {
			d.run(runID, det, at, counts[det], "ok", "", wFrom)
		}
	}
	// Three hours after the last full run, a delta run of exposure in which nothing changed: it
	// writes no findings, and its findings are the full run's rows, read through the chain
	// (detectors/store_runs.go), so the readers of the latest findings read a chain.
	last := RunTimes()[days-1]
	var n uint32
	for _, r := range d.Rows["detector_runs"] {
		if r["run_id"] == RunID(last) && r["detector"] == "exposure" {
			n = r["findings"].(uint32)
		}
	}
	d.add("detector_runs", Row{"run_id": RunID(last.Add(3 * time.Hour)), "detector": "exposure", "started_at": last.Add(3 * time.Hour),
		"finished_at": last.Add(3*time.Hour + time.Minute), "findings": n, "status": "ok", "error": "",
		"window_from": last.Add(3*time.Hour).AddDate(-3, 0, 0), "window_to": last.Add(3 * time.Hour),
		"base_run_id": RunID(last), "computed_at": last.Add(3 * time.Hour)})
	// A failed run after the last good one: its partial findings must never be read.
	at := RunTimes()[days-1].Add(6 * time.Hour)
	runID := RunID(at)
	for _, p := range pairs[:2] {
		d.finding(Row{"run_id": runID, "computed_at": at, "detector": "exposure", "subject_type": detectors.SubjectEnterpriseComponent,
			"subject": p.ent + "|" + p.comp, "subject_name": "partial run", "enterprise_id": p.ent, "component_id": p.comp,
			"category": "other", "industry": "", "region": "", "chain_leader": uint8(0), "score": 99.0, "prev_score": (*float64)(nil),
			"flags": []string{"partial"}, "tts_days": (*float64)(nil), "ttr_days": (*float64)(nil), "products": []string{},
			"window_from": at, "window_to": at}, nil)
	}
	d.run(runID, "exposure", at, 2, "error", "clickhouse: insert findings: connection reset by peer", at)
}

// FailedRunScore is the score of the partial findings of the demo's failed run (never to be shown).
const FailedRunScore = 99.0

// RunID returns a run id in the detectors' format: it sorts by time.
func RunID(t time.Time) string {
	return t.UTC().Format("20060102T150405.000Z") + "-" + shortHash(t.String())[:8]
}

func (d *Dataset) run(runID, det string, at time.Time, n uint32, status, errText string, wFrom time.Time) {
	d.add("detector_runs", Row{"run_id": runID, "detector": det, "started_at": at, "finished_at": at.Add(3 * time.Minute),
		"findings": n, "status": status, "error": errText, "window_from": wFrom, "window_to": at, "base_run_id": "", "computed_at": at})
}

func chokeSubjects() []chokeSubject { return chokes }

// finding completes a findings row: flags and term arrays, delta, alternates JSON.
func (d *Dataset) finding(r Row, ts []detectors.Term) {
	if r["flags"] == nil {
		r["flags"] = []string{}
	}
	if fl, ok := r["flags"].([]string); ok && fl == nil {
		r["flags"] = []string{}
	}
	if p, ok := r["products"].([]string); ok && p == nil {
		r["products"] = []string{}
	}
	names := make([]string, len(ts))
	vals, norms, ws, cs, ss := make([]float64, len(ts)), make([]float64, len(ts)), make([]float64, len(ts)), make([]float64, len(ts)), make([]float64, len(ts))
	for i, t := range ts {
		names[i], vals[i], norms[i], ws[i], cs[i], ss[i] = t.Name, t.Value, t.Norm, t.Weight, t.Contribution, t.Share
	}
	r["term_names"], r["term_values"], r["term_norms"], r["term_weights"], r["term_contributions"], r["term_shares"] = names, vals, norms, ws, cs, ss
	delta := 0.0
	if p, ok := r["prev_score"].(*float64); ok && p != nil {
		delta = round(r["score"].(float64)-*p, 2)
	}
	r["delta"] = delta
	alts, _ := r["alternates"].([]detectors.Alternate)
	delete(r, "alternates")
	js := ""
	if len(alts) > 0 {
		b, _ := json.Marshal(alts)
		js = string(b)
	}
	r["alternates_json"] = js
	d.add("findings", r)
}

// ---- alert events ---------------------------------------------------------------------------------

// alertEvents scripts B计划 warnings: exposures crossing 70 fire, and falling below 60 resolve. The
// rows are only inserted when the table alert_events exists (alerts/ migration).
func (d *Dataset) alertEvents() {
	firing := map[string]time.Time{}
	for _, r := range d.Rows["findings"] {
		if r["detector"] != "exposure" {
			continue
		}
		fp := fingerprint(r["enterprise_id"].(string), r["component_id"].(string))
		at := r["computed_at"].(time.Time).Add(5 * time.Minute)
		score := r["score"].(float64)
		sev := "warning"
		if score >= 80 {
			sev = "critical"
		}
		if _, on := firing[fp]; !on && score >= 70 {
			firing[fp] = at
			d.add("alert_events", alertRow(r, fp, "firing", sev, at, at))
		} else if on && score < 60 {
			d.add("alert_events", alertRow(r, fp, "resolved", "info", firing[fp], at))
			delete(firing, fp)
		}
	}
	// One resolution in the report week: the PLC exposure falls after a domestic PLC qualified.
	for _, r := range d.Rows["findings"] {
		if r["detector"] == "exposure" && r["component_id"] == "CMP-PLC" && r["enterprise_id"] == "ENT-SHRB" {
			at := r["computed_at"].(time.Time)
			if at.After(weekStart) && at.Before(weekEnd) && r["score"].(float64) < 62 {
				fp := fingerprint("ENT-SHRB", "CMP-PLC")
				start := RunTimes()[0].Add(5 * time.Minute)
				d.add("alert_events", alertRow(r, fp, "firing", "warning", start, start))
				d.add("alert_events", alertRow(r, fp, "resolved", "info", start, at.Add(5*time.Minute)))
				break
			}
		}
	}
}

func alertRow(f Row, fp, status, sev string, starts, at time.Time) Row {
	id := fmt.Sprintf("%s-%s-%d", fp, status, at.Unix())
	return Row{"event_id": id, "fingerprint": fp, "alert_name": "BPlanWarning", "name": "BPlanWarning",
		"enterprise_id": f["enterprise_id"], "component_id": f["component_id"], "category": f["category"],
		"industry": f["industry"], "region": f["region"], "severity": sev, "status": status, "score": f["score"],
		"flags": f["flags"], "run_id": f["run_id"], "starts_at": starts, "at": at, "recorded_at": at}
}

func fingerprint(ent, comp string) string {
	// Same construction as alerts.Fingerprint (sha256 of enterprise, component, name; 12 bytes hex),
	// not imported to keep this package independent of alerts' internals.
	return shortHash(ent + "\x00" + comp + "\x00" + "BPlanWarning")
}

// ---- helpers --------------------------------------------------------------------------------------

func has(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func filter(ss []string, keep ...string) []string {
	out := []string{}
	for _, s := range ss {
		if has(keep, s) {
			out = append(out, s)
		}
	}
	return out
}

func ptr(f float64) *float64 { return &f }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
