package harness_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/local"
	"github.com/straddle-dev/straddle/harness/plan"
)

// Check does what `straddle check` does: here, a project whose expand step
// renames a column the old release still reads. It needs a server (the local
// provider's installed PostgreSQL), so it is compiled, not run, by go test; the
// test of docs/go-test.md runs the same calls.
func ExampleCheck() {
	res, err := harness.Check(context.Background(), harness.CheckConfig{
		Migrations: "examples/projects/rename_naive/migrations",
		Old:        harness.Workload{Queries: "examples/projects/rename_naive/old.sql"},
		New:        harness.Workload{Queries: "examples/projects/rename_naive/new.sql"},
		Engines:    []engine.Spec{engine.MustParseSpec("postgres")},
		Provider:   local.New(local.Config{}),
	})
	switch {
	case errors.Is(err, harness.ErrIncompatible):
		v := res.Violations[0]
		fmt.Printf("%s breaks at %s/%s: %s %s\n", v.Release, v.Phase, v.Step, v.Query, v.Code)
	case errors.Is(err, harness.ErrBadInput):
		log.Fatalf("fix the project: %v", err) // file:line and what to do
	case err != nil:
		log.Fatalf("nothing certified: %v", err) // harness.ErrEnvironment
	default:
		fmt.Println(res.Verdict)
	}
	// Prints where the old release breaks and why:
	//	old breaks at expand/0002_rename_name_to_full_name: … 42703
}

// NewChecker parses the inputs once; its Check may then run many times, at
// once, here on one fleet of servers that outlives the checks.
func ExampleNewChecker() {
	ctx := context.Background()
	fleet := engine.NewFleet(local.New(local.Config{}))
	defer fleet.Stop(ctx) // in a test: harnesstest.Fleet(t, nil) stops it with t.Cleanup
	c, err := harness.NewChecker(ctx, harness.CheckConfig{
		Migrations: "examples/projects/rename_triggers/{family}",
		Old:        harness.Workload{Queries: "examples/projects/rename_triggers/old.sql"},
		New:        harness.Workload{Queries: "examples/projects/rename_triggers/new.sql"},
		Engines:    []engine.Spec{engine.MustParseSpec("postgres"), engine.MustParseSpec("mariadb")},
		Fleet:      fleet,
		Policy:     plan.Policy{Overrides: []plan.Override{{Selector: "contract", Release: plan.Old, Requirement: plan.Informational}}},
		Progress: func(p harness.Progress) {
			if p.Done {
				log.Printf("%s done in %s", p.Engine, p.Took)
			}
		},
	})
	if err != nil {
		log.Fatal(err) // bad input, before any server started
	}
	res, err := c.Check(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Verdict, res.Runs[0].OldBreaksAt)
}
