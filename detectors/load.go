package detectors

import (
	"context"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Load reads one run's Inputs from ClickHouse. The heavy aggregation happens in SQL: the supply map
// and the substitution list are collapsed to their newest version per natural key with argMax, trade
// flows are summed per (HS code, year, country, flow), production per (commodity, stage, year,
// country), availability per (part, day). Every statement runs on ClickHouse 18.16 and current
// releases (no window functions, no LowCardinality, no JSON functions). The tables are read
// concurrently (LoadCache.Load; a nil cache reads every table).
func Load(ctx context.Context, conn driver.Conn, cfg Config, now time.Time) (*Inputs, error) {
	in, _, err := (*LoadCache)(nil).Load(ctx, conn, cfg, now)
	return in, err
}

func loadAwards(ctx context.Context, conn driver.Conn, b inputSink, a loadArgs) error {
	from := a.now.AddDate(0, 0, -a.cfg.SingleSource.AwardWindowDays)
	rows, err := conn.Query(ctx, `SELECT buyer_id, buyer_name, supplier_ids, supplier_names, item_ids, item_codes,
    ifNull(value, 0), award_date, status
FROM procurement_awards FINAL
WHERE award_date >= ? AND award_date <= ? AND status NOT IN ('cancelled', 'unsuccessful')`, from, a.now)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a Award
		var status string
		if err := rows.Scan(&a.BuyerID, &a.BuyerName, &a.SupplierIDs, &a.SupplierNames, &a.ItemIDs, &a.ItemCodes,
			&a.Value, &a.Date, &status); err != nil {
			return err
		}
		b.AddAward(a, status)
	}
	return rows.Err()
}

// tradeFilter keeps the totals rows of Comtrade-style data: annual, no second partner, all modes of
// transport, all customs procedures.
// Only the last years_window years of the table are read (the dependency rule's horizon).
const tradeFilter = `month = 0 AND partner2_m49 = 0 AND mot_code = 0 AND customs_code IN ('', 'C00')
    AND year > (SELECT max(year) FROM trade_flows) - ?`

// loadTradeTotals reads per (HS code, year, reporter, flow) the World row and the sum of the listed
// partners.
func loadTradeTotals(ctx context.Context, conn driver.Conn, b inputSink, a loadArgs) error {
	years := uint16(a.cfg.Chokepoint.YearsWindow)
	rows, err := conn.Query(ctx, `SELECT hs_code, year, reporter_m49, max(reporter_iso3), flow,
    sumIf(value_usd, partner_m49 = 0), sumIf(value_usd, partner_m49 != 0),
    sumIf(ifNull(net_weight_kg, 0), partner_m49 = 0), sumIf(ifNull(net_weight_kg, 0), partner_m49 != 0)
FROM trade_flows FINAL
WHERE flow IN ('M', 'X') AND `+tradeFilter+`
GROUP BY hs_code, year, reporter_m49, flow`, years)
	if err != nil {
		return err
	}
	var hs, iso, flow string
	var year, rep uint16
	var w, p, wkg, pkg float64
	dest := []any{&hs, &year, &rep, &iso, &flow, &w, &p, &wkg, &pkg} // one for all rows (no per-row garbage)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return err
		}
		b.AddTradeTotals(hs, year, rep, iso, flow, w, p, wkg, pkg)
	}
	rows.Close()
	return rows.Err()
}

// loadTradePartners reads imports by partner, all reporters (mirror exports) and the monitored
// reporter (import concentration).
func loadTradePartners(ctx context.Context, conn driver.Conn, b inputSink, a loadArgs) error {
	years := uint16(a.cfg.Chokepoint.YearsWindow)
	rows, err := conn.Query(ctx, `SELECT hs_code, year, partner_m49, max(partner_iso3), sum(value_usd),
    sumIf(value_usd, reporter_m49 = ?)
FROM trade_flows FINAL
WHERE flow = 'M' AND partner_m49 != 0 AND `+tradeFilter+`
GROUP BY hs_code, year, partner_m49`, uint16(a.cfg.HomeM49), years)
	if err != nil {
		return err
	}
	defer rows.Close()
	var hs, iso string
	var year, partner uint16
	var all, home float64
	dest := []any{&hs, &year, &partner, &iso, &all, &home}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		b.AddMirror(hs, year, partner, iso, all)
		if home > 0 {
			b.AddHomeImport(hs, year, partner, iso, home)
		}
	}
	return rows.Err()
}

func loadProduction(ctx context.Context, conn driver.Conn, b inputSink, _ loadArgs) error {
	rows, err := conn.Query(ctx, `SELECT commodity, stage, year, country, max(country_iso3), sum(ifNull(quantity, 0)), any(unit)
FROM production_stats FINAL
WHERE isNotNull(quantity) AND flag != 'W'
GROUP BY commodity, stage, year, country`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var com, stage, country, iso, unit string
		var year uint16
		var q float64
		if err := rows.Scan(&com, &stage, &year, &country, &iso, &q, &unit); err != nil {
			return err
		}
		b.AddProduction(com, stage, year, country, iso, q, unit)
	}
	return rows.Err()
}

func loadAvailability(ctx context.Context, conn driver.Conn, b inputSink, a loadArgs) error {
	rows, err := conn.Query(ctx, `SELECT manufacturer, part_number, max(component_id), toStartOfDay(as_of) AS d,
    sumIf(stock, stock_unknown = 0), countIf(stock_unknown = 0), min(lead_time_days),
    max(multiIf(lifecycle = 'nrnd', 1, lifecycle = 'last_time_buy', 2, lifecycle = 'eol', 3, lifecycle = 'obsolete', 4, 0))
FROM component_availability FINAL
WHERE as_of >= ? AND as_of <= ?
GROUP BY manufacturer, part_number, d`, a.windowFrom, a.now)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var mfr, part, comp string
		var day time.Time
		var stock int64
		var known uint64
		var lead *float64
		var life uint8
		if err := rows.Scan(&mfr, &part, &comp, &day, &stock, &known, &lead, &life); err != nil {
			return err
		}
		l := math.NaN()
		if lead != nil {
			l = *lead
		}
		st := float64(stock)
		if known == 0 {
			st = math.NaN() // every offer that day said "Call", "On Order", ...: no stock figure
		}
		b.AddAvailability(mfr, part, comp, day, st, l, lifecycleName(int(life)))
	}
	return rows.Err()
}
