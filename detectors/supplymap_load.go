package detectors

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/schemas"
)

// Querier is the read side of a ClickHouse connection (driver.Conn satisfies it).
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (driver.Rows, error)
}

// LoadSupplyMap reads the supply map and the substitution list as they stood at `at`: per natural
// key the newest version with as_of <= at (argMax, as Load does, on 18.16 and current releases).
// The regional views (local sourcing, ledger, demand board) read it; the week-over-week change
// of the local-sourcing index compares LoadSupplyMap(t) with LoadSupplyMap(t − 7 days).
func LoadSupplyMap(ctx context.Context, q Querier, cfg Config, at time.Time) (*Inputs, error) {
	b := NewBuilder(cfg, at)
	b.unique = true
	if err := loadMapNodes(ctx, q, b, at); err != nil {
		return nil, fmt.Errorf("load supply_nodes: %w", err)
	}
	if err := loadMapLinks(ctx, q, b, at); err != nil {
		return nil, fmt.Errorf("load supply_links: %w", err)
	}
	if err := loadMapSubs(ctx, q, b, at); err != nil {
		return nil, fmt.Errorf("load substitutions: %w", err)
	}
	return b.Inputs(), nil
}

// LoadLeaderSupplies reads what LocalSourcingIndex reads of the supply map as it stood at `at`,
// and nothing else: the enterprise and supplier nodes, and the supplies links of the chain leaders
// in a region group (the enterprises the index has a row for), filtered in ClickHouse. Filtering on
// link_type and enterprise_id, both in the GROUP BY key, keeps every key's newest version as
// LoadSupplyMap finds it, so LocalSourcingIndex gives the same rows from either (tested). On the
// bench's 1M-edge map two LoadSupplyMap calls read ~2M links and allocate ~490 MiB; the exposure
// metrics make these two calls (now and a week earlier) at each refresh that finds the supply map
// changed (exposure.Regional.LocalSourcingSince).
func LoadLeaderSupplies(ctx context.Context, q Querier, cfg Config, at time.Time) (*Inputs, error) {
	b := NewBuilder(cfg, at)
	b.unique = true
	where, args := asOfBound(at), asOfArgs(at)
	if where == "" {
		where = " WHERE "
	} else {
		where += " AND "
	}
	nodes := where + "node_type IN (?, ?)"
	if err := queryNodes(ctx, q, b, nodes, append(args, schemas.NodeEnterprise, schemas.NodeSupplier)...); err != nil {
		return nil, fmt.Errorf("load supply_nodes: %w", err)
	}
	var leaders []string
	for id, e := range b.in.Enterprises {
		if e.ChainLeader && e.RegionGroup != "" {
			leaders = append(leaders, b.in.ID(id))
		}
	}
	// The ids go into the query's text: in chunks, each query well under ClickHouse's
	// max_query_size (256 KiB by default).
	links := where + "link_type = ? AND enterprise_id IN (SELECT arrayJoin(?))"
	for chunk := range slices.Chunk(leaders, leaderChunk) {
		if err := queryLinks(ctx, q, b, links, append(slices.Clip(args), schemas.LinkSupplies, chunk)...); err != nil {
			return nil, fmt.Errorf("load supply_links: %w", err)
		}
	}
	return b.Inputs(), nil
}

// leaderChunk is how many chain leaders' ids one query of LoadLeaderSupplies names.
var leaderChunk = 2000

func loadMapNodes(ctx context.Context, q Querier, b inputSink, at time.Time) error {
	return queryNodes(ctx, q, b, asOfBound(at), asOfArgs(at)...)
}

// queryNodes records the newest version (argMax over as_of) of every supply node among the rows
// that match where.
func queryNodes(ctx context.Context, q Querier, b inputSink, where string, args ...any) error {
	rows, err := q.Query(ctx, `SELECT node_type, node_id, argMax(name, as_of), argMax(country, as_of),
    argMax(domestic, as_of), argMax(region, as_of), argMax(industry, as_of), argMax(chain_leader, as_of),
    argMax(category, as_of), argMax(hs_code, as_of), argMax(chokepoint, as_of), max(as_of), argMax(tags, as_of)
FROM supply_nodes`+where+` GROUP BY node_type, node_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var n schemas.SupplyNode // one for all rows, one Scan destination list: the sinks copy what they keep
	var dom, cl, cp uint8
	dest := []any{&n.NodeType, &n.NodeID, &n.Name, &n.Country, &dom, &n.Region, &n.Industry, &cl,
		&n.Category, &n.HSCode, &cp, &n.AsOf, &n.Tags}
	for rows.Next() {
		n = schemas.SupplyNode{}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		n.Domestic, n.ChainLeader, n.Chokepoint = dom == 1, cl == 1, cp == 1
		b.AddNode(&n)
	}
	return rows.Err()
}

func loadMapLinks(ctx context.Context, q Querier, b inputSink, at time.Time) error {
	return queryLinks(ctx, q, b, asOfBound(at), asOfArgs(at)...)
}

// queryLinks records the newest version (argMax over as_of) of every supply link key among the rows
// that match where.
func queryLinks(ctx context.Context, q Querier, b inputSink, where string, args ...any) error {
	rows, err := q.Query(ctx, `SELECT link_type, enterprise_id, product_id, component_id, supplier_id,
    argMax(qty_per_unit, as_of), argMax(share, as_of), argMax(qualification, as_of),
    argMax(inventory_units, as_of), argMax(consumption_per_day, as_of), max(as_of)
FROM supply_links`+where+` GROUP BY link_type, enterprise_id, product_id, component_id, supplier_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var l schemas.SupplyLink // one for all rows, one Scan destination list: the sinks copy what they keep
	dest := []any{&l.LinkType, &l.EnterpriseID, &l.ProductID, &l.ComponentID, &l.SupplierID, &l.QtyPerUnit,
		&l.Share, &l.Qualification, &l.InventoryUnits, &l.ConsumptionPerDay, &l.AsOf}
	for rows.Next() {
		l = schemas.SupplyLink{}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		b.AddLink(&l)
	}
	return rows.Err()
}

func loadMapSubs(ctx context.Context, q Querier, b inputSink, at time.Time) error {
	rows, err := q.Query(ctx, `SELECT component_id, alt_component_id, alt_supplier_id, enterprise_id,
    argMax(qualification_days, as_of), argMax(domestic, as_of), argMax(country, as_of), argMax(notes, as_of), max(as_of)
FROM substitutions`+asOfBound(at)+` GROUP BY component_id, alt_component_id, alt_supplier_id, enterprise_id`, asOfArgs(at)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s schemas.Substitution
		var dom uint8
		if err := rows.Scan(&s.ComponentID, &s.AltComponentID, &s.AltSupplierID, &s.EnterpriseID, &s.QualificationDays,
			&dom, &s.Country, &s.Notes, &s.AsOf); err != nil {
			return err
		}
		s.Domestic = dom == 1
		b.AddSubstitution(&s)
	}
	return rows.Err()
}

// The supply-map loaders read the map as it stood at `at` (per key the newest version with
// as_of <= at); a zero `at` reads every version (Load: the current map, whatever its as_of).
func asOfBound(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return " WHERE as_of <= ?"
}

func asOfArgs(at time.Time) []any {
	if at.IsZero() {
		return nil
	}
	return []any{at}
}

// currentMap adapts a supply-map loader to Load's steps: the current map, unbounded.
func currentMap(load func(context.Context, Querier, inputSink, time.Time) error) loadFunc {
	return func(ctx context.Context, conn driver.Conn, b inputSink, _ loadArgs) error {
		return load(ctx, conn, b, time.Time{})
	}
}
