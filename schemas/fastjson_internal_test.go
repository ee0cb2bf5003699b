package schemas

import (
	"fmt"
	"reflect"
	"testing"
	"time"
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
		"+024-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "2024-01-01T00:00:0aZ", "2024-01-01 00:00:00Z", "")
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
	if fast < 70000 {
		t.Errorf("only %d of %d strings took the fast form", fast, len(in))
	}
}
