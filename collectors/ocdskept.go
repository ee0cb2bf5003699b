package collectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The kept form of a release: only the fields the award rows need, decoded in one pass. Leaves are
// json.RawMessage so that absent (nil), null ("null") and a value stay distinct for the merge, and
// numbers keep their text. Objects and arrays of objects are typed; a null object or array of
// objects reads as absent, which is what the merge does with it (ocdsmerge keeps the fields of
// an object set to null). parties[].roles, a whole-list field, is a leaf: null removes it and []
// replaces it. An element of an array of objects that has content but none that is kept carries
// _cw_present, so it is still merged (and an award without id is still rejected); empty elements
// are dropped, as the merge ignores them.

type keptClassification struct {
	Scheme      json.RawMessage `json:"scheme,omitempty"`
	ID          json.RawMessage `json:"id,omitempty"`
	Description json.RawMessage `json:"description,omitempty"`
}

type keptItem struct {
	ID             json.RawMessage     `json:"id,omitempty"`
	Description    json.RawMessage     `json:"description,omitempty"`
	Classification *keptClassification `json:"classification,omitempty"`
	Present        bool                `json:"_cw_present,omitempty"`
}

type keptOrg struct {
	ID         json.RawMessage `json:"id,omitempty"`
	Name       json.RawMessage `json:"name,omitempty"`
	Identifier *struct {
		ID        json.RawMessage `json:"id,omitempty"`
		Scheme    json.RawMessage `json:"scheme,omitempty"`
		LegalName json.RawMessage `json:"legalName,omitempty"`
	} `json:"identifier,omitempty"`
	Address *struct {
		CountryName json.RawMessage `json:"countryName,omitempty"`
	} `json:"address,omitempty"`
	Roles   json.RawMessage `json:"roles,omitempty"`
	Present bool            `json:"_cw_present,omitempty"`
}

type keptAward struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Status json.RawMessage `json:"status,omitempty"`
	Date   json.RawMessage `json:"date,omitempty"`
	Value  *struct {
		Amount   json.RawMessage `json:"amount,omitempty"`
		Currency json.RawMessage `json:"currency,omitempty"`
	} `json:"value,omitempty"`
	Suppliers []keptOrg  `json:"suppliers,omitempty"`
	Items     []keptItem `json:"items,omitempty"`
	Loc       string     `json:"_cw_loc,omitempty"`
	Present   bool       `json:"_cw_present,omitempty"`
}

type keptRelease struct {
	OCID    json.RawMessage `json:"ocid,omitempty"`
	ID      json.RawMessage `json:"id,omitempty"`
	Date    json.RawMessage `json:"date,omitempty"`
	Buyer   *keptOrg        `json:"buyer,omitempty"`
	Parties []keptOrg       `json:"parties,omitempty"`
	Tender  *struct {
		Items          []keptItem          `json:"items,omitempty"`
		Classification *keptClassification `json:"classification,omitempty"`
	} `json:"tender,omitempty"`
	Awards []keptAward `json:"awards,omitempty"`
}

// emptyObject reports whether b is {} or null.
func emptyObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return true
	}
	return len(b) >= 2 && b[0] == '{' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

func (it *keptItem) UnmarshalJSON(b []byte) error {
	type plain keptItem
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*it = keptItem(p)
	it.Present = !emptyObject(b)
	return nil
}

func (o *keptOrg) UnmarshalJSON(b []byte) error {
	type plain keptOrg
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*o = keptOrg(p)
	o.Present = !emptyObject(b)
	return nil
}

func (a *keptAward) UnmarshalJSON(b []byte) error {
	type plain keptAward
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*a = keptAward(p)
	a.Present, a.Loc = !emptyObject(b), "" // the source cannot set the hidden keys
	return nil
}

func dropEmpty[T any](xs []T, present func(*T) bool) []T {
	out := xs[:0]
	for i := range xs {
		if present(&xs[i]) {
			out = append(out, xs[i])
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func itemPresent(it *keptItem) bool { return it.Present }
func orgPresent(o *keptOrg) bool    { return o.Present }

// tidy drops the empty elements of every array of objects and marks each award with loc (the
// location of the release) and its position in the release.
func (r *keptRelease) tidy(loc string) {
	for j := range r.Awards {
		r.Awards[j].Loc = fmt.Sprintf("%s.awards[%d]", loc, j)
	}
	r.Awards = dropEmpty(r.Awards, func(a *keptAward) bool { return a.Present })
	for j := range r.Awards {
		a := &r.Awards[j]
		a.Suppliers = dropEmpty(a.Suppliers, orgPresent)
		a.Items = dropEmpty(a.Items, itemPresent)
	}
	r.Parties = dropEmpty(r.Parties, orgPresent)
	if r.Tender != nil {
		r.Tender.Items = dropEmpty(r.Tender.Items, itemPresent)
	}
}

// rawString reads a JSON string leaf (absent or null: ""); numbers are accepted where allowNumber.
func rawString(field string, b json.RawMessage, allowNumber bool) (string, error) {
	if len(b) == 0 || string(b) == "null" {
		return "", nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		return strings.TrimSpace(s), nil
	}
	if allowNumber && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return string(b), nil
	}
	return "", fmt.Errorf("%s: %s is not a string", field, b)
}
