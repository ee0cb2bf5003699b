package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/chainwatch/chainwatch/internal/config"
)

type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, cfg config.Config, log *slog.Logger) error
}

// commands is the explicit list of subcommands.
func commands() []command {
	return []command{
		{"serve", "run the daemon: sink, collectors, detectors, alerts, HTTP (/metrics, /healthz, /readyz, API)", cmdServe},
		{"migrate", "apply the ClickHouse schema migrations", cmdMigrate},
		{"detect", "run detectors once now: detect [name ...] (single_source, chokepoint, availability, tts_ttr, exposure)", cmdDetect},
		{"version", "print the version", nil},
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

// Command runs one subcommand.
func Command(ctx context.Context, name string, args []string, cfg config.Config, log *slog.Logger) error {
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, args, cfg, log)
		}
	}
	return fmt.Errorf("unknown command %q; commands:\n%s", name, CommandHelp())
}

func cmdServe(ctx context.Context, _ []string, cfg config.Config, log *slog.Logger) error {
	return Run(ctx, cfg, Options{Log: log})
}

func cmdMigrate(ctx context.Context, _ []string, cfg config.Config, log *slog.Logger) error {
	n, err := Migrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "new", n, "database", cfg.ClickHouse.Database)
	return nil
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
