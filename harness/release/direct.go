package release

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// queryDirect runs a query that reads rows through the driver's own connection
// (database/sql's Conn.Raw) instead of DB.QueryContext. The result is the same —
// the same connection from the same pool, the same driver, the same statement
// cache, the same typed errors — minus database/sql's Rows machinery, which starts
// a goroutine per query to watch the context: at the load driver's rates that is
// a measurable share of the client's CPU, taken from the server it shares the
// machine with. handled is false when the driver wants database/sql to prepare the
// statement first (go-sql-driver/mysql with arguments: driver.ErrSkip) or the
// connection turned out bad before anything ran; the caller then takes the usual
// path, which retries on another connection.
func queryDirect(ctx context.Context, ex execer, rq *runQuery, args []any) (res result, handled bool, err error) {
	c, release, ok := connOf(ctx, ex)
	if !ok {
		return result{}, false, nil // let the usual path run it, or report the loss
	}
	defer release()
	skip := false
	first := rq.q.Expect != nil && rq.q.Expect.Value != nil
	err = c.Raw(func(dc any) error {
		if pc, ok := dc.(pgxConn); ok && !first {
			res, err = countPgx(ctx, pc.Conn(), rq.sql, args)
			return err
		}
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			skip = true
			return nil
		}
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := q.QueryContext(ctx, rq.sql, nv)
		if errors.Is(err, driver.ErrSkip) {
			skip = true
			return nil
		}
		if err != nil {
			return err
		}
		res, err = readRows(rows, first)
		return err
	})
	if skip || errors.Is(err, driver.ErrBadConn) {
		return result{}, false, nil
	}
	return res, true, err
}

// pgxConn is pgx stdlib's driver connection: the pgx connection under it.
type pgxConn interface{ Conn() *pgx.Conn }

// countPgx runs sql on pgx's connection itself and counts the rows, decoding
// none: what an execution whose first value nobody checks needs, without
// database/sql's driver layer (its argument copy, its Rows, a decoder per
// column and a conversion of every value). The statement goes as stdlib would
// send it: the connection's query exec mode (its statement cache, or the simple
// protocol), the same arguments. A connection that failed before anything was
// sent is driver.ErrBadConn, as stdlib reports it.
func countPgx(ctx context.Context, c *pgx.Conn, sql string, args []any) (result, error) {
	if c.IsClosed() {
		return result{}, driver.ErrBadConn
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return result{}, driver.ErrBadConn
		}
		return result{}, err
	}
	var res result
	for rows.Next() {
		res.rows++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		if res.rows == 0 && pgconn.SafeToRetry(err) {
			return result{}, driver.ErrBadConn
		}
		return res, err
	}
	return res, nil
}

// readRows counts rows and, when first is set, keeps the first column of the
// first row (a copy: the driver may reuse its buffer), as run does.
func readRows(rows driver.Rows, first bool) (result, error) {
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	var res result
	for {
		err := rows.Next(dest)
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		if first && res.rows == 0 && len(dest) > 0 {
			v := dest[0]
			if b, ok := v.([]byte); ok {
				v = bytes.Clone(b) // the driver may reuse its buffer
			}
			res.first, res.hasFirst = v, true
		}
		res.rows++
	}
	return res, rows.Close()
}

// connOf is the one connection an execution on ex runs on: ex itself, or one
// taken from the pool (release gives it back). ok is false when there is none
// (the pool could not give one, or ex is neither).
func connOf(ctx context.Context, ex execer) (c *sql.Conn, release func(), ok bool) {
	switch e := ex.(type) {
	case *sql.Conn:
		return e, func() {}, true
	case *sql.DB:
		c, err := e.Conn(ctx)
		if err != nil {
			return nil, nil, false
		}
		return c, func() { c.Close() }, true
	}
	return nil, nil, false
}
