package release

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/workload"
)

// TestGeneratedBitArgs generates arguments for bit and varbit parameters: they
// encode, and a bit(n) column gets exactly n bits.
func TestGeneratedBitArgs(t *testing.T) {
	schema := map[engine.Family]string{
		engine.Postgres: "CREATE TABLE flags (id bigint PRIMARY KEY, mask bit(8) NOT NULL, tags varbit(4))",
		engine.MySQL:    "CREATE TABLE flags (id bigint PRIMARY KEY, mask bit(8) NOT NULL, tags bit(4))",
	}
	want := map[engine.Family][]Generated{
		engine.Postgres: {
			{Query: "CreateFlags", Types: []string{"int8", "bit", "varbit"}, Args: []workload.Arg{s("{{n}}"), s("10000000"), s("1000")}, From: TypesFromServer},
			{Query: "ByMask", Types: []string{"bit"}, Args: []workload.Arg{s("10000000")}, From: TypesFromServer},
		},
		engine.MySQL: {
			{Query: "CreateFlags", Types: []string{"bigint", "bit", "bit"}, Args: []workload.Arg{s("{{n}}"), i("1"), i("1")}, From: TypesFromColumns},
			{Query: "ByMask", Types: []string{"bit"}, Args: []workload.Arg{i("1")}, From: TypesFromColumns},
		},
	}
	src := "-- name: CreateFlags :exec\nINSERT INTO flags (id, mask, tags) VALUES ($1, $2, $3);\n\n-- name: ByMask :many\nSELECT id FROM flags WHERE mask = $1;\n"
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			db := testDatabase(t, f)
			app, admin := openDB(t, db), openDB(t, db)
			mustExec(t, admin, schema[f])
			r := newRunner(t, &workload.Workload{Release: plan.New, Queries: workloadOf(t, src).Queries}, app, f)
			var sink events
			pass(t, r, &sink)
			if diff := cmp.Diff([]string{"CreateFlags ok", "ByMask ok"}, sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want[f], r.Generated(), cmpopts.IgnoreUnexported(Generated{})); diff != "" {
				t.Errorf("Generated mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGeneratedArgsRespectConstraints: generated arguments for an insert satisfy
// a foreign key (an existing key), CHECKs (an IN list, a range, and one across two
// columns of the row) and a unique column (fresh values), pass after pass, on both
// families.
func TestGeneratedArgsRespectConstraints(t *testing.T) {
	ts := map[engine.Family]string{engine.Postgres: "timestamp", engine.MySQL: "datetime"}
	src := "-- name: CreateJob :exec\nINSERT INTO jobs (id, author_id, state, priority, finalized_at, email, code) VALUES ($1, $2, $3, $4, $5, $6, $7);\n"
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			db := testDatabase(t, f)
			app, admin := openDB(t, db), openDB(t, db)
			mustExec(t, admin,
				"CREATE TABLE authors (id bigint PRIMARY KEY, name varchar(100))",
				"INSERT INTO authors (id, name) VALUES (7, 'a'), (9, 'b')",
				"CREATE TABLE jobs (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES authors (id), "+
					"state varchar(20) NOT NULL CHECK (state IN ('available', 'running', 'done')), "+
					"priority int NOT NULL CHECK (priority BETWEEN 1 AND 4), finalized_at "+ts[f]+" NULL, "+
					"email varchar(200) UNIQUE, code varchar(4), CONSTRAINT finalized CHECK (finalized_at IS NULL OR state = 'done'))")
			r := newRunner(t, &workload.Workload{Release: plan.Old, Queries: workloadOf(t, src).Queries}, app, f)
			var sink events
			pass(t, r, &sink)
			pass(t, r, &sink)
			if diff := cmp.Diff([]string{"CreateJob ok", "CreateJob ok"}, sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			gen := r.Generated()
			if len(gen) != 1 {
				t.Fatalf("Generated() = %v", gen)
			}
			want := []workload.Arg{s("{{n}}"), s("7"), s("available"), s("1"), null(), s("gen{{n}}"), s("g")}
			if diff := cmp.Diff(want, gen[0].Args); diff != "" {
				t.Errorf("args mismatch (-want +got): an existing key, the first IN value, the low end of the range, NULL for IS NULL OR, a fresh unique value, a string that fits varchar(4)\n%s", diff)
			}
		})
	}
}

// TestGeneratedArgsReadChecksNarrowly: what River's schema asks (riverqueue/river
// at fdf6cdf): a CHECK whose IN list sits inside an OR says nothing one value
// satisfies, a column inside char_length(…) is no range of its own, and a lower
// bound on a key column must not make every execution's value the same.
func TestGeneratedArgsReadChecksNarrowly(t *testing.T) {
	src := "-- name: InsertJob :exec\nINSERT INTO jobs (kind, state, line, version, attempt) VALUES ($1, $2, $3, $4, $5);\n"
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			db := testDatabase(t, f)
			app, admin := openDB(t, db), openDB(t, db)
			mustExec(t, admin,
				"CREATE TABLE jobs (kind varchar(128) NOT NULL CHECK (char_length(kind) > 0 AND char_length(kind) < 128), "+
					"state varchar(20) NOT NULL, finalized_at int NULL, line varchar(20) NOT NULL, "+
					"version bigint NOT NULL CHECK (version >= 1), attempt bigint NOT NULL CHECK (attempt > 5), "+
					"PRIMARY KEY (line, version), "+
					"CONSTRAINT finalized_or_finalized_at_null CHECK ((finalized_at IS NULL AND state NOT IN ('cancelled', 'completed')) OR "+
					"(finalized_at IS NOT NULL AND state IN ('cancelled', 'completed'))))")
			r := newRunner(t, &workload.Workload{Release: plan.Old, Queries: workloadOf(t, src).Queries}, app, f)
			var sink events
			pass(t, r, &sink)
			pass(t, r, &sink)
			if diff := cmp.Diff([]string{"InsertJob ok", "InsertJob ok"}, sink.summary()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			want := []workload.Arg{s("gen{{n}}"), s("gen{{n}}"), s("gen{{n}}"), s("{{n}}"), s("6{{n}}")}
			if diff := cmp.Diff(want, r.Generated()[0].Args); diff != "" {
				t.Errorf("args mismatch (-want +got): a plain string for char_length(kind) > 0 and for a state whose IN list is inside an OR, {{n}} for version >= 1, a fresh value above 5\n%s", diff)
			}
		})
	}
}

// TestGeneratedForeignKeysParentsFirst: sqlc files come in name order, so a
// workload often inserts accounts before the users they reference (techschool's
// simplebank: account.sql, user.sql). The runner orders inserts parents first
// once the schema exists (OrderWrites), and a key whose table had no row when
// its arguments were generated is looked up again at the next execution.
func TestGeneratedForeignKeysParentsFirst(t *testing.T) {
	src := "-- name: CreateAccount :exec\nINSERT INTO accounts (owner, balance) VALUES ($1, $2);\n\n" +
		"-- name: GetUser :one\nSELECT username FROM users WHERE username = $1;\n\n" +
		"-- name: CreateUser :exec\nINSERT INTO users (username) VALUES ($1);\n"
	for _, f := range families {
		for _, order := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/ordered=%v", f, order), func(t *testing.T) {
				db := testDatabase(t, f)
				app, admin := openDB(t, db), openDB(t, db)
				mustExec(t, admin,
					"CREATE TABLE users (username varchar(50) PRIMARY KEY)",
					"CREATE TABLE accounts (id int PRIMARY KEY "+map[engine.Family]string{engine.Postgres: "GENERATED BY DEFAULT AS IDENTITY", engine.MySQL: "AUTO_INCREMENT"}[f]+
						", owner varchar(50) NOT NULL REFERENCES users (username), balance bigint NOT NULL)")
				r := newRunner(t, &workload.Workload{Release: plan.Old, Queries: workloadOf(t, src).Queries}, app, f)
				var want []string
				if order {
					if err := r.OrderWrites(context.Background()); err != nil {
						t.Fatal(err)
					}
					// Inserts swap places; GetUser keeps its own.
					want = []string{"CreateUser ok", "GetUser ok", "CreateAccount ok", "CreateUser ok", "GetUser ok", "CreateAccount ok"}
				} else {
					code := map[engine.Family]string{engine.Postgres: "23503", engine.MySQL: "1452"}[f]
					want = []string{"CreateAccount error " + code + " foreign-key", "GetUser ok", "CreateUser ok", "CreateAccount ok", "GetUser ok", "CreateUser ok"}
				}
				var sink events
				pass(t, r, &sink)
				pass(t, r, &sink)
				if diff := cmp.Diff(want, sink.summary()); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestGeneratedJSONOnMariaDB: MariaDB's JSON column is LONGTEXT with CHECK
// (json_valid(col)); a generated string breaks it (4025; unkey's settings).
func TestGeneratedJSONOnMariaDB(t *testing.T) {
	db := testDatabase(t, engine.MySQL)
	app, admin := openDB(t, db), openDB(t, db)
	mustExec(t, admin, "CREATE TABLE settings (id varchar(32) PRIMARY KEY, paths JSON NOT NULL)")
	src := "-- name: UpsertSettings :exec\nINSERT INTO settings (id, paths) VALUES ($1, $2);\n"
	r := newRunner(t, &workload.Workload{Release: plan.Old, Queries: workloadOf(t, src).Queries}, app, engine.MySQL)
	var sink events
	pass(t, r, &sink)
	if diff := cmp.Diff([]string{"UpsertSettings ok"}, sink.summary()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if got := r.Generated()[0].Args[1]; got != s("{}") {
		t.Errorf("paths = %+v, want {}", got)
	}
}

// TestGeneratedGuessWaitsForItsTable: on MySQL/MariaDB, whose server reports no
// parameter types, a type is guessed from the column a placeholder is inserted
// into; at a state before the step that creates the query's table, the only
// columns of that name are other tables' (conductor's skill_metadata, whose
// version and created_at were guessed as meta_def's int and another table's
// timestamp, then kept: 1265 once the table existed). The guess is made again
// once the query's table is there.
func TestGeneratedGuessWaitsForItsTable(t *testing.T) {
	db := testDatabase(t, engine.MySQL)
	app, admin := openDB(t, db), openDB(t, db)
	mustExec(t, admin, "CREATE TABLE meta_def (name varchar(50) PRIMARY KEY, version int NOT NULL)")
	src := "-- name: UpsertSkill :exec\nINSERT INTO skill_metadata (name, version) VALUES ($1, $2);\n"
	r := newRunner(t, &workload.Workload{Release: plan.New, Queries: workloadOf(t, src).Queries}, app, engine.MySQL)
	var before events
	pass(t, r, &before)
	if diff := cmp.Diff([]string{"UpsertSkill error 1146 undefined-table"}, before.summary()); diff != "" {
		t.Errorf("before the table (-want +got):\n%s", diff)
	}
	mustExec(t, admin, "CREATE TABLE skill_metadata (name varchar(50) NOT NULL, version varchar(20) NOT NULL, PRIMARY KEY (name, version))")
	var after events
	pass(t, r, &after)
	if diff := cmp.Diff([]string{"UpsertSkill ok"}, after.summary()); diff != "" {
		t.Errorf("once the table is there (-want +got):\n%s", diff)
	}
	if g := r.Generated(); len(g) != 1 || g[0].Types[1] != "varchar" {
		t.Errorf("generated %+v, want version guessed as skill_metadata's varchar", g)
	}
}

// TestCopyFromIsCopy: sqlc's pgx code sends a :copyfrom query as COPY, which a
// view does not take (42809) where the INSERT of its query file would work: a
// table renamed behind a view breaks old code's copies (truth pass c33).
func TestCopyFromIsCopy(t *testing.T) {
	db := testDatabase(t, engine.Postgres)
	app, admin := openDB(t, db), openDB(t, db)
	mustExec(t, admin, "CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL)")
	mustExec(t, admin, "CREATE VIEW items AS SELECT id, name FROM products")
	src := "-- name: CopyProducts :copyfrom\n-- args: {{n}}, 'tab\\there'\nINSERT INTO products (id, name) VALUES ($1, $2);\n\n" +
		"-- name: CopyItems :copyfrom\n-- args: {{n}}, 'x'\nINSERT INTO items (id, name) VALUES ($1, $2);\n"
	r := newRunner(t, &workload.Workload{Release: plan.Old, Queries: workloadOf(t, src).Queries}, app, engine.Postgres)
	var sink events
	pass(t, r, &sink)
	if diff := cmp.Diff([]string{"CopyProducts ok", "CopyItems error 42809 wrong-object-type"}, sink.summary()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	var name string
	if err := admin.QueryRowContext(t.Context(), "SELECT name FROM products").Scan(&name); err != nil || name != `tab\there` {
		t.Errorf("copied row: %q, %v; want the argument, its backslash escaped and read back", name, err)
	}
}

// TestGeneratedNullableKeyWithoutParent: a nullable foreign key whose table has
// no row yet gets NULL, which the key takes, until a row is there (e2b's
// envs.cluster_id, NULL in the application, was a random uuid: 23503, a
// workload error with no -- args: line to give in generated code).
func TestGeneratedNullableKeyWithoutParent(t *testing.T) {
	src := "-- name: CreateEnv :exec\nINSERT INTO envs (id, cluster_id) VALUES ($1, $2);\n"
	for _, f := range families {
		t.Run(string(f), func(t *testing.T) {
			db := testDatabase(t, f)
			app, admin := openDB(t, db), openDB(t, db)
			mustExec(t, admin,
				"CREATE TABLE clusters (id bigint PRIMARY KEY)",
				"CREATE TABLE envs (id bigint PRIMARY KEY, cluster_id bigint REFERENCES clusters (id))")
			r := newRunner(t, &workload.Workload{Release: plan.Old, Queries: workloadOf(t, src).Queries}, app, f)
			var sink events
			pass(t, r, &sink)
			mustExec(t, admin, "INSERT INTO clusters (id) VALUES (7)")
			pass(t, r, &sink)
			if diff := cmp.Diff([]string{"CreateEnv ok", "CreateEnv ok"}, sink.summary()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			var n int
			if err := admin.QueryRowContext(t.Context(), "SELECT count(*) FROM envs WHERE cluster_id IS NULL").Scan(&n); err != nil || n != 1 {
				t.Errorf("rows without a cluster: %d, %v; want the first, before there was one", n, err)
			}
			if err := admin.QueryRowContext(t.Context(), "SELECT count(*) FROM envs WHERE cluster_id = 7").Scan(&n); err != nil || n != 1 {
				t.Errorf("rows of cluster 7: %d, %v; want the second, once there was one", n, err)
			}
		})
	}
}

// TestLockTableRunsInATransaction: PostgreSQL's LOCK TABLE only runs in a
// transaction block (25P01 outside one), and the application sends it in its
// own (goalert's Keyring_LockConfig): straddle wraps it in one, where the
// release is required and where it is not alike.
func TestLockTableRunsInATransaction(t *testing.T) {
	db := testDatabase(t, engine.Postgres)
	app, admin := openDB(t, db), openDB(t, db)
	mustExec(t, admin, "CREATE TABLE keyring (id int PRIMARY KEY)")
	src := "-- name: LockKeyring :exec\nLOCK keyring IN EXCLUSIVE MODE;\n"
	r := newRunner(t, &workload.Workload{Release: plan.Old, Queries: workloadOf(t, src).Queries}, app, engine.Postgres)
	var sink events
	pass(t, r, &sink)
	if diff := cmp.Diff([]string{"LockKeyring ok"}, sink.summary()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
