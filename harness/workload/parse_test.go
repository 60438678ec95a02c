package workload

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

func s(text string) Arg  { return Arg{Kind: ArgString, Text: text} }
func i(text string) Arg  { return Arg{Kind: ArgInt, Text: text} }
func d(text string) Arg  { return Arg{Kind: ArgDecimal, Text: text} }
func b(text string) Arg  { return Arg{Kind: ArgBool, Text: text} }
func null() Arg          { return Arg{Kind: ArgNull} }
func set(a ...Arg) []Arg { return append([]Arg{}, a...) }

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   []Query
		reason string
	}{{
		name: "design example",
		input: `-- name: GetUser :one
-- args: 1
SELECT id, name FROM users WHERE id = $1;

-- name: CreateUser :exec
-- args: 'user{{n}}', 'user{{n}}@example.com'
INSERT INTO users (name, email) VALUES ($1, $2);

-- name: ListActive :many
-- engine: postgres
-- expect: rows>=1
SELECT id FROM users WHERE active IS TRUE;
`,
		want: []Query{
			{Name: "GetUser", Cmd: CmdOne, SQL: "SELECT id, name FROM users WHERE id = $1", Args: [][]Arg{set(i("1"))}, Params: 1, Line: 1},
			{Name: "CreateUser", Cmd: CmdExec, SQL: "INSERT INTO users (name, email) VALUES ($1, $2)", Args: [][]Arg{set(s("user{{n}}"), s("user{{n}}@example.com"))}, Params: 2, Line: 5},
			{Name: "ListActive", Cmd: CmdMany, SQL: "SELECT id FROM users WHERE active IS TRUE", Family: engine.Postgres, Expect: &Expect{Rows: RowCount{">=", 1}}, Line: 9},
		},
		reason: "the format as shared/DESIGN.md documents it",
	}, {
		name:   "no suffix",
		input:  "-- name: Plain\nSELECT 1;\n",
		want:   []Query{{Name: "Plain", SQL: "SELECT 1", Line: 1}},
		reason: "the command suffix is optional",
	}, {
		name:   "suffix case and every command",
		input:  "-- name: A :EXECROWS\nDELETE FROM t;\n-- name: B :execresult\nDELETE FROM t;\n-- name: C :execlastid\nDELETE FROM t;\n-- name: D :batchexec\nDELETE FROM t;\n-- name: E :batchone\nSELECT 1;\n-- name: F :batchmany\nSELECT 1;\n-- name: G :copyfrom\nINSERT INTO t VALUES (1);\n",
		want:   []Query{{Name: "A", Cmd: CmdExecRows, SQL: "DELETE FROM t", Line: 1}, {Name: "B", Cmd: CmdExecResult, SQL: "DELETE FROM t", Line: 3}, {Name: "C", Cmd: CmdExecLastID, SQL: "DELETE FROM t", Line: 5}, {Name: "D", Cmd: CmdBatchExec, SQL: "DELETE FROM t", Line: 7}, {Name: "E", Cmd: CmdBatchOne, SQL: "SELECT 1", Line: 9}, {Name: "F", Cmd: CmdBatchMany, SQL: "SELECT 1", Line: 11}, {Name: "G", Cmd: CmdCopyFrom, SQL: "INSERT INTO t VALUES (1)", Line: 13}},
		reason: "sqlc's commands are all accepted, case-insensitively",
	}, {
		name:   "every literal",
		input:  "-- name: Lits :exec\n-- args: 1, -2, +3, 1.50, -.5, 2e3, 'it''s, here', '', NULL, null, true, FALSE, {{n}}, 1{{n}}, '{{n}}x'\nSELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15;\n",
		want:   []Query{{Name: "Lits", Cmd: CmdExec, SQL: "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15", Params: 15, Line: 1, Args: [][]Arg{set(i("1"), i("-2"), i("+3"), d("1.50"), d("-.5"), d("2e3"), s("it's, here"), s(""), null(), null(), b("true"), b("false"), i("{{n}}"), i("1{{n}}"), s("{{n}}x"))}}},
		reason: "numbers, strings with '' escapes and commas, NULL, booleans and {{n}} bare or quoted",
	}, {
		name:   "several argument sets",
		input:  "-- name: Get :one\n-- args: 1\n-- args: 2\n-- args: NULL\nSELECT * FROM t WHERE id = $1;\n",
		want:   []Query{{Name: "Get", Cmd: CmdOne, SQL: "SELECT * FROM t WHERE id = $1", Params: 1, Line: 1, Args: [][]Arg{set(i("1")), set(i("2")), set(null())}}},
		reason: "-- args: repeats; each line is one execution per pass",
	}, {
		name:   "empty args",
		input:  "-- name: Now :one\n-- args:\n-- args:\nSELECT now();\n",
		want:   []Query{{Name: "Now", Cmd: CmdOne, SQL: "SELECT now()", Line: 1, Args: [][]Arg{{}, {}}}},
		reason: "an empty -- args: line is one execution without arguments",
	}, {
		name:   "repeated and reordered placeholders",
		input:  "-- name: R :many\n-- args: 'a', 'b'\nSELECT * FROM t WHERE a = $2 OR b = $1 OR c = $2;\n",
		want:   []Query{{Name: "R", Cmd: CmdMany, SQL: "SELECT * FROM t WHERE a = $2 OR b = $1 OR c = $2", Params: 2, Line: 1, Args: [][]Arg{set(s("a"), s("b"))}}},
		reason: "the arity is the highest $N, not the number of placeholders",
	}, {
		name:   "placeholders in strings, identifiers and comments",
		input:  "-- name: Q :one\n-- args: 1\n-- engine: postgres\nSELECT '$2', \"$3\", $$ $4 $$, a$5 /* $6 */ FROM t WHERE id = $1 -- $7\n;\n",
		want:   []Query{{Name: "Q", Cmd: CmdOne, SQL: "SELECT '$2', \"$3\", $$ $4 $$, a$5 /* $6 */ FROM t WHERE id = $1 -- $7", Params: 1, Family: engine.Postgres, Line: 1, Args: [][]Arg{set(i("1"))}}},
		reason: "only $N outside quotes and comments are placeholders",
	}, {
		name:   "sqlc file without args",
		input:  "-- name: GetAuthor :one\nSELECT * FROM authors\nWHERE id = $1 LIMIT 1;\n\n-- name: ListAuthors :many\nSELECT * FROM authors;\n",
		want:   []Query{{Name: "GetAuthor", Cmd: CmdOne, SQL: "SELECT * FROM authors\nWHERE id = $1 LIMIT 1", Params: 1, NoArgs: true, Line: 1}, {Name: "ListAuthors", Cmd: CmdMany, SQL: "SELECT * FROM authors", Line: 5}},
		reason: "placeholders without -- args: mark the query NoArgs (arguments are generated); no placeholders need none",
	}, {
		name:   "engine mariadb and mysql",
		input:  "-- name: A\n-- engine: mariadb\nSELECT 1;\n-- name: B\n-- engine: MySQL\nSELECT 1;\n-- name: C\n-- engine: postgresql\nSELECT 1;\n",
		want:   []Query{{Name: "A", SQL: "SELECT 1", Family: engine.MySQL, Line: 1}, {Name: "B", SQL: "SELECT 1", Family: engine.MySQL, Line: 4}, {Name: "C", SQL: "SELECT 1", Family: engine.Postgres, Line: 7}},
		reason: "mariadb is the mysql family",
	}, {
		name:  "every expectation",
		input: "-- name: A :one\n-- expect: rows=1, value='x''y'\nSELECT 'x''y';\n-- name: B :many\n-- expect: rows<=5\n-- expect: value=NULL\nSELECT NULL;\n-- name: C :exec\n-- expect: error=unique\nINSERT INTO t VALUES (1);\n-- name: D :execrows\n-- expect: rows = 0\nDELETE FROM t;\n-- name: E :one\n-- expect: value = 42\nSELECT 42;\n",
		want: []Query{
			{Name: "A", Cmd: CmdOne, SQL: "SELECT 'x''y'", Expect: &Expect{Rows: RowCount{"=", 1}, Value: &Arg{ArgString, "x'y"}}, Line: 1},
			{Name: "B", Cmd: CmdMany, SQL: "SELECT NULL", Expect: &Expect{Rows: RowCount{"<=", 5}, Value: &Arg{Kind: ArgNull}}, Line: 4},
			{Name: "C", Cmd: CmdExec, SQL: "INSERT INTO t VALUES (1)", Expect: &Expect{Error: engine.ClassUnique}, Line: 8},
			{Name: "D", Cmd: CmdExecRows, SQL: "DELETE FROM t", Expect: &Expect{Rows: RowCount{"=", 0}}, Line: 11},
			{Name: "E", Cmd: CmdOne, SQL: "SELECT 42", Expect: &Expect{Value: &Arg{ArgInt, "42"}}, Line: 14},
		},
		reason: "rows=, rows>=, rows<=, value= and error=, on one line or several, spaces allowed around the operator",
	}, {
		name:   "statement ends at the next name",
		input:  "-- name: A :one\nSELECT 1\n\n-- about B\n\n-- name: B :one\nSELECT 2\n-- trailing\n",
		want:   []Query{{Name: "A", Cmd: CmdOne, SQL: "SELECT 1", Line: 1}, {Name: "B", Cmd: CmdOne, SQL: "SELECT 2", Line: 6}},
		reason: "without ; the statement runs to the next -- name: or the end of the file, trailing comments dropped",
	}, {
		name:   "multi-line statement and doc comments",
		input:  "-- Preamble comment.\n/* block\n   comment */\n\n-- name: A :many\n-- A lists things.\n-- note: sqlc doc comments are comments\n-- Params: the id, not a directive\n\nSELECT a,\n       b -- inline; comment\nFROM t\nWHERE x = 'a;\nb;'\n  AND y = 1; -- trailing comment\n\n-- between queries\n",
		want:   []Query{{Name: "A", Cmd: CmdMany, SQL: "SELECT a,\n       b -- inline; comment\nFROM t\nWHERE x = 'a;\nb;'\n  AND y = 1", Line: 5}},
		reason: "comments before the SQL are not part of it; a ; inside a string or comment or before a comment ends nothing early",
	}, {
		name:   "CRLF",
		input:  "-- name: A :one\r\n-- args: 1\r\nSELECT $1;\r\n",
		want:   []Query{{Name: "A", Cmd: CmdOne, SQL: "SELECT $1", Params: 1, Line: 1, Args: [][]Arg{set(i("1"))}}},
		reason: "Windows line endings",
	}, {
		name:   "mysql backslash escape in a mysql query",
		input:  "-- name: A :one\n-- engine: mysql\nSELECT 'it\\'s $1', `$2` FROM t # $3\n;\n",
		want:   []Query{{Name: "A", Cmd: CmdOne, SQL: "SELECT 'it\\'s $1', `$2` FROM t # $3", Family: engine.MySQL, Line: 1}},
		reason: "mysql rules: backslash escapes, backticks and # comments",
	}, {
		name:   "schema before the first name",
		input:  "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n\n-- name: A :one\nSELECT 2;\n",
		want:   []Query{{Name: "A", Cmd: CmdOne, SQL: "SELECT 2", Line: 4}},
		reason: "sqlc projects point schema: and queries: at the same files; statements without a name are schema, as sqlc skips them",
	}, {
		name:   "SQL after a statement ended",
		input:  "-- name: A\nINSERT INTO t VALUES (1);\n\nCREATE INDEX t_i ON t (id);\n",
		want:   []Query{{Name: "A", SQL: "INSERT INTO t VALUES (1)", Line: 1}},
		reason: "an unnamed statement after a query is schema too",
	}, {
		name:   "empty file",
		input:  "\n-- just a comment\n",
		want:   nil,
		reason: "a file with no queries parses; Load rejects a source with none",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("q.sql", []byte(tt.input))
			if err != nil {
				t.Fatalf("Parse: %v (%s)", err, tt.reason)
			}
			for i := range tt.want {
				tt.want[i].File = "q.sql"
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got) (%s):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   string
		reason string
	}{
		{"unknown command", "-- name: A :first\nSELECT 1;\n", `q.sql:1: query A: unknown command ":first" (want :one, :many, :exec, :execrows, :execresult, :execlastid, :batchexec, :batchone, :batchmany or :copyfrom, or none)`, "only sqlc's commands"},
		{"missing name", "-- name:\nSELECT 1;\n", "q.sql:1: -- name: needs a query name, e.g. -- name: GetUser :one", "a name is required"},
		{"bad name", "-- name: 1st :one\nSELECT 1;\n", `q.sql:1: query name "1st" is not an identifier (letters, digits and _, not starting with a digit)`, "names are identifiers"},
		{"extra words", "-- name: A :one :many\nSELECT 1;\n", `q.sql:1: -- name: A :one :many: unexpected ":many"; write -- name: NAME [:cmd]`, "one command only"},
		{"duplicate name", "-- name: A :one\nSELECT 1;\n\n-- name: A :one\nSELECT 2;\n", "q.sql:4: query A is already defined on line 1; query names must be unique", "names identify queries in reports"},
		{"two statements on a line", "-- name: A\nSELECT 1; SELECT 2;\n", "q.sql:2: query A: more than one statement; end the statement with ; at the end of its line and start the next with -- name: NAME", "one statement per query"},
		{"empty body at next name", "-- name: A :one\n-- args: 1\n\n-- name: B\nSELECT 1;\n", "q.sql:1: query A has no SQL; write its statement after the -- name: line", "a query needs SQL"},
		{"empty body at end", "-- name: A :one\n-- only a comment\n", "q.sql:1: query A has no SQL; write its statement after the -- name: line", "a query needs SQL"},
		{"lone semicolon", "-- name: A :one\n;\n", "q.sql:1: query A has no SQL; write its statement after the -- name: line", "a query needs SQL"},
		{"bad literal", "-- name: A\n-- args: abc\nSELECT $1;\n", `q.sql:2: query A: args: value 1: "abc" is not a SQL literal (want a number, 'string', NULL, true or false)`, "SQL literals only"},
		{"unterminated string", "-- name: A\n-- args: 1, 'abc\nSELECT $1, $2;\n", "q.sql:2: query A: args: value 2: unterminated string 'abc; close it with ' (write '' for a quote inside)", "strings are closed"},
		{"missing comma", "-- name: A\n-- args: 'a' 'b'\nSELECT $1, $2;\n", `q.sql:2: query A: args: value 1: unexpected "'b'" after 'a'; separate values with commas`, "values are comma-separated"},
		{"unknown sqlc macro", "-- name: A :one\nSELECT sqlc.args(a);\n", "q.sql:2: query A: sqlc.args is not a sqlc macro; want sqlc.arg, sqlc.narg, sqlc.slice or sqlc.embed", "a typo of a macro would reach the server as schema sqlc"},
		{"sqlc macro without name", "-- name: A :one\nSELECT sqlc.arg();\n", "q.sql:2: query A: sqlc.arg takes one name: sqlc.arg(name)", "a macro names its parameter"},
		{"list for a plain parameter", "-- name: A :many\n-- args: (1, 2)\nSELECT @a;\n", "q.sql:2: query A: args: value 1 is a list, but $1 is not a sqlc.slice parameter; give one value", "lists are for sqlc.slice"},
		{"slice lengths differ", "-- name: A :many\n-- args: (1, 2)\n-- args: (3)\nSELECT 1 WHERE 1 IN (sqlc.slice(ids));\n", "q.sql:3: query A: args: sqlc.slice(ids) gets 1 value(s) here and 2 on line 2; the IN list is rendered once, so give the same number in every set", "the statement is rendered once per runner"},
		{"unterminated list", "-- name: A :many\n-- args: (1, 2\nSELECT 1 WHERE 1 IN (sqlc.slice(ids));\n", "q.sql:2: query A: args: value 1: unterminated list (1, 2; close it with )", "lists are closed"},
		{"empty value", "-- name: A\n-- args: 1,,2\nSELECT $1, $2, $3;\n", "q.sql:2: query A: args: value 2: missing value", "no empty values"},
		{"trailing comma", "-- name: A\n-- args: 1,\nSELECT $1;\n", "q.sql:2: query A: args: value 2: missing value", "no empty values"},
		{"too few args", "-- name: A :one\n-- args: 1\n-- args: 1\n-- args: 1, 2\nSELECT $1 + $3 + $2;\n", "q.sql:2: query A: args gives 1 value(s) but the query uses $1…$3; give exactly 3", "arity is checked per set, at its line"},
		{"too many args", "-- name: A :one\n-- args: 1, 2\nSELECT $1;\n", "q.sql:2: query A: args gives 2 value(s) but the query uses $1; give exactly 1", "arity is checked"},
		{"args without placeholders", "-- name: A :one\n-- args: 1\nSELECT 1;\n", "q.sql:2: query A: args gives 1 value(s) but the query uses no placeholders; give exactly 0", "arity is checked"},
		{"placeholder gap", "-- name: A :one\n-- args: 1, 2, 3\nSELECT $1, $3;\n", "q.sql:1: query A: uses $3 but not $2; number placeholders $1…$N without gaps", "postgres cannot infer a gap's type"},
		{"placeholder zero", "-- name: A :one\nSELECT $0;\n", "q.sql:1: query A: placeholder $0; placeholders start at $1", "placeholders are 1-based"},
		{"unknown engine", "-- name: A\n-- engine: oracle\nSELECT 1;\n", `q.sql:2: query A: engine "oracle": want postgres or mysql (mariadb counts as mysql), without a version`, "two families"},
		{"engine with version", "-- name: A\n-- engine: postgres:16\nSELECT 1;\n", `q.sql:2: query A: engine "postgres:16": want postgres or mysql (mariadb counts as mysql), without a version`, "a family, not an engine spec"},
		{"two engines", "-- name: A\n-- engine: postgres\n-- engine: mysql\nSELECT 1;\n", "q.sql:3: query A: a second -- engine: line; a query runs on one family or on all", "one family"},
		{"expect empty", "-- name: A\n-- expect:\nSELECT 1;\n", "q.sql:2: query A: expect: empty; want rows=N, rows>=N, rows<=N, value=LITERAL or error=CLASS", "say what to expect"},
		{"expect rows not a number", "-- name: A\n-- expect: rows=many\nSELECT 1;\n", "q.sql:2: query A: expect: rows=many: want a non-negative whole number", "counts are numbers"},
		{"expect rows negative", "-- name: A\n-- expect: rows>=-1, value=1\nSELECT 1;\n", "q.sql:2: query A: expect: rows>=-1: want a non-negative whole number", "counts are not negative"},
		{"expect rows greater", "-- name: A\n-- expect: rows>1\nSELECT 1;\n", `q.sql:2: query A: expect: "rows>1": want rows=N, rows>=N, rows<=N, value=LITERAL or error=CLASS`, "only =, >= and <="},
		{"expect value op", "-- name: A :one\n-- expect: value>=1\nSELECT 1;\n", "q.sql:2: query A: expect: value>=: values are compared with = only", "values compare as text"},
		{"expect value bad literal", "-- name: A :one\n-- expect: value=abc\nSELECT 1;\n", `q.sql:2: query A: expect: value=: "abc" is not a SQL literal (want a number, 'string', NULL, true or false)`, "values are literals"},
		{"expect unknown check", "-- name: A\n-- expect: columns=2\nSELECT 1;\n", `q.sql:2: query A: expect: unknown check "columns"; want rows, value or error`, "three checks"},
		{"expect duplicate rows", "-- name: A\n-- expect: rows=1\n-- expect: rows>=2\nSELECT 1;\n", "q.sql:3: query A: expect: a second rows check (rows=1 is already expected)", "one row check"},
		{"expect duplicate value", "-- name: A :one\n-- expect: value=1, value=2\nSELECT 1;\n", "q.sql:2: query A: expect: a second value check (value=1 is already expected)", "one value check"},
		{"expect bad class", "-- name: A\n-- expect: error=boom\nSELECT 1;\n", `q.sql:2: query A: expect: unknown error class "boom" (want one of [undefined-column undefined-table ambiguous-column column-count not-null unique foreign-key check invalid-value out-of-range stale-plan no-conflict-target undefined-object undefined-function type-mismatch wrong-object-type raised lock-timeout statement-timeout deadlock syntax other])`, "classes are engine.Classes"},
		{"expect error and rows", "-- name: A\n-- expect: error=unique, rows=1\nSELECT 1;\n", "q.sql:2: query A: expect: error= cannot be combined with rows= or value= (a failing query returns no rows)", "a failure returns no rows"},
		{"expect missing comma", "-- name: A\n-- expect: rows=1 value=1\nSELECT 1;\n", `q.sql:2: query A: expect: unexpected "value=1"; separate checks with commas`, "checks are comma-separated"},
		{"expect trailing comma", "-- name: A\n-- expect: rows=1,\nSELECT 1;\n", "q.sql:2: query A: expect: trailing comma", "no empty checks"},
		{"expect value on exec", "-- name: A :exec\n-- expect: value=1\nDELETE FROM t;\n", "q.sql:2: query A: expect value= needs a query that returns rows (:one or :many), not :exec", "exec reads no rows"},
		{"expect value on inferred exec", "-- name: A\n-- expect: value=1\nDELETE FROM t;\n", "q.sql:2: query A: expect value= needs a query that returns rows (:one or :many), not a statement that returns none", "the inferred kind counts too"},
		{"misspelled directive", "-- name: A :one\n-- arg: 1\nSELECT $1;\n", "q.sql:2: query A: unknown directive -- arg:; did you mean -- args:?", "typos of directives are caught"},
		{"directive before first name", "-- args: 1\n-- name: A\nSELECT $1;\n", "q.sql:1: -- args: before the first -- name: line; start the query with -- name: NAME", "directives belong to a query"},
		{"directive after SQL", "-- name: A :one\nSELECT $1\n-- args: 1\n;\n", "q.sql:3: -- args: after the SQL of query A; put it between -- name: and the SQL", "directives go in the header"},
		{"directive after statement end", "-- name: A :one\nSELECT 1;\n-- expect: rows=1\n", "q.sql:3: -- expect: after the SQL of query A; put it between -- name: and the SQL", "directives go in the header"},
		{"unterminated string in SQL", "-- name: A :one\nSELECT 1\nWHERE a = 'x;\n", "q.sql:3: query A: unterminated string literal (missing closing ')", "quotes are closed"},
		{"unterminated comment in SQL", "-- name: A :one\nSELECT 1 /* no end\n", "q.sql:2: query A: unterminated /* comment", "comments are closed"},
		{"backslash breaks mysql", "-- name: A :one\nSELECT 'C:\\';\n", "q.sql:2: query A: unterminated string literal (missing closing ') on mysql; fix the quoting or restrict the query with -- engine:", "a query for every family must lex on every family"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("q.sql", []byte(tt.input))
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want error %q (%s)", got, tt.want, tt.reason)
			}
			var ie *plan.InputError
			if !errors.As(err, &ie) || !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("error %v is %T, want a *plan.InputError wrapping ErrBadInput", err, err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got) (%s):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestFor(t *testing.T) {
	tests := []struct {
		name      string
		sql       string
		family    engine.Family
		wantSQL   string
		wantOrder []int
		reason    string
	}{
		{"postgres unchanged", "SELECT $2, $1, $2", engine.Postgres, "SELECT $2, $1, $2", []int{0, 1}, "postgres binds $N by number"},
		{"mysql in order", "INSERT INTO t (a, b) VALUES ($1, $2)", engine.MySQL, "INSERT INTO t (a, b) VALUES (?, ?)", []int{0, 1}, "? in order of appearance"},
		{"mysql reordered and repeated", "SELECT * FROM t WHERE a = $2 OR b = $1 OR c = $2", engine.MySQL, "SELECT * FROM t WHERE a = ? OR b = ? OR c = ?", []int{1, 0, 1}, "arguments follow the placeholders"},
		{"mysql leaves quotes and comments", "SELECT '$1', \"$1\", `$1`, x$1 /* $1 */ # $1\nFROM t -- $1\nWHERE a = $1 AND b = 'it\\'s $1'", engine.MySQL, "SELECT '$1', \"$1\", `$1`, x$1 /* $1 */ # $1\nFROM t -- $1\nWHERE a = ? AND b = 'it\\'s $1'", []int{0}, "only real placeholders are rewritten"},
		{"mysql adjacent", "SELECT $10+$1", engine.MySQL, "SELECT ?+?", []int{9, 0}, "multi-digit placeholders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := Query{Name: "Q", SQL: tt.sql, Params: 10}
			if tt.family == engine.Postgres {
				q.Params = 2
			}
			gotSQL, gotOrder, err := q.For(tt.family)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantSQL, gotSQL); diff != "" {
				t.Errorf("SQL mismatch (-want +got) (%s):\n%s", tt.reason, diff)
			}
			if diff := cmp.Diff(tt.wantOrder, gotOrder); diff != "" {
				t.Errorf("order mismatch (-want +got) (%s):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestReadsRows(t *testing.T) {
	tests := []struct {
		cmd    Cmd
		sql    string
		want   bool
		reason string
	}{
		{CmdOne, "DELETE FROM t", true, ":one reads rows whatever the SQL"},
		{CmdExec, "SELECT 1", false, ":exec executes whatever the SQL"},
		{CmdNone, "select 1", true, "SELECT reads rows"},
		{CmdNone, "  WITH x AS (SELECT 1) SELECT * FROM x", true, "WITH reads rows"},
		{CmdNone, "-- c\nVALUES (1)", true, "comments are skipped"},
		{CmdNone, "INSERT INTO t VALUES (1) RETURNING id", true, "RETURNING reads rows"},
		{CmdNone, "UPDATE t SET a = 'returning'", false, "a string is not a RETURNING clause"},
		{CmdNone, "DELETE FROM t", false, "other statements execute"},
	}
	for _, tt := range tests {
		q := Query{Cmd: tt.cmd, SQL: tt.sql}
		if got := q.ReadsRows(); got != tt.want {
			t.Errorf("ReadsRows(%s %q) = %v, want %v (%s)", tt.cmd, tt.sql, got, tt.want, tt.reason)
		}
	}
}

func TestArgValue(t *testing.T) {
	tests := []struct {
		arg    Arg
		want   any
		reason string
	}{
		{i("42"), int64(42), "integers are int64"},
		{i("-{{n}}"), int64(-7), "bare {{n}} is a number"},
		{i("99999999999999999999"), "99999999999999999999", "beyond int64 the server parses it"},
		{d("1.50"), "1.50", "decimals stay exact, as text"},
		{s("user{{n}}@x"), "user7@x", "{{n}} inside strings"},
		{s("{{uuid}}"), "00000000-0000-4000-8000-000000000007", "{{uuid}} is a UUID made from n"},
		{b("true"), true, "booleans"},
		{null(), nil, "NULL is nil"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.arg.Value(7)); diff != "" {
			t.Errorf("%v.Value(7) mismatch (-want +got) (%s):\n%s", tt.arg, tt.reason, diff)
		}
	}
}

func TestExpectString(t *testing.T) {
	e := &Expect{Rows: RowCount{">=", 1}, Value: &Arg{ArgString, "it's"}}
	if got, want := e.String(), "rows>=1, value='it''s'"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (&Expect{Error: engine.ClassUndefinedColumn}).String(), "error=undefined-column"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestParseFileTestdata(t *testing.T) {
	qs, err := ParseFile("../../testdata/queries/users.sql")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, q := range qs {
		names = append(names, q.Name)
	}
	if got, want := strings.Join(names, " "), "GetUser CreateUser ListActive"; got != want {
		t.Errorf("names = %q, want %q", got, want)
	}
	if qs[0].Line != 3 || qs[0].File != "../../testdata/queries/users.sql" {
		t.Errorf("GetUser at %s:%d, want users.sql:3", qs[0].File, qs[0].Line)
	}
}
