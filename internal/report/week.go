package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Week is an ISO 8601 week (Monday to Sunday).
type Week struct {
	Year int `json:"year"`
	Week int `json:"week"`
}

// String renders "2026-W47".
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Week) }

// ParseWeek parses "2026-W47" (also "2026W47", "2026-w7").
func ParseWeek(s string) (Week, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	y, wk, ok := strings.Cut(t, "W")
	y = strings.TrimSuffix(y, "-")
	if !ok || len(y) != 4 {
		return Week{}, fmt.Errorf("week %q: want an ISO week like 2026-W47", s)
	}
	year, err1 := strconv.Atoi(y)
	n, err2 := strconv.Atoi(wk)
	if err1 != nil || err2 != nil || year < 1970 || year > 2100 {
		return Week{}, fmt.Errorf("week %q: want an ISO week like 2026-W47", s)
	}
	w := Week{year, n}
	if n < 1 || n > WeeksIn(year) {
		return Week{}, fmt.Errorf("week %q: %d has weeks 1..%d", s, year, WeeksIn(year))
	}
	return w, nil
}

// WeeksIn returns 52 or 53: the number of ISO weeks of year.
func WeeksIn(year int) int {
	_, w := time.Date(year, 12, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// Start returns Monday 00:00 of the week in loc.
func (w Week) Start(loc *time.Location) time.Time {
	// 4 January is always in week 1.
	jan4 := time.Date(w.Year, 1, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w.Week-1))
}

// End returns the next Monday 00:00 in loc (exclusive end).
func (w Week) End(loc *time.Location) time.Time { return w.Start(loc).AddDate(0, 0, 7) }

// Prev returns the week before.
func (w Week) Prev() Week { return WeekOf(w.Start(time.UTC).AddDate(0, 0, -7), time.UTC) }

// WeekOf returns the ISO week containing t in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, n := t.In(loc).ISOWeek()
	return Week{y, n}
}

// LastComplete returns the most recent week that has ended at now in loc.
func LastComplete(now time.Time, loc *time.Location) Week {
	return WeekOf(now.In(loc).AddDate(0, 0, -7), loc)
}
