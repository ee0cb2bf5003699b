package whatif

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/schemas"
)

// The latest version of every supply map row (argMax by as_of), annual imports summed per
// (reporter, partner, HS code, year), and production per (commodity, stage, year, country).
const (
	qNodes = `SELECT node_type, node_id, argMax(name, as_of), argMax(country, as_of), argMax(domestic, as_of),
    argMax(industry, as_of), argMax(chain_leader, as_of), argMax(category, as_of), argMax(hs_code, as_of), max(as_of)
FROM supply_nodes GROUP BY node_type, node_id ORDER BY node_type, node_id`
	qLinks = `SELECT link_type, enterprise_id, product_id, component_id, supplier_id, argMax(qty_per_unit, as_of),
    argMax(share, as_of), argMax(qualification, as_of), argMax(inventory_units, as_of), argMax(consumption_per_day, as_of), max(as_of)
FROM supply_links GROUP BY link_type, enterprise_id, product_id, component_id, supplier_id
ORDER BY link_type, enterprise_id, product_id, component_id, supplier_id`
	qSubs = `SELECT component_id, alt_component_id, alt_supplier_id, enterprise_id, argMax(qualification_days, as_of), max(as_of)
FROM substitutions GROUP BY component_id, alt_component_id, alt_supplier_id, enterprise_id
ORDER BY component_id, alt_component_id, alt_supplier_id, enterprise_id`
	qImports = `SELECT reporter_m49, max(reporter_iso3), partner_m49, max(partner_iso3), hs_code, year, sum(value_usd)
FROM trade_flows FINAL WHERE flow = 'M' AND month = 0
GROUP BY reporter_m49, partner_m49, hs_code, year ORDER BY reporter_m49, partner_m49, hs_code, year`
	qProduction = `SELECT commodity, stage, year, country, max(country_iso3), sum(ifNull(quantity, 0)), any(unit)
FROM production_stats FINAL WHERE isNotNull(quantity) AND flag != 'W'
GROUP BY commodity, stage, year, country ORDER BY commodity, stage, year, country`
)

// LoadRecords reads what the engine needs from ClickHouse as records: supply map, substitutions,
// annual imports and production.
func LoadRecords(ctx context.Context, conn driver.Conn) ([]schemas.Record, error) {
	var out []schemas.Record
	steps := []struct {
		name, sql string
		scan      func(driver.Rows) (schemas.Record, error)
	}{
		{"supply_nodes", qNodes, scanNode}, {"supply_links", qLinks, scanLink}, {"substitutions", qSubs, scanSub},
		{"trade_flows", qImports, scanImport}, {"production_stats", qProduction, scanProduction},
	}
	for _, s := range steps {
		rows, err := conn.Query(ctx, s.sql)
		if err != nil {
			return nil, fmt.Errorf("whatif: load %s: %w", s.name, err)
		}
		for rows.Next() {
			rec, err := s.scan(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("whatif: load %s: %w", s.name, err)
			}
			out = append(out, rec)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("whatif: load %s: %w", s.name, err)
		}
	}
	return out, nil
}

func scanNode(r driver.Rows) (schemas.Record, error) {
	var n schemas.SupplyNode
	var dom, cl uint8
	err := r.Scan(&n.NodeType, &n.NodeID, &n.Name, &n.Country, &dom, &n.Industry, &cl, &n.Category, &n.HSCode, &n.AsOf)
	n.Domestic, n.ChainLeader = dom == 1, cl == 1
	return &n, err
}

func scanLink(r driver.Rows) (schemas.Record, error) {
	var l schemas.SupplyLink
	err := r.Scan(&l.LinkType, &l.EnterpriseID, &l.ProductID, &l.ComponentID, &l.SupplierID, &l.QtyPerUnit, &l.Share,
		&l.Qualification, &l.InventoryUnits, &l.ConsumptionPerDay, &l.AsOf)
	return &l, err
}

func scanSub(r driver.Rows) (schemas.Record, error) {
	var s schemas.Substitution
	err := r.Scan(&s.ComponentID, &s.AltComponentID, &s.AltSupplierID, &s.EnterpriseID, &s.QualificationDays, &s.AsOf)
	return &s, err
}

func scanImport(r driver.Rows) (schemas.Record, error) {
	t := schemas.TradeFlow{Flow: "M"}
	err := r.Scan(&t.ReporterM49, &t.ReporterISO3, &t.PartnerM49, &t.PartnerISO3, &t.HSCode, &t.Year, &t.ValueUSD)
	return &t, err
}

func scanProduction(r driver.Rows) (schemas.Record, error) {
	var p schemas.ProductionStat
	var q float64
	err := r.Scan(&p.Commodity, &p.Stage, &p.Year, &p.Country, &p.CountryISO3, &q, &p.Unit)
	p.Quantity = &q
	return &p, err
}
