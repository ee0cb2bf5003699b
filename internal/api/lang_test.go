package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDigestLangParam: ?lang= reaches the digest service normalised (zh, zh-CN → zh-CN; en-GB →
// en), no lang leaves the choice to the scope's configuration, and another language is a 400.
func TestDigestLangParam(t *testing.T) {
	srv, _ := newTestServer(t)
	for q, want := range map[string]string{
		"":               "# digest 2026-W47 Jiangsu md",
		"&lang=en":       "# digest 2026-W47 Jiangsu md lang=en",
		"&lang=en-GB":    "# digest 2026-W47 Jiangsu md lang=en",
		"&lang=zh":       "# digest 2026-W47 Jiangsu md lang=zh-CN",
		"&lang=zh-CN":    "# digest 2026-W47 Jiangsu md lang=zh-CN",
		"&lang=zh_Hans":  "# digest 2026-W47 Jiangsu md lang=zh-CN",
		"&lang=klingon":  "",
		"&lang=fr":       "",
		"&lang=en&lang=": "",
	} {
		code, h, b := do(t, srv, "GET", "/api/v1/digests/2026-W47?format=md&region=Jiangsu"+q, readToken, "")
		if want == "" {
			if code != 400 || errorCode(t, b) != "bad_request" {
				t.Errorf("%q: %d %s, want 400", q, code, b)
			}
			continue
		}
		if code != 200 || string(b) != want {
			t.Errorf("%q: %d %q, want %q", q, code, b, want)
		}
		if strings.Contains(q, "lang=en") && !strings.Contains(h.Get("Content-Disposition"), "-Jiangsu-en.md") {
			t.Errorf("%q: content disposition %q", q, h.Get("Content-Disposition"))
		}
	}
}

// TestVocabulary: the API serves the one bilingual names table.
func TestVocabulary(t *testing.T) {
	srv, _ := newTestServer(t)
	code, _, b := do(t, srv, "GET", "/api/v1/vocabulary", readToken, "")
	var v Vocabulary
	if code != 200 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("%d %s", code, b)
	}
	found := false
	for _, n := range v.Kinds["category"] {
		if n.ID == "high_end_chip" && n.ZH == "高端芯片" && n.EN == "High-end chips" {
			found = true
		}
	}
	if !found || len(v.Kinds["industry"]) == 0 || len(v.Kinds["ledger_stage"]) != 6 || v.Langs[0] != "zh-CN" {
		t.Errorf("vocabulary: %s", b)
	}
	code, _, b = do(t, srv, "GET", "/api/v1/vocabulary?kind=flag", readToken, "")
	v = Vocabulary{}
	if code != 200 || json.Unmarshal(b, &v) != nil || len(v.Kinds) != 1 || len(v.Kinds["flag"]) < 10 {
		t.Errorf("kind=flag: %d %s", code, b)
	}
	if code, _, b := do(t, srv, "GET", "/api/v1/vocabulary?kind=planet", readToken, ""); code != 400 {
		t.Errorf("kind=planet: %d %s", code, b)
	}
	if code, _, _ := do(t, srv, "GET", "/api/v1/vocabulary", "", ""); code != 401 {
		t.Errorf("vocabulary without a token: %d", code)
	}
}
