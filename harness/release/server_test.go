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

// testDatabase is a fresh scratch database of family f, dropped when the test ends.
func testDatabase(t *testing.T, f engine.Family) engine.Database {
	return enginetest.FamilyDatabase(t, fleet, f)
}

// openDB is a pool on db, closed when the test ends.
func openDB(t *testing.T, db engine.Database) *sql.DB { return enginetest.Open(t, db) }

func s(text string) workload.Arg { return workload.Arg{Kind: workload.ArgString, Text: text} }
func i(text string) workload.Arg { return workload.Arg{Kind: workload.ArgInt, Text: text} }
func b(text string) workload.Arg { return workload.Arg{Kind: workload.ArgBool, Text: text} }
func null() workload.Arg         { return workload.Arg{Kind: workload.ArgNull} }
