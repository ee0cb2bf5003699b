package bus

import (
	"time"

	"github.com/chainwatch/chainwatch/internal/confkit"
)

// Config is the "kafka" section: the producer, topic creation and the sink's consumer group.
type Config struct {
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
	// EventsPerRecord is the most envelopes the producer packs into one Kafka record of a kind
	// topic (in Encoding's pack), up to RecordBytes of them; 1 writes one envelope per record
	// (with json, unpacked). The sink reads every format.
	EventsPerRecord int `koanf:"events_per_record"`
	// Encoding is how the producer writes events: "protobuf" (packs of
	// schemas.ProtoPackContentType, schemas/proto/chainwatch/v1/events.proto) or "json" (one JSON
	// envelope per record, or JSON Lines packs). The sink reads both whatever this says.
	Encoding       string        `koanf:"encoding"`
	RecordBytes    int           `koanf:"record_bytes"`
	MaxAttempts    int           `koanf:"max_attempts"` // producer retries
	WriteTimeout   time.Duration `koanf:"write_timeout"`
	GroupID        string        `koanf:"group_id"`
	SessionTimeout time.Duration `koanf:"session_timeout"` // consumer group: how soon a dead sink's partitions move
	DialTimeout    time.Duration `koanf:"dial_timeout"`
	// TLS and SASL secure the connections of the producer, the sink's consumer and the admin
	// client (topic creation, /readyz).
	TLS  confkit.TLS `koanf:"tls"`
	SASL SASLConfig  `koanf:"sasl"`
}

// SASLConfig is "kafka.sasl": mechanism "" (none), plain, scram-sha-256 or scram-sha-512, with a
// username and the password given inline or (better) in password_file.
type SASLConfig struct {
	Mechanism    string         `koanf:"mechanism"`
	Username     string         `koanf:"username"`
	Password     confkit.Secret `koanf:"password"`
	PasswordFile string         `koanf:"password_file"`
}

// SASL mechanisms.
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// ResolveSecrets reads sasl.password_file (when set) into sasl.password; a failure names the key.
func (c *Config) ResolveSecrets() error {
	if c.SASL.PasswordFile == "" {
		return nil
	}
	s, err := confkit.ReadSecretFile(c.SASL.PasswordFile)
	c.SASL.Password = s
	if err != nil {
		return &confkit.Problem{Key: "sasl.password_file", Msg: err.Error(), Err: err}
	}
	return nil
}

func (s SASLConfig) validate(p *confkit.Problems) {
	if s.Mechanism == "" {
		if s.Username != "" || s.Password != "" || s.PasswordFile != "" {
			p.Add("sasl.mechanism", "is empty (no SASL), but a username or password is set")
		}
		return
	}
	p.OneOf("sasl.mechanism", s.Mechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512)
	p.Required("sasl.username", s.Username)
	if s.Password == "" {
		p.Add("sasl.password", "required with sasl.mechanism %s (set sasl.password_file)", s.Mechanism)
	}
}

// The producer's encodings (kafka.encoding).
const (
	EncodingProtobuf = "protobuf"
	EncodingJSON     = "json"
)

// DefaultConfig is a local single broker (deploy/local).
func DefaultConfig() Config {
	return Config{
		Brokers: []string{"127.0.0.1:19092"}, TopicPrefix: "chainwatch", Partitions: 3, ReplicationFactor: 1,
		CreateTopics: true, ClientID: "chainwatch", Compression: "lz4", BatchSize: 5000, BatchBytes: 4 << 20,
		EventsPerRecord: 8, RecordBytes: 256 << 10, Encoding: EncodingProtobuf,
		BatchTimeout: 5 * time.Millisecond, MaxAttempts: 10, WriteTimeout: 30 * time.Second,
		GroupID: "chainwatch-sink", SessionTimeout: 10 * time.Second, DialTimeout: 10 * time.Second,
	}
}

// Validate reports every problem by its key relative to the section.
func (c Config) Validate() error {
	var p confkit.Problems
	p.HostPorts("brokers", c.Brokers, "broker")
	if !validTopicPrefix(c.TopicPrefix) {
		p.Add("topic_prefix", "%q must be 1-100 characters of [a-zA-Z0-9._-]", c.TopicPrefix)
	}
	p.Positive("partitions", c.Partitions)
	p.Positive("replication_factor", c.ReplicationFactor)
	p.OneOf("compression", c.Compression, "none", "gzip", "snappy", "lz4", "zstd")
	p.Positive("batch_size", c.BatchSize)
	if c.BatchBytes <= 0 {
		p.Add("batch_bytes", "must be > 0, got %d", c.BatchBytes)
	}
	p.Duration("batch_timeout", c.BatchTimeout)
	p.OneOf("encoding", c.Encoding, EncodingProtobuf, EncodingJSON)
	if c.EventsPerRecord < 1 || c.EventsPerRecord > 10000 {
		p.Add("events_per_record", "must be within 1..10000, got %d", c.EventsPerRecord)
	}
	if c.RecordBytes < 1<<10 || int64(c.RecordBytes) > min(c.BatchBytes, 1000000) && c.BatchBytes > 0 {
		p.Add("record_bytes", "must be within 1024..min(batch_bytes, 1000000) (the broker's default message.max.bytes is 1 MiB), got %d", c.RecordBytes)
	}
	p.Positive("max_attempts", c.MaxAttempts)
	p.Duration("write_timeout", c.WriteTimeout)
	p.Duration("dial_timeout", c.DialTimeout)
	if c.SessionTimeout < 6*time.Second || c.SessionTimeout > 5*time.Minute {
		p.Add("session_timeout", "must be within 6s..5m (the broker's group.min/max.session.timeout.ms), got %s", c.SessionTimeout)
	}
	p.Required("group_id", c.GroupID)
	p.Merge("tls", c.TLS.Validate())
	c.SASL.validate(&p)
	return p.Err()
}

func validTopicPrefix(s string) bool {
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
