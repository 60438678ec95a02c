package verdict

import "testing"

func TestViolationSummary(t *testing.T) {
	cases := []struct {
		name       string
		runs, viol int
		want       string
		reason     string
	}{
		{"none", 1, 0, "no violations in 1 run", "the compatible line"},
		{"one", 1, 1, "1 violation in 1 run", "singular"},
		{"many", 2, 3, "3 violations in 2 runs", "plural runs and violations"},
		{"no runs", 0, 0, "no violations in 0 runs", "an empty result still reads"},
	}
	for _, tc := range cases {
		r := &Result{Runs: make([]Run, tc.runs), Violations: make([]Violation, tc.viol)}
		if got := r.ViolationSummary(); got != tc.want {
			t.Errorf("%s: %q, want %q (%s)", tc.name, got, tc.want, tc.reason)
		}
	}
}
