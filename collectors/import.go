package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/internal/httpx"
)

// Import kinds.
const (
	ImportTrade        = "trade"        // Comtrade CSV or JSON (API body), auto-detected
	ImportBACI         = "baci"         // BACI bulk CSV t,i,j,k,v,q
	ImportProduction   = "production"   // USGS MCS world tables (a file or a directory)
	ImportProcurement  = "procurement"  // OCDS packages / JSON Lines (file, directory or URL)
	ImportAvailability = "availability" // availability CSV / JSON Lines (file or directory)
	ImportSupplyMap    = "supplymap"    // directory of <section>.csv, or one YAML file
	ImportWillems      = "willems"      // Willems (2008) chain CSV(s) converted to a supply map
	ImportSubstitution = "substitution" // substitution list CSV or YAML
)

// ImportKinds lists the kinds Import accepts.
func ImportKinds() []string {
	return []string{ImportTrade, ImportBACI, ImportProduction, ImportProcurement, ImportAvailability,
		ImportSupplyMap, ImportWillems, ImportSubstitution}
}

// ImportOptions tune Import. Zero values take the defaults noted.
type ImportOptions struct {
	// Source overrides the envelope source (defaults: comtrade, baci, usgs-mcs<year>, ocds,
	// availability, supplymap, willems2008, substitution).
	Source string
	// Now is the ingest time (default time.Now).
	Now func() time.Time
	// BatchSize is the number of envelopes per Emit call (default 500).
	BatchSize int
	// Logger gets progress lines and warnings (default: discard).
	Logger *slog.Logger
	// Progress is where a progress bar is drawn when it is a terminal (typically os.Stdout or
	// os.Stderr); otherwise, or when nil, progress is logged every ProgressInterval.
	Progress *os.File
	// ProgressInterval is the period of progress log lines (default 10s).
	ProgressInterval time.Duration
	// AsOf is the as_of of rows without one (supply map, substitution; availability defaults to
	// the file's modification time). Default: Now.
	AsOf time.Time
	// Classification is the HS revision of a BACI file ("H5"); default from the file name.
	Classification string
	// Distributor is used for availability rows without one.
	Distributor string
	// HomeCountry (ISO alpha-3) marks suppliers / substitutes of that country as domestic when a
	// row does not say (default none).
	HomeCountry string
	// HTTPClient fetches procurement URLs (default: an internal/httpx client).
	HTTPClient *http.Client
	// Version goes into the default HTTP client's User-Agent.
	Version string
	// Countries is the M49 table (default: the embedded one).
	Countries *m49.Table
	// Metrics, if set, records the import like a collector run named "import_<kind>".
	Metrics *Metrics
}

func (o *ImportOptions) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 10 * time.Second
	}
	if o.Countries == nil {
		o.Countries = m49.MustNew()
	}
}

// Import reads path (a file, a directory, or for procurement an http(s) URL) of the given kind and
// hands its events and rejects to em. Bad records become rejects and the good records of the same
// file still land; the error is for what stops the import (unreadable input, an Emitter failure,
// ctx cancelled). Stats counts what was read, emitted, rejected (by reason) and skipped.
func Import(ctx context.Context, kind, path string, em Emitter, opts ImportOptions) (Stats, error) {
	opts.defaults()
	start := time.Now()
	st, err := runImport(ctx, kind, path, em, &opts)
	end := time.Now()
	opts.Metrics.observe("import_"+kind, st, end.Sub(start), err, end)
	return st, err
}

func runImport(ctx context.Context, kind, path string, em Emitter, opts *ImportOptions) (Stats, error) {
	now := opts.Now()
	asOf := opts.AsOf
	if asOf.IsZero() {
		asOf = now
	}
	src := func(def string) string {
		if opts.Source != "" {
			return opts.Source
		}
		return def
	}
	fixed := func(s string) func(string) string { return func(string) string { return s } }
	pc := &progressCounters{}
	isURL := strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://")
	var files []string
	var total int64
	if !isURL {
		var err error
		files, total, err = importFiles(kind, path)
		if err != nil {
			return Stats{}, err
		}
	}
	stop := startProgress(ctx, opts, kind, path, total, pc)
	defer stop()

	var stats Stats
	open := func(p string) (io.ReadCloser, error) { return openFile(p, &pc.bytes) }
	perFile := func(source func(file string) string, fn func(o *out, r io.Reader, name string) error) error {
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			o := newOut(ctx, em, source(f), now, opts.BatchSize)
			o.progress = &pc.records
			rc, err := open(f)
			if err != nil {
				return err
			}
			err = fn(o, rc, f)
			rc.Close()
			if ferr := o.flush(); err == nil {
				err = ferr
			}
			o.stats.Files = 1
			stats.Add(o.stats)
			if err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch kind {
	case ImportTrade:
		err = perFile(fixed(src(SourceComtrade)), func(o *out, r io.Reader, name string) error {
			return importTrade(o, r, name, opts.Countries)
		})
	case ImportBACI:
		err = perFile(fixed(src(SourceBACI)), func(o *out, r io.Reader, name string) error {
			return importBACI(o, r, name, opts.Classification, opts.Countries)
		})
	case ImportProduction:
		err = perFile(func(f string) string { return src(usgsSource(f)) }, func(o *out, r io.Reader, name string) error {
			return importUSGS(o, r, name, opts.Countries)
		})
	case ImportProcurement:
		if isURL {
			err = importOCDSURL(ctx, path, em, src(SourceOCDS), now, opts, pc, &stats)
			break
		}
		err = perFile(fixed(src(SourceOCDS)), func(o *out, r io.Reader, name string) error {
			return importOCDS(o, r, name, opts.Countries)
		})
	case ImportAvailability:
		for _, f := range files {
			fAsOf := opts.AsOf
			if fAsOf.IsZero() {
				if fi, serr := os.Stat(f); serr == nil {
					fAsOf = fi.ModTime()
				} else {
					fAsOf = now
				}
			}
			var st Stats
			st, err = importAvailabilityFile(ctx, em, f, src(SourceAvailability), opts.Distributor, fAsOf, now, opts.BatchSize, pc)
			stats.Add(st)
			if err != nil {
				break
			}
		}
	case ImportSupplyMap:
		o := newOut(ctx, em, src(SourceSupplyMap), now, opts.BatchSize)
		o.progress = &pc.records
		p := newSupplyMapProc(o, opts.Countries, asOf, opts.HomeCountry)
		if len(files) == 1 && isYAML(files[0]) {
			var rc io.ReadCloser
			if rc, err = open(files[0]); err == nil {
				err = importSupplyMapYAML(p, rc, files[0])
				rc.Close()
				o.stats.Files = 1
			}
		} else {
			o.stats.Files, err = importSupplyMapDir(p, path, open)
		}
		if ferr := o.flush(); err == nil {
			err = ferr
		}
		stats.Add(o.stats)
	case ImportWillems:
		err = importWillems(ctx, path, em, src(SourceWillems), now, opts, pc, &stats)
	case ImportSubstitution:
		err = perFile(fixed(src(SourceSubstitution)), func(o *out, r io.Reader, name string) error {
			c := &substitutionConv{o: o, countries: opts.Countries, asOf: asOf, homeCountry: opts.HomeCountry}
			if isYAML(name) {
				return importSubstitutionYAML(c, r, name)
			}
			return importSubstitutionCSV(c, r, name)
		})
	default:
		return Stats{}, fmt.Errorf("import: unknown kind %q (want one of %s)", kind, strings.Join(ImportKinds(), ", "))
	}
	stats.Bytes = pc.bytes.Load()
	stop()
	opts.Logger.Info("import finished", "kind", kind, "path", redactedURL(path), "files", stats.Files,
		"read", stats.Read, "emitted", stats.Emitted, "rejected", stats.RejectedTotal(), "skipped", stats.Skipped,
		"bytes", stats.Bytes, "ok", err == nil)
	return stats, err
}

func isYAML(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	return strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")
}

// importFiles lists the files an import reads and their total size (for the progress bar).
func importFiles(kind, path string) ([]string, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("import %s: %w", kind, err)
	}
	if !st.IsDir() {
		return []string{path}, st.Size(), nil
	}
	var match func(string) bool
	switch kind {
	case ImportTrade, ImportBACI:
		match = func(n string) bool {
			n = strings.ToLower(strings.TrimSuffix(strings.ToLower(n), ".gz"))
			return strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".json")
		}
	case ImportProduction:
		match = IsUSGSWorldFile
	case ImportProcurement:
		match = func(n string) bool {
			n = strings.ToLower(strings.TrimSuffix(strings.ToLower(n), ".gz"))
			return strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".ndjson")
		}
	case ImportAvailability:
		match = IsAvailabilityFile
	case ImportSupplyMap:
		var total int64
		for _, s := range SupplyMapSections {
			if fi, err := os.Stat(filepath.Join(path, s+".csv")); err == nil {
				total += fi.Size()
			}
		}
		return []string{path}, total, nil
	case ImportWillems:
		return []string{path}, 0, nil
	case ImportSubstitution:
		match = func(n string) bool {
			n = strings.ToLower(n)
			return strings.HasSuffix(n, ".csv") || isYAML(n)
		}
	default:
		return nil, 0, fmt.Errorf("import: unknown kind %q (want one of %s)", kind, strings.Join(ImportKinds(), ", "))
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, 0, err
	}
	var files []string
	var total int64
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !match(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, 0, err
		}
		files = append(files, filepath.Join(path, e.Name()))
		total += info.Size()
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("import %s: %s holds no matching files", kind, path)
	}
	return files, total, nil
}

func importOCDSURL(ctx context.Context, u string, em Emitter, source string, now time.Time, opts *ImportOptions,
	pc *progressCounters, stats *Stats) error {
	c := opts.HTTPClient
	if c == nil {
		c = httpx.NewStandard(httpx.Options{Name: "import", Version: opts.Version, Logger: opts.Logger})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("import procurement: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("import procurement: GET %s: HTTP %s", redactedURL(u), resp.Status)
	}
	o := newOut(ctx, em, source, now, opts.BatchSize)
	o.progress = &pc.records
	err = importOCDS(o, &countingReader{r: resp.Body, n: &pc.bytes}, redactedURL(u), opts.Countries)
	if ferr := o.flush(); err == nil {
		err = ferr
	}
	o.stats.Files = 1
	stats.Add(o.stats)
	return err
}

func importWillems(ctx context.Context, path string, em Emitter, source string, now time.Time, opts *ImportOptions,
	pc *progressCounters, stats *Stats) error {
	files, industries, err := willemsFiles(path)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, err := openFile(f, &pc.bytes)
		if err != nil {
			return err
		}
		ch, err := ParseWillems(rc, f)
		rc.Close()
		if err != nil {
			return err
		}
		o := newOut(ctx, em, source, now, opts.BatchSize)
		o.progress = &pc.records
		p := newSupplyMapProc(o, opts.Countries, now, "CHN")
		err = ch.SupplyMap(industries[ch.ID]).emit(p, f)
		if ferr := o.flush(); err == nil {
			err = ferr
		}
		o.stats.Files = 1
		stats.Add(o.stats)
		if err != nil {
			return err
		}
	}
	return nil
}

// progressCounters are updated by the importers and read by the progress reporter.
type progressCounters struct {
	bytes   atomic.Int64
	records atomic.Int64
}
