package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Exit codes (shared/DESIGN.md).
const (
	ExitCompatible   = 0
	ExitIncompatible = 1
	ExitUsage        = 2
	ExitEnvironment  = 3
)

// ErrIncompatible is returned when a check or run found violations (exit 1). It
// is the library's harness.ErrIncompatible.
var ErrIncompatible = harness.ErrIncompatible

// ErrUsage wraps bad command-line usage (exit 2).
var ErrUsage = fmt.Errorf("usage: %w", plan.ErrBadInput)

// Main runs the command with the process's arguments and returns its exit code.
// SIGINT and SIGTERM cancel the run's context: what was started is cleaned up before
// Main returns.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	code := ExitCode(err)
	if err != nil && !errors.Is(err, ErrIncompatible) && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "straddle:", err)
	}
	if ctx.Err() != nil && code == ExitCompatible && !released.Load() {
		code = ExitEnvironment
	}
	return code
}

// ExitCode maps an error from Run to the exit code of shared/DESIGN.md.
func ExitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitCompatible
	case errors.Is(err, ErrIncompatible):
		return ExitIncompatible
	case errors.Is(err, plan.ErrBadInput):
		return ExitUsage
	}
	return ExitEnvironment
}

// command is one subcommand: data plus a function, in one sorted table.
type command struct {
	Name    string
	Usage   string
	Summary string
	Run     func(ctx context.Context, e *env, args []string) error
}

// env is what a subcommand writes to.
type env struct {
	stdout, stderr io.Writer
}

func commands() []command {
	cmds := []command{
		{"certify", "straddle certify verify CERT.json [--migrations DIR] [--old SRC] [--new SRC] [--key KEY.pub]", "check that a certificate's files are unchanged and its signature holds", runCertify},
		{"check", "straddle check --migrations DIR --old SRC --new SRC [flags]", "certify a project's migrations against its old and new release", runCheck},
		{"engines", "straddle engines [--provider P] [--engine SPEC]... [--versions] | straddle engines prune [--all]", "show which engines can run here; remove leftovers of crashed runs", runEngines},
		{"help", "straddle help [COMMAND | scenario]", "show help for a command or for the scenario language", nil},
		{"matrix", "straddle matrix [--file FILE] [--engine SPEC]... [--only P] [--skip P] [--shard I/N | --github [--shards N]] [SCRIPT | DIR]... | straddle matrix run [flags] [SCRIPT | DIR]...", "list, shard and run a matrix of engines × inputs; print the GitHub Actions matrix", runMatrix},
		{"report", "straddle report merge [--format FORMAT] [--out FILE] SHARD.json...", "merge the JSON reports of a matrix's shards into one report and one exit code", runReport},
		{"repro", "straddle repro REPORT.json [--at BOUNDARY] [--engine SPEC] [--provider P]", "run a saved check's report again up to a boundary and hold that state to connect to (check --stop-at)", runRepro},
		{"run", "straddle run [--engine SPEC]... [--only P] [--skip P] [--shard I/N] [FILE.txtar | DIR]...", "run scenario scripts (scripts × engines: cells of a matrix)", runRun},
		{"version", "straddle version", "print straddle's version", runVersion},
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds
}

// Run runs the straddle command line args. Only Run's callers print errors.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("%w: no command given", ErrUsage)
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(stdout)
		return nil
	case "help":
		return runHelp(e, args[1:])
	}
	for _, c := range commands() {
		if c.Name == name && c.Run != nil {
			return c.Run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	var names []string
	for _, c := range commands() {
		names = append(names, c.Name)
	}
	return fmt.Errorf("%w: unknown command %q%s", ErrUsage, name, didYouMean(name, names, ""))
}

// didYouMean proposes the names spelled like name: " (did you mean check?)".
func didYouMean(name string, names []string, prefix string) string {
	near := input.Near(name, names, 2)
	if len(near) == 0 || len(near) > 3 {
		return ""
	}
	for i := range near {
		near[i] = prefix + near[i]
	}
	return " (did you mean " + strings.Join(near, " or ") + "?)"
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "straddle proves a database upgrade is safe to roll out with zero downtime.")
	fmt.Fprintln(w, "\nUsage:\n\n\tstraddle <command> [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "\t%-8s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 compatible, 1 incompatible, 2 bad usage or input, 3 environment failure.")
	fmt.Fprintln(w, "Use \"straddle help <command>\" for more about a command.")
}

func runHelp(e *env, args []string) error {
	if len(args) == 0 {
		usage(e.stdout)
		return nil
	}
	if args[0] == "scenario" {
		return helpScenario(e.stdout)
	}
	for _, c := range commands() {
		if c.Name == args[0] {
			if c.Run == nil {
				fmt.Fprintf(e.stdout, "usage: %s\n\n%s\n", c.Usage, c.Summary)
				return nil
			}
			return c.Run(context.Background(), e, []string{"-help"})
		}
	}
	return fmt.Errorf("%w: unknown help topic %q", ErrUsage, args[0])
}

// newFlags returns a FlagSet for a subcommand that reports errors as ErrUsage and
// prints its usage to stdout on -help.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("straddle "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c command
	for _, cc := range commands() {
		if cc.Name == name {
			c = cc
		}
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\n%s.\n\nFlags:\n", c.Usage, upperFirst(c.Summary))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into ErrUsage; -help prints usage to
// stdout and returns flag.ErrHelp (exit 0).
func parseFlags(e *env, fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return flag.ErrHelp
		}
		if a == "--" {
			break
		}
	}
	// The flag package prints its error and the usage itself; a mistyped flag
	// gets a suggestion at the end, where a reader looks.
	if err := fs.Parse(args); err != nil {
		hint := ""
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			hint = didYouMean(strings.TrimLeft(name, "-"), names, "--")
		}
		return fmt.Errorf("%w: %v%s", ErrUsage, err, hint)
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Version is set at build time with -ldflags "-X …/internal/cli.Version=v1.2.3";
// otherwise the module version from the build info is used.
var Version = ""

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	v, goVersion := version()
	fmt.Fprintf(e.stdout, "straddle %s %s\n", v, goVersion)
	return nil
}

// version is straddle's version and the Go version it was built with.
func version() (string, string) {
	v := Version
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 && (v == "" || v == "(devel)") {
				v = "devel-" + s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v, goVersion
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
