package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/chainwatch/chainwatch/internal/api"
)

func cmdToken(_ context.Context, in Invocation) error {
	return tokenCommand(in.Args, in.Stdin, in.Stdout)
}

// tokenUsage is the help text of `chainwatch token`.
const tokenUsage = `usage: chainwatch token [--name NAME] [--role read|operate] [--hash]

Without --hash: generates a new random API token and prints it once, with the api.tokens entry
(its SHA-256) to paste into the config. With --hash: reads a token from stdin and prints its SHA-256.`

// tokenCommand implements `chainwatch token`: flags, then api.NewToken or api.HashToken.
func tokenCommand(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("name", "dashboard", "token name (shown in logs, recorded as ack/silence author)")
	role := fs.String("role", api.RoleRead, "read or operate")
	hash := fs.Bool("hash", false, "hash a token read from stdin instead of generating one")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = fmt.Fprintln(stdout, tokenUsage)
			return nil
		}
		return fmt.Errorf("token: %w\n%s", err, tokenUsage)
	}
	if *role != api.RoleRead && *role != api.RoleOperate {
		return fmt.Errorf("token: --role %q: want read or operate", *role)
	}
	if *hash {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("token: read stdin: %w", err)
		}
		t := strings.TrimSpace(line)
		if t == "" {
			return errors.New("token: --hash: no token on stdin")
		}
		_, err = fmt.Fprintln(stdout, api.HashToken(t))
		return err
	}
	tok, h, err := api.NewToken()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "token (shown once; give it to the client): %s\n\napi:\n  tokens:\n    - name: %s\n      role: %s\n      sha256: %s\n",
		tok, *name, *role, h)
	return err
}
