package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/exposure"
)

// Node is a supply-map node (newest as_of wins).
type Node struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	Country     string `json:"country,omitempty"`
	Domestic    bool   `json:"domestic"`
	Region      string `json:"region,omitempty"`
	Industry    string `json:"industry,omitempty"`
	ChainLeader bool   `json:"chain_leader,omitempty"`
	Category    string `json:"category,omitempty"`
	HSCode      string `json:"hs_code,omitempty"`
	Chokepoint  bool   `json:"chokepoint,omitempty"`
}

// SupplyShare is one supplier's share of an enterprise's volume of a component.
type SupplyShare struct {
	SupplierID    string  `json:"supplier_id"`
	SupplierName  string  `json:"supplier_name,omitempty"`
	Country       string  `json:"country,omitempty"`
	EnterpriseID  string  `json:"enterprise_id,omitempty"`
	ComponentID   string  `json:"component_id,omitempty"`
	Share         float64 `json:"share"`
	Qualification string  `json:"qualification"`
}

// Dependent is an enterprise that depends on a component.
type Dependent struct {
	Node
	Via           []string      `json:"via"`      // supplies, stocks, bom
	Products      []string      `json:"products"` // its products containing the component (BOM)
	Suppliers     []SupplyShare `json:"suppliers"`
	ExposureScore *float64      `json:"exposure_score,omitempty"` // latest exposure finding
	Severity      string        `json:"severity,omitempty"`
}

// ProductUse is a product whose bill of materials contains the component.
type ProductUse struct {
	ID           string  `json:"id"`
	Name         string  `json:"name,omitempty"`
	EnterpriseID string  `json:"enterprise_id,omitempty"`
	QtyPerUnit   float64 `json:"qty_per_unit"`
}

// SupplierUse is a supplier of the component and how many enterprises it serves.
type SupplierUse struct {
	Node
	Customers int     `json:"customers"`
	MaxShare  float64 `json:"max_share"`
}

// Substitute is an entry of the substitution list (替代清单) for the component.
type Substitute struct {
	AltComponentID    string  `json:"alt_component_id,omitempty"`
	AltSupplierID     string  `json:"alt_supplier_id,omitempty"`
	EnterpriseID      string  `json:"enterprise_id,omitempty"`
	QualificationDays float64 `json:"qualification_days"`
	Domestic          bool    `json:"domestic"`
	Country           string  `json:"country,omitempty"`
	Notes             string  `json:"notes,omitempty"`
}

// ComponentDependents answers "who depends on component X".
type ComponentDependents struct {
	Component     Node          `json:"component"`
	Enterprises   []Dependent   `json:"enterprises"`
	Products      []ProductUse  `json:"products"`
	Suppliers     []SupplierUse `json:"suppliers"`
	Substitutions []Substitute  `json:"substitutions"`
}

// SupplierCustomers answers "who buys what from supplier X".
type SupplierCustomers struct {
	Supplier    Node          `json:"supplier"`
	Supplies    []SupplyShare `json:"supplies"`
	Enterprises []Node        `json:"enterprises"`
	Components  []Node        `json:"components"`
}

const maxIDLen = 200

func pathID(r *http.Request) (string, error) {
	id := strings.TrimSpace(r.PathValue("id"))
	if id == "" || len(id) > maxIDLen {
		return "", badRequest("id: want a supply-map node id of 1..%d characters", maxIDLen)
	}
	return id, nil
}

func each(ctx context.Context, q exposure.Querier, sql string, f func(driver.Rows) error) error {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("supply map: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return fmt.Errorf("supply map: %w", err)
		}
	}
	return rows.Err()
}

func nodes(ctx context.Context, q exposure.Querier, ids []string) (map[string]Node, error) {
	out := map[string]Node{}
	if len(ids) == 0 {
		return out, nil
	}
	sql := "SELECT node_id, argMax(node_type, as_of), argMax(name, as_of), argMax(country, as_of), argMax(domestic, as_of), " +
		"argMax(region, as_of), argMax(industry, as_of), argMax(chain_leader, as_of), argMax(category, as_of), " +
		"argMax(hs_code, as_of), argMax(chokepoint, as_of) FROM supply_nodes WHERE node_id IN " + exposure.Strs(ids) + " GROUP BY node_id"
	err := each(ctx, q, sql, func(r driver.Rows) error {
		var n Node
		var dom, leader, choke uint8
		if err := r.Scan(&n.ID, &n.Type, &n.Name, &n.Country, &dom, &n.Region, &n.Industry, &leader, &n.Category, &n.HSCode, &choke); err != nil {
			return err
		}
		n.Domestic, n.ChainLeader, n.Chokepoint = dom == 1, leader == 1, choke == 1
		out[n.ID] = n
		return nil
	})
	return out, err
}

type link struct {
	typ, ent, prod, comp, sup, qual string
	qty, share                      float64
}

func links(ctx context.Context, q exposure.Querier, where string) ([]link, error) {
	var out []link
	sql := "SELECT link_type, enterprise_id, product_id, component_id, supplier_id, qualification, qty_per_unit, share " +
		"FROM supply_links FINAL WHERE " + where + " ORDER BY link_type, enterprise_id, product_id, supplier_id"
	err := each(ctx, q, sql, func(r driver.Rows) error {
		var l link
		if err := r.Scan(&l.typ, &l.ent, &l.prod, &l.comp, &l.sup, &l.qual, &l.qty, &l.share); err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// supplyRequest checks a supply-map request (no query parameters) and returns the store and the
// path's id.
func (s *server) supplyRequest(r *http.Request) (*exposure.Store, string, error) {
	st, err := s.store()
	if err != nil {
		return nil, "", err
	}
	if _, err := newQuery(r); err != nil {
		return nil, "", err
	}
	id, err := pathID(r)
	return st, id, err
}

// GET /api/v1/supply/components/{id}
func (s *server) componentDependents(w http.ResponseWriter, r *http.Request, _ principal) error {
	st, id, err := s.supplyRequest(r)
	if err != nil {
		return err
	}
	ctx, q := r.Context(), st.Querier()
	direct, err := links(ctx, q, "component_id = "+exposure.Str(id)+" AND link_type IN ('supplies', 'stocks', 'bom')")
	if err != nil {
		return err
	}
	var prodIDs []string
	for _, l := range direct {
		if l.typ == "bom" {
			prodIDs = append(prodIDs, l.prod)
		}
	}
	var makes []link
	if len(prodIDs) > 0 {
		if makes, err = links(ctx, q, "link_type = 'makes' AND product_id IN "+exposure.Strs(prodIDs)); err != nil {
			return err
		}
	}
	ids := []string{id}
	for _, l := range append(append([]link{}, direct...), makes...) {
		ids = append(ids, l.ent, l.prod, l.sup)
	}
	ns, err := nodes(ctx, q, dedup(ids))
	if err != nil {
		return err
	}
	comp, ok := ns[id]
	if !ok && len(direct) == 0 {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "component " + id + " is not in the supply map"}
	}
	if !ok {
		comp = Node{ID: id, Type: "component"}
	}
	out := ComponentDependents{Component: comp, Enterprises: []Dependent{}, Products: []ProductUse{}, Suppliers: []SupplierUse{},
		Substitutions: []Substitute{}}
	deps, sups := dependents(direct, makes, ns, &out)
	if err := scoreDependents(ctx, st, id, deps); err != nil {
		return err
	}
	if out.Substitutions, err = substitutes(ctx, q, id); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(deps)) {
		out.Enterprises = append(out.Enterprises, *deps[k])
	}
	sort.SliceStable(out.Enterprises, func(i, j int) bool {
		a, b := out.Enterprises[i].ExposureScore, out.Enterprises[j].ExposureScore
		return a != nil && (b == nil || *a > *b)
	})
	for _, k := range slices.Sorted(maps.Keys(sups)) {
		out.Suppliers = append(out.Suppliers, *sups[k])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// dependents groups the component's direct links (supplies, stocks, bom) and the makers of its
// products by enterprise (the dependents) and by supplier; bom links also fill out.Products.
func dependents(direct, makes []link, ns map[string]Node, out *ComponentDependents) (map[string]*Dependent, map[string]*SupplierUse) {
	deps := map[string]*Dependent{}
	dep := func(ent string) *Dependent {
		d, ok := deps[ent]
		if !ok {
			n := ns[ent]
			n.ID, n.Type = ent, firstNonEmpty(n.Type, "enterprise")
			d = &Dependent{Node: n, Via: []string{}, Products: []string{}, Suppliers: []SupplyShare{}}
			deps[ent] = d
		}
		return d
	}
	addVia := func(d *Dependent, v string) {
		if !slices.Contains(d.Via, v) {
			d.Via = append(d.Via, v)
		}
	}
	sups := map[string]*SupplierUse{}
	maker := map[string]string{}
	for _, l := range makes {
		maker[l.prod] = l.ent
	}
	for _, l := range direct {
		switch l.typ {
		case "supplies":
			d := dep(l.ent)
			addVia(d, "supplies")
			sn := ns[l.sup]
			d.Suppliers = append(d.Suppliers, SupplyShare{SupplierID: l.sup, SupplierName: sn.Name, Country: sn.Country, Share: l.share, Qualification: l.qual})
			su, ok := sups[l.sup]
			if !ok {
				n := sn
				n.ID, n.Type = l.sup, firstNonEmpty(n.Type, "supplier")
				su = &SupplierUse{Node: n}
				sups[l.sup] = su
			}
			su.Customers++
			su.MaxShare = max(su.MaxShare, l.share)
		case "stocks":
			addVia(dep(l.ent), "stocks")
		case "bom":
			out.Products = append(out.Products, ProductUse{ID: l.prod, Name: ns[l.prod].Name, EnterpriseID: maker[l.prod], QtyPerUnit: l.qty})
			if e := maker[l.prod]; e != "" {
				d := dep(e)
				addVia(d, "bom")
				if !slices.Contains(d.Products, l.prod) {
					d.Products = append(d.Products, l.prod)
				}
			}
		}
	}
	return deps, sups
}

// scoreDependents sets the latest exposure score and severity of each dependent for component id.
func scoreDependents(ctx context.Context, st *exposure.Store, id string, deps map[string]*Dependent) error {
	if len(deps) == 0 {
		return nil
	}
	fs, _, err := st.Findings(ctx, exposure.Filter{ComponentID: id}, exposure.Page{Limit: 10000})
	if err != nil {
		return err
	}
	for _, f := range fs {
		if d, ok := deps[f.EnterpriseID]; ok {
			sc := f.Score
			d.ExposureScore, d.Severity = &sc, st.Config().Severity.Of(sc)
		}
	}
	return nil
}

// substitutes reads the qualified alternates of component id, domestic first.
func substitutes(ctx context.Context, q exposure.Querier, id string) ([]Substitute, error) {
	out := []Substitute{}
	subSQL := "SELECT alt_component_id, alt_supplier_id, enterprise_id, qualification_days, domestic, country, notes " +
		"FROM substitutions FINAL WHERE component_id = " + exposure.Str(id) + " ORDER BY domestic DESC, qualification_days, alt_supplier_id"
	err := each(ctx, q, subSQL, func(r driver.Rows) error {
		var x Substitute
		var dom uint8
		if err := r.Scan(&x.AltComponentID, &x.AltSupplierID, &x.EnterpriseID, &x.QualificationDays, &dom, &x.Country, &x.Notes); err != nil {
			return err
		}
		x.Domestic = dom == 1
		out = append(out, x)
		return nil
	})
	return out, err
}

// GET /api/v1/supply/suppliers/{id}
func (s *server) supplierCustomers(w http.ResponseWriter, r *http.Request, _ principal) error {
	st, id, err := s.supplyRequest(r)
	if err != nil {
		return err
	}
	ctx, q := r.Context(), st.Querier()
	ls, err := links(ctx, q, "link_type = 'supplies' AND supplier_id = "+exposure.Str(id))
	if err != nil {
		return err
	}
	ids := []string{id}
	for _, l := range ls {
		ids = append(ids, l.ent, l.comp)
	}
	ns, err := nodes(ctx, q, dedup(ids))
	if err != nil {
		return err
	}
	sup, ok := ns[id]
	if !ok && len(ls) == 0 {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "supplier " + id + " is not in the supply map"}
	}
	if !ok {
		sup = Node{ID: id, Type: "supplier"}
	}
	out := SupplierCustomers{Supplier: sup, Supplies: []SupplyShare{}, Enterprises: []Node{}, Components: []Node{}}
	ents, comps := map[string]bool{}, map[string]bool{}
	for _, l := range ls {
		out.Supplies = append(out.Supplies, SupplyShare{SupplierID: id, SupplierName: sup.Name, Country: sup.Country,
			EnterpriseID: l.ent, ComponentID: l.comp, Share: l.share, Qualification: l.qual})
		ents[l.ent], comps[l.comp] = true, true
	}
	for _, k := range slices.Sorted(maps.Keys(ents)) {
		n := ns[k]
		n.ID, n.Type = k, firstNonEmpty(n.Type, "enterprise")
		out.Enterprises = append(out.Enterprises, n)
	}
	for _, k := range slices.Sorted(maps.Keys(comps)) {
		n := ns[k]
		n.ID, n.Type = k, firstNonEmpty(n.Type, "component")
		out.Components = append(out.Components, n)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// dedup returns the distinct non-empty values of ss, sorted.
func dedup(ss []string) []string {
	out := slices.DeleteFunc(slices.Clone(ss), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}
