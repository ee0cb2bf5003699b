package collectors

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// dupJSONKey returns the path of the first object key that appears twice in the same object of b
// ("" when there is none). encoding/json keeps the last of duplicate keys silently, so a record
// such as {"primaryValue": 5, "primaryValue": -5} would mean different things to different
// readers; such records are rejected instead. b must be valid JSON (it is scanned, not checked),
// nesting depth does not matter (no recursion).
func dupJSONKey(b []byte) string {
	var stack []jsonFrame
	expectKey := false
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			name := ""
			if n := len(stack); n > 0 {
				name = stack[n-1].childName()
			}
			stack = append(stack, jsonFrame{obj: b[i] == '{', name: name})
			expectKey = b[i] == '{'
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].obj {
					expectKey = true
				} else {
					stack[n-1].idx++
				}
			}
		case '"':
			end := stringEnd(b, i)
			if expectKey && len(stack) > 0 {
				top := &stack[len(stack)-1]
				if top.add(b[i:end]) {
					return jsonPath(stack, top.key)
				}
				expectKey = false
			}
			i = end - 1
		}
	}
	return ""
}

// jsonFrame is one open object or array of dupJSONKey.
type jsonFrame struct {
	obj  bool
	name string   // this value's name in its parent: a key or [index]
	keys [][]byte // quoted keys seen (objects)
	set  map[string]struct{}
	key  []byte // the last key (objects)
	idx  int    // the current index (arrays)
}

// add records a quoted key and reports whether the object already had it. Keys are compared
// as the decoders see them: unescaped ("a\u0022" is "a\"") and with invalid UTF-8 as U+FFFD.
func (f *jsonFrame) add(q []byte) bool {
	f.key = q
	if len(q) < 2 {
		return false // an unterminated string: not valid JSON, not a key
	}
	k := q[1 : len(q)-1]
	if bytes.IndexByte(k, '\\') >= 0 || !utf8.Valid(k) {
		// decoders unescape, and turn invalid UTF-8 into U+FFFD ({"\xb0":0,"\xe4":0} is a duplicate)
		var u string
		if json.Unmarshal(q, &u) == nil {
			k = []byte(u)
		}
	}
	if f.set != nil {
		if _, dup := f.set[string(k)]; dup {
			return true
		}
		f.set[string(k)] = struct{}{}
		return false
	}
	for _, o := range f.keys {
		if bytes.Equal(o, k) {
			return true
		}
	}
	f.keys = append(f.keys, k)
	if len(f.keys) > 32 {
		f.set = make(map[string]struct{}, 64)
		for _, o := range f.keys {
			f.set[string(o)] = struct{}{}
		}
		f.keys = nil
	}
	return false
}

func (f *jsonFrame) childName() string {
	if f.obj {
		return unquoteKey(f.key)
	}
	return "[" + strconv.Itoa(f.idx) + "]"
}

func jsonPath(stack []jsonFrame, key []byte) string {
	var sb strings.Builder
	for _, f := range stack[1:] {
		if sb.Len() > 0 && !strings.HasPrefix(f.name, "[") {
			sb.WriteByte('.')
		}
		sb.WriteString(f.name)
	}
	if sb.Len() > 0 {
		sb.WriteByte('.')
	}
	sb.WriteString(unquoteKey(key))
	return sb.String()
}

// unquoteKey returns a quoted key unescaped; the empty key is shown as "" (so a path is never
// empty: FuzzDupJSONKey found {"":0,"":0} reported as no duplicate).
func unquoteKey(q []byte) string {
	var s string
	if json.Unmarshal(q, &s) != nil {
		return string(q)
	}
	if s == "" {
		return `""`
	}
	return s
}

// stringEnd returns the index just past the closing quote of the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}
