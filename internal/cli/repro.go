package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/straddle-dev/straddle/harness/input"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// notRecorded are the flags of `straddle check` a report's "check" object leaves
// out: where output goes, how to hold, and where servers come from (--dsn can
// carry a password; a repro picks its own provider).
var notRecorded = []string{
	"out", "format", "quiet", "timings", "j", "certify", "sign-key",
	"stop-at", "keep-on-failure", "dump-schema",
	"provider", "dsn", "image",
}

// recordArgs is args (already parsed by fs) without the notRecorded flags, as
// given otherwise.
func recordArgs(fs *flag.FlagSet, args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue := false
		if fl := fs.Lookup(name); fl != nil {
			b, ok := fl.Value.(interface{ IsBoolFlag() bool })
			takesValue = !ok || !b.IsBoolFlag()
		}
		if slices.Contains(notRecorded, name) {
			if takesValue && !hasValue {
				i++ // and its value
			}
			continue
		}
		out = append(out, a)
		if takesValue && !hasValue && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// runRepro is `straddle repro REPORT [--at BOUNDARY] [flags]`: the check a JSON
// report records, run again up to a boundary and held there (check --stop-at).
func runRepro(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "repro")
	at := fs.String("at", "", "the `BOUNDARY` to hold (default: the first boundary where a required release failed or a step did not apply)")
	var eng engineFlags
	eng.register(fs)
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if path == "" && fs.NArg() > 0 {
		path = fs.Arg(0)
	}
	if path == "" {
		return fmt.Errorf("%w: straddle repro REPORT.json: give the JSON report of a straddle check (--format json)", ErrUsage)
	}
	data, err := input.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var res verdict.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("%w: %s: not a JSON report of straddle (%v)", ErrUsage, path, err)
	}
	if res.Check == nil || res.Check.Command != "check" {
		return fmt.Errorf("%w: %s: the report does not say how its check was run (reports of straddle check --format json from this version on do); run straddle check … --stop-at BOUNDARY instead", ErrUsage, path)
	}
	boundary, engines := *at, eng.engines
	if boundary == "" {
		b, spec, ok := firstFailure(&res)
		if !ok {
			return fmt.Errorf("%w: %s: no boundary failed in this report; give --at BOUNDARY (one of %s)", ErrUsage, path, strings.Join(boundariesOf(&res), ", "))
		}
		boundary = b
		if len(engines) == 0 {
			engines = []string{spec}
		}
	}
	run := res.Check.Args
	if len(engines) > 0 {
		run = dropFlag(run, "engine")
		for _, s := range engines {
			run = append(run, "--engine", s)
		}
	}
	run = append(run, "--stop-at", boundary, "--provider", eng.provider)
	for _, d := range eng.dsns {
		run = append(run, "--dsn", d)
	}
	for _, im := range eng.images {
		run = append(run, "--image", im)
	}
	fmt.Fprintf(e.stderr, "straddle: reproducing %s at %s: straddle check %s\n", path, boundary, strings.Join(res.Check.Args, " "))
	return runCheck(ctx, e, run) // exits as the check does: 1 when the failure reproduced
}

// firstFailure is the first boundary (in report order) where a required release
// failed or the step did not apply, and the engine it was on, as a spec.
func firstFailure(r *verdict.Result) (boundary, spec string, ok bool) {
	for _, run := range r.Runs {
		for _, b := range run.Boundaries {
			bad := b.Migration.Status == verdict.MigrationFailed
			for _, rel := range b.Releases {
				if rel.Required && rel.Status == verdict.Fail {
					bad = true
				}
			}
			if bad {
				name := string(b.Phase)
				if b.Step != "" && b.Phase != "baseline" {
					name += "/" + b.Step
				}
				return name, run.Engine, true
			}
		}
	}
	return "", "", false
}

func boundariesOf(r *verdict.Result) []string {
	var out []string
	for _, run := range r.Runs {
		for _, b := range run.Boundaries {
			name := string(b.Phase)
			if b.Phase != "baseline" {
				name += "/" + b.Step
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// dropFlag removes every occurrence of --name (with its value) from args.
func dropFlag(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		n, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if strings.HasPrefix(args[i], "-") && n == name {
			if !hasValue {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}
