package smtpsink_test

import (
	"context"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts/smtpsink"
)

func TestWritesEmlAndRequiresAuth(t *testing.T) {
	dir := t.TempDir()
	s, err := smtpsink.Start(smtpsink.Options{Dir: dir, Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := []byte("From: a@x\r\nTo: b@y\r\nSubject: hi\r\n\r\nbody\r\n")
	if err := smtp.SendMail(s.Addr(), nil, "a@x", []string{"b@y"}, msg); err == nil || !strings.Contains(err.Error(), "authenticate") {
		t.Errorf("unauthenticated MAIL accepted: %v", err)
	}
	if err := smtp.SendMail(s.Addr(), smtp.PlainAuth("", "u", "wrong", "127.0.0.1"), "a@x", []string{"b@y"}, msg); err == nil {
		t.Error("wrong password accepted")
	}
	if err := smtp.SendMail(s.Addr(), smtp.PlainAuth("", "u", "p", "127.0.0.1"), "a@x", []string{"b@y", "c@z"}, msg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := s.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0]
	if m.From != "a@x" || strings.Join(m.To, ",") != "b@y,c@z" || m.AuthUser != "u" || m.TLS {
		t.Errorf("message %+v", m)
	}
	b, err := os.ReadFile(m.Path)
	if err != nil || !strings.Contains(string(b), "Subject: hi") {
		t.Errorf("eml %s: %v", m.Path, err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := s.Wait(short, 2); err == nil {
		t.Error("Wait for a missing message returned no error")
	}
}
