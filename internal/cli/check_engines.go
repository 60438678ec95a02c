package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/harness/workload"
)

// runEngines runs the project's rollout on every engine, up to f.jobs at once, on
// one fleet. Runs come back in spec order whatever order they finish in, so the
// report is the same as a serial run's; so do errors: of several engines that
// failed, the first in spec order decides the error, and a failure cancels the
// engines still running.
func (f *checkFlags) runEngines(ctx context.Context, e *env, fleet *engine.Fleet, specs []engine.Spec, inputs map[engine.Family]*familyInputs) ([]verdict.RunInput, error) {
	jobs := max(f.jobs, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		run verdict.RunInput
		err error
	}
	results := make([]result, len(specs))
	var mu sync.Mutex // serializes progress lines on e.stderr
	progress := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(e.stderr, format, args...)
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, sp := range specs {
		// Slots are taken in spec order, so -j 1 runs the engines in --engine order.
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i].err = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			in := inputs[sp.Family()].forEngine()
			progress("straddle: checking %s on %s (%s provider)…\n", f.scenario(sp.Family()), sp, fleet.Provider().Name())
			t0 := time.Now()
			run, err := f.run(ctx, fleet, sp, in)
			if err == nil && ctx.Err() != nil {
				err = ctx.Err()
			}
			if err == nil {
				err = syntaxError(run, in)
			}
			if err != nil {
				results[i].err = err
				cancel()
				return
			}
			progress("straddle: %s done in %s\n", run.Engine, time.Since(t0).Round(100*time.Millisecond))
			results[i].run = run
		}()
	}
	wg.Wait()
	// An engine cancelled because another failed reports the other's error.
	var first error
	for _, r := range results {
		if r.err != nil && (first == nil || first == context.Canceled) {
			first = r.err
		}
	}
	if first != nil {
		return nil, first
	}
	runs := make([]verdict.RunInput, len(specs))
	for i, r := range results {
		runs[i] = r.run
	}
	return runs, nil
}

// forEngine is a copy of the inputs for one engine's run: the session sets
// per-run fields on each workload (FreshConnections, Binding), so engines of one family
// running at once each get their own; queries and migrations are only read.
func (in *familyInputs) forEngine() *familyInputs {
	out := &familyInputs{set: in.set, queries: map[plan.Release]*workload.Workload{}}
	for rel, w := range in.queries {
		if w != nil {
			c := *w
			out.queries[rel] = &c
		}
	}
	return out
}
