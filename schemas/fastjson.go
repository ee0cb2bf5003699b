package schemas

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// A hand-written decoder for the envelope and the payloads, without reflection: the sink's hot path.
// It handles only the plain shape the producers write (known keys spelled exactly, strings without
// escapes, numbers of the field's type, no nulls). Anything else makes it give up, and Decode takes
// the reflective path for that record, so errors and their reasons are the reflective decoder's own.

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c (consuming it).
func (s *scanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// strBytes reads a string without escapes or control characters, in valid UTF-8.
func (s *scanner) strBytes() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			return out, ascii || utf8.Valid(out)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

func (s *scanner) str() (string, bool) {
	b, ok := s.strBytes()
	return string(b), ok
}

// num reads a number token (JSON grammar's characters, first a digit or '-', no leading zero).
func (s *scanner) num() (string, bool) {
	s.ws()
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
	}
	tok := s.b[start:s.i]
	if len(tok) == 0 || (tok[0] != '-' && (tok[0] < '0' || tok[0] > '9')) || tok[0] == '+' {
		return "", false
	}
	d := tok
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || (len(d) > 1 && d[0] == '0' && d[1] >= '0' && d[1] <= '9') {
		return "", false
	}
	return string(tok), true
}

func (s *scanner) boolean() (bool, bool) {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
		return true, true
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// object reads {"key": value, ...}, calling field for each key with the scanner at its value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		k, ok := s.strBytes()
		if !ok || !s.next(':') || !field(k) {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next('}')
	}
}

// skip passes over any JSON value (for the payload's raw bytes), checking nesting only.
func (s *scanner) skip() bool {
	s.ws()
	depth := 0
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch c {
		case '"':
			for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
				if s.b[s.i] == '\\' {
					s.i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return false
			}
		case ',', ':':
			if depth == 0 {
				return false
			}
		}
		s.i++
		if depth == 0 && (c == '"' || c == '}' || c == ']' || s.i >= len(s.b) || isDelim(s.b[s.i])) {
			return true
		}
	}
	return false
}

func isDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r'
}

func (s *scanner) timeValue() (time.Time, bool) {
	b, ok := s.strBytes()
	if !ok {
		return time.Time{}, false
	}
	var t time.Time
	return t, t.UnmarshalText(b) == nil
}

// decodeEnvelopeFast decodes the envelope; ok is false when the reflective decoder must decide.
func decodeEnvelopeFast(value []byte) (env Envelope, ok bool) {
	s := &scanner{b: value}
	ok = s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "schema_version":
			var n string
			if n, ok = s.num(); ok {
				v, err := strconv.ParseInt(n, 10, 64)
				env.SchemaVersion, ok = int(v), err == nil
			}
		case "event_id":
			env.EventID, ok = s.str()
		case "source":
			env.Source, ok = s.str()
		case "kind":
			var k string
			k, ok = s.str()
			env.Kind = Kind(k)
		case "occurred_at":
			env.OccurredAt, ok = s.timeValue()
		case "ingested_at":
			env.IngestedAt, ok = s.timeValue()
		case "payload":
			start := s.i
			if ok = s.skip(); ok {
				env.Payload = value[start:s.i]
			}
		}
		return ok
	})
	s.ws()
	return env, ok && s.i == len(value)
}

// decodePayloadFast decodes the payload of kind; ok is false when the reflective decoder must decide.
func decodePayloadFast(kind Kind, payload []byte) (Record, bool) {
	fs, found := fastFields[kind]
	if !found {
		return nil, false
	}
	spec, _ := Lookup(kind)
	rec := spec.New()
	s := &scanner{b: payload}
	ok := s.object(func(k []byte) bool {
		f, known := fs[string(k)]
		return known && f(rec, s)
	})
	s.ws()
	return rec, ok && s.i == len(payload)
}

type setter func(any, *scanner) bool

func fStr[T any](get func(*T) *string) setter {
	return func(r any, s *scanner) bool {
		v, ok := s.str()
		*get(r.(*T)) = v
		return ok
	}
}

func fStrs[T any](get func(*T) *[]string) setter {
	return func(r any, s *scanner) bool {
		if !s.next('[') {
			return false
		}
		out := []string{}
		if !s.next(']') {
			for {
				v, ok := s.str()
				if !ok {
					return false
				}
				out = append(out, v)
				if s.next(',') {
					continue
				}
				if !s.next(']') {
					return false
				}
				break
			}
		}
		*get(r.(*T)) = out
		return true
	}
}

func fUint[T any, U uint8 | uint16](bits int, get func(*T) *U) setter {
	return func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseUint(n, 10, bits)
		*get(r.(*T)) = U(v)
		return err == nil
	}
}

func fInt64[T any](get func(*T) *int64) setter {
	return func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseInt(n, 10, 64)
		*get(r.(*T)) = v
		return err == nil
	}
}

func fFloat[T any](get func(*T) *float64) setter {
	return func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseFloat(n, 64)
		*get(r.(*T)) = v
		return err == nil
	}
}

func fFloatPtr[T any](get func(*T) **float64) setter {
	return func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseFloat(n, 64)
		*get(r.(*T)) = &v
		return err == nil
	}
}

func fBool[T any](get func(*T) *bool) setter {
	return func(r any, s *scanner) bool {
		v, ok := s.boolean()
		*get(r.(*T)) = v
		return ok
	}
}

func fTime[T any](get func(*T) *time.Time) setter {
	return func(r any, s *scanner) bool {
		v, ok := s.timeValue()
		*get(r.(*T)) = v
		return ok
	}
}
