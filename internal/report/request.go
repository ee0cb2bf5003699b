package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/chainwatch/chainwatch/internal/i18n"
)

// Request is one on-demand digest (`chainwatch digest`, parsed by internal/app).
type Request struct {
	Week    *Week  // nil: the last complete week in digest.timezone
	Format  string // md, html, csv or json
	Scope   Scope  // zero: national
	Lang    string // zh-CN or en; "": the scope's configured language (digest.scopes[].lang, digest.lang)
	Out     string // write to this file instead of the writer given to Produce
	Archive bool   // store every configured format in ClickHouse
	Send    bool   // mail the digest to the scope's recipients
}

// Produce generates the digest of req, archives and mails it if asked, and writes it in req.Format
// to req.Out or w. mailer may be nil (then Send fails).
func (s *Service) Produce(ctx context.Context, req Request, mailer Mailer, w io.Writer) error {
	if !ValidFormat(req.Format) {
		return fmt.Errorf("digest: format %q: want md, html, csv or json", req.Format)
	}
	week := LastComplete(s.now(), s.loc)
	if req.Week != nil {
		week = *req.Week
	}
	lang := ""
	if req.Lang != "" {
		l, err := i18n.Parse(req.Lang)
		if err != nil {
			return fmt.Errorf("digest: %w", err)
		}
		lang = l
	}
	d, err := s.Generate(ctx, week, req.Scope, lang)
	if err != nil {
		return err
	}
	body, err := Render(d, req.Format)
	if err != nil {
		return err
	}
	if req.Archive {
		if err := s.Archive(ctx, d, s.cfg.Formats); err != nil {
			return err
		}
	}
	if req.Send {
		if err := s.send(ctx, d, req.Scope, mailer); err != nil {
			return err
		}
	}
	if req.Out != "" {
		if err := os.WriteFile(req.Out, body, 0o644); err != nil {
			return fmt.Errorf("digest: %w", err)
		}
		return nil
	}
	_, err = w.Write(body)
	return err
}

// send mails d to the recipients configured for scope.
func (s *Service) send(ctx context.Context, d *Digest, scope Scope, mailer Mailer) error {
	if mailer == nil {
		return errors.New("digest: --send: no mailer configured")
	}
	var to []string
	for _, sc := range s.cfg.EffectiveScopes() {
		if sc.Region == scope.Region && sc.Industry == scope.Industry {
			to = sc.Recipients
		}
	}
	if len(to) == 0 {
		to = s.cfg.Recipients
	}
	if len(to) == 0 {
		return fmt.Errorf("digest: --send: no recipients for scope %s (digest.recipients or digest.scopes)", scope)
	}
	html, err := Render(d, FormatHTML)
	if err != nil {
		return err
	}
	if err := mailer.Send(ctx, to, Subject(d), string(html), string(renderMarkdown(d))); err != nil {
		return fmt.Errorf("digest: send: %w", err)
	}
	return nil
}
