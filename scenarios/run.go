package scenarios

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/matrix"
)

// Status is how a script ended on one engine.
type Status string

const (
	Passed    Status = "pass"
	Failed    Status = "fail"      // an assertion of the script did not hold
	Skipped   Status = "skip"      // the script skipped itself on this engine
	Malformed Status = "bad-input" // the script is wrong: fix it
	EnvFailed Status = "error"     // the environment failed: nothing was proven
)

// Ran is one script run on one engine: one cell of a matrix.
type Ran struct {
	// Cell is the id of the matrix cell this is the run of
	// (scenario/NAME@ENGINE): callers key results by it.
	Cell   string
	File   string
	Name   string
	Engine engine.Spec
	Status Status
	// Errors are the script's failure messages, each "file:line: message".
	Errors []string
	// Reason is why the script skipped itself.
	Reason string
	// Log is the script's testscript log: the phase that failed, or everything
	// when RunConfig.Verbose is set.
	Log string
	// Run is the rollout the script drove, nil when it opened no database.
	Run *verdict.RunInput
	// Elapsed is the script's wall time on this engine.
	Elapsed time.Duration
}

// RunConfig is a run of scripts outside go test.
type RunConfig struct {
	// Cells are the scripts to run, each on its engine: scenario cells of a
	// matrix (matrix.KindScenario), expanded, filtered and sharded there.
	Cells []matrix.Cell
	Fleet *engine.Fleet
	// Parallel is how many scripts run at once (0: the number of CPUs).
	Parallel int
	// Verbose keeps the whole log of every script, not only of failed phases.
	Verbose bool
	Counter release.Counter
	Passes  int
	// NoProbes turns the state probes off (Config.NoProbes): cost comparisons.
	NoProbes bool
	// UpdateScripts rewrites the archived file of a failing "cmp stdout FILE" with
	// what the script printed (testscript.Params.UpdateScripts).
	UpdateScripts bool
	// Progress is called as each script ends on an engine, one call at a time.
	Progress func(Ran)

	workRoot string // testscript.Params.WorkdirRoot, set by Run
}

// Run runs the script of every cell on the cell's engine, as go test would
// (testscript.RunT with a small T), sharing cfg.Fleet's servers; scripts run
// concurrently up to cfg.Parallel. It returns one Ran per cell, in the order of
// cfg.Cells, each carrying its cell's id. A cell that is not a scenario is bad
// input. Cancelling ctx stops the scripts; their databases are still dropped.
func Run(ctx context.Context, cfg RunConfig) []Ran {
	par := cfg.Parallel
	if par <= 0 {
		par = runtime.NumCPU()
	}
	out := make([]Ran, len(cfg.Cells))
	// The scripts' work dirs live under one root of the run's own, removed here
	// even when an interrupted script is still running.
	root, err := os.MkdirTemp("", engine.TempPattern)
	if err != nil {
		for k, c := range cfg.Cells {
			out[k] = ranOf(c)
			out[k].Status, out[k].Errors = EnvFailed, []string{err.Error()}
		}
		return out
	}
	defer engine.RemoveOwned(root)
	// The owner's pid, as in server dirs: `straddle engines prune` removes the root
	// of a run that was killed outright.
	_ = engine.MarkOwner(root, 0o644)
	cfg.workRoot = root
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for k, c := range cfg.Cells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := runOne(ctx, cfg, c)
			out[k] = r
			if cfg.Progress != nil {
				mu.Lock()
				cfg.Progress(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// ranOf is the Ran of cell c before it runs.
func ranOf(c matrix.Cell) Ran {
	r := Ran{Cell: c.ID, Engine: c.Engine, Name: c.Input.Name}
	if c.Input.File != "" {
		r.File, r.Name = c.Input.File, ScriptName(c.Input.File)
	}
	return r
}

// ScriptName is the name testscript gives the script in file.
func ScriptName(file string) string {
	name := filepath.Base(file)
	for _, ext := range []string{".txtar", ".txt"} {
		if n, ok := strings.CutSuffix(name, ext); ok {
			return n
		}
	}
	return name
}

// interruptGrace is how long an interrupted script may take to wind down.
const interruptGrace = 5 * time.Second

func runOne(ctx context.Context, cfg RunConfig, c matrix.Cell) Ran {
	r := ranOf(c)
	file, spec := r.File, r.Engine
	if c.Input.Kind != matrix.KindScenario || file == "" {
		r.Status, r.Errors = Malformed, []string{fmt.Sprintf("cell %s is not a scenario script", c.ID)}
		return r
	}
	if ctx.Err() != nil {
		r.Status, r.Errors = EnvFailed, []string{ctx.Err().Error()}
		return r
	}
	// testscript would hang on a FIFO, panic on a "-- --" marker and write a member
	// named ../x outside the work dir: check the archive first.
	if _, _, err := readArchive(file); err != nil {
		r.Status, r.Errors = Malformed, []string{err.Error()}
		return r
	}
	top := &scriptT{verbose: cfg.Verbose}
	p := Params(Config{
		Context: ctx, Fleet: cfg.Fleet, Engine: spec, Counter: cfg.Counter, Passes: cfg.Passes,
		NoProbes: cfg.NoProbes,
		Done: func(t testscript.T, o Outcome) {
			if st, ok := t.(*scriptT); ok {
				st.outcome = &o
			}
		},
	})
	p.Files = []string{file}
	// One root per script and engine: testscript names work dirs after the script,
	// and the same script runs on several engines at once.
	work, err := os.MkdirTemp(cfg.workRoot, "run-")
	if err != nil {
		r.Status, r.Errors = EnvFailed, []string{err.Error()}
		return r
	}
	p.WorkdirRoot = work
	p.UpdateScripts = cfg.UpdateScripts
	start := time.Now()
	done := make(chan struct{})
	go func() { // a Fatal on the top T ends this goroutine, not the caller
		defer close(done)
		testscript.RunT(top, p)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// Interrupted: give the script a moment to notice (its commands fail once
		// ctx is done), but do not wait on a command that ignores it (an exec of a
		// long-running program): the caller stops the engines, which takes the
		// scratch databases with them, and exits.
		select {
		case <-done:
		case <-time.After(interruptGrace):
			r.Elapsed = time.Since(start)
			r.Status, r.Errors = EnvFailed, []string{"interrupted: " + context.Cause(ctx).Error()}
			return r
		}
	}
	r.Elapsed = time.Since(start)

	t := top.child
	if t == nil {
		r.Status, r.Log = EnvFailed, top.log.String()
		r.Errors = []string{strings.TrimSpace(r.Log)}
		return r
	}
	r.Log = t.log.String()
	r.Errors = failLines(r.Log)
	if t.outcome != nil {
		r.Run = t.outcome.Run
	}
	switch {
	case t.outcome != nil && t.outcome.BadInput:
		r.Status = Malformed
	case t.outcome != nil && t.outcome.EnvError != nil:
		r.Status = EnvFailed
		if len(r.Errors) == 0 {
			r.Errors = []string{t.outcome.EnvError.Error()}
		}
	case t.skipped:
		r.Status, r.Reason = Skipped, t.skipReason
	case t.failed:
		r.Status = Failed
	default:
		r.Status = Passed
	}
	return r
}

// failLines extracts testscript's "FAIL: file:line: message" lines from a log,
// with the indented lines that continue them.
func failLines(log string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(log, "\n") {
		switch {
		case strings.HasPrefix(l, "FAIL: "):
			out = append(out, strings.TrimPrefix(l, "FAIL: "))
			in = true
		case in && strings.HasPrefix(l, "\t"):
			out[len(out)-1] += "\n" + l
		default:
			in = false
		}
	}
	return out
}

// scriptT is the small testscript.T of `straddle run`. The top-level T runs one
// script (Run) in a goroutine of its own, so that FailNow and Skip can end it
// with runtime.Goexit as testing.T does; scheduling is Run's business, so
// Parallel does nothing.
type scriptT struct {
	verbose bool
	child   *scriptT

	// Written by the script's goroutine, read after it ended.
	log        strings.Builder
	failed     bool
	skipped    bool
	skipReason string
	outcome    *Outcome
}

var _ testscript.T = (*scriptT)(nil)

func (t *scriptT) Run(_ string, f func(testscript.T)) {
	c := &scriptT{verbose: t.verbose}
	t.child = c
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(c)
	}()
	<-done
}

func (t *scriptT) Skip(args ...any) {
	t.Log(args...)
	t.skipped, t.skipReason = true, strings.TrimSpace(fmt.Sprint(args...))
	runtime.Goexit()
}

func (t *scriptT) Fatal(args ...any) {
	t.Log(args...)
	t.FailNow()
}

func (t *scriptT) FailNow() {
	t.failed = true
	runtime.Goexit()
}

func (t *scriptT) Log(args ...any) {
	if len(args) == 0 {
		return
	}
	t.log.WriteString(strings.TrimRight(fmt.Sprint(args...), "\n") + "\n")
}

func (t *scriptT) Parallel()     {}
func (t *scriptT) Verbose() bool { return t.verbose }

// Find expands the arguments of `straddle run` into script files, sorted: a file
// is taken as it is; a directory is searched recursively for *.txtar files,
// skipping testdata directories and hidden ones below it (Go's convention: they
// hold inputs for tests, such as malformed scripts).
func Find(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, plan.Errorf(a, 0, "no such file or directory: give a scenario file (.txtar) or a directory of them")
		}
		if !fi.IsDir() {
			if !strings.HasSuffix(a, ".txtar") && !strings.HasSuffix(a, ".txt") {
				return nil, plan.Errorf(a, 0, "not a scenario: want a .txtar file or a directory")
			}
			add(a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != a && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".txtar") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if len(found) == 0 {
			return nil, plan.Errorf(a, 0, "no scenarios (*.txtar) in the directory")
		}
		sort.Strings(found)
		for _, f := range found {
			add(f)
		}
	}
	return out, nil
}
