package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/chainwatch/chainwatch/internal/i18n"
	"github.com/chainwatch/chainwatch/internal/report"
)

func (s *server) digests() (Digests, error) {
	if s.deps.Digests == nil {
		return nil, notImplemented("the digest service")
	}
	return s.deps.Digests, nil
}

// GET /api/v1/digests
func (s *server) listDigests(w http.ResponseWriter, r *http.Request, _ principal) error {
	svc, err := s.digests()
	if err != nil {
		return err
	}
	q, err := newQuery(r, "region", "industry", "limit")
	if err != nil {
		return err
	}
	var region, industry *string
	if r.URL.Query().Has("region") {
		v := q.str("region")
		region = &v
	}
	if r.URL.Query().Has("industry") {
		v := q.str("industry")
		industry = &v
	}
	limit := s.cfg.DefaultLimit
	if v := q.str("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.cfg.MaxLimit {
			return badRequest("parameter limit=%q: want an integer between 1 and %d", v, s.cfg.MaxLimit)
		}
		limit = n
	}
	es, err := svc.List(r.Context(), region, industry, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[report.Entry]{Items: es, Total: len(es), Limit: limit})
	return nil
}

// GET /api/v1/digests/{week}
func (s *server) getDigest(w http.ResponseWriter, r *http.Request, _ principal) error {
	svc, err := s.digests()
	if err != nil {
		return err
	}
	week, err := report.ParseWeek(r.PathValue("week"))
	if err != nil {
		return badRequest("%v", err)
	}
	q, err := newQuery(r, "format", "region", "industry", "lang")
	if err != nil {
		return err
	}
	format, err := q.oneOf("format", report.FormatHTML, report.FormatMarkdown, report.FormatCSV, report.FormatJSON)
	if err != nil {
		return err
	}
	if format == "" {
		format = report.FormatHTML
	}
	lang, err := i18n.Parse(q.str("lang"))
	if err != nil {
		return badRequest("parameter lang: %v", err)
	}
	scope := report.Scope{Region: q.str("region"), Industry: q.str("industry")}
	body, err := svc.Get(r.Context(), week, scope, format, lang)
	if errors.Is(err, report.ErrFutureWeek) {
		return badRequest("%v", err)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", report.ContentType(format))
	if format == report.FormatCSV || format == report.FormatMarkdown {
		name := "chainwatch-digest-" + week.String()
		if scope.Region != "" {
			name += "-" + safeName(scope.Region)
		}
		if scope.Industry != "" {
			name += "-" + safeName(scope.Industry)
		}
		if lang != "" {
			name += "-" + safeName(lang)
		}
		w.Header().Set("Content-Disposition", `inline; filename="`+name+"."+format+`"`)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

func safeName(s string) string {
	b := []rune{}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b = append(b, r)
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}
