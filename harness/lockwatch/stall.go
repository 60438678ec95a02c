package lockwatch

import (
	"fmt"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

// DefaultMaxStall is the stall threshold checks and scenarios use unless told
// otherwise: a query of the old release held up this long by a migration step is
// downtime in all but name.
const DefaultMaxStall = time.Second

// stallSink passes every event on and, for a query execution during the step that
// took max or longer beyond its usual latency, records a stall event too: the
// wait, the step's statement that was running when the query began, and the lock
// and who held it. Where the lock monitor runs, a slow query is a stall only if
// the monitor saw it wait for the migration (holding the lock, or queued ahead
// for it): slowness from CPU or I/O contention shows in the latency figures, not
// as a blocking finding. Without a working monitor, latency alone decides. Safe
// for concurrent use (the recorder it wraps is).
type stallSink struct {
	next  observe.Sink
	max   time.Duration
	prog  *Progress
	mon   *Monitor
	stmts []migration.Statement // the step's
	// usual is each query's longest latency outside steps: the wait is what the
	// step added beyond it.
	usual *Usual
	// instant is set when every statement of the step only changes metadata
	// (instant.go): then only a lock-queue wait — the step itself seen waiting
	// behind someone — is a stall; a longer wait is the machine's slowness.
	instant bool
}

var _ observe.Sink = (*stallSink)(nil)

// StallSink returns the sink for the events of the releases' queries while a
// step with statements stmts applies on family f: it passes every event on to
// next and records a stall too for a query execution that the step held up by max
// or longer beyond its usual latency (usual), with the statement that held it
// (prog) and the lock and its holder (mon; nil judges by latency alone).
func StallSink(next observe.Sink, max time.Duration, f engine.Family, stmts []migration.Statement, prog *Progress, mon *Monitor, usual *Usual) observe.Sink {
	return &stallSink{next: next, max: max, prog: prog, mon: mon, stmts: stmts, usual: usual, instant: InstantStep(f, stmts)}
}

func (s *stallSink) Record(e observe.Event) {
	s.next.Record(e)
	if e.Kind != observe.KindQuery || e.Window != plan.During || e.Latency-s.usual.of(e.Release, e.Query) < s.max {
		return
	}
	st := observe.Event{
		Kind: observe.KindStall, Engine: e.Engine, Boundary: e.Boundary, Window: e.Window,
		Release: e.Release, Query: e.Query, Outcome: observe.Stalled, Latency: e.Latency,
		Message: fmt.Sprintf("waited longer than the %s stall threshold", s.max),
	}
	// The statement running when the query began to wait holds the lock (on
	// PostgreSQL it keeps it to the end of the step's transaction).
	began := time.Now().Add(-e.Latency)
	w, seen, blind := s.mon.lookup(e.Release, e.Query)
	if !blind && (!seen || w.held.Before(began)) {
		return // the monitor watched, and this execution never waited for the step
	}
	if !blind && s.instant && w.holder.migration && !s.longQueue(w.behind) {
		// A catalog-only step held the lock this long while waiting for nobody,
		// or only for a query that always finishes well within the threshold:
		// every core was busy. It shows in the latency figures, not as a finding
		// that would come and go with the machine's load.
		return
	}
	st.Statement = s.prog.At(began)
	if st.Statement == 0 && len(s.stmts) > 0 {
		st.Statement = 1 // it began as the step began
	}
	// In a transaction a lock is held to the end of the step: the statement
	// that took it, where known, is the one that held the query up.
	if seen && w.holder.migration && w.relation != "" {
		if k := s.prog.LockedBy(w.relation); k > 0 && k <= st.Statement {
			st.Statement = k
		}
	}
	if st.Statement > 0 && st.Statement <= len(s.stmts) {
		st.SQL = s.stmts[st.Statement-1].SQL
	}
	if seen {
		st.Holder = s.mon.describe(w, st.SQL)
	}
	s.next.Record(st)
}

// longQueue reports whether a catalog-only step that queued behind p can hold a
// query up for the threshold: p is a session, and not a release's query that
// always finishes within the threshold (its usual latency, when known, is under
// max). Queued behind a short INSERT, an instant step waits for milliseconds on
// a healthy machine; behind a three-second report, for up to three seconds.
// Another session, or a query never seen finishing outside a step, counts as
// long.
func (s *stallSink) longQueue(p *party) bool {
	if p == nil {
		return false
	}
	if p.release == "" {
		return true
	}
	u := s.usual.of(p.release, p.query)
	return u == 0 || u >= s.max
}

// Usual keeps, for each release's query, its longest latency outside steps (after
// windows, before windows). A query that is slow by nature — a report that always
// takes two seconds — is a stall only when a step holds it up by the threshold
// beyond that. Safe for concurrent use; mu protects max.
type Usual struct {
	mu  sync.Mutex
	max map[waitKey]time.Duration
}

// NewUsual returns an empty Usual.
func NewUsual() *Usual { return &Usual{max: map[waitKey]time.Duration{}} }

// Sink returns a sink that records into next and remembers in u the latencies of
// queries outside steps.
func (u *Usual) Sink(next observe.Sink) observe.Sink { return usualSink{next: next, u: u} }

func (u *Usual) of(rel plan.Release, query string) time.Duration {
	if u == nil {
		return 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.max[waitKey{rel, query}]
}

// usualSink records into next and remembers latencies outside steps in u.
type usualSink struct {
	next observe.Sink
	u    *Usual
}

func (s usualSink) Record(e observe.Event) {
	s.next.Record(e)
	if e.Kind != observe.KindQuery || e.Window == plan.During {
		return
	}
	k := waitKey{e.Release, e.Query}
	s.u.mu.Lock()
	if e.Latency > s.u.max[k] {
		s.u.max[k] = e.Latency
	}
	s.u.mu.Unlock()
}
