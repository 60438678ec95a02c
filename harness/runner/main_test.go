package runner_test

import (
	"database/sql"
	"os"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
)

// fleet starts one local server per spec for the whole package, on first use.
var fleet = enginetest.LocalFleet()

func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, fleet)) }

// testDB returns a scratch database on a local server of spec, dropped when the
// test ends; the test is skipped when the server's binaries are not installed.
func testDB(t testing.TB, spec string) engine.Database {
	t.Helper()
	return enginetest.Database(t, fleet, spec)
}

// open returns a pool on db, closed when the test ends.
func open(t testing.TB, db engine.Database) *sql.DB {
	t.Helper()
	return enginetest.Open(t, db)
}
