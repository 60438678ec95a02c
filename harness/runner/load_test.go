package runner_test

import (
	"context"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release/releasetest"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/traffic"
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
	rel := releasetest.New(t, db, plan.Old, "-- name: Nap\nSELECT pg_sleep(1);\n")
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
	rel := releasetest.New(t, db, plan.Old, "-- name: One\nSELECT 1;\n")
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
	rel := releasetest.New(t, db, plan.Old, "-- name: Nap\nSELECT pg_sleep(0.5);\n\n-- name: One\nSELECT 1;\n")
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
			releasetest.Exec(t, admin, "CREATE TABLE t (id int PRIMARY KEY)")
			rel := releasetest.New(t, db, plan.Old, "-- name: Get :one\n-- args: 1\nSELECT id FROM t WHERE id = $1;\n")
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
