package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/chainwatch/chainwatch/alerts/smtpsink"
	"github.com/chainwatch/chainwatch/collectors"
	"github.com/chainwatch/chainwatch/internal/bus"
	"github.com/chainwatch/chainwatch/internal/config"
)

// Invocation is one command line: the subcommand's arguments, the loaded config and the logger.
type Invocation struct {
	Args       []string
	Config     config.Config
	ConfigPath string
	Log        *slog.Logger
	Stdout     io.Writer
	Stdin      io.Reader
	// Reload, if set, makes `serve` reload its configuration when it receives (cmd/chainwatch wires
	// SIGHUP to it).
	Reload <-chan struct{}
}

type command struct {
	name, usage string
	run         func(ctx context.Context, in Invocation) error
	// help is the text `chainwatch <name> --help` prints; empty: the usage line.
	help string
}

// commands is the explicit list of subcommands.
func commands() []command {
	return []command{
		{"serve", "run the daemon: sink, collectors, detectors, alerts, HTTP (/metrics, /healthz, /readyz, API)", cmdServe, ""},
		{"migrate", "apply the ClickHouse schema migrations", cmdMigrate, ""},
		{"import", "load a file or directory once: import <kind> <path> (kinds: " + strings.Join(collectors.NewImportRegistry().Names(), ", ") + ")", cmdImport, importUsage()},
		{"collect", "run one configured collector once: collect <name>", cmdCollect, ""},
		{"detect", "run detectors once now: detect [name ...] (single_source, chokepoint, availability, tts_ttr, exposure)", cmdDetect, ""},
		{"alerts", "alerts of a running daemon: alerts list|show FP|ack FP|silence|silences|unsilence ID [--url] [--token]", cmdAlerts, alertsUsage},
		{"digest", "weekly risk digest: digest --week 2026-W47 --format md|html|csv|json [--region R] [--industry I] [--lang zh-CN|en] [--out F] [--archive] [--send]", cmdDigest, digestUsage},
		{"whatif", "disruption what-if: whatif [--format table|json] [--stress] [--tiers] [--store] scenario.yaml (stops, days, paths, B计划 actions)", cmdWhatIf, ""},
		{"records", "print the events on the Kafka topics as JSON Lines, whatever their encoding: records [--tail N] [--max N] [--follow] [kind ...]", cmdRecords, recordsUsage()},
		{"token", "API tokens: token --name N --role read|operate (prints the token and its config entry); token --hash < token", cmdToken, tokenUsage},
		{"smtp-sink", "a local SMTP sink for demos: smtp-sink --addr 127.0.0.1:2525 --dir DIR (writes .eml files)", cmdSMTPSink, ""},
		{"version", "print the version (also --version)", cmdVersion, ""},
		{"help", "print this usage, or a command's: help [command]", nil, ""},
	}
}

// CommandHelp lists the subcommands for usage output.
func CommandHelp() string {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.usage)
	}
	return b.String()
}

// ErrUnknownCommand is returned, wrapped, by Command for a name that is not a command.
var ErrUnknownCommand = errors.New("unknown command")

// Usage is the text of `chainwatch --help`; flags lists the global flags.
func Usage(flags string) string {
	return "usage: chainwatch [--config FILE] <command> [args]\n\ncommands:\n" + CommandHelp() +
		"\nglobal flags:\n" + flags + "\n`chainwatch <command> --help` describes a command.\n"
}

// IsHelp reports whether a command's args ask for help (help first, or -h, -help, --help before
// any "--"), so that the caller can run the command without loading the configuration.
func IsHelp(args []string) bool {
	if len(args) > 0 && args[0] == "help" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a != "help" && isHelpArg(a) {
			return true
		}
	}
	return false
}

// Command runs one subcommand. `<name> --help` (or -h, help) prints the command's help to Stdout.
func Command(ctx context.Context, name string, in Invocation) error {
	if in.Stdout == nil {
		in.Stdout = os.Stdout
	}
	if in.Stdin == nil {
		in.Stdin = os.Stdin
	}
	for _, c := range commands() {
		if c.name != name || c.run == nil {
			continue
		}
		if IsHelp(in.Args) {
			h := c.help
			if h == "" {
				h = "usage: chainwatch " + c.name + ": " + c.usage
			}
			_, err := fmt.Fprintln(in.Stdout, h)
			return err
		}
		return c.run(ctx, in)
	}
	return fmt.Errorf("%w %q; commands:\n%s", ErrUnknownCommand, name, CommandHelp())
}

// HelpFor returns the help text of command name (false for an unknown command).
func HelpFor(name string) (string, bool) {
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			if c.help != "" {
				return c.help, true
			}
			return "usage: chainwatch " + c.name + ": " + c.usage, true
		}
	}
	return "", false
}

func cmdVersion(_ context.Context, in Invocation) error {
	_, err := fmt.Fprintln(in.Stdout, "chainwatch", Version)
	return err
}

func cmdServe(ctx context.Context, in Invocation) error {
	return Run(ctx, in.Config, Options{Log: in.Log, ConfigPath: in.ConfigPath, Reload: in.Reload})
}

func cmdMigrate(ctx context.Context, in Invocation) error {
	n, err := Migrate(ctx, in.Config, in.Log)
	if err != nil {
		return err
	}
	in.Log.Info("migrations applied", "new", n, "database", in.Config.ClickHouse.Database)
	return nil
}

// producerFor ensures the topics exist and returns a producer (the collectors' Emitter).
func producerFor(ctx context.Context, cfg config.Config) (*bus.Producer, error) {
	if cfg.Kafka.CreateTopics {
		if err := bus.EnsureTopics(ctx, cfg.Kafka); err != nil {
			return nil, err
		}
	}
	return bus.NewProducer(cfg.Kafka, nil), nil
}

// importUsage is the help text of `chainwatch import`.
func importUsage() string {
	return `usage: chainwatch import [--source S] [--as-of DATE] <kind> <path>

Loads a file or a directory once through the collectors into Kafka (the daemon's sink stores it in
ClickHouse); every bad row becomes a rejected record with its reason. Prints the counts.

kinds: ` + strings.Join(collectors.NewImportRegistry().Names(), ", ") + `

flags:
  --source S     envelope source (default per kind)
  --as-of DATE   as_of for rows without one (RFC 3339 date or time)`
}

func cmdImport(ctx context.Context, in Invocation) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	source := fs.String("source", "", "envelope source (default per kind)")
	asOf := fs.String("as-of", "", "as_of for rows without one (RFC 3339 date or time)")
	if err := fs.Parse(in.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err := fmt.Fprintln(in.Stdout, importUsage())
			return err
		}
		return fmt.Errorf("import: %w\n%s", err, importUsage())
	}
	imports := collectors.NewImportRegistry()
	if fs.NArg() != 2 {
		return fmt.Errorf("import: want <kind> <path>\n%s", importUsage())
	}
	kind, err := imports.Lookup(fs.Arg(0))
	if err != nil {
		return err
	}
	opts := collectors.ImportOptions{Source: *source, Logger: in.Log, Progress: os.Stderr, Version: Version,
		HomeCountry: in.Config.Collectors.HomeCountry, ProgressInterval: in.Config.Collectors.ProgressInterval,
		BatchSize: in.Config.Collectors.BatchSize}
	if *asOf != "" {
		t, err := parseTime(*asOf)
		if err != nil {
			return fmt.Errorf("--as-of: %w", err)
		}
		opts.AsOf = t
	}
	p, err := producerFor(ctx, in.Config)
	if err != nil {
		return err
	}
	defer p.Close()
	st, err := kind.New(opts).Import(ctx, fs.Arg(1), p)
	printStats(in.Stdout, fs.Arg(0)+" "+fs.Arg(1), st)
	return err
}

func cmdCollect(ctx context.Context, in Invocation) error {
	if len(in.Args) != 1 {
		return errors.New("usage: chainwatch collect <name> (comtrade, procurement, availability; enabled in config)")
	}
	reg, err := collectors.NewRegistry(in.Config.Collectors, collectors.Deps{Logger: in.Log, Version: Version})
	if err != nil {
		return err
	}
	c, err := reg.Lookup(in.Args[0])
	if err != nil {
		return err
	}
	p, err := producerFor(ctx, in.Config)
	if err != nil {
		return err
	}
	defer p.Close()
	st, err := collectors.RunOnce(ctx, c, p, nil, in.Log)
	printStats(in.Stdout, in.Args[0], st)
	return err
}

func printStats(w io.Writer, what string, st collectors.Stats) {
	fmt.Fprintf(w, "%s: read %d, emitted %d, rejected %d, skipped %d, duplicates %d", what, st.Read, st.Emitted, st.RejectedTotal(), st.Skipped, st.Duplicates)
	if len(st.Rejected) > 0 {
		b, _ := json.Marshal(st.Rejected)
		fmt.Fprintf(w, " %s", b)
	}
	fmt.Fprintln(w)
	for _, f := range st.SkippedFiles {
		fmt.Fprintf(w, "  skipped file %s\n", f)
	}
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
}

func cmdSMTPSink(ctx context.Context, in Invocation) error {
	fs := flag.NewFlagSet("smtp-sink", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:2525", "listen address (loopback)")
	dir := fs.String("dir", ".state/mail", "directory for received messages (.eml)")
	if err := fs.Parse(in.Args); err != nil {
		return err
	}
	s, err := smtpsink.Start(smtpsink.Options{Addr: *addr, Dir: *dir})
	if err != nil {
		return err
	}
	in.Log.Info("smtp sink listening", "addr", s.Addr(), "dir", *dir)
	<-ctx.Done()
	return s.Close()
}

// NewLogger builds the slog logger of cfg.
func NewLogger(cfg config.LogConfig, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
