package verdict

import (
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

// QueryLatency is what one query of a release did in one window of a boundary
// (before, during or after the step): executions, how many did not end OK, and
// their latency. Stalls are failures, not executions: they do not count here.
type QueryLatency struct {
	Query  string      `json:"query"`
	When   plan.Window `json:"when"`
	Count  int64       `json:"count"`
	Errors int64       `json:"errors"`
	Latency
}

// queryLatency summarizes one observation cell.
func queryLatency(c *observe.Cell) QueryLatency {
	h := &c.Latency
	return QueryLatency{
		Query: c.Key.Query, When: c.Key.Window, Count: c.Count, Errors: c.Errors,
		Latency: Latency{P50MS: ms(h.Quantile(0.5)), P99MS: ms(h.Quantile(0.99)), MaxMS: ms(h.Max())},
	}
}
