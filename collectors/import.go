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
	"slices"
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
	ImportAvailability = "availability" // availability CSV / JSON Lines / JSON, distributor API responses (file or directory)
	ImportSupplyMap    = "supplymap"    // directory of <section>.csv, or one YAML file
	ImportWillems      = "willems"      // Willems (2008) chain CSV(s) converted to a supply map
	ImportSubstitution = "substitution" // substitution list CSV or YAML
)

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
// It looks kind up in NewImportRegistry.
func Import(ctx context.Context, kind, path string, em Emitter, opts ImportOptions) (Stats, error) {
	k, err := NewImportRegistry().Lookup(kind)
	if err != nil {
		return Stats{}, err
	}
	return k.New(opts).Import(ctx, path, em)
}

// fileImporter is the Importer of every kind: list the files of path, show progress, read them
// with run, log the summary and record the metrics.
type fileImporter struct {
	kind string
	opts ImportOptions
	// files lists the files under path (match: a directory's file names to read; nil: path is
	// the only "file") and their total size for the progress bar.
	files func(path string) ([]string, int64, error)
	run   func(r *importRun) error
	// url, if set, imports an http(s) URL instead of files.
	url func(r *importRun) error
	// duplicates: count events whose id collapses into an earlier one of the import
	// (Stats.Duplicates) instead of Emitted.
	duplicates bool
	// accepts describes the file names a directory import reads (the reason a file is skipped).
	accepts string
}

// Import implements Importer.
func (im *fileImporter) Import(ctx context.Context, path string, em Emitter) (Stats, error) {
	im.opts.defaults()
	start := time.Now()
	st, err := im.importPath(ctx, path, em)
	end := time.Now()
	im.opts.Metrics.observe("import_"+im.kind, st, end.Sub(start), err, end)
	return st, err
}

func (im *fileImporter) importPath(ctx context.Context, path string, em Emitter) (Stats, error) {
	opts := &im.opts
	r := &importRun{opts: opts, path: path, now: opts.Now(), pc: &progressCounters{}}
	r.asOf = opts.AsOf
	if r.asOf.IsZero() {
		r.asOf = r.now
	}
	run := im.run
	var total int64
	if im.url != nil && (strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://")) {
		run = im.url
	} else {
		var err error
		if r.files, total, err = im.files(path); err != nil {
			return Stats{}, fmt.Errorf("import %s: %w", im.kind, err)
		}
		r.stats.SkippedFiles = im.skippedFiles(path, r.files)
	}
	r.target = target{ctx: ctx, em: em, now: r.now, size: opts.BatchSize, progress: &r.pc.records}
	if im.duplicates {
		r.target.seen = newEventSet()
	}
	stop := startProgress(ctx, opts, im.kind, path, total, r.pc)
	defer stop()
	err := run(r)
	r.stats.Bytes = r.pc.bytes.Load()
	stop()
	st := r.stats
	for _, f := range st.SkippedFiles {
		opts.Logger.Info("file skipped", "kind", im.kind, "file", f)
	}
	opts.Logger.Info("import finished", "kind", im.kind, "path", redactedURL(path), "files", st.Files,
		"read", st.Read, "emitted", st.Emitted, "rejected", st.RejectedTotal(), "skipped", st.Skipped, "duplicates", st.Duplicates,
		"bytes", st.Bytes, "ok", err == nil)
	return st, err
}

// importRun is one import in progress.
type importRun struct {
	target
	opts      *ImportOptions
	path      string
	files     []string
	now, asOf time.Time
	pc        *progressCounters
	stats     Stats
}

// source is the envelope source: ImportOptions.Source, else def.
func (r *importRun) source(def string) string {
	if r.opts.Source != "" {
		return r.opts.Source
	}
	return def
}

// fixed is a source function for perFile: the same source for every file.
func (r *importRun) fixed(def string) func(file string) string {
	s := r.source(def)
	return func(string) string { return s }
}

func (r *importRun) open(path string) (io.ReadCloser, error) { return openFile(path, &r.pc.bytes) }

// perFile reads every file with parse, each into its own batch (source by file name).
func (r *importRun) perFile(source func(file string) string, parse func(o *out, rd io.Reader, name string) error) error {
	for _, f := range r.files {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		st, err := r.drain(source(f), func() (io.ReadCloser, error) { return r.open(f) },
			func(o *out, rd io.Reader) error { return parse(o, rd, f) })
		r.stats.Add(st)
		if err != nil {
			return err
		}
	}
	return nil
}

// target is where one import or run hands its records.
type target struct {
	ctx      context.Context
	em       Emitter
	now      time.Time
	size     int
	progress *atomic.Int64 // may be nil
	// seen, when set, is shared by every drain of one import or run, so duplicates are counted
	// across its files and responses (nil: duplicates are not counted, e.g. OCDS, whose later
	// releases of an award are expected repeats).
	seen *eventSet
}

// drain is the end-of-input sequence of every collector and import: open the input (when open is
// set; a failure counts nothing), fill a fresh batch with parse, hand everything queued to the
// Emitter and count one file (parse may set o.stats.Files otherwise). The parse error wins over
// the flush error.
func (t target) drain(source string, open func() (io.ReadCloser, error), parse func(o *out, r io.Reader) error) (Stats, error) {
	var rd io.Reader
	if open != nil {
		rc, err := open()
		if err != nil {
			return Stats{}, err
		}
		defer rc.Close()
		rd = rc
	}
	o := newOut(t.ctx, t.em, source, t.now, t.size)
	o.progress = t.progress
	o.seen = t.seen
	o.stats.Files = 1
	err := parse(o, rd)
	if ferr := o.flush(); err == nil {
		err = ferr
	}
	return o.stats, err
}

func isYAML(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	return strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")
}

// hasExt reports whether name (without a .gz) ends in one of exts, ignoring case.
func hasExt(name string, exts ...string) bool {
	n := strings.TrimSuffix(strings.ToLower(name), ".gz")
	return slices.ContainsFunc(exts, func(e string) bool { return strings.HasSuffix(n, e) })
}

// matchFiles returns the files lister of a kind whose directories hold files matching match.
func matchFiles(match func(name string) bool) func(path string) ([]string, int64, error) {
	return func(path string) ([]string, int64, error) {
		st, err := os.Stat(path)
		if err != nil {
			return nil, 0, err
		}
		if !st.IsDir() {
			return []string{path}, st.Size(), nil
		}
		return dirFiles(path, match)
	}
}

// onlyPath is the files lister of kinds that read path themselves; size counts the bytes of
// the files named (for the progress bar).
func onlyPath(size func(path string) int64) func(path string) ([]string, int64, error) {
	return func(path string) ([]string, int64, error) {
		st, err := os.Stat(path)
		if err != nil {
			return nil, 0, err
		}
		if !st.IsDir() {
			return []string{path}, st.Size(), nil
		}
		return []string{path}, size(path), nil
	}
}

func dirFiles(path string, match func(string) bool) ([]string, int64, error) {
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
	slices.Sort(files)
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("%s holds no matching files", path)
	}
	return files, total, nil
}

func (r *importRun) importOCDSURL() error {
	c := r.opts.HTTPClient
	if c == nil {
		c = httpx.NewStandard(httpx.Options{Name: "import", Version: r.opts.Version, Logger: r.opts.Logger})
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("import procurement: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("import procurement: GET %s: HTTP %s", redactedURL(r.path), resp.Status)
	}
	st, err := r.drain(r.source(SourceOCDS), nil, func(o *out, _ io.Reader) error {
		return importOCDS(o, &countingReader{r: resp.Body, n: &r.pc.bytes}, redactedURL(r.path), r.opts.Countries)
	})
	r.stats.Add(st)
	return err
}

func (r *importRun) importWillems() error {
	files, industries, err := willemsFiles(r.path)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		rc, err := r.open(f)
		if err != nil {
			return err
		}
		ch, err := ParseWillems(rc, f)
		rc.Close()
		if err != nil {
			return err
		}
		st, err := r.drain(r.source(SourceWillems), nil, func(o *out, _ io.Reader) error {
			return ch.SupplyMap(industries[ch.ID]).emit(newSupplyMapProc(o, r.opts.Countries, r.now, "CHN"), f)
		})
		r.stats.Add(st)
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *importRun) importAvailability() error {
	for _, f := range r.files {
		asOf := r.opts.AsOf
		if asOf.IsZero() {
			if fi, serr := os.Stat(f); serr == nil {
				asOf = fi.ModTime()
			} else {
				asOf = r.now
			}
		}
		st, err := importAvailabilityFile(r.target, f, r.source(SourceAvailability), r.opts.Distributor, asOf, &r.pc.bytes)
		r.stats.Add(st)
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *importRun) importSupplyMap() error {
	st, err := r.drain(r.source(SourceSupplyMap), nil, func(o *out, _ io.Reader) error {
		p := newSupplyMapProc(o, r.opts.Countries, r.asOf, r.opts.HomeCountry)
		if len(r.files) == 1 && isYAML(r.files[0]) {
			rc, err := r.open(r.files[0])
			if err != nil {
				o.stats.Files = 0
				return err
			}
			defer rc.Close()
			return importSupplyMapYAML(p, rc, r.files[0])
		}
		var err error
		o.stats.Files, err = importSupplyMapDir(p, r.path, r.open)
		return err
	})
	r.stats.Add(st)
	return err
}

// progressCounters are updated by the importers and read by the progress reporter.
type progressCounters struct {
	bytes   atomic.Int64
	records atomic.Int64
}

// skippedFiles lists, for a directory whose files are read one by one, every entry that is not
// read, with the reason ("name: reason"), so that no file of the folder passes unnoticed. Hidden
// entries are left out; an importer that reads the directory as a whole lists nothing.
func (im *fileImporter) skippedFiles(path string, read []string) []string {
	if len(read) == 0 || filepath.Dir(read[0]) != filepath.Clean(path) {
		return nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."), slices.Contains(read, filepath.Join(path, name)):
		case e.IsDir():
			out = append(out, name+": a directory (not read: the import reads the files of "+path+" only)")
		default:
			reason := "does not match the " + im.kind + " import's file names"
			if im.accepts != "" {
				reason += " (" + im.accepts + ")"
			}
			out = append(out, name+": "+reason)
		}
	}
	return out
}
