package detectors

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chainwatch/chainwatch/internal/testenv"
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

// TestCollectGarbageAfterRun: the collection a run starts as it ends runs on its own goroutine and
// is observed in chainwatch_detectors_gc_after_run_duration_seconds; while one runs, another is not
// started.
func TestCollectGarbageAfterRun(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, err := NewRunner(nil, fixtureConfig(), reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		return histogramCount(t, reg, "chainwatch_detectors_gc_after_run_duration_seconds")
	}
	if n := count(); n != 0 {
		t.Fatalf("%d collections before any run", n)
	}
	r.collecting.Store(true) // one still runs: none is started
	r.collectGarbage()
	time.Sleep(50 * time.Millisecond)
	if n := count(); n != 0 {
		t.Fatalf("%d collections started while one ran, want 0", n)
	}
	r.collecting.Store(false)
	r.collectGarbage()
	if !testenv.Until(10*time.Second, 10*time.Millisecond, func() bool { return count() == 1 }) {
		t.Fatalf("%d collections observed 10 s after a run ended, want 1", count())
	}
	if !testenv.Until(10*time.Second, 10*time.Millisecond, func() bool { return !r.collecting.Load() }) {
		t.Fatal("the collection is still marked running 10 s after it was observed")
	}
}

// histogramCount is the sample count of the histogram name, of one series, gathered from reg.
func histogramCount(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	m := testenv.Metric(t, reg, name)
	if m == nil {
		t.Fatalf("%s not registered", name)
	}
	return int(m.GetHistogram().GetSampleCount())
}
