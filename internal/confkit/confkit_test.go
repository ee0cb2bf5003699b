package confkit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProblemsPrefixAndMerge(t *testing.T) {
	var sub Problems
	sub.Positive("workers", 0)
	sub.Duration("retry_min", -time.Second)
	var p Problems
	p.OneOf("lang", "xx", "zh-CN", "en")
	p.Required("name", " ")
	p.Merge("queue", sub.Err())
	p.Merge("brokers", (&Problems{&Problem{Key: "[0]", Msg: "bad"}}).Err())
	p.Merge("file", errors.New("plain"))
	got := Prefix("alerts", p.Err()).Error()
	want := strings.Join([]string{
		`alerts.lang: "xx" is not one of zh-CN, en`,
		`alerts.name: required`,
		`alerts.queue.workers: must be > 0, got 0`,
		`alerts.queue.retry_min: must be a positive duration, got -1s`,
		`alerts.brokers[0]: bad`,
		`alerts.file: plain`,
	}, "\n")
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if Prefix("x", nil) != nil || (Problems{}).Err() != nil {
		t.Fatal("no problems must be nil")
	}
}

func TestSecretRedacted(t *testing.T) {
	s := Secret("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%#v %+v", s, s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatal(out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("reveal")
	}
}
