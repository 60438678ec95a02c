package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

// At says where an execution happens; workloads copy it into their events.
type At struct {
	Engine   string
	Boundary plan.Boundary
	Window   plan.Window
	// Statement returns the 1-based statement of the step being applied (0 before
	// the first); nil outside a step.
	Statement func() int
	// Stop is closed when the window ends: a workload looping during a step
	// finishes the query in flight and returns. Nil for a single pass.
	Stop <-chan struct{}
}

// Stopped reports whether the window has ended.
func (a At) Stopped() bool {
	if a.Stop == nil {
		return false
	}
	select {
	case <-a.Stop:
		return true
	default:
		return false
	}
}

// Workload is one release's traffic as the runner drives it.
type Workload interface {
	// Pass runs the workload once through at a, recording each execution into
	// sink, and returns early once a.Stop is closed. Query failures are recorded,
	// not returned: the error is for environment failures only.
	Pass(ctx context.Context, a At, sink observe.Sink) error
}

// Statement is one SQL statement of a step.
type Statement struct {
	SQL  string
	File string
	Line int
}

// Step is one migration step.
type Step struct {
	Phase plan.Phase
	Name  string
	// Boundary is filled in by the runner when the step is applied.
	Boundary   plan.Boundary
	Statements []Statement
	// NoTransaction applies the statements one by one even where DDL is
	// transactional (CREATE INDEX CONCURRENTLY cannot run in a transaction).
	NoTransaction bool
	// Apply, when set, applies the step instead of Statements (an external
	// migration command). An error it returns that is a *engine.DBError or
	// *ApplyError is a finding; any other error is an environment failure.
	Apply func(ctx context.Context) error
}

// ApplyError is a step that failed to apply for a reason other than a server error
// (an external migration command exiting non-zero).
type ApplyError struct {
	Message string
	Output  string
}

func (e *ApplyError) Error() string { return e.Message }

// Config is one rollout.
type Config struct {
	Engine   string // spec string recorded in events
	DB       engine.Database
	Baseline []Step // applied before any traffic, at the baseline boundary (Run only)
	Steps    []Step // applied in order after the baseline (Run only)
	Old, New Workload
	Sink     observe.Sink
	// Passes is how many times each release runs its workload after each step.
	// Zero means 1.
	Passes int
	// NoDuring turns off traffic while steps are applied.
	NoDuring bool
	// Hooks run at each boundary once the step is applied and before the after
	// window (scenario scripts use it to load fixtures between steps). Optional.
	AfterStep func(ctx context.Context, b plan.Boundary) error
}

// Rollout is a rollout in progress on one database: the migration connection and
// the boundaries reached so far. Scenario scripts drive it step by step; Run drives
// it in one go. Not safe for concurrent use.
type Rollout struct {
	cfg      Config
	pool     *sql.DB
	ap       *applier
	current  plan.Boundary
	rollout  plan.Rollout
	failed   bool
	baseline bool
}

// Open opens the migration connection for a rollout on cfg.DB. The caller must Close.
func Open(ctx context.Context, cfg Config) (*Rollout, error) {
	if cfg.Passes == 0 {
		cfg.Passes = 1
	}
	pool, err := cfg.DB.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open migration connection: %w", err)
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open migration connection: %w", err)
	}
	base := plan.Boundary{Index: 0, Phase: plan.Baseline, Step: string(plan.Baseline)}
	return &Rollout{
		cfg: cfg, pool: pool, current: base, rollout: plan.Rollout{base},
		ap: &applier{conn: conn, dialect: engine.DialectOf(cfg.DB.Family())},
	}, nil
}

// SetWorkloads replaces the releases' workloads for the following steps.
func (r *Rollout) SetWorkloads(old, new Workload) { r.cfg.Old, r.cfg.New = old, new }

// Boundary is the boundary reached last.
func (r *Rollout) Boundary() plan.Boundary { return r.current }

// Boundaries lists the boundaries reached so far, baseline first.
func (r *Rollout) Boundaries() plan.Rollout { return append(plan.Rollout(nil), r.rollout...) }

// Failed reports whether a step failed to apply; no further step runs after that.
func (r *Rollout) Failed() bool { return r.failed }

// Baseline applies baseline steps with no traffic. It may be called before the first
// Step only.
func (r *Rollout) Baseline(ctx context.Context, steps ...Step) error {
	if len(r.rollout) > 1 {
		return fmt.Errorf("baseline after %s: baseline steps come before every other step", r.current)
	}
	for _, s := range steps {
		if r.failed {
			return nil
		}
		s.Boundary = r.rollout[0]
		ok, err := r.ap.apply(ctx, r.cfg, s, nil)
		if err != nil {
			return err
		}
		r.failed = !ok
	}
	return nil
}

// Step applies s at the next boundary while both releases run, then runs the after
// window.
func (r *Rollout) Step(ctx context.Context, s Step) error {
	phase, name := s.Phase, s.Name
	if r.failed {
		return nil
	}
	if err := r.checkBaseline(ctx); err != nil {
		return err
	}
	if phase == plan.Baseline {
		return r.Baseline(ctx, s)
	}
	if phase.Order() < r.current.Phase.Order() {
		return fmt.Errorf("%w: step %s/%s after %s: phases must go baseline, expand, migrate, contract", plan.ErrBadInput, phase, name, r.current)
	}
	b := plan.Boundary{Index: len(r.rollout), Phase: phase, Step: name}
	s.Boundary = b
	ok, err := runStep(ctx, r.cfg, r.ap, s)
	if err != nil {
		return err
	}
	r.rollout = append(r.rollout, b)
	r.current = b
	if !ok {
		r.failed = true
		return nil
	}
	return after(ctx, r.cfg, b)
}

// checkBaseline runs the baseline's after window once, before the first step.
func (r *Rollout) checkBaseline(ctx context.Context) error {
	if r.baseline || r.failed {
		return nil
	}
	r.baseline = true
	return after(ctx, r.cfg, r.rollout[0])
}

// Check runs the after window again at the current boundary.
func (r *Rollout) Check(ctx context.Context) error {
	if r.failed {
		return nil
	}
	if r.current.Phase == plan.Baseline && !r.baseline {
		return r.checkBaseline(ctx)
	}
	return after(ctx, r.cfg, r.current)
}

// Finish runs the baseline check if no step ran (a rollout of baseline only).
func (r *Rollout) Finish(ctx context.Context) error { return r.checkBaseline(ctx) }

// Exec runs statements on the migration connection outside any step (fixture data).
func (r *Rollout) Exec(ctx context.Context, stmts []Statement) error {
	for _, st := range stmts {
		if _, err := r.ap.conn.ExecContext(ctx, st.SQL); err != nil {
			return fmt.Errorf("%s:%d: %w", st.File, st.Line, err)
		}
	}
	return nil
}

// Close releases the migration connection.
func (r *Rollout) Close() error {
	err := r.ap.conn.Close()
	return errors.Join(err, r.pool.Close())
}

// Run performs a whole rollout: baseline, then every step in order. It returns nil
// when every boundary was reached or a step failed to apply (a finding, in the
// sink), and an error for environment failures.
func Run(ctx context.Context, cfg Config) (plan.Rollout, error) {
	r, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if err := r.Baseline(ctx, cfg.Baseline...); err != nil {
		return r.Boundaries(), err
	}
	for _, s := range cfg.Steps {
		if err := r.Step(ctx, s); err != nil {
			return r.Boundaries(), err
		}
	}
	return r.Boundaries(), r.Finish(ctx)
}

// runStep applies s while both releases loop over their workloads.
func runStep(ctx context.Context, cfg Config, ap *applier, s Step) (bool, error) {
	var stmt atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var envErr error
	if !cfg.NoDuring {
		started := make(chan struct{}, 2)
		n := 0
		for _, rw := range releases(cfg, s.Boundary) {
			n++
			wg.Add(1)
			go func() {
				defer wg.Done()
				at := At{Engine: cfg.Engine, Boundary: s.Boundary, Window: plan.During,
					Statement: func() int { return int(stmt.Load()) }, Stop: stop}
				first := true
				for !at.Stopped() && ctx.Err() == nil {
					if first {
						started <- struct{}{}
						first = false
					}
					if err := rw.w.Pass(ctx, at, cfg.Sink); err != nil {
						mu.Lock()
						envErr = errors.Join(envErr, fmt.Errorf("%s release during %s: %w", rw.rel, s.Boundary, err))
						mu.Unlock()
						return
					}
				}
			}()
		}
		for range n { // traffic is live before the step begins
			<-started
		}
	}
	ok, err := ap.apply(ctx, cfg, s, &stmt)
	close(stop)
	wg.Wait()
	if err == nil {
		err = envErr
	}
	return ok, err
}

// after runs each release's passes in the after window, concurrently.
func after(ctx context.Context, cfg Config, b plan.Boundary) error {
	if cfg.AfterStep != nil {
		if err := cfg.AfterStep(ctx, b); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, rw := range releases(cfg, b) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := At{Engine: cfg.Engine, Boundary: b, Window: plan.After}
			for range cfg.Passes {
				if err := rw.w.Pass(ctx, at, cfg.Sink); err != nil {
					errs[i] = fmt.Errorf("%s release after %s: %w", rw.rel, b, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

type relWorkload struct {
	rel plan.Release
	w   Workload
}

// releases lists the workloads that run at b: the new release does not run at the
// baseline (it is not deployed before the first expand step).
func releases(cfg Config, b plan.Boundary) []relWorkload {
	var out []relWorkload
	if cfg.Old != nil {
		out = append(out, relWorkload{plan.Old, cfg.Old})
	}
	if cfg.New != nil && b.Phase != plan.Baseline {
		out = append(out, relWorkload{plan.New, cfg.New})
	}
	return out
}

// applier applies steps on one dedicated connection.
type applier struct {
	conn    *sql.Conn
	dialect *engine.Dialect
}

// apply applies s and records its outcome. ok is false when the step failed (a
// finding); err is an environment failure.
func (ap *applier) apply(ctx context.Context, cfg Config, s Step, stmt *atomic.Int32) (ok bool, err error) {
	start := time.Now()
	ev := observe.Event{Kind: observe.KindMigration, Engine: cfg.Engine, Boundary: s.Boundary, Outcome: observe.OK}
	var failed error
	if s.Apply != nil {
		failed = s.Apply(ctx)
	} else {
		var n int
		n, failed = ap.statements(ctx, s, stmt)
		if failed != nil {
			ev.Statement = n
			ev.SQL = s.Statements[n-1].SQL
		}
	}
	ev.Latency = time.Since(start)
	if failed != nil {
		var ae *ApplyError
		switch de := engine.Classify(failed); {
		case de != nil:
			ev.Outcome, ev.Code, ev.Class, ev.Message = observe.Error, de.Code, string(de.Class), de.Message
		case errors.As(failed, &ae):
			ev.Outcome, ev.Message, ev.Output = observe.Error, ae.Message, ae.Output
		default:
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, fmt.Errorf("apply %s: %w", s.Boundary, failed)
		}
	}
	cfg.Sink.Record(ev)
	return failed == nil, nil
}

// statements runs s's statements, in one transaction where the dialect has
// transactional DDL and the step allows it. It returns the 1-based index of the
// statement that failed.
func (ap *applier) statements(ctx context.Context, s Step, stmt *atomic.Int32) (int, error) {
	tx := ap.dialect.TransactionalDDL && !s.NoTransaction && len(s.Statements) > 1
	if tx {
		if _, err := ap.conn.ExecContext(ctx, "BEGIN"); err != nil {
			return 1, err
		}
	}
	for i, st := range s.Statements {
		if stmt != nil {
			stmt.Store(int32(i + 1))
		}
		if _, err := ap.conn.ExecContext(ctx, st.SQL); err != nil {
			if tx {
				_, _ = ap.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			}
			return i + 1, err
		}
	}
	if tx {
		if _, err := ap.conn.ExecContext(ctx, "COMMIT"); err != nil {
			return len(s.Statements), err
		}
	}
	return 0, nil
}
