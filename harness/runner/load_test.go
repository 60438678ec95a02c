package runner_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

var during = plan.Boundary{Index: 1, Phase: plan.Expand, Step: "s"}

// warm opens the connections of n clients of rel before a test measures what
// they do: on a busy machine their authentication alone can take most of a short
// window, and a client whose connection comes after the window runs nothing.
func warm(t *testing.T, rel traffic.Workload, n int) {
	t.Helper()
	if _, err := runner.Drive(context.Background(), rel, runner.Load{Clients: n, Duration: 100 * time.Millisecond},
		traffic.Where{Engine: "warm", Boundary: during, Window: plan.After}, observe.NewRecorder()); err != nil {
		t.Fatal(err)
	}
}

func TestDriveRunsClientsConcurrently(t *testing.T) {
	db := testDB(t, "postgres")
	// Naps long enough that a loaded machine's scheduling delays do not matter:
	// one client starts at most 3 one-second naps in 2.5s; four start about 12,
	// and more than 4 even if some start late.
	rel := newRelease(t, db, plan.Old, "-- name: Nap\nSELECT pg_sleep(1);\n")
	warm(t, rel, 4)
	rec := observe.NewRecorder()
	n, err := runner.Drive(context.Background(), rel, runner.Load{Clients: 4, Duration: 2500 * time.Millisecond},
		traffic.Where{Engine: "pg", Boundary: during, Window: plan.After}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 4 {
		t.Errorf("executions = %d, want about 12 with 4 concurrent clients (one client alone: at most 3)", n)
	}
	cells := rec.Snapshot().Cells
	if len(cells) != 1 || cells[0].Count != n {
		t.Errorf("recorded %+v, want one cell with %d executions", cells, n)
	}
}

func TestDrivePacesAtRate(t *testing.T) {
	db := testDB(t, "postgres")
	rel := newRelease(t, db, plan.Old, "-- name: One\nSELECT 1;\n")
	n, err := runner.Drive(context.Background(), rel, runner.Load{Clients: 2, Rate: 100, Duration: 500 * time.Millisecond},
		traffic.Where{Engine: "pg", Boundary: during, Window: plan.After}, observe.NewRecorder())
	if err != nil {
		t.Fatal(err)
	}
	// Pacing holds the clients back: never more than the rate allows (plus a
	// start-up tick per client). How far below it a machine with every core busy
	// falls is the machine's business; the clients must still have run.
	if n < 5 || n > 60 {
		t.Errorf("executions = %d, want at most about 50 (100/s for 0.5s), and some", n)
	}
}

func TestDriveDealsExecutionsToClients(t *testing.T) {
	db := testDB(t, "postgres")
	// With two clients and two executions per pass, one client naps while the
	// other keeps running the short query: dealt to whichever client is free, the
	// short query runs far more often than the nap. (Were each client to run
	// whole passes in order, both would wait on naps: as many One as Nap.)
	rel := newRelease(t, db, plan.Old, "-- name: Nap\nSELECT pg_sleep(0.5);\n\n-- name: One\nSELECT 1;\n")
	warm(t, rel, 2)
	rec := observe.NewRecorder()
	if _, err := runner.Drive(context.Background(), rel, runner.Load{Clients: 2, Duration: 1500 * time.Millisecond},
		traffic.Where{Engine: "pg", Boundary: during, Window: plan.After}, rec); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, c := range rec.Snapshot().Cells {
		counts[c.Key.Query] = c.Count
	}
	if counts["Nap"] < 1 || counts["One"] < 10*counts["Nap"] {
		t.Errorf("counts = %v, want a few Nap and many times more One", counts)
	}
}

// stallOf returns the stall failure of rel's query at boundary index b, during.
func stallOf(s observe.Snapshot, b int, rel plan.Release, query string) (observe.Failure, bool) {
	for _, c := range s.Cells {
		if c.Key.Boundary != b || c.Key.Release != rel || c.Key.Query != query || c.Key.Window != plan.During {
			continue
		}
		for _, f := range c.Failures {
			if f.Outcome == observe.Stalled {
				return f, true
			}
		}
	}
	return observe.Failure{}, false
}

func TestStallPostgresNamesLockAndMigration(t *testing.T) {
	for _, mode := range []string{"passes", "load"} {
		t.Run(mode, func(t *testing.T) {
			db := testDB(t, "postgres")
			execSQL(t, open(t, db), "CREATE TABLE t (id serial PRIMARY KEY, v int)")
			rec := observe.NewRecorder()
			cfg := runner.Config{
				Engine: "pg", DB: db, Sink: rec, MaxStall: 250 * time.Millisecond,
				Old: newRelease(t, db, plan.Old, "-- name: Insert\nINSERT INTO t (v) VALUES (1);\n\n-- name: Count\nSELECT count(*) FROM t;\n"),
			}
			if mode == "load" {
				cfg.Load = map[plan.Release]runner.Load{plan.Old: {Clients: 2, Duration: 200 * time.Millisecond}}
			}
			rollOut(t, cfg, runner.Step{Phase: plan.Expand, Name: "lock", Statements: []migration.Statement{
				{SQL: "LOCK TABLE t IN SHARE MODE"}, {SQL: "SELECT pg_sleep(0.8)"},
			}})
			snap := rec.Snapshot()
			f, ok := stallOf(snap, 1, plan.Old, "Insert")
			if !ok {
				t.Fatalf("no stall for Insert; cells: %s", cellList(snap))
			}
			// The wait began during the pg_sleep, but the lock is statement 1's.
			if f.Latency < 250*time.Millisecond || f.Statement != 1 || f.SQL != "LOCK TABLE t IN SHARE MODE" {
				t.Errorf("stall latency %v statement %d %q, want ≥ 250ms at statement 1, the LOCK TABLE", f.Latency, f.Statement, f.SQL)
			}
			if !strings.Contains(f.Holder, "RowExclusiveLock on t held by pid ") || !strings.Contains(f.Holder, "(migration)") {
				t.Errorf("holder = %q, want the lock and the migration connection", f.Holder)
			}
			if _, ok := stallOf(snap, 1, plan.Old, "Count"); ok {
				t.Errorf("Count stalled: SHARE mode does not block reads")
			}
		})
	}
}

func TestStallMariaDBNamesQueuedAlterAndLongQuery(t *testing.T) {
	db := testDB(t, "mariadb")
	execSQL(t, open(t, db), "CREATE TABLE t (id int PRIMARY KEY, v int)", "INSERT INTO t VALUES (1, 1)")
	rec := observe.NewRecorder()
	// Client 0 runs the long query, client 1 the short one: the ALTER queues for
	// its metadata lock behind the long query, and the short one behind the ALTER.
	old := newRelease(t, db, plan.Old, "-- name: Long\nSELECT SLEEP(1.2) FROM t LIMIT 1;\n\n-- name: Get\nSELECT v FROM t WHERE id = 1;\n")
	cfg := runner.Config{
		Engine: "mariadb", DB: db, Sink: rec, MaxStall: 300 * time.Millisecond, Old: old, LockViews: true,
		Load: map[plan.Release]runner.Load{plan.Old: {Clients: 2, Duration: 300 * time.Millisecond}},
	}
	rollOut(t, cfg, runner.Step{Phase: plan.Expand, Name: "alter", Statements: []migration.Statement{{SQL: "ALTER TABLE t ADD COLUMN w int"}}})
	snap := rec.Snapshot()
	f, ok := stallOf(snap, 1, plan.Old, "Get")
	if !ok {
		t.Fatalf("no stall for Get; cells: %s", cellList(snap))
	}
	if f.Statement != 1 || f.SQL != "ALTER TABLE t ADD COLUMN w int" {
		t.Errorf("statement %d %q, want 1, the ALTER", f.Statement, f.SQL)
	}
	for _, want := range []string{"metadata lock on t held by thread ", "(migration): ALTER TABLE t ADD COLUMN w int", "itself waiting for thread ", "(old Long): SELECT SLEEP(1.2) FROM t LIMIT 1"} {
		if !strings.Contains(f.Holder, want) {
			t.Errorf("holder = %q, want it to contain %q", f.Holder, want)
		}
	}
	if _, ok := stallOf(snap, 1, plan.Old, "Long"); ok {
		t.Errorf("Long stalled: it is slow by nature, not held up by the step")
	}
}

// cellList summarizes cells for failure messages.
func cellList(s observe.Snapshot) string {
	var b strings.Builder
	for _, c := range s.Cells {
		fmt.Fprintf(&b, "\n  %d %s %s %s: n=%d max=%v failures=%d", c.Key.Boundary, c.Key.Window, c.Key.Release, c.Key.Query, c.Count, c.Latency.Max(), len(c.Failures))
	}
	return b.String()
}

// TestNonTransactionalStepExposesEachStatement: on MySQL/MariaDB every statement of
// a step commits on its own, so traffic sees the state after each one. A failure
// is attributed to the statement that was running when it happened: never the
// first here (it changes nothing), the second (whose DROP took effect) or a later
// one.
func TestNonTransactionalStepExposesEachStatement(t *testing.T) {
	db := testDB(t, "mariadb")
	execSQL(t, open(t, db), "CREATE TABLE t (id int PRIMARY KEY, v int)", "INSERT INTO t VALUES (1, 1)")
	rec := observe.NewRecorder()
	cfg := runner.Config{
		Engine: "mariadb", DB: db, Sink: rec,
		Old: newRelease(t, db, plan.Old, "-- name: GetV :one\nSELECT v FROM t WHERE id = 1;\n"),
	}
	rollOut(t, cfg, runner.Step{Phase: plan.Expand, Name: "drop", Statements: []migration.Statement{
		{SQL: "DO SLEEP(0.3)"}, {SQL: "ALTER TABLE t DROP COLUMN v"}, {SQL: "DO SLEEP(0.3)"},
	}})
	var during *observe.Failure
	for _, c := range rec.Snapshot().Cells {
		if c.Key.Boundary == 1 && c.Key.Window == plan.During {
			for i := range c.Failures {
				during = &c.Failures[i]
			}
		}
	}
	if during == nil {
		t.Fatalf("no failure during the step: %s", cellList(rec.Snapshot()))
	}
	if during.Code != "1054" || during.Statement < 2 {
		t.Errorf("failure %s at statement %d, want 1054 from statement 2 on", during.Code, during.Statement)
	}
}

// TestLoadModeKeepsLongLivedSessions: in load mode each client keeps a connection
// of the release's pool, so a prepared SELECT * goes stale on every one of them
// when a column is added (PostgreSQL's 0A000), as in applications; with
// FreshConnections each execution prepares on a new connection.
func TestLoadModeKeepsLongLivedSessions(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("fresh=%v", fresh), func(t *testing.T) {
			db := testDB(t, "postgres")
			execSQL(t, open(t, db), "CREATE TABLE u (id int PRIMARY KEY, name text)", "INSERT INTO u VALUES (1, 'ada')")
			qs, err := workload.Parse("old.sql", []byte("-- name: GetUser :one\n-- args: 1\nSELECT * FROM u WHERE id = $1;\n"))
			if err != nil {
				t.Fatal(err)
			}
			pool := open(t, db)
			pool.SetMaxIdleConns(16)
			r, err := release.NewRunner(&workload.Workload{Release: plan.Old, Queries: qs, FreshConnections: fresh}, pool, db.Family())
			if err != nil {
				t.Fatal(err)
			}
			rec := observe.NewRecorder()
			cfg := runner.Config{
				Engine: "pg", DB: db, Sink: rec, Old: r,
				Load: map[plan.Release]runner.Load{plan.Old: {Clients: 3, Duration: 150 * time.Millisecond}},
			}
			rollOut(t, cfg, runner.Step{Phase: plan.Expand, Name: "add", Statements: []migration.Statement{{SQL: "ALTER TABLE u ADD COLUMN email text"}}})
			// The traffic's failures: the state probes run on a long-lived
			// session of their own whatever FreshConnections says.
			var stale, probed int64
			for _, c := range rec.Snapshot().Cells {
				for _, f := range c.Failures {
					switch {
					case f.Code == "0A000" && f.Session == "":
						stale += f.Count
					case f.Code == "0A000" && f.Session == observe.LongLived:
						probed += f.Count
					}
				}
			}
			if probed != 1 {
				t.Errorf("%d stale-plan failures on the probes' long-lived session, want 1 (the probe after the step)", probed)
			}
			// Long-lived: once on each client's connection (then pgx prepares
			// again). Fresh: only if the ALTER lands between an execution's own
			// prepare and execute, a race.
			if fresh && stale > 1 || !fresh && stale < 3 {
				t.Errorf("%d stale-plan failures with FreshConnections=%v, want %s", stale, fresh, map[bool]string{false: "one per client (3)", true: "none (one at most, by chance)"}[fresh])
			}
		})
	}
}

// TestDriveCancelInterruptsBlockedStatements: cancelling load-mode traffic
// interrupts statements that wait for a lock nobody releases, on both engines:
// the clients hand their drivers a context without cancellation and interrupt
// their statements server-side themselves (pgx's cancel request, KILL QUERY).
func TestDriveCancelInterruptsBlockedStatements(t *testing.T) {
	for _, tc := range []struct{ spec, lock, unlock string }{
		{"postgres", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "ROLLBACK"},
		{"mariadb", "LOCK TABLES t WRITE", "UNLOCK TABLES"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			ctx := context.Background()
			db := testDB(t, tc.spec)
			admin := open(t, db)
			execSQL(t, admin, "CREATE TABLE t (id int PRIMARY KEY)")
			rel := newRelease(t, db, plan.Old, "-- name: Get :one\n-- args: 1\nSELECT id FROM t WHERE id = $1;\n")
			holder, err := admin.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			if tc.spec == "postgres" {
				if _, err := holder.ExecContext(ctx, "BEGIN"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := holder.ExecContext(ctx, tc.lock); err != nil {
				t.Fatal(err)
			}
			// Should the interruption not work, the lock goes after a minute and
			// the test fails instead of hanging.
			release := time.AfterFunc(time.Minute, func() { _, _ = holder.ExecContext(ctx, tc.unlock) })
			defer func() {
				if release.Stop() {
					_, _ = holder.ExecContext(ctx, tc.unlock)
				}
			}()
			cctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(time.Second, cancel)
			start := time.Now()
			n, _ := runner.Drive(cctx, rel, runner.Load{Clients: 2, Duration: 2 * time.Minute},
				traffic.Where{Engine: tc.spec, Boundary: during, Window: plan.After}, observe.NewRecorder())
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("Drive returned %s after it started, want soon after its context was cancelled at 1s", d.Round(time.Second))
			}
			if n != 0 {
				t.Errorf("executions = %d, want none: every one waited for the lock", n)
			}
		})
	}
}
