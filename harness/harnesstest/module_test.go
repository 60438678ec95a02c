package harnesstest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// helperFails is a test of the user's module that must fail: harnesstest.Check
// on an upgrade that breaks the old release fails it with the text report.
const helperFails = `package db_test

import (
	"testing"

	"github.com/straddle-dev/straddle/harness"
	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/harnesstest"
)

func TestHelperFails(t *testing.T) {
	harnesstest.Check(t, harness.CheckConfig{
		Migrations: "testdata/naive/migrations",
		Old:        harness.Workload{Queries: "testdata/naive/old.sql"},
		New:        harness.Workload{Queries: "testdata/naive/new.sql"},
		Engines:    []engine.Spec{engine.MustParseSpec("postgres")},
	})
	t.Error("harnesstest.Check returned on an incompatible upgrade")
}
`

// testEvent is a line of `go test -json` (cmd/test2json), with the fields of
// attr events.
type testEvent struct {
	Action, Test, Output, Key, Value string
}

// TestUserModule is docs/go-test.md as a user meets it: its Go blocks are the test
// files of a module of its own that requires straddle through a replace
// directive (with two cookbook scripts for the scenario route), run with
// `go test -json` on the local provider (both engines), next to a test that
// harnesstest.Check must fail. Afterwards nothing the checks and scripts started
// is left: no server process, nothing in the run's TMPDIR.
func TestUserModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module and starts database servers")
	}
	repo, err := filepath.Abs("../..")
	assert.NilError(t, err)
	page, err := os.ReadFile(filepath.Join(repo, "docs/go-test.md"))
	assert.NilError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(page, -1)
	assert.Equal(t, len(blocks), 2, "docs/go-test.md: want two Go blocks, each a test file: the checks and the scenario scripts")

	mod := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(mod, name)
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, data, 0o644))
	}
	write("go.mod", []byte("module example.com/db\n\ngo 1.26\n\nrequire github.com/straddle-dev/straddle v0.0.0\n\nreplace github.com/straddle-dev/straddle => "+repo+"\n"))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	assert.NilError(t, err)
	write("go.sum", sum)
	for i, b := range blocks {
		write(fmt.Sprintf("doc%d_test.go", i+1), b[1])
	}
	for _, script := range []string{"add_column_nullable", "drop_column_naive"} {
		data, err := os.ReadFile(filepath.Join(repo, "scenarios/cookbook", script+".txtar"))
		assert.NilError(t, err)
		write(filepath.Join("testdata/scenarios", script+".txtar"), data)
	}
	write("fail_test.go", []byte(helperFails))
	for name, project := range map[string]string{"safe": "add_nullable_column", "naive": "rename_naive"} {
		src := filepath.Join(repo, "examples/projects", project)
		assert.NilError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			write(filepath.Join("testdata", name, rel), data)
			return nil
		}))
	}

	// A temp dir of the run's own, reachable by the unprivileged server user, so
	// whatever the local provider leaves in it can be seen.
	tmp, err := os.MkdirTemp("", "usermodule-test-")
	assert.NilError(t, err)
	assert.NilError(t, os.Chmod(tmp, 0o755))
	t.Cleanup(func() { os.RemoveAll(tmp) })
	reports := t.TempDir()

	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "STRADDLE_PROVIDER=local", "TMPDIR="+tmp, "STRADDLE_REPORT_DIR="+reports)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		return append(out, stderr.Bytes()...), err
	}
	if out, err := run("mod", "tidy"); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	if out, err := run("vet", "./..."); err != nil {
		t.Fatalf("go vet: %v\n%s", err, out)
	}
	out, err := run("test", "-json", "-count=1", "-timeout=12m", "./...")
	assert.Assert(t, err != nil, "go test passed, but TestHelperFails must fail:\n%s", out)

	status := map[string]string{}
	output := map[string]*strings.Builder{}
	attrs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Test == "" {
			continue
		}
		switch ev.Action {
		case "pass", "fail", "skip":
			status[ev.Test] = ev.Action
		case "output":
			if output[ev.Test] == nil {
				output[ev.Test] = &strings.Builder{}
			}
			output[ev.Test].WriteString(ev.Output)
		case "attr":
			if ev.Key == "straddle-report" {
				attrs[ev.Test] = ev.Value
			}
		}
	}
	logOf := func(test string) string {
		if b := output[test]; b != nil {
			return b.String()
		}
		return ""
	}
	for test, want := range map[string]string{
		"TestUpgradeIsSafe":                 "pass",
		"TestNaiveRenameIsCaught":           "pass",
		"TestNaiveRenameIsCaught/postgres":  "pass",
		"TestNaiveRenameIsCaught/mariadb":   "pass",
		"TestHelperFails":                   "fail",
		"TestScenarios/add_column_nullable": "pass",
		"TestScenarios/drop_column_naive":   "pass",
	} {
		assert.Equal(t, status[test], want, "%s:\n%s", test, logOf(test))
	}
	t.Logf("the user module's tests: %v", status)
	failLog := logOf("TestHelperFails")
	for _, want := range []string{"straddle check: incompatible: ", "FAIL old at expand/0002_rename_name_to_full_name", "verdict: incompatible"} {
		assert.Assert(t, strings.Contains(failLog, want), "TestHelperFails output lacks %q:\n%s", want, failLog)
	}
	assert.Assert(t, !strings.Contains(failLog, "returned on an incompatible upgrade"), "harnesstest.Check did not stop the test")

	// The JSON reports: where the attr events say, in $STRADDLE_REPORT_DIR.
	for test, want := range map[string]string{"TestUpgradeIsSafe": "compatible", "TestHelperFails": "incompatible"} {
		path := attrs[test]
		assert.Equal(t, path, filepath.Join(reports, test+".json"), "%s: the straddle-report attr", test)
		data, err := os.ReadFile(path)
		assert.NilError(t, err)
		var rep struct{ Verdict string }
		assert.NilError(t, json.Unmarshal(data, &rep))
		assert.Equal(t, rep.Verdict, want, "%s: %s", test, path)
	}

	// Nothing left behind.
	entries, err := os.ReadDir(tmp)
	assert.NilError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), tmp) {
			left = append(left, "process "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	assert.Assert(t, len(left) == 0, "left behind in %s: %v", tmp, left)
}
