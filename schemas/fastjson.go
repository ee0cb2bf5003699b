package schemas

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// A hand-written decoder for the envelope and the payloads, without reflection: the sink's hot path.
// It handles only the plain shape the producers write (known keys spelled exactly, strings without
// escapes, numbers of the field's type, no nulls). Anything else makes it give up, and Decode takes
// the reflective path for that record, so errors and their reasons are the reflective decoder's own.

type scanner struct {
	b      []byte
	i      int
	shared bool // strings share b's memory (DecodeShared) instead of being copied
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

// plainByte: printable ASCII but the quote and the backslash, what most of a string is made of.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// strBytes reads a string without escapes or control characters, in valid UTF-8. It reads eight
// bytes at a time, jumping to the first one that is not plain (special8), and the last few one
// by one.
func (s *scanner) strBytes() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for s.i < len(s.b) {
		var c byte
		if s.i+8 <= len(s.b) {
			m := special8(binary.LittleEndian.Uint64(s.b[s.i:]))
			if m == 0 {
				s.i += 8
				continue
			}
			s.i += bits.TrailingZeros64(m) >> 3
			c = s.b[s.i]
		} else if c = s.b[s.i]; plainByte[c] {
			s.i++
			continue
		}
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			return out, ascii || utf8.Valid(out)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		ascii = false // c >= 0x80
		s.i++
	}
	return nil, false
}

// special8 has the high bit of each byte of x (little-endian: the first byte lowest) set for the
// bytes that are not plainByte (a quote, a backslash, a control character below 0x20, or 0x80
// and up), and may set it for bytes after the first such byte, never before it: its lowest set
// bit is the first such byte, and it is zero when there is none. (v-0x01…)&^v&0x80… flags the
// zero bytes of v, and (x-0x20…)&^x&0x80… the bytes below 0x20, and a borrow, which can flag a
// byte that is not, starts only at a flagged one; the quote and the backslash are the zero bytes
// of x xor their repeats.
func special8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs := x^(ones*'"'), x^(ones*'\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x | x) & highs
}

func (s *scanner) str() (string, bool) {
	b, ok := s.strBytes()
	if s.shared {
		return view(b), ok
	}
	return string(b), ok
}

// view is b as a string without a copy: for parsing only, where it must not be kept (nor an error
// that quotes it), or for DecodeShared's strings, which share the message's memory by contract.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// num reads a number token (JSON grammar's characters, first a digit or '-', no leading zero);
// the token shares the scanner's memory.
func (s *scanner) num() ([]byte, bool) {
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
		return nil, false
	}
	d := tok
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || (len(d) > 1 && d[0] == '0' && d[1] >= '0' && d[1] <= '9') {
		return nil, false
	}
	return tok, true
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
	if t, ok := utcSeconds(b); ok {
		return t, true
	}
	var t time.Time
	return t, t.UnmarshalText(b) == nil
}

// utcSeconds parses the forms producers write, "2006-01-02T15:04:05Z" and the same with a
// fraction of 1 to 9 digits ("…05.123456789Z", what time.Time's JSON gives for time.Now), when
// every field is in range; anything else (more digits, offsets, bad dates) is left to
// time.Time.UnmarshalText, which gives the same time for these forms.
func utcSeconds(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	ok := true
	num := func(from, to int) int {
		n := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				ok = false
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	nsec := 0
	switch frac := len(b) - 21; {
	case frac == -1: // no fraction: b[19] is the Z
	case frac >= 1 && frac <= 9 && b[19] == '.':
		nsec = num(20, 20+frac)
		for range 9 - frac {
			nsec *= 10
		}
	default:
		return time.Time{}, false
	}
	y, mo, d := num(0, 4), num(5, 7), num(8, 10)
	h, mi, sec := num(11, 13), num(14, 16), num(17, 19)
	if !ok || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return monthDays[m]
}

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// decodeEnvelopeFast decodes the envelope; ok is false when the reflective decoder must decide.
// With shared, its strings share value's memory. When the kind comes before the payload, as
// producers write it, the payload is decoded in the same pass: rec is then its record (else nil).
func decodeEnvelopeFast(value []byte, shared bool) (env Envelope, rec Record, ok bool) {
	s := &scanner{b: value, shared: shared}
	ok = s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "schema_version":
			var n []byte
			if n, ok = s.num(); ok {
				v, err := strconv.ParseInt(view(n), 10, 64)
				env.SchemaVersion, ok = int(v), err == nil
			}
		case "event_id":
			env.EventID, ok = s.str()
		case "source":
			env.Source, ok = s.str()
		case "kind":
			var k []byte
			k, ok = s.strBytes()
			env.Kind = kindOf(k)
		case "occurred_at":
			env.OccurredAt, ok = s.timeValue()
		case "ingested_at":
			env.IngestedAt, ok = s.timeValue()
		case "payload":
			start := s.i
			rec = nil
			if fs := fastFields[env.Kind]; fs != nil {
				rec, ok = s.record(fs)
			} else {
				ok = s.skip()
			}
			if ok {
				env.Payload = value[start:s.i]
			}
		}
		return ok
	})
	s.ws()
	if rec != nil && rec.Kind() != env.Kind { // a second "kind" after the payload
		rec = nil
	}
	return env, rec, ok && s.i == len(value)
}

// kindOf is k as a Kind, without a copy for the registered kinds.
func kindOf(k []byte) Kind {
	for _, kind := range knownKinds {
		if string(k) == string(kind) {
			return kind
		}
	}
	return Kind(k)
}

// knownKinds are the registered kinds (Kinds), for kindOf.
var knownKinds = Kinds()

// decodePayloadFast decodes the payload of kind; ok is false when the reflective decoder must
// decide. With shared, the record's strings share payload's memory.
func decodePayloadFast(kind Kind, payload []byte, shared bool) (Record, bool) {
	fs, found := fastFields[kind]
	if !found {
		return nil, false
	}
	s := &scanner{b: payload, shared: shared}
	rec, ok := s.record(fs)
	s.ws()
	return rec, ok && s.i == len(payload)
}

// record reads a payload object whose fields are fs.
func (s *scanner) record(fs *fieldSet) (Record, bool) {
	rec := fs.new()
	next := 0 // producers write the fields in the list's order, leaving some out: look ahead first
	ok := s.object(func(k []byte) bool {
		i := next
		for i < len(fs.fields) && string(k) != fs.fields[i].name {
			i++
		}
		if i == len(fs.fields) {
			var known bool
			if i, known = fs.index[string(k)]; !known {
				return false
			}
		}
		next = i + 1
		return fs.fields[i].c.json(rec, s)
	})
	return rec, ok
}

type setter func(any, *scanner) bool

// field is one payload key and how it is read and written: from JSON (fastjson.go) and in
// protobuf's wire format (protobuf.go), whose field number is its place in the list, from 1.
type field struct {
	name string
	c    codec
}

// codec is a field's JSON setter and its protobuf codec.
type codec struct {
	json setter
	pb   pbCodec
}

// fieldSet is the keys of one payload type in the order its JSON encoding writes them, and an
// index for keys that come in another order.
type fieldSet struct {
	fields []field
	index  map[string]int
	new    func() Record // an empty record of the type (its Spec's New, without the registry lookup)
	// renew is r cleared to an empty record when r is of the type, else a new empty record.
	renew func(r Record) Record
}

// fieldsOf is the fieldSet of payload type T, whose fields are fields.
func fieldsOf[T any, P interface {
	*T
	Record
}](fields []field) *fieldSet {
	fs := &fieldSet{fields: fields, index: make(map[string]int, len(fields)), new: func() Record { return P(new(T)) },
		renew: func(r Record) Record {
			if p, ok := r.(P); ok && p != nil {
				var zero T
				*p = zero
				return p
			}
			return P(new(T))
		}}
	for i, f := range fields {
		fs.index[f.name] = i
	}
	return fs
}

func fStr[T any](get func(*T) *string) codec {
	return codec{json: func(r any, s *scanner) bool {
		v, ok := s.str()
		*get(r.(*T)) = v
		return ok
	}, pb: pbStr(get)}
}

func fStrs[T any](get func(*T) *[]string) codec {
	return codec{json: func(r any, s *scanner) bool {
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
	}, pb: pbStrs(get)}
}

func fUint[T any, U uint8 | uint16](bits int, get func(*T) *U) codec {
	return codec{json: func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseUint(view(n), 10, bits)
		*get(r.(*T)) = U(v)
		return err == nil
	}, pb: pbUint(bits, get)}
}

func fInt64[T any](get func(*T) *int64) codec {
	return codec{json: func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseInt(view(n), 10, 64)
		*get(r.(*T)) = v
		return err == nil
	}, pb: pbInt64(get)}
}

func fFloat[T any](get func(*T) *float64) codec {
	return codec{json: func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseFloat(view(n), 64)
		*get(r.(*T)) = v
		return err == nil
	}, pb: pbFloat(get)}
}

func fFloatPtr[T any](get func(*T) **float64) codec {
	return codec{json: func(r any, s *scanner) bool {
		n, ok := s.num()
		if !ok {
			return false
		}
		v, err := strconv.ParseFloat(view(n), 64)
		*get(r.(*T)) = &v
		return err == nil
	}, pb: pbFloatPtr(get)}
}

func fBool[T any](get func(*T) *bool) codec {
	return codec{json: func(r any, s *scanner) bool {
		v, ok := s.boolean()
		*get(r.(*T)) = v
		return ok
	}, pb: pbBool(get)}
}

func fTime[T any](get func(*T) *time.Time) codec {
	return codec{json: func(r any, s *scanner) bool {
		v, ok := s.timeValue()
		*get(r.(*T)) = v
		return ok
	}, pb: pbTime(get)}
}
