package release

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
)

// killer runs statements without handing the driver a cancellable context, and
// interrupts them server-side when the context is cancelled (the dialect's
// KillQuery, on another connection of the pool). go-sql-driver/mysql watches a
// cancellable context with a goroutine of its own per connection, handing each
// statement over to it and back: two goroutine wakeups per statement, a fifth of
// the client's CPU at load-mode rates, taken from the server it shares the
// machine with. Cancellation still stops a statement blocked on a lock. Safe for
// concurrent use; ids maps each driver connection to its server thread id.
type killer struct {
	db    *sql.DB
	kill  string // format string taking the thread id
	idSQL string
	ids   sync.Map // driver connection → int64 thread id
}

// newKiller returns the family's killer, or nil where the driver cancels
// cheaply itself (pgx): run then passes the context through.
func newKiller(db *sql.DB, f engine.Family) *killer {
	lm := engine.DialectOf(f).Monitor
	if lm.KillQuery == "" || lm.SessionID == "" {
		return nil
	}
	return &killer{db: db, kill: lm.KillQuery, idSQL: lm.SessionID}
}

// run executes rq like the package's run, on a connection of its own whose
// statement is killed if ctx is cancelled while it runs.
func (k *killer) run(ctx context.Context, ex execer, rq *runQuery, args []any, stmts *stmtCache) (result, error) {
	if k == nil {
		return run(ctx, ex, rq, args, stmts)
	}
	c, ok := ex.(*sql.Conn)
	if !ok {
		var err error
		if c, err = k.db.Conn(ctx); err != nil {
			return result{}, err
		}
		defer c.Close()
	}
	id := k.threadID(ctx, c)
	if id == 0 {
		return run(ctx, c, rq, args, stmts)
	}
	stop := context.AfterFunc(ctx, func() { k.interrupt(id) })
	defer stop()
	return run(context.WithoutCancel(ctx), c, rq, args, stmts)
}

// threadID returns the server's id of c's connection, asking the server the
// first time it sees the connection; 0 when it cannot tell.
func (k *killer) threadID(ctx context.Context, c *sql.Conn) int64 {
	var id int64
	_ = c.Raw(func(dc any) error {
		if v, ok := k.ids.Load(dc); ok {
			id = v.(int64)
			return nil
		}
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return nil
		}
		rows, err := q.QueryContext(ctx, k.idSQL, nil)
		if err != nil {
			return nil // not this connection's fault: no id, plain cancellation
		}
		defer rows.Close()
		dest := make([]driver.Value, 1)
		if err := rows.Next(dest); err != nil {
			return nil
		}
		switch v := dest[0].(type) {
		case int64:
			id = v
		case []byte:
			_, _ = fmt.Sscan(string(v), &id)
		}
		if id != 0 {
			k.ids.Store(dc, id)
		}
		return nil
	})
	return id
}

// interrupt kills thread id's statement, from another connection.
func (k *killer) interrupt(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = k.db.ExecContext(ctx, fmt.Sprintf(k.kill, id))
}
