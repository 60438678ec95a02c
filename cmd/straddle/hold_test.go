package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// holdProject renames a column in expand: the old release's GetUser breaks there.
var holdProject = map[string]string{
	"migrations/0001_users.sql":  "-- straddle:phase baseline\nCREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL);\nINSERT INTO users (id, name) VALUES (1, 'ada');\n",
	"migrations/0002_rename.sql": "-- straddle:phase expand\nALTER TABLE users RENAME COLUMN name TO full_name;\n",
	"migrations/0003_email.sql":  "-- straddle:phase expand\nALTER TABLE users ADD COLUMN email VARCHAR(200);\n",
	"old.sql":                    "-- name: GetUser :one\n-- args: 1\nSELECT id, name FROM users WHERE id = $1;\n",
	"new.sql":                    "-- name: GetUser :one\n-- args: 1\nSELECT id, full_name FROM users WHERE id = $1;\n",
}

// TestStopAtHolds runs `straddle check --stop-at expand/0002_rename --dump-schema`
// and then `straddle repro` on the JSON report it wrote, on PostgreSQL and MariaDB
// (local provider) and PostgreSQL in docker. Each holds the state after the
// rename: the printed command line connects (the test runs it) and sees the
// renamed column and not the column added by the next step; the printed failing
// query, pasted, fails as the run saw; no password reaches the terminal; Ctrl-C
// then exits with the verdict (1) and leaves no container, process, temp dir or
// scratch database.
func TestStopAtHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts database servers")
	}
	bin := buildStraddle(t)
	proj := writeTree(t, holdProject)
	for _, c := range []struct{ provider, engine string }{
		{"local", "postgres"}, {"local", "mariadb"}, {"docker", "postgres"},
	} {
		t.Run(c.provider+"/"+c.engine, func(t *testing.T) {
			tmp, err := os.MkdirTemp("", "hold-test-")
			assert.NilError(t, err)
			assert.NilError(t, os.Chmod(tmp, 0o755))
			t.Cleanup(func() { os.RemoveAll(tmp) })
			out := t.TempDir() // the report and the dumps, outside tmp
			report := filepath.Join(out, "report.json")
			dumps := filepath.Join(out, "dumps")

			args := []string{"check", "--provider", c.provider, "--engine", c.engine,
				"--migrations", "migrations", "--old", "old.sql", "--new", "new.sql",
				"--stop-at", "expand/0002_rename", "--dump-schema", dumps,
				"--format", "json", "--out", report}
			hold(t, bin, proj, tmp, c.engine, args)

			// The dumps: one file per boundary reached, the renamed column in the
			// state after the rename, none for the step after it.
			files, _ := filepath.Glob(filepath.Join(dumps, "*", "*.sql"))
			assert.Equal(t, len(files), 2, "dumps: %v", files)
			after, err := os.ReadFile(files[1])
			assert.NilError(t, err)
			assert.Assert(t, strings.Contains(filepath.Base(files[1]), "01_expand_0002_rename"), files[1])
			assert.Assert(t, strings.Contains(string(after), "full_name") && !strings.Contains(string(after), "email"), "%s", after)

			// The report records the check without where its output went.
			b, err := os.ReadFile(report)
			assert.NilError(t, err)
			assert.Assert(t, strings.Contains(string(b), `"command": "check"`) && !strings.Contains(string(b), "--dump-schema"), "%s", b)

			// repro from the report reaches the same state.
			hold(t, bin, proj, tmp, c.engine, []string{"repro", report, "--provider", c.provider})
		})
	}
}

// hold runs a straddle command that holds a state after the rename, checks it as
// TestStopAtHolds says, interrupts it and checks that nothing is left.
func hold(t *testing.T, bin, proj, tmp, eng string, args []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = proj
	cmd.Env = runEnv(tmp)
	stderr, err := cmd.StderrPipe()
	assert.NilError(t, err)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	cmd.WaitDelay = 10 * time.Second
	assert.NilError(t, cmd.Start())
	pid := cmd.Process.Pid

	// Read stderr up to the hold's last line.
	var said strings.Builder
	lines := bufio.NewScanner(stderr)
	held := false
	for lines.Scan() {
		said.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "press Ctrl-C") {
			held = true
			break
		}
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stderr); rest <- string(b) }()
	if !held {
		_ = cmd.Wait()
		t.Fatalf("no hold:\n%s%s\n%s", said.String(), <-rest, stdout.String())
	}
	text := said.String()
	assert.Assert(t, strings.Contains(text, "holding "+eng) && strings.Contains(text, "at expand/0002_rename"), text)
	assert.Assert(t, !strings.Contains(text, "postgres://") && !strings.Contains(text, "mysql://") && !strings.Contains(text, "password"), "a secret on the terminal:\n%s", text)

	var connect, failing string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "connect:"):
			connect = strings.TrimSpace(strings.TrimPrefix(l, "connect:"))
		case strings.HasPrefix(l, "SELECT id, name FROM users"):
			failing = l
		}
	}
	assert.Assert(t, connect != "" && failing == "SELECT id, name FROM users WHERE id = 1;", "connect %q, failing query %q in:\n%s", connect, failing, text)
	// The files that carry the password are the user's alone.
	for _, f := range strings.Fields(connect) {
		if i := strings.Index(f, "/"); i >= 0 && strings.Contains(f, "straddle-hold-") {
			p := strings.Trim(f[i:], "'")
			fi, err := os.Stat(p)
			assert.NilError(t, err)
			assert.Equal(t, fi.Mode().Perm(), os.FileMode(0o600), p)
		}
	}

	// The printed command connects, and the schema is the one after the rename.
	columns := "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users' ORDER BY 1"
	flagsFor := map[string][]string{"postgres": {"-X", "-At", "-c"}, "mariadb": {"-N", "-B", "-e"}}
	if eng == "mariadb" {
		columns = strings.Replace(columns, "current_schema()", "DATABASE()", 1)
	}
	run := func(sql string) (string, error) {
		f := flagsFor[eng]
		line := connect + " " + strings.Join(f[:len(f)-1], " ") + " " + f[len(f)-1] + " \"$0\""
		b, err := exec.CommandContext(ctx, "sh", "-c", line, sql).CombinedOutput()
		return strings.TrimSpace(string(b)), err
	}
	got, err := run(columns)
	assert.NilError(t, err, got)
	assert.Equal(t, strings.Join(strings.Fields(got), ","), "full_name,id")
	got, err = run(failing)
	assert.Assert(t, err != nil && strings.Contains(got, "name"), "the pasted failing query: %v %s", err, got)

	// Ctrl-C: the run ends at the held state with its verdict and removes
	// everything.
	assert.NilError(t, cmd.Process.Signal(syscall.SIGINT))
	err = cmd.Wait()
	var ee *exec.ExitError
	assert.Assert(t, errors.As(err, &ee) && ee.ExitCode() == 1, "exit after releasing the hold: %v\n%s%s\n%s", err, text, <-rest, stdout.String())
	var left []string
	for range 50 {
		if left = leftovers(t, pid, tmp, nil); len(left) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Assert(t, len(left) == 0, "left behind:\n%s", strings.Join(left, "\n"))
}
