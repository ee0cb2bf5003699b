package collectors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/internal/httpx"
)

// Deps are the collaborators of collectors. Zero values get defaults.
type Deps struct {
	Logger    *slog.Logger     // default: discard
	Version   string           // User-Agent chainwatch/<version>; default "dev"
	Now       func() time.Time // default time.Now
	Countries *m49.Table       // default: the embedded table
	BatchSize int              // default DefaultBatchSize
	// Transport is the HTTP transport under the retrying clients (tests point it at httptest).
	Transport http.RoundTripper
	// HTTP configures the retrying clients (zero = httpx defaults).
	HTTP HTTPConfig
}

func (d Deps) withDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Countries == nil {
		d.Countries = m49.MustNew()
	}
	if d.BatchSize <= 0 {
		d.BatchSize = DefaultBatchSize
	}
	return d
}

// httpClient builds the retrying client of one source.
func (d Deps) httpClient(name string, perSecond float64, burst int, header http.Header) *retryablehttp.Client {
	return httpx.New(httpx.Options{
		Name: name, Version: d.Version, Timeout: d.HTTP.Timeout, RetryMax: d.HTTP.RetryMax,
		RetryWaitMin: d.HTTP.RetryWaitMin, RetryWaitMax: d.HTTP.RetryWaitMax, MaxRetryAfter: d.HTTP.MaxRetryAfter,
		RatePerSecond: perSecond, Burst: burst, Header: header, Logger: d.Logger, Transport: d.Transport, Jitter: 0.1,
	})
}

// Registry is the explicit list of scheduled collectors built from the configuration.
type Registry struct {
	entries []Scheduled
}

// NewRegistry builds every enabled scheduled collector of cfg (Comtrade API, OCDS URLs,
// availability feeds, Mouser, Nexar, DigiKey). d.BatchSize and d.HTTP default to cfg's values.
func NewRegistry(cfg Config, d Deps) (*Registry, error) {
	if d.BatchSize <= 0 {
		d.BatchSize = cfg.BatchSize
	}
	if d.HTTP == (HTTPConfig{}) {
		d.HTTP = cfg.HTTP
	}
	d = d.withDefaults()
	r := &Registry{}
	if cfg.Comtrade.Enabled {
		c, err := NewComtradeAPI(cfg.Comtrade, d.httpClient("comtrade", cfg.Comtrade.RatePerSecond, cfg.Comtrade.Burst, nil), d)
		if err != nil {
			return nil, err
		}
		if _, err := c.plan(); err != nil {
			return nil, err
		}
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: cfg.Comtrade.Interval})
	}
	if cfg.Procurement.Enabled {
		p := cfg.Procurement
		c := NewOCDSFeed(p.Source, p.URLs, d.httpClient("procurement", p.RatePerSecond, p.Burst, nil), d)
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: p.Interval})
	}
	if cfg.Availability.Enabled {
		a := cfg.Availability
		var h http.Header
		if a.APIKey != "" {
			h = http.Header{a.APIKeyHeader: {a.APIKey.Reveal()}}
		}
		c := NewAvailabilityFeed(AvailabilityFeedOptions{Source: a.Source, URLs: a.URLs, Dir: a.Dir,
			Distributor: a.Distributor}, d.httpClient("availability", a.RatePerSecond, a.Burst, h), d)
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: a.Interval})
	}
	r.addDistributors(cfg, d)
	return r, nil
}

// addDistributors adds the enabled distributor API collectors, each with its own rate limit.
func (r *Registry) addDistributors(cfg Config, d Deps) {
	if m := cfg.Mouser; m.Enabled {
		c := NewMouserAPI(m, d.httpClient("mouser", m.RatePerSecond, m.Burst, nil), d)
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: m.Interval})
	}
	if n := cfg.Nexar; n.Enabled {
		c := NewNexarAPI(n, d.httpClient("nexar", n.RatePerSecond, n.Burst, nil), d)
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: n.Interval})
	}
	if g := cfg.DigiKey; g.Enabled {
		c := NewDigiKeyAPI(g, d.httpClient("digikey", g.RatePerSecond, g.Burst, nil), d)
		r.entries = append(r.entries, Scheduled{Collector: c, Interval: g.Interval})
	}
}

// Scheduled returns the collectors with their intervals, for Schedule.
func (r *Registry) Scheduled() []Scheduled { return append([]Scheduled(nil), r.entries...) }

// Lookup returns the collector called name (for `chainwatch collect <name>`).
func (r *Registry) Lookup(name string) (Collector, error) {
	for _, e := range r.entries {
		if e.Collector.Name() == name {
			return e.Collector, nil
		}
	}
	return nil, fmt.Errorf("collectors: no enabled collector %q (enabled: %v)", name, r.Names())
}

// Names lists the enabled collectors, sorted.
func (r *Registry) Names() []string {
	var out []string
	for _, e := range r.entries {
		out = append(out, e.Collector.Name())
	}
	slices.Sort(out)
	return out
}

// Importer reads one path (a file, a directory, or for procurement an http(s) URL) of its kind
// and hands the events and rejects to em.
type Importer interface {
	Import(ctx context.Context, path string, em Emitter) (Stats, error)
}

// ImportKind is one kind `chainwatch import <kind> <path>` accepts: its name, a one-line usage
// (what the path holds) and the constructor of its Importer.
type ImportKind struct {
	Name  string
	Usage string
	New   func(opts ImportOptions) Importer
}

// ImportRegistry is the explicit list of import kinds.
type ImportRegistry struct {
	kinds []ImportKind
}

// Register adds kind k (a later kind of the same name replaces it).
func (r *ImportRegistry) Register(k ImportKind) {
	r.kinds = slices.DeleteFunc(r.kinds, func(o ImportKind) bool { return o.Name == k.Name })
	r.kinds = append(r.kinds, k)
}

// Lookup returns the kind called name; the error lists the registered kinds.
func (r *ImportRegistry) Lookup(name string) (ImportKind, error) {
	i := slices.IndexFunc(r.kinds, func(k ImportKind) bool { return k.Name == name })
	if i < 0 {
		return ImportKind{}, fmt.Errorf("import: unknown kind %q (want one of %s)", name, strings.Join(r.Names(), ", "))
	}
	return r.kinds[i], nil
}

// Names lists the registered kinds in registration order.
func (r *ImportRegistry) Names() []string {
	out := make([]string, len(r.kinds))
	for i, k := range r.kinds {
		out[i] = k.Name
	}
	return out
}

// Kinds returns the registered kinds in registration order.
func (r *ImportRegistry) Kinds() []ImportKind { return slices.Clone(r.kinds) }

// ImportKinds lists the kinds Import accepts.
func ImportKinds() []string { return NewImportRegistry().Names() }

// NewImportRegistry registers every import kind, one line each.
func NewImportRegistry() *ImportRegistry {
	r := &ImportRegistry{}
	r.Register(ImportKind{ImportTrade, "Comtrade CSV or JSON (API body), auto-detected", newTradeImporter})
	r.Register(ImportKind{ImportBACI, "BACI bulk CSV t,i,j,k,v,q", newBACIImporter})
	r.Register(ImportKind{ImportProduction, "USGS MCS world tables (a file or a directory)", newProductionImporter})
	r.Register(ImportKind{ImportProcurement, "OCDS packages / JSON Lines (file, directory or URL)", newProcurementImporter})
	r.Register(ImportKind{ImportAvailability, "availability CSV / JSON Lines / JSON, distributor API responses (file or directory)", newAvailabilityImporter})
	r.Register(ImportKind{ImportSupplyMap, "directory of <section>.csv, or one YAML file", newSupplyMapImporter})
	r.Register(ImportKind{ImportWillems, "Willems (2008) chain CSV(s) converted to a supply map", newWillemsImporter})
	r.Register(ImportKind{ImportSubstitution, "substitution list CSV or YAML", newSubstitutionImporter})
	return r
}

func newTradeImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportTrade, opts: o, duplicates: true, files: matchFiles(isTradeFile), run: func(r *importRun) error {
		return r.perFile(r.fixed(SourceComtrade), func(o *out, rd io.Reader, name string) error {
			return importTrade(o, rd, name, r.opts.Countries)
		})
	}}
}

func newBACIImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportBACI, opts: o, duplicates: true, files: matchFiles(isTradeFile), run: func(r *importRun) error {
		return r.perFile(r.fixed(SourceBACI), func(o *out, rd io.Reader, name string) error {
			return importBACI(o, rd, name, r.opts.Classification, r.opts.Countries)
		})
	}}
}

func newProductionImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportProduction, opts: o, duplicates: true, accepts: "USGS MCS world tables: mcs<year>-<code>_world.csv", files: matchFiles(IsUSGSWorldFile), run: func(r *importRun) error {
		return r.perFile(func(f string) string { return r.source(usgsSource(f)) }, func(o *out, rd io.Reader, name string) error {
			return importUSGS(o, rd, name, r.opts.Countries)
		})
	}}
}

func newProcurementImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportProcurement, opts: o,
		files: matchFiles(func(n string) bool { return hasExt(n, ".json", ".jsonl", ".ndjson") }),
		run: func(r *importRun) error {
			return r.perFile(r.fixed(SourceOCDS), func(o *out, rd io.Reader, name string) error {
				return importOCDS(o, rd, name, r.opts.Countries)
			})
		},
		url: (*importRun).importOCDSURL}
}

func newAvailabilityImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportAvailability, opts: o, duplicates: true, files: matchFiles(IsAvailabilityFile),
		run: (*importRun).importAvailability}
}

func newSupplyMapImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportSupplyMap, opts: o, files: onlyPath(supplyMapSize), run: (*importRun).importSupplyMap}
}

func newWillemsImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportWillems, opts: o, files: onlyPath(func(string) int64 { return 0 }),
		run: (*importRun).importWillems}
}

func newSubstitutionImporter(o ImportOptions) Importer {
	return &fileImporter{kind: ImportSubstitution, opts: o, duplicates: true,
		files: matchFiles(func(n string) bool { return strings.HasSuffix(strings.ToLower(n), ".csv") || isYAML(n) }),
		run: func(r *importRun) error {
			return r.perFile(r.fixed(SourceSubstitution), func(o *out, rd io.Reader, name string) error {
				c := &substitutionConv{o: o, countries: r.opts.Countries, asOf: r.asOf, homeCountry: r.opts.HomeCountry}
				if isYAML(name) {
					return importSubstitutionYAML(c, rd, name)
				}
				return importSubstitutionCSV(c, rd, name)
			})
		}}
}

func isTradeFile(n string) bool { return hasExt(n, ".csv", ".json") }

// supplyMapSize sums the section files of a supply map directory (for the progress bar).
func supplyMapSize(dir string) int64 {
	var total int64
	for _, s := range SupplyMapSections {
		if fi, err := os.Stat(filepath.Join(dir, s+".csv")); err == nil {
			total += fi.Size()
		}
	}
	return total
}
