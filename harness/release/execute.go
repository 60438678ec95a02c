package release

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

// WithTags prefixes every query the runner sends with its Tag, so that a lock
// monitor can tell which release's query waits and what it waits for. The
// statement text differs from the file's only by that comment.
func WithTags() Option { return func(r *Runner) { r.tag = true } }

// execRef is one execution of a pass: a query and its argument set (-1 for
// generated arguments; 0 for a query without "-- args:" lines and without
// placeholders).
type execRef struct {
	query int
	set   int
}

// executions lists the executions of one pass in the order Pass runs them.
func executions(qs []runQuery) []execRef {
	var out []execRef
	for i, rq := range qs {
		switch {
		case rq.q.NoArgs:
			out = append(out, execRef{i, -1})
		case len(rq.q.Args) == 0:
			out = append(out, execRef{i, 0})
		default:
			for k := range rq.q.Args {
				out = append(out, execRef{i, k})
			}
		}
	}
	return out
}

// Executions is the number of executions in one pass over the workload: one per
// query and argument set that applies to the runner's family.
func (r *Runner) Executions() int { return len(r.execs) }

// Execute runs execution i mod Executions() of the workload — the executions a
// Pass runs, in the same order — and records its event into sink, exactly as
// Pass would. Load drivers call it from several goroutines with their own
// execution numbers, so that concurrent clients share the workload's queries.
// Safe for concurrent use. Its errors are those of Pass: ctx cancellation and
// lost connections.
func (r *Runner) Execute(ctx context.Context, where traffic.Where, sink observe.Sink, i int64) error {
	return r.executeOn(ctx, nil, nil, where, sink, i)
}

// Client is one load-mode client: it runs its executions on one connection of
// the release's pool, held for as long as the client lives, as an application
// worker under steady load keeps its connection busy. That skips the pool's
// checkout for every execution, and the liveness check go-sql-driver/mysql makes
// at each checkout (a syscall per statement). With FreshConnections each
// execution still gets a new connection. Not safe for concurrent use; Close
// returns the connection to the pool.
type Client struct {
	r *Runner
	c *sql.Conn // nil with FreshConnections
	w *watch    // nil when the connection's statements cannot be interrupted from outside
}

// watch is how a client's statements are cancelled: the client registers once,
// for as long as it lives, to interrupt its connection's statement server-side
// when its context ends (pgx's cancel request; the dialect's KillQuery on
// MySQL/MariaDB), and hands the driver its context without the cancellation.
// Handing each statement a cancellable context instead makes the drivers watch
// it per statement: pgx registers and drops a context.AfterFunc (a third of its
// allocations per execution), go-sql-driver/mysql hands the statement to a
// goroutine of its own and back.
type watch struct {
	ctx   context.Context // the client's context
	quiet context.Context // ctx without its cancellation, for the driver
	busy  atomic.Bool     // a statement may be running: set before ctx is checked
	stop  func() bool
}

// The rollout runner drives a Runner directly: a pass, a probe, one execution
// at a time, and a connection per load-mode client.
var (
	_ traffic.Workload  = (*Runner)(nil)
	_ traffic.Prober    = (*Runner)(nil)
	_ traffic.Executor  = (*Runner)(nil)
	_ traffic.Connector = (*Runner)(nil)
	_ traffic.Conn      = (*Client)(nil)
)

// Connect is Client as a traffic.Connector: a load-mode client's connection.
func (r *Runner) Connect(ctx context.Context) (traffic.Conn, error) {
	c, err := r.Client(ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Client returns a client holding a connection of the pool. Its error wraps
// ErrConnLost when no connection can be had.
func (r *Runner) Client(ctx context.Context) (*Client, error) {
	if r.w.FreshConnections {
		return &Client{r: r}, nil
	}
	c, err := r.db.Conn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("open connection: %w: %w", ErrConnLost, err)
	}
	cl := &Client{r: r, c: c}
	if ctx.Done() == nil {
		return cl, nil
	}
	w := &watch{ctx: ctx, quiet: context.WithoutCancel(ctx)}
	if interrupt := r.interrupter(ctx, c, &w.busy); interrupt != nil {
		w.stop = context.AfterFunc(ctx, func() {
			if w.busy.Load() {
				interrupt()
			}
		})
		cl.w = w
	}
	return cl, nil
}

// interrupter returns a function that interrupts the statement c's connection
// runs, from outside it; nil when there is none. On PostgreSQL it sends pgx's
// cancel request and, should the statement still run after cancelWait (a
// server that does not answer), ends the connection's read, as pgx's own
// context handling does.
func (r *Runner) interrupter(ctx context.Context, c *sql.Conn, busy *atomic.Bool) func() {
	var pg *pgconn.PgConn
	_ = c.Raw(func(dc any) error {
		if pc, ok := dc.(pgxConn); ok {
			pg = pc.Conn().PgConn()
		}
		return nil
	})
	if pg != nil {
		return func() {
			ctx, cancel := context.WithTimeout(context.Background(), cancelWait)
			defer cancel()
			_ = pg.CancelRequest(ctx)
			for t := time.Now(); busy.Load(); time.Sleep(10 * time.Millisecond) {
				if time.Since(t) > cancelWait {
					_ = pg.Conn().SetDeadline(time.Now()) // the read fails and pgx closes the connection
					return
				}
			}
		}
	}
	if r.kill == nil {
		return nil
	}
	id := r.kill.threadID(ctx, c)
	if id == 0 {
		return nil
	}
	return func() { r.kill.interrupt(id) }
}

// Execute is Runner.Execute on the client's connection.
func (c *Client) Execute(ctx context.Context, where traffic.Where, sink observe.Sink, i int64) error {
	w := c.w
	if w == nil || ctx != w.ctx {
		return c.r.executeOn(ctx, nil, c.c, where, sink, i)
	}
	// busy is set before ctx is checked: a cancellation either is seen here, or
	// finds busy set and interrupts the statement.
	w.busy.Store(true)
	defer w.busy.Store(false)
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.r.executeOn(ctx, w.quiet, c.c, where, sink, i)
}

// cancelWait is how long a cancelled statement may take to stop before the
// client's connection is broken off.
const cancelWait = 5 * time.Second

// Close returns the client's connection to the pool.
func (c *Client) Close() error {
	if c.w != nil {
		c.w.stop()
	}
	if c.c == nil {
		return nil
	}
	return c.c.Close()
}

// executeOn runs execution i on conn, or on the pool (a fresh connection with
// FreshConnections) when conn is nil.
// quiet, when set, is ctx without its cancellation, for the driver: the caller
// interrupts the statement itself (Client).
func (r *Runner) executeOn(ctx, quiet context.Context, conn *sql.Conn, where traffic.Where, sink observe.Sink, i int64) error {
	if len(r.execs) == 0 {
		return nil
	}
	ref := r.execs[uint64(i)%uint64(len(r.execs))]
	rq := &r.queries[ref.query]
	var ex execer = r.db
	if conn != nil {
		ex = conn
	} else if r.w.FreshConnections {
		c, err := r.fresh(ctx)
		if err != nil {
			return err
		}
		defer discard(c)
		conn, ex = c, c
	}
	set, failed, err := r.argsOf(ctx, conn, ref, where)
	if err != nil {
		return err
	}
	if failed != nil {
		sink.Record(*failed)
		return nil
	}
	ev, err := r.execute(ctx, quiet, ex, rq, set, where)
	if err != nil {
		return err
	}
	sink.Record(ev)
	return nil
}

// argsOf returns the argument set of execution ref: the one its "-- args:" line
// gives, or those generated for it (describing the query through conn, nil for a
// connection of the pool, the first time). When describing fails on the server,
// ev records that failure instead. err is ctx's, or a lost connection.
func (r *Runner) argsOf(ctx context.Context, conn *sql.Conn, ref execRef, where traffic.Where) (set []workload.Arg, ev *observe.Event, err error) {
	rq := &r.queries[ref.query]
	switch {
	case ref.set < 0:
		g, ev, err := r.generated(ctx, conn, rq, where)
		if err != nil || ev != nil {
			return nil, ev, err
		}
		return g.Args, nil, nil
	case len(rq.q.Args) > 0:
		return rq.q.Args[ref.set], nil, nil
	}
	return nil, nil, nil
}
