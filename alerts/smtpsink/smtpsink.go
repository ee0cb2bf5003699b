// Package smtpsink is a local SMTP server that accepts every message and keeps it: in memory,
// and as an .eml file in a directory when one is given. It is the demo's mail catcher and the
// tests' real SMTP server (github.com/emersion/go-smtp), with optional STARTTLS or implicit
// TLS and optional AUTH PLAIN / LOGIN.
package smtpsink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Sink.
type Options struct {
	Addr        string      // listen address; "" → 127.0.0.1:0
	Dir         string      // write each message as <dir>/<n>-<unixnano>.eml; "" → memory only
	TLSConfig   *tls.Config // offer STARTTLS (or serve implicit TLS with ImplicitTLS)
	ImplicitTLS bool
	// Username and Password, when set, require AUTH (PLAIN or LOGIN) before MAIL; credentials
	// over plaintext are accepted only when there is no TLSConfig.
	Username string
	Password string
	Domain   string // EHLO domain; "" → localhost
	Log      *slog.Logger
}

// Message is one received message.
type Message struct {
	From     string
	To       []string
	Data     []byte
	Path     string // .eml file, when Dir is set
	TLS      bool   // the session was encrypted
	AuthUser string // authenticated user, "" without AUTH
	Received time.Time
}

// Sink is a running SMTP sink.
type Sink struct {
	opts Options
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}

	mu     sync.Mutex
	msgs   []Message
	notify chan struct{}
}

// Start listens and serves in the background.
func Start(opts Options) (*Sink, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
			return nil, fmt.Errorf("smtpsink: %w", err)
		}
	}
	if opts.ImplicitTLS && opts.TLSConfig == nil {
		return nil, errors.New("smtpsink: ImplicitTLS needs a TLSConfig")
	}
	s := &Sink{opts: opts, done: make(chan struct{}), notify: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{sink: s, conn: c}, nil
	}))
	srv.Domain = opts.Domain
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 32 << 20
	srv.MaxRecipients = 1000
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if !opts.ImplicitTLS {
		srv.TLSConfig = opts.TLSConfig // advertises STARTTLS
	}
	srv.AllowInsecureAuth = opts.TLSConfig == nil
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtpsink: listen %s: %w", opts.Addr, err)
	}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, opts.TLSConfig)
	}
	s.srv, s.ln = srv, ln
	go func() {
		defer close(s.done)
		if err := srv.Serve(ln); err != nil {
			opts.Log.Warn("smtp sink stopped", "err", err)
		}
	}()
	opts.Log.Info("smtp sink listening", "addr", ln.Addr().String(), "dir", opts.Dir, "tls", opts.TLSConfig != nil,
		"implicit_tls", opts.ImplicitTLS, "auth", opts.Username != "")
	return s, nil
}

// Addr is the listening address (host:port).
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Port is the listening port.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Messages returns the messages received so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait blocks until at least n messages arrived or ctx ends, and returns the messages.
func (s *Sink) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := append([]Message(nil), s.msgs...)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("smtpsink: %d of %d messages: %w", len(s.Messages()), n, ctx.Err())
		case <-ch:
		}
	}
}

// Close stops the server.
func (s *Sink) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

func (s *Sink) add(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Dir != "" {
		name := fmt.Sprintf("%06d-%d.eml", len(s.msgs)+1, m.Received.UnixNano())
		p := filepath.Join(s.opts.Dir, name)
		if err := os.WriteFile(p, m.Data, 0o640); err != nil {
			return fmt.Errorf("smtpsink: write %s: %w", p, err)
		}
		m.Path = p
	}
	s.msgs = append(s.msgs, m)
	close(s.notify)
	s.notify = make(chan struct{})
	s.opts.Log.Info("mail received", "from", m.From, "to", m.To, "bytes", len(m.Data), "path", m.Path)
	return nil
}

type session struct {
	sink *Sink
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string {
	if s.sink.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.sink.opts.Username || pass != s.sink.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return smtp.ErrAuthFailed
			}
			return check(user, pass)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.opts.Username != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	return s.sink.add(Message{From: s.from, To: append([]string(nil), s.to...), Data: b, TLS: isTLS, AuthUser: s.user, Received: time.Now()})
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the client).
type loginServer struct {
	check func(user, pass string) error
	state int
	user  string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.state {
	case 0:
		l.state = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.user = string(response)
		l.state = 2
		return []byte("Password:"), false, nil
	case 2:
		l.state = 3
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, errors.New("unexpected LOGIN response")
}
