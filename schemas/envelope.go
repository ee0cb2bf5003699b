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
	id := eventIDHex(source, kind, naturalKey)
	return string(id[:])
}

// eventIDHex is EventID in a fixed array, hashed from a stack buffer for the usual short keys.
func eventIDHex(source string, kind Kind, naturalKey string) [32]byte {
	var buf [256]byte
	b := append(buf[:0], source...)
	b = append(b, 0x1f)
	b = append(b, kind...)
	b = append(b, 0x1f)
	b = append(b, naturalKey...)
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

// ValidateEnvelope checks the envelope fields (not the payload).
func (e *Envelope) ValidateEnvelope() error {
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
	if _, ok := Lookup(e.Kind); !ok {
		errs = append(errs, fmt.Errorf("kind: unknown %q", e.Kind))
	}
	if e.OccurredAt.IsZero() {
		errs = append(errs, errors.New("occurred_at: missing"))
	}
	if len(e.Payload) == 0 || string(e.Payload) == "null" {
		errs = append(errs, errors.New("payload: missing"))
	}
	return errors.Join(errs...)
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
	env, rec, err := decode(value, wantKind, true)
	if err != nil {
		// The fast path does not check the whole value (an invalid payload, "payload": null with
		// a space): every error is the reflective decoder's, so its reason does not depend on the
		// path (FuzzDecode).
		return decode(value, wantKind, false)
	}
	return env, rec, nil
}

func decode(value []byte, wantKind Kind, tryFast bool) (Envelope, Record, error) {
	var env Envelope
	fast := false
	if tryFast {
		env, fast = decodeEnvelopeFast(value)
	}
	if !fast {
		env = Envelope{}
		if err := json.Unmarshal(value, &env); err != nil {
			return env, nil, &DecodeError{"bad_json", err}
		}
	}
	if err := env.ValidateEnvelope(); err != nil {
		return env, nil, &DecodeError{"bad_envelope", err}
	}
	if wantKind != "" && env.Kind != wantKind {
		return env, nil, &DecodeError{"kind_mismatch", fmt.Errorf("topic carries %q, record says %q", wantKind, env.Kind)}
	}
	var rec Record
	if tryFast {
		rec, fast = decodePayloadFast(env.Kind, env.Payload)
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
	if err := rec.Validate(); err != nil {
		return env, nil, &DecodeError{"invalid", err}
	}
	if nk := rec.NaturalKey(); !eventIDMatches(env.EventID, env.Source, env.Kind, nk) {
		want := EventID(env.Source, env.Kind, nk)
		return env, nil, &DecodeError{"invalid", fmt.Errorf("event_id: %s does not match the natural key (want %s)", env.EventID, want)}
	}
	return env, rec, nil
}

// eventIDMatches reports whether id == EventID(source, kind, naturalKey), without allocating for
// the usual short keys (the sink checks every record).
func eventIDMatches(id, source string, kind Kind, naturalKey string) bool {
	if len(id) != 32 {
		return false
	}
	hx := eventIDHex(source, kind, naturalKey)
	return string(hx[:]) == id
}
