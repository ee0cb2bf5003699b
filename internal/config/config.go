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
	"net"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"

	"github.com/chainwatch/chainwatch/detectors/whatif"
	"github.com/chainwatch/chainwatch/internal/confkit"
)

// EnvPrefix is the prefix of environment variables read by Load.
const EnvPrefix = "CHAINWATCH_"

// Config is the whole chainwatch configuration.
type Config struct {
	Log        LogConfig        `koanf:"log"`
	HTTP       HTTPConfig       `koanf:"http"`
	Kafka      KafkaConfig      `koanf:"kafka"`
	ClickHouse ClickHouseConfig `koanf:"clickhouse"`
	Sink       SinkConfig       `koanf:"sink"`
	Collectors CollectorsConfig `koanf:"collectors"`
	Detectors  DetectorsConfig  `koanf:"detectors"`
	Alerts     AlertsConfig     `koanf:"alerts"`
	API        APIConfig        `koanf:"api"`
	Digest     DigestConfig     `koanf:"digest"`
	WhatIf     whatif.Config    `koanf:"whatif"` // component-owned (detectors/whatif)
}

// LogConfig sets up log/slog.
type LogConfig struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // text, json
}

// HTTPConfig is the daemon's HTTP listener (/metrics, /healthz, /readyz, API).
type HTTPConfig struct {
	Listen string `koanf:"listen"`
}

// KafkaConfig configures the producer, topic creation and the sink's consumer group.
type KafkaConfig struct {
	Brokers           []string      `koanf:"brokers"`
	TopicPrefix       string        `koanf:"topic_prefix"`
	Partitions        int           `koanf:"partitions"`
	ReplicationFactor int           `koanf:"replication_factor"`
	CreateTopics      bool          `koanf:"create_topics"`
	ClientID          string        `koanf:"client_id"`
	Compression       string        `koanf:"compression"` // none, gzip, snappy, lz4, zstd
	BatchSize         int           `koanf:"batch_size"`  // producer records per batch
	BatchBytes        int64         `koanf:"batch_bytes"` // producer bytes per batch
	BatchTimeout      time.Duration `koanf:"batch_timeout"`
	MaxAttempts       int           `koanf:"max_attempts"` // producer retries
	WriteTimeout      time.Duration `koanf:"write_timeout"`
	GroupID           string        `koanf:"group_id"`
	SessionTimeout    time.Duration `koanf:"session_timeout"` // consumer group: how soon a dead sink's partitions move
	DialTimeout       time.Duration `koanf:"dial_timeout"`
}

// ClickHouseConfig reaches ClickHouse over the native protocol.
type ClickHouseConfig struct {
	Addr         []string      `koanf:"addr"`
	Database     string        `koanf:"database"`
	Username     string        `koanf:"username"`
	Password     Secret        `koanf:"password"`
	PasswordFile string        `koanf:"password_file"`
	DialTimeout  time.Duration `koanf:"dial_timeout"`
	ReadTimeout  time.Duration `koanf:"read_timeout"`
	MaxOpenConns int           `koanf:"max_open_conns"`
	Compression  string        `koanf:"compression"` // none, lz4, zstd
	CreateDB     bool          `koanf:"create_database"`
	MigrateOnRun bool          `koanf:"migrate_on_start"`
}

// SinkConfig controls batching and retry of the Kafka → ClickHouse sink.
type SinkConfig struct {
	BatchRows     int           `koanf:"batch_rows"`
	FlushInterval time.Duration `koanf:"flush_interval"`
	RetryMin      time.Duration `koanf:"retry_min"`
	RetryMax      time.Duration `koanf:"retry_max"`
	Workers       int           `koanf:"workers"`
	ShutdownWait  time.Duration `koanf:"shutdown_wait"`
}

// Default returns the built-in defaults: a local single-node setup (deploy/local).
func Default() Config {
	return Config{
		Log:  LogConfig{Level: "info", Format: "text"},
		HTTP: HTTPConfig{Listen: "127.0.0.1:9464"},
		Kafka: KafkaConfig{
			Brokers: []string{"127.0.0.1:19092"}, TopicPrefix: "chainwatch", Partitions: 3, ReplicationFactor: 1,
			CreateTopics: true, ClientID: "chainwatch", Compression: "lz4", BatchSize: 5000, BatchBytes: 4 << 20,
			BatchTimeout: 5 * time.Millisecond, MaxAttempts: 10, WriteTimeout: 30 * time.Second,
			GroupID: "chainwatch-sink", SessionTimeout: 10 * time.Second, DialTimeout: 10 * time.Second,
		},
		ClickHouse: ClickHouseConfig{
			Addr: []string{"127.0.0.1:19000"}, Database: "chainwatch", Username: "default",
			DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Minute, MaxOpenConns: 4, Compression: "lz4",
			CreateDB: true, MigrateOnRun: true,
		},
		Sink: SinkConfig{BatchRows: 50000, FlushInterval: time.Second, RetryMin: 200 * time.Millisecond,
			RetryMax: 15 * time.Second, Workers: 1, ShutdownWait: 30 * time.Second},
		Collectors: defaultCollectors(),
		Detectors:  defaultDetectors(),
		Alerts:     defaultAlerts(),
		API:        defaultAPI(),
		Digest:     defaultDigest(),
		WhatIf:     whatif.DefaultConfig(),
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
	sort.Strings(k)
	return k
}

// ResolveSecrets reads *_file secrets.
func (c *Config) ResolveSecrets() error {
	var errs []error
	if c.ClickHouse.PasswordFile != "" {
		s, err := ReadSecretFile(c.ClickHouse.PasswordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("clickhouse.password_file: %w", err))
		}
		c.ClickHouse.Password = s
	}
	errs = append(errs, c.resolveSectionSecrets()...)
	return errors.Join(errs...)
}

// Validate returns every problem, each prefixed by its key's full name.
func (c *Config) Validate() error {
	var p problems
	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "text", "json")
	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			p.add("http.listen", "%q is not host:port", c.HTTP.Listen)
		}
	}
	k := c.Kafka
	if len(k.Brokers) == 0 {
		p.add("kafka.brokers", "at least one broker is required")
	}
	for i, b := range k.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			p.add(fmt.Sprintf("kafka.brokers[%d]", i), "%q is not host:port", b)
		}
	}
	if !topicRe(k.TopicPrefix) {
		p.add("kafka.topic_prefix", "%q must be 1-100 characters of [a-zA-Z0-9._-]", k.TopicPrefix)
	}
	p.positive("kafka.partitions", k.Partitions)
	p.positive("kafka.replication_factor", k.ReplicationFactor)
	p.oneOf("kafka.compression", k.Compression, "none", "gzip", "snappy", "lz4", "zstd")
	p.positive("kafka.batch_size", k.BatchSize)
	if k.BatchBytes <= 0 {
		p.add("kafka.batch_bytes", "must be > 0, got %d", k.BatchBytes)
	}
	p.duration("kafka.batch_timeout", k.BatchTimeout)
	p.positive("kafka.max_attempts", k.MaxAttempts)
	p.duration("kafka.write_timeout", k.WriteTimeout)
	p.duration("kafka.dial_timeout", k.DialTimeout)
	if k.SessionTimeout < 6*time.Second || k.SessionTimeout > 5*time.Minute {
		p.add("kafka.session_timeout", "must be within 6s..5m (the broker's group.min/max.session.timeout.ms), got %s", k.SessionTimeout)
	}
	if strings.TrimSpace(k.GroupID) == "" {
		p.add("kafka.group_id", "required")
	}
	ch := c.ClickHouse
	if len(ch.Addr) == 0 {
		p.add("clickhouse.addr", "at least one address is required")
	}
	for i, a := range ch.Addr {
		if _, _, err := net.SplitHostPort(a); err != nil {
			p.add(fmt.Sprintf("clickhouse.addr[%d]", i), "%q is not host:port", a)
		}
	}
	if !identRe(ch.Database) {
		p.add("clickhouse.database", "%q must be an identifier [A-Za-z_][A-Za-z0-9_]*", ch.Database)
	}
	p.duration("clickhouse.dial_timeout", ch.DialTimeout)
	p.duration("clickhouse.read_timeout", ch.ReadTimeout)
	p.positive("clickhouse.max_open_conns", ch.MaxOpenConns)
	p.oneOf("clickhouse.compression", ch.Compression, "none", "lz4", "zstd")
	s := c.Sink
	p.positive("sink.batch_rows", s.BatchRows)
	p.duration("sink.flush_interval", s.FlushInterval)
	p.duration("sink.retry_min", s.RetryMin)
	p.duration("sink.retry_max", s.RetryMax)
	if s.RetryMax < s.RetryMin {
		p.add("sink.retry_max", "must be >= sink.retry_min (%s)", s.RetryMin)
	}
	p.positive("sink.workers", s.Workers)
	p.duration("sink.shutdown_wait", s.ShutdownWait)
	c.Collectors.validate(&p)
	c.Detectors.validate(&p)
	c.Alerts.validate(&p)
	c.API.validate(&p)
	c.Digest.validate(&p)
	if err := confkit.Prefix("whatif", c.WhatIf.Validate()); err != nil {
		p = append(p, err)
	}
	return p.err()
}

func (c *Config) resolveSectionSecrets() []error {
	var errs []error
	for _, f := range []func() error{c.Collectors.resolveSecrets, c.Alerts.resolveSecrets, c.API.resolveSecrets} {
		if err := f(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func topicRe(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func identRe(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
