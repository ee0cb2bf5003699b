package reporttest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/schemas"
)

//go:embed chdb_check.py
var chdbScript []byte

// Query is one named SQL statement to check.
type Query struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// Result is how one query fared on the current engine.
type Result struct {
	Name  string `json:"name"`
	Rows  int    `json:"rows"`
	Error string `json:"error"`
}

// ChDBReport is the chdb run's outcome.
type ChDBReport struct {
	Version      string           `json:"version"`
	DDLErrors    []map[string]any `json:"ddl_errors"`
	InsertErrors []map[string]any `json:"insert_errors"`
	Results      []Result         `json:"results"`
}

// RequireTool fails the test when a tool is missing under CI=true, and skips it otherwise.
func RequireTool(t testing.TB, what, hint string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true but missing: %s", what, hint)
	}
	t.Skipf("%s is missing (%s); skipping (this fails under CI=true)", what, hint)
}

// Python returns the python interpreter (PYTHON or python3).
func Python() string {
	if p := os.Getenv("PYTHON"); p != "" {
		return p
	}
	return "python3"
}

// RequireChDB skips (or fails under CI=true) when python3 cannot import chdb.
func RequireChDB(t testing.TB) {
	t.Helper()
	err := exec.Command(Python(), "-c", "import chdb").Run()
	RequireTool(t, "python3 with chdb", "run deploy/local/tools.sh", err == nil)
}

// RunChDB creates the schema from the migrations (as is), inserts the data set as VALUES and runs
// the queries on chdb's current ClickHouse engine. DDL and insert errors fail the test.
func RunChDB(t testing.TB, d *Dataset, queries []Query) ChDBReport {
	t.Helper()
	RequireChDB(t)
	ddl, err := schemas.MigrationDDL()
	if err != nil {
		t.Fatal(err)
	}
	job := map[string]any{"ddl": ddl, "inserts": d.Literals(), "queries": queries}
	dir := t.TempDir()
	jobPath, scriptPath := filepath.Join(dir, "job.json"), filepath.Join(dir, "chdb_check.py")
	b, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scriptPath, chdbScript, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(Python(), scriptPath, jobPath)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chdb check: %v\n%s", err, stderr.String())
	}
	var rep ChDBReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("chdb check output: %v\n%s", err, stdout.String())
	}
	for _, e := range rep.DDLErrors {
		t.Errorf("chdb %s: migration DDL fails on current ClickHouse: %v", rep.Version, e)
	}
	for _, e := range rep.InsertErrors {
		t.Errorf("chdb %s: fixture insert fails: %v", rep.Version, e)
	}
	t.Logf("chdb: ClickHouse %s, %d queries", rep.Version, len(rep.Results))
	return rep
}

// Recorder wraps a Querier and records every SQL statement it runs (in order, deduplicated), so
// a test can replay what a package really issued on chdb.
type Recorder struct {
	Q  exposure.Querier
	mu sync.Mutex
	qs []string
	in map[string]bool
}

// Query implements exposure.Querier.
func (r *Recorder) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	r.mu.Lock()
	if r.in == nil {
		r.in = map[string]bool{}
	}
	if !r.in[query] {
		r.in[query] = true
		r.qs = append(r.qs, query)
	}
	r.mu.Unlock()
	return r.Q.Query(ctx, query, args...)
}

// Queries returns the recorded statements, named q1, q2, ...
func (r *Recorder) Queries(prefix string) []Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Query, len(r.qs))
	for i, q := range r.qs {
		out[i] = Query{Name: prefix + "#" + itoa(i+1), SQL: q}
	}
	return out
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}
