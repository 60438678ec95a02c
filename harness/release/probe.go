package release

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

// Probe runs every query of the workload that applies to the runner's family, once
// per argument set, at a state no statement is changing: first all of them on the
// release's long-lived session (one connection held from the runner's first probe
// on, whose statements were prepared in earlier states, as a running instance's
// are), then all of them on a new connection (parsed against the schema as it is
// now, as a newly started instance's are). Each execution is recorded with Probe
// set and its Session.
//
// On the long-lived session a release writes for real unless where.Observe is set
// (it is not required here). On the new connection every execution runs in a
// transaction that is rolled back: the release's writes already happened once on
// its long-lived session, and the new connection is there to see how the server
// parses each query now.
//
// A read query's result is compared with what it returned at the previous probe,
// on new connections: columns gone or reordered, a column's type changed to
// another kind or narrowed, and — where its arguments are fixed and no release
// writes the tables it reads (WithWriteSet) — its value. A change is recorded as
// a Mismatch event with Code ResultColumns, ResultType or ResultValue.
//
// Probe is not safe for concurrent use with itself; Pass and Execute may run at
// the same time. Its errors are those of Pass.
func (r *Runner) Probe(ctx context.Context, where traffic.Where, sink observe.Sink) error {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	long, err := r.longLived(ctx)
	if err != nil {
		return err
	}
	if where.Window == plan.After && !where.Observe {
		r.compile(ctx, long)
	}
	if err := r.probeOn(ctx, long, observe.LongLived, where.Observe, where, sink); err != nil {
		return err
	}
	fresh, err := r.fresh(ctx)
	if err != nil {
		return err
	}
	defer discard(fresh)
	return r.probeOn(ctx, fresh, observe.Fresh, true, where, sink)
}

// Close releases the long-lived session of the probes. The runner must not be
// used after.
func (r *Runner) Close() error {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	if r.long == nil {
		return nil
	}
	err := r.long.Close()
	r.long = nil
	return err
}

// ForgetResults drops the results remembered for comparison, so that the next
// probe compares nothing: the data was changed outside the releases (fixtures
// loaded between steps).
func (r *Runner) ForgetResults() {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	r.shapes = nil
}

// longLived returns the probes' long-lived connection, opening it the first time.
func (r *Runner) longLived(ctx context.Context) (*sql.Conn, error) {
	if r.long != nil {
		return r.long, nil
	}
	c, err := r.fresh(ctx)
	if err != nil {
		return nil, err
	}
	r.long = c
	return c, nil
}

// probeOn runs one probe's executions on c.
func (r *Runner) probeOn(ctx context.Context, c *sql.Conn, sess observe.Session, rollback bool, where traffic.Where, sink observe.Sink) error {
	for _, ref := range r.execs {
		rq := &r.queries[ref.query]
		set, gev, err := r.argsOf(ctx, c, ref, where)
		if err != nil {
			return err
		}
		if gev != nil {
			mark(gev, sess, where)
			sink.Record(*gev)
			r.forget(ref)
			continue
		}
		// Generated arguments hold {{n}}: only a file's fixed ones read the
		// same rows from one state to the next.
		fixed := ref.set >= 0 && !templated(set)
		ev, sh, err := r.probeOne(ctx, c, rq, set, rollback, where)
		if err != nil {
			return err
		}
		mark(&ev, sess, where)
		sink.Record(ev)
		if sess != observe.Fresh || !rq.reads {
			continue
		}
		if sh == nil {
			r.forget(ref)
			continue
		}
		sh.values = sh.values && fixed && r.writes.stable(rq.q)
		if prev := r.remember(ref, sh); prev != nil {
			if code, msg := compareResults(prev, sh); code != "" {
				mm := ev
				mm.Outcome, mm.Code, mm.Class, mm.Message = observe.Mismatch, code, "", msg
				mm.Latency = 0
				sink.Record(mm)
			}
		}
	}
	return nil
}

// remember stores the result of ref at this probe and returns the previous one.
func (r *Runner) remember(ref execRef, sh *shape) *shape {
	if r.shapes == nil {
		r.shapes = map[execRef]*shape{}
	}
	prev := r.shapes[ref]
	r.shapes[ref] = sh
	return prev
}

func (r *Runner) forget(ref execRef) { delete(r.shapes, ref) }

// templated reports whether some argument of set changes from one execution to
// the next ({{n}}, {{uuid}}).
func templated(set []workload.Arg) bool {
	for _, a := range set {
		if strings.Contains(a.Text, "{{") {
			return true
		}
	}
	return false
}

// probeOne runs rq once with set on c, in a transaction rolled back after it when
// rollback is set, and returns its event and, for a read that succeeded, its
// result's shape. The error is for ctx cancellation and lost connections only.
func (r *Runner) probeOne(ctx context.Context, c *sql.Conn, rq *runQuery, set []workload.Arg, rollback bool, where traffic.Where) (observe.Event, *shape, error) {
	n := r.counter.Next()
	args := make([]any, len(rq.order))
	for i, k := range rq.order {
		args[i] = set[k].Value(n)
	}
	ev := r.event(rq, where)
	if where.AfterStatement > 0 {
		ev.Statement = where.AfterStatement
	}
	if rollback || rq.inTx {
		if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
			ev, err = r.failed(ctx, c, ev, rq, err)
			return ev, nil, err
		}
	}
	start := time.Now()
	res, sh, err := probeRun(ctx, c, rq, args)
	ev.Latency = time.Since(start)
	if !rollback && rq.inTx {
		if _, cerr := c.ExecContext(context.WithoutCancel(ctx), "COMMIT"); cerr != nil && err == nil {
			err = cerr
		}
	}
	if rollback {
		// A failed statement may have ended the transaction already (MySQL rolls
		// back on a deadlock); ROLLBACK then is a no-op with a warning.
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		ev, err = r.failed(ctx, c, ev, rq, err)
		return ev, nil, err
	}
	ev.Outcome = observe.OK
	if msg := mismatch(rq.q.Expect, res, n); msg != "" {
		ev.Outcome, ev.Message = observe.Mismatch, msg
	}
	return ev, sh, nil
}

// maxShapeRows bounds the rows a probe keeps of a result to compare values: a
// single-row read is what the value check is for.
const maxShapeRows = 1

// probeRun executes rq on c and, for a read, reads every row and describes the
// result.
func probeRun(ctx context.Context, c *sql.Conn, rq *runQuery, args []any) (result, *shape, error) {
	if !rq.reads {
		res, err := run(ctx, c, rq, args, nil)
		return res, nil, err
	}
	rows, err := c.QueryContext(ctx, rq.sql, args...)
	if err != nil {
		return result{}, nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return result{}, nil, err
	}
	sh := &shape{values: true}
	for _, ct := range cts {
		sh.cols = append(sh.cols, describeColumn(ct))
	}
	var res result
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return res, nil, err
		}
		if res.rows == 0 && len(vals) > 0 {
			res.first, res.hasFirst = vals[0], true
		}
		if res.rows < maxShapeRows {
			row := make([]cellValue, len(vals))
			for i, v := range vals {
				row[i].text, row[i].null = asText(v)
			}
			sh.rows = append(sh.rows, row)
		}
		res.rows++
	}
	if err := rows.Err(); err != nil {
		return res, nil, err
	}
	sh.count = res.rows
	return res, sh, rows.Close()
}

// WriteSet is the set of tables that some release of a rollout writes, shared by
// the runners of its releases: a read of a table no release writes returns the
// same values from one state to the next unless a migration step changes them.
// Safe for concurrent use.
type WriteSet struct {
	mu     sync.Mutex
	tables map[string]bool
	all    bool
}

// Add records the tables w's queries write.
func (s *WriteSet) Add(w *workload.Workload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tables == nil {
		s.tables = map[string]bool{}
	}
	for i := range w.Queries {
		_, writes := w.Queries[i].Tables()
		for _, t := range writes {
			s.tables[t] = true
		}
	}
}

// AddAll records a release whose writes cannot be known (an external command):
// no read is then compared by value.
func (s *WriteSet) AddAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = true
}

// stable reports whether q's values can be compared between states: it is a
// plain read, and no release writes a table it reads. A nil set knows no
// writer: nothing is compared.
func (s *WriteSet) stable(q *workload.Query) bool {
	if s == nil {
		return false
	}
	reads, writes := q.Tables()
	if len(writes) > 0 || len(reads) == 0 || q.Volatile() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all {
		return false
	}
	for _, t := range reads {
		if s.tables[t] {
			return false
		}
	}
	return true
}

// WithWriteSet shares ws with the runner: the tables every release of the
// rollout writes, for comparing a read's values between states (Probe). The
// caller adds every release's workload to it.
func WithWriteSet(ws *WriteSet) Option { return func(r *Runner) { r.writes = ws } }

// WithFreshPool gives the runner the pool its new connections come from (probes
// on a new connection, FreshConnections traffic): one that keeps no idle
// connection, so that each is really new. Without it they come from the
// runner's own pool, which may hand back an idle connection that prepared the
// release's statements in an earlier state.
func WithFreshPool(db *sql.DB) Option { return func(r *Runner) { r.freshDB = db } }

// describeColumn reads what a result column's type is.
func describeColumn(ct *sql.ColumnType) column {
	c := column{name: ct.Name(), typ: strings.ToUpper(ct.DatabaseTypeName()), length: -1, precision: -1, scale: -1}
	if n, ok := ct.Length(); ok {
		c.length = n
	}
	if p, s, ok := ct.DecimalSize(); ok {
		c.precision, c.scale = p, s
	}
	return c
}

// String renders the column's type the way a schema would: "numeric(10,2)",
// "varchar(50)".
func (c column) typeString() string {
	t := strings.ToLower(c.typ)
	switch {
	case c.precision > 0 && c.scale >= 0 && c.precision < 1000:
		return fmt.Sprintf("%s(%d,%d)", t, c.precision, c.scale)
	case c.length > 0 && c.length < 1<<20:
		return fmt.Sprintf("%s(%d)", t, c.length)
	}
	return t
}

// mark makes ev a probe's event, on session sess, at where.
func mark(ev *observe.Event, sess observe.Session, where traffic.Where) {
	ev.Probe, ev.Session = true, sess
	if where.AfterStatement > 0 {
		ev.AfterStatement, ev.StepStatements, ev.SQL = where.AfterStatement, where.StepStatements, where.StatementSQL
	}
}

// compile expands, once, the star projections of the queries sqlc compiled
// (workload.Query.Compiled) into the column lists of the schema the database has now, as
// sqlc wrote them into the release's code: the schema of the first state where
// the release is required (its own: the baseline for the old release, the end of
// expand for the new one). A query that cannot be expanded (a table it names is
// not there) is kept as written; it then fails where the release runs it. Called
// by Probe only, when no traffic of the release runs.
func (r *Runner) compile(ctx context.Context, c Querier) {
	if r.compiled {
		return
	}
	r.compiled = true
	for i := range r.queries {
		rq := &r.queries[i]
		if !rq.q.Compiled {
			continue
		}
		out, err := ExpandStars(ctx, c, r.family, []workload.Query{*rq.q})
		if err != nil || len(out) != 1 || out[0].SQL == rq.q.SQL {
			continue
		}
		q := out[0]
		text, order, err := q.For(r.family)
		if err != nil {
			continue
		}
		if r.tag {
			text = traffic.Tag(r.w.Release, q.Name) + " " + text
		}
		*rq = runQuery{q: &q, sql: text, order: order, reads: q.ReadsRows()}
	}
}

// Compile expands the star projections of the queries sqlc compiled, as sqlc
// did for the release's code, against the schema of the database c is connected
// to: the release's own schema, built by the caller (a rollout applied to a
// scratch database up to that schema). Later probes then do not expand them
// again. Call it before the runner is used.
func (r *Runner) Compile(ctx context.Context, c Querier) {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	r.compile(ctx, c)
}

// Compiles reports whether some query of the runner is one sqlc compiled, whose
// stars Compile expands.
func (r *Runner) Compiles() bool {
	for _, rq := range r.queries {
		if rq.q.Compiled {
			return true
		}
	}
	return false
}

// Release is the release whose workload the runner runs.
func (r *Runner) Release() plan.Release { return r.w.Release }

// Texts returns the SQL each query runs, by query name (stars expanded once
// Probe compiled them). It must not run concurrently with Probe.
func (r *Runner) Texts() map[string]string {
	out := make(map[string]string, len(r.queries))
	for _, rq := range r.queries {
		out[rq.q.Name] = rq.sql
	}
	return out
}
