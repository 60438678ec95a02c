package harness

import (
	"context"
	"slices"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/schema"
	"github.com/straddle-dev/straddle/harness/session"
	"github.com/straddle-dev/straddle/harness/workload"
)

// BoundaryState is one engine's run at a boundary: its step applied (or failed
// to) and probed, the scratch database left in that state. It is what
// CheckConfig.AtBoundary is given: to dump the schema, or to hold the state
// for a person to connect (`straddle check --stop-at`, `straddle repro`).
type BoundaryState struct {
	Spec     engine.Spec
	Engine   string // as the report names it, with its version
	Boundary plan.Boundary
	// Step is the step's position in the plan (1-based) and Steps the plan's
	// length; the baseline boundary is reached with its last baseline step.
	Step, Steps int
	// Failed is set when the step did not apply: the database is in the state
	// its failing statement left (on PostgreSQL, the step's transaction rolled
	// back; on MySQL/MariaDB, the statements before it committed).
	Failed bool
	// Database is the scratch database in this state. It and its server stay
	// until AtBoundary returns; its DSN carries a password (never print it).
	Database engine.Database
	// Schema is the schema after the step as straddle read it (nil when unknown).
	Schema schema.Snapshot
	// Failing are the queries that failed at this boundary (during or after the
	// step), each once, in the order they first failed.
	Failing []FailingQuery
}

// Violated reports whether a required release failed at this boundary, or the
// step did not apply.
func (b BoundaryState) Violated() bool {
	if b.Failed {
		return true
	}
	for _, f := range b.Failing {
		if f.Required {
			return true
		}
	}
	return false
}

// FailingQuery is a query that failed at a boundary, with what it takes to run
// it again by hand.
type FailingQuery struct {
	Release  plan.Release
	Query    string // the query's name (or the command's, for a command workload)
	Window   plan.Window
	Required bool // the release is required there: a violation
	Kind     observe.Outcome
	Code     string
	Message  string
	// SQL is the statement with its arguments inlined as literals, ready to paste
	// into psql or mariadb; "" for a command workload (Command is set instead)
	// or when the query is not known.
	SQL     string
	Command string
}

// atBoundary adapts CheckConfig.AtBoundary to the session's hook for one engine.
func (c *Checker) atBoundary(sp engine.Spec, in *familyInputs) func(context.Context, *session.Session, session.StepProgress) bool {
	if c.cfg.AtBoundary == nil {
		return nil
	}
	return func(ctx context.Context, s *session.Session, st session.StepProgress) bool {
		snap := s.Recorder().Snapshot()
		b := s.Boundary()
		state := BoundaryState{
			Spec: sp, Engine: s.Engine(), Boundary: b, Step: st.Index, Steps: st.Steps,
			Failed: st.Failed, Database: s.Database(),
		}
		for i := len(snap.Migrations) - 1; i >= 0; i-- {
			if m := snap.Migrations[i]; m.Boundary == b {
				state.Schema = m.Schema
				break
			}
		}
		state.Failing = c.failing(s, snap, b, in)
		return c.cfg.AtBoundary(ctx, state)
	}
}

// failing lists the failures recorded at boundary b, one per release and query.
func (c *Checker) failing(s *session.Session, snap observe.Snapshot, b plan.Boundary, in *familyInputs) []FailingQuery {
	type key struct {
		rel   plan.Release
		query string
	}
	type first struct {
		seq int64
		f   FailingQuery
	}
	seen := map[key]first{}
	cmds := map[plan.Release]string{plan.Old: c.cfg.Old.Command, plan.New: c.cfg.New.Command}
	gen := s.Generated()
	for _, cell := range snap.Cells {
		if cell.Key.Boundary != b.Index || cell.Key.Window == plan.Before || len(cell.Failures) == 0 {
			continue
		}
		k := key{cell.Key.Release, cell.Key.Query}
		fl := cell.Failures[0]
		for _, f := range cell.Failures[1:] {
			if f.First < fl.First {
				fl = f
			}
		}
		if prev, ok := seen[k]; ok && prev.seq <= fl.First {
			continue
		}
		req := s.Policy().Requirement(s.Config().Planned, b, k.rel, cell.Key.Window) == plan.Required
		f := FailingQuery{
			Release: k.rel, Query: k.query, Window: cell.Key.Window, Required: req,
			Kind: fl.Outcome, Code: fl.Code, Message: fl.Message,
		}
		if cmds[k.rel] != "" {
			f.Command = cmds[k.rel]
		} else {
			f.SQL = pasteable(in.queries[k.rel], k.query, gen, s.Family())
		}
		seen[k] = first{fl.First, f}
	}
	out := make([]first, 0, len(seen))
	for _, f := range seen {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b first) int { return int(a.seq - b.seq) })
	list := make([]FailingQuery, len(out))
	for i, f := range out {
		list[i] = f.f
	}
	return list
}

// pasteExecution numbers the execution whose {{n}} a pasted query gets: far
// from the numbers a run's own executions use.
const pasteExecution = 9_000_001

// pasteable is a query's SQL with the arguments of its first argument set (or
// the ones straddle generated for it) inlined; "" when it cannot be made.
func pasteable(w *workload.Workload, name string, gen []release.Generated, f engine.Family) string {
	if w == nil {
		return ""
	}
	for _, q := range w.Queries {
		if q.Name != name {
			continue
		}
		var args []workload.Arg
		switch {
		case len(q.Args) > 0:
			args = q.Args[0]
		case q.Params > 0:
			for _, g := range gen {
				if g.Query == name {
					args = g.Args
					break
				}
			}
		}
		sql, err := workload.Inline(q.SQL, f, args, pasteExecution)
		if err != nil {
			return ""
		}
		return sql + ";"
	}
	return ""
}

// Boundaries lists the boundaries of the project's plan ("baseline",
// "expand/0002_add_email", …), in rollout order, over every family of the
// check's engines (their migrations may differ per family).
func (c *Checker) Boundaries() []string {
	var out []string
	for _, sp := range c.cfg.Engines {
		in := c.inputs[sp.Family()]
		if in == nil {
			continue
		}
		r, err := plan.NewRollout(in.set.Refs())
		if err != nil {
			continue
		}
		for _, b := range r {
			if !slices.Contains(out, b.String()) {
				out = append(out, b.String())
			}
		}
	}
	return out
}
