package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func repoPath(p string) string { return filepath.Join("..", "..", p) }

func TestDefaultsValidate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestGoodConfigs(t *testing.T) {
	files, _ := filepath.Glob(repoPath("testdata/config/good/*.yaml"))
	if len(files) == 0 {
		t.Fatal("no good configs")
	}
	t.Chdir(repoPath("."))
	for _, f := range files {
		rel, _ := filepath.Rel(repoPath("."), f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(rel, []string{}); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
		})
	}
}

func TestProductionConfigValues(t *testing.T) {
	t.Chdir(repoPath("."))
	c, err := Load("testdata/config/good/production.yaml", []string{"CHAINWATCH_SINK__BATCH_ROWS=777", "CHAINWATCH_KAFKA__BROKERS=a:1,b:2", "OTHER=1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.ReplicationFactor != 3 || c.Kafka.BatchTimeout != 20*time.Millisecond || c.Kafka.Compression != "zstd" {
		t.Errorf("file values not applied: %+v", c.Kafka)
	}
	if c.Sink.BatchRows != 777 {
		t.Errorf("env did not override file: batch_rows = %d", c.Sink.BatchRows)
	}
	if strings.Join(c.Kafka.Brokers, ",") != "a:1,b:2" {
		t.Errorf("env list: %v", c.Kafka.Brokers)
	}
	if c.ClickHouse.Password.Reveal() != "s3cr3t-from-file" {
		t.Errorf("password_file not read")
	}
	if c.Sink.FlushInterval != 2*time.Second || c.ClickHouse.DialTimeout != 5*time.Second {
		t.Errorf("file or default durations wrong: %s %s", c.Sink.FlushInterval, c.ClickHouse.DialTimeout)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	c := Default()
	c.ClickHouse.Password = "hunter2"
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("cfg", "cfg", c, "pw", c.ClickHouse.Password)
	b, _ := json.Marshal(c)
	for _, s := range []string{sb.String(), string(b), fmt.Sprintf("%v %+v %#v %s", c, c, c.ClickHouse.Password, c.ClickHouse.Password)} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("secret leaked: %s", s)
		}
	}
}

// Each bad file must fail naming every bad key by its full name.
func TestBadConfigs(t *testing.T) {
	t.Chdir(repoPath("."))
	cases := map[string][]string{
		"types.yaml":      {"partitions"},
		"unknown.yaml":    {"kafka.brokerz: unknown key", "clikhouse.addr: unknown key"},
		"secretfile.yaml": {"clickhouse.password_file:"},
		"many.yaml": {"log.level:", "kafka.brokers[0]:", "kafka.compression:", "kafka.topic_prefix:", "kafka.encoding:",
			"clickhouse.database:", "sink.batch_rows:", "sink.retry_max:"},
	}
	files, _ := filepath.Glob("testdata/config/bad/*.yaml")
	if len(files) != len(cases) {
		t.Errorf("bad files %d, cases %d: keep them in step", len(files), len(cases))
	}
	for name, wants := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load("testdata/config/bad/"+name, []string{})
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestEnvErrorsNameKey(t *testing.T) {
	_, err := Load("", []string{"CHAINWATCH_SINK__WORKERS=-1", "CHAINWATCH_KAFKA__NOPE=1", "CHAINWATCH_TOKEN=x", "CHAINWATCH_STATE=/tmp"})
	if err == nil || !strings.Contains(err.Error(), "sink.workers:") || !strings.Contains(err.Error(), "kafka.nope: unknown key") {
		t.Fatalf("want sink.workers and kafka.nope named, got %v", err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	t.Chdir(repoPath("."))
	if _, err := os.Stat("deploy/chainwatch.example.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("deploy/chainwatch.example.yaml", []string{}); err != nil {
		t.Fatalf("the shipped example config does not load: %v", err)
	}
}

// FuzzLoad: any YAML either loads into a config that validates, or returns an error; never panics.
func FuzzLoad(f *testing.F) {
	for _, g := range []string{"{}", "kafka:\n  partitions: 3\n", "sink:\n  flush_interval: 1s\n", "log: [1,2]", "clickhouse:\n  addr: x\n"} {
		f.Add(g)
	}
	files, _ := filepath.Glob(repoPath("testdata/config/*/*.yaml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, doc string) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, []string{})
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load accepted a config that does not validate: %v", verr)
			}
		}
	})
}
