package collectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// OCDS merge (https://standard.open-contracting.org/latest/en/schema/merging/) on a pruned JSON
// tree, with the semantics of the reference implementation ocdsmerge (used by `ocdskit compile`):
//
//   - releases are merged in date order; a later release overrides field by field and a field it
//     does not mention keeps its earlier value;
//   - a field set to null is removed; a null (or a scalar) given for a field that earlier releases
//     made an object or an array of objects leaves that object's fields as they were (ocdsmerge
//     keeps every field it has seen below an object);
//   - an empty object, and an empty array outside whole-list fields, change nothing;
//   - arrays of objects are merged element by element on `id` (number 1 and string "1" are the same
//     id); an element without `id` is appended; an element with no content is ignored;
//   - arrays of anything else, and the schema's whole-list fields that chainwatch keeps
//     (parties[].roles), are replaced whole (an empty one too);
//   - a type conflict that ocdsmerge refuses (an object given where an earlier release had a
//     scalar) is resolved in favour of the later release.
//
// Only the fields the award rows need are kept (keptRelease, ocdskept.go), so the state held per
// ocid stays small.

// ocdsList is an array of objects merged by id.
type ocdsList struct {
	elems []map[string]any
	byID  map[string]int
}

// ocdsWholeList reports whether p is a kept array field the OCDS 1.1 release schema marks
// wholeListMerge.
func ocdsWholeList(p string) bool { return p == "parties.roles" }

// ocdsHiddenPrefix starts the hidden keys of the kept form: _cw_present (an element that had
// content) and _cw_loc (where an award last came from). The kept form is decoded so that the
// source cannot set them; ocdsExport removes them.
const ocdsHiddenPrefix = "_cw_"

// ocdsIDKey is the merge key of an element id (ocdsmerge compares ids as strings).
func ocdsIDKey(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case nil:
		return "None"
	default:
		return fmt.Sprint(t)
	}
}

func ocdsIsContainer(v any) bool {
	switch t := v.(type) {
	case *ocdsList:
		return true
	case map[string]any:
		return len(t) > 0
	}
	return false
}

// ocdsMerge merges src (one pruned release, or a part of it) into dst. path is the dotted field path
// without array positions ("awards.suppliers").
func ocdsMerge(dst, src map[string]any, path string) {
	for k, v := range src {
		p := k
		if path != "" {
			p = path + "." + k
		}
		cur := dst[k]
		switch sv := v.(type) {
		case nil:
			if !ocdsIsContainer(cur) {
				delete(dst, k)
			}
		case map[string]any:
			if len(sv) == 0 {
				continue
			}
			cm, ok := cur.(map[string]any)
			if !ok {
				cm = map[string]any{}
				dst[k] = cm
			}
			ocdsMerge(cm, sv, p)
		case []any:
			ocdsMergeArray(dst, k, sv, p)
		default:
			if !ocdsIsContainer(cur) {
				dst[k] = v
			}
		}
	}
}

func ocdsMergeArray(dst map[string]any, k string, sv []any, p string) {
	cur := dst[k]
	whole := ocdsWholeList(p)
	if len(sv) == 0 && !whole {
		return
	}
	objects := true
	for _, e := range sv {
		if _, ok := e.(map[string]any); !ok {
			objects = false
		}
	}
	if whole || !objects {
		if _, isList := cur.(*ocdsList); !isList {
			dst[k] = sv
		}
		return
	}
	l, ok := cur.(*ocdsList)
	if !ok {
		l = &ocdsList{byID: map[string]int{}}
		dst[k] = l
	}
	for _, e := range sv {
		em := e.(map[string]any)
		if len(em) == 0 {
			continue
		}
		idv, hasID := em["id"]
		if hasID {
			if i, seen := l.byID[ocdsIDKey(idv)]; seen {
				first := l.elems[i]["id"] // the element keeps the id as first written (1, not "1")
				ocdsMerge(l.elems[i], em, p)
				l.elems[i]["id"] = first
				continue
			}
			l.byID[ocdsIDKey(idv)] = len(l.elems)
		}
		n := map[string]any{}
		ocdsMerge(n, em, p)
		l.elems = append(l.elems, n)
	}
}

// ocdsExport turns a merged tree back into plain JSON values, with or without the hidden keys.
func ocdsExport(v any, hidden bool) any {
	switch t := v.(type) {
	case *ocdsList:
		out := make([]any, len(t.elems))
		for i, e := range t.elems {
			out[i] = ocdsExport(e, hidden)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if !hidden && strings.HasPrefix(k, ocdsHiddenPrefix) {
				continue
			}
			out[k] = ocdsExport(e, hidden)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = ocdsExport(e, hidden)
		}
		return out
	default:
		return v
	}
}

// ocdsDecode decodes one JSON value keeping numbers as written.
func ocdsDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
