package app

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/internal/api"
	"github.com/chainwatch/chainwatch/internal/report"
)

func TestParseDigestArgs(t *testing.T) {
	for _, args := range [][]string{{"--week", "2026-W60"}, {"--format", "pdf"}, {"--bogus"}, {"extra"}} {
		if _, _, err := parseDigestArgs(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, help, err := parseDigestArgs([]string{"-h"}); err != nil || !help {
		t.Errorf("-h: help %v, err %v", help, err)
	}
	req, _, err := parseDigestArgs([]string{"--week", "2026-W47", "--format", "csv", "--region", " Jiangsu ", "--archive", "--out", "f.csv"})
	if err != nil {
		t.Fatal(err)
	}
	want := report.Week{Year: 2026, Week: 47}
	if req.Week == nil || *req.Week != want || req.Format != "csv" || req.Scope.Region != "Jiangsu" || !req.Archive || req.Send || req.Out != "f.csv" {
		t.Errorf("parsed %+v", req)
	}
	if req, _, _ := parseDigestArgs(nil); req.Week != nil || req.Format != report.FormatMarkdown {
		t.Errorf("defaults %+v", req)
	}
}

func TestDigestHelpNeedsNoClickHouse(t *testing.T) {
	var out bytes.Buffer
	if err := cmdDigest(t.Context(), Invocation{Args: []string{"-h"}, Stdout: &out}); err != nil || !strings.Contains(out.String(), "usage: chainwatch digest") {
		t.Errorf("help: %v %q", err, out.String())
	}
}

func TestTokenCommand(t *testing.T) {
	var out bytes.Buffer
	if err := tokenCommand([]string{"--name", "ops", "--role", "operate"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "role: operate") || !strings.Contains(out.String(), "sha256: ") {
		t.Errorf("token cli:\n%s", out.String())
	}
	out.Reset()
	if err := tokenCommand([]string{"--hash"}, strings.NewReader("secret\n"), &out); err != nil || strings.TrimSpace(out.String()) != api.HashToken("secret") {
		t.Errorf("hash: %v %q", err, out.String())
	}
	if err := tokenCommand([]string{"--role", "admin"}, nil, &out); err == nil {
		t.Errorf("bad role accepted")
	}
	out.Reset()
	if err := tokenCommand([]string{"-h"}, nil, &out); err != nil || !strings.Contains(out.String(), "usage: chainwatch token") {
		t.Errorf("help: %v %q", err, out.String())
	}
}
