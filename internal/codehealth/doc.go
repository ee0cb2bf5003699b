// Package codehealth holds only tests: repository-wide checks that `make check` and `make test` run
// (no function over MaxFuncLines outside tests, the import graph in docs/CONVENTIONS.md matches
// `go list`). It has no code of its own for others to import.
package codehealth

// MaxFuncLines is the longest a non-test function may be, counted from its `func` line to its
// closing brace.
const MaxFuncLines = 120
