package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/lockwatch"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/harness/workload"
)

// Config is one session.
type Config struct {
	Scenario string
	Spec     engine.Spec
	Fleet    *engine.Fleet
	Policy   plan.Policy
	// Passes is the number of after-window passes per release and boundary (0: 1).
	Passes int
	// NoDuring turns off traffic while steps are applied.
	NoDuring bool
	// Counter numbers {{n}} across the whole run; nil uses the process-wide one.
	Counter release.Counter
	// Load turns on load mode: concurrent clients per release through before,
	// during and after windows (load mode: runner.Load). Empty keeps pass mode.
	Load map[plan.Release]runner.Load
	// MaxStall is the stall threshold (lockwatch.StallSink): zero means
	// lockwatch.DefaultMaxStall, negative turns stall detection off.
	MaxStall time.Duration
	// Planned is the whole rollout when it is known before it runs
	// (the policy tells the last expand step from it); Run fills it from its steps.
	Planned plan.Rollout
	// NoProbes turns the state probes off (each release then runs Passes passes
	// after each step, and nothing probes between statements): for cost
	// comparisons only.
	NoProbes bool
	// StepDone, when set, is told as Run finishes each step (progress for a
	// terminal). It is called from Run's goroutine.
	StepDone func(StepProgress)
	// AtBoundary, when set, is called after each step (after StepDone, its
	// probes done), with the session in the state the step left, whether or not
	// the step applied; not after an environment failure. It may block (a repro
	// holds the state there); returning true ends the run at that state, the
	// rest of the plan not run. It is called from Run's goroutine.
	AtBoundary func(ctx context.Context, s *Session, st StepProgress) (stop bool)
}

// maxIdle bounds the idle connections a release's pool keeps: more than any
// sensible client count.
const maxIdle = 256

// maxStall resolves Config.MaxStall for the runner: zero is the default.
func maxStall(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return lockwatch.DefaultMaxStall
	case d < 0:
		return 0
	}
	return d
}

// Session is a rollout in progress. Not safe for concurrent use.
type Session struct {
	cfg      Config
	server   engine.Server
	db       engine.Database
	rec      *observe.Recorder
	ro       *rollout // the migration connection and the phase machine
	pools    []*sql.DB
	work     map[plan.Release]traffic.Workload
	runners  []*release.Runner
	writes   *release.WriteSet // the tables the releases write, shared by their runners
	steps    int
	stepSQL  map[string]string // each applied step's statements, by step name
	envError error
}

// Open starts (or reuses) the engine's server and creates a scratch database.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	srv, err := cfg.Fleet.Server(ctx, cfg.Spec)
	if err != nil {
		return nil, err
	}
	db, err := srv.CreateDatabase(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", srv.Spec(), err)
	}
	s := &Session{cfg: cfg, server: srv, db: db, rec: observe.NewRecorder(), work: map[plan.Release]traffic.Workload{}, writes: &release.WriteSet{}}
	s.ro, err = openRollout(ctx, rolloutConfig{
		Engine: s.Engine(), DB: db, Sink: s.rec, Passes: cfg.Passes, NoDuring: cfg.NoDuring,
		Load: cfg.Load, MaxStall: maxStall(cfg.MaxStall), Policy: cfg.Policy, Planned: cfg.Planned,
		NoProbes: cfg.NoProbes,
		// The monitor may install lock views only on servers straddle started.
		LockViews: engine.OwnsServers(cfg.Fleet.Provider()),
	})
	if err != nil {
		_ = db.Drop(ctx)
		return nil, err
	}
	return s, nil
}

// Engine is the engine as reports name it: the server's spec with its version.
func (s *Session) Engine() string {
	sp := s.server.Spec()
	if sp.Version == "" {
		return sp.String() + ":" + majorMinor(s.server.Version())
	}
	return sp.String()
}

func majorMinor(v string) string {
	parts := 0
	for i, c := range v {
		if c == '.' {
			parts++
			if parts == 2 {
				return v[:i]
			}
		}
		if (c < '0' || c > '9') && c != '.' {
			return v[:i]
		}
	}
	return v
}

// Database is the scratch database (for fixtures and scenario SQL).
func (s *Session) Database() engine.Database { return s.db }

// Family is the engine's family.
func (s *Session) Family() engine.Family { return s.db.Family() }

// SetWorkload makes w the release's workload from the next step on, on a long-lived
// pool of its own.
func (s *Session) SetWorkload(ctx context.Context, w *workload.Workload) error {
	pool, err := openBinding(ctx, s.db, w.Binding)
	if err != nil {
		return err
	}
	s.pools = append(s.pools, pool)
	// Keep every connection the release opens, as an application's pool does
	// under steady load: their server-side prepared statements must outlive the
	// steps (database/sql would keep only two idle ones between windows).
	pool.SetMaxIdleConns(maxIdle)
	// New connections (probes on a new connection, --fresh-connections) come
	// from a pool that keeps none idle: each is really new, with nothing
	// prepared in an earlier state.
	freshPool, err := openBinding(ctx, s.db, w.Binding)
	if err != nil {
		return err
	}
	s.pools = append(s.pools, freshPool)
	freshPool.SetMaxIdleConns(0)
	// Tagged queries let the lock monitor tell which release waits for whom.
	opts := []release.Option{release.WithTags(), release.WithWriteSet(s.writes), release.WithFreshPool(freshPool)}
	s.writes.Add(w)
	if s.cfg.Counter != nil {
		opts = append(opts, release.WithCounter(s.cfg.Counter))
	}
	r, err := release.NewRunner(w, pool, s.db.Family(), opts...)
	if err != nil {
		return err
	}
	s.runners = append(s.runners, r)
	s.SetRelease(w.Release, r)
	return nil
}

// openBinding opens a pool on db whose driver binds arguments as b.
func openBinding(ctx context.Context, db engine.Database, b engine.Binding) (*sql.DB, error) {
	if b == "" || b == engine.BindPrepared {
		return db.Open(ctx)
	}
	bo, ok := db.(engine.BindingOpener)
	if !ok {
		return nil, fmt.Errorf("binding %s: %w", b, errors.ErrUnsupported)
	}
	return bo.OpenBinding(ctx, b)
}

// SetRelease makes wl (an external command, say) the release's workload.
func (s *Session) SetRelease(rel plan.Release, wl traffic.Workload) {
	if _, ok := wl.(*release.Runner); !ok {
		s.writes.AddAll() // what a command writes is unknown: compare no values
	}
	s.work[rel] = wl
	s.ro.SetWorkloads(s.work[plan.Old], s.work[plan.New])
}

// Generated lists queries whose arguments were generated from server-reported types.
func (s *Session) Generated() []release.Generated {
	var out []release.Generated
	for _, r := range s.runners {
		out = append(out, r.Generated()...)
	}
	return out
}

// Apply applies one step: baseline steps with no traffic, the others with both
// releases live during and after.
func (s *Session) Apply(ctx context.Context, st migration.Step) error {
	var err error
	if st.Phase == plan.Baseline {
		err = s.ro.Baseline(ctx, st)
	} else {
		err = s.ro.Step(ctx, st)
	}
	if len(st.Statements) > 0 {
		if s.stepSQL == nil {
			s.stepSQL = map[string]string{}
		}
		var b strings.Builder
		for _, x := range st.Statements {
			b.WriteString(x.SQL)
			b.WriteString(";\n")
		}
		s.stepSQL[st.Name] = b.String()
	}
	s.steps++
	return s.env(err)
}

// SetLoad replaces the load settings from the next step on (Config.Load); an
// empty map goes back to pass mode.
func (s *Session) SetLoad(l map[plan.Release]runner.Load) {
	s.cfg.Load = l
	s.ro.SetLoad(l)
}

// SetMaxStall replaces the stall threshold from the next step on (Config.MaxStall).
func (s *Session) SetMaxStall(d time.Duration) {
	s.cfg.MaxStall = d
	s.ro.SetMaxStall(maxStall(d))
}

// Config returns the session's configuration as it stands (load settings and
// stall threshold included).
func (s *Session) Config() Config { return s.cfg }

// Check runs both releases again at the current boundary.
func (s *Session) Check(ctx context.Context) error { return s.env(s.ro.Check(ctx)) }

// Exec runs fixture statements now, outside any step.
func (s *Session) Exec(ctx context.Context, stmts []migration.Statement) error {
	s.DataChanged()
	return s.ro.Exec(ctx, stmts)
}

// DataChanged says that the data changed outside the releases and the steps
// (fixtures, a script's own SQL): a read returning other values at the next
// probe is then no finding.
func (s *Session) DataChanged() {
	for _, r := range s.runners {
		r.ForgetResults()
	}
}

// Boundary is the boundary reached last.
func (s *Session) Boundary() plan.Boundary { return s.ro.Boundary() }

// Failed reports whether a step failed to apply.
func (s *Session) Failed() bool { return s.ro.Failed() }

// env remembers an environment failure for the result; input errors pass through.
func (s *Session) env(err error) error {
	if err != nil && !errors.Is(err, plan.ErrBadInput) && s.envError == nil {
		s.envError = err
	}
	return err
}

// Policy returns the session's policy; SetPolicy replaces it.
func (s *Session) Policy() plan.Policy { return s.cfg.Policy }
func (s *Session) SetPolicy(p plan.Policy) {
	s.cfg.Policy = p
	s.ro.SetPolicy(p)
}
func (s *Session) Recorder() *observe.Recorder { return s.rec }

// Result is what the verdict needs about this session so far. It runs the
// baseline check first if no step has run.
func (s *Session) Result(ctx context.Context) verdict.RunInput {
	if s.envError == nil {
		s.env(s.ro.Finish(ctx))
	}
	if w, ok := s.server.(engine.Watcher); ok && s.envError == nil {
		if err := w.Exited(); err != nil { // its orphans answered, the server is gone
			s.env(err)
		}
	}
	in := verdict.RunInput{
		Scenario: s.cfg.Scenario, Engine: s.Engine(), ServerVersion: s.server.Version(),
		Rollout: s.ro.Boundaries(), Policy: s.cfg.Policy, Snapshot: s.rec.Snapshot(),
		StepSQL: s.stepSQL,
	}
	for _, r := range s.runners {
		if in.Texts == nil {
			in.Texts = map[plan.Release]map[string]string{}
		}
		in.Texts[r.Release()] = r.Texts()
		for _, g := range r.Generated() {
			if in.GeneratedArgs == nil {
				in.GeneratedArgs = map[plan.Release][]string{}
			}
			in.GeneratedArgs[r.Release()] = append(in.GeneratedArgs[r.Release()], g.Query)
		}
	}
	if s.envError != nil {
		in.EnvError = s.envError.Error()
	}
	return in
}

// Close closes the pools and the migration connection and drops the scratch
// database, even after cancellation.
func (s *Session) Close(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, r := range s.runners {
		errs = append(errs, r.Close())
	}
	for _, p := range s.pools {
		errs = append(errs, p.Close())
	}
	errs = append(errs, s.ro.Close())
	errs = append(errs, s.db.Drop(ctx))
	return errors.Join(errs...)
}

// Run is a whole rollout in one call: setup declares the workloads (SetWorkload,
// SetRelease) and loads fixtures, then the steps are applied in order with old and
// new live. It returns the run's verdict input; err is non-nil only for input
// errors (an environment failure is inside the result).
func Run(ctx context.Context, cfg Config, steps []migration.Step, setup func(context.Context, *Session) error) (verdict.RunInput, error) {
	if cfg.Planned == nil {
		refs := make([]plan.StepRef, len(steps))
		for i, st := range steps {
			refs[i] = plan.StepRef{Name: st.Name, Phase: st.Phase}
		}
		cfg.Planned, _ = plan.NewRollout(refs) // a bad order is reported when the step is applied
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		return verdict.RunInput{Scenario: cfg.Scenario, Engine: cfg.Spec.String(), EnvError: err.Error()}, nil
	}
	defer s.Close(ctx)
	if setup != nil {
		if err := setup(ctx, s); err != nil {
			if errors.Is(err, plan.ErrBadInput) {
				return verdict.RunInput{}, err
			}
			s.env(err)
			return s.Result(ctx), nil
		}
	}
	if err := s.compile(ctx, steps); err != nil {
		s.env(err)
		return s.Result(ctx), nil
	}
	for i, st := range steps {
		start := time.Now()
		err := s.Apply(ctx, st)
		if cfg.StepDone != nil {
			cfg.StepDone(StepProgress{Index: i + 1, Steps: len(steps), Phase: st.Phase, Name: st.Name, Took: time.Since(start), Failed: err != nil})
		}
		if err != nil && errors.Is(err, plan.ErrBadInput) {
			return verdict.RunInput{}, err
		}
		if cfg.AtBoundary != nil && s.envError == nil && ctx.Err() == nil {
			last := i == len(steps)-1 || st.Phase != plan.Baseline || steps[i+1].Phase != plan.Baseline
			if last && cfg.AtBoundary(ctx, s, StepProgress{Index: i + 1, Steps: len(steps), Phase: st.Phase, Name: st.Name, Failed: s.Failed()}) {
				break
			}
		}
		if err != nil || s.Failed() {
			break // the steps after a failed one are not run
		}
	}
	return s.Result(ctx), nil
}

// StepProgress is one step of Run done: applied, probed, judged.
type StepProgress struct {
	Index, Steps int // 1-based, of how many
	Phase        plan.Phase
	Name         string
	Took         time.Duration // the step with its traffic and probes
	Failed       bool          // the step did not apply, or the run ended there
}

// compile expands the stars of the queries sqlc compiled for each release
// (release.Runner.Compile) against that release's own schema, as sqlc did when
// it generated the release's code: the old release's against the baseline, the
// new release's against the schema after every step (sqlc reads all of the
// release's migrations). It builds them in a scratch database of its own, with
// no traffic, and drops it. Steps applied by an external command cannot be
// replayed there: the runner then expands at the first state where the release
// is required.
func (s *Session) compile(ctx context.Context, steps []migration.Step) error {
	var old, new []*release.Runner
	for _, r := range s.runners {
		if !r.Compiles() {
			continue
		}
		if r.Release() == plan.Old {
			old = append(old, r)
		} else {
			new = append(new, r)
		}
	}
	if len(old)+len(new) == 0 {
		return nil
	}
	for _, st := range steps {
		if st.Apply != nil {
			return nil
		}
	}
	db, err := s.server.CreateDatabase(ctx)
	if err != nil {
		return fmt.Errorf("compile the queries' stars: %w", err)
	}
	defer db.Drop(context.WithoutCancel(ctx))
	ro, err := openRollout(ctx, rolloutConfig{Engine: s.Engine(), DB: db, Sink: observe.NewRecorder(), NoDuring: true, NoProbes: true})
	if err != nil {
		return fmt.Errorf("compile the queries' stars: %w", err)
	}
	defer ro.Close()
	pool, err := db.Open(ctx)
	if err != nil {
		return fmt.Errorf("compile the queries' stars: %w", err)
	}
	defer pool.Close()
	i := 0
	for ; i < len(steps) && steps[i].Phase == plan.Baseline; i++ {
		if err := ro.Baseline(ctx, steps[i]); err != nil {
			return err
		}
	}
	for _, r := range old {
		r.Compile(ctx, pool)
	}
	for ; i < len(steps) && !ro.Failed(); i++ {
		if err := ro.Step(ctx, steps[i]); err != nil {
			return err
		}
	}
	for _, r := range new {
		r.Compile(ctx, pool)
	}
	return nil
}
