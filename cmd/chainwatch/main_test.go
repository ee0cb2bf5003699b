package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/internal/app"
)

// TestHelpAndVersion: help and version go to stdout with exit 0 and need no configuration; bad
// usage is exit 2 with the usage on stderr.
func TestHelpAndVersion(t *testing.T) {
	t.Setenv("CHAINWATCH_CONFIG", "/nonexistent/chainwatch.yaml") // help must not load it
	cases := []struct {
		args []string
		code int
		out  string // prefix of stdout ("" : stdout empty)
		err  string // substring of stderr
	}{
		{[]string{"--help"}, 0, "usage: chainwatch [--config FILE] <command>", ""},
		{[]string{"-h"}, 0, "usage: chainwatch [--config FILE] <command>", ""},
		{[]string{"help"}, 0, "usage: chainwatch [--config FILE] <command>", ""},
		{[]string{"help", "alerts"}, 0, "usage: chainwatch alerts <verb>", ""},
		{[]string{"--version"}, 0, "chainwatch " + app.Version + "\n", ""},
		{[]string{"version"}, 0, "chainwatch " + app.Version + "\n", ""},
		{[]string{"import", "--help"}, 0, "usage: chainwatch import [--source S]", ""},
		{[]string{"alerts", "--help"}, 0, "usage: chainwatch alerts <verb>", ""},
		{[]string{"alerts", "list", "-h"}, 0, "usage: chainwatch alerts <verb>", ""},
		{[]string{"digest", "--help"}, 0, "usage: chainwatch digest", ""},
		{nil, 2, "", "usage: chainwatch"},
		{[]string{"--bogus"}, 2, "", "flag provided but not defined"},
		{[]string{"help", "nope"}, 2, "", `unknown command "nope"`},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		if code != c.code || !strings.HasPrefix(out.String(), c.out) || (c.out == "" && out.Len() > 0) || !strings.Contains(errb.String(), c.err) {
			t.Errorf("chainwatch %v: exit %d (want %d)\nstdout %q\nstderr %q", c.args, code, c.code, out.String(), errb.String())
		}
	}
	var out bytes.Buffer
	run([]string{"--help"}, &out, &bytes.Buffer{})
	for _, want := range []string{"alerts", "import", "serve", "--config", "--version"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s:\n%s", want, out.String())
		}
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	t.Setenv("CHAINWATCH_CONFIG", "")
	var out, errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
