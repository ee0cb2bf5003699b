package chainmap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// Config is the "chains" section: the industry chains (产业链) the map endpoint draws, inline and/or
// from a YAML file holding a `chains:` list of the same shape.
//
//	chains:
//	  file: deploy/demo/chains.yaml
//	  chains:
//	    - id: nev
//	      name: 新能源汽车 NEV
//	      industry: new_energy_vehicles
//	      links:
//	        - {id: materials, name: 关键材料 Key materials, materials: [C-COBALT]}
//	        - {id: chips, name: 功率芯片 Power chips, components: [C-IGBT], hs_codes: ["854129"]}
//	        - {id: vehicle, name: 整车 Vehicle, components: [P-EV-SEDAN]}
type Config struct {
	// File is a YAML file with a `chains:` list (relative paths resolve against the working
	// directory). Its chains come after the inline ones; ids must be unique across both.
	File string `koanf:"file" yaml:"-" json:"file"`
	// Chains are inline chain definitions.
	Chains []Chain `koanf:"chains" yaml:"chains" json:"chains"`
}

// Chain is one industry chain: links (环节) ordered from upstream to downstream.
type Chain struct {
	ID       string `koanf:"id" yaml:"id" json:"id"`
	Name     string `koanf:"name" yaml:"name" json:"name"`
	Industry string `koanf:"industry" yaml:"industry,omitempty" json:"industry,omitempty"`
	Links    []Link `koanf:"links" yaml:"links" json:"links"`
}

// Link is one link (环节) of a chain. Components are supply-map node ids of components or
// products (a product's makers sit at the link); Materials are component ids of raw materials;
// HSCodes (2 to 10 digits) add every component whose hs_code starts with one of them.
type Link struct {
	ID         string   `koanf:"id" yaml:"id" json:"id"`
	Name       string   `koanf:"name" yaml:"name" json:"name"`
	Components []string `koanf:"components" yaml:"components,omitempty" json:"components,omitempty"`
	Materials  []string `koanf:"materials" yaml:"materials,omitempty" json:"materials,omitempty"`
	HSCodes    []string `koanf:"hs_codes" yaml:"hs_codes,omitempty" json:"hs_codes,omitempty"`
}

// DefaultConfig returns the defaults of "chains": no chains.
func DefaultConfig() Config { return Config{} }

var (
	idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	hsPattern = regexp.MustCompile(`^[0-9]{2,10}$`)
)

// Validate checks the inline chains and, when file is set, that it reads and its chains are valid.
func (c Config) Validate() error {
	var p confkit.Problems
	p.Merge("chains", validateChains(c.Chains))
	if c.File != "" {
		fromFile, err := readFile(c.File)
		if err != nil {
			p.Add("file", "%v", err)
		} else {
			p.Merge("file", validateChains(fromFile))
			p.Merge("file", duplicateIDs(c.Chains, fromFile))
		}
	}
	return p.Err()
}

// Load returns the inline chains followed by those of file, validated.
func (c Config) Load() ([]Chain, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("chains: %w", err)
	}
	out := append([]Chain(nil), c.Chains...)
	if c.File == "" {
		return out, nil
	}
	fromFile, err := readFile(c.File)
	if err != nil {
		return nil, fmt.Errorf("chains: %w", err)
	}
	return append(out, fromFile...), nil
}

// readFile parses a chains file strictly (unknown keys are errors).
func readFile(path string) ([]Chain, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read chains file: %w", err)
	}
	var doc struct {
		Chains []Chain `yaml:"chains"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse %s: %w", path, oneLine{err})
	}
	if len(doc.Chains) == 0 {
		return nil, fmt.Errorf("%s: no chains", path)
	}
	return doc.Chains, nil
}

// idAndName checks a chain's or link's id (well-formed, unique among seen) and name.
func idAndName(p *confkit.Problems, key, what, id, name string, seen map[string]bool) {
	if !idPattern.MatchString(id) {
		p.Add(key+".id", "%q is not an id (letters, digits, _ . -; 1..64 characters)", id)
	} else if seen[id] {
		p.Add(key+".id", "duplicate %s id %q", what, id)
	}
	seen[id] = true
	p.Required(key+".name", name)
}

func validateChains(chains []Chain) error {
	var p confkit.Problems
	seen := map[string]bool{}
	for i, ch := range chains {
		key := fmt.Sprintf("[%d]", i)
		idAndName(&p, key, "chain", ch.ID, ch.Name, seen)
		if len(ch.Links) == 0 {
			p.Add(key+".links", "a chain needs at least one link")
		}
		p.Merge(key+".links", validateLinks(ch.Links))
	}
	return p.Err()
}

func validateLinks(links []Link) error {
	var p confkit.Problems
	seen := map[string]bool{}
	for j, l := range links {
		key := fmt.Sprintf("[%d]", j)
		idAndName(&p, key, "link", l.ID, l.Name, seen)
		if len(l.Components)+len(l.Materials)+len(l.HSCodes) == 0 {
			p.Add(key, "a link needs components, materials or hs_codes")
		}
		for name, ids := range map[string][]string{"components": l.Components, "materials": l.Materials} {
			for k, id := range ids {
				if strings.TrimSpace(id) == "" || len(id) > 200 {
					p.Add(fmt.Sprintf("%s.%s[%d]", key, name, k), "%q is not a node id", id)
				}
			}
		}
		for k, hs := range l.HSCodes {
			if !hsPattern.MatchString(hs) {
				p.Add(fmt.Sprintf("%s.hs_codes[%d]", key, k), "%q is not an HS code (2 to 10 digits)", hs)
			}
		}
	}
	return p.Err()
}

func duplicateIDs(inline, fromFile []Chain) error {
	var p confkit.Problems
	ids := map[string]bool{}
	for _, c := range inline {
		ids[c.ID] = true
	}
	for i, c := range fromFile {
		if ids[c.ID] {
			p.Add(fmt.Sprintf("chains[%d].id", i), "chain id %q is also defined inline", c.ID)
		}
	}
	return p.Err()
}

// oneLine keeps a multi-line error (yaml's) on one line, so it reads as one problem.
type oneLine struct{ err error }

func (e oneLine) Error() string { return strings.Join(strings.Fields(e.err.Error()), " ") }
func (e oneLine) Unwrap() error { return e.err }
