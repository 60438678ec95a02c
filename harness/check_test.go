package harness_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/dsn"
	"github.com/straddle-dev/straddle/harness/harnesstest"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

const projects = "../examples/projects"

// writeProject writes files (path → content) under a temporary directory.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A wrong configuration is bad input before anything starts: no provider is
// needed to find out.
func TestCheckConfigIsBadInput(t *testing.T) {
	q := filepath.Join(projects, "rename_naive/old.sql")
	migs := filepath.Join(projects, "rename_naive/migrations")
	pg := []engine.Spec{engine.MustParseSpec("postgres")}
	fleet := engine.NewFleet(nil) // never asked for a server
	cases := []struct {
		name   string
		cfg    harness.CheckConfig
		want   string
		reason string
	}{
		{"no migrations", harness.CheckConfig{Old: harness.Workload{Queries: q}, New: harness.Workload{Queries: q}, Engines: pg, Fleet: fleet},
			"Migrations is required", "the directory is the point of the check"},
		{"no engines", harness.CheckConfig{Migrations: migs, Old: harness.Workload{Queries: q}, New: harness.Workload{Queries: q}, Fleet: fleet},
			"Engines is empty", "nothing to run on"},
		{"no provider", harness.CheckConfig{Migrations: migs, Old: harness.Workload{Queries: q}, New: harness.Workload{Queries: q}, Engines: pg},
			"give a Provider (or a Fleet)", "servers must come from somewhere"},
		{"no old", harness.CheckConfig{Migrations: migs, New: harness.Workload{Queries: q}, Engines: pg, Fleet: fleet},
			"Old needs Queries", "each release needs a workload"},
		{"both", harness.CheckConfig{Migrations: migs, Old: harness.Workload{Queries: q}, New: harness.Workload{Queries: q, Command: "true"}, Engines: pg, Fleet: fleet},
			"New: give Queries or Command, not both", "a release has one workload"},
		{"bad query file", harness.CheckConfig{Migrations: migs, Old: harness.Workload{Queries: q}, New: harness.Workload{Queries: filepath.Join(projects, "nosuch.sql")}, Engines: pg, Fleet: fleet},
			"New.Queries: ", "names the release's field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := harness.NewChecker(t.Context(), tc.cfg)
			if c != nil || !errors.Is(err, harness.ErrBadInput) || errors.Is(err, harness.ErrEnvironment) {
				t.Fatalf("NewChecker = %v, %v; want bad input (%s)", c, err, tc.reason)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q (%s)", err, tc.want, tc.reason)
			}
		})
	}
}

// The front door gives library users the verdicts and errors the CLI gives,
// including the rules that used to live only in the CLI.
func TestCheck(t *testing.T) {
	fleet := harnesstest.Fleet(t, nil)
	pg := []engine.Spec{engine.MustParseSpec("postgres")}
	cfg := func(dir, old, new string) harness.CheckConfig {
		return harness.CheckConfig{
			Migrations: filepath.Join(dir, "migrations"),
			Old:        harness.Workload{Queries: filepath.Join(dir, old)},
			New:        harness.Workload{Queries: filepath.Join(dir, new)},
			Engines:    pg, Fleet: fleet, NoDuring: true,
		}
	}

	// First, before the parallel checks share the fleet: a check cancelled while
	// its server starts must not leave the fleet remembering a failed start.
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		res, err := harness.Check(ctx, cfg(filepath.Join(projects, "rename_naive"), "old.sql", "new.sql"))
		if res != nil || !errors.Is(err, harness.ErrEnvironment) || !errors.Is(err, context.Canceled) {
			t.Errorf("Check = %v, %v; want an environment failure that is context.Canceled", res, err)
		}
		// The same as a start the cancelled check may have begun (it may also
		// stop before starting anything): the subtests below need the server.
		if _, err := fleet.Server(ctx, pg[0]); !errors.Is(err, context.Canceled) {
			t.Errorf("fleet.Server with a cancelled ctx: %v, want context.Canceled", err)
		}
	})

	t.Run("incompatible, twice at once", func(t *testing.T) {
		t.Parallel()
		c, err := harness.NewChecker(t.Context(), cfg(filepath.Join(projects, "rename_naive"), "old.sql", "new.sql"))
		if err != nil {
			t.Fatal(err)
		}
		// One checker, two checks at once on one fleet: each in its own database.
		var wg sync.WaitGroup
		res := make([]*verdict.Result, 2)
		errs := make([]error, 2)
		for i := range res {
			wg.Go(func() { res[i], errs[i] = c.Check(t.Context()) })
		}
		wg.Wait()
		for i := range res {
			if !errors.Is(errs[i], harness.ErrIncompatible) || res[i] == nil || res[i].Verdict != verdict.Incompatible {
				t.Fatalf("check %d: %v, %v; want incompatible", i, res[i], errs[i])
			}
			if errors.Is(errs[i], harness.ErrBadInput) || errors.Is(errs[i], harness.ErrEnvironment) {
				t.Errorf("check %d: %v is incompatible and something else too", i, errs[i])
			}
		}
		if diff := cmp.Diff(res[0].Violations, res[1].Violations); diff != "" {
			t.Errorf("two checks at once differ (-first +second):\n%s", diff)
		}
		if len(res[0].Violations) == 0 || res[0].Violations[0].Step != "0002_rename_name_to_full_name" || res[0].Violations[0].Release != plan.Old {
			t.Errorf("violations %+v: want old at the rename", res[0].Violations)
		}
	})

	t.Run("progress per engine and per step", func(t *testing.T) {
		t.Parallel()
		c := cfg(filepath.Join(projects, "rename_naive"), "old.sql", "new.sql")
		var events []string
		c.Progress = func(p harness.Progress) {
			switch {
			case p.Step != nil:
				events = append(events, fmt.Sprintf("step %d/%d %s/%s failed=%v", p.Step.Index, p.Step.Steps, p.Step.Phase, p.Step.Name, p.Step.Failed))
			case p.Done:
				events = append(events, "done "+p.Engine)
			default:
				events = append(events, "start "+p.Spec.String())
			}
		}
		if _, err := harness.Check(t.Context(), c); !errors.Is(err, harness.ErrIncompatible) {
			t.Fatalf("Check: %v, want incompatible", err)
		}
		// rename_naive: the baseline, the rename (expand), the contract step.
		if len(events) < 4 || events[0] != "start postgres" || !strings.HasPrefix(events[1], "step 1/") || !strings.HasPrefix(events[len(events)-1], "done postgres:") {
			t.Errorf("progress events %q: want start, a step event per step, done", events)
		}
	})

	t.Run("syntax error is bad input", func(t *testing.T) {
		t.Parallel()
		dir := writeProject(t, map[string]string{
			"migrations/0001_create.up.sql": "-- straddle:phase baseline\nCREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(100));\n",
			"migrations/0002_add.up.sql":    "ALTER TABLE users ADD COLUMN email VARCHAR(200);\n-- misspelled\nALTR TABLE users ADD COLUMN age INT;\n",
			"q.sql":                         "-- name: GetUser :one\n-- args: 1\nSELECT id, name FROM users WHERE id = $1;\n",
		})
		res, err := harness.Check(t.Context(), cfg(dir, "q.sql", "q.sql"))
		var ie *plan.InputError
		if res != nil || !errors.As(err, &ie) || !errors.Is(err, harness.ErrBadInput) {
			t.Fatalf("Check = %v, %v; want a *plan.InputError and no result", res, err)
		}
		if want := filepath.Join(dir, "migrations/0002_add.up.sql"); ie.File != want || ie.Line != 3 {
			t.Errorf("syntax error at %s:%d, want %s:3", ie.File, ie.Line, want)
		}
	})

	t.Run("workload error", func(t *testing.T) {
		t.Parallel()
		dir := writeProject(t, map[string]string{
			"migrations/0001_create.sql": "-- straddle:phase baseline\nCREATE TABLE venues (id bigint PRIMARY KEY, capacity int NOT NULL);\n",
			"migrations/0002_city.sql":   "ALTER TABLE venues ADD COLUMN city text;\n",
			"old.sql":                    "-- name: CheckCapacity :many\n-- args: 'lots'\nSELECT id FROM venues WHERE capacity > $1;\n",
			"new.sql":                    "-- name: ListVenues :many\nSELECT id, city FROM venues;\n",
		})
		c := cfg(dir, "old.sql", "new.sql")
		res, err := harness.Check(t.Context(), c)
		var we *harness.WorkloadError
		if !errors.As(err, &we) || !errors.Is(err, harness.ErrBadInput) || res == nil {
			t.Fatalf("Check = %v, %v; want a *WorkloadError with the result", res, err)
		}
		if len(we.Errors) != 1 || we.Errors[0].Query != "CheckCapacity" || we.Errors[0].Code != "22P02" {
			t.Errorf("workload errors %+v: want old CheckCapacity 22P02", we.Errors)
		}
		c.AllowWorkloadErrors = true
		res, err = harness.Check(t.Context(), c)
		if err != nil || res.Verdict != verdict.Compatible || len(res.WorkloadErrors) != 1 {
			t.Errorf("AllowWorkloadErrors: %v, %v; want compatible, the workload error still listed", res, err)
		}
	})

}

// An engine that cannot be reached is an environment failure with the result
// (the run names it), never a verdict; the password stays out of the error.
func TestCheckEnvironmentFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("tries to connect")
	}
	const secret = "s3cret-pw"
	p, err := dsn.New("postgres://straddle:" + secret + "@127.0.0.1:1/postgres?connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(projects, "rename_naive")
	res, err := harness.Check(t.Context(), harness.CheckConfig{
		Migrations: filepath.Join(dir, "migrations"),
		Old:        harness.Workload{Queries: filepath.Join(dir, "old.sql")},
		New:        harness.Workload{Queries: filepath.Join(dir, "new.sql")},
		Engines:    []engine.Spec{engine.MustParseSpec("postgres")},
		Provider:   p,
	})
	var ee *harness.EnvError
	if !errors.As(err, &ee) || !errors.Is(err, harness.ErrEnvironment) || errors.Is(err, harness.ErrIncompatible) {
		t.Fatalf("Check = %v; want an *EnvError", err)
	}
	if res == nil || !res.EnvFailure() || res.Verdict == verdict.Incompatible {
		t.Errorf("result %+v: want the failed run, no verdict", res)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the password: %v", err)
	}
}
