package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/straddle-dev/straddle/harness/report"
	"github.com/straddle-dev/straddle/harness/verdict"
	"github.com/straddle-dev/straddle/matrix"
)

// runReport is `straddle report merge SHARD.json...`: one report and one exit code
// out of the JSON reports of a matrix's shards (straddle matrix run --shard i/n).
func runReport(_ context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "merge" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "usage: straddle report merge [--format FORMAT] [--out FILE] SHARD.json...")
			return nil
		}
		return fmt.Errorf("%w: straddle report: want a subcommand: merge", ErrUsage)
	}
	fs := newFlags(e, "report")
	format := fs.String("format", "text", "report `FORMAT`: "+strings.Join(report.Formats, ", "))
	out := fs.String("out", "", "write the report to `FILE` instead of stdout")
	timings := fs.Bool("timings", true, "include measured durations (-timings=false for output that compares from run to run)")
	if err := parseFlags(e, fs, args[1:]); err != nil {
		return err
	}
	if err := oneOfFlag("--format", *format, report.Formats...); err != nil {
		return err
	}
	if err := checkOut(*out); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: straddle report merge: give the shards' JSON reports", ErrUsage)
	}
	var parts []*verdict.Result
	for _, name := range fs.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		r, err := matrix.ReadReport(name, data)
		if err != nil {
			return err
		}
		parts = append(parts, r)
	}
	res, err := matrix.Merge(parts, fs.Args())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, *format, res, report.Options{Timings: *timings}); err != nil {
		return err
	}
	if *out == "" {
		if _, err := e.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
		fmt.Fprintf(e.stdout, "straddle: %s (%s); %s report written to %s\n", res.Verdict, res.ViolationSummary(), *format, *out)
	}
	return cellsExit(res.Matrix.Cells)
}
