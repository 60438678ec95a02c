package command

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/traffic"
)

// Workload is a release's own program (its test suite, a smoke test of its
// binary) as that release's workload: it runs once per window, to completion,
// against the scratch database in its current state, and its exit status says
// whether the release works there.
//
// During a step it is started with the other release's traffic, before the step
// is applied; once it has exited it waits for the window to end (a command is run
// once per window, never in a loop). Safe for concurrent use.
type Workload struct {
	// Name is what reports call it (the query of its failures).
	Name    string
	Release plan.Release
	Command Command
	DB      engine.Database
}

var _ traffic.Workload = (*Workload)(nil)

// Pass runs the command once at a and records one event: OK, or Error with
// "exit status N" and the tail of its output. It returns ctx.Err() when ctx is
// cancelled, and an error when the command cannot be started at all.
func (w *Workload) Pass(ctx context.Context, at traffic.Where, sink observe.Sink) error {
	if at.Stopped() {
		return nil
	}
	env, err := Env(w.DB)
	if err != nil {
		return err
	}
	c := w.Command
	c.Env = append(append(append([]string(nil), c.Env...), env...), whereEnv(at, w.Release)...)
	c.Redact = append(append([]string(nil), c.Redact...), secrets(w.DB)...)
	res, err := c.Run(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", w.Name, err)
	}
	ev := observe.Event{
		Kind: observe.KindQuery, Engine: at.Engine, Boundary: at.Boundary, Window: at.Window,
		Release: w.Release, Query: w.Name, Outcome: observe.OK, Latency: res.Duration,
	}
	if at.Statement != nil {
		ev.Statement = at.Statement()
	}
	if !res.OK() {
		ev.Outcome, ev.Message, ev.Output = observe.Error, res.Status(), res.Output
	}
	sink.Record(ev)
	if at.Stop != nil {
		select { // once per window: wait for the step to finish
		case <-at.Stop:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Name shortens a command line to a name for reports: the line itself, on one
// line, cut to 60 characters.
func Name(line string) string {
	s := strings.Join(strings.Fields(line), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}

// Step says which migration step a migration command applies; its fields fill
// the placeholders {version}, {name}, {phase} and {file}.
type Step struct {
	Version string
	Name    string
	Phase   plan.Phase
	File    string
}

// Apply returns a migration.Step.Apply that runs the migration command template
// tmpl for step on db: {version}, {name}, {phase} and {file} (made absolute) are
// replaced by the step's values, quoted for sh where needed, and also set as
// STRADDLE_VERSION, STRADDLE_NAME, STRADDLE_PHASE and STRADDLE_FILE. A non-zero
// exit is a *migration.ApplyError (a failed step, a finding) carrying the tail of the
// output; a command that cannot be started is an environment failure.
func Apply(tmpl Command, step Step, db engine.Database) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		file := step.File
		if file != "" {
			if abs, err := filepath.Abs(file); err == nil {
				file = abs
			}
		}
		vals := map[string]string{"version": step.Version, "name": step.Name, "phase": string(step.Phase), "file": file}
		env, err := Env(db)
		if err != nil {
			return err
		}
		c := tmpl
		c.Line = Expand(tmpl.Line, vals)
		c.Env = append(append([]string(nil), c.Env...), env...)
		for _, k := range []string{"version", "name", "phase", "file"} {
			c.Env = append(c.Env, "STRADDLE_"+strings.ToUpper(k)+"="+vals[k])
		}
		c.Redact = append(append([]string(nil), c.Redact...), secrets(db)...)
		res, err := c.Run(ctx)
		if err != nil {
			return err
		}
		if !res.OK() {
			return &migration.ApplyError{Message: fmt.Sprintf("%s: %s", Name(c.Line), res.Status()), Output: res.Output}
		}
		return nil
	}
}

// Placeholders are the names Expand replaces, as written in a template.
var Placeholders = []string{"{version}", "{name}", "{phase}", "{file}"}

// Expand replaces {key} in tmpl by vals[key] quoted for sh; other braces (shell
// ${VAR}, {a,b}) are left alone.
func Expand(tmpl string, vals map[string]string) string {
	var pairs []string
	for k, v := range vals {
		pairs = append(pairs, "{"+k+"}", Quote(v))
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// whereEnv renders the rollout position as STRADDLE_* variables for a release's command.
func whereEnv(at traffic.Where, rel plan.Release) []string {
	return []string{
		"STRADDLE_RELEASE=" + string(rel),
		"STRADDLE_BOUNDARY=" + at.Boundary.String(),
		"STRADDLE_PHASE=" + string(at.Boundary.Phase),
		"STRADDLE_STEP=" + at.Boundary.Step,
		"STRADDLE_WINDOW=" + string(at.Window),
		"STRADDLE_ENGINE=" + at.Engine,
	}
}
