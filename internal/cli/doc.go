// Package cli is the straddle command: it parses flags per subcommand, builds the
// engine provider, runs the requested work through the harness packages and maps the
// outcome to an exit code (0 compatible, 1 incompatible, 2 bad usage or input,
// 3 environment failure).
//
// Inputs: arguments, environment, stdin-free. Outputs: text on stdout/stderr and the
// exit code. It is the only package that prints; it holds no package-level flag
// variables, so tests call Run directly.
package cli
