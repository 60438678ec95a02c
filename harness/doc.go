// Package harness is the straddle library and its front door: Check (and
// NewChecker, for a check run more than once) does exactly what `straddle check`
// does — parse a project's migrations and both releases' workloads, run the
// rollout on each engine, decide the verdict — and returns the result with an
// error that says what it means (ErrIncompatible, ErrBadInput, ErrEnvironment).
// Package harnesstest wraps it for go test.
//
// Each concept is a sub-package, and the imports point one way along the data flow
//
//	plan/schema → engine/input → observe/sqltext → migration/fixture/traffic →
//	workload/lockwatch → runner/release → verdict/command → report/session/certify → harness
//
// (a package imports only packages to its left). Some neighbours meet only
// through a contract below both: the rollout (session) and load mode (runner) drive a release's traffic through
// package traffic, and release (a workload's queries from files, executed) and
// command (a project's own programs) implement it; migrations and workloads read SQL with the one
// lexer of package sqltext. This package parses no
// flags and renders no report: the CLI (internal/cli) is flag parsing and
// printing around Check. arch_test.go keeps the arrows honest.
package harness
