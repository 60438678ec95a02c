package harness

import (
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// checkRules settles the phase rules of every run of res (verdict.CheckRules)
// from the parsed inputs of the run's family, and notes on the run the
// exceptions that except nothing; runs are in the order of the engines.
func (c *Checker) checkRules(res *verdict.Result) []verdict.RuleHit {
	mode, specs, inputs := c.cfg.Rules, c.cfg.Engines, c.inputs
	if mode == "" {
		mode = verdict.RulesWarn
	}
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

// failingRules counts the rule hits that fail the run (--rules error).
func failingRules(res *verdict.Result) int {
	n := 0
	for _, h := range res.Rules {
		if h.Fails {
			n++
		}
	}
	return n
}
