// Package i18n is chainwatch's bilingual vocabulary: the supported languages, the message-catalogue
// mechanism the alerts and the digest use for their own texts, and the ONE table of display names of
// the shared vocabulary — component categories, industries, detector flags, severity bands, 卡点
// ledger routes, stages and blockers, SME tags and demand-match bases — used by the B计划 alerts,
// the weekly digest and the API (GET /api/v1/vocabulary).
//
// Catalogues and tables are package-level maps that nothing writes after initialisation; callers
// get copies or single strings. The package imports only schemas (for the category ids).
package i18n

import (
	"fmt"
	"strings"
)

// Languages.
const (
	ZH = "zh-CN"
	EN = "en"
)

// Langs returns the supported languages, the default (zh-CN) first.
func Langs() []string { return []string{ZH, EN} }

// Normalize maps a language tag to a supported one: zh*, cn → zh-CN, anything else → en.
func Normalize(s string) string {
	l := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
	if strings.HasPrefix(l, "zh") || l == "cn" {
		return ZH
	}
	return EN
}

// Parse is the strict form of Normalize for user input (config, API, CLI): "" stays "" (the caller's
// default); zh, zh-CN, zh-Hans, cn → zh-CN; en, en-US, en-GB → en; anything else is an error.
func Parse(s string) (string, error) {
	l := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
	switch {
	case l == "":
		return "", nil
	case l == "zh" || l == "cn" || strings.HasPrefix(l, "zh-"):
		return ZH, nil
	case l == "en" || strings.HasPrefix(l, "en-"):
		return EN, nil
	}
	return "", fmt.Errorf("language %q: want zh-CN or en", s)
}

// Catalog is a message catalogue: language → key → text (fmt verbs allowed).
type Catalog map[string]map[string]string

// T returns the text of key in lang, falling back to English, then to the key itself (so a missing
// entry shows up in the output instead of an empty string).
func (c Catalog) T(lang, key string) string {
	if s, ok := c[lang][key]; ok {
		return s
	}
	if s, ok := c[EN][key]; ok {
		return s
	}
	return key
}

// F formats the text of key in lang with args.
func (c Catalog) F(lang, key string, args ...any) string {
	return fmt.Sprintf(c.T(lang, key), args...)
}

// Missing returns, per language, the keys of the other languages it lacks (catalogue tests).
func (c Catalog) Missing() map[string][]string {
	out := map[string][]string{}
	for lang, m := range c {
		for other, om := range c {
			if other == lang {
				continue
			}
			for k := range om {
				if _, ok := m[k]; !ok {
					out[lang] = append(out[lang], k)
				}
			}
		}
	}
	return out
}
