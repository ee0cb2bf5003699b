// Command chainwatch watches industrial supply chains and warns before a single-source supplier or
// a global chokepoint breaks a production line.
//
//	chainwatch [--config FILE] serve|migrate|import|collect|detect|version [args]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/chainwatch/chainwatch/internal/app"
	"github.com/chainwatch/chainwatch/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("chainwatch", flag.ContinueOnError)
	cfgPath := fs.String("config", os.Getenv("CHAINWATCH_CONFIG"), "YAML config file (defaults → file → CHAINWATCH_* env)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: chainwatch [--config FILE] <command> [args]\n\ncommands:\n%s\nflags:\n", app.CommandHelp())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	if cmd == "version" {
		fmt.Println("chainwatch", app.Version)
		return 0
	}
	cfg, err := config.Load(*cfgPath, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := app.NewLogger(cfg.Log, os.Stderr)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var reload <-chan struct{}
	if cmd == "serve" { // SIGHUP reloads the daemon; other commands keep its default action
		reload = reloadOnHangup(ctx)
	}
	if err := app.Command(ctx, cmd, app.Invocation{Args: rest, Config: cfg, ConfigPath: *cfgPath, Log: log, Reload: reload}); err != nil {
		log.Error("chainwatch failed", "command", cmd, "err", err)
		return 1
	}
	return 0
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
