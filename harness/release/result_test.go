package release

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/workload"
)

func col(name, typ string, length, prec, scale int64) column {
	return column{name: name, typ: typ, length: length, precision: prec, scale: scale}
}

func TestCompareResults(t *testing.T) {
	id := col("id", "INT8", -1, -1, -1)
	amount := col("amount", "NUMERIC", -1, 10, 2)
	name := col("name", "VARCHAR", 100, -1, -1)
	row := func(vs ...string) []cellValue {
		out := make([]cellValue, len(vs))
		for i, v := range vs {
			out[i] = cellValue{text: v, null: v == "NULL"}
		}
		return out
	}
	sh := func(values bool, cols []column, rows ...[]cellValue) *shape {
		return &shape{cols: cols, rows: rows, count: int64(len(rows)), values: values}
	}
	tests := []struct {
		name      string
		prev, cur *shape
		want      string
		reason    string
	}{
		{"same", sh(true, []column{id, name}, row("1", "ada")), sh(true, []column{id, name}, row("1", "ada")), "", "nothing changed"},
		{"column added", sh(true, []column{id, name}), sh(true, []column{id, name, col("email", "VARCHAR", 200, -1, -1)}), "",
			"a column only added (SELECT * over ADD COLUMN) is not a finding: clients naming columns never see it"},
		{"column gone", sh(true, []column{id, name}), sh(true, []column{id}), ResultColumns, "a column the release reads is no longer returned"},
		{"same names twice", sh(true, []column{id, name, id}, row("1", "ada", "7")), sh(true, []column{id, name, id}, row("1", "ada", "7")), "",
			"a join returns a.id and b.id: nothing changed (was 'columns returned in another order')"},
		{"same names twice, second value changed", sh(true, []column{id, name, id}, row("1", "ada", "7")), sh(true, []column{id, name, id}, row("1", "ada", "8")), ResultValue,
			"the second id is compared with the second id"},
		{"columns reordered", sh(true, []column{id, name}), sh(true, []column{name, id}), ResultColumns, "positional scans read the wrong column"},
		{"numeric to integer", sh(true, []column{amount}, row("12.50")), sh(true, []column{col("amount", "INT4", -1, -1, -1)}, row("13")), ResultType,
			"another kind: old clients read 13 where they wrote 12.50"},
		{"fewer decimals", sh(true, []column{amount}), sh(true, []column{col("amount", "NUMERIC", -1, 10, 0)}), ResultType, "scale narrowed"},
		{"wider numeric", sh(true, []column{amount}), sh(true, []column{col("amount", "NUMERIC", -1, 12, 2)}), "", "widening loses nothing"},
		{"varchar shorter", sh(true, []column{name}), sh(true, []column{col("name", "VARCHAR", 50, -1, -1)}), "", "a reader takes every value a shorter column holds: writers are the ones that break"},
		{"varchar longer", sh(true, []column{name}), sh(true, []column{col("name", "VARCHAR", 200, -1, -1)}), "", "longer is safe"},
		{"varchar to text", sh(true, []column{name}), sh(true, []column{col("name", "TEXT", -1, -1, -1)}), "", "same kind, unbounded"},
		{"int to bigint", sh(true, []column{col("n", "INT4", -1, -1, -1)}), sh(true, []column{col("n", "INT8", -1, -1, -1)}), "", "widening"},
		{"bigint to int", sh(true, []column{col("n", "INT8", -1, -1, -1)}), sh(true, []column{col("n", "INT4", -1, -1, -1)}), "", "narrowing: the reader of int8 takes every int4"},
		{"timestamp to timestamptz", sh(true, []column{col("t", "TIMESTAMP", -1, -1, -1)}), sh(true, []column{col("t", "TIMESTAMPTZ", -1, -1, -1)}), ResultType,
			"another kind: clients read times shifted by the zone"},
		{"enum by oid reads as text", sh(true, []column{col("mood", "16385", -1, -1, -1)}), sh(true, []column{col("mood", "TEXT", -1, -1, -1)}), "",
			"an enum (reported by OID) read as text"},
		{"value changed", sh(true, []column{amount}, row("12.50")), sh(true, []column{amount}, row("1250.00")), ResultValue, "the same read returns another value"},
		{"value not comparable", sh(false, []column{amount}, row("12.50")), sh(false, []column{amount}, row("1250.00")), "",
			"a release writes what it reads, or its arguments change: values are not compared"},
		{"null filled", sh(true, []column{id, name}, row("1", "NULL")), sh(true, []column{id, name}, row("1", "ada")), "",
			"a backfill filling a NULL is not a change under a reader"},
		{"value lost", sh(true, []column{id, name}, row("1", "ada")), sh(true, []column{id, name}, row("1", "NULL")), ResultValue, "a value became NULL"},
		{"row gone", sh(true, []column{id}, row("1")), sh(true, []column{id}), ResultValue, "the row is no longer found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := compareResults(tt.prev, tt.cur)
			if got != tt.want {
				t.Errorf("code = %q (%s), want %q: %s", got, msg, tt.want, tt.reason)
			}
			if got != "" && msg == "" {
				t.Errorf("code %q without a message", got)
			}
		})
	}
}

func TestTables(t *testing.T) {
	tests := []struct {
		sql           string
		reads, writes []string
		reason        string
	}{
		{"SELECT name FROM users WHERE id = $1", []string{"users"}, nil, "a read"},
		{"SELECT u.name, o.total FROM public.users u JOIN \"Orders\" o ON o.user_id = u.id", []string{"users", "orders"}, nil, "schema and quotes dropped, joins read"},
		{"INSERT INTO users (id, name) VALUES ($1, $2)", nil, []string{"users"}, "an insert writes"},
		{"INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET name = 'x'", nil, []string{"users"}, "upsert writes its own table only"},
		{"UPDATE accounts SET n = n + 1 WHERE id = $1", nil, []string{"accounts"}, "an update writes"},
		{"DELETE FROM sessions WHERE expires < now()", nil, []string{"sessions"}, "a delete writes"},
		{"SELECT id FROM jobs WHERE state = 'ready' FOR UPDATE SKIP LOCKED", []string{"jobs"}, nil, "FOR UPDATE locks, it does not write"},
		{"INSERT INTO archive SELECT * FROM users", []string{"users"}, []string{"archive"}, "insert … select reads and writes"},
	}
	for _, tt := range tests {
		q := &workload.Query{Name: "Q", SQL: tt.sql}
		reads, writes := q.Tables()
		if diff := cmp.Diff(tt.reads, reads); diff != "" {
			t.Errorf("%s: reads (-want +got):\n%s\n%s", tt.sql, diff, tt.reason)
		}
		if diff := cmp.Diff(tt.writes, writes); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s\n%s", tt.sql, diff, tt.reason)
		}
	}
}
