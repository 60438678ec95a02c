package runner_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
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

// execSQL runs statements on db, failing the test on error.
func execSQL(t testing.TB, pool *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := pool.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// newRelease parses a query file and returns its runner on a pool of its own,
// with tags on.
func newRelease(t testing.TB, db engine.Database, rel plan.Release, src string) traffic.Workload {
	t.Helper()
	qs, err := workload.Parse(string(rel)+".sql", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w := &workload.Workload{Release: rel, Queries: qs}
	pool := open(t, db)
	pool.SetMaxIdleConns(16) // keep every client's connection between windows, as a session's pool does
	r, err := release.NewRunner(w, pool, db.Family(), release.WithTags())
	if err != nil {
		t.Fatal(err)
	}
	return r
}
