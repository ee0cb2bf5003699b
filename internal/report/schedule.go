package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Mailer delivers one e-mail with an HTML body and a plain-text alternative. The lead adapts the
// alerts e-mail channel to it.
type Mailer interface {
	Send(ctx context.Context, to []string, subject, html, text string) error
}

// Delivery is the outcome for one scope of a scheduled run.
type Delivery struct {
	Scope      Scope
	Week       Week
	Lang       string
	Archived   bool
	Recipients int
	Err        error
}

// RunOnce generates the digest of week for every configured scope, archives every configured format
// and mails the HTML (with the Markdown as text part) to the scope's recipients. It carries on past
// a failing scope and returns the joined errors.
func (s *Service) RunOnce(ctx context.Context, week Week, mailer Mailer) ([]Delivery, error) {
	var out []Delivery
	var errs []error
	for _, sc := range s.cfg.EffectiveScopes() {
		scope := Scope{Region: sc.Region, Industry: sc.Industry}
		dl := Delivery{Scope: scope, Week: week, Lang: s.Lang(scope, sc.Lang)}
		dl.Err = s.deliver(ctx, week, scope, sc, mailer, &dl)
		if dl.Err != nil {
			errs = append(errs, fmt.Errorf("digest %s %s: %w", week, scope, dl.Err))
		}
		out = append(out, dl)
	}
	return out, errors.Join(errs...)
}

func (s *Service) deliver(ctx context.Context, week Week, scope Scope, sc ScopeConfig, mailer Mailer, dl *Delivery) error {
	d, err := s.Generate(ctx, week, scope, dl.Lang)
	if err != nil {
		return err
	}
	if s.conn != nil {
		if err := s.Archive(ctx, d, s.cfg.Formats); err != nil {
			return err
		}
		dl.Archived = true
	}
	if len(sc.Recipients) == 0 || mailer == nil {
		s.log.Info("digest generated", "week", week.String(), "scope", scope.String(), "lang", dl.Lang, "archived", dl.Archived, "recipients", 0)
		return nil
	}
	html, err := Render(d, FormatHTML)
	if err != nil {
		return err
	}
	text := renderMarkdown(d)
	if err := mailer.Send(ctx, sc.Recipients, Subject(d), string(html), string(text)); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	dl.Recipients = len(sc.Recipients)
	s.log.Info("digest delivered", "week", week.String(), "scope", scope.String(), "lang", dl.Lang, "archived", dl.Archived,
		"recipients", dl.Recipients)
	return nil
}

// Subject is the e-mail subject of a digest, in its language.
func Subject(d *Digest) string {
	lang := d.lang()
	return trf(lang, "subject", d.Title, d.Week, d.Scope.Label(lang), d.Summary.Critical, d.Summary.Rising, d.Summary.New)
}

// Scheduler runs RunOnce on digest.schedule (robfig/cron, 5 fields) in digest.timezone, for the last
// complete ISO week.
type Scheduler struct {
	svc    *Service
	mailer Mailer
	sched  cron.Schedule
}

// NewScheduler parses the configured schedule.
func NewScheduler(svc *Service, mailer Mailer) (*Scheduler, error) {
	sched, err := cron.ParseStandard(svc.cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("digest.schedule %q: %w", svc.cfg.Schedule, err)
	}
	return &Scheduler{svc: svc, mailer: mailer, sched: sched}, nil
}

// Next returns the next run time after t, in the digest time zone.
func (sc *Scheduler) Next(t time.Time) time.Time { return sc.sched.Next(t.In(sc.svc.loc)) }

// Run waits for each scheduled time and delivers the last complete week's digests, until ctx ends.
// A failed run is logged and retried at the next scheduled time (the API still generates on demand).
func (sc *Scheduler) Run(ctx context.Context) error {
	for {
		now := sc.svc.now()
		next := sc.Next(now)
		sc.svc.log.Info("next weekly digest", "at", next.Format(time.RFC3339), "week", LastComplete(next, sc.svc.loc).String())
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		week := LastComplete(sc.svc.now(), sc.svc.loc)
		rctx, cancel := context.WithTimeout(ctx, sc.svc.cfg.Timeout)
		_, err := sc.svc.RunOnce(rctx, week, sc.mailer)
		cancel()
		if err != nil && ctx.Err() == nil {
			sc.svc.log.Error("weekly digest run failed", "week", week.String(), "err", err)
		}
	}
}
