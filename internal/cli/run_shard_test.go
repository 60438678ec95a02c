package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/matrix"
	"github.com/straddle-dev/straddle/scenarios"
)

// TestRunShardsCoverCookbook expands the cookbook × two engines as straddle run
// does and checks that --shard i/n, for n = 1…4, gives every cell to exactly
// one shard, in matrix order, and that --only and --skip select as straddle
// matrix documents.
func TestRunShardsCoverCookbook(t *testing.T) {
	files, err := scenarios.Find([]string{"../../scenarios/cookbook"})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := matrix.ParseEngines([]string{"postgres", "mariadb"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := scenarioMatrix(files, specs, cellFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(m.Cells), 2*len(files); got != want {
		t.Fatalf("%d cells, want %d (%d scripts × 2 engines)", got, want, len(files))
	}
	for n := 1; n <= 4; n++ {
		seen := map[string][]string{}
		for i := 1; i <= n; i++ {
			f := cellFlags{shard: fmt.Sprintf("%d/%d", i, n)}
			s, cells, err := f.pick(m)
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != f.shard {
				t.Errorf("--shard %s picked shard %s", f.shard, s)
			}
			if len(cells) == 0 {
				t.Errorf("shard %s of %d cells is empty", s, len(m.Cells))
			}
			for k, c := range cells {
				seen[c.ID] = append(seen[c.ID], s.String())
				if k > 0 && cells[k-1].Position >= c.Position {
					t.Errorf("shard %s: %s before %s: a shard keeps matrix order", s, cells[k-1].ID, c.ID)
				}
			}
		}
		for _, c := range m.Cells {
			if len(seen[c.ID]) != 1 {
				t.Errorf("n=%d: cell %s is in shards %v, want exactly one", n, c.ID, seen[c.ID])
			}
		}
		if len(seen) != len(m.Cells) {
			t.Errorf("n=%d: shards hold %d distinct cells, the matrix %d", n, len(seen), len(m.Cells))
		}
	}

	filters := []struct {
		name       string
		only, skip []string
		want       int
		reason     string
	}{
		{"engine", []string{"mariadb"}, nil, len(files), "a bare flavor selects its engine's cells"},
		{"glob on names", []string{"rename_*"}, nil, 2 * count(files, `^rename_`), "a glob on the input name, on both engines"},
		{"cell id", []string{"scenario/drop_column_naive@postgres"}, nil, 1, "a whole cell id selects one cell"},
		{"skip", nil, []string{"lock_*@mariadb"}, 2*len(files) - count(files, `^lock_`), "name@engine leaves out one engine's cells of those scripts"},
		{"both, comma-separated", []string{"rename_*,drop_*"}, []string{"postgres"}, count(files, `^(rename|drop)_`), "--only lists, --skip wins"},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			m, err := scenarioMatrix(files, specs, cellFlags{only: tt.only, skip: tt.skip})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Cells) != tt.want {
				t.Errorf("%d cells, want %d (%s)", len(m.Cells), tt.want, tt.reason)
			}
		})
	}
}

func count(files []string, re string) int {
	n := 0
	for _, f := range files {
		if regexp.MustCompile(re).MatchString(scenarios.ScriptName(f)) {
			n++
		}
	}
	return n
}

// TestRunShardsMerge really runs a small set of scripts on both engines with
// the local provider, whole and in shards of 2 and 3, and checks that
// straddle report merge of the shards' JSON reports is the unsharded run's JSON,
// but for how many times traffic ran a query while a step was applied (no
// timings either: straddle run leaves them out unless -timings), and that the
// merge exits as the unsharded run does; a shard of straddle matrix run over the
// same scripts and engines merges with straddle run's.
func TestRunShardsMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts database servers")
	}
	dir := t.TempDir()
	// pass: a proven incompatibility, on both engines; engine_only: skips itself
	// on mariadb; assertion_fails: a failed assertion (exit 1).
	scripts := []string{"testdata/run/pass.txtar", "testdata/run/engine_only.txtar", "testdata/run/assertion_fails.txtar"}
	base := []string{"run", "--provider", "local", "--engine", "postgres,mariadb", "--reports", "none", "--format", "json"}
	run := func(out string, extra ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append(append(append(append([]string(nil), base...), "--out", out), extra...), scripts...)
		err := Run(t.Context(), args, &stdout, &stderr)
		return ExitCode(err), stdout.String() + stderr.String()
	}
	whole := filepath.Join(dir, "whole.json")
	wantCode, log := run(whole)
	if wantCode != ExitIncompatible {
		t.Fatalf("unsharded run: exit %d, want %d (assertion_fails fails):\n%s", wantCode, ExitIncompatible, log)
	}
	want, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} {
		var shards []string
		for i := 1; i <= n; i++ {
			out := filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.json", i, n))
			code, log := run(out, "--shard", fmt.Sprintf("%d/%d", i, n))
			if code > ExitIncompatible {
				t.Fatalf("shard %d/%d: exit %d:\n%s", i, n, code, log)
			}
			if !regexp.MustCompile(fmt.Sprintf(`\(shard %d/%d: \d+ of the matrix's 6 cells\)`, i, n)).MatchString(log) {
				t.Errorf("shard %d/%d: the run does not say which shard it ran:\n%s", i, n, log)
			}
			shards = append(shards, out)
		}
		merged := filepath.Join(dir, fmt.Sprintf("merged-%d.json", n))
		var stdout, stderr bytes.Buffer
		// Given in reverse: merge puts the runs back in matrix order.
		args := []string{"report", "merge", "--format", "json", "-timings=false", "--out", merged}
		for i := len(shards) - 1; i >= 0; i-- {
			args = append(args, shards[i])
		}
		err := Run(t.Context(), args, &stdout, &stderr)
		if got := ExitCode(err); got != wantCode {
			t.Errorf("merge of %d shards: exit %d, want the unsharded run's %d: %v", n, got, wantCode, err)
		}
		got, rerr := os.ReadFile(merged)
		if rerr != nil {
			t.Fatalf("merge of %d shards: %v; %v\n%s", n, rerr, err, stderr.String())
		}
		if diff := cmp.Diff(countless(t, want), countless(t, got)); diff != "" {
			t.Errorf("merge of %d shards differs from the unsharded run (-unsharded +merged):\n%s", n, diff)
		}
		if n != 2 {
			continue
		}
		// straddle matrix run cuts the same cells: its shard 2/2 merges with
		// straddle run's shard 1/2.
		other := filepath.Join(dir, "matrix-run-2-of-2.json")
		stdout.Reset()
		stderr.Reset()
		args = append([]string{"matrix", "run", "--provider", "local", "--engine", "postgres,mariadb", "-timings=false", "--shard", "2/2", "--out", other}, scripts...)
		if code := ExitCode(Run(t.Context(), args, &stdout, &stderr)); code > ExitIncompatible {
			t.Fatalf("straddle matrix run --shard 2/2: exit %d:\n%s", code, stderr.String())
		}
		mixed := filepath.Join(dir, "merged-mixed.json")
		err = Run(t.Context(), []string{"report", "merge", "--format", "json", "-timings=false", "--out", mixed, shards[0], other}, &stdout, &stderr)
		if got := ExitCode(err); got != wantCode {
			t.Errorf("merge of straddle run 1/2 and straddle matrix run 2/2: exit %d, want %d: %v", got, wantCode, err)
		}
		if got, err := os.ReadFile(mixed); err != nil {
			t.Error(err)
		} else if diff := cmp.Diff(countless(t, want), countless(t, got)); diff != "" {
			t.Errorf("straddle run 1/2 + straddle matrix run 2/2 differ from the unsharded run (-unsharded +merged):\n%s", diff)
		}
	}
}

// countless is a JSON report with its execution and failure counts zeroed: how
// many times the traffic ran a query while a step was applied depends on the
// machine's load, everything else in a report without timings does not.
func countless(t *testing.T, data []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "executions" || k == "count" {
					v[k] = 0
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
