package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// AckRequest is the body of POST /api/v1/alerts/{fingerprint}/ack.
type AckRequest struct {
	By        string    `json:"by"`
	Comment   string    `json:"comment,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Duration  string    `json:"duration,omitempty"` // alternative to expires_at, e.g. "24h"
}

// SilenceRequest is the body of POST /api/v1/silences.
type SilenceRequest struct {
	Matchers  Matchers  `json:"matchers"`
	StartsAt  time.Time `json:"starts_at,omitzero"`
	EndsAt    time.Time `json:"ends_at,omitzero"`
	Duration  string    `json:"duration,omitempty"` // alternative to ends_at, from starts_at (or now)
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment,omitempty"`
}

// Handler serves the alerts API (mount it at the server root; paths are absolute):
//
//	GET    /api/v1/alerts                     ?enterprise_id= component_id= category= status= severity= state=
//	GET    /api/v1/alerts/{fingerprint}
//	POST   /api/v1/alerts/{fingerprint}/ack   AckRequest
//	DELETE /api/v1/alerts/{fingerprint}/ack
//	GET    /api/v1/silences
//	POST   /api/v1/silences                   SilenceRequest → 201
//	GET    /api/v1/silences/{id}
//	DELETE /api/v1/silences/{id}              expires the silence
//
// Authentication is the mounting server's business.
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/alerts", m.handleList)
	mux.HandleFunc("GET /api/v1/alerts/{fingerprint}", func(w http.ResponseWriter, r *http.Request) {
		v, err := m.Alert(r.PathValue("fingerprint"))
		reply(w, http.StatusOK, v, err)
	})
	mux.HandleFunc("POST /api/v1/alerts/{fingerprint}/ack", m.handleAck)
	mux.HandleFunc("DELETE /api/v1/alerts/{fingerprint}/ack", func(w http.ResponseWriter, r *http.Request) {
		v, err := m.Unack(r.PathValue("fingerprint"))
		reply(w, http.StatusOK, v, err)
	})
	mux.HandleFunc("GET /api/v1/silences", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]any{"silences": m.Silences()}, nil)
	})
	mux.HandleFunc("POST /api/v1/silences", m.handleSilence)
	mux.HandleFunc("GET /api/v1/silences/{id}", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Silence(r.PathValue("id"))
		reply(w, http.StatusOK, s, err)
	})
	mux.HandleFunc("DELETE /api/v1/silences/{id}", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.ExpireSilence(r.PathValue("id"))
		reply(w, http.StatusOK, s, err)
	})
	return mux
}

func (m *Manager) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{
		EnterpriseID: q.Get("enterprise_id"), ComponentID: q.Get("component_id"), Category: q.Get("category"),
		Status: Status(q.Get("status")), State: q.Get("state"),
	}
	if f.Status != "" && f.Status != StatusFiring && f.Status != StatusResolved {
		reply(w, 0, nil, badRequest("status: want firing or resolved"))
		return
	}
	if s := q.Get("severity"); s != "" {
		sev, err := ParseSeverity(s)
		if err != nil {
			reply(w, 0, nil, badRequest("severity: %v", err))
			return
		}
		f.MinSeverity = sev
	}
	alerts := m.Alerts(f)
	reply(w, http.StatusOK, map[string]any{"alerts": alerts, "count": len(alerts)}, nil)
}

func (m *Manager) handleAck(w http.ResponseWriter, r *http.Request) {
	var req AckRequest
	if err := decode(r, &req); err != nil {
		reply(w, 0, nil, err)
		return
	}
	exp := req.ExpiresAt
	if req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			reply(w, 0, nil, badRequest("duration: %q is not a positive duration", req.Duration))
			return
		}
		exp = m.now().Add(d)
	}
	v, err := m.Ack(r.PathValue("fingerprint"), req.By, req.Comment, exp)
	reply(w, http.StatusOK, v, err)
}

func (m *Manager) handleSilence(w http.ResponseWriter, r *http.Request) {
	var req SilenceRequest
	if err := decode(r, &req); err != nil {
		reply(w, 0, nil, err)
		return
	}
	s := Silence{Matchers: req.Matchers, StartsAt: req.StartsAt, EndsAt: req.EndsAt, CreatedBy: req.CreatedBy, Comment: req.Comment}
	if req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			reply(w, 0, nil, badRequest("duration: %q is not a positive duration", req.Duration))
			return
		}
		start := s.StartsAt
		if start.IsZero() {
			start = m.now()
		}
		s.EndsAt = start.Add(d)
	}
	out, err := m.AddSilence(s)
	reply(w, http.StatusCreated, out, err)
}

type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &httpError{code: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("body: %v", err)
	}
	return nil
}

func reply(w http.ResponseWriter, code int, v any, err error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err != nil {
		var he *httpError
		switch {
		case errors.As(err, &he):
			code = he.code
		case errors.Is(err, ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, ErrInvalid):
			code = http.StatusBadRequest
		default:
			code = http.StatusInternalServerError
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
