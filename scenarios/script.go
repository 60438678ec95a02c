package scenarios

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/release"
	"github.com/straddle-dev/straddle/harness/session"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// Config is what the scripts of one engine share in a run.
type Config struct {
	// Context bounds every database call of the scripts; nil means
	// context.Background(). Cancelling it stops the rollouts; cleanup still runs.
	Context context.Context
	// Fleet hands out the run's servers: one per engine spec, a scratch database
	// per script.
	Fleet *engine.Fleet
	// Engine is the engine the scripts run on. Scripts see it as $STRADDLE_ENGINE
	// and test its capabilities with [cap:NAME].
	Engine engine.Spec
	// Counter numbers {{n}} across the whole run; nil uses the process-wide one.
	Counter release.Counter
	// Passes is the number of after-window passes per release and boundary (0: 1).
	Passes int
	// NoProbes turns the state probes off (session.Config.NoProbes): for cost
	// comparisons only; the cookbook's assertions need the probes.
	NoProbes bool
	// Done, when set, is called with each script's outcome when the script ends,
	// after its database is dropped. t is the script's testscript.T.
	Done func(t testscript.T, o Outcome)
}

// Outcome is what a script left behind.
type Outcome struct {
	// Name is the script's name (its file name without .txtar).
	Name   string
	Engine engine.Spec
	// Run is the rollout the script drove, for reports; nil when the script opened
	// no database.
	Run *verdict.RunInput
	// BadInput is set when a command rejected its arguments or files: the script
	// is malformed.
	BadInput bool
	// EnvError is the environment failure that stopped the script, if any.
	EnvError error
}

// EngineVar is the variable scripts see the engine in ("postgres:15").
const EngineVar = "STRADDLE_ENGINE"

type scriptKey struct{}

// Params returns the testscript parameters that run scripts on cfg.Engine: the
// command table, the [cap:NAME] condition and a setup that gives every script its
// own state (its database is opened lazily by the first command that needs one
// and dropped when the script ends).
func Params(cfg Config) testscript.Params {
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	return testscript.Params{
		Cmds:               cmds(),
		Condition:          func(cond string) (bool, error) { return condition(cfg.Engine, cond) },
		RequireUniqueNames: true,
		Setup: func(env *testscript.Env) error {
			s := &Script{cfg: &cfg, t: env.T(), work: env.WorkDir, names: map[string]bool{}}
			env.Values[scriptKey{}] = s
			env.Setenv(EngineVar, cfg.Engine.String())
			env.Defer(s.close)
			return nil
		},
	}
}

// condition evaluates a script condition beyond testscript's own.
func condition(spec engine.Spec, cond string) (bool, error) {
	name, ok := strings.CutPrefix(cond, "cap:")
	if !ok {
		return false, fmt.Errorf("unknown condition %q (want [cap:NAME]; capabilities: %s)", cond, strings.Join(capNames(), ", "))
	}
	return engine.DialectOf(spec.Family()).Has(name)
}

func capNames() []string {
	var out []string
	for _, c := range engine.Capabilities {
		out = append(out, c.Name)
	}
	return out
}

// Script is the state of one running (or linted) script. Commands get it; it is
// used by one goroutine at a time.
type Script struct {
	cfg  *Config
	t    testscript.T
	ts   *testscript.TestScript // the running script; nil when linting
	work string                 // $WORK

	// dry is set when linting: commands validate their arguments and files, then
	// return before touching a database.
	dry bool
	// dir is the current directory when linting (testscript tracks it otherwise).
	dir string
	// lenient (linting) ignores missing files: an earlier line may create them.
	lenient bool
	// unknownSteps (linting) is set when a step's name could not be known, so
	// boundary names cannot be checked.
	unknownSteps bool

	name   string
	sess   *session.Session
	pool   *sql.DB
	policy plan.Policy
	notes  []string
	// names holds the boundaries declared so far ("expand/0002_rename").
	names map[string]bool

	badInput bool
	envErr   error
}

// ctx is the run's context.
func (s *Script) ctx() context.Context {
	if s.cfg == nil || s.cfg.Context == nil {
		return context.Background()
	}
	return s.cfg.Context
}

// path interprets a file name relative to the script's current directory.
func (s *Script) path(name string) string {
	if s.ts != nil {
		return s.ts.MkAbs(name)
	}
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(s.dir, name)
}

// rel shortens paths under $WORK in a message to what the script calls them.
func (s *Script) rel(msg string) string {
	if s.work == "" {
		return msg
	}
	return strings.ReplaceAll(msg, s.work+string(filepath.Separator), "")
}

// session opens the script's rollout on first use.
func (s *Script) session() (*session.Session, error) {
	if s.sess != nil {
		return s.sess, nil
	}
	if s.dry {
		panic("scenarios: session used while linting")
	}
	sess, err := session.Open(s.ctx(), session.Config{
		Scenario: s.name, Spec: s.cfg.Engine, Fleet: s.cfg.Fleet, Policy: s.policy,
		Passes: s.cfg.Passes, Counter: s.cfg.Counter, NoProbes: s.cfg.NoProbes,
	})
	if err != nil {
		return nil, fmt.Errorf("open a database on %s: %w", s.cfg.Engine, err)
	}
	s.sess = sess
	return sess, nil
}

// result decides the rollout so far. The server version is left out so that
// reports printed by scripts do not depend on the machine.
func (s *Script) result() (*verdict.Result, error) {
	sess, err := s.session()
	if err != nil {
		return nil, err
	}
	in := sess.Result(s.ctx())
	in.ServerVersion = ""
	in.Notes = append(in.Notes, s.notes...)
	return verdict.Decide([]verdict.RunInput{in}), nil
}

// close ends the script: it takes the rollout's result for the outcome, drops the
// database and hands the outcome to Config.Done.
func (s *Script) close() {
	o := Outcome{Name: s.name, Engine: s.cfg.Engine, BadInput: s.badInput, EnvError: s.envErr}
	if s.sess != nil {
		in := s.sess.Result(s.ctx())
		in.Notes = append(in.Notes, s.notes...)
		o.Run = &in
		if s.pool != nil {
			s.pool.Close()
		}
		if err := s.sess.Close(s.ctx()); err != nil && o.EnvError == nil {
			o.EnvError = fmt.Errorf("drop the scratch database: %w", err)
		}
	}
	if s.cfg.Done != nil {
		s.cfg.Done(s.t, o)
	}
}

// Error kinds. A command returns nil, a *usageError (bad input: the script is
// wrong), a *failure (an assertion does not hold), a *skipped, or any other error
// (an environment failure).

type usageError struct {
	msg string
	// usage is set when the command's arguments are wrong, so its usage line
	// helps; not when they name a file that is wrong, say.
	usage bool
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return plan.ErrBadInput }

// badf returns a bad-input error about a command's arguments: the script must be
// fixed, and the command's usage line helps.
func badf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...), true}
}

// inputf returns a bad-input error about what the arguments name (a file, a step
// out of order): the script must be fixed.
func inputf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...), false}
}

// showUsage reports whether err is about the arguments themselves.
func showUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) && ue.usage
}

type failure struct{ msg string }

func (e *failure) Error() string { return e.msg }

// failf returns a failed assertion.
func failf(format string, args ...any) error {
	return &failure{fmt.Sprintf(format, args...)}
}

type skipped struct{ msg string }

func (e *skipped) Error() string { return "skip: " + e.msg }

// notExistError marks a missing file, which linting tolerates after lines that
// may create files.
type notExistError struct{ usageError }

// handle reports a command's error to testscript, recording its kind.
func (s *Script) handle(c *Command, err error) {
	var (
		ue *usageError
		ne *notExistError
		fe *failure
		se *skipped
	)
	switch {
	case err == nil:
	case errors.As(err, &se):
		s.t.Skip(se.msg)
	case errors.As(err, &ne), errors.As(err, &ue), errors.Is(err, plan.ErrBadInput):
		s.badInput = true
		if showUsage(err) {
			s.ts.Fatalf("%s: %s\n\tusage: %s", c.Name, s.rel(err.Error()), c.Usage)
		}
		s.ts.Fatalf("%s: %s", c.Name, s.rel(err.Error()))
	case errors.As(err, &fe):
		s.ts.Fatalf("%s", s.rel(err.Error()))
	default:
		if s.envErr == nil {
			s.envErr = err
		}
		s.ts.Fatalf("%s: environment failure: %s", c.Name, s.rel(err.Error()))
	}
}

// variants returns the names a file argument may stand for on spec, most specific
// first: NAME.FLAVOR.EXT, NAME.FAMILY.EXT, NAME. With a zero spec (linting) it
// returns the variants of every engine.
func variants(name string, spec engine.Spec) []string {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	var tags []string
	if spec.Flavor == "" {
		tags = []string{string(engine.FlavorPostgres), string(engine.FlavorMySQL), string(engine.FlavorMariaDB)}
	} else {
		tags = []string{string(spec.Flavor)}
		if f := string(spec.Family()); f != string(spec.Flavor) {
			tags = append(tags, f)
		}
	}
	var out []string
	for _, t := range tags {
		out = append(out, stem+"."+t+ext)
	}
	return append(out, name)
}

// resolve returns the path of the file (or directory) name stands for on the
// script's engine: its most specific per-engine variant that exists. Linting, it
// returns every variant that exists, so that each is checked.
func (s *Script) resolve(name string) ([]string, error) {
	var spec engine.Spec
	if !s.dry {
		spec = s.cfg.Engine
	}
	cands := variants(name, spec)
	var out []string
	for _, c := range cands {
		if _, err := os.Stat(s.path(c)); err == nil {
			out = append(out, s.path(c))
			if !s.dry {
				break
			}
		}
	}
	if len(out) == 0 {
		alts := cands[:len(cands)-1]
		if s.dry {
			alts = []string{strings.TrimSuffix(name, filepath.Ext(name)) + ".ENGINE" + filepath.Ext(name)}
		}
		return nil, &notExistError{usageError{msg: fmt.Sprintf("%s: no such file (nor %s); add it to the archive as -- %s --", name, strings.Join(alts, ", "), name)}}
	}
	return out, nil
}

// declare records a boundary a step creates; a second step of the same name would
// make the boundary ambiguous.
func (s *Script) declare(b plan.Boundary) error {
	key := b.String()
	if s.names[key] {
		return inputf("boundary %s already exists; give the step another NAME", key)
	}
	s.names[key] = true
	return nil
}

// checkBoundary validates a boundary name an assertion or policy refers to.
func (s *Script) checkBoundary(name string) error {
	if name == string(plan.Baseline) {
		return nil
	}
	phase, step, ok := strings.Cut(name, "/")
	if _, err := plan.ParsePhase(phase); err != nil || !ok || step == "" {
		return badf("boundary %q: want baseline or PHASE/STEP, e.g. expand/0002_rename", name)
	}
	if s.dry && !s.unknownSteps && !s.names[name] {
		return inputf("boundary %q: no step of the script makes it (steps: %s)", name, s.declared())
	}
	return nil
}

func (s *Script) declared() string {
	var out []string
	for n := range s.names {
		out = append(out, n)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
