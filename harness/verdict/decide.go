package verdict

import (
	"math"
	"regexp"
	"sort"
	"time"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
)

// RunInput is what Decide needs about one scenario on one engine.
type RunInput struct {
	Scenario      string
	Engine        string // engine spec string, as in observe.Event.Engine ("postgres:15")
	ServerVersion string
	Rollout       plan.Rollout
	// Policy is the scenario's policy; the zero value is the default table.
	Policy plan.Policy
	// Snapshot holds the run's observations. Cells and migrations of another engine
	// are ignored (those with an empty Engine are kept), so a recorder may be shared
	// by the engines of one scenario, but not by two scenarios.
	Snapshot observe.Snapshot
	// EnvError is the environment failure that stopped the run ("" if it completed).
	EnvError string
	// Notes are copied to Run.Notes: remarks for the reader that are not findings.
	Notes []string
	// GeneratedArgs lists, per release, the queries whose arguments straddle
	// generated (no "-- args:" line): where they break a constraint of a state
	// their release runs in from the start, the arguments are to blame.
	GeneratedArgs map[plan.Release][]string
	// Texts is the SQL of each query, per release and query name: a new
	// release's query that is the old release's, failing as it failed on the
	// old baseline, is the same workload problem.
	Texts map[plan.Release]map[string]string
	// StepSQL is the text of each step's statements, by step name (absent for
	// a step straddle did not read, such as an external command): a value a
	// read returns that changed across a step that does not rewrite it is no
	// finding (valueRewritten).
	StepSQL map[string]string
}

// Decide judges every run against its policy. It is deterministic: the same inputs
// give the same Result, in the order of runs.
func Decide(runs []RunInput) *Result {
	res := &Result{Verdict: Compatible, Runs: []Run{}, Violations: []Violation{}}
	env := false
	for _, in := range runs {
		run, vs, wes := decideRun(in)
		res.Runs = append(res.Runs, run)
		res.Violations = append(res.Violations, vs...)
		res.WorkloadErrors = append(res.WorkloadErrors, wes...)
		env = env || in.EnvError != ""
	}
	switch {
	case len(res.Violations) > 0:
		res.Verdict = Incompatible
	case env:
		res.Verdict = EnvError
	}
	return res
}

// transientClasses restates engine.Class.Transient (see doc.go for why); a test
// keeps the two in step.
var transientClasses = map[string]bool{
	"lock-timeout":      true,
	"statement-timeout": true,
	"deadlock":          true,
}

func isTransient(class string) bool { return transientClasses[class] }

func decideRun(in RunInput) (Run, []Violation, []WorkloadError) {
	run := Run{
		Scenario:      in.Scenario,
		Engine:        in.Engine,
		ServerVersion: in.ServerVersion,
		Error:         in.EnvError,
		Notes:         append([]string(nil), in.Notes...),
		Boundaries:    []Boundary{},
	}

	var cells []observe.Cell
	for _, c := range in.Snapshot.Cells {
		if c.Key.Engine == in.Engine || c.Key.Engine == "" {
			cells = append(cells, c)
		}
	}
	var migList []observe.Migration
	migs := map[int]observe.Migration{}
	lastApplied := -1
	for _, m := range in.Snapshot.Migrations {
		if m.Engine != in.Engine && m.Engine != "" {
			continue
		}
		migList = append(migList, m)
		if m.Note != "" {
			run.Notes = append(run.Notes, m.Note)
		}
		lastApplied = max(lastApplied, m.Boundary.Index)
		// Several steps fold into the baseline boundary: their times add up and
		// the first failure is the boundary's.
		prev, ok := migs[m.Boundary.Index]
		switch {
		case !ok:
		case prev.Outcome == observe.Error:
			prev.Duration += m.Duration
			m = prev
		default:
			m.Duration += prev.Duration
		}
		migs[m.Boundary.Index] = m
	}

	bounds := boundaries(in.Rollout, cells, migList)
	releases := releasesOf(cells)

	var violations []Violation
	var workloadErrs []WorkloadError
	chains := map[plan.Release]map[breakKey]chain{}
	ran := map[plan.Release]bool{} // the release ran at an earlier boundary
	// reached: the queries of a release that ran against their objects at an
	// earlier boundary (not only failing for want of a table or column a later
	// step creates).
	reached := map[plan.Release]map[string]bool{}
	var snap schema.Snapshot // the schema after the previous boundary's step
	for i, b := range bounds {
		ob := Boundary{Phase: b.Phase, Step: b.Step, Releases: Releases{}}
		read := false // the catalog was read before and after the step
		if m, ok := migs[b.Index]; ok && m.Schema != nil {
			if snap != nil && b.Phase != plan.Baseline {
				ob.SchemaDiff = schema.Diff(snap, m.Schema)
				read = true
			}
			snap = m.Schema
		}
		ob.Migration = migration(migs, b, lastApplied, i == 0 && len(cells) > 0)
		if ob.Migration.Status == MigrationFailed {
			v := Violation{
				Engine: in.Engine, Phase: b.Phase, Step: b.Step, Code: ob.Migration.Code,
				Kind: KindMigration, Scenario: in.Scenario, Class: ob.Migration.Class,
				Message: ob.Migration.Message, Statement: ob.Migration.Statement,
			}
			v.Explain = explain(v, nil, false)
			violations = append(violations, v)
		}
		// A Before observation saw the schema of the previous boundary.
		prev := b
		if i > 0 {
			prev = bounds[i-1]
		}
		for _, rel := range releases {
			c := decideCell(in, b, prev, rel, cells, ob.Migration.Status)
			switch {
			case b.Phase == plan.Baseline && rel == plan.Old:
				workloadErrs = append(workloadErrs, ownBaseline(in, &c, b)...)
			case rel != plan.Old:
				workloadErrs = append(workloadErrs, firstState(in, &c, b, workloadErrs, reached[rel])...)
			}
			settled(&c, workloadErrs)
			if c.Status != Skip && (c.Executions > 0 || len(c.Failures) > 0) {
				ran[rel] = true
				if reached[rel] == nil {
					reached[rel] = map[string]bool{}
				}
				reach(c, reached[rel])
			}
			chains[rel] = attribute(&c, b, chains[rel])
			ob.Releases = append(ob.Releases, c)
			for _, v := range cellViolations(in, b, c) {
				v.Explain = explain(v, ob.SchemaDiff, read)
				violations = append(violations, v)
			}
			if rel == plan.Old && run.OldBreaksAt == "" && breaksOld(c) {
				run.OldBreaksAt = b.String()
			}
		}
		run.Boundaries = append(run.Boundaries, ob)
	}
	return run, violations, workloadErrs
}

// breakKey is what makes two failures the same break: the query, what went
// wrong and the code.
type breakKey struct {
	query string
	kind  Kind
	code  string
}

func keyOf(f Failure) breakKey { return breakKey{f.Query, f.Kind, f.Code} }

// chain is a break that has been failing without interruption since a boundary.
type chain struct {
	since    string
	violated bool // it was a violation at some boundary of the chain
}

// attribute blames each failure of c on the first state where it appeared.
//
// A failure that the state before the step already had (prev: what the probes
// met in the previous boundary's state) is still failing, not this step's
// doing: it gets Since, and it is not a violation again where it already was
// one. A failure that only traffic met, in no probed state of this boundary and
// not in the state before, is a timing finding. It returns the breaks failing in
// this boundary's state, for the next boundary.
func attribute(c *Cell, b plan.Boundary, prev map[breakKey]chain) map[breakKey]chain {
	// A state is what probes met, and what a release met after the step (an
	// external command, which cannot probe, runs there).
	state := func(f Failure) bool { return f.Kind != KindStall && (f.Session != "" || f.When == plan.After) }
	probed := map[breakKey]bool{}
	for _, f := range c.Failures {
		if state(f) {
			probed[keyOf(f)] = true
		}
	}
	next := map[breakKey]chain{}
	for i := range c.Failures {
		f := &c.Failures[i]
		k := keyOf(*f)
		ch, before := prev[k]
		switch {
		case before:
			f.Since = ch.since
			if ch.violated {
				f.Violation = false
			}
		case !state(*f) && f.Kind != KindStall && !probed[k]:
			f.Timing = true
		}
		// The state the next step starts from is the one after this step.
		if !state(*f) || f.When != plan.After {
			continue
		}
		n, ok := next[k]
		if !ok {
			n = chain{since: b.String()}
			if before {
				n = ch
			}
		}
		next[k] = n
	}
	// A break is violated once any of its failures here was a violation.
	for i := range c.Failures {
		f := c.Failures[i]
		if n, ok := next[keyOf(f)]; ok && (f.Violation || f.Workload) {
			n.violated = true
			next[keyOf(f)] = n
		}
	}
	return next
}

// ownBaseline turns the old release's failures on its own baseline into
// workload errors: the query (or its arguments) is wrong before any step ran.
func ownBaseline(in RunInput, c *Cell, b plan.Boundary) []WorkloadError {
	return workloadErrors(in, c, b, func(f Failure) bool { return f.Kind != KindStall })
}

// argumentClasses are the classes of a constraint or a domain that arguments
// break: a value outside a CHECK, a key that is not there, a duplicate, a
// value the column's type does not take (a made-up label for an enum, text for
// a date). not-null is one when the query names the column (argumentNull).
var argumentClasses = map[string]bool{"check": true, "foreign-key": true, "unique": true, "invalid-value": true, "out-of-range": true}

// argumentCodes are codes of that kind whose class is other: invalid datetime
// formats and values, invalid parameter values (PostgreSQL 22007, 22008,
// 22023; MySQL 1292).
var argumentCodes = map[string]bool{"22007": true, "22008": true, "22023": true, "1292": true}

// firstState turns a release's failures at the first boundary it runs in — the
// new release, which does not run at the baseline — into workload errors when
// the arguments straddle generated are to blame: the release meets the
// constraint or the type there from its first execution on, and a real
// instance sends values they take. Any other failure there stays the step's,
// unless the query is the old release's own, failing as it failed on the old
// baseline (olds: the workload errors so far): the same workload problem.
func firstState(in RunInput, c *Cell, b plan.Boundary, olds []WorkloadError, reached map[string]bool) []WorkloadError {
	gen := map[string]bool{}
	for _, q := range in.GeneratedArgs[c.Release] {
		gen[q] = true
	}
	texts := in.Texts[c.Release]
	oldText := in.Texts[plan.Old]
	done := map[string]bool{} // already a workload error: judged where it first failed
	for _, o := range olds {
		if o.Release == c.Release {
			done[o.Query] = true
		}
	}
	return workloadErrors(in, c, b, func(f Failure) bool {
		if f.Kind != KindError || reached[f.Query] || done[f.Query] {
			return false
		}
		for _, o := range olds {
			if o.Release == plan.Old && o.Code == f.Code && texts[f.Query] != "" && oldText[o.Query] == texts[f.Query] {
				return true
			}
		}
		if !gen[f.Query] {
			return false
		}
		return argumentish(f, texts[f.Query])
	})
}

// argumentish reports whether f is a failure that arguments break (sql: its
// query's text): a constraint, a value the column's type refuses, a NULL a
// lookup of them gave a column the query writes.
func argumentish(f Failure, sql string) bool {
	return f.Kind == KindError && (argumentClasses[f.Class] || argumentCodes[f.Code] ||
		f.Class == "not-null" && argumentNull(f.Message, sql))
}

// unreached are the classes of a query that does not reach its objects yet: a
// table, column or function a later step creates.
var unreached = map[string]bool{"undefined-table": true, "undefined-column": true, "undefined-function": true, "undefined-object": true}

// reach records in reached the queries of c that ran against their objects:
// executed without failing, or failing for another reason than a missing
// object.
func reach(c Cell, reached map[string]bool) {
	failed := map[string]bool{}
	for _, f := range c.Failures {
		if f.Kind == KindError && unreached[f.Class] {
			failed[f.Query] = true
		} else if f.Kind == KindError || f.Kind == KindResult {
			reached[f.Query] = true
		}
	}
	for _, q := range c.Queries {
		if q.Count > 0 && !failed[q.Query] {
			reached[q.Query] = true
		}
	}
}

// settled marks the failures of c's queries that are already workload errors
// (wes) as such when arguments break them again, with another code (a
// duplicate where a missing key was): nothing more can be judged of them. A
// failure of another kind (a column gone, an ON CONFLICT target gone) is still
// the step's.
func settled(c *Cell, wes []WorkloadError) {
	bad := map[string]bool{}
	for _, w := range wes {
		if w.Release == c.Release {
			bad[w.Query] = true
		}
	}
	for i := range c.Failures {
		f := &c.Failures[i]
		if bad[f.Query] && !f.Workload && argumentish(*f, "") {
			f.Workload, f.Violation = true, false
		}
	}
}

// nullColumn finds the column a not-null message names for a NULL that was
// written (PostgreSQL: null value in column "x"; MySQL: Column 'x' cannot be
// null). MySQL's "Field 'x' doesn't have a default value" is a column the
// statement left out: no column, the statement's own doing.
var nullColumn = regexp.MustCompile("(?i)(?:null value in column|^column) [\"'`]([^\"'`]+)[\"'`]")

// argumentNull reports whether a not-null failure came from a value the query
// computes from its arguments (a lookup that found no row: the generated key
// matched nothing): the column it names is one the query writes.
func argumentNull(message, sql string) bool {
	m := nullColumn.FindStringSubmatch(message)
	if m == nil || sql == "" {
		return false
	}
	return namesColumn(sql, m[1])
}

// workloadErrors turns the failures of c that blame holds into workload errors.
func workloadErrors(in RunInput, c *Cell, b plan.Boundary, blame func(Failure) bool) []WorkloadError {
	var out []WorkloadError
	seen := map[breakKey]bool{}
	for i := range c.Failures {
		f := &c.Failures[i]
		if !blame(*f) {
			continue
		}
		f.Workload, f.Violation = true, false
		if seen[keyOf(*f)] {
			continue
		}
		seen[keyOf(*f)] = true
		out = append(out, WorkloadError{
			Engine: in.Engine, Scenario: in.Scenario, Release: c.Release, Query: f.Query,
			Code: f.Code, Kind: f.Kind, Class: f.Class, Message: f.Message, Session: f.Session,
			Boundary: b.String(),
		})
	}
	return out
}

// boundaries returns the rollout's boundaries plus any boundary observed but absent
// from it, by index, so that no observation is dropped.
func boundaries(r plan.Rollout, cells []observe.Cell, migs []observe.Migration) []plan.Boundary {
	seen := map[int]bool{}
	var out []plan.Boundary
	add := func(b plan.Boundary) {
		if !seen[b.Index] {
			seen[b.Index] = true
			out = append(out, b)
		}
	}
	for _, b := range r {
		add(b)
	}
	for _, c := range cells {
		add(c.Boundary)
	}
	for _, m := range migs {
		add(m.Boundary)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// releasesOf returns old and new, then any other release observed, sorted.
func releasesOf(cells []observe.Cell) []plan.Release {
	out := append([]plan.Release(nil), plan.Releases...)
	known := map[plan.Release]bool{}
	for _, r := range out {
		known[r] = true
	}
	var extra []plan.Release
	for _, c := range cells {
		if r := c.Key.Release; !known[r] && r != "" {
			known[r] = true
			extra = append(extra, r)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	return append(out, extra...)
}

// migration reports the step of b. The runner applies steps in order, so a step
// without an event was applied if a later one was (or, for the baseline, if any
// workload ran); otherwise it was not run.
func migration(migs map[int]observe.Migration, b plan.Boundary, lastApplied int, ranOnBaseline bool) Migration {
	m, ok := migs[b.Index]
	if !ok {
		if b.Index < lastApplied || ranOnBaseline {
			return Migration{Status: MigrationOK}
		}
		return Migration{Status: MigrationNotRun}
	}
	d := ms(m.Duration)
	if m.Outcome == observe.Error {
		return Migration{
			Status: MigrationFailed, Code: m.Code, Class: m.Class, Message: m.Message,
			Statement: m.Statement, SQL: m.SQL, Location: m.Location, Output: m.Output, DurationMS: &d,
		}
	}
	return Migration{Status: MigrationOK, DurationMS: &d}
}

type located struct {
	f      Failure
	first  int64
	window plan.Window
}

func decideCell(in RunInput, b, prev plan.Boundary, rel plan.Release, cells []observe.Cell, mig MigrationStatus) Cell {
	c := Cell{
		Release: rel,
		Policy: CellPolicy{
			During: in.Policy.Requirement(in.Rollout, b, rel, plan.During),
			After:  in.Policy.Requirement(in.Rollout, b, rel, plan.After),
		},
		Overridden: in.Policy.Overridden(b, rel),
		Failures:   []Failure{},
	}
	c.Required = c.Policy.During == plan.Required || c.Policy.After == plan.Required

	var hist observe.Histogram
	var fs []located
	for i := range cells {
		oc := &cells[i]
		if oc.Key.Boundary != b.Index || oc.Key.Release != rel {
			continue
		}
		c.Executions += oc.Count
		hist.Merge(&oc.Latency)
		if oc.Count > 0 {
			c.Queries = append(c.Queries, queryLatency(oc))
		}
		w := oc.Key.Window
		var req plan.Requirement
		switch w {
		case plan.Before:
			req = in.Policy.Requirement(in.Rollout, prev, rel, plan.After)
		case plan.During:
			req = c.Policy.During
		default:
			req = c.Policy.After
		}
		for _, f := range oc.Failures {
			if f.Outcome == observe.OK || f.Outcome == "" {
				continue
			}
			if f.Outcome == observe.Mismatch && f.Code == "value" && !in.valueRewritten(b, rel, oc.Key.Query, f.Message) {
				continue
			}
			out := Failure{
				Query: oc.Key.Query, Code: f.Code, Message: f.Message, When: w,
				Kind: kindOf(f.Outcome), Class: f.Class, Count: f.Count,
				Required: req == plan.Required, Transient: isTransient(f.Class),
				Statement: f.Statement, Holder: f.Holder, Output: f.Output,
				Session: string(f.Session), AfterStatement: f.AfterStatement, StepStatements: f.StepStatements,
			}
			// A stall is a warning, not a violation, when the policy says so.
			out.Violation = out.Required && !out.Transient &&
				!(f.Outcome == observe.Stalled && in.Policy.Stalls == plan.StallWarning)
			if f.Outcome == observe.Stalled {
				wait := ms(f.Latency)
				out.WaitMS = &wait
				out.SQL = f.SQL
			}
			if f.AfterStatement > 0 {
				out.SQL = f.SQL
			}
			fs = append(fs, located{f: out, first: f.First, window: w})
		}
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].first != fs[j].first {
			return fs[i].first < fs[j].first
		}
		return fs[i].window.Order() < fs[j].window.Order()
	})
	for _, l := range fs {
		c.Failures = append(c.Failures, l.f)
	}
	if hist.Count() > 0 {
		c.Latency = &Latency{P50MS: ms(hist.Quantile(0.5)), P99MS: ms(hist.Quantile(0.99)), MaxMS: ms(hist.Max())}
	}

	switch {
	case len(c.Failures) > 0:
		c.Status = Fail
	case c.Executions > 0:
		c.Status = Pass
	default:
		c.Status = Skip
		switch {
		case mig == MigrationNotRun:
			c.Reason = ReasonNotApplied
		case c.Policy.During == plan.NotRun && c.Policy.After == plan.NotRun:
			c.Reason = ReasonPolicy
		default:
			c.Reason = ReasonNoExecutions
		}
	}
	return c
}

// cellViolations lists c's violations, one per (query, kind, code) at its first
// occurrence (see Cell.Violations), by query.
func cellViolations(in RunInput, b plan.Boundary, c Cell) []Violation {
	var out []Violation
	for _, f := range c.Violating() {
		out = append(out, Violation{
			Engine: in.Engine, Phase: b.Phase, Step: b.Step, Release: c.Release,
			Query: f.Query, Code: f.Code, Kind: f.Kind, Scenario: in.Scenario,
			Class: f.Class, When: f.When, Message: f.Message, Statement: f.Statement,
			WaitMS: f.WaitMS, Holder: f.Holder,
			Session: f.Session, AfterStatement: f.AfterStatement, Timing: f.Timing,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Query < out[j].Query })
	return out
}

// breaksOld reports whether the old release's cell shows it can no longer run: an
// error or a wrong result that is not transient. Stalls only say it waited.
func breaksOld(c Cell) bool {
	for _, f := range c.Failures {
		if (f.Kind == KindError || f.Kind == KindResult) && !f.Transient && !f.Timing && !f.Workload && f.Since == "" {
			return true
		}
	}
	return false
}

func kindOf(o observe.Outcome) Kind {
	switch o {
	case observe.Mismatch:
		return KindResult
	case observe.Stalled:
		return KindStall
	}
	return KindError
}

// ms converts d to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// rewriting are the statements that change rows already in a table: DML, and
// DDL that converts a column's values (ALTER … TYPE [USING], MySQL's MODIFY
// and CHANGE).
var rewriting = regexp.MustCompile(`(?i)(^|[^a-z0-9_$])(update|delete|truncate|replace|merge|using|type|modify|change)([^a-z0-9_$]|$)`)

// readsRows matches "returns N rows where it returned M", a value finding about
// how many rows a read returns.
var readsRows = regexp.MustCompile(`^returns \d+ rows? where`)

// changedColumn finds the column of "column X reads A where it read B".
var changedColumn = regexp.MustCompile(`^column (\S+) reads `)

// valueRewritten reports whether a value finding of query at boundary b (a
// read that returns other values than in the state before) can be the step's
// rewriting of data the release reads. It cannot when the step rewrites no rows
// (it only adds rows, seeds, or changes the schema: a count over the table
// grows, which breaks no reader), or when the value that changed is of a column
// the query names and the step does not (a trigger or ON UPDATE touching
// updated_at or a row version while the step backfills another column). Where
// straddle has no text for the step or the query, it can.
func (in RunInput) valueRewritten(b plan.Boundary, rel plan.Release, query, message string) bool {
	step, ok := in.StepSQL[b.Step]
	if !ok || b.Phase == plan.Baseline {
		return true
	}
	if !rewriting.MatchString(step) {
		return false
	}
	if readsRows.MatchString(message) {
		return true
	}
	m := changedColumn.FindStringSubmatch(message)
	q := in.Texts[rel][query]
	if m == nil || q == "" {
		return true
	}
	return !namesColumn(q, m[1]) || namesColumn(step, m[1])
}

// namesColumn reports whether sql names col as an identifier, not as an alias
// given after AS.
func namesColumn(sql, col string) bool {
	re := regexp.MustCompile("(?i)(^|[^a-z0-9_$])(as\\s+)?[\"`]?" + regexp.QuoteMeta(col) + "[\"`]?([^a-z0-9_$]|$)")
	for _, m := range re.FindAllStringSubmatch(sql, -1) {
		if m[2] == "" {
			return true
		}
	}
	return false
}
