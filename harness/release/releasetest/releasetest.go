// Package releasetest helps tests drive a release's queries directly: a runner
// for a query file's text on a database, and SQL run for setup.
package releasetest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/workload"
)

// New parses src as rel's query file and returns its runner, with tags on, on a
// pool of db of its own that keeps every client's connection between windows
// (as a session's pool does) and is closed when the test ends.
func New(t testing.TB, db engine.Database, rel plan.Release, src string) *release.Runner {
	t.Helper()
	qs, err := workload.Parse(string(rel)+".sql", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w := &workload.Workload{Release: rel, Queries: qs}
	pool := enginetest.Open(t, db)
	pool.SetMaxIdleConns(16)
	r, err := release.NewRunner(w, pool, db.Family(), release.WithTags())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Exec runs statements on pool, failing the test on error.
func Exec(t testing.TB, pool *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := pool.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
