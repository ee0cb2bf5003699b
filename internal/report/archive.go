package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/internal/exposure"
	"github.com/chainwatch/chainwatch/internal/i18n"
)

// DigestsTable is the digest archive (0004_reports.sql).
const DigestsTable = "digests"

// The language is part of the archive key as a suffix of the format column: "html.zh-CN",
// "md.en". Rows with a bare format ("html") were archived before digests had languages and are
// English. So zh and en digests of one scope and week never replace each other, and no migration
// is needed (docs/monitoring.md).

// ArchiveFormat is the value of the format column for format in lang.
func ArchiveFormat(format, lang string) string { return format + "." + i18n.Normalize(lang) }

// archiveFormats are the format column values that hold format in lang, the current one first.
func archiveFormats(format, lang string) []string {
	if i18n.Normalize(lang) == i18n.EN {
		return []string{ArchiveFormat(format, lang), format}
	}
	return []string{ArchiveFormat(format, lang)}
}

// splitArchiveFormat splits a format column value into the format and its language.
func splitArchiveFormat(v string) (format, lang string) {
	if f, l, ok := strings.Cut(v, "."); ok {
		return f, i18n.Normalize(l)
	}
	return v, i18n.EN
}

// Archive renders d in every format and stores the bodies in the digests table (one batch), keyed by
// the digest's language.
func (s *Service) Archive(ctx context.Context, d *Digest, formats []string) error {
	if s.conn == nil {
		return errors.New("digest archive: service has no ClickHouse connection for writes")
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+DigestsTable+
		" (year, week, region, industry, format, generated_at, period_from, period_to, content_type, body)")
	if err != nil {
		return fmt.Errorf("digest archive: prepare: %w", err)
	}
	for _, f := range formats {
		body, err := Render(d, f)
		if err != nil {
			return errors.Join(err, b.Abort())
		}
		if err := b.Append(uint16(d.Week.Year), uint8(d.Week.Week), d.Scope.Region, d.Scope.Industry, ArchiveFormat(f, d.lang()), d.GeneratedAt.UTC(),
			d.From.UTC(), d.To.UTC(), ContentType(f), string(body)); err != nil {
			return errors.Join(fmt.Errorf("digest archive: append: %w", err), b.Abort())
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("digest archive: send: %w", err)
	}
	return nil
}

// ErrNotArchived is returned by Archived when no digest is stored for the key.
var ErrNotArchived = errors.New("digest not archived")

// Archived returns the newest archived body of week × scope × format in lang ("" = the scope's
// configured language).
func (s *Service) Archived(ctx context.Context, week Week, scope Scope, format, lang string) ([]byte, time.Time, error) {
	q := "SELECT argMax(body, generated_at), max(generated_at), count() FROM " + DigestsTable + " WHERE year = " +
		exposure.Int(int64(week.Year)) + " AND week = " + exposure.Int(int64(week.Week)) + " AND region = " + exposure.Str(scope.Region) +
		" AND industry = " + exposure.Str(scope.Industry) + " AND format IN " + exposure.Strs(archiveFormats(format, s.Lang(scope, lang)))
	rows, err := s.q.Query(ctx, q)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("digest archive: read: %w", err)
	}
	defer rows.Close()
	var body string
	var at time.Time
	var n uint64
	for rows.Next() {
		if err := rows.Scan(&body, &at, &n); err != nil {
			return nil, time.Time{}, fmt.Errorf("digest archive: read: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("digest archive: read: %w", err)
	}
	if n == 0 {
		return nil, time.Time{}, ErrNotArchived
	}
	return []byte(body), at.UTC(), nil
}

// Entry is one archived digest (all its formats).
type Entry struct {
	Week        string    `json:"week"`
	Year        int       `json:"year"`
	WeekNumber  int       `json:"week_number"`
	Region      string    `json:"region"`
	Industry    string    `json:"industry"`
	Formats     []string  `json:"formats"`
	Langs       []string  `json:"langs"` // languages archived (zh-CN, en)
	GeneratedAt time.Time `json:"generated_at"`
}

// List returns archived digests, newest week first, optionally filtered by scope fields ("" = any).
func (s *Service) List(ctx context.Context, region, industry *string, limit int) ([]Entry, error) {
	w := "1 = 1"
	if region != nil {
		w += " AND region = " + exposure.Str(*region)
	}
	if industry != nil {
		w += " AND industry = " + exposure.Str(*industry)
	}
	if limit <= 0 {
		limit = 100
	}
	q := "SELECT year, week, region, industry, groupUniqArray(format), max(generated_at) FROM " + DigestsTable + " WHERE " + w +
		" GROUP BY year, week, region, industry ORDER BY year DESC, week DESC, region, industry LIMIT " + exposure.Int(int64(limit))
	rows, err := s.q.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("digest archive: list: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var y uint16
		var wk uint8
		var stored []string
		if err := rows.Scan(&y, &wk, &e.Region, &e.Industry, &stored, &e.GeneratedAt); err != nil {
			return nil, fmt.Errorf("digest archive: list: %w", err)
		}
		e.Formats, e.Langs = []string{}, []string{}
		for _, v := range stored {
			f, l := splitArchiveFormat(v)
			if !slices.Contains(e.Formats, f) {
				e.Formats = append(e.Formats, f)
			}
			if !slices.Contains(e.Langs, l) {
				e.Langs = append(e.Langs, l)
			}
		}
		slices.Sort(e.Langs)
		slices.Reverse(e.Langs) // zh-CN before en
		e.Year, e.WeekNumber = int(y), int(wk)
		e.Week = Week{int(y), int(wk)}.String()
		e.GeneratedAt = e.GeneratedAt.UTC()
		slices.Sort(e.Formats)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Get returns the digest of week × scope in format and lang ("" = the scope's configured language):
// the archived copy when there is one (html, md, csv), otherwise a freshly generated one, archived in
// every configured format when the week is complete and the service can write. json is always
// generated.
func (s *Service) Get(ctx context.Context, week Week, scope Scope, format, lang string) ([]byte, error) {
	if !ValidFormat(format) {
		return nil, fmt.Errorf("unknown digest format %q (html, md, csv, json)", format)
	}
	if format != FormatJSON {
		body, _, err := s.Archived(ctx, week, scope, format, lang)
		if err == nil {
			return body, nil
		}
		if !errors.Is(err, ErrNotArchived) {
			return nil, err
		}
	}
	d, err := s.Generate(ctx, week, scope, lang)
	if err != nil {
		return nil, err
	}
	if d.Complete && s.conn != nil {
		formats := s.cfg.Formats
		if format != FormatJSON && !slices.Contains(formats, format) {
			formats = append(slices.Clone(formats), format)
		}
		if err := s.Archive(ctx, d, formats); err != nil {
			s.log.Warn("digest generated but not archived", "week", week.String(), "scope", scope.String(), "lang", d.Lang, "err", err)
		}
	}
	return Render(d, format)
}
