package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"text/tabwriter"

	"github.com/chainwatch/chainwatch/internal/api"
)

// alertsUsage is the help text of `chainwatch alerts`.
const alertsUsage = `usage: chainwatch alerts <verb> [flags]

The alerts of a running daemon, through its API v1 (docs/api.md). The token (--token or
CHAINWATCH_TOKEN) needs role read to list, operate to ack, silence and unsilence; the daemon records
the token's name as the author.

  list [--status firing|resolved] [--severity info|warning|critical] [--enterprise E] [--component C] [--category K]
  show FINGERPRINT
  ack FINGERPRINT [--comment TEXT] [--duration 24h]
  silence --enterprise E | --component C | --category K [...] --comment TEXT [--duration 24h]
  silences [--state pending|active|expired]
  unsilence ID

flags (anywhere after the verb):
  --url URL      daemon base URL (default http://<http.listen>)
  --token T      API bearer token (default $CHAINWATCH_TOKEN)`

// alertsArgs are the parsed flags and positional arguments of `chainwatch alerts <verb>`.
type alertsArgs struct {
	verb                            string
	args                            []string
	url, token                      string
	comment, duration               string
	enterprise, component, category string
	status, severity, state         string
}

// parseAlertsArgs parses `alerts <verb> [flags]`; flags may follow positional arguments. help is
// true for -h, --help or the verb help.
func parseAlertsArgs(args []string, listen string) (a alertsArgs, help bool, err error) {
	if len(args) == 0 {
		return a, false, errors.New("alerts: a verb is required\n" + alertsUsage)
	}
	a.verb = args[0]
	if isHelpArg(a.verb) {
		return a, true, nil
	}
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.url, "url", "http://"+dialable(listen), "daemon base URL")
	fs.StringVar(&a.token, "token", os.Getenv("CHAINWATCH_TOKEN"), "API bearer token")
	fs.StringVar(&a.comment, "comment", "", "comment (ack, silence)")
	fs.StringVar(&a.duration, "duration", "24h", "how long (ack, silence)")
	fs.StringVar(&a.enterprise, "enterprise", "", "filter / matcher: enterprise id")
	fs.StringVar(&a.component, "component", "", "filter / matcher: component id")
	fs.StringVar(&a.category, "category", "", "filter / matcher: category")
	fs.StringVar(&a.status, "status", "", "list: firing or resolved")
	fs.StringVar(&a.severity, "severity", "", "list: info, warning or critical")
	fs.StringVar(&a.state, "state", "", "silences: pending, active or expired")
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return a, true, nil
			}
			return a, false, fmt.Errorf("alerts %s: %w\n%s", a.verb, err, alertsUsage)
		}
		if fs.NArg() == 0 {
			return a, false, nil
		}
		a.args = append(a.args, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}

// dialable turns a listen address into one a client can dial (":9464", "0.0.0.0:9464" → loopback).
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func isHelpArg(s string) bool { return s == "-h" || s == "-help" || s == "--help" || s == "help" }

// cmdAlerts is `chainwatch alerts list|show|ack|silence|silences|unsilence`.
func cmdAlerts(ctx context.Context, in Invocation) error {
	a, help, err := parseAlertsArgs(in.Args, in.Config.HTTP.Listen)
	if help {
		_, err := fmt.Fprintln(in.Stdout, alertsUsage)
		return err
	}
	if err != nil {
		return err
	}
	c := &api.Client{BaseURL: a.url, Token: a.token}
	if err := runAlertsVerb(ctx, c, a, in.Stdout); err != nil {
		return fmt.Errorf("alerts %s: %w", a.verb, err)
	}
	return nil
}

// wantArgs checks the number of positional arguments of a verb.
func (a alertsArgs) wantArgs(n int, usage string) error {
	if len(a.args) != n {
		return fmt.Errorf("usage: chainwatch alerts %s", usage)
	}
	return nil
}

func runAlertsVerb(ctx context.Context, c *api.Client, a alertsArgs, stdout io.Writer) error {
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	out.SetEscapeHTML(false)
	switch a.verb {
	case "list":
		if err := a.wantArgs(0, "list [flags]"); err != nil {
			return err
		}
		as, err := c.AllAlerts(ctx, api.AlertQuery{Status: a.status, Severity: a.severity, Enterprise: a.enterprise,
			Component: a.component, Category: a.category})
		if err != nil {
			return err
		}
		return printAlerts(stdout, as)
	case "show":
		if err := a.wantArgs(1, "show FINGERPRINT"); err != nil {
			return err
		}
		v, err := c.Alert(ctx, a.args[0])
		if err != nil {
			return err
		}
		return out.Encode(v)
	case "ack":
		if err := a.wantArgs(1, "ack FINGERPRINT [--comment TEXT] [--duration 24h]"); err != nil {
			return err
		}
		v, err := c.Ack(ctx, a.args[0], api.AckRequest{Comment: a.comment, Duration: a.duration})
		if err != nil {
			return err
		}
		return out.Encode(v)
	case "silence":
		if err := a.wantArgs(0, "silence --enterprise E | --component C | --category K --comment TEXT [--duration 24h]"); err != nil {
			return err
		}
		s, err := c.CreateSilence(ctx, api.SilenceRequest{Matchers: api.Matchers{EnterpriseID: a.enterprise, ComponentID: a.component,
			Category: a.category}, Duration: a.duration, Comment: a.comment})
		if err != nil {
			return err
		}
		return out.Encode(s)
	case "silences":
		if err := a.wantArgs(0, "silences [--state pending|active|expired]"); err != nil {
			return err
		}
		ss, err := c.Silences(ctx, a.state)
		if err != nil {
			return err
		}
		return out.Encode(ss)
	case "unsilence":
		if err := a.wantArgs(1, "unsilence ID"); err != nil {
			return err
		}
		if err := c.ExpireSilence(ctx, a.args[0]); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "silence %s expired\n", a.args[0])
		return err
	}
	return fmt.Errorf("unknown verb (list, show, ack, silence, silences, unsilence)\n%s", alertsUsage)
}

func printAlerts(w io.Writer, as []api.Alert) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FINGERPRINT\tSTATE\tSEVERITY\tENTERPRISE\tCOMPONENT\tSCORE")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\n", a.Fingerprint, a.State, a.Severity, a.EnterpriseID, a.ComponentID, a.Score)
	}
	return tw.Flush()
}
