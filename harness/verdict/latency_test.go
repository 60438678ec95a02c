package verdict

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
)

// stallRun is a rollout where the old release's Put stalls during the expand
// step, with Get fine before, during and after it.
func stallRun(p plan.Policy) RunInput {
	r := plan.Rollout{{Index: 0, Phase: plan.Baseline, Step: "baseline"}, {Index: 1, Phase: plan.Expand, Step: "0002_index"}}
	rec := observe.NewRecorder()
	q := func(w plan.Window, query string, d time.Duration) {
		rec.Record(observe.Event{Kind: observe.KindQuery, Engine: "pg", Boundary: r[1], Window: w,
			Release: plan.Old, Query: query, Outcome: observe.OK, Latency: d})
	}
	q(plan.Before, "Get", time.Millisecond)
	q(plan.During, "Get", 2*time.Millisecond)
	q(plan.During, "Put", 1500*time.Millisecond)
	q(plan.After, "Get", time.Millisecond)
	rec.Record(observe.Event{Kind: observe.KindStall, Engine: "pg", Boundary: r[1], Window: plan.During,
		Release: plan.Old, Query: "Put", Outcome: observe.Stalled, Latency: 1500 * time.Millisecond, Statement: 1,
		Holder: "pid 7 (migration): CREATE INDEX i ON t (c)"})
	return RunInput{Scenario: "s", Engine: "pg", Rollout: r, Policy: p, Snapshot: rec.Snapshot()}
}

func TestQueriesBreakCellsDownByWindow(t *testing.T) {
	res := Decide([]RunInput{stallRun(plan.Policy{})})
	c := res.Runs[0].Boundaries[1].Releases.Get(plan.Old)
	want := []QueryLatency{
		{Query: "Get", When: plan.Before, Count: 1, Latency: Latency{P50MS: 1, P99MS: 1, MaxMS: 1}},
		{Query: "Get", When: plan.During, Count: 1, Latency: Latency{P50MS: 2, P99MS: 2, MaxMS: 2}},
		{Query: "Put", When: plan.During, Count: 1, Latency: Latency{P50MS: 1500, P99MS: 1500, MaxMS: 1500}},
		{Query: "Get", When: plan.After, Count: 1, Latency: Latency{P50MS: 1, P99MS: 1, MaxMS: 1}},
	}
	// Quantiles are bucket midpoints, capped at the maximum: compare counts and maxima.
	for i := range c.Queries {
		c.Queries[i].P50MS, c.Queries[i].P99MS = want[i].P50MS, want[i].P99MS
	}
	if d := cmp.Diff(want, c.Queries); d != "" {
		t.Errorf("queries (-want +got):\n%s", d)
	}
	if c.Queries = res.WithoutTimings().Runs[0].Boundaries[1].Releases.Get(plan.Old).Queries; c.Queries != nil {
		t.Errorf("WithoutTimings kept %v", c.Queries)
	}
}

func TestStallPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy plan.Policy
		want   Verdict
		reason string
	}{
		{"default", plan.Policy{}, Incompatible, "a stall in a required cell is a violation"},
		{"warning", plan.Policy{Stalls: plan.StallWarning}, Compatible, "the policy makes stalls warnings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Decide([]RunInput{stallRun(tc.policy)})
			if res.Verdict != tc.want {
				t.Errorf("verdict %s, want %s: %s", res.Verdict, tc.want, tc.reason)
			}
			f := res.Runs[0].Boundaries[1].Releases.Get(plan.Old).Failures
			if len(f) != 1 || f[0].Kind != KindStall || !f[0].Required {
				t.Errorf("failures %+v, want the required stall either way", f)
			}
		})
	}
}
