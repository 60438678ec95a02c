package harness

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	extcmd "github.com/straddle-dev/straddle/harness/command"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/session"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/harness/workload"
)

// runEngines runs the project's rollout on every engine, up to Jobs at once, on
// one fleet. Runs come back in spec order whatever order they finish in, so the
// report is the same as a serial run's; so do errors: of several engines that
// failed, the first in spec order decides the error, and a failure cancels the
// engines still running.
func (c *Checker) runEngines(ctx context.Context, fleet *engine.Fleet) ([]verdict.RunInput, error) {
	specs := c.cfg.Engines
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		run verdict.RunInput
		err error
	}
	results := make([]result, len(specs))
	progress := func(p Progress) {
		if c.cfg.Progress == nil {
			return
		}
		c.progress.Lock()
		defer c.progress.Unlock()
		c.cfg.Progress(p)
	}
	sem := make(chan struct{}, c.cfg.Jobs)
	var wg sync.WaitGroup
	for i, sp := range specs {
		// Slots are taken in spec order, so Jobs 1 runs the engines in order.
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i].err = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			in := c.inputs[sp.Family()].forEngine()
			p := Progress{Scenario: c.scenario(sp.Family()), Spec: sp, Provider: fleet.Provider().Name()}
			progress(p)
			t0 := time.Now()
			run, err := c.run(ctx, fleet, sp, in, func(st session.StepProgress) {
				sp := p
				sp.Step = &st
				progress(sp)
			})
			if err == nil && ctx.Err() != nil {
				err = ctx.Err()
			}
			if err == nil {
				err = syntaxError(run, in)
			}
			if err != nil {
				results[i].err = err
				cancel()
				return
			}
			p.Done, p.Engine, p.Took = true, run.Engine, time.Since(t0)
			progress(p)
			results[i].run = run
		}()
	}
	wg.Wait()
	// An engine cancelled because another failed reports the other's error.
	var first error
	for _, r := range results {
		if r.err != nil && (first == nil || first == context.Canceled) {
			first = r.err
		}
	}
	if first != nil {
		return nil, first
	}
	runs := make([]verdict.RunInput, len(specs))
	for i, r := range results {
		runs[i] = r.run
	}
	return runs, nil
}

// forEngine is a copy of the inputs for one engine's run: the session sets
// per-run fields on each workload (FreshConnections, Binding), so engines of one family
// running at once, and checks running at once, each get their own; queries and
// migrations are only read.
func (in *familyInputs) forEngine() *familyInputs {
	out := &familyInputs{set: in.set, queries: map[plan.Release]*workload.Workload{}}
	for rel, w := range in.queries {
		if w != nil {
			c := *w
			out.queries[rel] = &c
		}
	}
	return out
}

// run is one rollout of the project on one engine, through the runner every
// scenario uses.
func (c *Checker) run(ctx context.Context, fleet *engine.Fleet, sp engine.Spec, in *familyInputs, stepDone func(session.StepProgress)) (verdict.RunInput, error) {
	cfg := c.cfg
	var sess *session.Session
	steps := make([]migration.Step, len(in.set.Steps))
	for i, m := range in.set.Steps {
		steps[i] = m
		if cfg.MigrateCmd != "" {
			cs := extcmd.Step{Version: m.Version, Name: m.Name, Phase: m.Phase, File: m.File}
			steps[i].Apply = func(ctx context.Context) error {
				return extcmd.Apply(extcmd.Command{Line: cfg.MigrateCmd}, cs, sess.Database())(ctx)
			}
		}
	}
	cmds := map[plan.Release]string{plan.Old: cfg.Old.Command, plan.New: cfg.New.Command}
	setup := func(ctx context.Context, s *session.Session) error {
		sess = s
		for _, rel := range []plan.Release{plan.Old, plan.New} {
			if w := in.queries[rel]; w != nil {
				w.FreshConnections = fresh(cfg.FreshConnections, rel)
				w.Binding = cfg.Bindings[rel]
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
	scfg := session.Config{
		Scenario: c.scenario(sp.Family()), Spec: sp, Fleet: fleet,
		Passes: cfg.Passes, NoDuring: cfg.NoDuring,
		Load: cfg.Load, MaxStall: cfg.MaxStall, Policy: cfg.Policy,
		StepDone: stepDone, AtBoundary: c.atBoundary(sp, in),
	}
	scfg.Policy.Overrides = append([]plan.Override(nil), cfg.Policy.Overrides...)
	run, err := session.Run(ctx, scfg, steps, setup)
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
	if cfg.MigrateCmd != "" {
		run.Notes = append(run.Notes, "migration steps were applied by --migrate-cmd, not by straddle: "+cfg.MigrateCmd)
	}
	return run, nil
}

func fresh(rels []plan.Release, rel plan.Release) bool {
	for _, r := range rels {
		if r == rel {
			return true
		}
	}
	return false
}

// generatedNotes says which queries ran with arguments straddle made up. The
// session lists the old release's generated queries before the new one's; a name
// both releases define belongs to old the first time it is seen.
func generatedNotes(gen []release.Generated, in *familyInputs) []string {
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
		hint := ""
		if strings.HasPrefix(run.Engine, "mariadb") {
			// MySQL 8's own syntax (CAST … AS JSON, functional index parts,
			// ->> paths in DDL) is no MariaDB's.
			hint = "; if the project targets MySQL and not MariaDB, check it with --engine mysql:VERSION"
		}
		return plan.Errorf(file, line, "%s rejects this migration statement as invalid SQL (%s): %s%s", run.Engine, m.Code, m.Message, hint)
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
