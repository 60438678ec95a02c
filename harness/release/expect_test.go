package release

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
	"github.com/straddle-dev/straddle/harness/workload"
)

func TestExpectCheck(t *testing.T) {
	val := func(a workload.Arg) *workload.Expect { return &workload.Expect{Value: &a} }
	tests := []struct {
		name   string
		expect *workload.Expect
		res    result
		want   string
		reason string
	}{
		{"nil", nil, result{}, "", "no expectation, no check"},
		{"rows ok", &workload.Expect{Rows: workload.RowCount{Op: "=", N: 1}}, result{rows: 1}, "", "exact count"},
		{"rows eq", &workload.Expect{Rows: workload.RowCount{Op: "=", N: 1}}, result{rows: 0}, "want rows=1, got 0", "the message of shared/DESIGN.md"},
		{"rows ge", &workload.Expect{Rows: workload.RowCount{Op: ">=", N: 1}}, result{rows: 0}, "want rows>=1, got 0", "at least"},
		{"rows le", &workload.Expect{Rows: workload.RowCount{Op: "<=", N: 1}}, result{rows: 3}, "want rows<=1, got 3", "at most"},
		{"value ok", val(i("42")), result{rows: 1, first: int64(42), hasFirst: true}, "", "compared as text"},
		{"value bytes", val(s("x")), result{rows: 1, first: []byte("x"), hasFirst: true}, "", "mysql returns bytes"},
		{"value n", val(s("user{{n}}")), result{rows: 1, first: "user7", hasFirst: true}, "", "{{n}} is the execution's number"},
		{"value differs", val(s("a")), result{rows: 1, first: "b", hasFirst: true}, "want value='a', got 'b'", "mismatch quotes both"},
		{"value null wanted", val(null()), result{rows: 1, first: nil, hasFirst: true}, "", "NULL matches NULL"},
		{"value null got", val(i("1")), result{rows: 1, first: nil, hasFirst: true}, "want value=1, got NULL", "NULL matches only NULL"},
		{"value not null", val(null()), result{rows: 1, first: "NULL", hasFirst: true}, "want value=NULL, got 'NULL'", "the text NULL is not NULL"},
		{"value no rows", val(i("1")), result{}, "want value=1, got no rows", "no row to compare"},
		{"value bool", val(b("true")), result{rows: 1, first: true, hasFirst: true}, "", "booleans print as true/false"},
		{"error expected", &workload.Expect{Error: engine.ClassUnique}, result{}, "want error=unique, got no error", "success is a mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mismatch(tt.expect, tt.res, 7)); diff != "" {
				t.Errorf("check mismatch (-want +got) (%s):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestParamColumns(t *testing.T) {
	tests := []struct {
		sql        string
		wantCols   map[int]string
		wantTables []string
	}{
		{"SELECT * FROM authors a JOIN books b ON b.author = a.id WHERE a.id = $1 AND $2 < b.year AND b.kind IN ($3, $4) LIMIT $5 OFFSET $6",
			map[int]string{1: "id", 2: "year", 3: "kind", 4: "kind", 5: limitParam, 6: limitParam}, []string{"authors", "books"}},
		{"INSERT INTO `db`.`authors` (name, `bio`, kind) VALUES ($1, lower($2), $3), ($4, $5, $6) ON DUPLICATE KEY UPDATE name = $7",
			map[int]string{1: "name", 3: "kind", 4: "name", 5: "bio", 6: "kind", 7: "name"}, []string{"authors"}},
		{"UPDATE authors SET bio = $1 WHERE name LIKE $2 LIMIT $3, $4", map[int]string{1: "bio", 2: "name", 3: limitParam, 4: limitParam}, []string{"authors"}},
		{"SELECT $1 + 1", map[int]string{}, nil},
	}
	for _, tt := range tests {
		toks, err := sqltext.Lex(tt.sql, sqltext.For(engine.MySQL))
		if err != nil {
			t.Fatal(err)
		}
		cols, tables := paramColumns(toks)
		if diff := cmp.Diff(tt.wantCols, cols); diff != "" {
			t.Errorf("paramColumns(%q) columns mismatch (-want +got):\n%s", tt.sql, diff)
		}
		if diff := cmp.Diff(tt.wantTables, tables); diff != "" {
			t.Errorf("paramColumns(%q) tables mismatch (-want +got):\n%s", tt.sql, diff)
		}
	}
}

func TestFirstLabel(t *testing.T) {
	for in, want := range map[string]string{"enum('it''s','b')": "it's", "set('a')": "a", "int": ""} {
		if got := firstLabel(in); got != want {
			t.Errorf("firstLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestParamColumnsCast: a placeholder cast in an INSERT's VALUES still takes its
// column (e2b's UpsertProjectLimits: VALUES ($1::uuid, …) got a random uuid
// instead of a key of the referenced table, and failed 23503).
func TestParamColumnsCast(t *testing.T) {
	toks, err := sqltext.Lex("INSERT INTO limits (team_id, max_sandboxes, note) VALUES ($1::uuid, $2::bigint, lower($3::text))", sqltext.For(engine.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := paramColumns(toks)
	if diff := cmp.Diff(map[int]string{1: "team_id", 2: "max_sandboxes"}, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}
