// Package chartcheck validates the Helm chart in ../chainwatch with the Helm Go module itself: the
// chart loader, Helm's linter and Helm's template engine (what `helm lint` and `helm template` run).
// It is a nested Go module so that Helm and the Kubernetes libraries stay out of chainwatch's go.mod;
// `make check` runs it (cd deploy/helm/chartcheck && go test ./...).
package chartcheck

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"
)

const (
	chartDir   = "../chainwatch"
	allOptions = "../chainwatch/ci/all-options-values.yaml"
	appSource  = "../../../internal/app/app.go" // where the daemon mounts its HTTP routes
	rulesFile  = "../../prometheus/rules.yml"
	secretsDir = "/etc/chainwatch/secrets"
)

type obj = map[string]any

// TestLint runs Helm's linter (chart file, values, templates rendered and checked against the
// Kubernetes schemas Helm knows, dependencies) with the default values and with every option on.
// Any error-level message fails; warnings and infos are reported.
func TestLint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
	}{{"defaults", nil}, {"all options", readValues(t, allOptions)}} {
		t.Run(tc.name, func(t *testing.T) {
			res := lint.RunAll(chartDir, tc.values, "chainwatch")
			for _, m := range res.Messages {
				if m.Severity >= support.ErrorSev {
					t.Errorf("helm lint: %s", m.Error())
				} else {
					t.Logf("helm lint: %s", m.Error())
				}
			}
			t.Logf("helm lint (%s): %d messages, highest severity %d (error = %d)", tc.name, len(res.Messages), res.HighestSeverity, support.ErrorSev)
		})
	}
}

// TestTemplateDefaults renders the chart like `helm template` with values.yaml alone.
func TestTemplateDefaults(t *testing.T) {
	objs := render(t, nil)
	if got := kinds(objs); got != "ConfigMap Deployment PodDisruptionBudget Secret Service" {
		t.Errorf("kinds rendered with the defaults: %s", got)
	}
	dep := one(t, objs, "Deployment")
	checkDeployment(t, objs, dep)
	sec := one(t, objs, "Secret")
	if got := secretVolume(t, dep); got != dig(sec, "metadata", "name") {
		t.Errorf("the secrets volume mounts Secret %v, the chart creates %v", got, dig(sec, "metadata", "name"))
	}
	if dig(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("the pod does not run as non-root")
	}
	if v := volume(t, dep, "state"); v["emptyDir"] == nil {
		t.Errorf("state volume without persistence: %v", v)
	}
}

// TestTemplateAllOptions renders the chart with ci/all-options-values.yaml: existingSecret,
// persistence, ServiceMonitor, PrometheusRule, PDB, extra env.
func TestTemplateAllOptions(t *testing.T) {
	objs := render(t, readValues(t, allOptions))
	if got := kinds(objs); got != "ConfigMap Deployment PodDisruptionBudget PrometheusRule Service ServiceMonitor" {
		t.Errorf("kinds rendered with every option (no Secret: existingSecret): %s", got)
	}
	dep := one(t, objs, "Deployment")
	checkDeployment(t, objs, dep)
	if got := secretVolume(t, dep); got != "chainwatch-ops" {
		t.Errorf("the secrets volume mounts %v, want the existingSecret chainwatch-ops", got)
	}
	if got := dig(volume(t, dep, "state"), "persistentVolumeClaim", "claimName"); got != "chainwatch-alerts-rwx" {
		t.Errorf("state volume claim %v", got)
	}
	cfg := daemonConfig(t, objs)
	files := fileKeys(cfg, "")
	if len(files) < 2 {
		t.Errorf("want the *_file secret references of the values file in the config, got %v", files)
	}
	for key, path := range files {
		if !strings.HasPrefix(path, secretsDir+"/") {
			t.Errorf("config %s = %s is not under the mounted Secret %s", key, path, secretsDir)
		}
	}
	if _, ok := envVar(t, dep)["CHAINWATCH_LOG__FORMAT"]; !ok {
		t.Error("extra env from values not rendered")
	}

	sm := one(t, objs, "ServiceMonitor")
	ep := dig(sm, "spec", "endpoints").([]any)[0].(obj)
	if ep["port"] != "http" || !slices.Contains(daemonRoutes(t), ep["path"].(string)) {
		t.Errorf("ServiceMonitor scrapes %v %v: not a route of the daemon %v", ep["port"], ep["path"], daemonRoutes(t))
	}
	checkSelects(t, "ServiceMonitor", dig(sm, "spec", "selector", "matchLabels"), dig(one(t, objs, "Service"), "metadata", "labels"))
	checkRules(t, one(t, objs, "PrometheusRule"))
	if dig(sm, "metadata", "labels", "release") != "prometheus" {
		t.Error("serviceMonitor.labels not applied")
	}
}

func checkRules(t *testing.T, pr obj) {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var want obj
	if err := yaml.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	got, _ := dig(pr, "spec", "groups").([]any)
	wantGroups, _ := want["groups"].([]any)
	if len(got) == 0 || fmt.Sprint(got) != fmt.Sprint(wantGroups) {
		t.Errorf("PrometheusRule groups (%d) differ from %s (%d): cp deploy/prometheus/rules.yml deploy/helm/chainwatch/files/",
			len(got), rulesFile, len(wantGroups))
	}
}

// checkDeployment: probes on routes the daemon serves, on the named container port that is the
// configured listen port; Service, PDB and pod labels agree; the advertised URL uses that port.
func checkDeployment(t *testing.T, objs []obj, dep obj) {
	t.Helper()
	c := dig(dep, "spec", "template", "spec", "containers").([]any)[0].(obj)
	routes := daemonRoutes(t)
	for probe, want := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		path, _ := dig(c, probe, "httpGet", "path").(string)
		if path != want || !slices.Contains(routes, path) {
			t.Errorf("%s path %q: want %s, a route the daemon serves (%v)", probe, path, want, routes)
		}
		if dig(c, probe, "httpGet", "port") != "http" {
			t.Errorf("%s port %v, want the named port http", probe, dig(c, probe, "httpGet", "port"))
		}
	}
	port := containerPort(t, c, "http")
	_, listenPort, err := net.SplitHostPort(dig(daemonConfig(t, objs), "http", "listen").(string))
	if err != nil || listenPort != port {
		t.Errorf("container port http %s, config http.listen port %s (%v)", port, listenPort, err)
	}
	if adv := envVar(t, dep)["CHAINWATCH_HTTP__ADVERTISE_URL"]; adv != "http://$(POD_IP):"+port {
		t.Errorf("advertise URL %q, want http://$(POD_IP):%s", adv, port)
	}
	svc := one(t, objs, "Service")
	if p := dig(svc, "spec", "ports").([]any)[0].(obj); p["targetPort"] != "http" {
		t.Errorf("service targets %v", p["targetPort"])
	}
	pod := dig(dep, "spec", "template", "metadata", "labels")
	checkSelects(t, "Service", dig(svc, "spec", "selector"), pod)
	checkSelects(t, "Deployment", dig(dep, "spec", "selector", "matchLabels"), pod)
	pdb := one(t, objs, "PodDisruptionBudget")
	checkSelects(t, "PodDisruptionBudget", dig(pdb, "spec", "selector", "matchLabels"), pod)
	if mounts := fmt.Sprint(c["volumeMounts"]); !strings.Contains(mounts, "mountPath:"+secretsDir) {
		t.Errorf("the Secret is not mounted at %s: %s", secretsDir, mounts)
	}
}

func checkSelects(t *testing.T, what string, selector, labels any) {
	t.Helper()
	sel, _ := selector.(obj)
	lab, _ := labels.(obj)
	if len(sel) == 0 {
		t.Errorf("%s: empty selector", what)
	}
	for k, v := range sel {
		if lab[k] != v {
			t.Errorf("%s selector %s=%v does not match the labels %v", what, k, v, lab)
		}
	}
}

// daemonRoutes are the GET paths internal/app mounts on its mux (the health and metrics routes).
func daemonRoutes(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(appSource)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`mux\.Handle(?:Func)?\("GET (/[^"]*)"`).FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatalf("no GET routes found in %s", appSource)
	}
	return out
}

// render is `helm template rel ../chainwatch -n chainwatch [-f values]`: Helm's loader, values
// coalescing and engine; every manifest is decoded as YAML.
func render(t *testing.T, values map[string]any) []obj {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Validate(); err != nil {
		t.Fatal(err)
	}
	vals, err := util.ToRenderValues(ch, values, common.ReleaseOptions{Name: "rel", Namespace: "chainwatch", IsInstall: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return decode(t, ch, out)
}

func decode(t *testing.T, ch *chart.Chart, out map[string]string) []obj {
	t.Helper()
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	var objs []obj
	for _, name := range names {
		if strings.HasPrefix(filepath.Base(name), "_") || strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out[name], -1) {
			if len(bytes.TrimSpace([]byte(doc))) == 0 {
				continue
			}
			var o obj
			if err := yaml.UnmarshalStrict([]byte(doc), &o); err != nil {
				t.Fatalf("%s renders invalid YAML: %v\n%s", name, err, doc)
			}
			if o["apiVersion"] == nil || o["kind"] == nil || dig(o, "metadata", "name") == nil {
				t.Errorf("%s: object without apiVersion, kind or metadata.name: %v", name, o)
			}
			if dig(o, "metadata", "labels", "app.kubernetes.io/version") != ch.Metadata.AppVersion {
				t.Errorf("%s: version label %v, want the chart's appVersion", name, dig(o, "metadata", "labels"))
			}
			objs = append(objs, o)
		}
	}
	return objs
}

// daemonConfig is the chainwatch.yaml of the rendered ConfigMap.
func daemonConfig(t *testing.T, objs []obj) obj {
	t.Helper()
	s, _ := dig(one(t, objs, "ConfigMap"), "data", "chainwatch.yaml").(string)
	var cfg obj
	if err := yaml.Unmarshal([]byte(s), &cfg); err != nil || len(cfg) == 0 {
		t.Fatalf("ConfigMap chainwatch.yaml: %v %q", err, s)
	}
	return cfg
}

// fileKeys lists the *_file keys (secret references) of a config, by dotted key.
func fileKeys(v obj, prefix string) map[string]string {
	out := map[string]string{}
	for k, x := range v {
		switch x := x.(type) {
		case obj:
			for kk, vv := range fileKeys(x, prefix+k+".") {
				out[kk] = vv
			}
		case string:
			if strings.HasSuffix(k, "_file") {
				out[prefix+k] = x
			}
		}
	}
	return out
}

func readValues(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func kinds(objs []obj) string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, fmt.Sprint(o["kind"]))
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

func one(t *testing.T, objs []obj, kind string) obj {
	t.Helper()
	var found []obj
	for _, o := range objs {
		if o["kind"] == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s, got %d", kind, len(found))
	}
	return found[0]
}

func volume(t *testing.T, dep obj, name string) obj {
	t.Helper()
	for _, v := range dig(dep, "spec", "template", "spec", "volumes").([]any) {
		if v.(obj)["name"] == name {
			return v.(obj)
		}
	}
	t.Fatalf("no volume %s", name)
	return nil
}

func secretVolume(t *testing.T, dep obj) any {
	t.Helper()
	return dig(volume(t, dep, "secrets"), "secret", "secretName")
}

func containerPort(t *testing.T, c obj, name string) string {
	t.Helper()
	for _, p := range c["ports"].([]any) {
		if p.(obj)["name"] == name {
			return fmt.Sprint(p.(obj)["containerPort"])
		}
	}
	t.Fatalf("no container port %s", name)
	return ""
}

func envVar(t *testing.T, dep obj) map[string]string {
	t.Helper()
	c := dig(dep, "spec", "template", "spec", "containers").([]any)[0].(obj)
	out := map[string]string{}
	for _, e := range c["env"].([]any) {
		out[fmt.Sprint(e.(obj)["name"])] = fmt.Sprint(e.(obj)["value"])
	}
	return out
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(obj)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
