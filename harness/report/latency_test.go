package report

import (
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

func TestTextLatencyTable(t *testing.T) {
	r := &verdict.Result{Verdict: verdict.Compatible, Runs: []verdict.Run{{
		Scenario: "s", Engine: "postgres:15",
		Boundaries: []verdict.Boundary{{Phase: plan.Expand, Step: "0002_index",
			Migration: verdict.Migration{Status: verdict.MigrationOK},
			Releases: verdict.Releases{{Release: plan.Old, Status: verdict.Pass, Executions: 12,
				Queries: []verdict.QueryLatency{
					{Query: "Put", When: plan.Before, Count: 10, Latency: verdict.Latency{P50MS: 0.3, P99MS: 2.1, MaxMS: 4.8}},
					{Query: "Put", When: plan.During, Count: 2, Errors: 1, Latency: verdict.Latency{P50MS: 0.3, P99MS: 412, MaxMS: 1500}},
				}}}}},
	}}}
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"on", Options{Timings: true, Latency: true}, []string{
			"  latency            release  window  query  count  errors  p50    p99    max\n",
			"  expand/0002_index  old      before  Put    10     0       300µs  2.1ms  4.8ms\n",
			"                     old      during  Put    2      1       300µs  412ms  1.5s\n"}},
		{"without timings", Options{Latency: true}, nil},
		{"off", Options{Timings: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := Text(&b, r, tc.opts); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil && strings.Contains(b.String(), "latency") {
				t.Errorf("latency table without Timings and Latency:\n%s", b.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
		})
	}
}
