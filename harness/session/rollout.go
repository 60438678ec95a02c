package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/lockwatch"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/runner"
	"github.com/straddle-dev/straddle/harness/schema"
	"github.com/straddle-dev/straddle/harness/traffic"
)

// boundStep is a migration step with the boundary it reaches.
type boundStep struct {
	migration.Step
	Boundary plan.Boundary
}

// rolloutConfig is one rollout on one database: what the session hands its
// rollout (Config is what a caller gives the session).
type rolloutConfig struct {
	Engine   string // spec string recorded in events
	DB       engine.Database
	Old, New traffic.Workload
	Sink     observe.Sink
	// Passes is how many times each release runs its workload after each step.
	// Zero means 1.
	Passes int
	// NoDuring turns off traffic while steps are applied.
	NoDuring bool
	// Load turns on load mode (see Load): every release runs with concurrent
	// clients through a before window, the step and an after window, with the
	// settings given here (a release absent from a non-empty map gets the
	// defaults). Empty keeps pass mode: Passes sequential passes after each step
	// and one pass after another while it runs.
	Load map[plan.Release]runner.Load
	// MaxStall is the stall threshold: a query of a traffic.Executor workload that a
	// step holds up this long or longer beyond its usual latency, waiting for a
	// lock the migration holds or is queued for, is recorded as a stall too
	// (observe.KindStall) with the step's statement, the lock and its holder
	// (lockwatch.StallSink). Zero turns stall detection off.
	MaxStall time.Duration
	// LockViews lets the lock monitor turn on better lock views on the server
	// (engine.LockMonitor.LockViews). Set it only for servers straddle started.
	LockViews bool
	// Policy says which release is required where. A release that is not
	// required in a window runs with At.Observe set: what it writes is rolled
	// back, since it would not run there in production.
	Policy plan.Policy
	// Planned is the whole rollout when it is known before it runs (check), so
	// the policy can tell the last expand step; nil judges each boundary against
	// the rollout so far (a scenario declaring its steps one by one), which
	// treats every expand step as the last one for the new release's after
	// window.
	Planned plan.Rollout
	// NoProbes turns the state probes off (traffic.Prober): each release then runs
	// Passes passes after each step on its pool, and nothing probes the states
	// between the statements of a step — how straddle ran before it probed.
	// For comparisons (the cost benchmark); a verdict needs the probes.
	NoProbes bool

	usual *lockwatch.Usual // latencies outside steps, set by Open
}

// rollout is the Session's rollout in progress on its database: the migration
// connection, the phase machine and the boundaries reached so far. The Session
// drives it step by step, for checks and scenario scripts alike. Not safe for
// concurrent use.
type rollout struct {
	cfg      rolloutConfig
	pool     *sql.DB
	ap       *applier
	current  plan.Boundary
	rollout  plan.Rollout
	failed   bool
	baseline bool
	mon      *lockwatch.Monitor // the lock monitor, opened at the first step with stall detection
	monTried bool
}

// openRollout opens the migration connection for a rollout on cfg.DB. The caller
// must Close.
func openRollout(ctx context.Context, cfg rolloutConfig) (*rollout, error) {
	if cfg.Passes == 0 {
		cfg.Passes = 1
	}
	cfg.usual = lockwatch.NewUsual()
	cfg.Sink = cfg.usual.Sink(cfg.Sink)
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
	return &rollout{
		cfg: cfg, pool: pool, current: base, rollout: plan.Rollout{base},
		ap: &applier{conn: conn, dialect: engine.DialectOf(cfg.DB.Family())},
	}, nil
}

// SetWorkloads replaces the releases' workloads for the following steps.
func (r *rollout) SetWorkloads(old, new traffic.Workload) { r.cfg.Old, r.cfg.New = old, new }

// SetLoad replaces the load settings for the following steps (see Config.Load).
func (r *rollout) SetLoad(l map[plan.Release]runner.Load) { r.cfg.Load = l }

// SetPolicy replaces the policy for the following steps (see Config.Policy).
func (r *rollout) SetPolicy(p plan.Policy) { r.cfg.Policy = p }

// SetMaxStall replaces the stall threshold for the following steps (see
// Config.MaxStall).
func (r *rollout) SetMaxStall(d time.Duration) { r.cfg.MaxStall = d }

// Boundary is the boundary reached last.
func (r *rollout) Boundary() plan.Boundary { return r.current }

// Boundaries lists the boundaries reached so far, baseline first.
func (r *rollout) Boundaries() plan.Rollout { return append(plan.Rollout(nil), r.rollout...) }

// Failed reports whether a step failed to apply; no further step runs after that.
func (r *rollout) Failed() bool { return r.failed }

// Baseline applies baseline steps with no traffic. It may be called before the first
// Step only.
func (r *rollout) Baseline(ctx context.Context, steps ...migration.Step) error {
	if len(r.rollout) > 1 {
		return fmt.Errorf("baseline after %s: baseline steps come before every other step", r.current)
	}
	for _, s := range steps {
		if r.failed {
			return nil
		}
		ok, err := r.ap.apply(ctx, r.cfg, boundStep{s, r.rollout[0]}, nil)
		if err != nil {
			return err
		}
		r.failed = !ok
	}
	return nil
}

// Step applies s at the next boundary while both releases run, then runs the after
// window.
func (r *rollout) Step(ctx context.Context, s migration.Step) error {
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
	pol := r.policyAt(b)
	ok, err := runStep(ctx, r.cfg, pol, r.ap, r.monitor(ctx), r.current, boundStep{s, b})
	if err != nil {
		return err
	}
	r.rollout = append(r.rollout, b)
	r.current = b
	if !ok {
		r.failed = true
		return nil
	}
	return after(ctx, r.cfg, pol, b)
}

// checkBaseline runs the baseline's after window once, before the first step.
func (r *rollout) checkBaseline(ctx context.Context) error {
	if r.baseline || r.failed {
		return nil
	}
	r.baseline = true
	for _, w := range []traffic.Workload{r.cfg.Old, r.cfg.New} {
		if o, ok := w.(traffic.Orderer); ok {
			if err := o.OrderWrites(ctx); err != nil {
				return err
			}
		}
	}
	return after(ctx, r.cfg, r.policyAt(r.rollout[0]), r.rollout[0])
}

// Check runs the after window again at the current boundary.
func (r *rollout) Check(ctx context.Context) error {
	if r.failed {
		return nil
	}
	if r.current.Phase == plan.Baseline && !r.baseline {
		return r.checkBaseline(ctx)
	}
	return after(ctx, r.cfg, r.policyAt(r.current), r.current)
}

// policyAt returns the requirements of the releases around boundary b.
func (r *rollout) policyAt(b plan.Boundary) requirements {
	ro := r.cfg.Planned
	if b.Index >= len(ro) || ro[b.Index] != b {
		ro = append(append(plan.Rollout(nil), r.rollout...), b)
		if b.Index < len(r.rollout) {
			ro = r.rollout
		}
	}
	return requirements{policy: r.cfg.Policy, rollout: ro}
}

// requirements answers what the policy asks of a release at a boundary.
type requirements struct {
	policy  plan.Policy
	rollout plan.Rollout
}

// observe reports whether rel is not required at b in window w, so that what it
// writes there is rolled back.
func (q requirements) observe(b plan.Boundary, rel plan.Release, w plan.Window) bool {
	return q.policy.Requirement(q.rollout, b, rel, w) != plan.Required
}

// Finish runs the baseline check if no step ran (a rollout of baseline only).
func (r *rollout) Finish(ctx context.Context) error { return r.checkBaseline(ctx) }

// Exec runs statements on the migration connection outside any step (fixture data).
func (r *rollout) Exec(ctx context.Context, stmts []migration.Statement) error {
	for _, st := range stmts {
		if _, err := r.ap.conn.ExecContext(ctx, st.SQL); err != nil {
			return fmt.Errorf("%s:%d: %w", st.File, st.Line, err)
		}
	}
	return nil
}

// monitor returns the lock monitor when stall detection is on, opening it the first
// time; nil when the server offers no view it can read.
func (r *rollout) monitor(ctx context.Context) *lockwatch.Monitor {
	if r.cfg.MaxStall <= 0 || r.cfg.NoDuring || r.monTried {
		return r.mon
	}
	r.monTried = true
	lm := r.ap.dialect.Monitor
	var id int64
	if lm.SessionID != "" {
		_ = r.ap.conn.QueryRowContext(ctx, lm.SessionID).Scan(&id) // 0: holders are named, not the migration
	}
	r.mon = lockwatch.Open(ctx, r.pool, lm, id, r.cfg.LockViews)
	return r.mon
}

// Close releases the migration connection (and the lock monitor's).
func (r *rollout) Close() error {
	err := errors.Join(r.mon.Close(), r.ap.conn.Close())
	return errors.Join(err, r.pool.Close())
}

// runStep applies s while both releases run: in pass mode one pass after another
// from just before the step begins until it ends; in load mode with their clients
// through a before window, the step, and until it ends.
func runStep(ctx context.Context, cfg rolloutConfig, pol requirements, ap *applier, mon *lockwatch.Monitor, prev plan.Boundary, s boundStep) (bool, error) {
	prog := &progress{Progress: &lockwatch.Progress{}}
	// The states between the statements of a step that commits them one by one
	// are states too: every release that runs during the step probes each.
	prog.between = func(ctx context.Context, k int) error {
		if cfg.NoProbes {
			return nil
		}
		return probe(ctx, cfg, pol, traffic.Where{Engine: cfg.Engine, Boundary: s.Boundary, Window: plan.During,
			AfterStatement: k, StepStatements: len(s.Statements), StatementSQL: s.Statements[k-1].SQL,
			Statement: func() int { return k }})
	}
	if err := probeDeployed(ctx, cfg, pol, prev, s.Boundary); err != nil {
		return false, err
	}
	if cfg.NoDuring {
		return ap.apply(ctx, cfg, s, prog)
	}
	type live struct {
		w    traffic.Workload
		l    runner.Load
		c    *runner.Traffic
		sink observe.Sink // during the step
		// before is set for a release in load mode that runs at the previous
		// boundary: its clients start in the before window and go on into the
		// step. The others start with the step.
		before bool
		rel    plan.Release
		during traffic.Where
	}
	var ls []*live
	var before time.Duration
	for _, rw := range releases(cfg, s.Boundary) {
		lv := &live{w: rw.w, rel: rw.rel, sink: cfg.Sink}
		lv.during = traffic.Where{Engine: cfg.Engine, Boundary: s.Boundary, Window: plan.During, Statement: prog.Current,
			Observe: pol.observe(s.Boundary, rw.rel, plan.During)}
		if _, ok := rw.w.(traffic.Executor); ok && cfg.MaxStall > 0 {
			lv.sink = lockwatch.StallSink(cfg.Sink, cfg.MaxStall, cfg.DB.Family(), s.Statements, prog.Progress, mon, cfg.usual)
		}
		var load bool
		lv.l, load = loadOf(cfg, rw.rel)
		if !load {
			lv.l, lv.w = runner.Load{Clients: 1}, passOnly{rw.w}
		}
		// The new release is not deployed at the baseline: no before window.
		if load && runsAt(prev, rw.rel) {
			lv.before = true
			before = max(before, lv.l.Duration)
			lv.c = runner.Start(ctx, lv.w, lv.l, traffic.Where{Engine: cfg.Engine, Boundary: s.Boundary, Window: plan.Before,
				Observe: pol.observe(prev, rw.rel, plan.After)}, cfg.Sink)
		}
		ls = append(ls, lv)
	}
	stopped := false
	stopAll := func() error {
		if stopped {
			return nil
		}
		stopped = true
		var errs []error
		for _, lv := range ls {
			if lv.c == nil {
				continue
			}
			if _, err := lv.c.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("%s release during %s: %w", lv.rel, s.Boundary, err))
			}
		}
		return errors.Join(errs...)
	}
	if before > 0 { // load mode: the before window, then the same clients go on into the step
		var cs []*runner.Traffic
		for _, lv := range ls {
			if lv.c != nil {
				cs = append(cs, lv.c)
			}
		}
		if err := waitWindow(ctx, before, cs); err != nil {
			return false, errors.Join(stopAll(), err)
		}
	}
	for _, lv := range ls {
		if lv.before {
			lv.c.Move(lv.during, lv.sink)
			continue
		}
		lv.c = runner.Start(ctx, lv.w, lv.l, lv.during, lv.sink)
	}
	for _, lv := range ls { // traffic is live before the step begins
		select {
		case <-lv.c.Started():
		case <-lv.c.Failed():
		case <-ctx.Done():
		}
	}
	// A step that fails on rows the traffic had in flight is applied again on
	// the state whole passes leave (progress.quiesce).
	prog.quiesce = func(ctx context.Context) error {
		if err := stopAll(); err != nil {
			return err
		}
		for _, lv := range ls {
			w := lv.during
			w.Stop = nil
			if err := lv.w.Pass(ctx, w, lv.sink); err != nil {
				return fmt.Errorf("%s release during %s: %w", lv.rel, s.Boundary, err)
			}
		}
		return nil
	}
	stopMon := mon.Watch(ctx, prog.Progress)
	ok, err := ap.apply(ctx, cfg, s, prog)
	stopMon()
	envErr := stopAll()
	if err == nil {
		err = envErr
	}
	return ok, err
}

// probeDeployed runs, on the state at prev, the state probe of each release that runs
// at b but did not run at prev although it was deployed there: the new release
// at the first step of a rollout without expand steps, whose baseline is the end
// of expand, where the new release is required (plan.Default). Its failures
// there are findings like any other, and its long-lived session prepares its
// statements on that state, as a running instance's are: without it a statement
// the step invalidates (PostgreSQL's 0A000) would fail in one run and not in the
// next, as its traffic happened to run before or after the step took hold.
func probeDeployed(ctx context.Context, cfg rolloutConfig, pol requirements, prev, b plan.Boundary) error {
	if cfg.NoProbes || b.Phase == plan.Expand || b.Phase == plan.Baseline || prev.Phase != plan.Baseline {
		return nil
	}
	for _, rw := range releases(cfg, b) {
		p, ok := rw.w.(traffic.Prober)
		if !ok || runsAt(prev, rw.rel) {
			continue
		}
		at := traffic.Where{Engine: cfg.Engine, Boundary: prev, Window: plan.After, Observe: pol.observe(prev, rw.rel, plan.After)}
		if err := p.Probe(ctx, at, cfg.Sink); err != nil {
			return fmt.Errorf("%s release after %s: %w", rw.rel, prev, err)
		}
	}
	return nil
}

// waitWindow waits d, or until ctx ends or some release's traffic fails (that
// failure is returned when its clients stop).
func waitWindow(ctx context.Context, d time.Duration, cs []*runner.Traffic) error {
	failed := make(chan struct{}, len(cs))
	done := make(chan struct{})
	defer close(done)
	for _, c := range cs {
		go func() {
			select {
			case <-c.Failed():
				failed <- struct{}{}
			case <-done:
			}
		}()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-failed:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// passOnly hides a workload's traffic.Executor method: pass mode drives whole passes.
type passOnly struct{ w traffic.Workload }

func (p passOnly) Pass(ctx context.Context, a traffic.Where, sink observe.Sink) error {
	return p.w.Pass(ctx, a, sink)
}

// after probes the state b each release runs in (traffic.Prober), then runs the rest of
// its after window: Passes-1 more passes in pass mode, its clients in load mode.
// A workload that is not a traffic.Prober runs Passes passes.
func after(ctx context.Context, cfg rolloutConfig, pol requirements, b plan.Boundary) error {
	at := traffic.Where{Engine: cfg.Engine, Boundary: b, Window: plan.After}
	if !cfg.NoProbes {
		if err := probe(ctx, cfg, pol, at); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, rw := range releases(cfg, b) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := at
			at.Observe = pol.observe(b, rw.rel, plan.After)
			if l, ok := loadOf(cfg, rw.rel); ok {
				if _, err := runner.Drive(ctx, rw.w, l, at, cfg.Sink); err != nil {
					errs[i] = fmt.Errorf("%s release after %s: %w", rw.rel, b, err)
				}
				return
			}
			passes := cfg.Passes
			if _, ok := rw.w.(traffic.Prober); ok && !cfg.NoProbes {
				passes-- // the probe was the first
			}
			for range passes {
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

// probe probes the state at a for each release that runs there, one release
// after the other so that the order of their writes is the same in every run.
func probe(ctx context.Context, cfg rolloutConfig, pol requirements, a traffic.Where) error {
	for _, rw := range releases(cfg, a.Boundary) {
		p, ok := rw.w.(traffic.Prober)
		if !ok {
			continue
		}
		at := a
		at.Observe = pol.observe(a.Boundary, rw.rel, a.Window)
		if err := p.Probe(ctx, at, cfg.Sink); err != nil {
			where := "after " + a.Boundary.String()
			if a.AfterStatement > 0 {
				where = fmt.Sprintf("at %s after statement %d", a.Boundary, a.AfterStatement)
			}
			return fmt.Errorf("%s release %s: %w", rw.rel, where, err)
		}
	}
	return nil
}

type relWorkload struct {
	rel plan.Release
	w   traffic.Workload
}

// runsAt reports whether rel runs at boundary b: the new release is not deployed
// at the baseline.
func runsAt(b plan.Boundary, rel plan.Release) bool {
	return rel != plan.New || b.Phase != plan.Baseline
}

// releases lists the workloads that run at b: the new release does not run at the
// baseline (it is not deployed before the first expand step).
func releases(cfg rolloutConfig, b plan.Boundary) []relWorkload {
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
func (ap *applier) apply(ctx context.Context, cfg rolloutConfig, s boundStep, stmt *progress) (ok bool, err error) {
	start := time.Now()
	ev := observe.Event{Kind: observe.KindMigration, Engine: cfg.Engine, Boundary: s.Boundary, Outcome: observe.OK}
	var failed error
	var de0 *engine.DBError // the first deadlock of a step applied again
	if s.Apply != nil {
		failed = s.Apply(ctx)
	} else {
		var n int
		from := 0
		for attempt := 1; ; attempt++ {
			n, failed = ap.statements(ctx, s, stmt, from)
			de := engine.Classify(failed)
			if failed == nil || de == nil || de.Class != engine.ClassDeadlock || attempt == deadlockAttempts || ctx.Err() != nil {
				if failed == nil && attempt > 1 {
					ev.Note = fmt.Sprintf("%s deadlocked with the releases' traffic (%s %s) and applied on attempt %d: a lock-order hazard a rollout may meet", s.Boundary, de0.Code, de0.Class, attempt)
				}
				break
			}
			if attempt == 1 {
				de0 = de
			}
			// The server chose the step as the deadlock's victim, which it
			// could as well not have: apply it again, as an operator would —
			// where statements commit one by one, from the one that failed.
			if !ap.dialect.TransactionalDDL || s.NoTransaction || len(s.Statements) == 1 {
				from = n - 1
			}
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
		if de := engine.Classify(failed); de != nil && inFlightClasses[de.Class] && stmt != nil && stmt.quiesce != nil && ctx.Err() == nil {
			// Whether the traffic's rows stood in the step's way depends on
			// when the step ran in their passes: apply it again on the state
			// whole passes leave, which the next run meets too. Its failure
			// there stands; its success is the step's, noted.
			if err := stmt.quiesce(ctx); err != nil {
				return false, err
			}
			if !ap.dialect.TransactionalDDL || s.NoTransaction || len(s.Statements) == 1 {
				from = n - 1
			} else {
				from = 0
			}
			var n2 int
			if n2, failed = ap.statements(ctx, s, stmt, from); failed == nil {
				ev.Note = fmt.Sprintf("%s failed while the releases' traffic ran (%s %s: %s) and applied once it stopped: rows their writes had in flight stood in its way, as they may in production", s.Boundary, de.Code, de.Class, strings.Join(strings.Fields(de.Message), " "))
			} else {
				n = n2
			}
		}
		var pe *probeError
		if errors.As(failed, &pe) {
			return false, pe.err
		}
		if failed != nil {
			st := s.Statements[n-1]
			ev.Statement, ev.SQL = n, st.SQL
			if st.File != "" && st.Line > 0 {
				ev.Location = fmt.Sprintf("%s:%d", filepath.Base(st.File), st.Line)
			}
		}
	}
	ev.Latency = time.Since(start)
	if failed != nil {
		if ctx.Err() != nil { // interrupted: a cancelled statement is no finding
			return false, ctx.Err()
		}
		var ae *migration.ApplyError
		switch de := engine.Classify(failed); {
		case de != nil && !de.Gone && ap.alive(ctx):
			ev.Outcome, ev.Code, ev.Class, ev.Message = observe.Error, de.Code, string(de.Class), de.Message
		case errors.As(failed, &ae) && ap.alive(ctx):
			ev.Outcome, ev.Message, ev.Output = observe.Error, ae.Message, ae.Output
		default:
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, fmt.Errorf("apply %s: %w", s.Boundary, failed)
		}
	}
	if failed == nil {
		ev.Schema = ap.schema(ctx)
	}
	cfg.Sink.Record(ev)
	return failed == nil, nil
}

// schema reads the database's schema on the migration connection; nil when it
// cannot, which only leaves the report without a schema diff.
func (ap *applier) schema(ctx context.Context) schema.Snapshot {
	s, err := ap.dialect.ReadSchema(ctx, ap.conn)
	if err != nil {
		return nil
	}
	return s
}

// alive reports whether the server still answers on the migration connection: a
// step that failed while the server went away (a migration command's client saw
// the shutdown, a statement met a code of no class) is an environment failure,
// not a finding.
func (ap *applier) alive(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return ap.conn.PingContext(ctx) == nil
}

// ownLocks records which relations the step's transaction holds locks on after
// statement k (the lock monitor reads it to name the statement that took a lock).
// Failures are ignored: it only sharpens reports.
func (ap *applier) ownLocks(ctx context.Context, p *progress, k int) {
	q := ap.dialect.Monitor.OwnLocks
	if q == "" {
		return
	}
	rows, err := ap.conn.QueryContext(ctx, q)
	if err != nil {
		return
	}
	defer rows.Close()
	var rels []string
	for rows.Next() {
		var r string
		if rows.Scan(&r) == nil {
			rels = append(rels, r)
		}
	}
	p.Holding(k, rels)
}

// progress is a step's lockwatch.Progress and, when set, between: the probe of
// the state after statement k of a step whose statements commit one by one,
// before statement k+1 starts (read by the applier only).
type progress struct {
	*lockwatch.Progress
	between func(ctx context.Context, k int) error
	// quiesce, set while the releases' traffic runs during the step, stops it
	// and runs one whole pass of each release, so that the state is one whole
	// passes leave, with no write in flight.
	quiesce func(ctx context.Context) error
}

// inFlightClasses are failures of a step on the rows in a table: rows a
// release's traffic may have had in flight when the step ran (inserted, not
// yet deleted by the same pass; a value being written).
var inFlightClasses = map[engine.Class]bool{
	engine.ClassNotNull: true, engine.ClassUnique: true, engine.ClassCheck: true, engine.ClassForeignKey: true,
	engine.ClassInvalidValue: true, engine.ClassOutOfRange: true,
}

// statements runs s's statements, in one transaction where the dialect has
// transactional DDL and the step allows it. It returns the 1-based index of the
// statement that failed.
func (ap *applier) statements(ctx context.Context, s boundStep, stmt *progress, from int) (int, error) {
	// One statement too: goose, dbmate, Atlas and Liquibase wrap a file in a
	// transaction whatever it holds, and CREATE INDEX CONCURRENTLY fails in one
	// (25001) unless the file says otherwise (Step.NoTransaction).
	tx := ap.dialect.TransactionalDDL && !s.NoTransaction && len(s.Statements) > 0
	if tx {
		from = 0
		if _, err := ap.conn.ExecContext(ctx, "BEGIN"); err != nil {
			return 1, err
		}
	}
	locked := false // LOCK TABLES holds locks until UNLOCK TABLES (MySQL)
	for i, st := range s.Statements {
		if i < from {
			locked = tableLocks(st.SQL, locked)
			continue
		}
		if stmt != nil {
			stmt.Begin(i + 1)
		}
		if _, err := ap.conn.ExecContext(ctx, st.SQL); err != nil {
			if tx {
				_, _ = ap.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			}
			return i + 1, err
		}
		if tx && stmt != nil {
			ap.ownLocks(ctx, stmt, i+1)
		}
		locked = tableLocks(st.SQL, locked)
		// Committed on its own: the state after it is one the releases meet.
		if !tx && stmt != nil && stmt.between != nil && i+1 < len(s.Statements) && !locked && !sessionOnly(st.SQL) && !ap.inTransaction(ctx) {
			if err := stmt.between(ctx, i+1); err != nil {
				return 0, &probeError{err}
			}
		}
	}
	if tx {
		if _, err := ap.conn.ExecContext(ctx, "COMMIT"); err != nil {
			return len(s.Statements), err
		}
	}
	return 0, nil
}

// sessionOnly reports whether sql only sets or shows the migration session's
// own settings (SET lock_timeout, RESET, SHOW): the state after it is the state
// before, not worth probing again.
func sessionOnly(sql string) bool {
	f := strings.Fields(strings.ToUpper(sql))
	if len(f) == 0 {
		return true
	}
	switch f[0] {
	case "SET":
		// SET ROLE and SET SESSION AUTHORIZATION change who the next
		// statements run as, not what the releases see.
		return true
	case "RESET", "SHOW":
		return true
	}
	return false
}

// deadlockAttempts is how many times a step the server chose as a deadlock's
// victim is applied before its failure stands.
const deadlockAttempts = 3

// probeError is a probe between two statements of a step that could not run (an
// environment failure, never the step's).
type probeError struct{ err error }

func (e *probeError) Error() string { return e.err.Error() }
func (e *probeError) Unwrap() error { return e.err }

// inTransaction reports whether the migration session is inside an explicit
// transaction (a step that says BEGIN itself): the state between its statements
// is not one anyone else sees, and probing it would wait on the step's locks.
// When the server cannot tell, it answers true: no probe.
func (ap *applier) inTransaction(ctx context.Context) bool {
	q := ap.dialect.SessionHoldsLocks
	if q == "" {
		return true
	}
	var in bool
	if err := ap.conn.QueryRowContext(ctx, q).Scan(&in); err != nil {
		return true
	}
	return in
}

// tableLocks follows LOCK TABLES … / UNLOCK TABLES through a step's statements:
// it returns whether the session holds table locks after sql, given that it did
// before (locked).
func tableLocks(sql string, locked bool) bool {
	f := strings.Fields(strings.ToUpper(sql))
	switch {
	case len(f) >= 2 && f[0] == "LOCK" && (f[1] == "TABLES" || f[1] == "TABLE"):
		return true
	case len(f) >= 2 && f[0] == "UNLOCK" && (f[1] == "TABLES" || f[1] == "TABLE"):
		return false
	}
	return locked
}

// loadOf returns rel's load settings; ok is false in pass mode (cfg.Load empty).
func loadOf(cfg rolloutConfig, rel plan.Release) (runner.Load, bool) {
	if len(cfg.Load) == 0 {
		return runner.Load{}, false
	}
	return cfg.Load[rel].WithDefaults(), true
}
