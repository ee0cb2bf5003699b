package collectors

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chainwatch/chainwatch/collectors/m49"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/schemas"
)

// ComtradeAPI collects trade flows from the UN Comtrade API v1
// (GET {endpoint}/data/v1/get/{typeCode}/{freqCode}/{clCode}?reporterCode=…&period=…&cmdCode=…).
//
// The API has no pagination: a query returns at most maxRecords records, and a result whose count
// reaches the limit is truncated. The collector therefore queries in chunks of reporters ×
// periods (all HS codes and flows at once) and splits a truncated chunk in halves — reporters
// first, then periods, HS codes, flows — until every piece fits. Records are converted while a
// response is read but emitted only once the whole chunk has arrived complete, so a retried or
// split chunk never emits a record twice; a run also skips a natural key it already emitted.
type ComtradeAPI struct {
	cfg       ComtradeConfig
	client    *retryablehttp.Client
	countries *m49.Table
	log       *slog.Logger
	now       func() time.Time
	batch     int
	source    string
}

// NewComtradeAPI builds the collector. client should come from internal/httpx (retries, rate
// limit, User-Agent); countries may be nil (the embedded table is loaded).
func NewComtradeAPI(cfg ComtradeConfig, client *retryablehttp.Client, d Deps) (*ComtradeAPI, error) {
	d = d.withDefaults()
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 100000
	}
	if cfg.ReportersPerRequest <= 0 {
		cfg.ReportersPerRequest = 5
	}
	if cfg.PeriodsPerRequest <= 0 || cfg.PeriodsPerRequest > 12 {
		cfg.PeriodsPerRequest = 12
	}
	if cfg.TypeCode == "" {
		cfg.TypeCode = "C"
	}
	if cfg.FreqCode == "" {
		cfg.FreqCode = "A"
	}
	if cfg.ClCode == "" {
		cfg.ClCode = "HS"
	}
	if len(cfg.Flows) == 0 {
		cfg.Flows = []string{"M", "X"}
	}
	if client == nil {
		return nil, errors.New("comtrade: no HTTP client")
	}
	return &ComtradeAPI{cfg: cfg, client: client, countries: d.Countries, log: d.Logger.With("collector", "comtrade"),
		now: d.Now, batch: d.BatchSize, source: SourceComtrade}, nil
}

// Name implements Collector.
func (c *ComtradeAPI) Name() string { return "comtrade" }

// comtradeChunk is one query.
type comtradeChunk struct {
	reporters, partners, periods, cmds, flows []string
}

func (q comtradeChunk) String() string {
	return fmt.Sprintf("reporters=%s periods=%s cmd=%s flows=%s", strings.Join(q.reporters, ","),
		strings.Join(q.periods, ","), strings.Join(q.cmds, ","), strings.Join(q.flows, ","))
}

// split halves the first dimension that has more than one value.
func (q comtradeChunk) split() (comtradeChunk, comtradeChunk, bool) {
	a, b := q, q
	switch {
	case len(q.reporters) > 1:
		h := len(q.reporters) / 2
		a.reporters, b.reporters = q.reporters[:h], q.reporters[h:]
	case len(q.periods) > 1:
		h := len(q.periods) / 2
		a.periods, b.periods = q.periods[:h], q.periods[h:]
	case len(q.cmds) > 1:
		h := len(q.cmds) / 2
		a.cmds, b.cmds = q.cmds[:h], q.cmds[h:]
	case len(q.flows) > 1:
		h := len(q.flows) / 2
		a.flows, b.flows = q.flows[:h], q.flows[h:]
	default:
		return q, q, false
	}
	return a, b, true
}

// plan resolves reporters/partners to M49 codes, expands period ranges and chunks the query.
func (c *ComtradeAPI) plan() ([]comtradeChunk, error) {
	resolve := func(key string, in []string) ([]string, error) {
		var out []string
		for _, s := range in {
			if allDigits(s) {
				n, _ := strconv.Atoi(s)
				out = append(out, strconv.Itoa(n))
				continue
			}
			ct, ok := c.countries.ByISO3(s)
			if !ok {
				return nil, fmt.Errorf("comtrade: %s: unknown country %q", key, s)
			}
			out = append(out, strconv.Itoa(int(ct.M49)))
		}
		return out, nil
	}
	reporters, err := resolve("reporters", c.cfg.Reporters)
	if err != nil {
		return nil, err
	}
	partners, err := resolve("partners", c.cfg.Partners)
	if err != nil {
		return nil, err
	}
	periods, err := expandPeriods(c.cfg.Periods)
	if err != nil {
		return nil, err
	}
	if len(reporters) == 0 || len(periods) == 0 || len(c.cfg.HSCodes) == 0 {
		return nil, errors.New("comtrade: reporters, periods and hs_codes must not be empty")
	}
	var chunks []comtradeChunk
	for _, ps := range chunk(periods, c.cfg.PeriodsPerRequest) {
		for _, rs := range chunk(reporters, c.cfg.ReportersPerRequest) {
			chunks = append(chunks, comtradeChunk{reporters: rs, partners: partners, periods: ps,
				cmds: c.cfg.HSCodes, flows: c.cfg.Flows})
		}
	}
	return chunks, nil
}

func expandPeriods(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		a, b, isRange := strings.Cut(p, "-")
		if !isRange {
			out = append(out, p)
			continue
		}
		from, err1 := strconv.Atoi(a)
		to, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || from > to || to-from > 200 {
			return nil, fmt.Errorf("comtrade: periods: bad range %q", p)
		}
		for y := from; y <= to; y++ {
			out = append(out, strconv.Itoa(y))
		}
	}
	return out, nil
}

func chunk(s []string, n int) [][]string {
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// Run implements Collector: it runs every chunk; a failed chunk is logged and reported in the
// returned error (the run fails and is retried next tick), the other chunks still land.
func (c *ComtradeAPI) Run(ctx context.Context, em Emitter) (Stats, error) {
	chunks, err := c.plan()
	if err != nil {
		return Stats{}, err
	}
	o := newOut(ctx, em, c.source, c.now(), c.batch)
	seen := map[[16]byte]struct{}{}
	conv := tradeConv{countries: c.countries}
	var failed []error
	stack := make([]comtradeChunk, 0, len(chunks))
	for i := len(chunks) - 1; i >= 0; i-- {
		stack = append(stack, chunks[i])
	}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			o.flush()
			return o.stats, err
		}
		q := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		items, body, err := c.fetch(ctx, q, conv)
		if err != nil {
			if ctx.Err() != nil {
				o.flush()
				return o.stats, ctx.Err()
			}
			c.log.Warn("comtrade chunk failed", "chunk", q.String(), "err", err)
			failed = append(failed, fmt.Errorf("%s: %w", q, err))
			continue
		}
		if int64(len(items)) >= int64(c.cfg.MaxRecords) || body.Count >= int64(c.cfg.MaxRecords) {
			if a, b, ok := q.split(); ok {
				c.log.Info("comtrade chunk hit the record limit, splitting", "chunk", q.String(), "count", body.Count)
				stack = append(stack, b, a)
				continue
			}
			c.log.Warn("comtrade chunk hit the record limit and cannot be split further; result may be truncated",
				"chunk", q.String(), "max_records", c.cfg.MaxRecords)
		}
		for _, it := range items {
			o.read()
			if it.rej != nil {
				if err := o.rejectKind(schemas.KindTrade, it.loc, it.rej.reason, it.rej.detail, it.raw); err != nil {
					return o.stats, err
				}
				continue
			}
			k := sha256.Sum256([]byte(it.flow.NaturalKey()))
			var key [16]byte
			copy(key[:], k[:16])
			if _, dup := seen[key]; dup {
				o.skip()
				continue
			}
			seen[key] = struct{}{}
			// Good records do not keep their source bytes (a chunk can hold 100k records); should the
			// schema reject one, its converted payload is the raw of the reject.
			if err := o.event(it.flow, it.loc, func() []byte { b, _ := json.Marshal(it.flow); return b }); err != nil {
				return o.stats, err
			}
		}
		if err := o.flush(); err != nil {
			return o.stats, err
		}
	}
	if err := o.flush(); err != nil {
		return o.stats, err
	}
	return o.stats, errors.Join(failed...)
}

type comtradeItem struct {
	flow *schemas.TradeFlow
	rej  *rejectErr
	raw  []byte
	loc  string
}

func (c *ComtradeAPI) url(q comtradeChunk) string {
	v := url.Values{}
	v.Set("reporterCode", strings.Join(q.reporters, ","))
	v.Set("period", strings.Join(q.periods, ","))
	v.Set("cmdCode", strings.Join(q.cmds, ","))
	v.Set("flowCode", strings.Join(q.flows, ","))
	if len(q.partners) > 0 {
		v.Set("partnerCode", strings.Join(q.partners, ","))
	}
	if c.cfg.TotalsOnly {
		v.Set("partner2Code", "0")
		v.Set("motCode", "0")
		v.Set("customsCode", "C00")
	}
	v.Set("maxRecords", strconv.Itoa(c.cfg.MaxRecords))
	v.Set("includeDesc", "false")
	return strings.TrimRight(c.cfg.Endpoint, "/") + "/data/v1/get/" + url.PathEscape(c.cfg.TypeCode) + "/" +
		url.PathEscape(c.cfg.FreqCode) + "/" + url.PathEscape(c.cfg.ClCode) + "?" + v.Encode()
}

// fetch runs one query and converts its records; the whole chunk is read before anything is
// emitted.
func (c *ComtradeAPI) fetch(ctx context.Context, q comtradeChunk, conv tradeConv) ([]comtradeItem, comtradeBody, error) {
	u := c.url(q)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, comtradeBody{}, err
	}
	req.Header.Set("Accept", "application/json")
	if k := c.cfg.SubscriptionKey.Reveal(); k != "" {
		req.Header.Set("Ocp-Apim-Subscription-Key", k)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, comtradeBody{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		msg := strings.TrimSpace(string(b))
		var apim struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(b, &apim) == nil && (apim.Message != "" || apim.Error != "") {
			msg = strings.TrimSpace(apim.Message + " " + apim.Error)
		}
		return nil, comtradeBody{}, fmt.Errorf("HTTP %s: %s", resp.Status, msg)
	}
	loc := redactedURL(u)
	var items []comtradeItem
	body, err := decodeComtradeJSON(resp.Body, func(i int, raw json.RawMessage) error {
		it := comtradeItem{loc: fmt.Sprintf("%s#data[%d]", loc, i)}
		var rec comtradeRecord
		if k := dupJSONKey(raw); k != "" {
			it.rej, it.raw = rejectf("duplicate_key", "%s: given twice in one object", k), append([]byte(nil), raw...)
		} else if err := json.Unmarshal(raw, &rec); err != nil {
			it.rej, it.raw = rejectf("bad_json", "%s", jsonFieldErr(err)), append([]byte(nil), raw...)
		} else if it.flow, it.rej = conv.flow(&rec); it.rej != nil {
			it.raw = append([]byte(nil), raw...)
		} else {
			it.raw = nil
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, body, err
	}
	if body.Error != "" {
		return nil, body, fmt.Errorf("API error: %s", body.Error)
	}
	return items, body, nil
}

func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "key") {
			q.Set(k, "redacted")
		}
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// ComtradeConfig (collectors.comtrade) drives the UN Comtrade API v1 collector
// (/data/v1/get/{type}/{freq}/{cl}).
type ComtradeConfig struct {
	Enabled             bool           `koanf:"enabled"`
	Interval            time.Duration  `koanf:"interval"`
	Endpoint            string         `koanf:"endpoint"`
	SubscriptionKey     confkit.Secret `koanf:"subscription_key"`
	SubscriptionKeyFile string         `koanf:"subscription_key_file"`
	TypeCode            string         `koanf:"type_code"` // C goods, S services
	FreqCode            string         `koanf:"freq_code"` // A annual, M monthly
	ClCode              string         `koanf:"cl_code"`   // HS, H0..H6
	Reporters           []string       `koanf:"reporters"` // M49 codes or ISO alpha-3
	Partners            []string       `koanf:"partners"`  // M49 codes or ISO alpha-3; "0" = World; empty = all
	HSCodes             []string       `koanf:"hs_codes"`  // 2, 4 or 6 digits
	Flows               []string       `koanf:"flows"`     // M, X, RM, RX
	Periods             []string       `koanf:"periods"`   // YYYY, YYYYMM or a range YYYY-YYYY
	MaxRecords          int            `koanf:"max_records"`
	ReportersPerRequest int            `koanf:"reporters_per_request"`
	PeriodsPerRequest   int            `koanf:"periods_per_request"`
	TotalsOnly          bool           `koanf:"totals_only"` // partner2Code=0, motCode=0, customsCode=C00
	RatePerSecond       float64        `koanf:"rate_per_second"`
	Burst               int            `koanf:"burst"`
}

// DefaultComtradeConfig returns the defaults of collectors.comtrade (disabled).
func DefaultComtradeConfig() ComtradeConfig {
	return ComtradeConfig{
		Interval: 24 * time.Hour, Endpoint: "https://comtradeapi.un.org", TypeCode: "C", FreqCode: "A",
		ClCode: "HS", Flows: []string{"M", "X"}, MaxRecords: 100000, ReportersPerRequest: 5,
		PeriodsPerRequest: 5, TotalsOnly: true, RatePerSecond: 1, Burst: 1,
	}
}

var (
	cfgM49Re    = regexp.MustCompile(`^[0-9]{1,3}$`)
	cfgHSRe     = regexp.MustCompile(`^([0-9]{2}|[0-9]{4}|[0-9]{6})$`)
	cfgPeriodRe = regexp.MustCompile(`^([0-9]{4}|[0-9]{6}|[0-9]{4}-[0-9]{4})$`)
	cfgClRe     = regexp.MustCompile(`^(HS|H[0-6])$`)
)

// Validate reports the problems of collectors.comtrade, keyed relative to it. The lists' syntax
// is checked even when disabled: a typo should not wait for the day it is enabled.
func (ct ComtradeConfig) Validate() error {
	var p confkit.Problems
	if ct.Enabled {
		ct.validateEnabled(&p)
	}
	for i, r := range ct.Reporters {
		if !cfgM49Re.MatchString(r) && !cfgISO3Re.MatchString(r) {
			p.Add(fmt.Sprintf("reporters[%d]", i), "%q is neither an M49 code nor an ISO alpha-3 code", r)
		}
	}
	for i, r := range ct.Partners {
		if !cfgM49Re.MatchString(r) && !cfgISO3Re.MatchString(r) {
			p.Add(fmt.Sprintf("partners[%d]", i), "%q is neither an M49 code nor an ISO alpha-3 code", r)
		}
	}
	for i, h := range ct.HSCodes {
		if !cfgHSRe.MatchString(h) {
			p.Add(fmt.Sprintf("hs_codes[%d]", i), "%q is not a 2, 4 or 6 digit HS code", h)
		}
	}
	for i, f := range ct.Flows {
		p.OneOf(fmt.Sprintf("flows[%d]", i), f, "M", "X", "RM", "RX")
	}
	for i, per := range ct.Periods {
		if !cfgPeriodRe.MatchString(per) {
			p.Add(fmt.Sprintf("periods[%d]", i), "%q is not YYYY, YYYYMM or YYYY-YYYY", per)
		} else if a, b, ok := strings.Cut(per, "-"); ok && a > b {
			p.Add(fmt.Sprintf("periods[%d]", i), "range %q runs backwards", per)
		}
	}
	if ct.MaxRecords < 1 || ct.MaxRecords > 250000 {
		p.Add("max_records", "must be 1..250000, got %d", ct.MaxRecords)
	}
	return p.Err()
}

func (ct ComtradeConfig) validateEnabled(p *confkit.Problems) {
	p.Duration("interval", ct.Interval)
	httpURLProblem(p, "endpoint", ct.Endpoint)
	if ct.SubscriptionKey == "" {
		p.Add("subscription_key", "required when collectors.comtrade.enabled (or set collectors.comtrade.subscription_key_file)")
	}
	p.OneOf("type_code", ct.TypeCode, "C", "S")
	p.OneOf("freq_code", ct.FreqCode, "A", "M")
	if !cfgClRe.MatchString(ct.ClCode) {
		p.Add("cl_code", "%q is not one of HS, H0..H6", ct.ClCode)
	}
	for _, l := range []struct {
		key, msg string
		n        int
	}{
		{"reporters", "at least one reporter (M49 code or ISO alpha-3) is required", len(ct.Reporters)},
		{"hs_codes", "at least one HS code is required", len(ct.HSCodes)},
		{"periods", "at least one period is required", len(ct.Periods)},
		{"flows", "at least one flow is required", len(ct.Flows)},
	} {
		if l.n == 0 {
			p.Add(l.key, "%s", l.msg)
		}
	}
	p.Positive("reporters_per_request", ct.ReportersPerRequest)
	if ct.PeriodsPerRequest < 1 || ct.PeriodsPerRequest > 12 {
		p.Add("periods_per_request", "must be 1..12 (the API accepts at most 12 periods), got %d", ct.PeriodsPerRequest)
	}
	rateProblems(p, ct.RatePerSecond, ct.Burst)
}

// ResolveSecrets reads subscription_key_file into SubscriptionKey.
func (ct *ComtradeConfig) ResolveSecrets() error {
	return secretFromFile("subscription_key_file", &ct.SubscriptionKey, ct.SubscriptionKeyFile)
}
