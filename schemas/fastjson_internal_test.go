package schemas

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// utcSeconds gives what time.Time.UnmarshalText gives for every string of its form it accepts,
// and leaves every other string to it: every day of 1899..2101 at a few times of day, and the
// edges (leap days, hour 24, second 60, day 0, month 13, signs, fractions, offsets).
func TestUTCSecondsMatchesUnmarshalText(t *testing.T) {
	var in []string
	for d := time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2102; d = d.AddDate(0, 0, 1) {
		in = append(in, d.Add(time.Duration(d.YearDay())*time.Minute).Format("2006-01-02T15:04:05Z"))
	}
	for _, y := range []string{"1900", "2000", "2023", "2024", "2100", "0000", "9999"} {
		for _, md := range []string{"02-28", "02-29", "02-30", "04-31", "12-31", "00-10", "13-01", "01-00", "01-32"} {
			in = append(in, fmt.Sprintf("%s-%sT00:00:00Z", y, md))
		}
	}
	in = append(in, "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z", "2024-01-01T23:59:59Z",
		"2024-01-01T23:59:59.5Z", "2024-01-01T23:59:59+01:00", "2024-01-01T23:59:59z", "2024-01-01t23:59:59Z",
		"+024-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "2024-01-01T00:00:0aZ", "2024-01-01 00:00:00Z", "",
		"2024-01-01T23:59:59.Z", "2024-01-01T23:59:59,5Z", "2024-01-01T23:59:59.5aZ", "2024-01-01T23:59:59.-5Z",
		"2024-01-01T23:59:59.1234567890Z", "2024-01-01T23:59:59.000000000Z", "2024-02-30T23:59:59.5Z",
		"2024-01-01T23:59:59.5+01:00", "2024-01-01T23:59:59 5Z", "2024-01-01T23:59:5.95Z")
	// Fractions of every length, as time.Time's JSON writes them (trailing zeros dropped) and padded.
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		d := time.Date(1950+r.IntN(150), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
		for _, ns := range []int{d.Nanosecond(), d.Nanosecond() / 1e3 * 1e3, d.Nanosecond() / 1e6 * 1e6, d.Nanosecond() / 1e8 * 1e8} {
			d := d.Add(time.Duration(ns - d.Nanosecond()))
			in = append(in, d.Format(time.RFC3339Nano), d.Format("2006-01-02T15:04:05.000000000Z"), d.Format("2006-01-02T15:04:05.000Z"))
		}
	}
	fast := 0
	for _, v := range in {
		var want time.Time
		werr := want.UnmarshalText([]byte(v))
		got, ok := utcSeconds([]byte(v))
		if !ok {
			continue
		}
		fast++
		if werr != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: utcSeconds %v, UnmarshalText %v (%v)", v, got, want, werr)
		}
	}
	if fast < 300000 {
		t.Errorf("only %d of %d strings took the fast form", fast, len(in))
	}
}

// special8 finds every byte that is not plainByte, at every position of the word, among plain
// bytes of every kind, and nothing else; on random words its lowest flag is the first such byte,
// as a byte-by-byte look finds it.
func TestSpecial8(t *testing.T) {
	word := func(b [8]byte) uint64 { return binary.LittleEndian.Uint64(b[:]) }
	first := func(b [8]byte) int { // the first byte that is not plain (8: none)
		for i, c := range b {
			if !plainByte[c] {
				return i
			}
		}
		return 8
	}
	lowest := func(m uint64) int { return bits.TrailingZeros64(m) >> 3 }
	for _, fill := range []byte{' ', '!', '#', '0', 'a', '[', ']', '~', 0x7f} {
		for pos := range 8 {
			for c := range 256 {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				want := 8 // none
				if !plainByte[c] {
					want = pos
				}
				if got := special8(word(b)); lowest(got) != want {
					t.Fatalf("special8(%q) = %#x, want byte %d flagged first (8: none)", b, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pool := []byte{'"', '\\', 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, 'a', 'Z', 0x00, 0x01, 0x5c - 1, 0x5c + 1, '"' - 1, '"' + 1}
	for range 200_000 {
		var b [8]byte
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = pool[r.IntN(len(pool))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		if got, want := lowest(special8(word(b))), first(b); got != want {
			t.Fatalf("special8(%q) flags byte %d first, want %d", b, got, want)
		}
	}
}

// strBytes reads the same strings, and gives up on the same ones, as a byte-by-byte reading, for
// every length up to 40 with a special byte (or none) at every position.
func TestStrBytesMatchesByteLoop(t *testing.T) {
	ref := func(b []byte) ([]byte, int, bool) { // the string, where the scanner stops, ok
		if len(b) == 0 || b[0] != '"' {
			return nil, 0, false
		}
		for i := 1; i < len(b); i++ {
			switch c := b[i]; {
			case c == '"':
				return b[1:i], i + 1, utf8.Valid(b[1:i])
			case c == '\\' || c < 0x20:
				return nil, -1, false
			}
		}
		return nil, -1, false
	}
	specials := []string{"", "\"", "\\", "\x01", "\x1f", "é", "\xff", "中", "\x7f"}
	for n := range 41 {
		for pos := range n + 1 {
			for _, sp := range specials {
				body := []byte(strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos))
				in := append(append([]byte{'"'}, body...), '"', ',')
				want, wantEnd, wantOK := ref(in)
				s := scanner{b: in}
				got, ok := s.strBytes()
				if ok != wantOK || (ok && (string(got) != string(want) || s.i != wantEnd)) {
					t.Fatalf("%q: got %q ok %v at %d, want %q ok %v at %d", in, got, ok, s.i, want, wantOK, wantEnd)
				}
				// unterminated: never ok
				s = scanner{b: in[:len(in)-2]}
				if _, ok := s.strBytes(); ok && !strings.Contains(sp, "\"") {
					t.Fatalf("%q: an unterminated string read as ok", in[:len(in)-2])
				}
			}
		}
	}
}
