package api

import (
	"net/http"
	"slices"

	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/internal/exposure"
)

// LocalSourcingList is the body of GET /api/v1/local-sourcing.
type LocalSourcingList struct {
	Items []detectors.LocalSourcing `json:"items"`
}

// DemandList is the body of GET /api/v1/demands.
type DemandList struct {
	Items []detectors.Demand `json:"items"`
	Total int                `json:"total"`
}

func (s *server) regional() (*exposure.Regional, error) {
	if s.deps.Regional == nil {
		return nil, notImplemented("the regional views (local sourcing, ledger, demands)")
	}
	return s.deps.Regional, nil
}

// GET /api/v1/local-sourcing?as_of=
func (s *server) localSourcing(w http.ResponseWriter, r *http.Request, _ principal) error {
	rg, err := s.regional()
	if err != nil {
		return err
	}
	q, err := newQuery(r, "as_of")
	if err != nil {
		return err
	}
	at, err := q.time("as_of")
	if err != nil {
		return err
	}
	rows, err := rg.LocalSourcing(r.Context(), at)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []detectors.LocalSourcing{}
	}
	writeJSON(w, http.StatusOK, LocalSourcingList{Items: rows})
	return nil
}

// GET /api/v1/ledger?as_of=&owner=
func (s *server) ledger(w http.ResponseWriter, r *http.Request, _ principal) error {
	rg, err := s.regional()
	if err != nil {
		return err
	}
	q, err := newQuery(r, "as_of", "owner")
	if err != nil {
		return err
	}
	at, err := q.time("as_of")
	if err != nil {
		return err
	}
	l, err := rg.Ledger(r.Context(), at)
	if err != nil {
		return err
	}
	if owner := q.str("owner"); owner != "" {
		items := []detectors.LedgerStatus{}
		for _, it := range l.Items {
			if it.Owner == owner {
				items = append(items, it)
			}
		}
		l.Items = items
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// GET /api/v1/demands?as_of=&region=&component=&need=
func (s *server) demands(w http.ResponseWriter, r *http.Request, _ principal) error {
	rg, err := s.regional()
	if err != nil {
		return err
	}
	q, err := newQuery(r, "as_of", "region", "component", "need")
	if err != nil {
		return err
	}
	at, err := q.time("as_of")
	if err != nil {
		return err
	}
	need, err := q.oneOf("need", detectors.DemandFlags...)
	if err != nil {
		return err
	}
	ds, err := rg.Demands(r.Context(), at)
	if err != nil {
		return err
	}
	out := DemandList{Items: []detectors.Demand{}}
	region, comp := q.str("region"), q.str("component")
	for _, d := range ds {
		if (region != "" && d.Region != region) || (comp != "" && d.ComponentID != comp) || (need != "" && !slices.Contains(d.Needs, need)) {
			continue
		}
		out.Items = append(out.Items, d)
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}
