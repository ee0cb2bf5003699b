package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/chainwatch/chainwatch/internal/chainmap"
)

// ChainMaps serves the configured industry chains and their maps (*chainmap.Service).
type ChainMaps interface {
	Chains() []chainmap.Chain
	Map(ctx context.Context, id, region string) (chainmap.Map, error)
}

var _ ChainMaps = (*chainmap.Service)(nil)

// ChainSummary is one configured chain in GET /api/v1/chains.
type ChainSummary struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Industry string          `json:"industry,omitempty"`
	Links    []chainmap.Link `json:"links"`
	MapURL   string          `json:"map_url"`
}

const maxRegionLen = 200

func (s *server) listChains(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.deps.Chains == nil {
		return notImplemented("the chain map (chains section)")
	}
	if _, err := newQuery(r); err != nil {
		return err
	}
	out := List[ChainSummary]{Items: []ChainSummary{}}
	for _, c := range s.deps.Chains.Chains() {
		out.Items = append(out.Items, ChainSummary{ID: c.ID, Name: c.Name, Industry: c.Industry, Links: c.Links,
			MapURL: Prefix + "chains/" + c.ID + "/map"})
	}
	out.Total = len(out.Items)
	out.Limit = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) chainMap(w http.ResponseWriter, r *http.Request, _ principal) error {
	if s.deps.Chains == nil {
		return notImplemented("the chain map (chains section)")
	}
	q, err := newQuery(r, "region", "format")
	if err != nil {
		return err
	}
	format, err := q.oneOf("format", "json", "svg", "html")
	if err != nil {
		return err
	}
	region := q.str("region")
	if len(region) > maxRegionLen || strings.ContainsAny(region, "\x00\n\r") {
		return badRequest("region: want a region, a comma-separated list or a region group of at most %d characters", maxRegionLen)
	}
	id := strings.TrimSpace(r.PathValue("id"))
	m, err := s.deps.Chains.Map(r.Context(), id, region)
	if errors.Is(err, chainmap.ErrUnknownChain) {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "no chain " + id + " (see /api/v1/chains)"}
	}
	if err != nil {
		return err
	}
	var body []byte
	switch format {
	case "svg":
		body = chainmap.SVG(m)
		w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	case "html":
		if body, err = chainmap.HTML(m); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	default:
		writeJSON(w, http.StatusOK, m)
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}
