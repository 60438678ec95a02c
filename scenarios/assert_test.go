package scenarios

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

func TestCellMatches(t *testing.T) {
	violation := verdict.Failure{Query: "GetUser", Class: "undefined-column", Kind: verdict.KindError, When: plan.After, Violation: true}
	info := verdict.Failure{Query: "ListUsers", Class: "undefined-column", Kind: verdict.KindError, When: plan.During}
	result := verdict.Failure{Query: "GetUser", Kind: verdict.KindResult, When: plan.After}
	failed := verdict.Cell{Status: verdict.Fail, Executions: 4, Failures: []verdict.Failure{info, violation}}
	tests := []struct {
		name                 string
		cell                 verdict.Cell
		window               string
		status, class, query string
		want                 bool
		reason               string
	}{
		{name: "pass", cell: verdict.Cell{Status: verdict.Pass, Executions: 2}, status: "pass", want: true, reason: "no failures, some executions"},
		{name: "skip is not pass", cell: verdict.Cell{Status: verdict.Skip}, status: "pass", want: false, reason: "a skipped cell ran nothing"},
		{name: "fail covers violation", cell: failed, status: "fail", want: true, reason: "fail is any failure"},
		{name: "violation", cell: failed, status: "violation", class: "undefined-column", query: "GetUser", want: true, reason: "GetUser's failure is a violation"},
		{name: "violation needs a violating match", cell: failed, status: "violation", class: "undefined-column", query: "ListUsers", want: false, reason: "ListUsers failed, but informationally"},
		{name: "info is not violation", cell: failed, status: "info", want: false, reason: "the cell has a violation"},
		{name: "window filters", cell: failed, window: "during", status: "info", class: "undefined-column", query: "ListUsers", want: true, reason: "during, only the informational failure happened"},
		{name: "after window passes", cell: verdict.Cell{Status: verdict.Fail, Executions: 3, Failures: []verdict.Failure{info}}, window: "after", status: "pass", want: true, reason: "nothing failed after the step"},
		{name: "kind as class", cell: verdict.Cell{Status: verdict.Fail, Failures: []verdict.Failure{result}}, status: "info", class: "result", query: "GetUser", want: true, reason: "wrong results are asserted with the word result"},
		{name: "wrong class", cell: failed, status: "fail", class: "not-null", want: false, reason: "no failure of that class"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := viewOf(tt.cell, tt.window).matches(tt.status, tt.class, tt.query); got != tt.want {
				t.Errorf("matches = %v, want %v: %s", got, tt.want, tt.reason)
			}
		})
	}
}

func TestWriteCells(t *testing.T) {
	run := verdict.Run{Boundaries: []verdict.Boundary{
		{Phase: plan.Baseline, Step: "baseline", Migration: verdict.Migration{Status: verdict.MigrationOK}, Releases: verdict.Releases{
			{Release: plan.Old, Status: verdict.Pass, Executions: 1},
			{Release: plan.New, Status: verdict.Skip, Reason: verdict.ReasonPolicy},
		}},
		{Phase: plan.Expand, Step: "0002_add_email", Migration: verdict.Migration{Status: verdict.MigrationFailed, Class: "not-null"}, Releases: verdict.Releases{
			{Release: plan.Old, Status: verdict.Fail, Failures: []verdict.Failure{
				{Query: "B", Class: "not-null", When: plan.After, Violation: true},
				{Query: "A", Class: "not-null", When: plan.During, Violation: true},
				{Query: "B", Class: "not-null", When: plan.During, Violation: true},
			}},
		}},
	}}
	var b strings.Builder
	if err := writeCells(&b, run, ""); err != nil {
		t.Fatal(err)
	}
	want := `baseline               ok               old  pass
baseline               ok               new  skip
expand/0002_add_email  failed:not-null  old  violation  A:not-null B:not-null
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestVariants(t *testing.T) {
	tests := []struct {
		name, file string
		spec       engine.Spec
		want       []string
		reason     string
	}{
		{"mariadb", "db/rename.sql", engine.MustParseSpec("mariadb:10.11"), []string{"db/rename.mariadb.sql", "db/rename.mysql.sql", "db/rename.sql"}, "flavor, then family, then the name"},
		{"postgres", "rename.sql", engine.MustParseSpec("postgres"), []string{"rename.postgres.sql", "rename.sql"}, "flavor and family are one"},
		{"directory", "schema", engine.MustParseSpec("mysql"), []string{"schema.mysql", "schema"}, "no extension: the tag goes last"},
		{"lint", "q.sql", engine.Spec{}, []string{"q.postgres.sql", "q.mysql.sql", "q.mariadb.sql", "q.sql"}, "linting checks every variant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, variants(tt.file, tt.spec)); diff != "" {
				t.Errorf("variants (-want +got): %s\n%s", tt.reason, diff)
			}
		})
	}
}

func TestSplitLine(t *testing.T) {
	vars := map[string]string{"WORK": "/w"}
	tests := []struct {
		name, line string
		want       []string
		unknown    bool
		reason     string
	}{
		{"words", "step expand  a.sql # comment", []string{"step", "expand", "a.sql"}, false, "spaces separate, # ends the line"},
		{"quotes", `sql 'SELECT ''x'' # not a comment'`, []string{"sql", "SELECT 'x' # not a comment"}, false, "'' is a quote inside quotes; # is text there"},
		{"vars", "load $WORK/a.sql '$WORK'", []string{"load", "/w/a.sql", "$WORK"}, false, "variables expand outside quotes only"},
		{"unknown var", "load $X/a.sql", []string{"load", "/a.sql"}, true, "lint cannot know $X"},
		{"empty arg", "sql ''", []string{"sql", ""}, false, "an empty quoted argument is an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unknown, err := splitLine(tt.line, vars)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || unknown != tt.unknown {
				t.Errorf("%s: unknown=%v (-want +got):\n%s", tt.reason, unknown, diff)
			}
		})
	}
}
