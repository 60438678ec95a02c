package cli

import (
	"fmt"

	"github.com/straddle-dev/straddle/harness/verdict"
)

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
