package schemas

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind names an event kind. Each kind has one Kafka topic (TopicPrefix + "." + Kind.Topic()) and
// one ClickHouse table.
type Kind string

const (
	KindTrade        Kind = "trade"        // HS-code trade flow (Comtrade / BACI)
	KindProduction   Kind = "production"   // country production statistics of a material (USGS MCS)
	KindProcurement  Kind = "procurement"  // OCDS award
	KindAvailability Kind = "availability" // component stock / lead time / lifecycle snapshot
	KindSupplyNode   Kind = "supply_node"  // supply map entity: enterprise, product, component, supplier
	KindSupplyLink   Kind = "supply_link"  // supply map edge: makes, bom, supplies, stocks
	KindSubstitution Kind = "substitution" // substitution list (替代清单) entry
)

// Record is the payload of one event kind.
type Record interface {
	Kind() Kind
	// NaturalKey identifies the real-world record; with the source it determines the event id.
	NaturalKey() string
	// OccurredAt is the business time of the record (period, award date, as-of); it picks the
	// monthly partition. Zero means "use ingest time".
	OccurredAt() time.Time
	// Validate returns every problem, each naming its JSON field.
	Validate() error
	// AppendValues appends the payload's column values, in Spec.Columns order, to dst.
	AppendValues(dst []any) []any
}

// Spec describes one kind: its table, its payload columns (after the envelope columns) and a constructor.
type Spec struct {
	Kind    Kind
	Table   string
	Columns []string
	New     func() Record
}

// EnvelopeColumns are the leading columns of every event table.
var EnvelopeColumns = []string{"event_id", "source", "occurred_at", "ingested_at", "schema_version"}

// AllColumns returns envelope + payload columns, the explicit INSERT column list.
func (s Spec) AllColumns() []string {
	out := make([]string, 0, len(EnvelopeColumns)+len(s.Columns))
	return append(append(out, EnvelopeColumns...), s.Columns...)
}

// InsertSQL is the statement given to PrepareBatch.
func (s Spec) InsertSQL() string {
	return "INSERT INTO " + s.Table + " (" + joinCols(s.AllColumns()) + ")"
}

func joinCols(c []string) string { return strings.Join(c, ", ") }

// Topic returns the Kafka topic of the kind under prefix, e.g. "chainwatch.trade.v1".
func (k Kind) Topic(prefix string) string {
	return fmt.Sprintf("%s.%s.v%d", prefix, k, SchemaVersion)
}

// DeadLetterTopic is where rejected records go, with their reason in headers.
func DeadLetterTopic(prefix string) string { return prefix + ".deadletter.v1" }

// specs is the explicit, static registry of kinds.
var specs = func() map[Kind]Spec {
	m := map[Kind]Spec{}
	for _, s := range []Spec{tradeSpec, productionSpec, procurementSpec, availabilitySpec, nodeSpec, linkSpec, substitutionSpec} {
		m[s.Kind] = s
	}
	return m
}()

// Lookup returns the spec of a kind.
func Lookup(k Kind) (Spec, bool) { s, ok := specs[k]; return s, ok }

// Kinds lists every kind, sorted.
func Kinds() []Kind {
	out := make([]Kind, 0, len(specs))
	for k := range specs {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// AppendEnvelope appends the envelope column values in EnvelopeColumns order.
func AppendEnvelope(dst []any, e *Envelope) []any {
	return append(dst, e.EventID, e.Source, e.OccurredAt.UTC(), e.IngestedAt.UTC(), uint16(e.SchemaVersion))
}

// ---- validation helpers -------------------------------------------------------------------------

type verrs []error

func (v *verrs) add(field, format string, args ...any) {
	*v = append(*v, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}
func (v *verrs) required(field, val string) {
	if strings.TrimSpace(val) == "" {
		v.add(field, "required")
	}
}
func (v *verrs) nonNeg(field string, f float64) {
	switch {
	case f < 0 || f != f:
		v.add(field, "must be a non-negative number, got %v", f)
	case f > MaxQuantity:
		v.add(field, "%v is beyond %g (not a plausible quantity; an overflow or a unit error)", f, MaxQuantity)
	}
}

// MaxQuantity bounds every quantity, value and count of a record: world trade in a year is about
// 3e13 USD, so anything beyond 1e15 is an overflow, a unit error or an attack (1e308 sums to +Inf).
const MaxQuantity = 1e15

// Dates outside ClickHouse's DateTime range (1970-01-01 to 2106-02-07) would be stored wrapped, so
// every record date must fall in MinTime..MaxTime.
var (
	MinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
)

// date checks a required record time: set, and inside MinTime..MaxTime.
func (v *verrs) date(field string, t time.Time) {
	switch {
	case t.IsZero():
		v.add(field, "required (missing, or 0001-01-01)")
	case t.Before(MinTime) || t.After(MaxTime):
		v.add(field, "%s is outside %d..%d", t.UTC().Format(time.RFC3339), MinTime.Year(), MaxTime.Year())
	}
}
func (v *verrs) oneOf(field, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.add(field, "%q is not one of %s", val, strings.Join(allowed, ", "))
}
func (v verrs) err() error { return errors.Join(v...) }

// ValidHS reports whether code is an HS chapter, heading or subheading (2, 4 or 6 digits).
func ValidHS(code string) bool {
	if len(code) != 2 && len(code) != 4 && len(code) != 6 {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// validISO3 reports whether s is three upper-case ASCII letters (an ISO 3166 alpha-3 code's shape).
func validISO3(s string) bool {
	return len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z'
}

// HSChapter returns the 2-digit chapter of an HS code.
func HSChapter(code string) string {
	if len(code) < 2 {
		return ""
	}
	return code[:2]
}

func (v *verrs) iso3(field, val string, optional bool) {
	if val == "" && optional {
		return
	}
	if !validISO3(val) {
		v.add(field, "%q is not an ISO 3166 alpha-3 code", val)
	}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
