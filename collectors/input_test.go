package collectors

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestTextReaderKeepsUTF8AcrossReads(t *testing.T) {
	want := strings.Repeat("链主专精特新€ü", 20000) // > 1 MiB, multi-byte runes on every boundary
	for _, wrap := range []func(io.Reader) io.Reader{iotest.HalfReader, iotest.OneByteReader, func(r io.Reader) io.Reader { return r }} {
		got, err := io.ReadAll(textReader(wrap(strings.NewReader("\ufeff" + want))))
		if err != nil || string(got) != want {
			t.Fatalf("round trip changed the text (len %d vs %d): %v", len(got), len(want), err)
		}
	}
}

func TestTextReaderLatin1(t *testing.T) {
	// Wholly ISO-8859-1.
	got, _ := io.ReadAll(textReader(bytes.NewReader([]byte("AUTORIZACI\xd3N PRESUPUESTAL, M\xc9XICO"))))
	if string(got) != "AUTORIZACIÓN PRESUPUESTAL, MÉXICO" {
		t.Errorf("latin-1: %q", got)
	}
	// UTF-8 with one stray Latin-1 byte beyond the sniffed first MiB.
	head := strings.Repeat("ü", 600000)
	got, _ = io.ReadAll(textReader(iotest.HalfReader(bytes.NewReader([]byte(head + "caf\xe9 ok")))))
	if string(got) != head+"café ok" {
		t.Errorf("stray byte: %q", got[len(got)-10:])
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]float64{"1,234": 1234, "1,234,567.5": 1234567.5, " 42 ": 42, "+3": 3, "1e3": 1000, "0.5": 0.5,
		"72,000": 72000, "1\u00a0000": 1000} {
		if got, err := parseNumber(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"1,5", "12kg", "", "NaN", "Inf", "1,23,4"} {
		if _, err := parseNumber(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
