// Package config holds chainwatch's one configuration struct, its defaults, the koanf loader
// (defaults → YAML file → CHAINWATCH_* environment) and Validate, which reports every problem
// by the key's full name.
//
// Environment variables map to keys by prefix CHAINWATCH_, lower-casing, and "__" for a level:
// CHAINWATCH_CLICKHOUSE__ADDR=127.0.0.1:9000 sets clickhouse.addr; list values are comma-separated.
// Variables without "__" (CHAINWATCH_CONFIG, CHAINWATCH_TOKEN, ...) are not configuration.
package config

import (
	"errors"
	"fmt"
	"github.com/chainwatch/chainwatch/alerts"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"

	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/detectors"
	"github.com/chainwatch/chainwatch/detectors/whatif"
	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/chainmap"
	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/confkit"
	"github.com/chainwatch/chainwatch/internal/report"
	"github.com/chainwatch/chainwatch/internal/sink"
)

// EnvPrefix is the prefix of environment variables read by Load.
const EnvPrefix = "CHAINWATCH_"

// Config is the whole chainwatch configuration.
type Config struct {
	Log        LogConfig         `koanf:"log"`
	HTTP       HTTPConfig        `koanf:"http"`
	Kafka      bus.Config        `koanf:"kafka"`
	ClickHouse chstore.Config    `koanf:"clickhouse"`
	Sink       sink.Config       `koanf:"sink"`
	Collectors collectors.Config `koanf:"collectors"`
	Detectors  detectors.Config  `koanf:"detectors"`
	Alerts     alerts.Config     `koanf:"alerts"`
	API        api.Config        `koanf:"api"`
	Digest     report.Config     `koanf:"digest"`
	WhatIf     whatif.Config     `koanf:"whatif"`
	Chains     chainmap.Config   `koanf:"chains"`
}

// LogConfig sets up log/slog.
type LogConfig struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // text, json
}

// HTTPConfig is the daemon's HTTP listener (/metrics, /healthz, /readyz, API).
type HTTPConfig struct {
	Listen string `koanf:"listen"`
	// AdvertiseURL is how the other daemons reach this one's control endpoints (cluster mode: a
	// follower forwards POST /-/detect to the leader's). Empty: http://<listen address>, with the
	// host name in place of an unspecified host (0.0.0.0, ::).
	AdvertiseURL string `koanf:"advertise_url"`
}

// Default returns the built-in defaults: a local single-node setup (deploy/local).
func Default() Config {
	return Config{
		Log:        LogConfig{Level: "info", Format: "text"},
		HTTP:       HTTPConfig{Listen: "127.0.0.1:9464"},
		Kafka:      bus.DefaultConfig(),
		ClickHouse: chstore.DefaultConfig(),
		Sink:       sink.DefaultConfig(),
		Collectors: collectors.DefaultConfig(),
		Detectors:  detectors.DefaultConfig(),
		Alerts:     alerts.DefaultConfig(),
		API:        api.DefaultConfig(),
		Digest:     report.DefaultConfig(),
		WhatIf:     whatif.DefaultConfig(),
		Chains:     chainmap.DefaultConfig(),
	}
}

// Load builds the config from defaults, then the YAML file at path (if non-empty), then the
// environment (environ; nil means os.Environ). It returns a config that passed Validate, or an
// error listing every problem.
func Load(path string, environ []string) (Config, error) {
	k := koanf.New(".")
	if err := k.Load(structs.Provider(Default(), "koanf"), nil); err != nil {
		return Config{}, fmt.Errorf("config: load defaults: %w", err)
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config: read %s: %w", path, err)
		}
	}
	if environ == nil {
		environ = os.Environ()
	}
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:        EnvPrefix,
		TransformFunc: envKey,
		EnvironFunc:   func() []string { return environ },
	}), nil); err != nil {
		return Config{}, fmt.Errorf("config: read environment: %w", err)
	}
	var problems []error
	valid := keyPaths(reflect.TypeOf(Config{}), "")
	for _, key := range k.Keys() {
		if !knownKey(valid, key) {
			problems = append(problems, fmt.Errorf("%s: unknown key", key))
		}
	}
	var cfg Config
	dc := &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			mapstructure.TextUnmarshallerHookFunc()),
		Metadata:         nil,
		Result:           &cfg,
		WeaklyTypedInput: true,
		TagName:          "koanf",
	}
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf", DecoderConfig: dc}); err != nil {
		problems = append(problems, fmt.Errorf("decode: %w", err))
		return Config{}, fmt.Errorf("config: %w", errors.Join(problems...))
	}
	if err := cfg.ResolveSecrets(); err != nil {
		problems = append(problems, err)
	}
	if err := cfg.Validate(); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(problems...))
	}
	return cfg, nil
}

// envKey maps CHAINWATCH_KAFKA__BROKERS=a,b to ("kafka.brokers", "a,b"). Every config key sits in a
// section, so a config variable always has "__"; others (CHAINWATCH_CONFIG, CHAINWATCH_TOKEN,
// CHAINWATCH_STATE, CHAINWATCH_TEST_*) belong to tools and scripts and are ignored here.
func envKey(k, v string) (string, any) {
	k = strings.ToLower(strings.TrimPrefix(k, EnvPrefix))
	if !strings.Contains(k, "__") {
		return "", nil
	}
	return strings.ReplaceAll(k, "__", "."), v
}

// keyPaths lists every leaf key of a config struct type, and map-typed prefixes marked with a
// trailing ".*" (any sub-key allowed).
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" || tag == "-" {
			continue
		}
		name := tag
		if prefix != "" {
			name = prefix + "." + tag
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}):
			out = append(out, name) // an empty section is a key of its own
			out = append(out, keyPaths(ft, name)...)
		case ft.Kind() == reflect.Map || (ft.Kind() == reflect.Slice && elemIsStruct(ft)):
			out = append(out, name, name+".*")
		default:
			out = append(out, name)
		}
	}
	return out
}

func elemIsStruct(t reflect.Type) bool {
	e := t.Elem()
	for e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	return e.Kind() == reflect.Struct || e.Kind() == reflect.Map
}

func knownKey(valid []string, key string) bool {
	for _, v := range valid {
		if v == key {
			return true
		}
		if p, ok := strings.CutSuffix(v, ".*"); ok && strings.HasPrefix(key, p+".") {
			return true
		}
	}
	return false
}

// Keys returns every known leaf key, sorted (for docs and tests).
func Keys() []string {
	k := keyPaths(reflect.TypeOf(Config{}), "")
	slices.Sort(k)
	return k
}

// ResolveSecrets reads *_file secrets.
func (c *Config) ResolveSecrets() error {
	errs := []error{confkit.Prefix("clickhouse", c.ClickHouse.ResolveSecrets())}
	errs = append(errs, confkit.Prefix("kafka", c.Kafka.ResolveSecrets()))
	errs = append(errs, confkit.Prefix("api", c.API.ResolveSecrets()))
	errs = append(errs, confkit.Prefix("collectors", c.Collectors.ResolveSecrets()))
	errs = append(errs, confkit.Prefix("alerts", c.Alerts.ResolveSecrets()))
	return errors.Join(errs...)
}

// Validate returns every problem, each prefixed by its key's full name.
func (c *Config) Validate() error {
	return errors.Join(
		confkit.Prefix("log", c.Log.Validate()),
		confkit.Prefix("http", c.HTTP.Validate()),
		confkit.Prefix("kafka", c.Kafka.Validate()),
		confkit.Prefix("clickhouse", c.ClickHouse.Validate()),
		confkit.Prefix("sink", c.Sink.Validate()),
		confkit.Prefix("collectors", c.Collectors.Validate()),
		confkit.Prefix("detectors", c.Detectors.Validate()),
		confkit.Prefix("whatif", c.WhatIf.Validate()),
		confkit.Prefix("api", c.API.Validate()),
		confkit.Prefix("digest", c.Digest.Validate()),
		confkit.Prefix("alerts", c.Alerts.Validate()),
		confkit.Prefix("chains", c.Chains.Validate()),
	)
}

// Validate checks the "log" section.
func (c LogConfig) Validate() error {
	var p confkit.Problems
	p.OneOf("level", c.Level, "debug", "info", "warn", "error")
	p.OneOf("format", c.Format, "text", "json")
	return p.Err()
}

// Validate checks the "http" section.
func (c HTTPConfig) Validate() error {
	var p confkit.Problems
	if c.Listen != "" {
		p.HostPort("listen", c.Listen)
	}
	if c.AdvertiseURL != "" {
		if u, err := url.Parse(c.AdvertiseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Add("advertise_url", "must be an http:// or https:// URL with a host, got %q", c.AdvertiseURL)
		}
	}
	return p.Err()
}
