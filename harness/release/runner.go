package release

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/sqltext"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

// ErrConnLost is wrapped by the error Pass returns when the database went away (the
// connection was refused, reset or closed, the server shut down). It is an
// environment failure, never a compatibility finding.
var ErrConnLost = errors.New("database connection lost")

// Counter hands out the numbers "{{n}}" becomes. Next must be safe for concurrent
// use and never return the same number twice in a run, across releases and engines,
// so inserts into unique columns do not collide.
type Counter interface {
	Next() int64
}

// Sequence is a Counter that counts up from 1. The zero value is ready to use;
// safe for concurrent use.
type Sequence struct{ n atomic.Int64 }

// Next returns the next number.
func (s *Sequence) Next() int64 { return s.n.Add(1) }

// processSequence numbers executions of runners given no Counter: unique across
// the process, hence across the run.
var processSequence Sequence

// Option configures a Runner.
type Option func(*Runner)

// WithCounter numbers executions with c instead of the process-wide sequence.
func WithCounter(c Counter) Option { return func(r *Runner) { r.counter = c } }

// Runner executes one release's workload against one database. Pass may be called
// concurrently; each call runs its queries one after the other. A Runner should
// live for the whole rollout: it keeps using the pool it was given (so server-side
// prepared statements outlive schema changes, as in applications) and it generates
// arguments for queries without "-- args:" once.
type Runner struct {
	w       *workload.Workload
	db      *sql.DB
	freshDB *sql.DB // WithFreshPool: new connections come from it
	family  engine.Family
	counter Counter
	queries []runQuery
	tag     bool       // prefix each query with its Tag (WithTags)
	execs   []execRef  // the executions of one pass, in order (Execute)
	kill    *killer    // interrupts statements run without a cancellable context (kill.go)
	stmts   *stmtCache // statements prepared per connection (stmt.go); nil where the driver keeps them

	mu  sync.Mutex
	gen map[string]*Generated // mu protects gen: generated arguments by query name
	// pending are the foreign keys of generated arguments still without a row
	// to reference, by query name; mu protects it.
	pending map[string][]pendingKey

	writes *WriteSet // tables the rollout's releases write (WithWriteSet)
	// compiled is set once the stars of sqlc-compiled queries were expanded
	// (compile); it and the queries' text are changed by Probe only.
	compiled bool
	// probeMu serializes probes; it protects long and shapes.
	probeMu sync.Mutex
	long    *sql.Conn          // the probes' long-lived session, from the first probe on
	shapes  map[execRef]*shape // what each read returned at the last probe
}

// runQuery is a query rendered for the runner's family.
type runQuery struct {
	q     *workload.Query
	sql   string
	order []int // argument index of each bind parameter
	reads bool
	copy  *copyFrom // a :copyfrom query sent as COPY (PostgreSQL)
	// inTx is set for a statement that only runs in a transaction block
	// (PostgreSQL's LOCK TABLE: 25P01 outside one), which the application
	// sends inside its own: straddle wraps it in one.
	inTx bool
}

// needsTransaction reports whether q only runs inside a transaction block on
// family.
func needsTransaction(q *workload.Query, family engine.Family) bool {
	if family != engine.Postgres {
		return false
	}
	toks, err := sqltext.Lex(q.SQL, sqltext.For(family))
	if err != nil {
		return false
	}
	for _, t := range toks {
		if t.Kind == sqltext.Word {
			return strings.EqualFold(t.Text, "LOCK")
		}
	}
	return false
}

// NewRunner returns a runner for the queries of w that apply to family, executed
// through db: the long-lived pool of the release (pgx stdlib on postgres, whose
// default mode caches a prepared statement per query and connection;
// go-sql-driver/mysql on mysql, whose statements with arguments the runner
// prepares once per connection and keeps, for w.Binding prepared; db binds
// arguments as w.Binding says). The caller keeps db open across the rollout and
// closes it after, and does not change w while the runner is in use.
func NewRunner(w *workload.Workload, db *sql.DB, family engine.Family, opts ...Option) (*Runner, error) {
	r := &Runner{w: w, db: db, family: family, counter: &processSequence, gen: map[string]*Generated{}, pending: map[string][]pendingKey{}}
	for _, o := range opts {
		o(r)
	}
	for i := range w.Queries {
		q := &w.Queries[i]
		if !q.Applies(family) {
			continue
		}
		text, order, err := q.For(family)
		if err != nil {
			return nil, plan.Errorf(q.File, q.Line, "%v", err)
		}
		tag := ""
		if r.tag {
			tag = traffic.Tag(w.Release, q.Name)
		}
		cp := copyOf(q, family, text, tag)
		if r.tag {
			text = tag + " " + text
		}
		r.queries = append(r.queries, runQuery{q: q, sql: text, order: order, reads: q.ReadsRows(), copy: cp, inTx: needsTransaction(q, family)})
	}
	r.execs = executions(r.queries)
	if !w.FreshConnections { // a fresh connection per pass: nothing to remember
		r.kill = newKiller(db, family)
		if (w.Binding == "" || w.Binding == engine.BindPrepared) && !engine.DialectOf(family).DriverCachesStatements {
			r.stmts = &stmtCache{}
		}
	}
	return r, nil
}

// execer is what a pass executes through: the pool, or one connection.
type execer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PingContext(ctx context.Context) error
}

var (
	_ execer = (*sql.DB)(nil)
	_ execer = (*sql.Conn)(nil)
)

// Pass executes every query of the workload that applies to the runner's family,
// once per argument set, one after the other, and records one observe.Event per
// execution into sink: Outcome OK, Error (with the server's code, class and
// message) or Mismatch (the data check of "-- expect:" failed), and its latency.
//
// workload.Query failures are recorded, not returned. Pass returns ctx.Err() when ctx is
// cancelled (the execution it interrupted is not recorded), and an error wrapping
// ErrConnLost when the database went away. It returns nil early once where.Stop is
// closed.
func (r *Runner) Pass(ctx context.Context, where traffic.Where, sink observe.Sink) error {
	var ex execer = r.db
	var conn *sql.Conn
	if r.w.FreshConnections {
		c, err := r.fresh(ctx)
		if err != nil {
			return err
		}
		defer discard(c)
		conn, ex = c, c
	}
	for i := range r.queries {
		rq := &r.queries[i]
		sets := rq.q.Args
		if rq.q.NoArgs {
			if where.Stopped() {
				return nil
			}
			g, ev, err := r.generated(ctx, conn, rq, where)
			if err != nil {
				return err
			}
			if ev != nil {
				sink.Record(*ev)
				continue
			}
			sets = [][]workload.Arg{g.Args}
		}
		if len(sets) == 0 {
			sets = [][]workload.Arg{nil}
		}
		for _, set := range sets {
			if where.Stopped() {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			ev, err := r.execute(ctx, nil, ex, rq, set, where)
			if err != nil {
				return err
			}
			sink.Record(ev)
		}
	}
	return nil
}

// discard closes c and its physical connection instead of returning it to the pool,
// so the next pass gets a fresh one.
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}

// result is what an execution returned.
type result struct {
	rows     int64 // rows read, or rows affected
	first    any   // first column of the first row
	hasFirst bool
}

func (r *Runner) event(rq *runQuery, where traffic.Where) observe.Event {
	return observe.Event{
		Kind: observe.KindQuery, Engine: where.Engine, Boundary: where.Boundary,
		Window: where.Window, Release: r.w.Release, Query: rq.q.Name,
	}
}

// execute runs rq once with set and returns its event. The error is for ctx
// cancellation and lost connections only. With quiet (ctx without its
// cancellation) the statement runs on quiet and the caller interrupts it when
// ctx ends.
func (r *Runner) execute(ctx, quiet context.Context, ex execer, rq *runQuery, set []workload.Arg, where traffic.Where) (observe.Event, error) {
	n := r.counter.Next()
	args := make([]any, len(rq.order))
	for i, k := range rq.order {
		args[i] = set[k].Value(n)
	}
	ev := r.event(rq, where)
	if where.Observe || rq.inTx {
		// Not required here: roll back what it writes (Where.Observe); or a
		// statement that only runs in a transaction block (LOCK TABLE),
		// committed. On one connection for the transaction.
		end := "COMMIT"
		if where.Observe {
			end = "ROLLBACK"
		}
		c, ok := ex.(*sql.Conn)
		if !ok {
			var err error
			if c, err = r.fresh(ctx); err != nil {
				return ev, err
			}
			defer c.Close()
		}
		if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
			return r.failed(ctx, c, ev, rq, err)
		}
		defer c.ExecContext(context.WithoutCancel(ctx), end) //nolint:errcheck // a lost connection ends the transaction too
		ex = c
	}
	start := time.Now()
	var res result
	var err error
	if quiet != nil {
		res, err = run(quiet, ex, rq, args, r.stmts)
	} else {
		res, err = r.kill.run(ctx, ex, rq, args, r.stmts)
	}
	ev.Latency = time.Since(start)
	if where.Statement != nil {
		ev.Statement = where.Statement()
	}
	if err != nil {
		return r.failed(ctx, ex, ev, rq, err)
	}
	ev.Outcome = observe.OK
	if msg := mismatch(rq.q.Expect, res, n); msg != "" {
		ev.Outcome, ev.Message = observe.Mismatch, msg
	}
	return ev, nil
}

// run executes rq: a query whose rows are read and counted (the first row is
// scanned generically), or a statement whose affected rows are counted. With
// stmts (MySQL/MariaDB, Binding prepared) a statement with arguments runs as the
// connection's prepared statement.
func run(ctx context.Context, ex execer, rq *runQuery, args []any, stmts *stmtCache) (result, error) {
	if rq.copy != nil {
		return rq.copy.run(ctx, ex, args)
	}
	if stmts != nil && len(args) > 0 {
		if res, ok, err := stmts.run(ctx, ex, rq, args); ok {
			return res, err
		}
	}
	if !rq.reads {
		res, err := ex.ExecContext(ctx, rq.sql, args...)
		if err != nil {
			return result{}, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return result{}, err
		}
		return result{rows: n}, nil
	}
	if res, ok, err := queryDirect(ctx, ex, rq, args); ok {
		return res, err
	}
	rows, err := ex.QueryContext(ctx, rq.sql, args...)
	if err != nil {
		return result{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return result{}, err
	}
	var res result
	for rows.Next() {
		if res.rows == 0 && len(cols) > 0 {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return res, err
			}
			res.first, res.hasFirst = vals[0], true
		}
		res.rows++
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	return res, rows.Close()
}

// failed turns an execution error into its event, or into the error Pass returns
// when it is not the query's fault.
func (r *Runner) failed(ctx context.Context, ex execer, ev observe.Event, rq *runQuery, err error) (observe.Event, error) {
	if ctx.Err() != nil {
		return ev, ctx.Err()
	}
	de := engine.Classify(err)
	switch {
	case de != nil && !de.Gone:
		if e := rq.q.Expect; e != nil && e.Error != "" && e.Error == de.Class {
			ev.Outcome = observe.OK
			return ev, nil
		}
		ev.Outcome, ev.Code, ev.Class, ev.Message = observe.Error, de.Code, string(de.Class), de.Message
		return ev, nil
	case de != nil || connLost(err) || !alive(ctx, ex):
		if ctx.Err() != nil {
			return ev, ctx.Err()
		}
		return ev, fmt.Errorf("query %s: %w: %w", rq.q.Name, ErrConnLost, err)
	}
	// The connection is fine and the server said nothing: the driver refused the
	// call (an argument it cannot encode for the parameter's type). Old code would
	// fail the same way, so it is a finding, without a server code.
	ev.Outcome, ev.Class, ev.Message = observe.Error, string(engine.ClassOther), err.Error()
	return ev, nil
}

// connLost reports whether err says the connection is gone.
func connLost(err error) bool {
	for _, target := range []error{driver.ErrBadConn, sql.ErrConnDone, io.EOF, io.ErrUnexpectedEOF, mysql.ErrInvalidConn, net.ErrClosed} {
		if errors.Is(err, target) {
			return true
		}
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// alive pings the database, to tell a lost connection from a client-side error.
func alive(ctx context.Context, ex execer) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return ex.PingContext(ctx) == nil
}

// mismatch returns "" when res satisfies e (nil checks nothing), else the
// mismatch message: "want rows=1, got 0".
func mismatch(e *workload.Expect, res result, n int64) string {
	if e == nil {
		return ""
	}
	if e.Error != "" {
		return fmt.Sprintf("want error=%s, got no error", e.Error)
	}
	if !e.Rows.Holds(res.rows) {
		return fmt.Sprintf("want rows%s%d, got %d", e.Rows.Op, e.Rows.N, res.rows)
	}
	if e.Value == nil {
		return ""
	}
	want := workload.Arg{Kind: e.Value.Kind, Text: e.Value.Expand(n)}
	if !res.hasFirst {
		return fmt.Sprintf("want value=%s, got no rows", want)
	}
	got, null := asText(res.first)
	switch {
	case null && want.Kind == workload.ArgNull:
		return ""
	case null:
		return fmt.Sprintf("want value=%s, got NULL", want)
	case want.Kind != workload.ArgNull && got == want.Text:
		return ""
	}
	return fmt.Sprintf("want value=%s, got %s", want, workload.Arg{Kind: workload.ArgString, Text: got})
}

// asText renders a scanned value as text, the way the server would print it where
// it can tell; null reports SQL NULL.
func asText(v any) (s string, null bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case []byte:
		return string(v), false
	case string:
		return v, false
	case int64:
		return strconv.FormatInt(v, 10), false
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), false
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32), false
	case bool:
		return strconv.FormatBool(v), false
	case time.Time:
		return v.Format(time.RFC3339Nano), false
	}
	return fmt.Sprint(v), false
}

// fresh opens a new connection for FreshConnections; the caller discards it. An
// error is ctx's, or wraps ErrConnLost.
func (r *Runner) fresh(ctx context.Context) (*sql.Conn, error) {
	db := r.db
	if r.freshDB != nil {
		db = r.freshDB
	}
	c, err := db.Conn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("open connection: %w: %w", ErrConnLost, err)
	}
	return c, nil
}
