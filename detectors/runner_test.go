package detectors

import (
	"slices"
	"testing"
)

func TestScoreOrder(t *testing.T) {
	reg := []string{"single_source", "chokepoint", "availability", "tts_ttr", "exposure"}
	for _, tc := range []struct {
		name  string
		names []string
		prev  map[string]int // previous run's findings; absent: no previous run
		want  []string
	}{
		{"first run: registry order", reg, nil, reg},
		{"1M edges: the three capped detectors, then chokepoint, availability last", reg,
			map[string]int{"single_source": 50000, "chokepoint": 18223, "availability": 604, "tts_ttr": 50000, "exposure": 50000},
			[]string{"single_source", "tts_ttr", "exposure", "chokepoint", "availability"}},
		{"largest first", reg,
			map[string]int{"single_source": 10, "chokepoint": 30, "availability": 20, "tts_ttr": 50, "exposure": 40},
			[]string{"tts_ttr", "exposure", "chokepoint", "availability", "single_source"}},
		{"a detector without a previous run goes first", reg,
			map[string]int{"single_source": 10, "chokepoint": 30, "availability": 20, "exposure": 40},
			[]string{"tts_ttr", "exposure", "chokepoint", "availability", "single_source"}},
		{"a previous run without findings goes last", []string{"a", "b", "c"},
			map[string]int{"a": 0, "b": 5}, []string{"c", "b", "a"}},
		{"none", nil, nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order := scoreOrder(tc.names, func(n string) (int, bool) {
				v, ok := tc.prev[n]
				return v, ok
			})
			got := make([]string, len(order))
			for k, i := range order {
				got[k] = tc.names[i]
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}
