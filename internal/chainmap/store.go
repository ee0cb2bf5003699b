package chainmap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/schemas"
)

// ErrUnknownChain is returned (wrapped) by Service.Map for a chain id that is not configured.
var ErrUnknownChain = errors.New("unknown chain")

// Store reads a chain's data from ClickHouse: supply_nodes and supply_links (FINAL), the
// substitution list and the latest exposure findings. Values are inlined as literals
// (exposure.Str), so a recorder can replay the exact SQL elsewhere.
type Store struct {
	q        exposure.Querier
	detector string
}

// NewStore reads through q; detector names the exposure detector (api.exposure.detector).
func NewStore(q exposure.Querier, detector string) *Store {
	return &Store{q: q, detector: detector}
}

// Load reads what Build needs for chain.
func (s *Store) Load(ctx context.Context, chain Chain) (Data, error) {
	d := Data{Nodes: map[string]Node{}}
	var ids, hs []string
	for _, l := range chain.Links {
		ids = append(ids, l.Components...)
		ids = append(ids, l.Materials...)
		hs = append(hs, l.HSCodes...)
	}
	cond := "node_id IN " + exposure.Strs(uniq(ids))
	if len(hs) > 0 {
		var c []string
		for _, h := range uniq(hs) {
			c = append(c, "substring(hs_code, 1, "+exposure.Int(int64(len(h)))+") = "+exposure.Str(h))
		}
		cond = "(" + cond + " OR (node_type = " + exposure.Str(schemas.NodeComponent) + " AND (" + strings.Join(c, " OR ") + ")))"
	}
	if err := s.nodes(ctx, cond, d.Nodes); err != nil {
		return Data{}, err
	}
	items := make([]string, 0, len(d.Nodes))
	for id := range d.Nodes {
		items = append(items, id)
	}
	items = uniq(append(items, ids...))
	var err error
	if d.Edges, err = s.edges(ctx, items); err != nil {
		return Data{}, err
	}
	var members []string
	for _, e := range d.Edges {
		members = append(members, e.SupplierID, e.EnterpriseID)
	}
	if members = uniq(members); len(members) > 0 {
		if err := s.nodes(ctx, "node_id IN "+exposure.Strs(members), d.Nodes); err != nil {
			return Data{}, err
		}
	}
	if d.Exposures, err = s.exposures(ctx, items); err != nil {
		return Data{}, err
	}
	return d, nil
}

// nodes reads the nodes matching where into out; per id the newest as_of wins.
func (s *Store) nodes(ctx context.Context, where string, out map[string]Node) error {
	sql := "SELECT node_type, node_id, name, country, domestic, region, chain_leader, tags, category, hs_code, chokepoint " +
		"FROM supply_nodes FINAL WHERE " + where + " ORDER BY node_id, as_of"
	return each(ctx, s.q, sql, "read supply nodes", func(r driver.Rows) error {
		var n Node
		var dom, leader, choke uint8
		if err := r.Scan(&n.Type, &n.ID, &n.Name, &n.Country, &dom, &n.Region, &leader, &n.Tags, &n.Category, &n.HSCode, &choke); err != nil {
			return err
		}
		n.Domestic, n.ChainLeader, n.Chokepoint = dom == 1, leader == 1, choke == 1
		out[n.ID] = n
		return nil
	})
}

// edges reads the supplies and makes links of items and their substitution-list alternates.
func (s *Store) edges(ctx context.Context, items []string) ([]Edge, error) {
	in := exposure.Strs(items)
	sql := "SELECT link_type, enterprise_id, product_id, component_id, supplier_id, qualification, share FROM supply_links FINAL " +
		"WHERE (link_type = " + exposure.Str(schemas.LinkSupplies) + " AND component_id IN " + in + ") OR (link_type = " +
		exposure.Str(schemas.LinkMakes) + " AND product_id IN " + in + ") ORDER BY link_type, component_id, product_id, supplier_id, enterprise_id"
	var out []Edge
	err := each(ctx, s.q, sql, "read supply links", func(r driver.Rows) error {
		var e Edge
		if err := r.Scan(&e.Type, &e.EnterpriseID, &e.ProductID, &e.ComponentID, &e.SupplierID, &e.Qualification, &e.Share); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sql = "SELECT component_id, alt_supplier_id, enterprise_id, qualification_days FROM substitutions FINAL " +
		"WHERE alt_supplier_id != '' AND component_id IN " + in + " ORDER BY component_id, alt_supplier_id, enterprise_id"
	err = each(ctx, s.q, sql, "read substitutions", func(r driver.Rows) error {
		e := Edge{Type: EdgeAlternate}
		if err := r.Scan(&e.ComponentID, &e.SupplierID, &e.EnterpriseID, &e.QualificationDays); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// exposures reads the latest exposure findings on the items.
func (s *Store) exposures(ctx context.Context, items []string) ([]Exposure, error) {
	sql := "SELECT enterprise_id, component_id, max(score) FROM " + detectors.LatestFindingsTable(time.Time{}, s.detector) +
		" WHERE detector = " + exposure.Str(s.detector) +
		" AND component_id IN " + exposure.Strs(items) + " GROUP BY enterprise_id, component_id ORDER BY enterprise_id, component_id"
	var out []Exposure
	err := each(ctx, s.q, sql, "read exposures", func(r driver.Rows) error {
		var x Exposure
		if err := r.Scan(&x.EnterpriseID, &x.ComponentID, &x.Score); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

func each(ctx context.Context, q exposure.Querier, sql, what string, f func(driver.Rows) error) error {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("chain map: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return fmt.Errorf("chain map: %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("chain map: %s: %w", what, err)
	}
	return nil
}

func uniq(ss []string) []string {
	out := slices.DeleteFunc(slices.Clone(ss), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// Service serves the configured chains and their maps.
type Service struct {
	chains []Chain
	store  *Store
	opt    Options
}

// NewService serves chains, reading through store; opt.Region is set per request.
func NewService(chains []Chain, store *Store, opt Options) *Service {
	return &Service{chains: chains, store: store, opt: opt}
}

// Chains returns the configured chains in configuration order.
func (s *Service) Chains() []Chain { return s.chains }

// Map builds the map of chain id, regional view for region ("" for none).
func (s *Service) Map(ctx context.Context, id, region string) (Map, error) {
	i := slices.IndexFunc(s.chains, func(c Chain) bool { return c.ID == id })
	if i < 0 {
		return Map{}, fmt.Errorf("chain %q: %w", id, ErrUnknownChain)
	}
	d, err := s.store.Load(ctx, s.chains[i])
	if err != nil {
		return Map{}, err
	}
	opt := s.opt
	opt.Region = region
	return Build(s.chains[i], d, opt), nil
}
