package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

// events is a Sink that keeps every event.
type events struct {
	mu   sync.Mutex
	list []observe.Event
}

func (e *events) Record(ev observe.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

// summary renders the events without latencies: "workload.Query outcome [code class] [message]".
func (e *events) summary() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		s := ev.Query + " " + string(ev.Outcome)
		if ev.Code != "" || ev.Class != "" {
			s += " " + ev.Code + " " + ev.Class
		}
		if ev.Message != "" && ev.Outcome == observe.Mismatch {
			s += ": " + ev.Message
		}
		out = append(out, s)
	}
	return out
}

var families = []engine.Family{engine.Postgres, engine.MySQL}

// ddl returns the statement for f: postgres's or mysql's spelling.
func ddl(f engine.Family, pg, my string) string {
	if f == engine.Postgres {
		return pg
	}
	return my
}

// setup creates a users table with three rows (two active) on a fresh database of
// family f and returns the pool a release would use and an admin pool for DDL.
func setup(t *testing.T, f engine.Family) (app, admin *sql.DB) {
	t.Helper()
	db := testDatabase(t, f)
	app, admin = openDB(t, db), openDB(t, db)
	mustExec(t, admin,
		ddl(f, "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL UNIQUE, email text UNIQUE, active boolean NOT NULL DEFAULT true)",
			"CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL UNIQUE, email varchar(100) UNIQUE, active boolean NOT NULL DEFAULT true)"),
		"INSERT INTO users (name, email, active) VALUES ('alice', 'a@example.com', true), ('bob', 'b@example.com', true), ('carol', NULL, false)",
	)
	return app, admin
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// workloadOf parses src as the old release's query file.
func workloadOf(t *testing.T, src string) *workload.Workload {
	t.Helper()
	qs, err := workload.Parse("test.sql", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return &workload.Workload{Release: plan.Old, Source: "test.sql", Queries: qs}
}

func newRunner(t *testing.T, w *workload.Workload, db *sql.DB, f engine.Family, opts ...Option) *Runner {
	t.Helper()
	r, err := NewRunner(w, db, f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var at = traffic.Where{Engine: "test", Boundary: plan.Boundary{Index: 1, Phase: plan.Expand, Step: "0002_x"}, Window: plan.After}

func pass(t *testing.T, r *Runner, sink observe.Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.Pass(ctx, at, sink); err != nil {
		t.Fatalf("Pass: %v", err)
	}
}

func TestPassRowsAndExpectations(t *testing.T) {
	const queries = `
-- name: ListActive :many
-- expect: rows=2
SELECT id FROM users WHERE active = true ORDER BY id;

-- name: ListAll :many
-- expect: rows>=4
SELECT id FROM users;

-- name: GetUser :one
-- args: 1
-- args: 99
SELECT name FROM users WHERE id = $1;

-- name: FirstName :one
-- expect: value='alice'
SELECT name FROM users ORDER BY id;

-- name: WrongName :one
-- expect: value='bob'
SELECT name FROM users ORDER BY id;

-- name: NullEmail :one
-- expect: value=NULL
SELECT email FROM users WHERE name = 'carol';

-- name: Count :one
-- expect: value=3
SELECT count(*) FROM users;

-- name: Duplicate :exec
-- args: 'alice'
-- expect: error=unique
INSERT INTO users (name) VALUES ($1);

-- name: Toggle :execrows
-- args: 0
-- expect: rows=3
UPDATE users SET active = NOT active WHERE id > $1;

-- name: DeleteNobody :exec
-- expect: rows>=1
DELETE FROM users WHERE id < 0;
`
	want := []string{
		"ListActive ok",
		"ListAll result: want rows>=4, got 3",
		"GetUser ok",
		"GetUser ok",
		"FirstName ok",
		"WrongName result: want value='bob', got 'alice'",
		"NullEmail ok",
		"Count ok",
		"Duplicate ok",
		"Toggle ok",
		"DeleteNobody result: want rows>=1, got 0",
	}
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			app, _ := setup(t, f)
			var sink events
			pass(t, newRunner(t, workloadOf(t, queries), app, f), &sink)
			if diff := cmp.Diff(want, sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			for _, ev := range sink.list {
				if ev.Kind != observe.KindQuery || ev.Engine != at.Engine || ev.Boundary != at.Boundary || ev.Window != at.Window || ev.Release != plan.Old || ev.Latency <= 0 {
					t.Errorf("event %+v does not carry where it ran, the release and a latency", ev)
				}
			}
		})
	}
}

func TestPassPlaceholderOrder(t *testing.T) {
	// $2 comes first and twice: on mysql the ? arguments must be [1, 'zzz', 1].
	const queries = `
-- name: Reordered :one
-- args: 'zzz', 1
-- expect: rows=1, value='alice'
SELECT name FROM users WHERE id = $2 AND name <> $1 AND id = $2 AND '$1' = '$1';

-- name: MySQLOnly :one
-- engine: mysql
-- args: 2
-- expect: value='bob'
SELECT name FROM users WHERE id = $1 AND 'it\'s $1' <> '';

-- name: PostgresOnly :one
-- engine: postgres
-- args: 3
-- expect: value='carol'
SELECT name FROM users WHERE id = $1 AND $$ $2 $$ <> '';
`
	want := map[engine.Family][]string{
		engine.Postgres: {"Reordered ok", "PostgresOnly ok"},
		engine.MySQL:    {"Reordered ok", "MySQLOnly ok"},
	}
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			app, _ := setup(t, f)
			var sink events
			pass(t, newRunner(t, workloadOf(t, queries), app, f), &sink)
			if diff := cmp.Diff(want[f], sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPassUniqueN(t *testing.T) {
	const queries = `
-- name: CreateUser :exec
-- args: 'user{{n}}', 'user{{n}}@example.com'
-- args: 'other{{n}}', NULL
INSERT INTO users (name, email) VALUES ($1, $2);

-- name: CreateNumbered :exec
-- args: {{n}}
INSERT INTO numbered (n) VALUES ($1);
`
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			app, admin := setup(t, f)
			mustExec(t, admin, "CREATE TABLE numbered (n bigint PRIMARY KEY)")
			// Two releases share the run's sequence and run concurrently.
			seq := new(Sequence)
			var sink events
			var wg sync.WaitGroup
			for range 2 {
				r := newRunner(t, workloadOf(t, queries), app, f, WithCounter(seq))
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 3 {
						if err := r.Pass(context.Background(), at, &sink); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			for _, s := range sink.summary() {
				if !strings.HasSuffix(s, " ok") {
					t.Errorf("event %q, want every insert to succeed", s)
				}
			}
			var users, numbered int
			admin.QueryRow("SELECT count(*) FROM users").Scan(&users)
			admin.QueryRow("SELECT count(*) FROM numbered").Scan(&numbered)
			if users != 3+2*3*2 || numbered != 2*3 {
				t.Errorf("%d users and %d numbered rows, want 15 and 6", users, numbered)
			}
		})
	}
}

func TestPassRenamedColumn(t *testing.T) {
	const queries = `
-- name: GetUser :one
-- args: 1
SELECT name FROM users WHERE id = $1;
`
	wantCode := map[engine.Family]string{engine.Postgres: "42703", engine.MySQL: "1054"}
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			app, admin := setup(t, f)
			r := newRunner(t, workloadOf(t, queries), app, f)
			var sink events
			pass(t, r, &sink)
			mustExec(t, admin, "ALTER TABLE users RENAME COLUMN name TO full_name")
			pass(t, r, &sink)
			want := []string{"GetUser ok", "GetUser error " + wantCode[f] + " undefined-column"}
			if diff := cmp.Diff(want, sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			if msg := sink.list[1].Message; !strings.Contains(msg, "name") {
				t.Errorf("message %q does not name the column", msg)
			}
		})
	}
}

// TestPassStalePlan proves the runner keeps server-side prepared statements across
// a schema change, as an application's long-lived pool does: after ADD COLUMN, a
// cached SELECT * fails once with 0A000 on PostgreSQL, then pgx re-prepares it.
// With fresh connections nothing is cached and nothing fails.
func TestPassStalePlan(t *testing.T) {
	const queries = `
-- name: ListUsers :many
SELECT * FROM users ORDER BY id;

-- name: GetUser :one
-- args: 1
SELECT * FROM users WHERE id = $1;
`
	tests := []struct {
		name  string
		fresh bool
		want  []string
	}{
		{"long-lived", false, []string{"ListUsers ok", "GetUser ok", "ListUsers error 0A000 stale-plan", "GetUser error 0A000 stale-plan", "ListUsers ok", "GetUser ok"}},
		{"fresh connections", true, []string{"ListUsers ok", "GetUser ok", "ListUsers ok", "GetUser ok", "ListUsers ok", "GetUser ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, admin := setup(t, engine.Postgres)
			w := workloadOf(t, queries)
			w.FreshConnections = tt.fresh
			r := newRunner(t, w, app, engine.Postgres)
			var sink events
			pass(t, r, &sink)
			mustExec(t, admin, "ALTER TABLE users ADD COLUMN nickname text")
			pass(t, r, &sink)
			pass(t, r, &sink)
			if diff := cmp.Diff(tt.want, sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPassGeneratedArgs(t *testing.T) {
	schema := map[engine.Family][]string{
		engine.Postgres: {
			"CREATE TYPE author_kind AS ENUM ('novelist', 'poet')",
			"CREATE DOMAIN short_text AS varchar(200)",
			"CREATE TABLE authors (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, bio short_text, kind author_kind NOT NULL, born date)",
			"INSERT INTO authors (name, kind, born) VALUES ('a', 'poet', '1900-01-01')",
		},
		engine.MySQL: {
			"CREATE TABLE authors (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(200) NOT NULL UNIQUE, bio text, kind enum('novelist', 'poet') NOT NULL, born date)",
			"INSERT INTO authors (name, kind, born) VALUES ('a', 'poet', '1900-01-01')",
		},
	}
	want := map[engine.Family][]Generated{
		engine.Postgres: {
			{Query: "GetAuthor", Types: []string{"int8"}, Args: []workload.Arg{s("{{n}}")}, From: TypesFromServer},
			{Query: "CreateAuthor", Types: []string{"text", "varchar", "author_kind"}, Args: []workload.Arg{s("gen{{n}}"), s("gen{{n}}"), s("novelist")}, From: TypesFromServer},
			{Query: "DeleteAuthor", Types: []string{"int8"}, Args: []workload.Arg{s("{{n}}")}, From: TypesFromServer},
			{Query: "AuthorsBornAfter", Types: []string{"date", "text"}, Args: []workload.Arg{s("2001-02-03"), s("gen{{n}}")}, From: TypesFromServer},
		},
		engine.MySQL: {
			{Query: "GetAuthor", Types: []string{"bigint"}, Args: []workload.Arg{s("{{n}}")}, From: TypesFromColumns},
			{Query: "CreateAuthor", Types: []string{"varchar", "text", "enum"}, Args: []workload.Arg{s("gen{{n}}"), s("gen{{n}}"), s("novelist")}, From: TypesFromColumns},
			{Query: "DeleteAuthor", Types: []string{"bigint"}, Args: []workload.Arg{s("{{n}}")}, From: TypesFromColumns},
			{Query: "AuthorsBornAfter", Types: []string{"date", "varchar"}, Args: []workload.Arg{s("2001-02-03"), s("gen{{n}}")}, From: TypesFromColumns},
		},
	}
	qs, err := workload.ParseFile("../../testdata/queries/sqlc/queries.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			db := testDatabase(t, f)
			app, admin := openDB(t, db), openDB(t, db)
			mustExec(t, admin, schema[f]...)
			// Numbers far from the ids in the table: DeleteAuthor deletes id = n.
			seq := new(Sequence)
			seq.n.Store(1000)
			r := newRunner(t, &workload.Workload{Release: plan.New, Queries: qs}, app, f, WithCounter(seq))
			var sink events
			pass(t, r, &sink)
			pass(t, r, &sink)
			wantEvents := []string{"GetAuthor ok", "ListAuthors ok", "CreateAuthor ok", "DeleteAuthor ok", "AuthorsBornAfter ok"}
			if diff := cmp.Diff(append(wantEvents, wantEvents...), sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want[f], r.Generated(), cmpopts.IgnoreUnexported(Generated{})); diff != "" {
				t.Errorf("Generated mismatch (-want +got):\n%s", diff)
			}
			var n int
			admin.QueryRow("SELECT count(*) FROM authors").Scan(&n)
			if n != 3 {
				t.Errorf("%d authors, want 3 (the seed and one per pass)", n)
			}
		})
	}
}

// A query without -- args: whose SQL no longer matches the schema records the
// server's error, as executing it would.
func TestPassGeneratedArgsError(t *testing.T) {
	app, _ := setup(t, engine.Postgres)
	r := newRunner(t, workloadOf(t, "-- name: ByNick :one\nSELECT id FROM users WHERE nickname = $1;\n"), app, engine.Postgres)
	var sink events
	pass(t, r, &sink)
	if diff := cmp.Diff([]string{"ByNick error 42703 undefined-column"}, sink.summary()); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
	if len(r.Generated()) != 0 {
		t.Errorf("Generated() = %v, want none", r.Generated())
	}
}

func TestPassCancelled(t *testing.T) {
	app, _ := setup(t, engine.Postgres)
	r := newRunner(t, workloadOf(t, "-- name: Fast :one\nSELECT 1;\n-- name: Slow :one\nSELECT pg_sleep(10);\n-- name: Never :one\nSELECT 2;\n"), app, engine.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var sink events
	start := time.Now()
	err := r.Pass(ctx, at, &sink)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Pass = %v, want the context's error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Pass took %v after its context ended", time.Since(start))
	}
	if diff := cmp.Diff([]string{"Fast ok"}, sink.summary()); diff != "" {
		t.Errorf("the interrupted execution was recorded (-want +got):\n%s", diff)
	}
}

func TestPassConnectionLost(t *testing.T) {
	t.Run("server ends the session", func(t *testing.T) {
		app, _ := setup(t, engine.Postgres)
		r := newRunner(t, workloadOf(t, "-- name: Die :one\nSELECT pg_terminate_backend(pg_backend_pid());\n"), app, engine.Postgres)
		var sink events
		err := r.Pass(context.Background(), at, &sink)
		if !errors.Is(err, ErrConnLost) {
			t.Errorf("Pass = %v, want an error wrapping ErrConnLost", err)
		}
		if len(sink.list) != 0 {
			t.Errorf("recorded %v, want nothing: a lost connection is not a finding", sink.summary())
		}
	})
	t.Run("nothing listens", func(t *testing.T) {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			driver, dsn := "pgx", fmt.Sprintf("postgres://u@127.0.0.1:%d/x?connect_timeout=5", port)
			if f == engine.MySQL {
				driver, dsn = "mysql", fmt.Sprintf("u@tcp(127.0.0.1:%d)/x?timeout=5s", port)
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, fresh := range []bool{false, true} {
				w := workloadOf(t, "-- name: One :one\nSELECT 1;\n")
				w.FreshConnections = fresh
				var sink events
				err := newRunner(t, w, db, f).Pass(context.Background(), at, &sink)
				if !errors.Is(err, ErrConnLost) || len(sink.list) != 0 {
					t.Errorf("%s fresh=%v: Pass = %v with %d events, want ErrConnLost and none", f, fresh, err, len(sink.list))
				}
			}
		}
	})
}

func TestPassStopAndStatement(t *testing.T) {
	app, _ := setup(t, engine.Postgres)
	r := newRunner(t, workloadOf(t, "-- name: A :one\nSELECT 1;\n-- name: B :one\nSELECT 2;\n"), app, engine.Postgres)
	stop := make(chan struct{})
	close(stop)
	var sink events
	if err := r.Pass(context.Background(), traffic.Where{Stop: stop}, &sink); err != nil || len(sink.list) != 0 {
		t.Errorf("Pass after Stop = %v with %d events, want nil and none", err, len(sink.list))
	}
	w := at
	w.Window = plan.During
	w.Statement = func() int { return 2 }
	if err := r.Pass(context.Background(), w, &sink); err != nil {
		t.Fatal(err)
	}
	for _, ev := range sink.list {
		if ev.Statement != 2 || ev.Window != plan.During {
			t.Errorf("event %+v: want Statement 2 in the during window", ev)
		}
	}
}

// An argument the driver cannot send is the query's failure, not the environment's.
func TestPassClientError(t *testing.T) {
	app, _ := setup(t, engine.Postgres)
	r := newRunner(t, workloadOf(t, "-- name: Bad :one\n-- args: true\nSELECT id FROM users WHERE id = $1;\n-- name: After :one\nSELECT 1;\n"), app, engine.Postgres)
	var sink events
	pass(t, r, &sink)
	if diff := cmp.Diff([]string{"Bad error  other", "After ok"}, sink.summary()); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

// freePort returns a loopback port nothing listens on (for the lost-connection test).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
