package observe

import (
	"sort"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/schema"
)

// Kind is what an event is about.
type Kind string

const (
	KindQuery     Kind = "query"     // one execution of a workload query or command
	KindMigration Kind = "migration" // one migration step applied (or not)
	KindStall     Kind = "stall"     // a query waited longer than the stall threshold
)

// Outcome is how an execution ended.
type Outcome string

const (
	OK       Outcome = "ok"
	Error    Outcome = "error"  // the server (or the command) returned an error
	Mismatch Outcome = "result" // it ran but the result differs from the expectation
	Stalled  Outcome = "stall"  // it waited longer than the stall threshold
)

// Session is the kind of connection a probe ran on.
type Session string

const (
	// LongLived is the release's own connection, held from the first state the
	// release runs in: its statements were prepared in earlier states, as a
	// running instance's are.
	LongLived Session = "long-lived"
	// Fresh is a connection opened for the probe, whose statements are parsed
	// against the schema as it is now, as a newly started instance's are.
	Fresh Session = "new"
)

// Event is one observation. Producers fill what they know; the zero value of a field
// means "not applicable".
type Event struct {
	Kind     Kind
	Engine   string        // engine spec string, e.g. "postgres:15"
	Boundary plan.Boundary // where it happened
	Window   plan.Window   // before, during or after the step
	Release  plan.Release  // "" for migration events
	Query    string        // query name, or command name for external workloads
	Outcome  Outcome
	Code     string // SQLSTATE / errno
	Class    string // normalized class (engine.Class)
	Message  string // error message, or for Mismatch "want …, got …"
	Latency  time.Duration
	// Statement is the 1-based statement of the migration step that was running (or
	// had last completed) when the event happened; 0 when unknown.
	Statement int
	// SQL is the statement text for migration events and stall holders.
	SQL string
	// Note is a remark on a migration step that applied: it was applied
	// again after the server chose it as a deadlock's victim.
	Note string
	// Location is the file and line of a migration statement that failed
	// ("0005_jobs.up.sql:12"): a step folds several files into the baseline.
	Location string
	// Holder describes the lock holder for stalls ("pid 123: ALTER TABLE …").
	Holder string
	// Output is kept for external command failures (truncated by the producer).
	Output string
	// Probe is set on the executions of a state probe: every query once on each
	// kind of session (Session), at a state no statement is changing. Traffic
	// (passes while a step runs, load clients) leaves it false.
	Probe   bool
	Session Session // the kind of connection of a probe; "" for traffic
	// AfterStatement is k for a probe of the state after statement k of a step
	// whose statements commit one by one (Window During); 0 otherwise. Then
	// StepStatements is the step's number of statements and SQL statement k.
	AfterStatement int
	StepStatements int
	// Schema is the database's schema once a migration step applied
	// (KindMigration); nil when it could not be read.
	Schema schema.Snapshot
}

// Sink receives events. Implementations are safe for concurrent use.
type Sink interface {
	Record(Event)
}

// CellKey identifies an aggregation cell.
type CellKey struct {
	Engine   string
	Boundary int // Boundary.Index
	Window   plan.Window
	Release  plan.Release
	Query    string
}

// Failure is one distinct failure (by outcome, code and message) in a cell.
type Failure struct {
	Outcome   Outcome
	Code      string
	Class     string
	Message   string
	Count     int64
	First     int64 // sequence number of the first occurrence, for stable ordering
	Statement int
	Latency   time.Duration // for stalls: the longest wait
	Holder    string
	SQL       string
	Output    string
	// Probe, Session and AfterStatement are the event's (see Event): a failure
	// seen by a probe and by traffic, or on both sessions, is two failures.
	Probe          bool
	Session        Session
	AfterStatement int
	StepStatements int
}

// Cell aggregates the events of one CellKey.
type Cell struct {
	Key      CellKey
	Boundary plan.Boundary
	Count    int64
	Errors   int64 // executions that did not end OK
	Latency  Histogram
	Failures []Failure // in order of first occurrence
}

// Migration is the outcome of applying one step on one engine.
type Migration struct {
	Engine    string
	Boundary  plan.Boundary
	Outcome   Outcome // OK or Error
	Code      string
	Class     string
	Message   string
	Statement int
	SQL       string
	Location  string // file:line of the statement that failed
	Note      string // a remark on a step that applied (Event.Note)
	Duration  time.Duration
	Output    string // output of an external migration command that failed
	// Schema is the schema after the step (nil when unknown).
	Schema schema.Snapshot
}

// Recorder is a Sink that aggregates events. Safe for concurrent use; mu protects
// all fields.
type Recorder struct {
	mu         sync.Mutex
	seq        int64
	cells      map[CellKey]*Cell
	migrations []Migration
	// maxDistinct caps the distinct failures kept per cell.
	maxDistinct int
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{cells: map[CellKey]*Cell{}, maxDistinct: 64}
}

var _ Sink = (*Recorder)(nil)

// Record folds e into its cell.
func (r *Recorder) Record(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	if e.Kind == KindMigration {
		r.migrations = append(r.migrations, Migration{
			Engine: e.Engine, Boundary: e.Boundary, Outcome: e.Outcome, Code: e.Code,
			Class: e.Class, Message: e.Message, Statement: e.Statement, SQL: e.SQL, Location: e.Location, Note: e.Note,
			Duration: e.Latency, Output: e.Output, Schema: e.Schema,
		})
		return
	}
	k := CellKey{Engine: e.Engine, Boundary: e.Boundary.Index, Window: e.Window, Release: e.Release, Query: e.Query}
	c := r.cells[k]
	if c == nil {
		c = &Cell{Key: k, Boundary: e.Boundary}
		r.cells[k] = c
	}
	if e.Kind != KindStall {
		c.Count++
		c.Latency.Record(e.Latency)
	}
	if e.Outcome == OK || e.Outcome == "" {
		return
	}
	if e.Kind != KindStall {
		c.Errors++
	}
	for i := range c.Failures {
		f := &c.Failures[i]
		if f.Outcome == e.Outcome && f.Code == e.Code && (f.Message == e.Message || e.Outcome == Stalled) &&
			f.Probe == e.Probe && f.Session == e.Session && f.AfterStatement == e.AfterStatement {
			f.Count++
			if e.Latency > f.Latency && e.Outcome == Stalled {
				f.Latency, f.Holder, f.Statement, f.SQL = e.Latency, e.Holder, e.Statement, e.SQL
			}
			return
		}
	}
	if len(c.Failures) >= r.maxDistinct {
		return
	}
	c.Failures = append(c.Failures, Failure{
		Outcome: e.Outcome, Code: e.Code, Class: e.Class, Message: e.Message, Count: 1,
		First: r.seq, Statement: e.Statement, Latency: e.Latency, Holder: e.Holder,
		SQL: e.SQL, Output: e.Output, Probe: e.Probe, Session: e.Session, AfterStatement: e.AfterStatement, StepStatements: e.StepStatements,
	})
}

// Snapshot is a deterministic copy of what was recorded.
type Snapshot struct {
	Cells      []Cell      // sorted by engine, boundary, release, window, query
	Migrations []Migration // in the order they were applied
}

// Snapshot returns the cells and migrations recorded so far.
func (r *Recorder) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{Migrations: append([]Migration(nil), r.migrations...)}
	for _, c := range r.cells {
		cc := *c
		cc.Failures = append([]Failure(nil), c.Failures...)
		s.Cells = append(s.Cells, cc)
	}
	sort.Slice(s.Cells, func(i, j int) bool {
		a, b := s.Cells[i].Key, s.Cells[j].Key
		if a.Engine != b.Engine {
			return a.Engine < b.Engine
		}
		if a.Boundary != b.Boundary {
			return a.Boundary < b.Boundary
		}
		if a.Release != b.Release {
			return a.Release > b.Release // old before new
		}
		if a.Window != b.Window {
			return a.Window.Order() < b.Window.Order()
		}
		return a.Query < b.Query
	})
	return s
}
