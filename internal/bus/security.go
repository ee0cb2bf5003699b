package bus

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// security returns the TLS config (nil: plaintext) and SASL mechanism (nil: none) of cfg.
func (c Config) security() (*tls.Config, sasl.Mechanism, error) {
	tc, err := c.TLS.Config()
	if err != nil {
		return nil, nil, fmt.Errorf("kafka.tls: %w", err)
	}
	m, err := c.SASL.mechanism()
	if err != nil {
		return nil, nil, fmt.Errorf("kafka.sasl: %w", err)
	}
	return tc, m, nil
}

func (s SASLConfig) mechanism() (sasl.Mechanism, error) {
	switch s.Mechanism {
	case "":
		return nil, nil
	case SASLPlain:
		return plain.Mechanism{Username: s.Username, Password: s.Password.Reveal()}, nil
	case SASLScramSHA256:
		return scram.Mechanism(scram.SHA256, s.Username, s.Password.Reveal())
	case SASLScramSHA512:
		return scram.Mechanism(scram.SHA512, s.Username, s.Password.Reveal())
	}
	return nil, fmt.Errorf("mechanism %q is not one of plain, scram-sha-256, scram-sha-512", s.Mechanism)
}

// Transport is the kafka-go transport of the producer and the admin client: client id, dial
// timeout, TLS and SASL from cfg.
func (c Config) Transport() (*kafka.Transport, error) {
	tc, m, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{ClientID: c.ClientID, DialTimeout: c.DialTimeout, TLS: tc, SASL: m}, nil
}

// ClientTransport is Transport for constructors without an error return (the producer, the admin
// client, the leader lease): a TLS or SASL setting that fails (a CA file gone since validation)
// makes every connection fail with that error.
func (c Config) ClientTransport() *kafka.Transport {
	t, err := c.Transport()
	if err != nil {
		return &kafka.Transport{ClientID: c.ClientID, Dial: failDial(err)}
	}
	return t
}

// ConsumerDialer is Dialer for constructors without an error return (the sink's reader): a TLS
// or SASL setting that fails makes every connection fail with that error.
func (c Config) ConsumerDialer() *kafka.Dialer {
	d, err := c.Dialer()
	if err != nil {
		return &kafka.Dialer{ClientID: c.ClientID, Timeout: c.DialTimeout, DialFunc: failDial(err)}
	}
	return d
}

func failDial(err error) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) { return nil, err }
}

// Dialer is the kafka-go dialer of consumers (the sink's reader): client id, timeout, TLS and
// SASL from cfg.
func (c Config) Dialer() (*kafka.Dialer, error) {
	tc, m, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{ClientID: c.ClientID, Timeout: c.DialTimeout, DualStack: true, TLS: tc, SASLMechanism: m}, nil
}
