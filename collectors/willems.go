package collectors

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/chainwatch/chainwatch/schemas"
)

// SourceWillems is the envelope source of supply maps converted from Willems (2008).
const SourceWillems = "willems2008"

// WillemsAsOf is the as_of of converted Willems chains (the data set's publication year), so a
// re-import is identical.
const WillemsAsOf = "2008-01-01"

// WillemsSupplierCountries are assigned to the synthetic suppliers of purchased parts,
// deterministically by part (the data set is anonymised and has no countries).
var WillemsSupplierCountries = []string{"CHN", "USA", "JPN", "DEU", "KOR", "TWN", "NLD", "MYS"}

var willemsFileRe = regexp.MustCompile(`(?i)willems_(\d+)\.csv$`)

// WillemsChain is one parsed chain.
type WillemsChain struct {
	ID     string // "01"
	Stages []WillemsStage
	Arcs   [][2]string // from (upstream) → to (downstream)
}

// WillemsStage is one stage of a chain.
type WillemsStage struct {
	Name           string  // Part_0001
	Classification string  // Part, Manuf, Dist, Trans, Retail
	Cost           float64 // stage cost added ($)
	Time           float64 // stage time (days)
	Depth          int     // relDepth
}

// ParseWillems reads one chain CSV (the flattened XML export: "/chain" line, XPath header, arc
// rows with from/to, stage rows with stageName etc.).
func ParseWillems(r io.Reader, name string) (*WillemsChain, error) {
	cr := csv.NewReader(textReader(r))
	cr.FieldsPerRecord = -1
	ch := &WillemsChain{}
	if m := willemsFileRe.FindStringSubmatch(name); m != nil {
		ch.ID = m[1]
	} else {
		ch.ID = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	col := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(col) == 0 {
			if len(rec) > 0 && strings.HasPrefix(strings.TrimSpace(rec[0]), "/chain") {
				continue
			}
			for i, h := range rec {
				k := h
				if j := strings.LastIndex(h, "@"); j >= 0 {
					k = h[j+1:]
				}
				col[strings.ToLower(strings.TrimSpace(k))] = i
			}
			for _, req := range []string{"from", "to", "stagename", "stageclassification"} {
				if _, ok := col[req]; !ok {
					return nil, fmt.Errorf("%s: not a Willems chain file: no @%s column", name, req)
				}
			}
			continue
		}
		g := func(k string) string {
			i, ok := col[k]
			if !ok {
				return ""
			}
			return get(rec, i)
		}
		if from, to := g("from"), g("to"); from != "" && to != "" {
			ch.Arcs = append(ch.Arcs, [2]string{from, to})
			continue
		}
		if n := g("stagename"); n != "" {
			s := WillemsStage{Name: n, Classification: g("stageclassification")}
			var d float64
			for _, f := range []struct {
				key string
				v   *float64
			}{{"stagecost", &s.Cost}, {"stagetime", &s.Time}, {"reldepth", &d}} {
				if *f.v, err = willemsNumber(g(f.key)); err != nil {
					line, _ := cr.FieldPos(0)
					return nil, fmt.Errorf("%s:%d: stage %s: @%s: %w", name, line, n, f.key, err)
				}
			}
			s.Depth = int(d)
			ch.Stages = append(ch.Stages, s)
		}
	}
	if len(col) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	return ch, nil
}

// willemsNumber parses a stage's cost, time or depth: empty is 0; anything else must be a finite,
// non-negative number (a chain with a broken stage is not converted at all).
func willemsNumber(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	f, err := parseNumber(s)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > schemas.MaxQuantity {
		return 0, fmt.Errorf("%q is not in 0..%g", s, schemas.MaxQuantity)
	}
	return f, nil
}

// WillemsIndex reads aux_from_snc/index.csv (chain_no, company_no, SIC code, SIC description) into
// chain id ("01") → SIC description.
func WillemsIndex(r io.Reader) (map[string]string, error) {
	cr := csv.NewReader(textReader(r))
	cr.FieldsPerRecord = -1
	out := map[string]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rec) < 4 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(rec[0]))
		if err != nil {
			continue
		}
		out[fmt.Sprintf("%02d", n)] = strings.TrimSpace(rec[3])
	}
}

// SupplyMap converts the chain into a supply map with one synthetic enterprise "willems-NN"
// (the chain leader) that makes every non-Part stage:
//   - Part stages become components (category base_component), each bought from one synthetic
//     supplier "wNN-sup-<part>" (country from WillemsSupplierCountries, share 1, qualified);
//   - Manuf, Dist, Trans and Retail stages become products made by the enterprise; a stage that
//     feeds another stage is also a component (category other);
//   - every arc from → to becomes a BOM line of product "to" using component "from" (qty 1).
//
// Ids are prefixed "wNN-" so chains can be loaded side by side.
func (ch *WillemsChain) SupplyMap(industry string) *SupplyMap {
	m := &SupplyMap{}
	ent := "willems-" + ch.ID
	pre := "w" + ch.ID + "-"
	name := "Willems (2008) chain " + ch.ID
	m.Add("enterprises", Row{"id": ent, "name": name, "industry": industry, "chain_leader": "true", "tags": "synthetic", "as_of": WillemsAsOf})
	feeds := map[string]bool{}
	for _, a := range ch.Arcs {
		feeds[a[0]] = true
	}
	stages := append([]WillemsStage(nil), ch.Stages...)
	slices.SortStableFunc(stages, func(a, b WillemsStage) int { return cmp.Compare(a.Name, b.Name) })
	for _, s := range stages {
		id := pre + s.Name
		if isPart(s.Classification) {
			m.Add("components", Row{"id": id, "name": s.Name, "category": "base_component", "as_of": WillemsAsOf})
			sup := pre + "sup-" + s.Name
			h := fnv.New32a()
			h.Write([]byte(ent + "/" + s.Name))
			country := WillemsSupplierCountries[h.Sum32()%uint32(len(WillemsSupplierCountries))]
			m.Add("suppliers", Row{"id": sup, "name": "Supplier of " + s.Name, "country": country,
				"domestic": strconv.FormatBool(country == "CHN"), "tags": "synthetic", "as_of": WillemsAsOf})
			m.Add("supplies", Row{"supplier_id": sup, "enterprise_id": ent, "component_id": id, "share": "1",
				"qualification": "qualified", "as_of": WillemsAsOf})
			continue
		}
		m.Add("products", Row{"id": id, "name": s.Name + " (" + s.Classification + ")", "enterprise_id": ent, "industry": industry, "as_of": WillemsAsOf})
		if feeds[s.Name] {
			m.Add("components", Row{"id": id, "name": s.Name, "category": "other", "as_of": WillemsAsOf})
		}
	}
	for _, a := range ch.Arcs {
		m.Add("bom", Row{"product_id": pre + a[1], "component_id": pre + a[0], "qty_per_unit": "1", "as_of": WillemsAsOf})
	}
	return m
}

func isPart(class string) bool {
	c := strings.ToLower(strings.TrimSpace(class))
	return c == "part" || c == "parts"
}

// willemsFiles lists the chain files of path (a file or a directory of willems_NN.csv) and the
// industry names from a sibling aux_from_snc/index.csv, if there is one.
func willemsFiles(path string) ([]string, map[string]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Dir(path)
	var files []string
	if st.IsDir() {
		dir = path
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range ents {
			if !e.IsDir() && willemsFileRe.MatchString(e.Name()) {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%s: no willems_NN.csv files", path)
		}
	} else {
		files = []string{path}
	}
	industries := map[string]string{}
	for _, p := range []string{filepath.Join(dir, "index.csv"), filepath.Join(dir, "..", "aux_from_snc", "index.csv")} {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		industries, err = WillemsIndex(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		break
	}
	return files, industries, nil
}
