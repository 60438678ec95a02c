package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/report"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/matrix"
	"github.com/straddle-dev/straddle/scenarios"
)

// cellFlags choose the cells of a matrix to run: `straddle matrix`,
// `straddle matrix run` and `straddle run` share them.
type cellFlags struct {
	only, skip multiFlag
	shard      string
}

func (f *cellFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.only, "only", "run only the cells a `PATTERN` matches: a glob on the cell id (scenario/NAME@ENGINE, check/NAME@ENGINE), the input name or the engine (repeatable, comma-separated)")
	fs.Var(&f.skip, "skip", "leave out the cells a `PATTERN` matches (as --only)")
	fs.StringVar(&f.shard, "shard", "", "take shard `I/N` of the matrix: a deterministic split balanced by estimated cost")
}

// pick returns the shard --shard asks for (1/1 without it) and its cells.
func (f *cellFlags) pick(m *matrix.Matrix) (matrix.Shard, []matrix.Cell, error) {
	if f.shard == "" {
		return matrix.Shard{Index: 1, Count: 1}, m.Cells, nil
	}
	s, err := matrix.ParseShard(f.shard)
	if err != nil {
		return matrix.Shard{}, nil, err
	}
	return s, m.Shard(s), nil
}

// matrixFlags are the flags that define a matrix: `straddle matrix` and
// `straddle matrix run` share them.
type matrixFlags struct {
	engines engineFlags
	file    string
	cellFlags
	project matrix.Project
}

func (f *matrixFlags) register(fs *flag.FlagSet) {
	f.engines.register(fs)
	fs.StringVar(&f.file, "file", "", "read engines, scenarios, projects, filters and costs from this YAML matrix `FILE`")
	f.cellFlags.register(fs)
	fs.StringVar(&f.project.Migrations, "migrations", "", "add a check project: its migrations `DIR` (as straddle check)")
	fs.StringVar(&f.project.Old, "old", "", "the project's old release queries `SRC`")
	fs.StringVar(&f.project.New, "new", "", "the project's new release queries `SRC`")
	fs.StringVar(&f.project.Baseline, "baseline", "", "the project's baseline `VERSION` (as straddle check)")
	fs.BoolVar(&f.project.NoDuring, "no-during", false, "run the project's workloads only between steps (as straddle check): reports then compare from run to run")
	fs.StringVar(&f.project.Name, "name", "", "the project's `NAME` in cell ids (default: the base name of --migrations' parent)")
}

// build expands the flags (and the matrix file) into a matrix and the cells of
// the shard asked for (every cell without --shard).
func (f *matrixFlags) build(scripts []string) (*matrix.Matrix, matrix.Shard, []matrix.Cell, error) {
	var file matrix.File
	var costs []matrix.Cost
	if f.file != "" {
		fl, cs, err := matrix.Load(f.file)
		if err != nil {
			return nil, matrix.Shard{}, nil, err
		}
		file, costs = *fl, cs
	}
	vals := []string(f.engines.engines)
	if len(vals) == 0 {
		vals = file.Engines
	}
	if len(vals) == 0 {
		vals = defaultEngines
	}
	specs, err := matrix.ParseEngines(vals)
	if err != nil {
		return nil, matrix.Shard{}, nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var inputs []*matrix.Input
	paths := append(append([]string(nil), file.Scenarios...), scripts...)
	if len(paths) > 0 {
		files, err := scenarios.Find(paths)
		if err != nil {
			return nil, matrix.Shard{}, nil, err
		}
		if inputs, err = matrix.ScenarioInputs(files); err != nil {
			return nil, matrix.Shard{}, nil, err
		}
	}
	projects := file.Projects
	if f.project.Migrations != "" {
		p := f.project
		if p.Name == "" {
			p.Name = projectName(p.Migrations)
		}
		projects = append(projects, p)
	}
	for _, p := range projects {
		if p.Old == "" && p.OldCmd == "" || p.New == "" && p.NewCmd == "" {
			return nil, matrix.Shard{}, nil, fmt.Errorf("%w: project %s needs old and new queries (--old, --new)", ErrUsage, p.Name)
		}
		inputs = append(inputs, matrix.ProjectInput(p))
	}
	m, err := matrix.New(matrix.Config{Engines: specs, Inputs: inputs,
		Only: append(append([]string(nil), file.Only...), f.only...), Skip: append(append([]string(nil), file.Skip...), f.skip...), Costs: costs})
	if err != nil {
		return nil, matrix.Shard{}, nil, err
	}
	s, cells, err := f.pick(m)
	if err != nil {
		return nil, matrix.Shard{}, nil, err
	}
	return m, s, cells, nil
}

// projectName names a project after its directory: db/migrations → db,
// examples/projects/rename/{family} → rename.
func projectName(migrations string) string {
	dir := filepath.Clean(migrations)
	for {
		base := filepath.Base(dir)
		if base != "migrations" && base != "{family}" && base != "." && base != string(filepath.Separator) {
			return base
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "project"
		}
		dir = parent
	}
}

// runMatrix is `straddle matrix`: list the cells, or print the GitHub Actions
// matrix; `straddle matrix run` runs them.
func runMatrix(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "run" {
		return runMatrixRun(ctx, e, args[1:])
	}
	fs := newFlags(e, "matrix")
	var f matrixFlags
	f.register(fs)
	github := fs.Bool("github", false, "print the GitHub Actions matrix, {\"include\":[…]} on one line, for strategy.matrix: ${{ fromJSON(…) }}")
	shards := fs.Int("shards", 0, "with --github, a job per shard of `N` (default: a job per cell); without, show each cell's shard")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	m, s, cells, err := f.build(fs.Args())
	if err != nil {
		return err
	}
	if *github {
		if f.shard != "" {
			return fmt.Errorf("%w: --github lists every shard: give --shards N, not --shard", ErrUsage)
		}
		return matrix.WriteGitHub(e.stdout, m.GitHubMatrix(*shards))
	}
	owner := map[string]string{}
	if *shards > 0 {
		for i, part := range m.Split(*shards) {
			for _, c := range part {
				owner[c.ID] = matrix.Shard{Index: i + 1, Count: *shards}.String()
			}
		}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CELL\tCOST\tSHARD")
	for _, c := range cells {
		sh := owner[c.ID]
		if sh == "" {
			sh = s.String()
		}
		fmt.Fprintf(tw, "%s\t%.1fs\t%s\n", c.ID, c.Cost, sh)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\n%s of %d (%s × %s), estimated %.0fs\n", plural(len(cells), "cell", "cells"), m.Size(),
		plural(len(m.Inputs), "input", "inputs"), plural(len(m.Engines), "engine", "engines"), matrix.TotalCost(cells))
	return nil
}

// cellOutcome is what one cell gave: its status and its part of a report.
type cellOutcome struct {
	status string
	res    *verdict.Result // nil when the cell produced no run
}

// runMatrixRun is `straddle matrix run`: it runs the cells of a shard (scenarios as
// straddle run does, projects as straddle check does), and writes one report with
// a matrix section, for straddle report merge. Exit: the worst cell's (2 bad
// input, 3 environment, 1 failed).
func runMatrixRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "matrix")
	var f matrixFlags
	f.register(fs)
	format := fs.String("format", "json", "report `FORMAT`: "+strings.Join(report.Formats, ", "))
	out := fs.String("out", "", "write the report to `FILE` instead of stdout")
	timings := fs.Bool("timings", true, "include measured durations (-timings=false: output that compares from run to run, as the shards' merge test does)")
	parallel := fs.Int("parallel", runtime.NumCPU(), "run up to `N` scenarios at once")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if err := oneOfFlag("--format", *format, report.Formats...); err != nil {
		return err
	}
	if err := checkOut(*out); err != nil {
		return err
	}
	m, s, cells, err := f.build(fs.Args())
	if err != nil {
		return err
	}
	part, err := m.Part(s, cells)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "straddle: matrix shard %s: %s of %d\n", s, plural(len(cells), "cell", "cells"), m.Size())
	outcomes := make([]cellOutcome, len(cells))
	if len(cells) > 0 {
		if err := f.runScenarios(ctx, e, cells, outcomes, *parallel); err != nil {
			return err
		}
		f.runProjects(ctx, e, cells, outcomes)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	res := &verdict.Result{Runs: []verdict.Run{}, Violations: []verdict.Violation{}, Matrix: part}
	for i, o := range outcomes {
		part.Cells[i].Status = o.status
		if o.res != nil {
			part.Cells[i].Runs = len(o.res.Runs)
			res.Runs = append(res.Runs, o.res.Runs...)
			res.Violations = append(res.Violations, o.res.Violations...)
			res.Rules = append(res.Rules, o.res.Rules...)
		}
	}
	res.Verdict = matrix.VerdictOf(res)
	var buf bytes.Buffer
	if err := report.Render(&buf, *format, res, report.Options{Timings: *timings}); err != nil {
		return err
	}
	if *out == "" {
		if _, err := e.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return cellsExit(part.Cells)
}

// runScenarios runs the scenario cells on one fleet, as straddle run does: a
// shard's cells need not be a rectangle of scripts × engines.
func (f *matrixFlags) runScenarios(ctx context.Context, e *env, cells []matrix.Cell, outcomes []cellOutcome, parallel int) error {
	var idx []int // the scenario cells' indexes in cells
	var run []matrix.Cell
	for i, c := range cells {
		if c.Input.Kind == matrix.KindScenario {
			idx = append(idx, i)
			run = append(run, c)
		}
	}
	if len(run) == 0 {
		return nil
	}
	pf := f.engines
	pf.engines = nil
	p, _, err := pf.build()
	if err != nil {
		return err
	}
	fleet := engine.NewFleet(p)
	defer fleet.Stop(context.WithoutCancel(ctx))
	ran := scenarios.Run(ctx, scenarios.RunConfig{Cells: run, Fleet: fleet, Parallel: parallel,
		Progress: func(r scenarios.Ran) {
			fmt.Fprintf(e.stderr, "%-4s  %s  %s%s\n", statusWord(r.Status), r.Cell, seconds(r.Elapsed), reasonNote(r))
			if r.Status != scenarios.Passed && r.Status != scenarios.Skipped {
				printDetails(e.stderr, r, false)
			}
		}})
	for k, r := range ran {
		o := cellOutcome{status: string(r.Status)}
		// A malformed script or a broken environment proves nothing: no run,
		// as straddle run reports it.
		if r.Run != nil && (r.Status == scenarios.Passed || r.Status == scenarios.Failed) {
			o.res = verdict.Decide([]verdict.RunInput{*r.Run})
		}
		outcomes[idx[k]] = o
	}
	return nil
}

// runProjects checks each project cell with the library's front door
// (harness.Check, what straddle check runs), every cell on one fleet: a server
// per engine for the whole shard, a scratch database per cell.
func (f *matrixFlags) runProjects(ctx context.Context, e *env, cells []matrix.Cell, outcomes []cellOutcome) {
	var fleet *engine.Fleet
	for i, c := range cells {
		if c.Input.Kind != matrix.KindCheck || ctx.Err() != nil {
			continue
		}
		if fleet == nil {
			pf := f.engines
			pf.engines = nil
			p, _, err := pf.build()
			if err != nil {
				outcomes[i] = cellOutcome{status: statusOfExit(ExitCode(err))}
				fmt.Fprintf(e.stderr, "ERR   %s  %v\n", c.ID, err)
				continue
			}
			fleet = engine.NewFleet(p)
			defer fleet.Stop(context.WithoutCancel(ctx))
		}
		p := c.Input.Project
		t0 := time.Now()
		res, err := harness.Check(ctx, harness.CheckConfig{
			Migrations: p.Migrations, Baseline: p.Baseline,
			Old:     harness.Workload{Queries: p.Old, Command: p.OldCmd},
			New:     harness.Workload{Queries: p.New, Command: p.NewCmd},
			Engines: []engine.Spec{c.Engine}, Fleet: fleet, Jobs: 1,
			Name: p.Name, NoDuring: p.NoDuring,
		})
		o := cellOutcome{status: statusOfExit(ExitCode(err)), res: res}
		outcomes[i] = o
		word := map[string]string{"pass": "PASS", "fail": "FAIL", "bad-input": "BAD", "error": "ERR"}[o.status]
		fmt.Fprintf(e.stderr, "%-4s  %s  %s\n", word, c.ID, seconds(time.Since(t0)))
		if err != nil && o.status != "fail" {
			fmt.Fprintf(e.stderr, "      %v\n", err)
		}
	}
}

func statusOfExit(code int) string {
	switch code {
	case ExitCompatible:
		return string(scenarios.Passed)
	case ExitIncompatible:
		return string(scenarios.Failed)
	case ExitUsage:
		return string(scenarios.Malformed)
	}
	return string(scenarios.EnvFailed)
}

// cellsExit is the exit of a matrix run or merge: the worst cell's, bad input
// first, then environment failures, then failures.
func cellsExit(cells []verdict.MatrixCell) error {
	count := map[string]int{}
	for _, c := range cells {
		count[c.Status]++
	}
	switch {
	case count[string(scenarios.Malformed)] > 0:
		return &exitError{fmt.Sprintf("%s malformed", plural(count[string(scenarios.Malformed)], "cell is", "cells are")), plan.ErrBadInput}
	case count[string(scenarios.EnvFailed)] > 0:
		return &exitError{fmt.Sprintf("environment failure in %s: nothing certified there", plural(count[string(scenarios.EnvFailed)], "cell", "cells")), errEnvironment}
	case count[string(scenarios.Failed)] > 0:
		return &exitError{fmt.Sprintf("%s failed", plural(count[string(scenarios.Failed)], "cell", "cells")), ErrIncompatible}
	}
	return nil
}
