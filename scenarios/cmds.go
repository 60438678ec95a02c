package scenarios

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/report"
	"github.com/straddle-dev/straddle/harness/workload"
)

type capability struct{ name, doc string }

func capabilities() []capability {
	var out []capability
	for _, c := range engine.Capabilities {
		out = append(out, capability{c.Name, c.Doc})
	}
	return out
}

func cmdEngine(s *Script, _ bool, args []string) error {
	if err := nargs(args, 1, -1); err != nil {
		return err
	}
	var specs []engine.Spec
	for _, a := range args {
		sp, err := engine.ParseSpec(a)
		if err != nil {
			return badf("%v", err)
		}
		specs = append(specs, sp)
	}
	if s.dry {
		return nil
	}
	cur := s.cfg.Engine
	for _, sp := range specs {
		if sp.Flavor != cur.Flavor {
			continue
		}
		if sp.Version == "" {
			return nil
		}
		v := cur.Version
		if v == "" { // the provider's default: ask the server what it runs
			srv, err := s.cfg.Fleet.Server(s.ctx(), cur)
			if err != nil {
				return err
			}
			v = srv.Spec().Version
		}
		if v == sp.Version || strings.HasPrefix(v, sp.Version+".") {
			return nil
		}
	}
	return &skipped{fmt.Sprintf("the script runs on %s only, not on %s", strings.Join(args, ", "), cur)}
}

func cmdWorkload(s *Script, _ bool, args []string) error {
	var fresh bool
	var bind string
	args, err := parseFlags("workload", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&fresh, "fresh", false, "")
		fs.StringVar(&bind, "binding", "", "")
	})
	if err != nil {
		return err
	}
	binding, err := engine.ParseBinding(bind)
	if err != nil {
		return badf("workload: %v", err)
	}
	if err := nargs(args, 2, 2); err != nil {
		return err
	}
	rel, err := plan.ParseRelease(args[0])
	if err != nil {
		return badf("%v", err)
	}
	var paths []string
	if strings.HasPrefix(args[1], "git:") {
		paths = []string{args[1]}
	} else if paths, err = s.resolve(args[1]); err != nil {
		return err
	}
	var queries []workload.Query
	for _, p := range paths {
		if queries, err = workload.Load(s.ctx(), p, s.path(".")); err != nil {
			return err
		}
	}
	if len(queries) == 0 {
		return inputf("%s: no queries (a query starts with -- name: NAME)", args[1])
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	return sess.SetWorkload(s.ctx(), &workload.Workload{Release: rel, Source: args[1], Queries: queries, FreshConnections: fresh, Binding: binding})
}

// loadStep reads FILE or DIR as one step of phase, named name ("" derives it).
func (s *Script) loadStep(arg string, phase plan.Phase, name string) (migration.Step, error) {
	paths, err := s.resolve(arg)
	if err != nil {
		return migration.Step{}, err
	}
	if name == "" {
		name = stepName(arg)
	}
	if strings.ContainsAny(name, "/ \t") || name == "" {
		return migration.Step{}, badf("step name %q: want a word without / or spaces", name)
	}
	var st migration.Step
	for _, p := range paths { // several only when linting: every variant is checked
		files := []string{p}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if files, err = sqlFiles(p); err != nil {
				return migration.Step{}, err
			}
			if len(files) == 0 {
				return migration.Step{}, inputf("%s: no *.sql files in the directory", arg)
			}
		}
		st = migration.Step{Phase: phase, Name: name}
		for _, f := range files {
			m, err := migration.LoadFile(f, phase)
			if err != nil {
				return migration.Step{}, err
			}
			one := m
			st.Statements = append(st.Statements, one.Statements...)
			st.NoTransaction = st.NoTransaction || one.NoTransaction
		}
	}
	return st, nil
}

// stepName is a step's default name: the file's base name without .up.sql or
// .sql.
func stepName(arg string) string {
	base := filepath.Base(arg)
	for _, ext := range []string{".up.sql", ".sql"} {
		if n, ok := strings.CutSuffix(base, ext); ok {
			return n
		}
	}
	return base
}

func sqlFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, inputf("%v", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

func cmdBaseline(s *Script, _ bool, args []string) error {
	if err := nargs(args, 1, -1); err != nil {
		return err
	}
	var steps []migration.Step
	for _, a := range args {
		st, err := s.loadStep(a, plan.Baseline, "")
		if err != nil {
			return err
		}
		steps = append(steps, st)
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	for _, st := range steps {
		if b := sess.Boundary(); b.Index > 0 {
			return inputf("baseline after %s: baseline steps come before every expand, migrate or contract step", b)
		}
		if err := sess.Apply(s.ctx(), st); err != nil {
			return err
		}
	}
	return nil
}

func cmdStep(s *Script, _ bool, args []string) error {
	if err := nargs(args, 2, 3); err != nil {
		return err
	}
	phase, err := plan.ParsePhase(args[0])
	if err != nil {
		return badf("%v", err)
	}
	name := ""
	if len(args) == 3 {
		name = args[2]
	}
	st, err := s.loadStep(args[1], phase, name)
	if err != nil {
		return err
	}
	if phase == plan.Baseline {
		return cmdBaseline(s, false, args[1:2])
	}
	if err := s.declare(plan.Boundary{Phase: phase, Step: st.Name}); err != nil {
		return err
	}
	if s.dry {
		return nil
	}
	return s.apply(st)
}

// apply applies a non-baseline step after checking the phase order.
func (s *Script) apply(st migration.Step) error {
	sess, err := s.session()
	if err != nil {
		return err
	}
	if cur := sess.Boundary(); st.Phase.Order() < cur.Phase.Order() {
		return inputf("%s step %s after %s: phases go baseline, expand, migrate, contract", st.Phase, st.Name, cur)
	}
	return sess.Apply(s.ctx(), st)
}

func cmdMigrations(s *Script, _ bool, args []string) error {
	var opts migration.Options
	var format string
	args, err := parseFlags("migrations", args, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "", "")
		fs.StringVar(&opts.Baseline, "baseline", "", "")
	})
	if err != nil {
		return err
	}
	if err := nargs(args, 1, 1); err != nil {
		return err
	}
	if format != "" {
		if opts.Format, err = migration.ParseFormat(format); err != nil {
			return err
		}
	}
	paths, err := s.resolve(args[0])
	if err != nil {
		return err
	}
	var set *migration.Set
	for _, p := range paths {
		if !s.dry {
			opts.Family = s.cfg.Engine.Family()
		}
		if set, err = migration.Load(p, opts); err != nil {
			return err
		}
	}
	for _, m := range set.Steps {
		if m.Phase != plan.Baseline {
			if err := s.declare(plan.Boundary{Phase: m.Phase, Step: m.Name}); err != nil {
				return err
			}
		}
	}
	if s.dry {
		return nil
	}
	for _, m := range set.Steps {
		st := m
		if m.Phase == plan.Baseline {
			sess, err := s.session()
			if err != nil {
				return err
			}
			if b := sess.Boundary(); b.Index > 0 {
				return inputf("%s: baseline migration %s after %s", args[0], m.Name, b)
			}
			if err := sess.Apply(s.ctx(), st); err != nil {
				return err
			}
			continue
		}
		if err := s.apply(st); err != nil {
			return err
		}
	}
	return nil
}

func cmdLoad(s *Script, _ bool, args []string) error {
	if err := nargs(args, 1, -1); err != nil {
		return err
	}
	var all []migration.Statement
	for _, a := range args {
		paths, err := s.resolve(a)
		if err != nil {
			return err
		}
		for _, p := range paths {
			src, err := input.ReadFile(p)
			if err != nil {
				return err
			}
			fams := []engine.Family{engine.Postgres, engine.MySQL}
			if !s.dry {
				fams = []engine.Family{s.cfg.Engine.Family()}
			}
			for _, f := range fams {
				stmts, err := migration.SplitFor(f, p, string(src))
				if err != nil {
					return err
				}
				all = append(all, stmts...)
			}
		}
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	for _, st := range all {
		if err := sess.Exec(s.ctx(), []migration.Statement{st}); err != nil {
			if de := engine.Classify(err); de != nil {
				return inputf("%s:%d: %s %s: %s: fix the fixture", st.File, st.Line, de.Code, de.Class, de.Message)
			}
			return err
		}
	}
	return nil
}

func cmdCheck(s *Script, _ bool, args []string) error {
	if err := nargs(args, 0, 0); err != nil {
		return err
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	return sess.Check(s.ctx())
}

func cmdPolicy(s *Script, _ bool, args []string) error {
	if err := nargs(args, 3, 4); err != nil {
		return err
	}
	o := plan.Override{Selector: args[0]}
	if sel := args[0]; sel != "*" {
		if strings.Contains(sel, "/") {
			if err := s.checkBoundary(sel); err != nil {
				return err
			}
		} else if _, err := plan.ParsePhase(sel); err != nil {
			return badf("selector %q: want *, a phase (baseline, expand, migrate, contract) or PHASE/STEP", sel)
		}
	}
	var err error
	if o.Release, err = plan.ParseRelease(args[1]); err != nil {
		return badf("%v", err)
	}
	if o.Requirement, err = plan.ParseRequirement(args[2]); err != nil {
		return badf("%v", err)
	}
	if len(args) == 4 {
		if err := oneOf("window", args[3], string(plan.During), string(plan.After)); err != nil {
			return err
		}
		o.Window = plan.Window(args[3])
	}
	if s.dry {
		return nil
	}
	s.policy.Overrides = append(s.policy.Overrides, o)
	where := "at " + o.Selector
	if o.Selector == "*" {
		where = "everywhere"
	}
	window := ""
	if o.Window != "" {
		window = " (" + string(o.Window) + " the step)"
	}
	s.notes = append(s.notes, fmt.Sprintf("policy override: %s is %s %s%s", o.Release, o.Requirement, where, window))
	if s.sess != nil {
		s.sess.SetPolicy(s.policy)
	}
	return nil
}

func cmdReport(s *Script, _ bool, args []string) error {
	var timings bool
	args, err := parseFlags("report", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&timings, "timings", false, "")
	})
	if err != nil {
		return err
	}
	if err := nargs(args, 0, 1); err != nil {
		return err
	}
	format := "text"
	if len(args) == 1 {
		format = args[0]
		if err := oneOf("format", format, report.Formats...); err != nil {
			return err
		}
	}
	if s.dry {
		return nil
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	return report.Render(s.ts.Stdout(), format, res, report.Options{Timings: timings})
}

func cmdSQL(s *Script, neg bool, args []string) error {
	if err := nargs(args, 1, 1); err != nil {
		return err
	}
	if s.dry {
		return nil
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	sess.DataChanged() // the statement may write: values read next are not comparable
	if s.pool == nil {
		if s.pool, err = sess.Database().Open(s.ctx()); err != nil {
			return err
		}
	}
	out, err := query(s, args[0])
	if err != nil {
		de := engine.Classify(err)
		if de == nil {
			return err
		}
		if neg {
			fmt.Fprintf(s.ts.Stderr(), "%s %s: %s\n", de.Class, de.Code, de.Message)
			return nil
		}
		return failf("sql: %s %s: %s", de.Class, de.Code, de.Message)
	}
	fmt.Fprint(s.ts.Stdout(), out)
	if neg {
		return failf("sql: want an error, the query succeeded")
	}
	return nil
}

// query runs q and renders its rows: columns separated by |, NULL as NULL.
func query(s *Script, q string) (string, error) {
	rows, err := s.pool.QueryContext(s.ctx(), q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('|')
			}
			switch v := v.(type) {
			case nil:
				b.WriteString("NULL")
			case []byte:
				b.Write(v)
			default:
				fmt.Fprint(&b, v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}
