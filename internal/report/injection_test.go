package report

import (
	"strings"
	"testing"
)

// TestRenderEscapesInjectedNames renders a digest whose chokepoint, exposure and list names carry
// the injection payloads of testdata/badinput (they reach findings through supply-map names): the
// HTML (tables and inline SVG) escapes them, templates in names stay text, and the Markdown
// keeps each table row on one line.
func TestRenderEscapesInjectedNames(t *testing.T) {
	names := []string{
		"Robert'); DROP TABLE supply_nodes;--",
		`<script>alert(1)</script><img src=x onerror=alert(2)>"'`,
		`{{.Secret}} ${jndi:ldap://x} {{template "x"}}`,
		"Evil\r\nBcc: victim@example.com\r\nSubject: pwned",
	}
	d := sample()
	for _, n := range names {
		d.Chokepoints = append(d.Chokepoints, Item{Rank: len(d.Chokepoints) + 1, SubjectType: "component", Subject: n, Name: n,
			Category: "machine_tool", Score: 90, Severity: "critical", Flags: []string{n}})
		d.Rising = append(d.Rising, Item{Rank: len(d.Rising) + 1, Subject: n + "|C", Name: n + " / " + n, EnterpriseID: n, ComponentID: n,
			Score: 70, PrevScore: f(50), Delta: 20, Severity: "high"})
		d.ChokeList = append(d.ChokeList, ListItem{ComponentID: n, Name: n, Category: "high_end_chip", Score: 83, Severity: "critical", Status: "escalating"})
	}
	d.Notes = append(d.Notes, names...)
	out, err := Render(d, FormatHTML)
	if err != nil {
		t.Fatal(err)
	}
	h := string(out)
	for _, bad := range []string{"<script", "<img", "onerror=alert(2)>"} {
		if strings.Contains(h, bad) {
			t.Errorf("digest HTML carries %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "{{.Secret}}", "DROP TABLE supply_nodes"} {
		if !strings.Contains(h, want) {
			t.Errorf("digest HTML lacks %q", want)
		}
	}
	md, err := Render(d, FormatMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "Bcc:") || strings.HasPrefix(line, "Subject: pwned") {
			t.Errorf("a name broke a Markdown line: %q", line)
		}
	}
	if s := Subject(d); strings.ContainsAny(s, "\r\n") {
		t.Errorf("digest subject %q has a line break", s)
	}
}
