package collectors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	"part_number":     {"part_number", "mpn", "part", "part_no", "partnumber", "manufacturer_part_number", "pn"},
	"manufacturer":    {"manufacturer", "mfr", "mfg", "maker", "brand", "manufacturer_name"},
	"distributor":     {"distributor", "vendor", "seller", "distributor_name"},
	"component_id":    {"component_id", "component"},
	"stock":           {"stock", "qty", "quantity", "quantity_available", "qty_available", "available", "inventory", "stock_qty"},
	"lead_time_days":  {"lead_time_days", "leadtime_days", "lead_time_d", "lead_days"},
	"lead_time_weeks": {"lead_time_weeks", "leadtime_weeks", "lead_time_wks", "lead_time_w", "lead_weeks"},
	"lead_time":       {"lead_time", "leadtime"},
	"lead_time_unit":  {"lead_time_unit", "lead_time_units", "leadtime_unit", "lead_unit"},
	"lifecycle":       {"lifecycle", "lifecycle_status", "life_cycle", "part_status", "status"},
	"price":           {"price", "unit_price", "price_usd"},
	"currency":        {"currency", "ccy", "price_currency"},
	"as_of":           {"as_of", "asof", "date", "timestamp", "updated_at", "snapshot_date"},
}

// lifecycleWords maps normalised lifecycle words (lower case, letters and digits only) to
// schemas.Lifecycles.
var lifecycleWords = map[string]string{
	"active": schemas.LifecycleActive, "production": schemas.LifecycleActive, "inproduction": schemas.LifecycleActive,
	"activeproduction": schemas.LifecycleActive, "volumeproduction": schemas.LifecycleActive, "new": schemas.LifecycleActive,
	"newproduct": schemas.LifecycleActive, "量产": schemas.LifecycleActive, "在产": schemas.LifecycleActive,
	"nrnd": schemas.LifecycleNRND, "notrecommendedfornewdesigns": schemas.LifecycleNRND,
	"notrecommendedfornewdesign": schemas.LifecycleNRND, "不推荐新设计": schemas.LifecycleNRND,
	"ltb": schemas.LifecycleLastTimeBuy, "lasttimebuy": schemas.LifecycleLastTimeBuy, "lastbuy": schemas.LifecycleLastTimeBuy,
	"eol": schemas.LifecycleEOL, "endoflife": schemas.LifecycleEOL, "停产通知": schemas.LifecycleEOL,
	"obsolete": schemas.LifecycleObsolete, "discontinued": schemas.LifecycleObsolete, "停产": schemas.LifecycleObsolete,
}

// NormalizeLifecycle maps a lifecycle word to one of schemas.Lifecycles.
func NormalizeLifecycle(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x2e80 {
			b.WriteRune(r)
		}
	}
	v, ok := lifecycleWords[b.String()]
	return v, ok
}

var leadSuffixRe = regexp.MustCompile(`(?i)^\s*([0-9][0-9.,]*)\s*(d|day|days|w|wk|wks|week|weeks|天|周)?\s*$`)

// availabilityRow converts one row (normalised key → value) into an event.
type availabilityConv struct {
	distributor string
	asOf        time.Time
}

func (c availabilityConv) row(get func(field string) string) (*schemas.ComponentAvailability, *rejectErr) {
	a := &schemas.ComponentAvailability{PartNumber: get("part_number"), Manufacturer: get("manufacturer"),
		Distributor: get("distributor"), ComponentID: get("component_id"), Currency: strings.ToUpper(get("currency"))}
	if a.Distributor == "" {
		a.Distributor = c.distributor
	}
	for _, f := range []struct{ name, v string }{{"part_number", a.PartNumber}, {"manufacturer", a.Manufacturer}, {"distributor", a.Distributor}} {
		if f.v == "" {
			return nil, rejectf("missing_field", "%s: required", f.name)
		}
	}
	if s := get("stock"); s != "" {
		f, err := parseNumber(s)
		if err != nil || f != float64(int64(f)) {
			return nil, rejectf("bad_number", "stock: %q is not a whole number", s)
		}
		if f < 0 {
			return nil, rejectf("bad_number", "stock: %q is negative", s)
		}
		a.Stock = int64(f)
	}
	lt, rej := leadTimeDays(get)
	if rej != nil {
		return nil, rej
	}
	a.LeadTimeDays = lt
	word := get("lifecycle")
	if word == "" {
		return nil, rejectf("missing_field", "lifecycle: required")
	}
	lc, ok := NormalizeLifecycle(word)
	if !ok {
		return nil, rejectf("unknown_lifecycle", "lifecycle: %q is not a known lifecycle word (Active, NRND, LTB, EOL, Obsolete, ...)", word)
	}
	a.Lifecycle = lc
	if s := get("price"); s != "" {
		cur := ""
		switch {
		case strings.HasPrefix(s, "$"):
			cur, s = "USD", s[1:]
		case strings.HasPrefix(s, "€"):
			cur, s = "EUR", strings.TrimPrefix(s, "€")
		case strings.HasPrefix(s, "£"):
			cur, s = "GBP", strings.TrimPrefix(s, "£")
		}
		p, err := optNumber(s)
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

func leadTimeDays(get func(string) string) (*float64, *rejectErr) {
	num := func(field, s string, mult float64) (*float64, *rejectErr) {
		f, err := parseNumber(s)
		if err != nil {
			return nil, rejectf("bad_number", "%s: %v", field, err)
		}
		if f < 0 {
			return nil, rejectf("bad_number", "%s: %q is negative", field, s)
		}
		d := f * mult
		return &d, nil
	}
	if s := get("lead_time_days"); s != "" {
		return num("lead_time_days", s, 1)
	}
	if s := get("lead_time_weeks"); s != "" {
		return num("lead_time_weeks", s, 7)
	}
	s := get("lead_time")
	if s == "" {
		return nil, nil
	}
	m := leadSuffixRe.FindStringSubmatch(s)
	if m == nil {
		return nil, rejectf("bad_number", "lead_time: %q is not a number of days or weeks", s)
	}
	unit := strings.ToLower(m[2])
	if unit == "" {
		unit = strings.ToLower(get("lead_time_unit"))
	}
	switch unit {
	case "d", "day", "days", "天":
		return num("lead_time", m[1], 1)
	case "w", "wk", "wks", "week", "weeks", "周":
		return num("lead_time", m[1], 7)
	case "":
		return nil, rejectf("missing_unit", "lead_time: %q has no unit (use lead_time_days, lead_time_weeks, a lead_time_unit column or a value like \"6 weeks\")", s)
	}
	return nil, rejectf("bad_unit", "lead_time_unit: %q is not days or weeks", unit)
}

// importAvailability reads a CSV, JSON Lines or JSON-array availability feed.
func importAvailability(o *out, r io.Reader, name string, conv availabilityConv) error {
	br := bufio.NewReaderSize(textReader(r), 64<<10)
	first, err := firstByte(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	handle := func(loc string, raw []byte, get func(string) string) error {
		o.read()
		a, rej := conv.row(get)
		if rej != nil {
			return o.rejectKind(schemas.KindAvailability, loc, rej.reason, rej.detail, raw)
		}
		return o.event(a, loc, func() []byte { return raw })
	}
	switch first {
	case '{':
		line := 0
		for {
			b, err := br.ReadBytes('\n')
			if len(b) > 0 {
				line++
				if b = bytes.TrimSpace(b); len(b) > 0 {
					if err := availabilityJSON(b, fmt.Sprintf("%s:%d", name, line), o, handle); err != nil {
						return err
					}
				}
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	case '[':
		dec := json.NewDecoder(br)
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("%s: [%d]: %w", name, i, err)
			}
			if err := availabilityJSON(raw, fmt.Sprintf("%s#[%d]", name, i), o, handle); err != nil {
				return err
			}
		}
		return nil
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
	bad := func(loc, detail string) error {
		o.read()
		return o.rejectKind(schemas.KindAvailability, loc, "bad_csv", detail, nil)
	}
	return c.each(bad, func(rec []string, loc string) error {
		return handle(loc, csvLine(rec), func(f string) string { return get(rec, idx[f]) })
	})
}

func availabilityJSON(b []byte, loc string, o *out, handle func(string, []byte, func(string) string) error) error {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		o.read()
		return o.rejectKind(schemas.KindAvailability, loc, "bad_json", err.Error(), b)
	}
	norm := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		switch x := v.(type) {
		case nil:
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		default:
			bb, _ := json.Marshal(x)
			s = string(bb)
		}
		norm[normHeader(k)] = strings.TrimSpace(s)
	}
	return handle(loc, b, func(f string) string {
		for _, a := range availabilityAliases[f] {
			if v, ok := norm[a]; ok && v != "" {
				return v
			}
		}
		return ""
	})
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
	for _, u := range f.opt.URLs {
		if f.get == nil {
			errs = append(errs, errors.New("availability: no HTTP client"))
			break
		}
		st, err := f.pollURL(ctx, em, u)
		total.Add(st)
		if err != nil && !errors.Is(err, errNotModified) {
			errs = append(errs, err)
		}
	}
	if f.opt.Dir != "" {
		st, err := f.scanDir(ctx, em)
		total.Add(st)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

func (f *AvailabilityFeed) pollURL(ctx context.Context, em Emitter, u string) (Stats, error) {
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
	t := target{ctx: ctx, em: em, now: now, size: f.batch}
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

func (f *AvailabilityFeed) scanDir(ctx context.Context, em Emitter) (Stats, error) {
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
		t := target{ctx: ctx, em: em, now: f.now(), size: f.batch}
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
