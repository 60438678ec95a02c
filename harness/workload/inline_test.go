package workload

import (
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
)

func TestInline(t *testing.T) {
	args := []Arg{{Kind: ArgInt, Text: "{{n}}"}, {Kind: ArgString, Text: `it's a\b`}, {Kind: ArgNull}, {Kind: ArgBool, Text: "true"}}
	for _, tc := range []struct {
		f         engine.Family
		sql, want string
	}{
		{engine.Postgres, "SELECT '$1', $1, $2 /* $3 */, $3, $4", `SELECT '$1', 7, 'it''s a\b' /* $3 */, NULL, TRUE`},
		{engine.MySQL, "SELECT '$1', $1, $2, $3", `SELECT '$1', 7, 'it''s a\\b', NULL`},
	} {
		got, err := Inline(tc.sql, tc.f, args, 7)
		if err != nil || got != tc.want {
			t.Errorf("%s: Inline(%q) = %q, %v; want %q", tc.f, tc.sql, got, err, tc.want)
		}
	}
	if _, err := Inline("SELECT $5", engine.Postgres, args, 1); err == nil {
		t.Error("Inline with a placeholder beyond the arguments: no error")
	}
}
