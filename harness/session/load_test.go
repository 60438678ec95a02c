package session_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/session"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/harness/workload"
)

var fleet = enginetest.LocalFleet()

func TestMain(m *testing.M) { os.Exit(enginetest.Main(m, fleet)) }

// serverConnections counts the client connections the server has open, all
// databases together, except the one asking.
var serverConnections = map[engine.Family]string{
	engine.Postgres: "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
	engine.MySQL:    "SELECT count(*) FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Daemon' AND ID <> CONNECTION_ID()",
}

const (
	leakBaseline = `CREATE TABLE items (id bigint PRIMARY KEY, v int)`
	leakOld      = `-- name: Put :exec
-- args: {{n}}, 1
INSERT INTO items (id, v) VALUES ($1, $2);

-- name: Get :one
-- args: 1
SELECT v FROM items WHERE id = $1;
`
)

// TestLoadModeLeavesNothingBehind runs a rollout in load mode — clients, the lock
// monitor, a step that stalls them — and checks that once the session is closed
// the server has the connections it had before and the process the goroutines.
func TestLoadModeLeavesNothingBehind(t *testing.T) {
	for _, spec := range []string{"postgres", "mariadb"} {
		t.Run(spec, func(t *testing.T) {
			ctx := context.Background()
			sp := engine.MustParseSpec(spec)
			if err := fleet.Provider().(engine.Starter).Available(ctx, sp); err != nil {
				t.Skip(err)
			}
			srv, err := fleet.Server(ctx, sp)
			if err != nil {
				t.Fatal(err)
			}
			probeDB, err := srv.CreateDatabase(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer probeDB.Drop(ctx)
			probe, err := probeDB.Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer probe.Close()
			probe.SetMaxOpenConns(1)
			count := func() int {
				var n int
				if err := probe.QueryRowContext(ctx, serverConnections[sp.Family()]).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			connsBefore, goBefore := count(), runtime.NumGoroutine()

			qs, err := workload.Parse("old.sql", []byte(leakOld))
			if err != nil {
				t.Fatal(err)
			}
			lock := "LOCK TABLE items IN SHARE MODE;\nSELECT pg_sleep(0.4)"
			if sp.Family() == engine.MySQL {
				lock = "ALTER TABLE items ADD COLUMN w int, ALGORITHM=COPY, LOCK=SHARED"
			}
			steps := []migration.Step{
				{Phase: plan.Baseline, Name: "0001", Statements: []migration.Statement{{SQL: leakBaseline}}},
				{Phase: plan.Expand, Name: "lock", Statements: statements(lock)},
			}
			in, err := session.Run(ctx, session.Config{
				Scenario: "leak", Spec: sp, Fleet: fleet, MaxStall: 100 * time.Millisecond,
				Load: map[plan.Release]runner.Load{plan.Old: {Clients: 4, Duration: 200 * time.Millisecond}},
			}, steps, func(ctx context.Context, s *session.Session) error {
				return s.SetWorkload(ctx, &workload.Workload{Release: plan.Old, Queries: qs})
			})
			if err != nil || in.EnvError != "" {
				t.Fatalf("run: %v %s", err, in.EnvError)
			}
			res := verdict.Decide([]verdict.RunInput{in})
			if sp.Family() == engine.Postgres && (len(res.Violations) == 0 || res.Violations[0].Kind != verdict.KindStall) {
				t.Errorf("violations %+v, want the step's stall: the clients and the monitor did not run", res.Violations)
			}

			// Closed connections take a moment to leave the server's views, and
			// goroutines a moment to return.
			deadline := time.Now().Add(5 * time.Second)
			for {
				conns, gos := count(), runtime.NumGoroutine()
				if conns <= connsBefore && gos <= goBefore {
					break
				}
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<20)
					buf = buf[:runtime.Stack(buf, true)]
					t.Fatalf("after the run: %d server connections (before: %d), %d goroutines (before: %d)\n%s",
						conns, connsBefore, gos, goBefore, buf)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

func statements(src string) []migration.Statement {
	var out []migration.Statement
	for _, s := range strings.Split(src, ";\n") {
		out = append(out, migration.Statement{SQL: s})
	}
	return out
}
