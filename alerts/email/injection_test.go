package email_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chainwatch/chainwatch/alerts"
	"github.com/chainwatch/chainwatch/alerts/email"
)

// injectionNames are the names of testdata/badinput (SQL, HTML, template and CRLF-header
// injection): data that reaches alerts through supply-map, substitution and OCDS names.
var injectionNames = []string{
	"Robert'); DROP TABLE supply_nodes;--",
	"<script>alert(1)</script><img src=x onerror=alert(2)>",
	`{{.Secret}} ${jndi:ldap://x} {{template "x"}}`,
	"Evil\r\nBcc: victim@example.com\r\nSubject: pwned",
}

// TestComposeEscapesInjectedNames renders a B计划 email whose enterprise, component and
// alternate names carry injection payloads: no header is injected, the subject stays one encoded
// header, the HTML part escapes the markup and templates are not evaluated.
func TestComposeEscapesInjectedNames(t *testing.T) {
	for _, lang := range []string{"en", "zh"} {
		for _, name := range injectionNames {
			n, err := email.New(alerts.EmailConfig{From: "chainwatch <cw@example.com>", SubjectPrefix: "[cw]"},
				email.WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			a := alerts.SampleAlert(now, name)
			a.SubjectName = name
			for i := range a.Alternates {
				a.Alternates[i].ComponentID, a.Alternates[i].Notes = name, name
			}
			info := alerts.GroupInfo{Key: "ENT-DEMO" + name, EnterpriseID: "ENT-DEMO", EnterpriseName: name, Lang: lang,
				Emails: []string{"ops@example.com"}, ExternalURL: "http://cw.local:9464", MaxAlerts: 20, Integration: "email", Now: now}
			raw, err := n.Compose(info, []*alerts.Alert{a})
			if err != nil {
				t.Fatal(err)
			}
			checkNoInjection(t, raw, name)
		}
	}
}

func checkNoInjection(t *testing.T, raw []byte, name string) {
	t.Helper()
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if strings.Contains(line, "\n") || strings.Contains(line, "\r") {
			t.Errorf("%q: bare CR or LF in header line %q", name, line)
		}
		if len(line) > 998 {
			t.Errorf("%q: header line of %d characters", name, len(line))
		}
	}
	p := parse(t, raw)
	if got := p.Header["Subject"]; len(got) != 1 {
		t.Errorf("%q: %d Subject headers", name, len(got))
	}
	if len(p.Header["Bcc"]) > 0 || len(p.To) != 1 || p.To[0] != "ops@example.com" {
		t.Errorf("%q: recipients changed: To %v Bcc %v", name, p.To, p.Header["Bcc"])
	}
	if strings.Contains(p.Subject, "\n") || strings.Contains(p.Subject, "\r") {
		t.Errorf("%q: subject decodes to several lines: %q", name, p.Subject)
	}
	for _, bad := range []string{"<script>", "<img src=x", "onerror=alert(2)>"} {
		if strings.Contains(p.HTML, bad) {
			t.Errorf("%q: HTML part carries %q unescaped", name, bad)
		}
	}
	if strings.HasPrefix(name, "<script>") && !strings.Contains(p.HTML, "&lt;script&gt;") {
		t.Errorf("%q: the escaped name is missing from the HTML part", name)
	}
	if strings.HasPrefix(name, "{{") && (!strings.Contains(p.Text, "{{.Secret}}") || !strings.Contains(p.HTML, "{{.Secret}}")) {
		t.Errorf("%q: the template text is not kept literally (evaluated or dropped)", name)
	}
	if strings.HasPrefix(name, "Robert") && !strings.Contains(p.Text, "DROP TABLE supply_nodes") {
		t.Errorf("%q: the name is missing from the text part", name)
	}
}

// TestComposeLongSubjectIsFolded: a 5,000-character name gives no header line over 998
// characters (ASCII is not encoded, so it is cut) and a non-ASCII one is encoded and folded.
func TestComposeLongSubjectIsFolded(t *testing.T) {
	for _, name := range []string{strings.Repeat("A", 5000), strings.Repeat("芯", 5000)} {
		n, err := email.New(alerts.EmailConfig{From: "cw@example.com"}, email.WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		info := alerts.GroupInfo{Key: "E", EnterpriseID: "E", EnterpriseName: name, Lang: "en",
			Emails: []string{"ops@example.com"}, MaxAlerts: 20, Integration: "email", Now: now}
		raw, err := n.Compose(info, []*alerts.Alert{alerts.SampleAlert(now, name)})
		if err != nil {
			t.Fatal(err)
		}
		checkNoInjection(t, raw, string([]rune(name)[:3]))
		if p := parse(t, raw); !strings.HasSuffix(p.Subject, "…") || len([]rune(p.Subject)) > 301 {
			t.Errorf("subject %.80q... not cut with an ellipsis", p.Subject)
		}
	}
}
