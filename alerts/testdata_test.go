package alerts_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/detectors"
)

var update = flag.Bool("update", false, "rewrite testdata/alerts golden files")

// testdata/alerts/finding.json is SampleFinding in the detectors JSON contract; the demo
// (cmd/bplanmail -finding) reads it.
func TestSampleFindingTestdata(t *testing.T) {
	path := filepath.Join("..", "testdata", "alerts", "finding.json")
	want := alerts.SampleFinding(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	if *update {
		b, _ := json.MarshalIndent(want, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got detectors.Finding
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from SampleFinding (run go test ./alerts -run Testdata -update)", path)
	}
}
