package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"

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

// TestHelmChart renders the chart's templates with Helm's template language (Go text/template and
// the few Helm/sprig functions the chart uses) for the default values and with every option on,
// and checks the objects: kinds, probes, existingSecret, PDB, ServiceMonitor, PrometheusRule.
func TestHelmChart(t *testing.T) {
	dir := "helm/chainwatch"
	rules, _ := os.ReadFile("prometheus/rules.yml")
	copyRules, _ := os.ReadFile(filepath.Join(dir, "files/rules.yml"))
	if len(rules) == 0 || !bytes.Equal(rules, copyRules) {
		t.Error("helm/chainwatch/files/rules.yml differs from prometheus/rules.yml (cp deploy/prometheus/rules.yml deploy/helm/chainwatch/files/)")
	}
	var chart map[string]any
	if b, err := os.ReadFile(filepath.Join(dir, "Chart.yaml")); err != nil || yaml.Unmarshal(b, &chart) != nil || chart["apiVersion"] != "v2" {
		t.Fatalf("Chart.yaml: %v %v", err, chart)
	}
	base := readValues(t, dir)
	objs := renderChart(t, dir, chart, base)
	kinds := kindsOf(objs)
	if fmt.Sprint(kinds) != "map[ConfigMap:1 Deployment:1 PodDisruptionBudget:1 Secret:1 Service:1]" {
		t.Errorf("default kinds: %v", kinds)
	}
	dep := find(objs, "Deployment")
	c := dig(dep, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	if dig(c, "readinessProbe", "httpGet", "path") != "/readyz" || dig(c, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Errorf("probes: %v %v", c["readinessProbe"], c["livenessProbe"])
	}
	if dig(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("pod not runAsNonRoot")
	}

	on := readValues(t, dir)
	on["existingSecret"] = "ops-managed"
	on["serviceMonitor"].(map[string]any)["enabled"] = true
	on["prometheusRule"].(map[string]any)["enabled"] = true
	objs = renderChart(t, dir, chart, on)
	kinds = kindsOf(objs)
	if kinds["Secret"] != 0 || kinds["ServiceMonitor"] != 1 || kinds["PrometheusRule"] != 1 {
		t.Errorf("options on: %v", kinds)
	}
	vols := dig(find(objs, "Deployment"), "spec", "template", "spec", "volumes").([]any)
	if !strings.Contains(fmt.Sprint(vols), "secretName:ops-managed") {
		t.Errorf("existingSecret not mounted: %v", vols)
	}
	groups := dig(find(objs, "PrometheusRule"), "spec", "groups")
	if g, ok := groups.([]any); !ok || len(g) == 0 {
		t.Errorf("PrometheusRule has no groups: %v", groups)
	}
}

func readValues(t *testing.T, dir string) map[string]any {
	t.Helper()
	var v map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil || yaml.Unmarshal(b, &v) != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	return v
}

// renderChart executes every template like `helm template` and splits the output into objects.
func renderChart(t *testing.T, dir string, chart, values map[string]any) []map[string]any {
	t.Helper()
	root := template.New("chart")
	root.Funcs(helmFuncs(root, dir))
	files, _ := filepath.Glob(filepath.Join(dir, "templates", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := root.New(filepath.Base(f)).Parse(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	data := map[string]any{
		"Values":  values,
		"Chart":   map[string]any{"Name": chart["name"], "AppVersion": chart["appVersion"], "Version": chart["version"]},
		"Release": map[string]any{"Name": "rel", "Namespace": "default"},
		"Files":   chartFiles{dir},
	}
	var objs []map[string]any
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var out bytes.Buffer
		if err := root.ExecuteTemplate(&out, name, data); err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		dec := yaml.NewDecoder(&out)
		for {
			var o map[string]any
			if err := dec.Decode(&o); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s renders invalid YAML: %v", name, err)
				}
				break
			}
			if o != nil {
				if o["apiVersion"] == nil || o["kind"] == nil || dig(o, "metadata", "name") == nil {
					t.Errorf("%s: object without apiVersion/kind/metadata.name: %v", name, o)
				}
				objs = append(objs, o)
			}
		}
	}
	return objs
}

type chartFiles struct{ dir string }

// Get is Helm's .Files.Get.
func (f chartFiles) Get(name string) string {
	b, _ := os.ReadFile(filepath.Join(f.dir, name))
	return string(b)
}

func helmFuncs(root *template.Template, dir string) template.FuncMap {
	indent := func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
	}
	return template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var b bytes.Buffer
			err := root.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"toYaml": func(v any) string {
			b, _ := yaml.Marshal(v)
			return strings.TrimSuffix(string(b), "\n")
		},
		"indent":  indent,
		"nindent": func(n int, s string) string { return "\n" + indent(n, s) },
		"quote":   func(v any) string { return fmt.Sprintf("%q", fmt.Sprint(v)) },
		"default": func(def, v any) any {
			if v == nil || v == "" {
				return def
			}
			return v
		},
		"required": func(msg string, v any) (any, error) {
			if v == nil || v == "" {
				return nil, fmt.Errorf("%s", msg)
			}
			return v, nil
		},
		"trunc": func(n int, s string) string {
			if len(s) > n {
				return s[:n]
			}
			return s
		},
		"trimSuffix": func(suf, s string) string { return strings.TrimSuffix(s, suf) },
		"sha256sum": func(s string) string {
			h := sha256.Sum256([]byte(s))
			return hex.EncodeToString(h[:])
		},
	}
}

func kindsOf(objs []map[string]any) map[string]int {
	out := map[string]int{}
	for _, o := range objs {
		out[fmt.Sprint(o["kind"])]++
	}
	return out
}

func find(objs []map[string]any, kind string) map[string]any {
	for _, o := range objs {
		if o["kind"] == kind {
			return o
		}
	}
	return nil
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
