package collectors

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/schemas"
)

// SourceAvailability is the default envelope source of availability feeds.
const SourceAvailability = "availability"

// availabilityAliases maps the canonical fields of an availability row to accepted column / key
// names (normalised: lower case, separators → "_").
var availabilityAliases = map[string][]string{
	"part_number":  {"part_number", "mpn", "part", "part_no", "partnumber", "manufacturer_part_number", "pn"},
	"manufacturer": {"manufacturer", "mfr", "mfg", "maker", "brand", "manufacturer_name"},
	"distributor":  {"distributor", "vendor", "seller", "distributor_name"},
	"sku": {"sku", "distributor_part_number", "supplier_part_number", "dpn", "mouser_part_number", "digikey_part_number",
		"digi_key_part_number", "vendor_part_number", "order_code", "distributor_sku"},
	"packaging":    {"packaging", "package_type", "packaging_type", "pack_type"},
	"component_id": {"component_id", "component"},
	"stock": {"stock", "qty", "quantity", "quantity_available", "qty_available", "available", "inventory", "stock_qty",
		"availability_in_stock", "in_stock", "availability", "inventory_level"},
	"lead_time_days":  {"lead_time_days", "leadtime_days", "lead_time_d", "lead_days"},
	"lead_time_weeks": {"lead_time_weeks", "leadtime_weeks", "lead_time_wks", "lead_time_w", "lead_weeks"},
	"lead_time":       {"lead_time", "leadtime"},
	"lead_time_unit":  {"lead_time_unit", "lead_time_units", "leadtime_unit", "lead_unit"},
	"lifecycle":       {"lifecycle", "lifecycle_status", "life_cycle", "part_status", "status"},
	"price":           {"price", "unit_price", "price_usd"},
	"currency":        {"currency", "ccy", "price_currency"},
	"as_of":           {"as_of", "asof", "date", "timestamp", "updated_at", "snapshot_date"},
}

// availabilityConv converts rows (normalised key → value) into events.
type availabilityConv struct {
	distributor string
	asOf        time.Time
}

func (c availabilityConv) row(get func(field string) string) (*schemas.ComponentAvailability, *rejectErr) {
	a := &schemas.ComponentAvailability{PartNumber: get("part_number"), Manufacturer: get("manufacturer"),
		Distributor: get("distributor"), SKU: get("sku"), Packaging: get("packaging"), ComponentID: get("component_id"),
		Currency: strings.ToUpper(get("currency"))}
	if a.Distributor == "" {
		a.Distributor = c.distributor
	}
	for _, f := range []struct{ name, v string }{{"part_number", a.PartNumber}, {"manufacturer", a.Manufacturer}, {"distributor", a.Distributor}} {
		if f.v == "" {
			return nil, rejectf("missing_field", "%s: required", f.name)
		}
	}
	stock, known, rej := ParseStock("stock", get("stock"))
	if rej != nil {
		return nil, rej
	}
	a.Stock, a.StockUnknown = stock, !known
	if a.LeadTimeDays, rej = leadTimeDays(get); rej != nil {
		return nil, rej
	}
	// A word no vocabulary knows is stored as "unknown" (issue 11): the offer's stock and lead time
	// still count, and the detectors rank "unknown" like active.
	a.Lifecycle, _ = NormalizeLifecycle(get("lifecycle"))
	if s := get("price"); s != "" {
		p, cur, err := parsePrice(s)
		if err != nil {
			return nil, rejectf("bad_number", "price: %v", err)
		}
		a.Price = p
		if a.Currency == "" {
			a.Currency = cur
		}
		if p != nil && a.Currency == "" {
			return nil, rejectf("missing_field", "currency: required when price is given")
		}
	}
	if s := get("as_of"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return nil, rejectf("bad_date", "as_of: %v", err)
		}
		a.AsOf = t
	} else {
		a.AsOf = c.asOf
	}
	return a, nil
}

// leadTimeDays reads lead_time_days, else lead_time_weeks, else lead_time (with its unit or
// lead_time_unit) into days.
func leadTimeDays(get func(string) string) (*float64, *rejectErr) {
	if s := get("lead_time_days"); s != "" {
		return ParseLeadDays("lead_time_days", s, "days")
	}
	if s := get("lead_time_weeks"); s != "" {
		return ParseLeadDays("lead_time_weeks", s, "weeks")
	}
	return ParseLeadDays("lead_time", get("lead_time"), get("lead_time_unit"))
}

// importAvailability reads a CSV, JSON Lines, JSON array or JSON document (a pretty-printed
// response, a wrapper object, a Mouser / Nexar / DigiKey / KitSpace response) availability feed.
func importAvailability(o *out, r io.Reader, name string, conv availabilityConv) error {
	br := bufio.NewReaderSize(textReader(r), 64<<10)
	first, err := firstByte(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	if first == '{' || first == '[' {
		return (&availabilityJSONReader{o: o, name: name, conv: conv}).read(br)
	}
	c := newCSV(br, name)
	if err := c.readHeader(); err != nil {
		return err
	}
	idx := map[string]int{}
	for f, al := range availabilityAliases {
		idx[f] = c.col(al...)
	}
	if idx["part_number"] < 0 {
		return fmt.Errorf("%s: no part number column (part_number, mpn, ...) in %q", name, strings.Join(c.header, ","))
	}
	bad := func(loc, detail string, raw []byte) error {
		o.read()
		return o.rejectKind(schemas.KindAvailability, loc, "bad_csv", detail, raw)
	}
	return c.each(bad, func(rec []string, loc string) error {
		return availabilityRecord(o, conv, loc, csvLine(rec), func(f string) string { return get(rec, idx[f]) })
	})
}

// availabilityRecord counts one source record and emits its event or reject.
func availabilityRecord(o *out, conv availabilityConv, loc string, raw []byte, get func(string) string) error {
	o.read()
	a, rej := conv.row(get)
	if rej != nil {
		return o.rejectKind(schemas.KindAvailability, loc, rej.reason, rej.detail, raw)
	}
	return o.event(a, loc, func() []byte { return raw })
}

// ---- scheduled feed -----------------------------------------------------------------------------

// AvailabilityFeedOptions configures NewAvailabilityFeed.
type AvailabilityFeedOptions struct {
	Source      string   // envelope source (default "availability")
	URLs        []string // polled with ETag / If-Modified-Since
	Dir         string   // watched: new or changed files (name, size, mtime) are imported
	Distributor string   // for feeds without a distributor column
}

// AvailabilityFeed polls availability feeds over HTTP and watches a directory.
type AvailabilityFeed struct {
	opt   AvailabilityFeedOptions
	get   *conditionalGet
	log   *slog.Logger
	now   func() time.Time
	batch int
	mu    sync.Mutex
	seen  map[string]fileStamp
}

type fileStamp struct {
	size  int64
	mtime time.Time
}

// NewAvailabilityFeed builds the availability collector; client should come from internal/httpx.
func NewAvailabilityFeed(opt AvailabilityFeedOptions, client *retryablehttp.Client, d Deps) *AvailabilityFeed {
	d = d.withDefaults()
	if opt.Source == "" {
		opt.Source = SourceAvailability
	}
	f := &AvailabilityFeed{opt: opt, log: d.Logger.With("collector", "availability"), now: d.Now,
		batch: d.BatchSize, seen: map[string]fileStamp{}}
	if client != nil {
		f.get = newConditionalGet(client)
	}
	return f
}

// Name implements Collector.
func (f *AvailabilityFeed) Name() string { return "availability" }

// Run implements Collector: each URL (304 = nothing new), then each new or changed file of Dir.
func (f *AvailabilityFeed) Run(ctx context.Context, em Emitter) (Stats, error) {
	var total Stats
	var errs []error
	seen := newEventSet() // duplicates are counted across the URLs and files of one run
	for _, u := range f.opt.URLs {
		if f.get == nil {
			errs = append(errs, errors.New("availability: no HTTP client"))
			break
		}
		st, err := f.pollURL(ctx, em, u, seen)
		total.Add(st)
		if err != nil && !errors.Is(err, errNotModified) {
			errs = append(errs, err)
		}
	}
	if f.opt.Dir != "" {
		st, err := f.scanDir(ctx, em, seen)
		total.Add(st)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

func (f *AvailabilityFeed) pollURL(ctx context.Context, em Emitter, u string, seen *eventSet) (Stats, error) {
	resp, commit, err := f.get.get(ctx, u)
	if err != nil {
		return Stats{}, err
	}
	defer resp.Body.Close()
	now := f.now()
	asOf := now
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		asOf = lm
	}
	t := target{ctx: ctx, em: em, now: now, size: f.batch, seen: seen}
	st, err := t.drain(f.opt.Source, nil, func(o *out, _ io.Reader) error {
		return importAvailability(o, resp.Body, redactedURL(u), availabilityConv{distributor: f.opt.Distributor, asOf: asOf.UTC()})
	})
	if err == nil {
		commit()
	}
	return st, err
}

// IsAvailabilityFile reports whether a file name looks like an availability feed.
func IsAvailabilityFile(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	for _, ext := range []string{".csv", ".jsonl", ".ndjson", ".json"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

func (f *AvailabilityFeed) scanDir(ctx context.Context, em Emitter, seen *eventSet) (Stats, error) {
	entries, err := os.ReadDir(f.opt.Dir)
	if err != nil {
		return Stats{}, fmt.Errorf("availability: %w", err)
	}
	var total Stats
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !IsAvailabilityFile(e.Name()) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		stamp := fileStamp{size: info.Size(), mtime: info.ModTime()}
		f.mu.Lock()
		prev, ok := f.seen[e.Name()]
		f.mu.Unlock()
		if ok && prev == stamp {
			continue
		}
		path := filepath.Join(f.opt.Dir, e.Name())
		t := target{ctx: ctx, em: em, now: f.now(), size: f.batch, seen: seen}
		st, err := importAvailabilityFile(t, path, f.opt.Source, f.opt.Distributor, info.ModTime(), nil)
		total.Add(st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.mu.Lock()
		f.seen[e.Name()] = stamp
		f.mu.Unlock()
		f.log.Info("availability file imported", "file", path, "emitted", st.Emitted, "rejected", st.RejectedTotal())
	}
	return total, errors.Join(errs...)
}

// importAvailabilityFile imports one availability file into t (bytes, if set, counts what was read).
func importAvailabilityFile(t target, path, source, distributor string, asOf time.Time, bytes *atomic.Int64) (Stats, error) {
	return t.drain(source, func() (io.ReadCloser, error) { return openFile(path, bytes) }, func(o *out, r io.Reader) error {
		return importAvailability(o, r, path, availabilityConv{distributor: distributor, asOf: asOf.UTC()})
	})
}

// AvailabilityConfig (collectors.availability) polls component availability feeds (CSV or JSON
// Lines) over HTTP with ETag / If-Modified-Since, and/or watches a directory for new or changed
// files (AvailabilityFeed).
type AvailabilityConfig struct {
	Enabled       bool           `koanf:"enabled"`
	Interval      time.Duration  `koanf:"interval"`
	URLs          []string       `koanf:"urls"`
	Dir           string         `koanf:"dir"`
	Source        string         `koanf:"source"`
	Distributor   string         `koanf:"distributor"` // used when a feed has no distributor column
	APIKey        confkit.Secret `koanf:"api_key"`
	APIKeyFile    string         `koanf:"api_key_file"`
	APIKeyHeader  string         `koanf:"api_key_header"`
	RatePerSecond float64        `koanf:"rate_per_second"`
	Burst         int            `koanf:"burst"`
}

// DefaultAvailabilityConfig returns the defaults of collectors.availability (disabled).
func DefaultAvailabilityConfig() AvailabilityConfig {
	return AvailabilityConfig{Interval: 15 * time.Minute, Source: "availability", RatePerSecond: 2, Burst: 2}
}

// Validate reports the problems of collectors.availability, keyed relative to it.
func (av AvailabilityConfig) Validate() error {
	var p confkit.Problems
	if av.Enabled {
		p.Duration("interval", av.Interval)
		if len(av.URLs) == 0 && strings.TrimSpace(av.Dir) == "" {
			p.Add("urls", "at least one URL or collectors.availability.dir is required when collectors.availability.enabled")
		}
		p.Required("source", av.Source)
		rateProblems(&p, av.RatePerSecond, av.Burst)
	}
	for i, u := range av.URLs {
		httpURLProblem(&p, fmt.Sprintf("urls[%d]", i), u)
	}
	if av.APIKey != "" && strings.TrimSpace(av.APIKeyHeader) == "" {
		p.Add("api_key_header", "required when collectors.availability.api_key is set")
	}
	return p.Err()
}

// ResolveSecrets reads api_key_file into APIKey.
func (av *AvailabilityConfig) ResolveSecrets() error {
	return secretFromFile("api_key_file", &av.APIKey, av.APIKeyFile)
}
