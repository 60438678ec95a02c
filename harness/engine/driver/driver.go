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

// classifiers read a driver's typed error: the family, the server's code and
// message. Never the message text alone.
var classifiers = []func(error) (engine.Family, string, string, bool){
	func(err error) (engine.Family, string, string, bool) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return engine.Postgres, pe.Code, pe.Message, true
		}
		return "", "", "", false
	},
	func(err error) (engine.Family, string, string, bool) {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return engine.MySQL, strconv.Itoa(int(me.Number)), me.Message, true
		}
		return "", "", "", false
	},
}

// init is the registration a blank import of a database/sql driver package
// makes, and only that: the classifiers of the table above, and the MySQL
// driver's logger silenced (it logs connection resets to stderr itself;
// straddle reports what matters through errors, and only the CLI prints).
func init() {
	for _, c := range classifiers {
		engine.RegisterClassifier(c)
	}
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
}
