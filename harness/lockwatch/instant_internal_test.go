package lockwatch

import (
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

func TestInstantStatement(t *testing.T) {
	for _, tc := range []struct {
		f    engine.Family
		sql  string
		want bool
	}{
		{engine.Postgres, "ALTER TABLE users RENAME TO accounts", true},
		{engine.Postgres, "CREATE VIEW users AS SELECT id, name FROM accounts", true},
		{engine.Postgres, "create or replace view v as select 1", true},
		{engine.Postgres, "CREATE MATERIALIZED VIEW v AS SELECT * FROM t", false},
		{engine.Postgres, "ALTER TABLE users RENAME COLUMN name TO full_name", true},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN email varchar(200)", true},
		{engine.MySQL, "ALTER TABLE users ADD COLUMN email varchar(200)", true},
		{engine.MySQL, "ALTER TABLE users ADD COLUMN email varchar(200) AFTER name", false},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0", true},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN status text DEFAULT 'new' NOT NULL", true},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN tags jsonb NOT NULL DEFAULT '{}'::jsonb", true},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN at timestamptz NOT NULL DEFAULT now()", true},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()", false},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN r float8 DEFAULT random()", false},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN n int NOT NULL", false},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN id2 bigserial", false},
		{engine.MySQL, "ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0", false},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN n int REFERENCES t (id)", false},
		{engine.Postgres, "ALTER TABLE users ADD CONSTRAINT c CHECK (n > 0)", false},
		{engine.Postgres, "ALTER TABLE users ALTER COLUMN n TYPE bigint", false},
		{engine.Postgres, "ALTER TABLE users ALTER COLUMN n SET NOT NULL", false},
		{engine.Postgres, "ALTER TABLE users ALTER COLUMN n DROP NOT NULL", true},
		{engine.Postgres, "ALTER TABLE users ALTER COLUMN n SET DEFAULT 0", true},
		{engine.Postgres, "ALTER TABLE users DROP COLUMN nickname", true},
		{engine.MySQL, "ALTER TABLE users DROP COLUMN nickname", false},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN a int, ADD COLUMN b text", true},
		{engine.Postgres, "ALTER TABLE users ADD COLUMN a int, ALTER COLUMN b TYPE int", false},
		{engine.Postgres, "CREATE INDEX users_name ON users (name)", false},
		{engine.Postgres, "UPDATE users SET full_name = name", false},
		{engine.Postgres, "SELECT pg_sleep(1)", false},
		{engine.Postgres, "LOCK TABLE users IN EXCLUSIVE MODE", false},
		{engine.Postgres, "ALTER TYPE mood ADD VALUE 'meh'", true},
		{engine.Postgres, "CREATE TABLE t2 AS SELECT * FROM t", false},
		{engine.Postgres, "CREATE TABLE t2 (id int PRIMARY KEY)", true},
		{engine.Postgres, "DROP VIEW users", true},
		{engine.MySQL, "RENAME TABLE users TO accounts", true},
		{engine.Postgres, "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION f()", true},
		{engine.Postgres, "/* note */ ALTER TABLE users RENAME TO accounts", true},
	} {
		if got := instantStatement(tc.f, tc.sql); got != tc.want {
			t.Errorf("%s: instantStatement(%q) = %v, want %v", tc.f, tc.sql, got, tc.want)
		}
	}
}

// TestStallOfInstantStep: a query held up for the threshold by a catalog-only
// step is a stall only when the step itself queued behind someone (a lock
// queue); otherwise the wait was the machine's slowness and no stall is
// recorded, whatever the load.
func TestStallOfInstantStep(t *testing.T) {
	stmts := []migration.Statement{
		{SQL: "ALTER TABLE users RENAME TO accounts"}, {SQL: "CREATE VIEW users AS SELECT id, name FROM accounts"}}
	for _, tc := range []struct {
		name    string
		instant bool
		behind  *party
		want    bool
	}{
		{"instant step, waiting for nobody", true, nil, false},
		{"instant step queued behind a long query", true, &party{id: 7, release: plan.Old, query: "Report"}, true},
		{"instant step queued behind a query never seen finishing", true, &party{id: 7, release: plan.Old, query: "Unseen"}, true},
		{"instant step queued behind a short query", true, &party{id: 7, release: plan.Old, query: "CreateUser"}, false},
		{"instant step queued behind another session", true, &party{id: 7}, true},
		{"a step that does work", false, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := observe.NewRecorder()
			m := &Monitor{lm: engine.LockMonitor{SessionNoun: "pid"}, polls: 1, seen: map[waitKey]lockWait{
				{plan.Old, "GetUser"}: {holder: party{id: 42, migration: true}, behind: tc.behind, held: time.Now()},
			}}
			// Outside steps Report takes 3s, CreateUser 5ms.
			u := NewUsual()
			us := u.Sink(observe.NewRecorder())
			us.Record(observe.Event{Kind: observe.KindQuery, Window: plan.After, Release: plan.Old, Query: "Report", Latency: 3 * time.Second})
			us.Record(observe.Event{Kind: observe.KindQuery, Window: plan.Before, Release: plan.Old, Query: "CreateUser", Latency: 5 * time.Millisecond})
			s := &stallSink{next: rec, max: time.Second, prog: &Progress{}, mon: m, stmts: stmts, usual: u, instant: tc.instant}
			s.Record(observe.Event{Kind: observe.KindQuery, Window: plan.During, Release: plan.Old, Query: "GetUser", Outcome: observe.OK, Latency: 1500 * time.Millisecond})
			got := false
			for _, c := range rec.Snapshot().Cells {
				for _, f := range c.Failures {
					got = got || f.Outcome == observe.Stalled
				}
			}
			if got != tc.want {
				t.Errorf("stall recorded = %v, want %v", got, tc.want)
			}
		})
	}
}
