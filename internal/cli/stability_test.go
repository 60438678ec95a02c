package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/verdict"
)

// stabilityChecks are the example projects of the README, as `straddle check`
// runs them.
var stabilityChecks = [][]string{
	{"--migrations", "rename_naive/migrations", "--old", "rename_naive/old.sql", "--new", "rename_naive/new.sql"},
	{"--migrations", "rename_triggers/{family}", "--old", "rename_triggers/old.sql", "--new", "rename_triggers/new.sql"},
	{"--migrations", "add_nullable_column/migrations", "--baseline", "20240101000000", "--old", "add_nullable_column/old.sql", "--new", "add_nullable_column/new.sql"},
	{"--migrations", "drop_column_in_expand/migrations", "--baseline", "1", "--old", "drop_column_in_expand/old.sql", "--new", "drop_column_in_expand/new.sql"},
	{"--migrations", "add_not_null_naive/migrations", "--old", "add_not_null_naive/old.sql", "--new", "add_not_null_naive/new.sql"},
}

// TestStability runs the cookbook (but for its lock scenarios, whose stalls are
// timing findings; stalls elsewhere are logged, not compared) and every example
// project several times
// (STRADDLE_STABILITY_RUNS, default 5) with every core kept busy by other
// processes, and asserts that each run and each check gives the same verdict and
// the same violations every time: a verdict does not depend on how loaded the
// machine is.
func TestStability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts database servers, several times over")
	}
	runs := 5
	if s := os.Getenv("STRADDLE_STABILITY_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			t.Fatalf("STRADDLE_STABILITY_RUNS=%q: want a number ≥ 2", s)
		}
		runs = n
	}
	busy(t, runtime.NumCPU())
	projects, err := filepath.Abs("../../examples/projects")
	if err != nil {
		t.Fatal(err)
	}
	// The lock scenarios are left out: their findings are stalls, timing by
	// nature (a wait against a threshold), whose thresholds are tuned for a
	// loaded machine on their own; every other finding comes from state probes
	// and must not depend on the load at all.
	all, err := filepath.Glob("../../scenarios/cookbook/*.txtar")
	if err != nil || len(all) == 0 {
		t.Fatalf("no cookbook: %v", err)
	}
	var cookbook []string
	for _, f := range all {
		if strings.HasPrefix(filepath.Base(f), "lock_") {
			continue
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		cookbook = append(cookbook, abs)
	}
	dir := t.TempDir()
	first := map[string]string{}
	flips, cells := 0, 0
	start := time.Now()
	for i := range runs {
		got := map[string]string{}
		out := filepath.Join(dir, fmt.Sprintf("run-%d.json", i))
		// The scenarios' own assertions are TestCookbook's business; here what
		// counts is that the findings are the same every time. A run that
		// could not complete is no answer at all.
		var log bytes.Buffer
		if err := Run(t.Context(), append([]string{"run", "--format", "json", "--out", out}, cookbook...), &log, &log); err != nil {
			if ExitCode(err) > 1 {
				t.Fatalf("run %d: straddle run over the cookbook: %v\n%s", i+1, err, failedLines(log.String()))
			}
			t.Logf("run %d: straddle run over the cookbook: %v\n%s", i+1, err, failedLines(log.String()))
		}
		fingerprints(t, out, "run", got)
		for j, args := range stabilityChecks {
			out := filepath.Join(dir, fmt.Sprintf("check-%d-%d.json", i, j))
			full := append([]string{"check", "--format", "json", "--out", out}, args...)
			for k := range full {
				if strings.Contains(full[k], "/") && !strings.HasPrefix(full[k], "/") {
					full[k] = filepath.Join(projects, full[k])
				}
			}
			err := Run(t.Context(), full, io.Discard, io.Discard)
			if code := ExitCode(err); code > 1 {
				t.Fatalf("run %d: check %s: exit %d: %v", i+1, args[1], code, err)
			}
			fingerprints(t, out, "check "+args[1], got)
		}
		for k, fp := range got {
			cells++
			if i == 0 {
				first[k] = fp
				continue
			}
			if first[k] != fp {
				flips++
				t.Errorf("run %d: %s changed:\nfirst run: %s\nthis run:  %s", i+1, k, first[k], fp)
			}
		}
		if len(got) != len(first) {
			t.Errorf("run %d: %d runs, the first had %d", i+1, len(got), len(first))
		}
	}
	t.Logf("stability: %d runs × %d (scenario or check, engine) = %d verdicts with every core busy, flips: %d, in %s",
		runs, len(first), cells, flips, time.Since(start).Round(time.Second))
}

// fingerprints adds to got, per run of the report at path, its verdict and its
// violations in a canonical order.
func fingerprints(t *testing.T, path, what string, got map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var res verdict.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, run := range res.Runs {
		if run.Error != "" {
			t.Fatalf("%s on %s: environment failure: %s", what, run.Engine, run.Error)
		}
		var vs []string
		for _, v := range res.Violations {
			if v.Engine != run.Engine || v.Scenario != run.Scenario {
				continue
			}
			if v.Kind == verdict.KindStall {
				// A stall is a wait measured against a threshold: a timing
				// finding by nature, which a loaded machine may or may not cross.
				t.Logf("%s %s on %s: a stall (timing, not compared): %s %s %s", what, run.Scenario, run.Engine, v.Boundary(), v.Release, v.Query)
				continue
			}
			vs = append(vs, fmt.Sprintf("%s %s %s %s %s %s session=%s after=%d timing=%v",
				v.Boundary(), v.Release, v.Query, v.Kind, v.Code, v.When, v.Session, v.AfterStatement, v.Timing))
		}
		sort.Strings(vs)
		fp := fmt.Sprintf("violations=%d old_breaks_at=%q [%s]", len(vs), run.OldBreaksAt, strings.Join(vs, "; "))
		got[what+" "+run.Scenario+" on "+run.Engine] = fp
	}
}

// busy keeps n cores busy with shell loops in processes of their own (so that
// database servers and the test compete for the CPU as on a loaded CI runner)
// until the test ends.
func busy(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var cmds []*exec.Cmd
	for range n {
		c := exec.CommandContext(ctx, "sh", "-c", "while :; do :; done")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			t.Fatalf("start a busy loop: %v", err)
		}
		cmds = append(cmds, c)
	}
	t.Cleanup(func() {
		cancel()
		for _, c := range cmds {
			_ = c.Wait()
		}
	})
}

// failedLines keeps what straddle run printed about the scripts that failed.
func failedLines(log string) string {
	var out []string
	keep := false
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "ERR") {
			keep = true
		} else if strings.HasPrefix(l, "ok") || strings.HasPrefix(l, "skip") {
			keep = false
		}
		if keep {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
