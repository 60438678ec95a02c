// Package driver registers straddle's two database drivers with database/sql ("pgx"
// and "mysql") and their error classifiers with package engine. Import it (blank)
// from any package that opens connections; engine itself stays free of drivers so
// that pure packages can use its types.
//
// It must not do anything else.
package driver

import (
	"errors"
	"io"
	"log"
	"strconv"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/straddle-dev/straddle/harness/engine"
)

func init() {
	engine.RegisterClassifier(func(err error) (engine.Family, string, string, bool) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return engine.Postgres, pe.Code, pe.Message, true
		}
		return "", "", "", false
	})
	engine.RegisterClassifier(func(err error) (engine.Family, string, string, bool) {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return engine.MySQL, strconv.Itoa(int(me.Number)), me.Message, true
		}
		return "", "", "", false
	})
}

// The MySQL driver logs connection resets to stderr itself; straddle reports what
// matters through errors, and only the CLI prints.
func init() { _ = mysql.SetLogger(log.New(io.Discard, "", 0)) }
