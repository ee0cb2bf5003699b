package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/schemas"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// query wraps URL query parameters with validation that names the parameter.
type query struct {
	v       url.Values
	allowed map[string]bool
}

func newQuery(r *http.Request, allowed ...string) (*query, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("malformed query string: %v", err)
	}
	q := &query{v: v, allowed: map[string]bool{}}
	for _, a := range allowed {
		q.allowed[a] = true
	}
	var unknown []string
	for k, vs := range v {
		if !q.allowed[k] {
			unknown = append(unknown, k)
		} else if len(vs) > 1 {
			return nil, badRequest("parameter %s given %d times; give it once", k, len(vs))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		known := make([]string, 0, len(allowed))
		known = append(known, allowed...)
		slices.Sort(known)
		return nil, badRequest("unknown parameter(s) %s; this endpoint accepts %s", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return q, nil
}

func (q *query) str(k string) string { return strings.TrimSpace(q.v.Get(k)) }

// alias reads parameter k, also accepted as alt (e.g. enterprise and enterprise_id, the field name
// of the alert JSON); giving both with different values is a 400.
func (q *query) alias(k, alt string) (string, error) {
	v, a := q.str(k), q.str(alt)
	if v != "" && a != "" && v != a {
		return "", badRequest("parameters %s=%q and %s=%q disagree; give one of them", k, v, alt, a)
	}
	if v == "" {
		v = a
	}
	return v, nil
}

func (q *query) oneOf(k string, allowed ...string) (string, error) {
	v := q.str(k)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", badRequest("parameter %s=%q: want one of %s", k, v, strings.Join(allowed, ", "))
}

func (q *query) score(k string) (float64, error) {
	v := q.str(k)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
		return 0, badRequest("parameter %s=%q: want a score between 0 and 100", k, v)
	}
	return f, nil
}

func (q *query) boolean(k string) (bool, error) {
	v := q.str(k)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("parameter %s=%q: want true or false", k, v)
	}
	return b, nil
}

func (q *query) time(k string) (time.Time, error) {
	v := q.str(k)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequest("parameter %s=%q: want an RFC 3339 time (2026-11-22T00:00:00Z) or a date (2026-11-22)", k, v)
}

func (q *query) category(k string) (string, error) { return q.oneOf(k, schemas.Categories...) }

// page is a validated page request.
type page struct {
	limit, offset int
	hash          string // of the filters, checked against the cursor
}

// pageParams reads limit and cursor or page. filterKey identifies the filters and sort a cursor
// belongs to.
func (q *query) page(cfg Config, filterKey string) (page, error) {
	p := page{limit: cfg.DefaultLimit, hash: shortHash(filterKey)}
	if v := q.str("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cfg.MaxLimit {
			return p, badRequest("parameter limit=%q: want an integer between 1 and %d", v, cfg.MaxLimit)
		}
		p.limit = n
	}
	cur, pg := q.str("cursor"), q.str("page")
	switch {
	case cur != "" && pg != "":
		return p, badRequest("give cursor or page, not both")
	case cur != "":
		c, err := decodeCursor(cur)
		if err != nil {
			return p, badRequest("parameter cursor: not a cursor from this API (%v)", err)
		}
		if c.F != p.hash {
			return p, badRequest("parameter cursor: it belongs to a different query (filters or sort changed); start again without cursor")
		}
		p.offset = c.O
	case pg != "":
		n, err := strconv.Atoi(pg)
		if err != nil || n < 1 || n > 1_000_000 {
			return p, badRequest("parameter page=%q: want an integer >= 1", pg)
		}
		p.offset = (n - 1) * p.limit
	}
	return p, nil
}

type cursor struct {
	O int    `json:"o"`
	F string `json:"f"`
}

func (p page) next(total int) string {
	if p.offset+p.limit >= total {
		return ""
	}
	b, _ := json.Marshal(cursor{O: p.offset + p.limit, F: p.hash})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, err
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, err
	}
	if c.O < 0 || c.F == "" {
		return cursor{}, fmt.Errorf("malformed")
	}
	return c, nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

// filterKey canonicalises the query (minus paging) for cursor checks.
func filterKey(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		if k != "cursor" && k != "page" && k != "limit" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + v.Get(k) + "&")
	}
	return b.String()
}

// List is the envelope of every list response.
type List[T any] struct {
	Items      []T    `json:"items"`
	Total      int    `json:"total"`
	Limit      int    `json:"limit"`
	Offset     int    `json:"offset"`
	NextCursor string `json:"next_cursor,omitempty"`
}
