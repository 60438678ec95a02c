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
	"github.com/straddle-dev/straddle/scenarios"
)

// runFlags are the flags of `straddle run`.
type runFlags struct {
	engines  engineFlags
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
// first (a malformed script costs no server), starts each engine once, runs the
// scripts concurrently on a database each, prints progress, the report of each
// scenario and a summary with times, and exits 1 only when a scenario's own
// assertions fail.
func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run")
	var f runFlags
	f.engines.register(fs)
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

	p, specs, err := f.engines.build()
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("%w: no engine to run: give --engine SPEC", ErrUsage)
	}

	// Human output goes to stdout unless a machine report takes it.
	human := e.stdout
	machine := f.format != "text" && f.out == ""
	if machine {
		human = e.stderr
	}

	start := time.Now()
	fleet := engine.NewFleet(p)
	defer fleet.Stop(context.WithoutCancel(ctx))
	ready, names, engErrs := startEngines(ctx, fleet, specs, human)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(ready) == 0 {
		return &exitError{fmt.Sprintf("no engine could start (%s)", plural(len(engErrs), "error above", "errors above")), errEnvironment}
	}
	enginesTook := time.Since(start)
	fmt.Fprintf(human, "running %s on %s\n\n", plural(len(files), "scenario", "scenarios"), plural(len(ready), "engine", "engines"))

	nameW, engW := 0, 0
	for _, file := range files {
		nameW = max(nameW, len(scenarios.ScriptName(file)))
	}
	for _, n := range names {
		engW = max(engW, len(n))
	}
	var progress sync.Mutex
	ran := scenarios.Run(ctx, scenarios.RunConfig{
		Files: files, Engines: ready, Fleet: fleet, Parallel: f.parallel, Verbose: f.verbose, UpdateScripts: f.update,
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

	// The report of each scenario: what it observed on every engine.
	var all []verdict.RunInput
	for i, file := range files {
		var runs []verdict.RunInput
		failed := false
		for j := range ready {
			r := ran[i*len(ready)+j]
			// A malformed script or a broken environment proves nothing: no report.
			if r.Run != nil && (r.Status == scenarios.Passed || r.Status == scenarios.Failed) {
				runs = append(runs, *r.Run)
			}
			failed = failed || r.Status == scenarios.Failed
		}
		all = append(all, runs...)
		if len(runs) == 0 || f.reports == "none" || (f.reports == "failed" && !failed) {
			continue
		}
		fmt.Fprintf(human, "\n=== %s (%s): what it observed\n", scenarios.ScriptName(file), file)
		opts := report.Options{Timings: f.timings, Color: isTerminal(human)}
		if err := report.Text(human, verdict.Decide(runs), opts); err != nil {
			return err
		}
	}
	if err := combined(e, f, all); err != nil {
		return err
	}

	counts := summary(human, files, ready, names, ran)
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
	fmt.Fprintf(human, "\n%-4s  %s × %s (%s): %s; wall time %s, engines ready in %s\n", word,
		plural(len(files), "scenario", "scenarios"), plural(len(ready), "engine", "engines"),
		plural(len(ran), "run", "runs"), strings.Join(parts, ", "), seconds(total), seconds(enginesTook))

	switch {
	case counts[scenarios.Malformed] > 0:
		return &exitError{fmt.Sprintf("%s malformed (see above)", plural(counts[scenarios.Malformed], "scenario run is", "scenario runs are")), plan.ErrBadInput}
	case counts[scenarios.EnvFailed] > 0 || len(engErrs) > 0:
		return &exitError{"environment failure: " + strings.Join(envMessages(ran, engErrs), "; "), errEnvironment}
	case counts[scenarios.Failed] > 0:
		return &exitError{fmt.Sprintf("%s failed", plural(counts[scenarios.Failed], "scenario run", "scenario runs")), ErrIncompatible}
	}
	return nil
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

// combined writes the report of every run, as --format and --out ask.
func combined(e *env, f runFlags, all []verdict.RunInput) error {
	if f.out == "" && f.format == "text" {
		return nil
	}
	res := verdict.Decide(all)
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
// and returns the count of each status.
func summary(w io.Writer, files []string, ready []engine.Spec, names map[string]string, ran []scenarios.Ran) map[scenarios.Status]int {
	counts := map[scenarios.Status]int{}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := []string{"scenario"}
	for _, sp := range ready {
		head = append(head, names[sp.String()+"|"+sp.Image])
	}
	head = append(head, "total")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for i, file := range files {
		row := []string{scenarios.ScriptName(file)}
		var wall time.Duration
		for j := range ready {
			r := ran[i*len(ready)+j]
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
