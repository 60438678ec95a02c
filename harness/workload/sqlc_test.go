package workload

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
)

// sqlcSchema is the table the sqlc parameter forms are prepared against, on
// every family.
const sqlcSchema = `CREATE TABLE authors (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, bio TEXT)`

// TestSQLCParams reads each of sqlc's parameter forms and checks the statement
// it becomes: its $N text, its arity and flattened arguments, and that it
// prepares and runs on a real server of every family it applies to.
func TestSQLCParams(t *testing.T) {
	tests := []struct {
		name       string
		family     engine.Family // the file's family, as a sqlc config gives it; "" for all
		input      string
		wantSQL    string
		wantParams int
		wantArgs   [][]Arg
		reason     string
	}{{
		name:       "dollar",
		input:      "-- name: GetAuthor :one\nSELECT id, name FROM authors WHERE id = $1 AND name <> $2;\n",
		wantSQL:    "SELECT id, name FROM authors WHERE id = $1 AND name <> $2",
		wantParams: 2,
		reason:     "postgres's own placeholders pass through",
	}, {
		name:       "slash-star name line and ?",
		family:     engine.MySQL,
		input:      "/* name: GetAuthor :one */\nSELECT id, name FROM authors\nWHERE id = ? AND name <> ?;\n",
		wantSQL:    "SELECT id, name FROM authors\nWHERE id = $1 AND name <> $2",
		wantParams: 2,
		reason:     "sqlc's mysql examples: /* name: */ and ? numbered in order",
	}, {
		name:       "hash name line",
		family:     engine.MySQL,
		input:      "# name: ListAuthors :many\nSELECT id FROM authors WHERE id > ?;\n",
		wantSQL:    "SELECT id FROM authors WHERE id > $1",
		wantParams: 1,
		reason:     "# comments are mysql's, and sqlc reads a name line in them",
	}, {
		name:       "? in a file for every family",
		input:      "-- name: GetAuthor :one\n-- args: 1\nSELECT id FROM authors WHERE id=?;\n",
		wantSQL:    "SELECT id FROM authors WHERE id=$1",
		wantParams: 1,
		wantArgs:   [][]Arg{set(i("1"))},
		reason:     "without $N, ? is a placeholder; -- args: binds it",
	}, {
		name:       "at name, repeated",
		input:      "-- name: Find :many\n-- args: 7, 'x'\nSELECT id FROM authors WHERE id = @id OR (name = @name AND id <> @id);\n",
		wantSQL:    "SELECT id FROM authors WHERE id = $1 OR (name = $2 AND id <> $1)",
		wantParams: 2,
		wantArgs:   [][]Arg{set(i("7"), s("x"))},
		reason:     "a name keeps the number of its first occurrence, as sqlc's ParamSet does",
	}, {
		name:       "at name with a cast",
		family:     engine.Postgres,
		input:      "-- name: Cast :many\nSELECT id FROM authors WHERE id = @id::int AND @flag::bool;\n",
		wantSQL:    "SELECT id FROM authors WHERE id = $1::int AND $2::bool",
		wantParams: 2,
		reason:     "@name::type is sqlc's way to type a parameter",
	}, {
		name:       "sqlc.arg, quoted arg and narg",
		input:      "-- name: Update :exec\nUPDATE authors SET bio = sqlc.narg(bio), name = sqlc.arg('name') WHERE id = sqlc.arg(id) AND bio IS NOT NULL OR id = sqlc.arg(id);\n",
		wantSQL:    "UPDATE authors SET bio = $1, name = $2 WHERE id = $3 AND bio IS NOT NULL OR id = $3",
		wantParams: 3,
		reason:     "the function forms are named parameters like @name",
	}, {
		name:       "sqlc.arg mixed with at",
		input:      "-- name: Mixed :many\nSELECT id FROM authors WHERE name = @name AND id > sqlc.arg(min_id) AND name <> sqlc.arg(name);\n",
		wantSQL:    "SELECT id FROM authors WHERE name = $1 AND id > $2 AND name <> $1",
		wantParams: 2,
		reason:     "@name and sqlc.arg(name) are one parameter",
	}, {
		name:       "sqlc.slice with values",
		input:      "-- name: ByIDs :many\n-- args: 'a', (1, 2, 3), 10\nSELECT id FROM authors WHERE name <> sqlc.arg(name) AND id IN (sqlc.slice(ids)) LIMIT sqlc.arg(lim);\n",
		wantSQL:    "SELECT id FROM authors WHERE name <> $1 AND id IN ($2, $3, $4) LIMIT $5",
		wantParams: 5,
		wantArgs:   [][]Arg{set(s("a"), i("1"), i("2"), i("3"), i("10"))},
		reason:     "an IN list has the values given, and the parameters after it are renumbered",
	}, {
		name:       "sqlc.slice without args",
		input:      "-- name: ByIDs :many\nSELECT id FROM authors WHERE id IN (sqlc.slice('ids'));\n",
		wantSQL:    "SELECT id FROM authors WHERE id IN ($1)",
		wantParams: 1,
		reason:     "generated arguments fill a list of one",
	}, {
		name:       "empty sqlc.slice",
		input:      "-- name: ByIDs :many\n-- args: ()\nSELECT id FROM authors WHERE id IN (sqlc.slice(ids));\n",
		wantSQL:    "SELECT id FROM authors WHERE id IN (NULL)",
		wantArgs:   [][]Arg{{}},
		wantParams: 0,
		reason:     "sqlc's generated code sends NULL for an empty slice",
	}, {
		name:       "generated mysql slice marker",
		family:     engine.MySQL,
		input:      "-- name: ByIDs :many\n-- args: (4, 5), 'x'\nSELECT id FROM authors WHERE id IN (/*SLICE:ids*/?) AND name <> ?;\n",
		wantSQL:    "SELECT id FROM authors WHERE id IN (/*SLICE:ids*/$1, $2) AND name <> $3",
		wantParams: 3,
		wantArgs:   [][]Arg{set(i("4"), i("5"), s("x"))},
		reason:     "sqlc's generated code for mysql keeps /*SLICE:name*/? and expands it at run time",
	}, {
		name:    "sqlc.embed",
		input:   "-- name: WithEmbed :many\nSELECT sqlc.embed(authors), 1 AS one FROM authors;\n",
		wantSQL: "SELECT authors.*, 1 AS one FROM authors",
		reason:  "sqlc.embed(t) stands for t's columns",
	}, {
		name:       "postgres operators left alone",
		family:     engine.Postgres,
		input:      "-- name: Ops :many\nSELECT id FROM authors WHERE ARRAY[id] @> ARRAY[@id::int] AND ARRAY[id] <@ ARRAY[1, 2] AND to_tsvector(name) @@ plainto_tsquery(@q) AND @ -1 = 1 AND '{\"a\":1}'::jsonb ?| ARRAY['a'] AND '{\"a\":1}'::jsonb ? 'a';\n",
		wantSQL:    "SELECT id FROM authors WHERE ARRAY[id] @> ARRAY[$1::int] AND ARRAY[id] <@ ARRAY[1, 2] AND to_tsvector(name) @@ plainto_tsquery($2) AND @ -1 = 1 AND '{\"a\":1}'::jsonb ?| ARRAY['a'] AND '{\"a\":1}'::jsonb ? 'a'",
		wantParams: 2,
		reason:     "@>, <@, @@, @ and jsonb's ? and ?| are operators on postgres",
	}, {
		name:       "jsonb ? next to $N",
		input:      "-- name: Ops :many\n-- engine: postgres\nSELECT id FROM authors WHERE id = $1 AND '{}'::jsonb ? 'a';\n",
		wantSQL:    "SELECT id FROM authors WHERE id = $1 AND '{}'::jsonb ? 'a'",
		wantParams: 1,
		reason:     "a statement with $N uses ? as an operator",
	}, {
		name:    "mysql system variables",
		family:  engine.MySQL,
		input:   "-- name: Mode :one\nSELECT @@session.sql_mode, @@version;\n",
		wantSQL: "SELECT @@session.sql_mode, @@version",
		reason:  "@@ is a system variable on mysql",
	}, {
		name:       "parameters in strings and comments",
		input:      "-- name: Quoted :many\n-- engine: postgres\nSELECT id FROM authors WHERE name = '@x ? sqlc.arg(y)' /* @z */ AND id = @id;\n",
		wantSQL:    "SELECT id FROM authors WHERE name = '@x ? sqlc.arg(y)' /* @z */ AND id = $1",
		wantParams: 1,
		reason:     "only text outside quotes and comments is a parameter",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qs, err := ParseFamily("q.sql", []byte(tt.input), tt.family)
			if err != nil {
				t.Fatalf("Parse: %v (%s)", err, tt.reason)
			}
			if len(qs) != 1 {
				t.Fatalf("got %d queries, want 1", len(qs))
			}
			q := qs[0]
			if diff := cmp.Diff(tt.wantSQL, q.SQL); diff != "" {
				t.Errorf("SQL mismatch (-want +got) (%s):\n%s", tt.reason, diff)
			}
			if q.Params != tt.wantParams {
				t.Errorf("Params = %d, want %d (%s)", q.Params, tt.wantParams, tt.reason)
			}
			if diff := cmp.Diff(tt.wantArgs, q.Args); diff != "" {
				t.Errorf("Args mismatch (-want +got) (%s):\n%s", tt.reason, diff)
			}
			for _, f := range []engine.Family{engine.Postgres, engine.MySQL} {
				if q.Applies(f) {
					t.Run(string(f), func(t *testing.T) { checkPrepares(t, &q, f) })
				}
			}
		})
	}
}

// checkPrepares renders q for f and prepares it on a real server of f. With
// arguments it also runs it, so the server sees exactly as many placeholders as
// there are arguments.
func checkPrepares(t *testing.T, q *Query, f engine.Family) {
	t.Helper()
	db := openDB(t, testDatabase(t, f))
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, sqlcSchema); err != nil {
		t.Fatal(err)
	}
	text, order, err := q.For(f)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := db.PrepareContext(ctx, text)
	if err != nil {
		t.Fatalf("prepare %q on %s: %v", text, f, err)
	}
	defer stmt.Close()
	if len(q.Args) == 0 {
		return
	}
	args := make([]any, len(order))
	for i, k := range order {
		args[i] = q.Args[0][k].Value(1)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		t.Fatalf("run %q with %v on %s: %v", text, args, f, err)
	}
	rows.Close()
}
