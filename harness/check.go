package harness

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/session"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/harness/workload"
)

// familyPlaceholder in CheckConfig.Migrations and the workloads' Queries is
// replaced by each engine's family ("postgres" or "mysql"), for projects that
// keep SQL per family.
const familyPlaceholder = "{family}"

// CheckConfig is one check of a project: what `straddle check` takes as flags.
// The zero value of every optional field is the CLI's default.
type CheckConfig struct {
	// Migrations is the new release's migrations directory (golang-migrate,
	// goose, dbmate, Flyway, … or plain *.sql); "{family}" in it is replaced by
	// each engine's family. Required.
	Migrations string
	// MigrationFormat forces the migrations' format; "" detects it.
	MigrationFormat migration.Format
	// Baseline is the version up to and including which migrations are the
	// baseline the old release runs on; untagged later ones are expand.
	Baseline string
	// Old and New are the releases' workloads. Required.
	Old, New Workload
	// MigrateCmd applies each step with this shell command instead of straddle
	// (placeholders {version} {name} {phase} {file}; it gets DATABASE_URL).
	MigrateCmd string

	// Engines are the engines to run on, in the order of the report. Required.
	Engines []engine.Spec
	// Provider starts the servers: each Check starts a fleet of its own and
	// stops it before returning. Give Fleet instead to share servers between
	// checks (its owner stops it). Exactly one of the two is required.
	Provider engine.Provider
	Fleet    *engine.Fleet
	// Jobs is how many engines run at once (0: the number of CPUs). The result
	// keeps the order of Engines whatever order they finish in.
	Jobs int

	// Name names the check in reports (default: the migrations path).
	Name string
	// Passes is the number of runs of each release's workload after each step
	// (0: 1).
	Passes int
	// NoDuring runs the workloads only between steps, not while a step applies.
	NoDuring bool
	// Load turns on load mode: concurrent clients per release through before,
	// during and after windows (docs/load.md). Empty keeps pass mode.
	Load map[plan.Release]runner.Load
	// MaxStall is the stall threshold: 0 is lockwatch.DefaultMaxStall, negative
	// turns stall detection off.
	MaxStall time.Duration
	// Policy is the policy: the default table with its overrides and what a
	// stall is.
	Policy plan.Policy
	// FreshConnections lists the releases whose traffic runs on a new connection
	// per pass instead of a long-lived pool.
	FreshConnections []plan.Release
	// Bindings says how each release's driver sends arguments (prepared,
	// interpolated, prepare-each; docs/load.md); a release not in it gets
	// engine.Binding's default.
	Bindings map[plan.Release]engine.Binding
	// AllowWorkloadErrors judges the rest when a query fails on its own
	// release's baseline, instead of returning a *WorkloadError.
	AllowWorkloadErrors bool
	// Rules is what the phase rules do (docs/check.md "Phase rules"): "" or
	// verdict.RulesWarn lists the hits in the result, verdict.RulesError also
	// fails the check (ErrIncompatible) on a hit no query exercised and no
	// exception excepts, verdict.RulesOff skips them.
	Rules verdict.RuleMode

	// AtBoundary, when set, is called on each engine after each step (its
	// probes done), with the scratch database in the state the step left; the
	// server and the database stay until it returns, so it may block (a repro
	// holds the state for a person to connect). Returning true ends that
	// engine's run there: the rest of its plan is reported as not run. Calls for
	// different engines may overlap. Not called after an environment failure.
	AtBoundary func(ctx context.Context, b BoundaryState) (stop bool)

	// Progress, when set, is told when each engine's run starts and ends. Calls
	// come from the goroutines running the engines, one at a time (also when
	// several Checks of one Checker run at once).
	Progress func(Progress)
}

// Workload is what a release does to the database: its queries, or a command.
// Exactly one of the two is set.
type Workload struct {
	// Queries is a query file, a directory of them, a sqlc config, or any of them
	// at a git revision of the current repository (git:REV:PATH); "{family}" as
	// for CheckConfig.Migrations.
	Queries string
	// Command is a shell command (the release's tests or binary) run at each
	// boundary; it gets DATABASE_URL and PG*/MYSQL_* variables and passes when it
	// exits 0.
	Command string
}

// Progress is one engine's run starting (Done false, Step nil), one of its steps
// done (Step set), or the run ending (Done true).
type Progress struct {
	Scenario string      // the check's name in the report
	Spec     engine.Spec // the engine as asked for
	Provider string      // the provider's name
	Done     bool
	Engine   string        // when Done: the engine as the report names it, with its version
	Took     time.Duration // when Done: how long the run took
	// Step is set when a step is done: which, of how many, and how long it took
	// with its traffic and probes.
	Step *session.StepProgress
}

// Checker is a check of one project, its inputs parsed. Its configuration is
// fixed at creation; Check may be called any number of times, concurrently:
// each call runs the rollout afresh in scratch databases of its own.
type Checker struct {
	cfg    CheckConfig
	inputs map[engine.Family]*familyInputs
	// progress serializes the calls of cfg.Progress, across concurrent Checks too.
	progress sync.Mutex
}

// familyInputs are the parsed inputs for the engines of one family.
type familyInputs struct {
	set     *migration.Set
	queries map[plan.Release]*workload.Workload // nil for a release run by a command
}

// NewChecker checks cfg and parses the project's migrations and both releases'
// workloads, once per family of its engines, before any server starts: bad input
// costs no server. Errors about cfg or the files wrap ErrBadInput (those about a
// file are *plan.InputError naming its file and line).
func NewChecker(ctx context.Context, cfg CheckConfig) (*Checker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// Copies: the caller may reuse its maps and slices.
	cfg.Engines = slices.Clone(cfg.Engines)
	cfg.Load = maps.Clone(cfg.Load)
	cfg.FreshConnections = slices.Clone(cfg.FreshConnections)
	cfg.Policy.Overrides = slices.Clone(cfg.Policy.Overrides)
	if cfg.Jobs <= 0 {
		cfg.Jobs = runtime.NumCPU()
	}
	c := &Checker{cfg: cfg, inputs: map[engine.Family]*familyInputs{}}
	loaded := map[string]*workload.Workload{}
	for _, sp := range cfg.Engines {
		fam := sp.Family()
		if c.inputs[fam] != nil {
			continue
		}
		in, err := c.load(ctx, fam, loaded)
		if err != nil {
			return nil, environment(err)
		}
		c.inputs[fam] = in
	}
	return c, nil
}

// Check is NewChecker and Checker.Check in one call.
func Check(ctx context.Context, cfg CheckConfig) (*verdict.Result, error) {
	c, err := NewChecker(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return c.Check(ctx)
}

func (cfg *CheckConfig) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: CheckConfig: "+format, append([]any{ErrBadInput}, args...)...)
	}
	switch {
	case cfg.Migrations == "":
		return bad("Migrations is required: the new release's migrations directory")
	case len(cfg.Engines) == 0:
		return bad("Engines is empty: give at least one engine.Spec")
	case cfg.Provider == nil && cfg.Fleet == nil:
		return bad("give a Provider (or a Fleet) to start the servers")
	case cfg.Provider != nil && cfg.Fleet != nil:
		return bad("give a Provider or a Fleet, not both")
	case cfg.Passes < 0:
		return bad("Passes %d: want 1 or more (0: 1)", cfg.Passes)
	}
	for _, w := range []struct {
		name string
		w    Workload
	}{{"Old", cfg.Old}, {"New", cfg.New}} {
		switch {
		case w.w.Queries == "" && w.w.Command == "":
			return bad("%s needs Queries (the release's queries) or Command", w.name)
		case w.w.Queries != "" && w.w.Command != "":
			return bad("%s: give Queries or Command, not both", w.name)
		}
	}
	for _, rel := range cfg.FreshConnections {
		if _, err := plan.ParseRelease(string(rel)); err != nil {
			return bad("FreshConnections: %v", err)
		}
	}
	return nil
}

// load parses the migrations and query files for one family; loaded keeps the
// workloads parsed for other families that read the same source.
func (c *Checker) load(ctx context.Context, fam engine.Family, loaded map[string]*workload.Workload) (*familyInputs, error) {
	opts := migration.Options{Baseline: c.cfg.Baseline, Family: fam, Format: c.cfg.MigrationFormat}
	set, err := migration.Load(forFamily(c.cfg.Migrations, fam), opts)
	if err != nil {
		return nil, err
	}
	in := &familyInputs{set: set, queries: map[plan.Release]*workload.Workload{}}
	for _, r := range []struct {
		rel plan.Release
		src string
	}{{plan.Old, c.cfg.Old.Queries}, {plan.New, c.cfg.New.Queries}} {
		if r.src == "" {
			continue
		}
		src := forFamily(r.src, fam)
		key := string(r.rel) + "\x00" + src
		if w, ok := loaded[key]; ok {
			in.queries[r.rel] = w
			continue
		}
		qs, err := workload.Load(ctx, src, "")
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &QueriesError{Release: r.rel, Err: err}
		}
		w := &workload.Workload{Release: r.rel, Source: src, Queries: qs}
		loaded[key] = w
		in.queries[r.rel] = w
	}
	return in, nil
}

func forFamily(path string, fam engine.Family) string {
	return strings.ReplaceAll(path, familyPlaceholder, string(fam))
}

// scenario is the check's name in reports for a family.
func (c *Checker) scenario(fam engine.Family) string {
	if c.cfg.Name != "" {
		return c.cfg.Name
	}
	return filepath.ToSlash(filepath.Clean(forFamily(c.cfg.Migrations, fam)))
}

// Check runs the project's rollout on every engine (up to Jobs at once, each in
// a scratch database of its own) and decides the verdict. The result is nil only
// when no verdict could be made; otherwise it is complete, whatever the error.
//
// The error says what the result means for the caller (each kind usable with
// errors.Is / errors.As):
//   - nil: compatible;
//   - ErrIncompatible: some required cell failed (the violations are in the
//     result);
//   - ErrBadInput: a statement of a migration or a query the server cannot parse
//     (a *plan.InputError at its file:line; result nil), or a *WorkloadError: a
//     query fails on its own release's baseline (unless AllowWorkloadErrors);
//   - ErrEnvironment: an engine could not start, a connection was lost, ctx was
//     cancelled (errors.Is(err, context.Canceled) holds then), … — nothing is
//     certified; an *EnvError when the result has the run that failed.
func (c *Checker) Check(ctx context.Context) (*verdict.Result, error) {
	fleet := c.cfg.Fleet
	if fleet == nil {
		fleet = engine.NewFleet(c.cfg.Provider)
		defer fleet.Stop(context.WithoutCancel(ctx))
	}
	runs, err := c.runEngines(ctx, fleet) // check_run.go
	if err != nil {
		return nil, environment(err)
	}
	res := verdict.Decide(runs)
	res.Rules = c.checkRules(res) // check_rules.go
	return res, c.judge(res)
}

// judge is the error that goes with a result: workload errors first (nothing the
// run says can be trusted while the workload is wrong), then an environment
// failure, then the verdict.
func (c *Checker) judge(res *verdict.Result) error {
	switch {
	case len(res.WorkloadErrors) > 0 && !res.EnvFailure() && !c.cfg.AllowWorkloadErrors:
		return &WorkloadError{Errors: slices.Clone(res.WorkloadErrors)}
	case res.EnvFailure():
		for _, r := range res.Runs {
			if r.Error != "" {
				return &EnvError{Engine: r.Engine, Msg: r.Error}
			}
		}
	case res.Verdict == verdict.Incompatible:
		return fmt.Errorf("%w: %s", ErrIncompatible, res.ViolationSummary())
	case failingRules(res) > 0:
		n := failingRules(res)
		hits := "phase rule hits"
		if n == 1 {
			hits = "phase rule hit"
		}
		return fmt.Errorf("%w: %d %s (--rules error)", ErrIncompatible, n, hits)
	}
	return nil
}
