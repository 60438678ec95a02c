package scenarios

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/straddle-dev/straddle/harness/report"
)

// Command is one scenario command: data plus a function. Run validates args (and
// the files they name) before it touches the database, and returns right after
// validating when the script is being linted (Script.dry). It returns nil, a
// bad-input error (badf, inputf: exit 2), a failed assertion (failf: exit 1), a
// skip, or any other error for an environment failure (exit 3).
type Command struct {
	Name string
	// Usage is the command line, e.g. "step PHASE FILE|DIR [NAME]".
	Usage string
	// Summary says what it does, in one or more sentences.
	Summary string
	// Negate is set when the command takes the "!" prefix (assertions).
	Negate bool
	Run    func(s *Script, neg bool, args []string) error
}

// Commands returns the scenario commands, sorted by name. A new command is one
// more entry here: Params, Lint, WriteHelp and WriteMarkdown all read this table.
func Commands() []Command {
	cmds := []Command{
		{Name: "baseline", Usage: "baseline FILE|DIR...",
			Summary: "Apply the old release's schema with no traffic: every file (a directory: its *.sql files in name order) is a baseline step. Only before the first other step.",
			Run:     cmdBaseline},
		{Name: "breaks", Usage: "breaks old BOUNDARY|never",
			Summary: "Assert the first boundary where the old release fails with an error or a wrong result, whatever the policy (its point of no return), or that it never does.",
			Negate:  true, Run: cmdBreaks},
		{Name: "cell", Usage: "cell [-when during|after] [-session long-lived|new] BOUNDARY RELEASE pass|fail|violation|info|skip [CLASS [QUERY]]",
			Summary: "Assert one cell of the report: what RELEASE did at BOUNDARY. fail is any failure, violation a failure the policy requires not to happen, info a failure that is not a violation (informational, transient, or still failing since an earlier step). CLASS (an error class such as undefined-column, or result, result-columns, result-type, result-value, or stall) and QUERY narrow it to one failure. -when looks at one window only (during covers the traffic while the step runs and the probes after each statement of a step that commits them one by one; after is the probe of the state after the step). -session looks only at what the state probes met on the release's long-lived session (statements prepared in earlier states) or on a new connection. Assertions judge the rollout so far: the new release is required only after the last expand step, so assert after the steps.",
			Negate:  true, Run: cmdCell},
		{Name: "cells", Usage: "cells [-when during|after]",
			Summary: "Print every cell of the rollout so far, one line per boundary and release: migration outcome, status, and the failing QUERY:CLASS pairs. Engine-neutral and free of timings, for cmp against a file in the archive.",
			Run:     cmdCells},
		{Name: "check", Usage: "check",
			Summary: "Run both releases once more at the current boundary (after loading fixtures, say).",
			Run:     cmdCheck},
		{Name: "engine", Usage: "engine SPEC...",
			Summary: "Run the script only on these engines (postgres, mariadb:10.11, …); on any other it is skipped. Prefer [cap:NAME] conditions: they say why.",
			Run:     cmdEngine},
		{Name: "load", Usage: "load FILE...",
			Summary: "Execute fixture SQL now, outside any step and without traffic. A statement that fails makes the script malformed.",
			Run:     cmdLoad},
		{Name: "migration", Usage: "migration BOUNDARY ok|failed|not-run [CLASS]",
			Summary: "Assert the outcome of the step that made BOUNDARY, and the error class it failed with.",
			Negate:  true, Run: cmdMigration},
		{Name: "migrations", Usage: "migrations [-format F] [-baseline VERSION] DIR",
			Summary: "Apply a whole migrations directory (golang-migrate, goose, dbmate, Flyway or plain; phases from headers, phase subdirectories or -baseline), one step per migration, as `straddle check` would.",
			Run:     cmdMigrations},
		{Name: "policy", Usage: "policy SELECTOR RELEASE required|informational|skip [during|after]",
			Summary: "Override the default policy for RELEASE at the boundaries SELECTOR names (*, a phase, or PHASE/STEP), in both windows or one. The report lists each override as a note; its JSON marks the cells it touches (overridden).",
			Run:     cmdPolicy},
		{Name: "report", Usage: "report [-timings] [text|json|junit|markdown]",
			Summary: "Print the report of the rollout so far to stdout, without timings (unless -timings) or server version, so stdout and cmp can check it.",
			Run:     cmdReport},
		{Name: "sql", Usage: "sql QUERY",
			Summary: "Run QUERY on the scenario's database and print its rows to stdout, columns separated by |, NULL as NULL. With !, the query must fail; its error class and message go to stderr.",
			Negate:  true, Run: cmdSQL},
		{Name: "step", Usage: "step PHASE FILE|DIR [NAME]",
			Summary: "Apply FILE (a directory: its *.sql files in name order) as one step of PHASE (expand, migrate or contract) while both releases run, then run them again after it. The boundary is PHASE/NAME; NAME defaults to the file name without .sql.",
			Run:     cmdStep},
		{Name: "verdict", Usage: "verdict compatible|incompatible|error",
			Summary: "Assert the verdict of the rollout so far.",
			Negate:  true, Run: cmdVerdict},
		{Name: "workload", Usage: "workload [-fresh] [-binding prepared|interpolated|prepare-each] old|new FILE|DIR",
			Summary: "Declare a release's queries (a query file, a directory of them, or git:REV:PATH); they run from the next step on. -fresh runs each pass on a new connection instead of a long-lived pool; -binding says how the driver sends arguments (default prepared: kept per connection; interpolated: into the text on the client; prepare-each).",
			Run:     cmdWorkload},
	}
	cmds = append(cmds, loadCommands()...) // cmd_load.go
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds
}

// cmds adapts the table to testscript.
func cmds() map[string]func(*testscript.TestScript, bool, []string) {
	m := map[string]func(*testscript.TestScript, bool, []string){}
	for _, c := range Commands() {
		m[c.Name] = func(ts *testscript.TestScript, neg bool, args []string) {
			s := ts.Value(scriptKey{}).(*Script)
			s.ts = ts
			if s.name == "" {
				s.name = ts.Name()
			}
			s.handle(&c, run(&c, s, neg, args))
		}
	}
	return m
}

// run runs c after the checks every command shares.
func run(c *Command, s *Script, neg bool, args []string) error {
	if neg && !c.Negate {
		return badf("%s does not take !", c.Name)
	}
	return c.Run(s, neg, args)
}

// parseFlags parses a command's flags; flags come before the arguments.
func parseFlags(name string, args []string, define func(fs *flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	define(fs)
	if err := fs.Parse(args); err != nil {
		return nil, badf("%v", err)
	}
	return fs.Args(), nil
}

// nargs checks the number of arguments.
func nargs(args []string, min, max int) error {
	switch {
	case len(args) < min:
		return badf("want at least %d arguments, got %d", min, len(args))
	case max >= 0 && len(args) > max:
		return badf("want at most %d arguments, got %d: %s", max, len(args), strings.Join(args, " "))
	}
	return nil
}

// oneOf checks that v is one of the words.
func oneOf(what, v string, words ...string) error {
	for _, w := range words {
		if v == w {
			return nil
		}
	}
	return badf("%s %q: want %s", what, v, orList(words))
}

func orList(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// builtins are testscript's own commands, with whether they take "!".
var builtins = map[string]bool{
	"cd": false, "chmod": false, "cmp": true, "cmpenv": true, "cp": false, "env": false,
	"exec": true, "exists": true, "grep": true, "kill": false, "mkdir": false, "mv": false,
	"rm": false, "skip": false, "stderr": true, "stdin": false, "stdout": true,
	"ttyin": false, "ttyout": true, "stop": false, "symlink": false, "unix2dos": false,
	"unquote": false, "wait": false,
}

// WriteHelp writes the scenario language reference for `straddle help scenario`.
func WriteHelp(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`A scenario is a testscript file (.txtar): command lines, then the files they use
(migration steps, query files, fixtures) as "-- name --" sections. straddle run
runs each scenario once per engine ($STRADDLE_ENGINE), on a scratch database.

Scenario commands:

`)
	for _, c := range Commands() {
		neg := ""
		if c.Negate {
			neg = "[!] "
		}
		fmt.Fprintf(&b, "  %s%s\n", neg, c.Usage)
		for _, l := range report.Wrap(c.Summary, 76) {
			fmt.Fprintf(&b, "      %s\n", l)
		}
		b.WriteByte('\n')
	}
	b.WriteString("Conditions:\n\n")
	for _, c := range capabilities() {
		fmt.Fprintf(&b, "  [cap:%s]\n", c.name)
		for _, l := range report.Wrap(c.doc, 76) {
			fmt.Fprintf(&b, "      %s\n", l)
		}
	}
	b.WriteString(`
Files: a FILE argument picks the most specific variant that exists for the engine:
rename.mariadb.sql, then rename.mysql.sql, then rename.sql (postgres: rename.postgres.sql).

Also available: testscript's own commands (cmp, stdout, stderr, exists, env, cd,
skip, stop, …); see https://pkg.go.dev/github.com/rogpeppe/go-internal/testscript.
`)
	_, err := io.WriteString(w, b.String())
	return err
}
