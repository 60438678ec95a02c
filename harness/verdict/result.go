package verdict

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
)

// Verdict is the outcome of a whole check.
type Verdict string

const (
	Compatible   Verdict = "compatible"   // no violation in any run
	Incompatible Verdict = "incompatible" // at least one violation
	// EnvError means no violation was found but some run could not complete, so
	// nothing is certified. The CLI exits 3 for it (see Result.EnvFailure).
	EnvError Verdict = "error"
)

// Kind says what went wrong in a failure or violation.
type Kind string

const (
	KindError     Kind = "error"     // the query (or command) failed
	KindResult    Kind = "result"    // it ran but the result differs from the expectation
	KindStall     Kind = "stall"     // it waited longer than the stall threshold
	KindMigration Kind = "migration" // the migration step failed to apply
)

// Status is the outcome of one release at one boundary.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// MigrationStatus is the outcome of applying one step.
type MigrationStatus string

const (
	MigrationOK     MigrationStatus = "ok"
	MigrationFailed MigrationStatus = "failed"
	MigrationNotRun MigrationStatus = "not-run"
)

// Why a cell was skipped (Cell.Reason).
const (
	ReasonPolicy       = "policy"        // the policy does not run the release here
	ReasonNotApplied   = "not-applied"   // the step was not applied (an earlier one failed)
	ReasonNoExecutions = "no-executions" // the release ran nothing here
)

// Result is the decision over every run. Its JSON encoding is the report contract.
type Result struct {
	Verdict    Verdict     `json:"verdict"`
	Runs       []Run       `json:"runs"`
	Violations []Violation `json:"violations"` // by run, boundary, migration then release, query
	// WorkloadErrors lists the queries that fail on their own release's
	// baseline (see WorkloadError); the CLI exits 2 for them.
	WorkloadErrors []WorkloadError `json:"workload_errors,omitempty"`
	// Rules lists the phase rules the runs' steps break and how each run
	// settled them (CheckRules), by run then boundary; absent with --rules off.
	Rules []RuleHit `json:"rules,omitempty"`
	// Matrix is set on the reports of `straddle matrix run`: which cells of which
	// matrix the report covers, so the reports of shards merge into one.
	Matrix *MatrixPart `json:"matrix,omitempty"`
	// Check is how the `straddle check` that made this report was asked for, so
	// `straddle repro REPORT --at BOUNDARY` can run it again; absent on other
	// commands' reports.
	Check *Invocation `json:"check,omitempty"`
}

// Invocation is a command line that made a report: its arguments as given
// (paths relative to the directory it ran in), without the flags that only
// choose where output goes and without any that can carry a secret (--dsn).
type Invocation struct {
	Command string   `json:"command"` // "check"
	Args    []string `json:"args"`
}

// MatrixPart says which cells of a matrix a report covers.
type MatrixPart struct {
	// Digest identifies the matrix: its cells and the content of its inputs.
	Digest string `json:"digest"`
	Shard  string `json:"shard"` // "i/n"; "1/1" for the whole matrix
	Size   int    `json:"size"`  // cells in the whole matrix
	// Cells are the covered cells in matrix order; Result.Runs are theirs, in the
	// same order, Runs of them per cell.
	Cells []MatrixCell `json:"cells"`
}

// MatrixCell is one cell of a matrix and how it ended.
type MatrixCell struct {
	ID       string `json:"id"`
	Position int    `json:"position"` // in the whole matrix
	// Status: pass, fail (a violation, or a scenario's assertion), skip,
	// bad-input or error (the environment failed).
	Status string `json:"status"`
	Runs   int    `json:"runs"`
}

// EnvFailure reports whether some run could not complete (the engine did not start,
// the connection was lost). The CLI exits 3 then, whatever the verdict.
func (r *Result) EnvFailure() bool {
	for _, run := range r.Runs {
		if run.Error != "" {
			return true
		}
	}
	return false
}

// ViolationSummary counts the violations and the runs: "no violations in 1 run",
// "3 violations in 2 runs".
func (r *Result) ViolationSummary() string {
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

// Run is the outcome of one scenario on one engine.
type Run struct {
	Scenario      string `json:"scenario"`
	Engine        string `json:"engine"`
	ServerVersion string `json:"server_version"`
	// Error is the environment failure that stopped the run, "" when it completed.
	Error string `json:"error,omitempty"`
	// OldBreaksAt is the first boundary ("contract/0004_drop_name") where the old
	// release failed with an error or a wrong result, whatever the policy: after it,
	// rolling back to old is no longer possible. Transient failures and stalls do
	// not count. "" when old never broke.
	OldBreaksAt string `json:"old_breaks_at,omitempty"`
	// Notes are remarks a reader of the run should know that are not findings
	// (arguments straddle generated for queries without "-- args:", an external
	// migration command), in the order given in RunInput.Notes.
	Notes      []string   `json:"notes,omitempty"`
	Boundaries []Boundary `json:"boundaries"` // in rollout order
}

// Violations counts the run's violations (failed migrations included).
func (r Run) Violations() int {
	n := 0
	for _, b := range r.Boundaries {
		if b.Migration.Status == MigrationFailed {
			n++
		}
		for _, c := range b.Releases {
			n += c.Violations()
		}
	}
	return n
}

// Boundary is one boundary of a run: its migration step and every release's cell.
type Boundary struct {
	Phase     plan.Phase `json:"phase"`
	Step      string     `json:"step"`
	Migration Migration  `json:"migration"`
	Releases  Releases   `json:"releases"`
	// SchemaDiff is what the step changed in the schema, read from the catalog
	// before and after it (package schema); absent at the baseline and where the
	// catalog could not be read.
	SchemaDiff []schema.Change `json:"schema_diff,omitempty"`
}

// String renders "phase/step", or "baseline".
func (b Boundary) String() string {
	return boundaryName(b.Phase, b.Step)
}

func boundaryName(p plan.Phase, step string) string {
	return plan.Boundary{Phase: p, Step: step}.String()
}

// Migration is the outcome of applying a boundary's step.
type Migration struct {
	Status    MigrationStatus `json:"status"`
	Code      string          `json:"code,omitempty"`
	Class     string          `json:"class,omitempty"`
	Message   string          `json:"message,omitempty"`
	Statement int             `json:"statement,omitempty"` // 1-based statement that failed
	SQL       string          `json:"sql,omitempty"`       // its text
	Location  string          `json:"location,omitempty"`  // its file and line: "0005_jobs.up.sql:12"
	Output    string          `json:"output,omitempty"`    // an external migration command's output
	// DurationMS is the time the step took. It is a timing: nil in deterministic
	// output (Result.WithoutTimings).
	DurationMS *float64 `json:"duration_ms,omitempty"`
}

// Releases is the cells of one boundary in release order (old, new). It encodes as
// a JSON object keyed by release, in that order, so a third release (N-2) is one
// more key.
type Releases []Cell

// Get returns the cell of rel, or nil.
func (rs Releases) Get(rel plan.Release) *Cell {
	for i := range rs {
		if rs[i].Release == rel {
			return &rs[i]
		}
	}
	return nil
}

// MarshalJSON encodes rs as {"old": {…}, "new": {…}}, in slice order.
func (rs Releases) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, c := range rs {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(string(c.Release)); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(c); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON decodes the object MarshalJSON writes, keeping key order.
func (rs *Releases) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // null
		*rs = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("releases: want an object, got %v", tok)
	}
	out := Releases{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var c Cell
		if err := dec.Decode(&c); err != nil {
			return fmt.Errorf("releases: %s: %w", tok, err)
		}
		c.Release = plan.Release(tok.(string))
		out = append(out, c)
	}
	*rs = out
	return nil
}

// Cell is what one release did at one boundary.
type Cell struct {
	Release plan.Release `json:"-"` // the key in Releases
	// Required is true when the policy requires the release in the During or the
	// After window of this boundary. Which failures are violations is decided per
	// window: see Failure.Required.
	Required bool   `json:"required"`
	Status   Status `json:"status"`
	// Reason says why a skipped cell was skipped (ReasonPolicy, …); "" otherwise.
	Reason string     `json:"reason,omitempty"`
	Policy CellPolicy `json:"policy"`
	// Overridden is true when a scenario override touches this cell, so the
	// requirement may differ from the default table.
	Overridden bool  `json:"overridden,omitempty"`
	Executions int64 `json:"executions"`
	// Latency summarizes the executions. It is a timing: nil in deterministic output.
	Latency *Latency `json:"latency,omitempty"`
	// Queries breaks the executions down by window (before, during, after the
	// step) and query, in that order. Counts depend on timing in load mode, so
	// like Latency it is left out of deterministic output.
	Queries  []QueryLatency `json:"queries,omitempty"`
	Failures []Failure      `json:"failures"` // by first occurrence, then window
}

// Violations counts c's violations, as Result.Violations lists them.
func (c Cell) Violations() int { return len(c.Violating()) }

// Violating returns c's failures that are violations, one per (query, kind, code):
// the same break seen during and after a step is one violation, at its first
// occurrence.
//
// Which failure stands for a break is chosen so that it is the same in every
// run: the first one a state probe met (probes run in the same order every
// time), and only when no probe met it, the first one traffic met.
func (c Cell) Violating() []Failure {
	type key struct {
		query string
		kind  Kind
		code  string
	}
	pick := map[key]int{}
	for i, f := range c.Failures {
		if !f.Violation {
			continue
		}
		k := key{f.Query, f.Kind, f.Code}
		j, ok := pick[k]
		if !ok || (c.Failures[j].Session == "" && f.Session != "") {
			pick[k] = i
		}
	}
	idx := make([]int, 0, len(pick))
	for _, i := range pick {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]Failure, len(idx))
	for n, i := range idx {
		out[n] = c.Failures[i]
	}
	return out
}

// CellPolicy is the requirement of a cell in each window.
type CellPolicy struct {
	During plan.Requirement `json:"during"`
	After  plan.Requirement `json:"after"`
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

// Failure is one distinct failure of a release at a boundary.
type Failure struct {
	Query   string      `json:"query"` // query name, or command name for external workloads
	Code    string      `json:"code"`  // SQLSTATE or MySQL error number; "" for results and stalls
	Message string      `json:"message"`
	When    plan.Window `json:"when"` // before, during or after the step
	Kind    Kind        `json:"kind"`
	Class   string      `json:"class,omitempty"` // normalized error class, "undefined-column"
	Count   int64       `json:"count"`           // occurrences
	// Required is the policy's requirement in the window the failure happened in.
	Required bool `json:"required"`
	// Violation is Required and not transient: the failure breaks the verdict.
	Violation bool `json:"violation"`
	Transient bool `json:"transient,omitempty"`
	// Statement is the 1-based statement of the step that was running (or had last
	// completed) when it happened; 0 when unknown.
	Statement int `json:"statement,omitempty"`
	// WaitMS is how long a stalled query waited. A timing: nil in deterministic output.
	WaitMS *float64 `json:"wait_ms,omitempty"`
	Holder string   `json:"holder,omitempty"` // the lock holder, for stalls
	SQL    string   `json:"sql,omitempty"`    // the migration statement, for stalls
	Output string   `json:"output,omitempty"` // an external command's output
	// Session is the kind of connection a state probe met it on: "long-lived"
	// (prepared in earlier states, as a running instance's) or "new" (parsed
	// now, as a newly started instance's). "" for traffic.
	Session string `json:"session,omitempty"`
	// AfterStatement is k when a probe met it in the state after statement k of
	// a step whose statements commit one by one.
	AfterStatement int `json:"after_statement,omitempty"`
	// StepStatements is the number of statements of the step, with
	// AfterStatement (SQL is then statement AfterStatement's text).
	StepStatements int `json:"step_statements,omitempty"`
	// Timing is set for a failure that traffic met while a step ran (or under
	// load) and that no probe met in any state: a race, a lock wait, a timeout.
	// It is judged by the policy like any other.
	Timing bool `json:"timing,omitempty"`
	// Since names the boundary from which the same failure (query, kind, code)
	// has been failing without a break: it is not this step's doing. Still
	// failing where it was already a violation is not a new violation.
	Since string `json:"since,omitempty"`
	// Workload is set for a failure of the old release on its own baseline: a
	// problem of the workload (a query or its arguments), not of the upgrade.
	Workload bool `json:"workload,omitempty"`
}

// WorkloadError is a query that fails on its own release's baseline, or — the
// new release, which does not run there — breaks a constraint with arguments
// straddle generated at the first boundary it runs in: the workload is wrong
// (the query, or its arguments), so nothing it says about later states can be
// trusted. Never a violation.
type WorkloadError struct {
	Engine   string       `json:"engine"`
	Scenario string       `json:"scenario"`
	Release  plan.Release `json:"release"`
	Query    string       `json:"query"`
	Code     string       `json:"code"`
	Kind     Kind         `json:"kind"`
	Class    string       `json:"class,omitempty"`
	Message  string       `json:"message"`
	Session  string       `json:"session,omitempty"`
	// Boundary is where it failed: the baseline for the old release, the first
	// boundary it runs in for the new one (arguments straddle generated that
	// break a constraint there).
	Boundary string `json:"boundary,omitempty"`
}

// Violation is a failure that makes the verdict incompatible. Release and Query are
// empty for a failed migration (Kind "migration").
type Violation struct {
	Engine    string       `json:"engine"`
	Phase     plan.Phase   `json:"phase"`
	Step      string       `json:"step"`
	Release   plan.Release `json:"release,omitempty"`
	Query     string       `json:"query,omitempty"`
	Code      string       `json:"code"`
	Kind      Kind         `json:"kind"`
	Scenario  string       `json:"scenario"`
	Class     string       `json:"class,omitempty"`
	When      plan.Window  `json:"when,omitempty"`
	Message   string       `json:"message"`
	Statement int          `json:"statement,omitempty"`
	WaitMS    *float64     `json:"wait_ms,omitempty"`
	Holder    string       `json:"holder,omitempty"`
	// Session, AfterStatement and Timing are the failure's (see Failure).
	Session        string `json:"session,omitempty"`
	AfterStatement int    `json:"after_statement,omitempty"`
	Timing         bool   `json:"timing,omitempty"`
	// Explain says which change of the step caused it and the safe way to make
	// that change; nil without a schema diff, and with an empty Cause when no
	// change of the step explains it.
	Explain *Explanation `json:"explain,omitempty"`
}

// Boundary renders "phase/step", or "baseline".
func (v Violation) Boundary() string { return boundaryName(v.Phase, v.Step) }

// WithoutTimings returns a deep copy of r without its measured durations
// (migration duration_ms, latency summaries, stall wait_ms): the only fields that
// change from one run to the next, dropped so reports can be compared with goldens.
func (r *Result) WithoutTimings() *Result {
	out := &Result{Verdict: r.Verdict, Runs: make([]Run, len(r.Runs)), Violations: make([]Violation, len(r.Violations)), Matrix: r.Matrix}
	for i, run := range r.Runs {
		bs := make([]Boundary, len(run.Boundaries))
		for j, b := range run.Boundaries {
			b.Migration.DurationMS = nil
			cells := make(Releases, len(b.Releases))
			for k, c := range b.Releases {
				c.Latency, c.Queries = nil, nil
				fs := make([]Failure, len(c.Failures))
				for l, f := range c.Failures {
					f.WaitMS = nil
					fs[l] = f
				}
				c.Failures = fs
				cells[k] = c
			}
			b.Releases = cells
			bs[j] = b
		}
		run.Boundaries = bs
		run.Notes = append([]string(nil), run.Notes...)
		out.Runs[i] = run
	}
	for i, v := range r.Violations {
		v.WaitMS = nil
		out.Violations[i] = v
	}
	out.WorkloadErrors = append([]WorkloadError(nil), r.WorkloadErrors...)
	out.Rules = append([]RuleHit(nil), r.Rules...)
	return out
}
