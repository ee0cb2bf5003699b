package api

import (
	"net/http"

	"github.com/chainwatch/chainwatch/internal/i18n"
)

// VocabularyName is the display name of one id in both languages (from internal/i18n, the table
// the B计划 alerts and the digest use).
type VocabularyName struct {
	ID string `json:"id"`
	ZH string `json:"zh-CN"`
	EN string `json:"en"`
}

// Vocabulary is the bilingual names table by kind: category, industry, flag, severity,
// ledger_route, ledger_stage, ledger_blocker, tag, match_basis.
type Vocabulary struct {
	Langs []string                    `json:"langs"`
	Kinds map[string][]VocabularyName `json:"kinds"`
}

// GET /api/v1/vocabulary[?kind=category]
func (s *server) vocabulary(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := newQuery(r, "kind")
	if err != nil {
		return err
	}
	kinds := i18n.Kinds()
	if k := q.str("kind"); k != "" {
		if i18n.Names(k) == nil {
			return badRequest("parameter kind=%q: want one of %v", k, kinds)
		}
		kinds = []string{k}
	}
	out := Vocabulary{Langs: i18n.Langs(), Kinds: map[string][]VocabularyName{}}
	for _, k := range kinds {
		for _, n := range i18n.Names(k) {
			out.Kinds[k] = append(out.Kinds[k], VocabularyName{ID: n.ID, ZH: n.ZH, EN: n.EN})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
