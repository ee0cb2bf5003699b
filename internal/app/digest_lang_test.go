package app

import (
	"strings"
	"testing"
)

// TestDigestLangFlag: `chainwatch digest --lang` selects the language (normalised), no flag leaves it
// to the configuration, and another language is refused with the usage.
func TestDigestLangFlag(t *testing.T) {
	for args, want := range map[string]string{"": "", "--lang en": "en", "--lang=zh": "zh-CN", "--lang zh-CN": "zh-CN", "--lang EN-us": "en"} {
		req, _, err := parseDigestArgs(strings.Fields(args))
		if err != nil || req.Lang != want {
			t.Errorf("%q: lang %q, %v; want %q", args, req.Lang, err, want)
		}
	}
	if _, _, err := parseDigestArgs([]string{"--lang", "fr"}); err == nil || !strings.Contains(err.Error(), `--lang: language "fr": want zh-CN or en`) {
		t.Errorf("--lang fr: %v", err)
	}
	if !strings.Contains(digestUsage, "--lang zh-CN|en") {
		t.Errorf("usage does not mention --lang")
	}
}
