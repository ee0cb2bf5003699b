package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/chainwatch/chainwatch/internal/chstore"
	"github.com/chainwatch/chainwatch/internal/i18n"
	"github.com/chainwatch/chainwatch/internal/report"
)

// digestUsage is the help text of `chainwatch digest`.
const digestUsage = `usage: chainwatch digest [--week 2026-W47] [--format md|html|csv|json] [--region R] [--industry I]
                         [--lang zh-CN|en] [--out FILE] [--archive] [--send]

Prints the weekly risk digest of one ISO week (default: the last complete week in digest.timezone)
for one scope (region and/or industry; default national) in one language (default: the scope's
digest.scopes[].lang, else digest.lang, default zh-CN). --archive stores every configured format in
ClickHouse (table digests, per language); --send mails it to the scope's configured recipients.`

func cmdDigest(ctx context.Context, in Invocation) error {
	req, help, err := parseDigestArgs(in.Args)
	if err != nil || help {
		if help {
			_, _ = fmt.Fprintln(in.Stdout, digestUsage)
		}
		return err
	}
	conn, err := chstore.Open(ctx, in.Config.ClickHouse, in.Log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := chstore.MigrateConfig(ctx, conn, in.Config.ClickHouse); err != nil {
		return err
	}
	svc := report.New(conn, in.Config.API.Exposure, in.Config.Digest, in.Log)
	svc.SetWhatIf(digestWhatIf(conn, in.Config.WhatIf, in.Log))
	var mailer report.Mailer
	if in.Config.Alerts.Email.Enabled {
		if mailer, err = digestMailer(in.Config); err != nil {
			return err
		}
	}
	return svc.Produce(ctx, req, mailer, in.Stdout)
}

// parseDigestArgs parses the flags of `chainwatch digest`; help is true for -h.
func parseDigestArgs(args []string) (req report.Request, help bool, err error) {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	week := fs.String("week", "", "ISO week, e.g. 2026-W47 (default: the last complete week)")
	fs.StringVar(&req.Format, "format", report.FormatMarkdown, "md, html, csv or json")
	region := fs.String("region", "", "region scope (default: all)")
	industry := fs.String("industry", "", "industry scope (default: all)")
	lang := fs.String("lang", "", "zh-CN or en (default: the scope's configured language)")
	fs.StringVar(&req.Out, "out", "", "write to FILE instead of stdout")
	fs.BoolVar(&req.Archive, "archive", false, "store every configured format in ClickHouse")
	fs.BoolVar(&req.Send, "send", false, "mail the digest to the scope's recipients")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return req, true, nil
		}
		return req, false, fmt.Errorf("digest: %w\n%s", err, digestUsage)
	}
	if fs.NArg() > 0 {
		return req, false, fmt.Errorf("digest: unexpected arguments %q\n%s", fs.Args(), digestUsage)
	}
	if !report.ValidFormat(req.Format) {
		return req, false, fmt.Errorf("digest: --format %q: want md, html, csv or json", req.Format)
	}
	if *week != "" {
		w, err := report.ParseWeek(*week)
		if err != nil {
			return req, false, fmt.Errorf("digest: --week: %w", err)
		}
		req.Week = &w
	}
	if req.Lang, err = i18n.Parse(*lang); err != nil {
		return req, false, fmt.Errorf("digest: --lang: %w", err)
	}
	req.Scope = report.Scope{Region: strings.TrimSpace(*region), Industry: strings.TrimSpace(*industry)}
	return req, false, nil
}
