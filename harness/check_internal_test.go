package harness

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/harness/workload"
)

func TestForFamily(t *testing.T) {
	cases := []struct {
		name, in, fam, want, reason string
	}{
		{"placeholder", "db/{family}/migrations", "mysql", "db/mysql/migrations", "per-family SQL"},
		{"none", "db/migrations", "postgres", "db/migrations", "portable SQL"},
		{"git", "git:v1:queries/{family}.sql", "postgres", "git:v1:queries/postgres.sql", "in a git source too"},
	}
	for _, tc := range cases {
		if got := forFamily(tc.in, engine.Family(tc.fam)); got != tc.want {
			t.Errorf("%s: forFamily(%q) = %q, want %q (%s)", tc.name, tc.in, got, tc.want, tc.reason)
		}
	}
}

func TestSyntaxErrorPointsAtTheFile(t *testing.T) {
	set := &migration.Set{Dir: "db", Steps: []migration.Step{
		{Name: "0001_init", Phase: plan.Baseline, Statements: []migration.Statement{
			{SQL: "CREATE TABLE a (id INT)", File: "db/0001_init.sql", Line: 1},
			{SQL: "CRATE TABLE b (id INT)", File: "db/0001_init.sql", Line: 4},
		}},
		{Name: "0002_add", Phase: plan.Expand, Statements: []migration.Statement{
			{SQL: "ALTER TABLE a ADD b INT", File: "db/0002_add.sql", Line: 2},
			{SQL: "ALTR TABLE a ADD c INT", File: "db/0002_add.sql", Line: 7},
		}},
	}}
	in := &familyInputs{set: set, queries: map[plan.Release]*workload.Workload{
		plan.New: {Release: plan.New, Queries: []workload.Query{{Name: "ListA", File: "new.sql", Line: 12}}},
	}}
	exp := plan.Boundary{Index: 1, Phase: plan.Expand, Step: "0002_add"}
	base := plan.Boundary{Phase: plan.Baseline, Step: "baseline"}
	migFail := func(b plan.Boundary, stmt int, sql, class string) verdict.RunInput {
		return verdict.RunInput{Engine: "postgres:16", Snapshot: observe.Snapshot{Migrations: []observe.Migration{
			{Boundary: b, Outcome: observe.Error, Code: "42601", Class: class, Message: "syntax error", Statement: stmt, SQL: sql},
		}}}
	}
	cases := []struct {
		name   string
		run    verdict.RunInput
		want   string
		reason string
	}{
		{"expand step", migFail(exp, 2, "ALTR TABLE a ADD c INT", "syntax"), "db/0002_add.sql:7: postgres:16 rejects this migration statement as invalid SQL (42601): syntax error",
			"the step's statement number gives the line"},
		{"baseline step", migFail(base, 2, "CRATE TABLE b (id INT)", "syntax"), "db/0001_init.sql:4: ",
			"baseline steps share a boundary: the statement text finds the file"},
		{"not syntax", migFail(exp, 1, "ALTER TABLE a ADD b INT", "not-null"), "",
			"other failed steps are findings, not bad input"},
		{"query", verdict.RunInput{Engine: "mariadb:11.4", Snapshot: observe.Snapshot{Cells: []observe.Cell{{
			Key:      observe.CellKey{Release: plan.New, Query: "ListA"},
			Failures: []observe.Failure{{Outcome: observe.Error, Code: "1064", Class: "syntax", Message: "You have an error"}},
		}}}}, "new.sql:12: mariadb:11.4 rejects new query ListA as invalid SQL (1064): You have an error", "the query's -- name: line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := syntaxError(tc.run, in)
			if tc.want == "" {
				if err != nil {
					t.Errorf("err = %v, want none (%s)", err, tc.reason)
				}
				return
			}
			if err == nil || !errors.Is(err, plan.ErrBadInput) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want bad input starting %q (%s)", err, tc.want, tc.reason)
			}
		})
	}
}

func TestGeneratedNotes(t *testing.T) {
	q := func(name string, args bool) workload.Query {
		wq := workload.Query{Name: name, Params: 1}
		if args {
			wq.Args = [][]workload.Arg{{{Kind: workload.ArgInt, Text: "1"}}}
		}
		return wq
	}
	in := &familyInputs{queries: map[plan.Release]*workload.Workload{
		plan.Old: {Queries: []workload.Query{q("GetUser", false), q("ListUsers", true)}},
		plan.New: {Queries: []workload.Query{q("GetUser", false), q("ListUsers", false)}},
	}}
	gen := []release.Generated{
		{Query: "GetUser", Types: []string{"int8"}, Args: []workload.Arg{{Kind: workload.ArgInt, Text: "{{n}}"}}, From: release.TypesFromServer},
		{Query: "GetUser", Types: []string{"int8"}, Args: []workload.Arg{{Kind: workload.ArgInt, Text: "{{n}}"}}, From: release.TypesFromServer},
		{Query: "ListUsers", Types: []string{""}, Args: []workload.Arg{{Kind: workload.ArgString, Text: "x"}}, From: release.TypesFromColumns},
	}
	got := generatedNotes(gen, in)
	want := []string{
		"old GetUser has no -- args: line; arguments generated from server-reported types: $1 int8 = {{n}}",
		"new GetUser has no -- args: line; arguments generated from server-reported types: $1 int8 = {{n}}",
		"new ListUsers has no -- args: line; arguments generated from " + release.TypesFromColumns + ": $1 = 'x'",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s\nold's queries come first; a name only new generates is new's", diff)
	}
}
