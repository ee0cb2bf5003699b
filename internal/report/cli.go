package report

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// CLIUsage is the help text of `chainwatch digest`.
const CLIUsage = `usage: chainwatch digest [--week 2026-W47] [--format md|html|csv|json] [--region R] [--industry I]
                         [--out FILE] [--archive] [--send]

Prints the weekly risk digest of one ISO week (default: the last complete week in digest.timezone)
for one scope (region and/or industry; default national). --archive stores every configured
format in ClickHouse (table digests); --send mails it to the scope's configured recipients.`

// CLI implements `chainwatch digest`. mailer may be nil (then --send fails).
func CLI(ctx context.Context, args []string, svc *Service, mailer Mailer, stdout io.Writer) error {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	weekFlag := fs.String("week", "", "ISO week, e.g. 2026-W47 (default: the last complete week)")
	format := fs.String("format", FormatMarkdown, "md, html, csv or json")
	region := fs.String("region", "", "region scope (default: all)")
	industry := fs.String("industry", "", "industry scope (default: all)")
	out := fs.String("out", "", "write to FILE instead of stdout")
	archive := fs.Bool("archive", false, "store every configured format in ClickHouse")
	send := fs.Bool("send", false, "mail the digest to the scope's recipients")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = fmt.Fprintln(stdout, CLIUsage)
			return nil
		}
		return fmt.Errorf("digest: %w\n%s", err, CLIUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("digest: unexpected arguments %q\n%s", fs.Args(), CLIUsage)
	}
	if !ValidFormat(*format) {
		return fmt.Errorf("digest: --format %q: want md, html, csv or json", *format)
	}
	week := LastComplete(svc.now(), svc.loc)
	if *weekFlag != "" {
		w, err := ParseWeek(*weekFlag)
		if err != nil {
			return fmt.Errorf("digest: --week: %w", err)
		}
		week = w
	}
	scope := Scope{Region: strings.TrimSpace(*region), Industry: strings.TrimSpace(*industry)}
	d, err := svc.Generate(ctx, week, scope)
	if err != nil {
		return err
	}
	body, err := Render(d, *format)
	if err != nil {
		return err
	}
	if *archive {
		if err := svc.Archive(ctx, d, svc.cfg.Formats); err != nil {
			return err
		}
	}
	if *send {
		if mailer == nil {
			return errors.New("digest: --send: no mailer configured")
		}
		var to []string
		for _, sc := range svc.cfg.EffectiveScopes() {
			if sc.Region == scope.Region && sc.Industry == scope.Industry {
				to = sc.Recipients
			}
		}
		if len(to) == 0 {
			to = svc.cfg.Recipients
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
	}
	if *out != "" {
		if err := os.WriteFile(*out, body, 0o644); err != nil {
			return fmt.Errorf("digest: %w", err)
		}
		return nil
	}
	_, err = stdout.Write(body)
	return err
}
