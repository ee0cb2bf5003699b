package deploy

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/internal/testenv"
)

// TestDemoScriptIntegration runs the README's main job (deploy/local/demo.sh) on the local servers
// and follows everything its "Where to look" block prints: every URL answers 200 (with the demo
// token), every command runs and prints something, every file exists and is not empty.
func TestDemoScriptIntegration(t *testing.T) {
	testenv.Integration(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("bash", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("deploy/local/demo.sh")
	t.Cleanup(func() { run("deploy/local/demo.sh", "stop") })
	_, look, ok := strings.Cut(out, "\nWhere to look:\n")
	if !ok {
		t.Fatalf("no 'Where to look' block:\n%s", out)
	}
	token := regexp.MustCompile(`Bearer ([^\s"]+)`).FindStringSubmatch(look)
	if token == nil {
		t.Fatalf("no token printed:\n%s", look)
	}
	urlRe := regexp.MustCompile(`http://127\.0\.0\.1:\d+\S*`)
	followed := 0
	sc := bufio.NewScanner(strings.NewReader(look))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		for _, u := range urlRe.FindAllString(rest, -1) {
			u = strings.TrimRight(u, ",)")
			getOK(t, u, token[1])
			followed++
		}
		switch name {
		case "alerts":
			cmd, _, _ := strings.Cut(rest, "(")
			if o := run("-c", strings.TrimSpace(cmd)); !strings.Contains(o, "E-") {
				t.Errorf("%s: printed no alert:\n%s", cmd, o)
			}
			followed++
		case "ClickHouse":
			if o := run("-c", rest+" -q 'SELECT count() FROM findings'"); strings.TrimSpace(o) == "0" {
				t.Errorf("%s: no findings in the demo database", rest)
			}
			followed++
		case "emails", "digest", "daemon":
			path := strings.Fields(rest)[0]
			if name == "daemon" { // "daemon log <path>"
				path = strings.Fields(rest)[1]
			}
			files, _ := filepath.Glob(path)
			if len(files) == 0 {
				t.Errorf("%s: %s matches no file", name, path)
			}
			for _, f := range files {
				if st, err := os.Stat(f); err != nil || st.Size() == 0 {
					t.Errorf("%s: %s missing or empty", name, f)
				}
			}
			followed++
		case "API":
			if o := run("-c", rest+" -fsS"); !strings.Contains(o, "score") {
				t.Errorf("%s: %.200s", rest, o)
			}
			followed++
		}
	}
	if followed < 10 {
		t.Errorf("followed only %d links and commands in:\n%s", followed, look)
	}
}

func getOK(t *testing.T, url, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
}
