package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/report"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// checkFlags are the flags of `straddle check`.
type checkFlags struct {
	engines    engineFlags
	migrations string
	old, new   string
	oldCmd     string
	newCmd     string
	migrateCmd string
	migFormat  string
	baseline   string
	format     string
	out        string
	name       string
	passes     int
	noDuring   bool
	timings    bool
	jobs       int
	// allowWorkloadErrors judges the rest when some query fails on its own
	// release's baseline, instead of exiting 2.
	allowWorkloadErrors bool
	rules               string       // --rules: off, warn or error (verdict.RuleMode)
	quiet               bool         // --quiet: no progress lines on stderr
	traffic             loadFlags    // load_flags.go
	cert                certifyFlags // certify.go
	hold                holdFlags    // hold.go: --stop-at, --keep-on-failure, --dump-schema
}

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.migrations, "migrations", "", "the new release's migrations `DIR` (golang-migrate, goose, dbmate, Flyway or plain *.sql); {family} is replaced by postgres or mysql per engine")
	fs.StringVar(&f.old, "old", "", "the old release's queries `SRC`: a query file, a directory of them, or git:REV:PATH; {family} as for --migrations")
	fs.StringVar(&f.new, "new", "", "the new release's queries `SRC` (as for --old)")
	fs.StringVar(&f.oldCmd, "old-cmd", "", "run this shell `COMMAND` (the old release's tests or binary) at each boundary instead of --old; it gets DATABASE_URL, PG*/MYSQL_* variables, and passes when it exits 0")
	fs.StringVar(&f.newCmd, "new-cmd", "", "run this shell `COMMAND` as the new release's workload instead of --new")
	fs.StringVar(&f.migrateCmd, "migrate-cmd", "", "apply each migration step with this shell `COMMAND` instead of straddle, e.g. 'migrate -path db -database \"$DATABASE_URL\" goto {version}'; placeholders {version} {name} {phase} {file}")
	fs.StringVar(&f.migFormat, "format-migrations", "", "force the migrations' `FORMAT`: "+formatNames()+" (default: detected)")
	fs.StringVar(&f.baseline, "baseline", "", "migrations up to and including `VERSION` are the baseline the old release runs on; untagged later ones are expand")
	fs.StringVar(&f.format, "format", "text", "report `FORMAT`: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&f.out, "out", "", "write the report to `FILE` instead of stdout (stdout then gets a one-line summary)")
	fs.StringVar(&f.name, "name", "", "`NAME` of the check in reports (default: the --migrations path)")
	fs.IntVar(&f.passes, "passes", 1, "`N` runs of each release's workload after each step")
	fs.BoolVar(&f.noDuring, "no-during", false, "run the workloads only between steps, not while a step is applied")
	fs.BoolVar(&f.allowWorkloadErrors, "allow-workload-errors", false, "report queries that fail on their own release's baseline (a query or arguments problem) and judge the rest, instead of exiting 2")
	fs.StringVar(&f.rules, "rules", string(verdict.RulesWarn), "phase rules (drop or rename before contract, …) settled by the run: `MODE` off, warn (list them), or error (also fail, exit 1, when a hit is not exercised by any query and not excepted with -- straddle:allow RULE: REASON)")
	fs.BoolVar(&f.quiet, "quiet", false, "print no progress on stderr (on a terminal, check prints a line per engine and per step; elsewhere a line per engine)")
	f.traffic.register(fs)
	f.cert.register(fs)
	f.hold.register(fs)
	fs.IntVar(&f.jobs, "j", runtime.NumCPU(), "run up to `N` engines at once (the report keeps the order of --engine)")
	fs.BoolVar(&f.timings, "timings", true, "include measured durations in the report (-timings=false for output that can be compared from run to run)")
}

func formatNames() string {
	names := make([]string, len(migration.Formats))
	for i, f := range migration.Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// validate checks the flags that need no file system.
func (f *checkFlags) validate(args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("%w: unexpected argument %q (every input is a flag: --migrations DIR --old SRC --new SRC)", ErrUsage, args[0])
	case f.migrations == "":
		return fmt.Errorf("%w: --migrations DIR is required", ErrUsage)
	case f.old == "" && f.oldCmd == "":
		return fmt.Errorf("%w: the old release needs --old SRC (its queries) or --old-cmd COMMAND", ErrUsage)
	case f.new == "" && f.newCmd == "":
		return fmt.Errorf("%w: the new release needs --new SRC (its queries) or --new-cmd COMMAND", ErrUsage)
	case f.old != "" && f.oldCmd != "":
		return fmt.Errorf("%w: give the old release either --old or --old-cmd, not both", ErrUsage)
	case f.new != "" && f.newCmd != "":
		return fmt.Errorf("%w: give the new release either --new or --new-cmd, not both", ErrUsage)
	case f.passes < 1:
		return fmt.Errorf("%w: --passes %d: want 1 or more", ErrUsage, f.passes)
	case !slices.Contains(report.Formats, f.format):
		return fmt.Errorf("%w: --format %q: want one of %s", ErrUsage, f.format, strings.Join(report.Formats, ", "))
	}
	if _, err := verdict.ParseRuleMode(f.rules); err != nil {
		return fmt.Errorf("%w: --rules %q: want one of %s", ErrUsage, f.rules, strings.Join(verdict.RuleModes, ", "))
	}
	if f.migFormat != "" {
		if _, err := migration.ParseFormat(f.migFormat); err != nil {
			return fmt.Errorf("--format-migrations: %w", err)
		}
	}
	if err := f.cert.validate(); err != nil {
		return err
	}
	return f.traffic.validate()
}

// runCheck is `straddle check`: flags in, harness.Checker (which parses every
// input before starting any server and runs the rollout on each engine), report
// out. Exit: 0 compatible, 1 incompatible (ErrIncompatible), 2 bad input
// (including a statement the server cannot parse, at its file:line, and a query
// that fails on its own release's baseline), 3 an environment failure (the report
// is still written).
func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "check")
	var f checkFlags
	f.engines.register(fs)
	f.register(fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if err := f.validate(fs.Args()); err != nil {
		return err
	}
	f.engines.stderr = e.stderr
	p, specs, err := f.engines.build()
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("%w: no engine to run: give --engine SPEC", ErrUsage)
	}

	// Every input is parsed before anything starts: bad input costs no server.
	cfg := f.config(e, p, specs)
	runCtx, h, release := f.hold.start(ctx, e)
	defer release()
	if h != nil {
		cfg.AtBoundary = h.hook
	}
	chk, err := harness.NewChecker(ctx, cfg)
	if err != nil {
		var qe *harness.QueriesError
		if errors.As(err, &qe) {
			return fmt.Errorf("--%s: %w", qe.Release, qe.Err)
		}
		return err
	}
	if err := f.hold.checkStopAt(chk.Boundaries()); err != nil {
		return err
	}
	if err := checkOut(f.out); err != nil {
		return err
	}
	res, checkErr := chk.Check(runCtx)
	if res == nil {
		return checkErr
	}

	res.Check = &verdict.Invocation{Command: "check", Args: recordArgs(fs, args)} // repro.go
	if err := f.cert.write(ctx, &f, specs, res); err != nil {
		return err
	}
	opts := report.Options{Timings: f.timings, Latency: f.traffic.latency}
	if f.out == "" {
		opts.Color = f.format == "text" && isTerminal(e.stdout)
		if err := report.Render(e.stdout, f.format, res, opts); err != nil {
			return err
		}
	} else {
		var buf bytes.Buffer
		if err := report.Render(&buf, f.format, res, opts); err != nil {
			return err
		}
		if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
		fmt.Fprintf(e.stdout, "straddle: %s (%s); %s report written to %s\n", res.Verdict, res.ViolationSummary(), f.format, f.out)
	}
	var we *harness.WorkloadError
	if errors.As(checkErr, &we) {
		return fmt.Errorf("%w: %s (--allow-workload-errors judges the rest anyway)", plan.ErrBadInput, we.Problem())
	}
	if errors.Is(checkErr, ErrIncompatible) && res.Verdict != verdict.Incompatible {
		return rulesFailure(e, res) // check_rules.go: says which hit fails the run
	}
	return checkErr
}

// config is the check the flags ask for; progress lines go to e.stderr.
func (f *checkFlags) config(e *env, p engine.Provider, specs []engine.Spec) harness.CheckConfig {
	fresh, _ := f.traffic.freshReleases() // validate checked the flag
	cfg := harness.CheckConfig{
		Migrations: f.migrations, MigrationFormat: migration.Format(f.migFormat), Baseline: f.baseline,
		Old:        harness.Workload{Queries: f.old, Command: f.oldCmd},
		New:        harness.Workload{Queries: f.new, Command: f.newCmd},
		MigrateCmd: f.migrateCmd,
		Engines:    specs, Provider: p, Jobs: max(f.jobs, 1),
		Name: f.name, Passes: f.passes, NoDuring: f.noDuring,
		Load: f.traffic.session(), MaxStall: f.traffic.stall(), Policy: f.traffic.policy(),
		AllowWorkloadErrors: f.allowWorkloadErrors, Rules: verdict.RuleMode(f.rules),
		Progress: func(p harness.Progress) {
			switch {
			case f.quiet:
				return
			case p.Step != nil:
				// Per step only on a terminal: logs keep one line per engine.
				if isTerminal(e.stderr) {
					word := "done"
					if p.Step.Failed {
						word = "stopped the run"
					}
					fmt.Fprintf(e.stderr, "straddle: %s step %d/%d %s/%s %s in %s\n", p.Spec, p.Step.Index, p.Step.Steps, p.Step.Phase, p.Step.Name, word, p.Step.Took.Round(100*time.Millisecond))
				}
				return
			}
			if !p.Done {
				fmt.Fprintf(e.stderr, "straddle: checking %s on %s (%s provider)…\n", p.Scenario, p.Spec, p.Provider)
				return
			}
			fmt.Fprintf(e.stderr, "straddle: %s done in %s\n", p.Engine, p.Took.Round(100*time.Millisecond))
		},
	}
	for _, rel := range plan.Releases {
		if fresh[rel] {
			cfg.FreshConnections = append(cfg.FreshConnections, rel)
		}
		if b := f.traffic.bindingFor(rel); b != "" {
			if cfg.Bindings == nil {
				cfg.Bindings = map[plan.Release]engine.Binding{}
			}
			cfg.Bindings[rel] = b
		}
	}
	return cfg
}

// checkOut fails early, before any server starts, when the --out file could not
// be written because its directory does not exist.
func checkOut(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("%w: --out %s: directory %s does not exist", ErrUsage, path, dir)
	case !fi.IsDir():
		return fmt.Errorf("%w: --out %s: %s is not a directory", ErrUsage, path, dir)
	}
	return nil
}

// isTerminal reports whether w is a terminal that takes colors.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
