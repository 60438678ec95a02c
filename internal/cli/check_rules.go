package cli

import (
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// checkRules settles the phase rules of every run of res (verdict.CheckRules)
// from the parsed inputs of the run's family, and notes on the run the
// exceptions that except nothing; runs are in the order of specs.
func checkRules(res *verdict.Result, mode verdict.RuleMode, specs []engine.Spec, inputs map[engine.Family]*familyInputs) []verdict.RuleHit {
	if mode == verdict.RulesOff {
		return nil
	}
	var hits []verdict.RuleHit
	for i, run := range res.Runs {
		var fam engine.Family
		for j, sp := range specs {
			if j == i && len(specs) == len(res.Runs) || strings.HasPrefix(run.Engine, sp.String()) {
				fam = sp.Family()
				break
			}
		}
		in := inputs[fam]
		if in == nil {
			continue
		}
		ri := verdict.RuleInput{BlockingIndexBuilds: engine.DialectOf(fam).IndexBuildBlocksWrites}
		for _, st := range in.set.Steps {
			rs := verdict.RuleStep{Name: st.Name, Allows: st.Allows}
			for _, s := range st.Statements {
				rs.Statements = append(rs.Statements, s.SQL)
			}
			ri.Steps = append(ri.Steps, rs)
		}
		for _, w := range in.queries {
			if w == nil {
				continue
			}
			for _, q := range w.Queries {
				if q.Family != "" && q.Family != fam {
					continue
				}
				reads, writes := q.Tables()
				rq := verdict.RuleQuery{Release: w.Release, Name: q.Name, SQL: q.SQL, Reads: reads, Writes: writes}
				for _, set := range q.Args {
					for _, a := range set {
						rq.Args = append(rq.Args, a.Text)
					}
				}
				ri.Queries = append(ri.Queries, rq)
			}
		}
		rh := verdict.CheckRules(run, res.Violations, ri, mode)
		for _, a := range verdict.UnusedAllows(run, rh, ri) {
			res.Runs[i].Notes = append(res.Runs[i].Notes, fmt.Sprintf("%s:%d: -- straddle:allow %s excepts nothing: its step does not break %s here; remove it", a.File, a.Line, a.Rule, a.Rule))
		}
		hits = append(hits, rh...)
	}
	return hits
}

// rulesFailure says on stderr why --rules error fails a run whose verdict may be
// compatible (the report has the hits), and returns ErrIncompatible (exit 1);
// nil when no hit fails.
func rulesFailure(e *env, res *verdict.Result) error {
	n := 0
	var first verdict.RuleHit
	for _, h := range res.Rules {
		if h.Fails {
			if n == 0 {
				first = h
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	fmt.Fprintf(e.stderr, "straddle: %s not exercised by any query (--rules error); first %s %s at %s on %s: add a query that exercises it (%s) or an exception -- straddle:allow %s: REASON in the migration\n",
		plural(n, "phase rule hit", "phase rule hits"), first.Rule, first.Object, first.Boundary(), first.Engine, first.Suggest, first.Rule)
	return fmt.Errorf("%w: %s (--rules error)", ErrIncompatible, plural(n, "phase rule hit", "phase rule hits"))
}
