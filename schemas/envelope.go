// Package schemas holds chainwatch's versioned event envelope, the payload types of every event kind,
// their validation, their ClickHouse column mapping and the embedded ClickHouse migrations.
//
// It imports no other chainwatch package: collectors, the sink, detectors and reports depend on it,
// never the other way round.
package schemas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"slices"
	"strings"
	"time"
)

// SchemaVersion is the envelope version written by this build. Consumers accept versions
// from 1 up to SchemaVersion and reject newer ones with a clear reason.
const SchemaVersion = 1

// Envelope wraps every event on Kafka.
//
// EventID is a deterministic hash of Source and the payload's natural key (see EventID), so a
// re-sent record gets the same id and collapses in ClickHouse's ReplacingMergeTree tables.
type Envelope struct {
	SchemaVersion int             `json:"schema_version"`
	EventID       string          `json:"event_id"`
	Source        string          `json:"source"`
	Kind          Kind            `json:"kind"`
	OccurredAt    time.Time       `json:"occurred_at"`
	IngestedAt    time.Time       `json:"ingested_at"`
	Payload       json.RawMessage `json:"payload"`
}

// EventID returns the deterministic id of a record: hex(sha256(source \x1f kind \x1f naturalKey))[:32].
func EventID(source string, kind Kind, naturalKey string) string {
	var buf [256]byte
	id := idHex(append(idPrefix(buf[:0], source, kind), naturalKey...))
	return string(id[:])
}

// idPrefix appends what precedes the natural key in the hashed text of an event id.
func idPrefix(b []byte, source string, kind Kind) []byte {
	b = append(b, source...)
	b = append(b, 0x1f)
	b = append(b, kind...)
	return append(b, 0x1f)
}

// idHex is the event id of the hashed text b, in a fixed array.
func idHex(b []byte) [32]byte {
	sum := sha256.Sum256(b)
	var hx [32]byte
	hex.Encode(hx[:], sum[:16])
	return hx
}

// NewEnvelope validates rec and wraps it. source names the feed (e.g. "comtrade-api", "usgs-mcs2024").
func NewEnvelope(source string, rec Record, now time.Time) (Envelope, error) {
	if strings.TrimSpace(source) == "" {
		return Envelope{}, errors.New("envelope: source is empty")
	}
	if err := rec.Validate(); err != nil {
		return Envelope{}, err
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return Envelope{}, fmt.Errorf("envelope: marshal %s payload: %w", rec.Kind(), err)
	}
	occ := rec.OccurredAt()
	if occ.IsZero() {
		occ = now
	}
	return Envelope{
		SchemaVersion: SchemaVersion,
		EventID:       EventID(source, rec.Kind(), rec.NaturalKey()),
		Source:        source,
		Kind:          rec.Kind(),
		OccurredAt:    occ.UTC(),
		IngestedAt:    now.UTC(),
		Payload:       raw,
	}, nil
}

// Key is the Kafka record key: the event id, so every version of a natural key lands on one partition.
func (e *Envelope) Key() []byte { return []byte(e.EventID) }

// ValidateEnvelope checks the envelope fields (not the payload's own).
func (e *Envelope) ValidateEnvelope() error {
	errs := e.headerErrors()
	if len(e.Payload) == 0 || string(e.Payload) == "null" {
		errs = append(errs, errors.New("payload: missing"))
	}
	return errors.Join(errs...)
}

// headerErrors are the problems of the envelope's fields but the payload, whatever its encoding.
func (e *Envelope) headerErrors() []error {
	var errs []error
	if e.SchemaVersion < 1 || e.SchemaVersion > SchemaVersion {
		errs = append(errs, fmt.Errorf("schema_version: %d not supported (1..%d)", e.SchemaVersion, SchemaVersion))
	}
	if len(e.EventID) == 0 || len(e.EventID) > 64 {
		errs = append(errs, fmt.Errorf("event_id: must be 1..64 characters, got %d", len(e.EventID)))
	}
	if e.Source == "" {
		errs = append(errs, errors.New("source: empty"))
	}
	if !slices.Contains(knownKinds, e.Kind) { // Lookup's map, without hashing the kind of every event
		errs = append(errs, fmt.Errorf("kind: unknown %q", e.Kind))
	}
	if e.OccurredAt.IsZero() {
		errs = append(errs, errors.New("occurred_at: missing"))
	}
	return errs
}

// DecodeError is returned by Decode: Reason is a short machine-friendly class
// ("bad_json", "bad_envelope", "bad_payload", "invalid", "unknown_kind", "kind_mismatch"),
// Err the detail. Both are stored with rejected records.
type DecodeError struct {
	Reason string
	Err    error
}

func (e *DecodeError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// Decode parses one Kafka record value into its envelope and validated payload.
// wantKind, if non-empty, is the kind the topic carries.
// The plain shape producers write is decoded without reflection (fastjson.go); anything else, and
// every error, goes through the reflective decoder.
func Decode(value []byte, wantKind Kind) (Envelope, Record, error) {
	return decodeFast(value, wantKind, false)
}

// DecodeShared is Decode without copying strings: the envelope's and the record's strings may
// share value's memory, so value must not change while they are in use, and it stays in memory
// as long as any of them does. The sink decodes every record this way: kafka-go gives each
// message its own value, and the rows are copied into the INSERT's blocks within the batch.
func DecodeShared(value []byte, wantKind Kind) (Envelope, Record, error) {
	return decodeFast(value, wantKind, true)
}

func decodeFast(value []byte, wantKind Kind, shared bool) (Envelope, Record, error) {
	env, rec, err := decode(value, wantKind, true, shared)
	if err != nil {
		// The fast path does not check the whole value (an invalid payload, "payload": null with
		// a space): every error is the reflective decoder's, so its reason does not depend on the
		// path (FuzzDecode).
		return decode(value, wantKind, false, false)
	}
	return env, rec, nil
}

func decode(value []byte, wantKind Kind, tryFast, shared bool) (Envelope, Record, error) {
	var env Envelope
	var rec Record
	fast := false
	if tryFast {
		env, rec, fast = decodeEnvelopeFast(value, shared)
	}
	if !fast {
		var slow Envelope // not env: taking env's address would put every decode's envelope on the heap
		err := json.Unmarshal(value, &slow)
		env, rec = slow, nil
		if err != nil {
			return env, nil, &DecodeError{"bad_json", err}
		}
	}
	if err := env.ValidateEnvelope(); err != nil {
		return env, nil, &DecodeError{"bad_envelope", err}
	}
	if wantKind != "" && env.Kind != wantKind {
		return env, nil, &DecodeError{"kind_mismatch", fmt.Errorf("topic carries %q, record says %q", wantKind, env.Kind)}
	}
	switch {
	case rec != nil: // decoded with the envelope
		fast = true
	case tryFast:
		rec, fast = decodePayloadFast(env.Kind, env.Payload, shared)
	}
	if !fast {
		spec, _ := Lookup(env.Kind)
		rec = spec.New()
		dec := json.NewDecoder(bytes.NewReader(env.Payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(rec); err != nil {
			return env, nil, &DecodeError{"bad_payload", err}
		}
	}
	if err := checkRecord(&env, rec); err != nil {
		return env, nil, err
	}
	return env, rec, nil
}

// checkRecord validates a decoded record and its envelope's event id.
func checkRecord(env *Envelope, rec Record) error {
	if err := rec.Validate(); err != nil {
		return &DecodeError{"invalid", err}
	}
	if !eventIDMatches(env.EventID, env.Source, env.Kind, rec) {
		want := EventID(env.Source, env.Kind, rec.NaturalKey())
		return &DecodeError{"invalid", fmt.Errorf("event_id: %s does not match the natural key (want %s)", env.EventID, want)}
	}
	return nil
}

// eventIDMatches reports whether id == EventID(source, kind, rec.NaturalKey()), without allocating
// for the usual short keys (the sink checks every record): the key is written into the hashed
// buffer (appendKey) rather than built as a string.
func eventIDMatches(id, source string, kind Kind, rec Record) bool {
	if len(id) != 32 {
		return false
	}
	var buf [256]byte // on the stack: the usual text is shorter
	hx := idHex(appendKey(idPrefix(buf[:0], source, kind), rec))
	return string(hx[:]) == id
}
