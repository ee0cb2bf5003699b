package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDockerfile: multi-stage, static (CGO_ENABLED=0), version stamped like the Makefile, non-root.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, users []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, line)
		case "USER":
			users = append(users, f[1])
		case "WORKDIR", "COPY", "RUN", "ARG", "ENV", "LABEL", "EXPOSE", "ENTRYPOINT", "CMD", "HEALTHCHECK":
		default:
			if !strings.HasPrefix(line, " ") {
				t.Errorf("unknown instruction: %s", line)
			}
		}
	}
	if len(froms) < 2 || !strings.Contains(froms[0], " AS build") {
		t.Errorf("want a multi-stage build with a build stage: %v", froms)
	}
	if len(users) == 0 || users[len(users)-1] == "root" || strings.HasPrefix(users[len(users)-1], "0") {
		t.Errorf("final USER must be non-root: %v", users)
	}
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	stamp := regexp.MustCompile(`-X (\S+\.Version)=`).FindSubmatch(mk)
	if stamp == nil || !bytes.Contains(b, []byte("-X "+string(stamp[1])+"=${VERSION}")) {
		t.Errorf("the Dockerfile does not stamp the version as the Makefile does (%s)", stamp)
	}
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/chainwatch", "ENTRYPOINT"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
}

// TestCompose: parses, every service has a health check (or is the daemon template with one), every
// published port is on 127.0.0.1, mounted files exist, and the required services are there.
func TestCompose(t *testing.T) {
	b, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string         `yaml:"image"`
			Build       any            `yaml:"build"`
			Healthcheck map[string]any `yaml:"healthcheck"`
			Ports       []string       `yaml:"ports"`
			Volumes     []string       `yaml:"volumes"`
			DependsOn   map[string]any `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kafka", "keeper", "clickhouse", "chainwatch-1", "chainwatch-2", "prometheus", "alertmanager", "grafana", "mailpit"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("service %s missing", want)
		}
	}
	for name, s := range c.Services {
		if len(s.Healthcheck) == 0 {
			t.Errorf("%s: no healthcheck", name)
		}
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s: no image or build", name)
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s: port %s is not bound to 127.0.0.1", name, p)
			}
		}
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
					t.Errorf("%s: mounted %s: %v", name, src, err)
				}
			}
		}
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown %s", name, dep)
			}
		}
	}
	for _, f := range []string{"prometheus.yml", "alertmanager.yml"} {
		var v map[string]any
		if b, err := os.ReadFile(filepath.Join("compose", f)); err != nil || yaml.Unmarshal(b, &v) != nil || len(v) == 0 {
			t.Errorf("%s: unreadable or empty YAML (%v)", f, err)
		}
	}
}

// The Helm chart is validated by Helm itself (lint and template) in the nested module
// deploy/helm/chartcheck (make check runs it).
