package collectors

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Row is one record of a tabular source (a CSV line or a YAML list item), keyed by normalised
// column name.
type Row map[string]string

// tabRow is a row with its location and raw bytes.
type tabRow struct {
	loc string
	raw []byte
	get func(field string) string
}

// aliasGetter resolves canonical fields through an alias table.
func aliasGetter(aliases map[string][]string, lookup func(name string) (string, bool)) func(string) string {
	return func(field string) string {
		names := aliases[field]
		if names == nil {
			names = []string{field}
		}
		for _, n := range names {
			if v, ok := lookup(n); ok && v != "" {
				return v
			}
		}
		return ""
	}
}

// eachCSVRow streams a CSV with a header, calling fn for every non-blank row; unparseable lines
// go to bad.
func eachCSVRow(r io.Reader, name string, aliases map[string][]string, fn func(tabRow) error,
	bad func(loc, detail string, raw []byte) error) error {
	c := newCSV(textReader(r), name)
	if err := c.readHeader(); err != nil {
		return err
	}
	return c.each(bad, func(rec []string, loc string) error {
		get := aliasGetter(aliases, func(n string) (string, bool) {
			i, ok := c.index[n]
			if !ok {
				return "", false
			}
			return get(rec, i), true
		})
		return fn(tabRow{loc: loc, raw: csvLine(rec), get: get})
	})
}

// yamlDoc parses a YAML document (held in memory: YAML supply maps and lists are hand-written and
// small; use CSV for bulk data).
func yamlDoc(r io.Reader, name string) (*yaml.Node, error) {
	b, err := io.ReadAll(io.LimitReader(textReader(r), 256<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Kind == 0 {
		return &yaml.Node{Kind: yaml.MappingNode}, nil
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// yamlSection returns the value node of key in a mapping node (nil if absent).
func yamlSection(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if normHeader(m.Content[i].Value) == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlRows turns a sequence of mappings into rows; an item that is not a mapping goes to bad.
func yamlRows(seq *yaml.Node, name string, aliases map[string][]string, fn func(tabRow) error,
	bad func(loc, detail string, raw []byte) error) error {
	if seq == nil {
		return nil
	}
	if seq.Kind != yaml.SequenceNode {
		return bad(fmt.Sprintf("%s:%d", name, seq.Line), "expected a list", nodeBytes(seq))
	}
	for _, item := range seq.Content {
		loc := fmt.Sprintf("%s:%d", name, item.Line)
		raw := nodeBytes(item)
		if item.Kind != yaml.MappingNode {
			if err := bad(loc, "expected a mapping of field: value", raw); err != nil {
				return err
			}
			continue
		}
		row := Row{}
		var badField error
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := normHeader(item.Content[i].Value), item.Content[i+1]
			if _, dup := row[k]; dup && badField == nil {
				badField = fmt.Errorf("%s: given twice (line %d)", k, item.Content[i].Line)
			}
			switch v.Kind {
			case yaml.ScalarNode:
				if v.Tag != "!!null" {
					row[k] = strings.TrimSpace(v.Value)
				}
			case yaml.SequenceNode:
				var parts []string
				for _, e := range v.Content {
					if e.Kind == yaml.ScalarNode {
						parts = append(parts, strings.TrimSpace(e.Value))
					}
				}
				row[k] = strings.Join(parts, ";")
			default:
				badField = fmt.Errorf("%s: nested mappings are not supported", k)
			}
		}
		if badField != nil {
			if err := bad(loc, badField.Error(), raw); err != nil {
				return err
			}
			continue
		}
		get := aliasGetter(aliases, func(n string) (string, bool) { v, ok := row[n]; return v, ok })
		if err := fn(tabRow{loc: loc, raw: raw, get: get}); err != nil {
			return err
		}
	}
	return nil
}

// writeCSVRows writes rows with the given columns (and any extra keys, sorted) to w.
func writeCSVRows(w io.Writer, columns []string, rows []Row) error {
	seen := map[string]bool{}
	for _, c := range columns {
		seen[c] = true
	}
	var extra []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				extra = append(extra, k)
			}
		}
	}
	slices.Sort(extra)
	cols := append(append([]string(nil), columns...), extra...)
	if _, err := w.Write(append(csvLine(cols), '\n')); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, r := range rows {
		for i, c := range cols {
			rec[i] = r[c]
		}
		if _, err := w.Write(append(csvLine(rec), '\n')); err != nil {
			return err
		}
	}
	return nil
}

// nodeBytes re-encodes a YAML node as the raw bytes of a reject; a node that does not encode is
// described instead, so a reject never has empty raw bytes.
func nodeBytes(n *yaml.Node) []byte {
	b, err := yaml.Marshal(n)
	if err != nil || len(b) == 0 {
		return fmt.Appendf(nil, "(YAML node at line %d, column %d: not re-encodable: %v)", n.Line, n.Column, err)
	}
	return b
}
