package collectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/chainwatch/chainwatch/schemas"
)

// availabilityJSONReader reads JSON availability input: JSON Lines (the first line is a complete
// JSON value), or a JSON document — an array of records, a pretty-printed object, a wrapper
// object holding a list of records, or a distributor API response (Mouser, Nexar, DigiKey,
// KitSpace), recognised by its keys.
type availabilityJSONReader struct {
	o    *out
	name string
	conv availabilityConv
}

func (r *availabilityJSONReader) read(br *bufio.Reader) error {
	first, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	if t := bytes.TrimSpace(first); json.Valid(t) && t[0] == '{' {
		return r.lines(t, br, errors.Is(err, io.EOF))
	}
	t := bytes.TrimSpace(first)
	return r.document(io.MultiReader(bytes.NewReader(first), br), len(t) > 0 && t[0] == '[')
}

// lines reads JSON Lines: a bad line is one bad_json reject, the next lines still count.
func (r *availabilityJSONReader) lines(first []byte, br *bufio.Reader, eof bool) error {
	if err := r.value(first, fmt.Sprintf("%s:1", r.name)); err != nil || eof {
		return err
	}
	for line := 2; ; line++ {
		b, err := br.ReadBytes('\n')
		if t := bytes.TrimSpace(b); len(t) > 0 {
			loc := fmt.Sprintf("%s:%d", r.name, line)
			if !json.Valid(t) {
				r.o.read()
				if rerr := r.o.rejectKind(schemas.KindAvailability, loc, "bad_json", "line is not a JSON value", t); rerr != nil {
					return rerr
				}
			} else if verr := r.value(t, loc); verr != nil {
				return verr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
	}
}

// document reads one or more whitespace-separated JSON values. A leading top-level array is
// streamed element by element; an object is read whole. Malformed JSON ends the document with
// one bad_json reject that names the byte offset.
func (r *availabilityJSONReader) document(rd io.Reader, array bool) error {
	dec := json.NewDecoder(rd)
	dec.UseNumber()
	bad := func(err error) error {
		r.o.read()
		// the raw bytes: what the decoder holds from the bad value on (bounded), else a note
		raw, _ := io.ReadAll(io.LimitReader(dec.Buffered(), maxRejectRaw))
		if len(bytes.TrimSpace(raw)) == 0 {
			raw = fmt.Appendf(nil, "(malformed JSON document %s at byte %d: %v)", r.name, dec.InputOffset(), err)
		}
		return r.o.rejectKind(schemas.KindAvailability, fmt.Sprintf("%s@%d", r.name, dec.InputOffset()), "bad_json",
			fmt.Sprintf("malformed JSON document at byte %d: %v", dec.InputOffset(), err), raw)
	}
	for doc := 0; ; doc++ {
		loc := r.name
		if doc > 0 {
			loc = fmt.Sprintf("%s#doc[%d]", r.name, doc)
		}
		var raw json.RawMessage
		if doc == 0 && array {
			if err := openArray(dec); err != nil {
				return bad(err)
			}
			for i := 0; dec.More(); i++ {
				if err := dec.Decode(&raw); err != nil {
					return bad(err)
				}
				if err := r.value(raw, fmt.Sprintf("%s#[%d]", loc, i)); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return bad(err)
			}
			continue
		}
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return bad(err)
		}
		if err := r.value(raw, loc); err != nil {
			return err
		}
	}
}

// openArray consumes the '[' of a top-level array.
func openArray(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("unexpected token %v", tok)
	}
	return nil
}

// recordListKeys are wrapper keys whose array holds the records.
var recordListKeys = []string{"data", "items", "results", "records", "availability", "offers", "parts", "rows"}

// value handles one JSON value at loc: an array (each element), a distributor response, a
// wrapper with a record list, or one flat record.
func (r *availabilityJSONReader) value(b []byte, loc string) error {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(t, &elems); err != nil {
			r.o.read()
			return r.o.rejectKind(schemas.KindAvailability, loc, "bad_json", err.Error(), t)
		}
		for i, e := range elems {
			if err := r.value(e, fmt.Sprintf("%s[%d]", loc, i)); err != nil {
				return err
			}
		}
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		r.o.read()
		return r.o.rejectKind(schemas.KindAvailability, loc, "bad_json", "not a JSON object: "+err.Error(), t)
	}
	if k := dupJSONKey(t); k != "" {
		r.o.read()
		return r.o.rejectKind(schemas.KindAvailability, loc, "duplicate_key", k+": given twice in one object", t)
	}
	if v := detectVendor(m); v != nil {
		return v(r, m, loc)
	}
	for _, k := range recordListKeys {
		if raw, ok := m[k]; ok && len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '[' && !hasRecordKeys(m) {
			return r.value(raw, loc+"#"+k)
		}
	}
	return r.flat(t, loc)
}

// hasRecordKeys reports whether m itself looks like a record (it names a part number).
func hasRecordKeys(m map[string]json.RawMessage) bool {
	for k := range m {
		for _, a := range availabilityAliases["part_number"] {
			if normHeader(k) == a {
				return true
			}
		}
	}
	return false
}

// flat converts one flat JSON object (keys matched like CSV columns) into a record.
func (r *availabilityJSONReader) flat(b []byte, loc string) error {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		r.o.read()
		return r.o.rejectKind(schemas.KindAvailability, loc, "bad_json", err.Error(), b)
	}
	norm := make(map[string]string, len(m))
	orig := make(map[string]string, len(m))
	for k, v := range m {
		n := normHeader(k)
		if o, dup := orig[n]; dup {
			// which one wins would depend on map order
			r.o.read()
			return r.o.rejectKind(schemas.KindAvailability, loc, "duplicate_key",
				fmt.Sprintf("%s: given twice (as %q and %q)", n, min(o, k), max(o, k)), b)
		}
		orig[n] = k
		norm[n] = jsonScalar(v)
	}
	return availabilityRecord(r.o, r.conv, loc, b, func(f string) string {
		for _, a := range availabilityAliases[f] {
			if v, ok := norm[a]; ok && v != "" {
				return v
			}
		}
		return ""
	})
}

// jsonScalar renders a decoded JSON value as a trimmed string (objects and arrays as JSON).
func jsonScalar(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = strconv.FormatBool(x)
	default:
		bb, _ := json.Marshal(x)
		s = string(bb)
	}
	return strings.TrimSpace(s)
}
