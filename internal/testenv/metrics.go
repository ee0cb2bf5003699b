package testenv

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metric returns the one series of the metric family name gathered from reg, or nil when reg has
// no such family. A gather error, or a family of several series, fails the test.
func Metric(t testing.TB, reg prometheus.Gatherer, name string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			if len(mf.GetMetric()) != 1 {
				t.Fatalf("%s: %d series, want 1", name, len(mf.GetMetric()))
			}
			return mf.GetMetric()[0]
		}
	}
	return nil
}
