package harnesstest_test

import (
	"errors"
	"testing"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/harnesstest"
)

// In a test of your module: the check fails the test with the text report
// unless the upgrade is compatible, and the JSON report's path is logged (and
// set as the test attribute straddle-report). Compiled, not run, here: t is the
// test's *testing.T; docs/go-test.md's test runs it.
func ExampleCheck() {
	// In func TestUpgradeIsSafe(t *testing.T):
	var t *testing.T
	harnesstest.Check(t, harness.CheckConfig{
		Migrations: "db/migrations",
		Old:        harness.Workload{Queries: "git:v1.4.0:db/queries"},
		New:        harness.Workload{Queries: "db/queries"},
		Engines:    []engine.Spec{engine.MustParseSpec("postgres"), engine.MustParseSpec("mariadb")},
	})
}

// Fleet shares servers between checks and stops them when the test and all its
// subtests are done: parallel subtests run after the test function returns, so
// a deferred Stop would pull their servers away.
func ExampleFleet() {
	// In func TestNaiveChangesAreCaught(t *testing.T):
	var t *testing.T
	fleet := harnesstest.Fleet(t, nil) // $STRADDLE_PROVIDER: auto, docker or local
	for _, project := range []string{"rename_naive", "drop_column_in_expand"} {
		t.Run(project, func(t *testing.T) {
			t.Parallel()
			_, err := harness.Check(t.Context(), harness.CheckConfig{
				Migrations: "testdata/" + project + "/migrations",
				Old:        harness.Workload{Queries: "testdata/" + project + "/old.sql"},
				New:        harness.Workload{Queries: "testdata/" + project + "/new.sql"},
				Engines:    []engine.Spec{engine.MustParseSpec("postgres")},
				Fleet:      fleet,
			})
			if !errors.Is(err, harness.ErrIncompatible) {
				t.Errorf("%s: %v, want incompatible", project, err)
			}
		})
	}
}
