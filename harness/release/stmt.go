package release

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	"github.com/go-sql-driver/mysql"
)

// stmtCache keeps, for every driver connection of a release's pool, the
// server-side prepared statement of each query it ran there, so that an execution
// with arguments is one round trip (COM_STMT_EXECUTE) — as an application that
// prepares its statements once per connection does (a Go program's db.Prepare,
// JDBC's useServerPrepStmts with cachePrepStmts) — instead of database/sql's
// prepare, execute and close for each one. It is the MySQL/MariaDB counterpart of
// pgx's statement cache on PostgreSQL; the statements outlive schema changes as
// they do in those applications (the server re-prepares them itself after DDL; an
// execution the server refuses with "needs to be re-prepared" or an unknown
// statement handle is prepared again and retried once, as Connector/J does).
//
// Safe for concurrent use: conns is keyed by the driver connection, which
// database/sql hands to one goroutine at a time (Conn.Raw), and each connection's
// map is only touched under Raw.
type stmtCache struct {
	conns sync.Map // driver connection → *connStmts
}

// connStmts is one connection's statements, by query.
type connStmts struct {
	stmts map[*runQuery]driver.Stmt
}

// reprepare reports whether err says a prepared statement must be prepared again:
// ER_NEED_REPREPARE (1615, the server gave up re-preparing it after DDL) and
// ER_UNKNOWN_STMT_HANDLER (1243, the server no longer has it).
func reprepare(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1615 || me.Number == 1243)
}

// run executes rq with args as the connection's prepared statement, preparing it
// the first time. handled is false when the statement could not be run this way
// (the connection is bad, or the driver has no prepared statements): the caller
// then takes database/sql's path, which retries on another connection or reports
// the loss. A statement the server refuses to prepare (a table that does not
// exist) is an execution error, as it is for database/sql's prepare.
func (sc *stmtCache) run(ctx context.Context, ex execer, rq *runQuery, args []any) (res result, handled bool, err error) {
	c, release, ok := connOf(ctx, ex)
	if !ok {
		return result{}, false, nil // let the usual path run it, or report the loss
	}
	defer release()
	skip := false
	err = c.Raw(func(dc any) error {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			skip = true
			return nil
		}
		cs := sc.of(dc)
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		for attempt := 0; ; attempt++ {
			st := cs.stmts[rq]
			if st == nil {
				var err error
				if st, err = p.PrepareContext(ctx, rq.sql); err != nil {
					return err
				}
				cs.stmts[rq] = st
			}
			res, err = execStmt(ctx, st, rq, nv)
			if errors.Is(err, driver.ErrSkip) {
				skip = true
				return nil
			}
			if err == nil || attempt > 0 || !reprepare(err) {
				return err
			}
			_ = st.Close()
			delete(cs.stmts, rq)
		}
	})
	if skip || errors.Is(err, driver.ErrBadConn) {
		if errors.Is(err, driver.ErrBadConn) {
			sc.forget(c)
		}
		return result{}, false, nil
	}
	return res, true, err
}

// of returns dc's statements, making the map the first time.
func (sc *stmtCache) of(dc any) *connStmts {
	if v, ok := sc.conns.Load(dc); ok {
		return v.(*connStmts)
	}
	cs := &connStmts{stmts: map[*runQuery]driver.Stmt{}}
	sc.conns.Store(dc, cs)
	return cs
}

// forget drops the statements of c's driver connection (it went bad: the server
// freed them with the session).
func (sc *stmtCache) forget(c *sql.Conn) {
	_ = c.Raw(func(dc any) error {
		sc.conns.Delete(dc)
		return nil
	})
}

// execStmt runs a prepared statement: rows read and counted for a query that reads
// them, rows affected for the others.
func execStmt(ctx context.Context, st driver.Stmt, rq *runQuery, nv []driver.NamedValue) (result, error) {
	if rq.reads {
		q, ok := st.(driver.StmtQueryContext)
		if !ok {
			return result{}, driver.ErrSkip
		}
		rows, err := q.QueryContext(ctx, nv)
		if err != nil {
			return result{}, err
		}
		return readRows(rows, rq.q.Expect != nil && rq.q.Expect.Value != nil)
	}
	e, ok := st.(driver.StmtExecContext)
	if !ok {
		return result{}, driver.ErrSkip
	}
	r, err := e.ExecContext(ctx, nv)
	if err != nil {
		return result{}, err
	}
	n, err := r.RowsAffected()
	return result{rows: n}, err
}
