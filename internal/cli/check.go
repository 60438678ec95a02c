package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	extcmd "github.com/straddle-dev/straddle/harness/command"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/report"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/session"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/harness/workload"
)

// familyPlaceholder in --migrations, --old and --new is replaced by each engine's
// family ("postgres" or "mysql"), for projects that keep SQL per family.
const familyPlaceholder = "{family}"

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
	traffic             loadFlags    // load_flags.go
	cert                certifyFlags // certify.go
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
	f.traffic.register(fs)
	f.cert.register(fs)
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

// familyInputs are the parsed inputs for the engines of one family.
type familyInputs struct {
	set     *migration.Set
	queries map[plan.Release]*workload.Workload // nil for a release run by a command
}

// runCheck is `straddle check`: it parses the project's migrations and both
// releases' workloads once per family, before starting any server; runs the
// rollout on each engine in turn through session.Run, the runner scenarios use;
// and renders one report. Exit: 0 compatible, 1 incompatible (ErrIncompatible),
// 2 bad input (including a statement the server cannot parse, at its file:line),
// 3 an environment failure (the report is still written).
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
	p, specs, err := f.engines.build()
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("%w: no engine to run: give --engine SPEC", ErrUsage)
	}

	// Parse every input before starting anything: bad input costs no server.
	inputs := map[engine.Family]*familyInputs{}
	loaded := map[string]*workload.Workload{}
	for _, sp := range specs {
		fam := sp.Family()
		if inputs[fam] != nil {
			continue
		}
		in, err := f.load(ctx, fam, loaded)
		if err != nil {
			return err
		}
		inputs[fam] = in
	}
	if err := checkOut(f.out); err != nil {
		return err
	}

	fleet := engine.NewFleet(p)
	defer fleet.Stop(context.WithoutCancel(ctx))
	runs, err := f.runEngines(ctx, e, fleet, specs, inputs) // check_engines.go
	if err != nil {
		return err
	}

	res := verdict.Decide(runs)
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
		fmt.Fprintf(e.stdout, "straddle: %s (%s); %s report written to %s\n", res.Verdict, countViolations(res), f.format, f.out)
	}
	switch {
	case len(res.WorkloadErrors) > 0 && !res.EnvFailure() && !f.allowWorkloadErrors:
		we := res.WorkloadErrors[0]
		more := ""
		if n := len(res.WorkloadErrors) - 1; n > 0 {
			more = fmt.Sprintf(" (and %d more, listed in the report)", n)
		}
		return fmt.Errorf("%w: the %s release fails on its own baseline on %s: %s %s %s%s; fix the query or give its arguments with -- args: (--allow-workload-errors judges the rest anyway)",
			plan.ErrBadInput, we.Release, we.Engine, we.Query, we.Code, oneLineMsg(we.Message), more)
	case res.EnvFailure():
		for _, r := range res.Runs {
			if r.Error != "" {
				return fmt.Errorf("%s: environment failure, nothing certified: %s", r.Engine, r.Error)
			}
		}
	case res.Verdict == verdict.Incompatible:
		return fmt.Errorf("%w: %s", ErrIncompatible, countViolations(res))
	}
	return nil
}

// load parses the migrations and query files for one family.
func (f *checkFlags) load(ctx context.Context, fam engine.Family, loaded map[string]*workload.Workload) (*familyInputs, error) {
	opts := migration.Options{Baseline: f.baseline, Family: fam}
	if f.migFormat != "" {
		opts.Format = migration.Format(f.migFormat)
	}
	set, err := migration.Load(forFamily(f.migrations, fam), opts)
	if err != nil {
		return nil, err
	}
	in := &familyInputs{set: set, queries: map[plan.Release]*workload.Workload{}}
	for _, r := range []struct {
		rel plan.Release
		src string
	}{{plan.Old, f.old}, {plan.New, f.new}} {
		if r.src == "" {
			continue
		}
		src := forFamily(r.src, fam)
		key := string(r.rel) + "\x00" + src
		if w, ok := loaded[key]; ok {
			in.queries[r.rel] = w
			continue
		}
		qs, err := workload.Load(ctx, src, "")
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("--%s: %w", r.rel, err)
		}
		w := &workload.Workload{Release: r.rel, Source: src, Queries: qs}
		loaded[key] = w
		in.queries[r.rel] = w
	}
	return in, nil
}

func forFamily(path string, fam engine.Family) string {
	return strings.ReplaceAll(path, familyPlaceholder, string(fam))
}

func (f *checkFlags) scenario(fam engine.Family) string {
	if f.name != "" {
		return f.name
	}
	return filepath.ToSlash(filepath.Clean(forFamily(f.migrations, fam)))
}

// run is one rollout of the project on one engine, through the runner every
// scenario uses.
func (f *checkFlags) run(ctx context.Context, fleet *engine.Fleet, sp engine.Spec, in *familyInputs) (verdict.RunInput, error) {
	var sess *session.Session
	steps := make([]runner.Step, len(in.set.Steps))
	for i, m := range in.set.Steps {
		steps[i] = session.RunnerStep(m)
		if f.migrateCmd != "" {
			cs := extcmd.Step{Version: m.Version, Name: m.Name, Phase: m.Phase, File: m.File}
			steps[i].Apply = func(ctx context.Context) error {
				return extcmd.Apply(extcmd.Command{Line: f.migrateCmd}, cs, sess.Database())(ctx)
			}
		}
	}
	cmds := map[plan.Release]string{plan.Old: f.oldCmd, plan.New: f.newCmd}
	setup := func(ctx context.Context, s *session.Session) error {
		sess = s
		for _, rel := range []plan.Release{plan.Old, plan.New} {
			if w := in.queries[rel]; w != nil {
				w.FreshConnections = f.traffic.freshFor(rel)
				w.Binding = f.traffic.bindingFor(rel)
				if err := s.SetWorkload(ctx, w); err != nil {
					return err
				}
				continue
			}
			s.SetRelease(rel, &extcmd.Workload{
				Name: extcmd.Name(cmds[rel]), Release: rel,
				Command: extcmd.Command{Line: cmds[rel]}, DB: s.Database(),
			})
		}
		return nil
	}
	cfg := session.Config{
		Scenario: f.scenario(sp.Family()), Spec: sp, Fleet: fleet,
		Passes: f.passes, NoDuring: f.noDuring,
		Load: f.traffic.session(), MaxStall: f.traffic.stall(), Policy: f.traffic.policy(),
	}
	run, err := session.Run(ctx, cfg, steps, setup)
	if err != nil {
		return run, err
	}
	// The session lists the boundaries it reached; after a failed step the report
	// shows the rest of the plan too, as not run.
	if full, err := plan.NewRollout(in.set.Refs()); err == nil && run.EnvError == "" && len(full) > len(run.Rollout) {
		run.Rollout = full
	}
	if sess != nil {
		run.Notes = append(run.Notes, generatedNotes(sess.Generated(), in)...)
	}
	if f.migrateCmd != "" {
		run.Notes = append(run.Notes, "migration steps were applied by --migrate-cmd, not by straddle: "+f.migrateCmd)
	}
	return run, nil
}

// generatedNotes says which queries ran with arguments straddle made up. The
// session lists the old release's generated queries before the new one's; a name
// both releases define belongs to old the first time it is seen.
func generatedNotes(gen []workload.Generated, in *familyInputs) []string {
	needs := func(rel plan.Release, name string) bool {
		w := in.queries[rel]
		if w == nil {
			return false
		}
		for _, q := range w.Queries {
			if q.Name == name {
				return q.Args == nil && q.Params > 0
			}
		}
		return false
	}
	seen := map[string]bool{}
	var notes []string
	for _, g := range gen {
		rel := plan.New
		if !seen[g.Query] && needs(plan.Old, g.Query) {
			rel = plan.Old
		}
		seen[g.Query] = true
		var args []string
		for i, a := range g.Args {
			t := ""
			if i < len(g.Types) && g.Types[i] != "" {
				t = g.Types[i] + " "
			}
			args = append(args, fmt.Sprintf("$%d %s= %s", i+1, t, a))
		}
		notes = append(notes, fmt.Sprintf("%s %s has no -- args: line; arguments generated from %s: %s", rel, g.Query, g.From, strings.Join(args, ", ")))
	}
	return notes
}

// syntaxError turns a statement the server could not parse into bad input at the
// file and line it came from: a migration or query that is not valid SQL is a
// mistake in the project, not a finding about compatibility.
func syntaxError(run verdict.RunInput, in *familyInputs) error {
	syntax := string(engine.ClassSyntax)
	for _, m := range run.Snapshot.Migrations {
		if m.Outcome != observe.Error || m.Class != syntax {
			continue
		}
		file, line := statementAt(in.set, m)
		return plan.Errorf(file, line, "%s rejects this migration statement as invalid SQL (%s): %s", run.Engine, m.Code, m.Message)
	}
	for _, c := range run.Snapshot.Cells {
		for _, fl := range c.Failures {
			if fl.Outcome != observe.Error || fl.Class != syntax {
				continue
			}
			file, line := c.Key.Query, 0
			if w := in.queries[c.Key.Release]; w != nil {
				for _, q := range w.Queries {
					if q.Name == c.Key.Query {
						file, line = q.File, q.Line
					}
				}
			}
			return plan.Errorf(file, line, "%s rejects %s query %s as invalid SQL (%s): %s", run.Engine, c.Key.Release, c.Key.Query, fl.Code, fl.Message)
		}
	}
	return nil
}

// statementAt finds the file and line of the statement a failed migration event
// is about: by step name and statement number, or for baseline steps (which share
// the baseline boundary) by the statement's text.
func statementAt(set *migration.Set, m observe.Migration) (string, int) {
	for _, st := range set.Steps {
		if st.Name == m.Boundary.Step && m.Statement >= 1 && m.Statement <= len(st.Statements) {
			s := st.Statements[m.Statement-1]
			return s.File, s.Line
		}
	}
	for _, st := range set.Steps {
		for _, s := range st.Statements {
			if s.SQL == m.SQL {
				return s.File, s.Line
			}
		}
	}
	return set.Dir, 0
}

func countViolations(r *verdict.Result) string {
	runs := "1 run"
	if len(r.Runs) != 1 {
		runs = fmt.Sprintf("%d runs", len(r.Runs))
	}
	switch n := len(r.Violations); n {
	case 0:
		return "no violations in " + runs
	case 1:
		return "1 violation in " + runs
	default:
		return fmt.Sprintf("%d violations in %s", n, runs)
	}
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

// oneLineMsg folds a server message onto one line.
func oneLineMsg(s string) string { return strings.Join(strings.Fields(s), " ") }
