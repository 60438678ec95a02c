package release

import (
	"database/sql"
	"os"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/workload"
)

// fleet gives the package's tests real servers: local PostgreSQL and MariaDB, one
// each for the whole package, started on first use.
var fleet = enginetest.LocalFleet()

func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, fleet)) }

// testDatabase returns a fresh scratch database on the server of family f; it is
// dropped when the test ends, and the test is skipped when the server's binaries
// are not installed (make deps).
func testDatabase(t *testing.T, f engine.Family) engine.Database {
	t.Helper()
	spec := "postgres"
	if f == engine.MySQL {
		spec = "mariadb"
	}
	return enginetest.Database(t, fleet, spec)
}

// openDB opens a pool to db, closed when the test ends.
func openDB(t *testing.T, db engine.Database) *sql.DB {
	t.Helper()
	return enginetest.Open(t, db)
}

func s(text string) workload.Arg { return workload.Arg{Kind: workload.ArgString, Text: text} }
func i(text string) workload.Arg { return workload.Arg{Kind: workload.ArgInt, Text: text} }
func b(text string) workload.Arg { return workload.Arg{Kind: workload.ArgBool, Text: text} }
func null() workload.Arg         { return workload.Arg{Kind: workload.ArgNull} }
