// Command chainwatch-gen writes synthetic input files for benchmarks and memory checks:
//
//	chainwatch-gen ocds -n 1500000 -o /tmp/big.json    # an OCDS release package (~1.2 KB per release)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/chainwatch/chainwatch/collectors/collectorstest"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "ocds" {
		fmt.Fprintln(os.Stderr, "usage: chainwatch-gen ocds -n RELEASES -o FILE")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("ocds", flag.ExitOnError)
	n := fs.Int("n", 100000, "releases")
	out := fs.String("o", "", "output file")
	_ = fs.Parse(os.Args[2:])
	if *out == "" {
		fmt.Fprintln(os.Stderr, "-o is required")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := collectorstest.WriteSyntheticOCDS(w, *n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
