package scenarios_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/matrix"
	"github.com/straddle-dev/straddle/scenarios"
)

// BenchmarkCookbookProbes runs the whole cookbook on every engine with the
// state probes on (how straddle judges) and off (how it ran before it probed:
// one pass per release on its pool after each step, nothing between the
// statements of a step), alternating turns on the same servers, and reports the
// wall time of each and their ratio. The probes' cost is one more execution of
// every query per state (long-lived session and new connection instead of one
// pass), plus one probe per intermediate state of a step that commits statement
// by statement; what dominates a scenario — starting traffic, waiting on the
// lock scenarios' steps — does not change.
func BenchmarkCookbookProbes(b *testing.B) {
	files, err := filepath.Glob("cookbook/*.txtar")
	if err != nil || len(files) == 0 {
		b.Fatalf("no cookbook: %v", err)
	}
	for _, spec := range specs {
		if _, err := fleet.Server(b.Context(), spec); err != nil {
			b.Fatalf("engine %s: %v", spec, err)
		}
	}
	inputs, err := matrix.ScenarioInputs(files)
	if err != nil {
		b.Fatal(err)
	}
	m, err := matrix.New(matrix.Config{Engines: append([]engine.Spec(nil), specs...), Inputs: inputs})
	if err != nil {
		b.Fatal(err)
	}
	run := func(noProbes bool) time.Duration {
		start := time.Now()
		scenarios.Run(b.Context(), scenarios.RunConfig{
			Cells: m.Cells, Fleet: fleet, Parallel: 2, NoProbes: noProbes,
		})
		return time.Since(start)
	}
	var on, off time.Duration
	for b.Loop() {
		off += run(true)
		on += run(false)
	}
	n := float64(b.N)
	b.ReportMetric(on.Seconds()/n, "s/cookbook-probes")
	b.ReportMetric(off.Seconds()/n, "s/cookbook-no-probes")
	b.ReportMetric(on.Seconds()/off.Seconds(), "ratio")
}
