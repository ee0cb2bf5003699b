// Package api is chainwatch's HTTP API v1 (JSON): exposures and findings with their explained
// terms, alerts (list, acknowledge, silence — through AlertService), weekly digests, and supply-map
// lookups. Every endpoint but /api/v1/openapi.yaml needs a bearer token from api.tokens (stored as
// SHA-256 hashes, compared in constant time); "read" tokens may GET, "operate" tokens may also POST
// and DELETE. Errors are JSON {"code": "...", "message": "..."}. The OpenAPI 3 document
// (openapi.yaml, embedded) describes every route; a test keeps both in step. See docs/api.md.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/report"
)

// Prefix is where the lead mounts the handler: mux.Handle(api.Prefix, api.New(...)). The handler
// matches full paths (no http.StripPrefix).
const Prefix = "/api/v1/"

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the embedded OpenAPI 3 document.
func OpenAPI() []byte { return openAPI }

// Digests serves and lists weekly digests (*report.Service satisfies it).
type Digests interface {
	// Get returns the digest in format and lang (zh-CN or en; "" = the scope's configured language).
	Get(ctx context.Context, week report.Week, scope report.Scope, format, lang string) ([]byte, error)
	List(ctx context.Context, region, industry *string, limit int) ([]report.Entry, error)
}

var _ Digests = (*report.Service)(nil)

// Deps are the API's collaborators. Store is required; the others may be nil, in which case their
// endpoints answer 501 not_implemented.
type Deps struct {
	// Store reads findings and the supply map (exposure.NewStore(conn, cfg.API.Exposure)).
	Store *exposure.Store
	// Digests is the digest service (report.New(conn, cfg.API.Exposure, cfg.Digest, log)).
	Digests Digests
	// Alerts is the alert service (the lead adapts the alerts package's manager).
	Alerts AlertService
	// DetectorNames are the detectors /findings accepts and, without ?detector=, lists.
	DetectorNames []string
	// Regional serves the local-sourcing index, the 卡点 ledger and the demand board (regional.go).
	Regional *exposure.Regional
	// Scenarios runs what-if scenarios (scenarios.go).
	Scenarios ScenarioService
	// Chains serves the industry chain maps (chains.go).
	Chains ChainMaps
	// Guard checks the bearer tokens; nil: NewGuard(cfg, log). Pass the Guard that also protects
	// the daemon's control endpoints so that they share the failed-authentication budget.
	Guard *Guard
}

// Role requirements.
const (
	rolePublic = ""
	roleRead   = RoleRead
	roleOp     = RoleOperate
)

// Route is one registered endpoint.
type Route struct {
	Method string
	Path   string // ServeMux pattern path, e.g. /api/v1/alerts/{fingerprint}/ack
	Role   string // "" (public), read or operate
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

type route struct {
	Route
	h handlerFunc
}

type server struct {
	deps   Deps
	cfg    Config
	log    *slog.Logger
	auth   *Guard
	mux    *http.ServeMux
	routes []route
}

// New returns the API handler for paths under /api/v1/.
func New(deps Deps, cfg Config, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	guard := deps.Guard
	if guard == nil {
		guard = NewGuard(cfg, log)
	}
	s := &server{deps: deps, cfg: cfg, log: log, auth: guard, mux: http.NewServeMux()}
	s.routes = s.table()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	return s
}

// Routes lists the registered endpoints (for the OpenAPI consistency test and docs).
func Routes() []Route {
	s := &server{}
	var out []Route
	for _, rt := range s.table() {
		out = append(out, rt.Route)
	}
	return out
}

func (s *server) table() []route {
	r := func(method, path, role string, h handlerFunc) route {
		return route{Route{method, "/api/v1" + path, role}, h}
	}
	return []route{
		r("GET", "/openapi.yaml", rolePublic, s.openapi),
		r("GET", "/exposures", roleRead, s.exposures),
		r("GET", "/findings", roleRead, s.findings),
		r("GET", "/runs", roleRead, s.runs),
		r("GET", "/alerts", roleRead, s.listAlerts),
		r("GET", "/alerts/{fingerprint}", roleRead, s.getAlert),
		r("POST", "/alerts/{fingerprint}/ack", roleOp, s.ackAlert),
		r("GET", "/silences", roleRead, s.listSilences),
		r("POST", "/silences", roleOp, s.createSilence),
		r("DELETE", "/silences/{id}", roleOp, s.expireSilence),
		r("GET", "/digests", roleRead, s.listDigests),
		r("GET", "/digests/{week}", roleRead, s.getDigest),
		r("GET", "/supply/components/{id}", roleRead, s.componentDependents),
		r("GET", "/supply/suppliers/{id}", roleRead, s.supplierCustomers),
		r("POST", "/scenarios", roleOp, s.runScenario),
		r("GET", "/local-sourcing", roleRead, s.localSourcing),
		r("GET", "/ledger", roleRead, s.ledger),
		r("GET", "/demands", roleRead, s.demands),
		r("GET", "/chains", roleRead, s.listChains),
		r("GET", "/chains/{id}/map", roleRead, s.chainMap),
		r("GET", "/vocabulary", roleRead, s.vocabulary),
	}
}

// ServeHTTP routes the request; unknown paths get a JSON 404, known paths with another method a
// JSON 405 with Allow.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range []string{"GET", "POST", "DELETE", "PUT", "PATCH"} {
		rr := r.Clone(r.Context())
		rr.Method = m
		if _, p := s.mux.Handler(rr); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			msg: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allow, ", ")})
		return
	}
	writeError(w, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such endpoint: " + r.URL.Path + " (see /api/v1/openapi.yaml)"})
}

func (s *server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		p, aerr := s.auth.check(r, rt.Role)
		if aerr != nil {
			writeAuthError(w, aerr)
			s.log.Debug("api request refused", "method", r.Method, "path", r.URL.Path, "status", aerr.status)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
		defer cancel()
		err := rt.h(w, r.WithContext(ctx), p)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				switch {
				case errors.Is(err, ErrNotFound):
					ae = &apiError{status: http.StatusNotFound, code: "not_found", msg: err.Error()}
				case errors.Is(err, ErrInvalid):
					ae = &apiError{status: http.StatusBadRequest, code: "bad_request", msg: err.Error()}
				case errors.Is(err, ErrUnavailable):
					ae = &apiError{status: http.StatusServiceUnavailable, code: "unavailable", msg: err.Error()}
				case errors.Is(err, context.DeadlineExceeded):
					ae = &apiError{status: http.StatusGatewayTimeout, code: "timeout", msg: "the query took longer than api.query_timeout"}
					s.log.Warn("api request timed out", "method", r.Method, "path", r.URL.Path, "err", err)
				default:
					ae = &apiError{status: http.StatusInternalServerError, code: "internal", msg: "internal error; see the server log"}
					s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "token", p.name, "err", err)
				}
			}
			writeError(w, ae)
		}
		s.log.Debug("api request", "method", r.Method, "path", r.URL.Path, "token", p.name, "duration", time.Since(start))
	})
}

// Sentinel errors an AlertService (or Digests) returns, wrapped, to get 404, 400 or 503.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid request")
	// ErrUnavailable: this daemon cannot do it now (its alert manager is on standby: another
	// daemon holds the leader lease); the client retries on the leader.
	ErrUnavailable = errors.New("unavailable")
)

// apiError is an error with its HTTP status and JSON code.
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter int // seconds, for 429
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: "bad_request", msg: sprintf(format, args...)}
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, ErrorBody{Code: e.code, Message: e.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *server) openapi(w http.ResponseWriter, _ *http.Request, _ principal) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
	return nil
}

func notImplemented(what string) error {
	return &apiError{status: http.StatusNotImplemented, code: "not_implemented", msg: what + " is not configured in this daemon"}
}
