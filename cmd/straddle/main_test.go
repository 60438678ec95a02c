package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/straddle-dev/straddle/internal/cli"
)

// TestMain makes the test binary double as the straddle command (and as "exits",
// which checks a command's exit code) for the scripts.
func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"straddle": cli.Main,
		"exits":    exits,
	}))
}

// TestScripts runs the command end to end: testdata/script/*.txtar, on real
// servers from $STRADDLE_PROVIDER (auto by default: docker, else local binaries).
// Scripts that start servers skip themselves with -short.
func TestScripts(t *testing.T) {
	projects, err := filepath.Abs("../../examples/projects")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PROJECTS", projects)
			// Which servers to use and how: the test's environment decides.
			for _, kv := range os.Environ() {
				k, v, _ := strings.Cut(kv, "=")
				if strings.HasPrefix(k, "STRADDLE_") || strings.HasPrefix(k, "TESTCONTAINERS_") || k == "DOCKER_HOST" {
					env.Setenv(k, v)
				}
			}
			// The local provider caches initialized data directories per user, and
			// its servers (which run as an unprivileged user when the tests run as
			// root) cannot reach the script's private $WORK/.tmp.
			if dir, err := os.UserCacheDir(); err == nil {
				env.Setenv("XDG_CACHE_HOME", dir)
			}
			env.Setenv("TMPDIR", os.TempDir())
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonq": jsonq,
		},
	})
}

// exits N PROG [ARG...] runs PROG and succeeds when it exits with status N
// (testscript's exec only tells zero from non-zero; straddle's exit codes mean
// different things).
func exits() int {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: exits N PROG [ARG...]")
		return 2
	}
	want, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "exits: N must be a number")
		return 2
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	got := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			fmt.Fprintln(os.Stderr, "exits:", err)
			return 2
		}
		got = ee.ExitCode()
	}
	if got != want {
		fmt.Fprintf(os.Stderr, "exits: %s exited with status %d, want %d\n", os.Args[2], got, want)
		return 1
	}
	return 0
}

// jsonq FILE PATH=VALUE|PATH~REGEXP... checks fields of a JSON document the way a
// CI script reads the report: PATH is dot-separated keys and array indexes
// (runs.0.boundaries.1.step; "@len" is the length of the array or object before
// it: violations.@len), VALUE is compared with the field rendered as text
// (strings unquoted, objects and arrays as JSON, "<absent>" for a missing field),
// REGEXP is matched against that text.
func jsonq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: jsonq FILE PATH=VALUE|PATH~REGEXP...")
	}
	var doc any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc); err != nil {
		ts.Fatalf("%s: not JSON: %v", args[0], err)
	}
	var failed []string
	for _, a := range args[1:] {
		i := strings.IndexAny(a, "=~")
		if i < 0 {
			ts.Fatalf("jsonq: %q: want PATH=VALUE or PATH~REGEXP", a)
		}
		path, op, want := a[:i], a[i], a[i+1:]
		got := lookup(doc, path)
		ok := got == want
		if op == '~' {
			ok = regexp.MustCompile(want).MatchString(got)
		}
		if !ok {
			failed = append(failed, fmt.Sprintf("%s = %q, want %c%q", path, got, op, want))
		}
	}
	switch {
	case neg && len(failed) == 0:
		ts.Fatalf("jsonq: every field matched")
	case !neg && len(failed) > 0:
		ts.Fatalf("jsonq %s:\n\t%s", args[0], strings.Join(failed, "\n\t"))
	}
}

func lookup(v any, path string) string {
	for _, k := range strings.Split(path, ".") {
		if k == "@len" { // the length of an array or object
			switch x := v.(type) {
			case []any:
				v = float64(len(x))
			case map[string]any:
				v = float64(len(x))
			default:
				return "<absent>"
			}
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return "<absent>"
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return "<absent>"
			}
			v = x[i]
		default:
			return "<absent>"
		}
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
