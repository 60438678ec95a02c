package matrix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/verdict"
)

// fakeReport is the report a run of cells gives, as the CLI assembles it: runs in
// cell order, violations in run order, the verdict of them all. Every third cell
// breaks (a failed migration), every seventh ran nothing (a scenario skipped), and
// the fifth lost its engine.
func fakeReport(t testing.TB, m *Matrix, s Shard, cells []Cell) *verdict.Result {
	t.Helper()
	part, err := m.Part(s, cells)
	if err != nil {
		t.Fatal(err)
	}
	res := &verdict.Result{Verdict: verdict.Compatible, Runs: []verdict.Run{}, Violations: []verdict.Violation{}, Matrix: part}
	for i, c := range cells {
		pc := &part.Cells[i]
		pc.Status = "pass"
		if c.Position%7 == 6 {
			pc.Status = "skip"
			continue
		}
		run := verdict.Run{Scenario: c.Input.Name, Engine: c.Engine.String(), ServerVersion: c.Engine.Version + ".1",
			Boundaries: []verdict.Boundary{{Phase: plan.Baseline, Migration: verdict.Migration{Status: verdict.MigrationOK}}}}
		switch {
		case c.Position%3 == 2:
			pc.Status = "fail"
			run.Boundaries = append(run.Boundaries, verdict.Boundary{Phase: plan.Expand, Step: "0002", Migration: verdict.Migration{Status: verdict.MigrationFailed, Code: "42P01"}})
			for k := range 2 { // two violations in one run: they must stay together
				res.Violations = append(res.Violations, verdict.Violation{Engine: run.Engine, Scenario: run.Scenario, Phase: plan.Expand, Step: "0002", Kind: verdict.KindMigration, Code: fmt.Sprint(k)})
			}
			// a phase rule hit of the run: it travels with its run
			res.Rules = append(res.Rules, verdict.RuleHit{Rule: plan.RuleDropInExpand, Engine: run.Engine, Scenario: run.Scenario,
				Phase: plan.Expand, Step: "0002", Object: "column t.c", Outcome: verdict.NotExercised})
			res.Verdict = verdict.Incompatible
		case c.Position == 4:
			pc.Status = "error"
			run.Error = "connection lost"
		}
		pc.Runs = 1
		res.Runs = append(res.Runs, run)
	}
	if res.Verdict == verdict.Compatible {
		for _, r := range res.Runs {
			if r.Error != "" {
				res.Verdict = verdict.EnvError
			}
		}
	}
	return res
}

func encode(t testing.TB, r *verdict.Result) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// roundTrip decodes r's JSON, as report merge reads shard files.
func roundTrip(t *testing.T, r *verdict.Result) *verdict.Result {
	t.Helper()
	var out verdict.Result
	if err := json.Unmarshal([]byte(encode(t, r)), &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestMergeEqualsUnshardedRun(t *testing.T) {
	for _, inputs := range []int{0, 4} {
		m := cookbook(t, inputs)
		whole := encode(t, fakeReport(t, m, Shard{1, 1}, m.Cells))
		for n := 1; n <= 4; n++ {
			t.Run(fmt.Sprintf("%d cells/%d shards", len(m.Cells), n), func(t *testing.T) {
				var parts []*verdict.Result
				// Shards arrive in any order (shell globs sort shard-10 before shard-2).
				for i := n; i >= 1; i-- {
					s := Shard{i, n}
					parts = append(parts, roundTrip(t, fakeReport(t, m, s, m.Shard(s))))
				}
				merged, err := Merge(parts, nil)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(whole, encode(t, merged)); diff != "" {
					t.Errorf("merged shards differ from the unsharded report (-whole +merged)\n%s", diff)
				}
			})
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	m := cookbook(t, 2)
	shard := func(i, n int) *verdict.Result {
		s := Shard{i, n}
		return roundTrip(t, fakeReport(t, m, s, m.Shard(s)))
	}
	other := cookbook(t, 3)
	foreign := roundTrip(t, fakeReport(t, other, Shard{2, 2}, other.Shard(Shard{2, 2})))
	plain := shard(1, 2)
	plain.Matrix = nil
	tests := []struct {
		name   string
		parts  []*verdict.Result
		want   string
		reason string
	}{
		{"different inputs", []*verdict.Result{shard(1, 2), foreign}, "is a report of different inputs", "shards of two matrices do not make one report"},
		{"missing shard", []*verdict.Result{shard(1, 3), shard(3, 3)}, "shard 2/3 missing", "a missing shard would certify less than the matrix"},
		{"twice", []*verdict.Result{shard(1, 2), shard(1, 2), shard(2, 2)}, "shard 1/2 is given twice", "a shard counted twice doubles its runs"},
		{"other split", []*verdict.Result{shard(1, 2), shard(2, 3)}, "the shards of one split have the same n", "shards of two splits overlap"},
		{"no matrix section", []*verdict.Result{plain}, "has no matrix section", "a plain check report cannot be placed in a matrix"},
		{"none", nil, "no reports", "nothing to merge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Merge(tt.parts, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("err = %v, want bad input containing %q (%s)", err, tt.want, tt.reason)
			}
		})
	}
}

func TestReadReportErrorsAtLine(t *testing.T) {
	tests := []struct {
		name, src, want, reason string
	}{
		{"type", "{\n  \"verdict\": \"compatible\",\n  \"runs\": 1\n}", "r.json:3: not a JSON report: ", "a value of the wrong type is named at its line"},
		{"syntax", "{\n\n  \"runs\": [,]\n}", "r.json:3: not a JSON report: ", "a syntax error is named at its line"},
		{"not json", "-- a.txtar --", "r.json:1: not a JSON report: ", "any other file is refused at its first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadReport("r.json", []byte(tt.src))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("ReadReport: %v, want bad input starting %q (%s)", err, tt.want, tt.reason)
			}
		})
	}
}
