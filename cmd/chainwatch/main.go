// Command chainwatch watches industrial supply chains and warns before a single-source supplier or
// a global chokepoint breaks a production line.
//
//	chainwatch [--config FILE] <command> [args]    (chainwatch --help lists the commands)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/chainwatch/chainwatch/internal/app"
	"github.com/chainwatch/chainwatch/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command line; it returns the exit code: 0, 1 (the command failed) or 2 (bad
// usage or configuration). Help and version go to stdout with exit 0.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chainwatch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", os.Getenv("CHAINWATCH_CONFIG"), "YAML config file (defaults → file → CHAINWATCH_* env)")
	version := fs.Bool("version", false, "print the version and exit")
	usage := func(w io.Writer) {
		var flags strings.Builder
		fs.SetOutput(&flags)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprint(w, app.Usage(flags.String()))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "chainwatch:", err)
		usage(stderr)
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "chainwatch", app.Version)
		return 0
	}
	if fs.NArg() == 0 {
		usage(stderr)
		return 2
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch {
	case cmd == "help" && len(rest) == 0:
		usage(stdout)
		return 0
	case cmd == "help":
		h, ok := app.HelpFor(rest[0])
		if !ok {
			fmt.Fprintf(stderr, "chainwatch: unknown command %q\n", rest[0])
			usage(stderr)
			return 2
		}
		fmt.Fprintln(stdout, h)
		return 0
	case cmd == "version" || app.IsHelp(rest):
		// No configuration needed.
		return runCommand(context.Background(), cmd, app.Invocation{Args: rest, Config: config.Default(),
			Log: slog.New(slog.NewTextHandler(stderr, nil)), Stdout: stdout}, stderr)
	}
	cfg, err := config.Load(*cfgPath, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := app.NewLogger(cfg.Log, stderr)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var reload <-chan struct{}
	if cmd == "serve" { // SIGHUP reloads the daemon; other commands keep its default action
		reload = reloadOnHangup(ctx)
	}
	return runCommand(ctx, cmd, app.Invocation{Args: rest, Config: cfg, ConfigPath: *cfgPath, Log: log, Reload: reload, Stdout: stdout}, stderr)
}

// runCommand runs one subcommand and maps its error to the exit code.
func runCommand(ctx context.Context, cmd string, in app.Invocation, stderr io.Writer) int {
	err := app.Command(ctx, cmd, in)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, app.ErrUnknownCommand):
		fmt.Fprintln(stderr, "chainwatch:", err)
		return 2
	}
	in.Log.Error("chainwatch failed", "command", cmd, "err", err)
	return 1
}

// reloadOnHangup turns SIGHUP into a (non-blocking, coalesced) reload request until ctx ends.
func reloadOnHangup(ctx context.Context) <-chan struct{} {
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}
	}()
	return reload
}
