package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/report"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/matrix"
	"github.com/straddle-dev/straddle/scenarios"
)

// runFlags are the flags of `straddle run`.
type runFlags struct {
	engines  engineFlags
	cells    cellFlags // --only, --skip, --shard: which cells of scripts × engines
	format   string
	out      string
	parallel int
	verbose  bool
	match    string
	reports  string
	timings  bool
	update   bool
}

// exitError is an error with its own message that maps to the exit code of the
// sentinel it wraps.
type exitError struct {
	msg  string
	kind error
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) Unwrap() error { return e.kind }

// errEnvironment marks environment failures (exit 3).
var errEnvironment = errors.New("environment failure")

func helpScenario(w io.Writer) error { return scenarios.WriteHelp(w) }

// runRun runs scenario scripts on every engine asked for: it lints them all
// first (a malformed script costs no server), expands scripts × engines into the
// cells of a matrix (filtered by --only and --skip, one shard of it with
// --shard), starts the engines those cells need once, runs the cells
// concurrently on a database each, prints progress, the report of each scenario
// and a summary with times, and exits 1 only when a scenario's own assertions
// fail. The combined report (--format, --out) carries the matrix section that
// straddle report merge joins shards by.
func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run")
	var f runFlags
	f.engines.register(fs)
	f.cells.register(fs)
	fs.StringVar(&f.format, "format", "text", "`FORMAT` of the combined report of every run: "+strings.Join(report.Formats, ", ")+"; other than text, it goes to stdout (or --out) and progress to stderr")
	fs.StringVar(&f.out, "out", "", "also write the combined report of every run to `FILE`")
	fs.IntVar(&f.parallel, "parallel", runtime.NumCPU(), "run up to `N` scenarios at once")
	fs.BoolVar(&f.verbose, "v", false, "print the full log of every scenario")
	fs.StringVar(&f.match, "run", "", "run only the scenarios whose name matches `REGEXP`")
	fs.StringVar(&f.reports, "reports", "all", "which scenario reports to print: all, failed or none")
	fs.BoolVar(&f.timings, "timings", false, "show migration durations and latencies in the reports")
	fs.BoolVar(&f.update, "update", false, "rewrite the archived files that failing cmp commands compare stdout with (review the diff)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if err := oneOfFlag("--reports", f.reports, "all", "failed", "none"); err != nil {
		return err
	}
	if err := oneOfFlag("--format", f.format, report.Formats...); err != nil {
		return err
	}
	if err := checkOut(f.out); err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := scenarios.Find(paths)
	if err != nil {
		return err
	}
	if f.match != "" {
		re, err := regexp.Compile(f.match)
		if err != nil {
			return fmt.Errorf("%w: --run: %v", ErrUsage, err)
		}
		var keep []string
		for _, file := range files {
			if re.MatchString(scenarios.ScriptName(file)) {
				keep = append(keep, file)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("%w: --run %q matches none of the %d scenarios", ErrUsage, f.match, len(files))
		}
		files = keep
	}

	// Lint every script before starting anything.
	var bad int
	for _, file := range files {
		errs := scenarios.Lint(file)
		for _, err := range errs {
			fmt.Fprintln(e.stderr, err)
		}
		if len(errs) > 0 {
			bad++
		}
	}
	if bad > 0 {
		return &exitError{fmt.Sprintf("%s malformed: fix the lines above (straddle help scenario lists the commands)", plural(bad, "scenario is", "scenarios are")), plan.ErrBadInput}
	}

	f.engines.stderr = e.stderr
	p, specs, err := f.engines.build()
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("%w: no engine to run: give --engine SPEC", ErrUsage)
	}
	m, err := scenarioMatrix(files, specs, f.cells)
	if err != nil {
		return err
	}
	shard, cells, err := f.cells.pick(m)
	if err != nil {
		return err
	}
	part, err := m.Part(shard, cells)
	if err != nil {
		return err
	}

	// Human output goes to stdout unless a machine report takes it.
	human := e.stdout
	machine := f.format != "text" && f.out == ""
	if machine {
		human = e.stderr
	}
	where := ""
	if f.cells.shard != "" {
		where = fmt.Sprintf(" (shard %s: %d of the matrix's %d cells)", shard, len(cells), len(m.Cells))
	}
	if len(cells) == 0 {
		// More shards than cells: this one has nothing to run, and says so in its
		// report, which report merge still needs.
		fmt.Fprintf(human, "nothing to run%s\n", where)
		return combined(e, f, nil, part)
	}

	start := time.Now()
	fleet := engine.NewFleet(p)
	defer fleet.Stop(context.WithoutCancel(ctx))
	ready, names, engErrs := startEngines(ctx, fleet, m.EnginesOf(cells), human)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(ready) == 0 {
		return &exitError{fmt.Sprintf("no engine could start (%s)", plural(len(engErrs), "error above", "errors above")), errEnvironment}
	}
	enginesTook := time.Since(start)
	isReady := map[string]bool{}
	for _, sp := range ready {
		isReady[sp.String()] = true
	}
	// The cells to run: those on an engine that started. The others stay in the
	// report's matrix section as environment failures.
	var run []matrix.Cell
	var inputs []*matrix.Input
	for _, c := range cells {
		if !isReady[c.Engine.String()] {
			continue
		}
		if len(inputs) == 0 || inputs[len(inputs)-1] != c.Input {
			inputs = append(inputs, c.Input)
		}
		run = append(run, c)
	}
	fmt.Fprintf(human, "running %s on %s%s\n\n", plural(len(inputs), "scenario", "scenarios"), plural(len(ready), "engine", "engines"), where)

	nameW, engW := 0, 0
	for _, in := range inputs {
		nameW = max(nameW, len(in.Name))
	}
	for _, n := range names {
		engW = max(engW, len(n))
	}
	var progress sync.Mutex
	ranList := scenarios.Run(ctx, scenarios.RunConfig{
		Cells: run, Fleet: fleet, Parallel: f.parallel, Verbose: f.verbose, UpdateScripts: f.update,
		Progress: func(r scenarios.Ran) {
			progress.Lock()
			defer progress.Unlock()
			fmt.Fprintf(human, "%-4s  %-*s  %-*s  %s%s\n", statusWord(r.Status), nameW, r.Name, engW, names[r.Engine.String()+"|"+r.Engine.Image], seconds(r.Elapsed), reasonNote(r))
			if r.Status != scenarios.Passed && r.Status != scenarios.Skipped || f.verbose {
				printDetails(human, r, f.verbose)
			}
		},
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	ran := map[string]scenarios.Ran{} // by cell id
	for _, r := range ranList {
		ran[r.Cell] = r
	}

	// The report of each scenario: what it observed on every engine.
	var all []verdict.RunInput
	for _, in := range inputs {
		var runs []verdict.RunInput
		failed := false
		for _, sp := range ready {
			r, ok := ran[matrix.CellID(in, sp)]
			if !ok {
				continue // not a cell of this shard, or filtered out
			}
			// A malformed script or a broken environment proves nothing: no report.
			if proves(r) {
				runs = append(runs, *r.Run)
			}
			failed = failed || r.Status == scenarios.Failed
		}
		all = append(all, runs...)
		if len(runs) == 0 || f.reports == "none" || (f.reports == "failed" && !failed) {
			continue
		}
		fmt.Fprintf(human, "\n=== %s (%s): what it observed\n", in.Name, in.File)
		opts := report.Options{Timings: f.timings, Color: isTerminal(human)}
		if err := report.Text(human, verdict.Decide(runs), opts); err != nil {
			return err
		}
	}
	for i, c := range part.Cells {
		r, ok := ran[c.ID]
		if !ok {
			part.Cells[i].Status = string(scenarios.EnvFailed) // its engine did not start
			continue
		}
		part.Cells[i].Status = string(r.Status)
		if proves(r) {
			part.Cells[i].Runs = 1
		}
	}
	if err := combined(e, f, all, part); err != nil {
		return err
	}

	counts := summary(human, inputs, ready, names, ran)
	total := time.Since(start)
	word := "ok"
	if counts[scenarios.Failed]+counts[scenarios.Malformed]+counts[scenarios.EnvFailed] > 0 || len(engErrs) > 0 {
		word = "FAIL"
	}
	var parts []string
	for _, st := range []scenarios.Status{scenarios.Passed, scenarios.Failed, scenarios.Skipped, scenarios.Malformed, scenarios.EnvFailed} {
		if n := counts[st]; n > 0 || st == scenarios.Passed {
			parts = append(parts, fmt.Sprintf("%d %s", n, statusNoun(st)))
		}
	}
	fmt.Fprintf(human, "\n%-4s  %s × %s (%s)%s: %s; wall time %s, engines ready in %s\n", word,
		plural(len(inputs), "scenario", "scenarios"), plural(len(ready), "engine", "engines"),
		plural(len(ranList), "run", "runs"), where, strings.Join(parts, ", "), seconds(total), seconds(enginesTook))

	switch {
	case counts[scenarios.Malformed] > 0:
		return &exitError{fmt.Sprintf("%s malformed (see above)", plural(counts[scenarios.Malformed], "scenario run is", "scenario runs are")), plan.ErrBadInput}
	case counts[scenarios.EnvFailed] > 0 || len(engErrs) > 0:
		return &exitError{"environment failure: " + strings.Join(envMessages(ranList, engErrs), "; "), errEnvironment}
	case counts[scenarios.Failed] > 0:
		return &exitError{fmt.Sprintf("%s failed", plural(counts[scenarios.Failed], "scenario run", "scenario runs")), ErrIncompatible}
	}
	return nil
}

// scenarioMatrix expands scripts × engines into a matrix, filtered by --only and
// --skip: the cells straddle run shards and runs.
func scenarioMatrix(files []string, specs []engine.Spec, f cellFlags) (*matrix.Matrix, error) {
	inputs, err := matrix.ScenarioInputs(files)
	if err != nil {
		return nil, err
	}
	return matrix.New(matrix.Config{Engines: specs, Inputs: inputs, Only: f.only, Skip: f.skip})
}

// proves reports whether r drove a rollout that counts: a malformed script or a
// broken environment proves nothing.
func proves(r scenarios.Ran) bool {
	return r.Run != nil && (r.Status == scenarios.Passed || r.Status == scenarios.Failed)
}

func oneOfFlag(flagName, v string, words ...string) error {
	for _, w := range words {
		if v == w {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %q: want one of %s", ErrUsage, flagName, v, strings.Join(words, ", "))
}

// startEngines starts every engine at once and reports each. It returns the specs
// that started, the name of each (by spec and image) as reports show it, and the
// start errors.
func startEngines(ctx context.Context, fleet *engine.Fleet, specs []engine.Spec, w io.Writer) ([]engine.Spec, map[string]string, []error) {
	type started struct {
		srv  engine.Server
		err  error
		took time.Duration
	}
	res := make([]started, len(specs))
	var wg sync.WaitGroup
	for i, sp := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			srv, err := fleet.Server(ctx, sp)
			res[i] = started{srv, err, time.Since(t0)}
		}()
	}
	wg.Wait()
	var ready []engine.Spec
	var errs []error
	names := map[string]string{}
	for i, sp := range specs {
		r := res[i]
		if r.err != nil {
			fmt.Fprintf(w, "ERR   engine %s: %v\n", sp, r.err)
			errs = append(errs, fmt.Errorf("%s: %w", sp, r.err))
			continue
		}
		name := r.srv.Spec().String()
		names[sp.String()+"|"+sp.Image] = name
		fmt.Fprintf(w, "engine %s: server %s (%s provider), ready in %s\n", name, r.srv.Version(), fleet.Provider().Name(), seconds(r.took))
		ready = append(ready, sp)
	}
	return ready, names, errs
}

func statusWord(s scenarios.Status) string {
	switch s {
	case scenarios.Passed:
		return "PASS"
	case scenarios.Failed:
		return "FAIL"
	case scenarios.Skipped:
		return "SKIP"
	case scenarios.Malformed:
		return "BAD"
	}
	return "ERR"
}

func statusNoun(s scenarios.Status) string {
	switch s {
	case scenarios.Passed:
		return "passed"
	case scenarios.Failed:
		return "failed"
	case scenarios.Skipped:
		return "skipped"
	case scenarios.Malformed:
		return "malformed"
	}
	return "environment failures"
}

func reasonNote(r scenarios.Ran) string {
	if r.Status == scenarios.Skipped && r.Reason != "" {
		return "  (" + r.Reason + ")"
	}
	return ""
}

// printDetails shows why a run did not pass: its failure lines, or its whole
// log when verbose.
func printDetails(w io.Writer, r scenarios.Ran, verbose bool) {
	if verbose || len(r.Errors) == 0 {
		for _, l := range strings.Split(strings.TrimRight(r.Log, "\n"), "\n") {
			fmt.Fprintf(w, "      %s\n", l)
		}
		if verbose {
			return
		}
	}
	if r.Status == scenarios.Failed && !verbose {
		// The failed phase of the log: the commands up to the failure, their output.
		for _, l := range strings.Split(strings.TrimRight(r.Log, "\n"), "\n") {
			if strings.HasPrefix(l, "FAIL: ") {
				break
			}
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "      %s\n", strings.ReplaceAll(e, "\n", "\n      "))
	}
}

// combined writes the report of every run, as --format and --out ask, with the
// matrix section of the cells it covers.
func combined(e *env, f runFlags, all []verdict.RunInput, part *verdict.MatrixPart) error {
	if f.out == "" && f.format == "text" {
		return nil
	}
	res := verdict.Decide(all)
	res.Matrix = part
	var buf bytes.Buffer
	if err := report.Render(&buf, f.format, res, report.Options{Timings: f.timings}); err != nil {
		return err
	}
	if f.out == "" {
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// summary prints a table of every scenario's status and wall time per engine
// (- for a cell another shard runs, or that --only/--skip left out) and returns
// the count of each status.
func summary(w io.Writer, inputs []*matrix.Input, ready []engine.Spec, names map[string]string, ran map[string]scenarios.Ran) map[scenarios.Status]int {
	counts := map[scenarios.Status]int{}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := []string{"scenario"}
	for _, sp := range ready {
		head = append(head, names[sp.String()+"|"+sp.Image])
	}
	head = append(head, "total")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, in := range inputs {
		row := []string{in.Name}
		var wall time.Duration
		for _, sp := range ready {
			r, ok := ran[matrix.CellID(in, sp)]
			if !ok {
				row = append(row, "-")
				continue
			}
			counts[r.Status]++
			wall += r.Elapsed
			row = append(row, statusWord(r.Status)+" "+seconds(r.Elapsed))
		}
		row = append(row, seconds(wall))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	return counts
}

func envMessages(ran []scenarios.Ran, engErrs []error) []string {
	var out []string
	for _, err := range engErrs {
		out = append(out, err.Error())
	}
	for _, r := range ran {
		if r.Status == scenarios.EnvFailed && len(r.Errors) > 0 {
			out = append(out, r.Name+" on "+r.Engine.String()+": "+strings.SplitN(r.Errors[0], "\n", 2)[0])
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return out
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
