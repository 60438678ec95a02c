package release

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
)

// sessionStatus reads counters of the one connection of a pool limited to one.
func sessionStatus(t *testing.T, pool *sql.DB, names ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, n := range names {
		var name, v string
		if err := pool.QueryRowContext(context.Background(), "SHOW SESSION STATUS LIKE '"+n+"'").Scan(&name, &v); err != nil {
			t.Fatal(err)
		}
		out[n], _ = strconv.ParseInt(v, 10, 64)
	}
	return out
}

// TestBindingsOnMySQL: what each binding sends to a MariaDB server for
// executions with an argument, counted by the server on the connection: kept
// prepared statements (one prepare, then one execute per execution), prepared
// each time, or interpolated into plain queries; and a kept statement keeps
// working across DDL as the server re-prepares it, failing while the column it
// reads is gone, as a fresh one would.
func TestBindingsOnMySQL(t *testing.T) {
	db := testDatabase(t, engine.MySQL)
	admin := openDB(t, db)
	mustExec(t, admin, "CREATE TABLE t (id int PRIMARY KEY, v int)", "INSERT INTO t VALUES (1, 10), (2, 20)")
	const src = "-- name: Get :one\n-- args: 1\n-- args: 2\n-- expect: rows=1\nSELECT v FROM t WHERE id = $1;\n" +
		"-- name: Set :exec\n-- args: 1\nUPDATE t SET v = v + 1 WHERE id = $1;\n"
	const passes = 5
	counters := []string{"Com_stmt_prepare", "Com_stmt_execute", "Com_select"}
	for _, tc := range []struct {
		binding                     engine.Binding
		prepares, executes, selects int64
		reason                      string
	}{
		{engine.BindPrepared, 2, 3 * passes, 2 * passes, "two statements prepared once on the connection, an execute per execution"},
		{engine.BindPrepareEach, 3 * passes, 3 * passes, 2 * passes, "database/sql's prepare, execute and close each time"},
		{engine.BindInterpolated, 0, 0, 2 * passes, "plain queries with the argument in the text"},
	} {
		t.Run(string(tc.binding), func(t *testing.T) {
			pool, err := db.(engine.BindingOpener).OpenBinding(context.Background(), tc.binding)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			pool.SetMaxOpenConns(1) // one connection: its session counters count the runner's work
			w := workloadOf(t, src)
			w.Binding = tc.binding
			r := newRunner(t, w, pool, engine.MySQL)
			before := sessionStatus(t, pool, counters...)
			var ev events
			for range passes {
				pass(t, r, &ev)
			}
			after := sessionStatus(t, pool, counters...)
			got := []int64{after["Com_stmt_prepare"] - before["Com_stmt_prepare"],
				after["Com_stmt_execute"] - before["Com_stmt_execute"],
				after["Com_select"] - before["Com_select"] - 1} // the SHOW STATUS in between is a select; prepared SELECTs count too
			want := []int64{tc.prepares, tc.executes, tc.selects}
			if !slices.Equal(got, want) {
				t.Errorf("prepares, executes, selects = %v, want %v: %s", got, want, tc.reason)
			}
			for _, s := range ev.summary() {
				if s != "Get ok" && s != "Set ok" {
					t.Errorf("event %q, want every execution ok", s)
				}
			}
		})
	}

	t.Run("kept across DDL", func(t *testing.T) {
		pool := openDB(t, db)
		pool.SetMaxOpenConns(1)
		r := newRunner(t, workloadOf(t, "-- name: Get :one\n-- args: 1\nSELECT v FROM t WHERE id = $1;\n"), pool, engine.MySQL)
		var ev events
		pass(t, r, &ev)
		mustExec(t, admin, "ALTER TABLE t CHANGE v w int")
		pass(t, r, &ev)
		mustExec(t, admin, "ALTER TABLE t CHANGE w v bigint")
		pass(t, r, &ev)
		got := ev.summary()
		want := []string{"Get ok", "Get error 1054 undefined-column", "Get ok"}
		if !slices.Equal(got, want) {
			t.Errorf("events = %v, want %v: the kept statement is re-prepared by the server after each ALTER", got, want)
		}
	})
}
