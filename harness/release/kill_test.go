package release

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

// TestCancelInterruptsBlockedStatement: on MySQL/MariaDB statements run without a
// cancellable context (kill.go); cancelling still stops one blocked on a lock, by
// killing it on the server.
func TestCancelInterruptsBlockedStatement(t *testing.T) {
	db := testDatabase(t, engine.MySQL)
	pool := openDB(t, db)
	ctx := context.Background()
	if _, err := pool.ExecContext(ctx, "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	locker, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	if _, err := locker.ExecContext(ctx, "LOCK TABLES t WRITE"); err != nil {
		t.Fatal(err)
	}
	defer locker.ExecContext(ctx, "UNLOCK TABLES")

	qs, err := workload.Parse("old.sql", []byte("-- name: Count :one\nSELECT count(*) FROM t;\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(&workload.Workload{Release: plan.Old, Queries: qs}, openDB(t, db), engine.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	if r.kill == nil {
		t.Fatal("no killer on mysql")
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = r.Execute(cctx, traffic.Where{Engine: "mariadb", Window: plan.After}, observe.NewRecorder(), 0)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("Execute = %v after %v, want the deadline soon after 300ms", err, time.Since(start))
	}
	// The statement is gone from the server too. KILL QUERY returns before the
	// killed thread has left its wait: on a machine with every core busy it can
	// show in the process list a little longer, never for good.
	var n int
	for wait := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := pool.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT count(*) FROM t%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 || time.Now().After(wait) {
			break
		}
	}
	if n != 0 {
		t.Errorf("%d statements still waiting on the server 10s after the cancellation", n)
	}
}
