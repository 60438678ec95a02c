package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Inputs are checked before any server starts: these cases must fail fast, with
// exit 2 and a message naming the flag or the file.
func TestCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	migs := filepath.Dir(write("migrations/0001_create_users.up.sql", "-- straddle:phase baseline\nCREATE TABLE users (id BIGINT);\n"))
	bad := filepath.Dir(write("bad/0001_x.up.sql", "CREATE TABLE t (s VARCHAR(10) DEFAULT 'open);\n"))
	q := write("q.sql", "-- name: GetUser :one\n-- args: 1\nSELECT id FROM users WHERE id = $1;\n")
	badq := write("badq.sql", "-- name: GetUser :one\n-- args: nope\nSELECT id FROM users WHERE id = $1;\n")
	write("noreason/0001_create_users.up.sql", "-- straddle:phase baseline\nCREATE TABLE users (id BIGINT, x INT);\n")
	noreason := filepath.Dir(write("noreason/0002_drop_x.up.sql", "-- straddle:phase expand\n-- straddle:allow drop-in-expand\nALTER TABLE users DROP COLUMN x;\n"))

	cases := []struct {
		name   string
		args   []string
		want   string
		reason string
	}{
		{"no migrations", []string{"--old", q, "--new", q}, "--migrations DIR is required", "the directory is the point of the check"},
		{"no old", []string{"--migrations", migs, "--new", q}, "the old release needs --old SRC", "each release needs a workload"},
		{"both new", []string{"--migrations", migs, "--old", q, "--new", q, "--new-cmd", "true"}, "either --new or --new-cmd", "a release has one workload"},
		{"positional", []string{"--migrations", migs, "--old", q, "--new", q, "x"}, `unexpected argument "x"`, "every input is a flag"},
		{"passes", []string{"--migrations", migs, "--old", q, "--new", q, "--passes", "0"}, "--passes 0", "a release must run"},
		{"report format", []string{"--migrations", migs, "--old", q, "--new", q, "--format", "html"}, `--format "html"`, "checked before any work"},
		{"migration format", []string{"--migrations", migs, "--old", q, "--new", q, "--format-migrations", "alembic"}, `unknown migration format "alembic"`, "ParseFormat lists the names"},
		{"missing dir", []string{"--migrations", filepath.Join(dir, "nosuch"), "--old", q, "--new", q}, "nosuch: cannot read the migrations directory", "names the directory"},
		{"unterminated quote", []string{"--migrations", bad, "--old", q, "--new", q}, "0001_x.up.sql:1: ", "file:line of the statement"},
		{"bad query file", []string{"--migrations", migs, "--old", badq, "--new", q}, "--old: " + badq + ":2: ", "file:line of the args line"},
		{"missing query file", []string{"--migrations", migs, "--old", q, "--new", filepath.Join(dir, "nosuch.sql")}, "--new: ", "names the release"},
		{"out dir", []string{"--migrations", migs, "--old", q, "--new", q, "--out", filepath.Join(dir, "nosuch", "r.json")}, "does not exist", "fails before servers start"},
		{"engine", []string{"--migrations", migs, "--old", q, "--new", q, "--engine", "oracle"}, "--engine", "specs are parsed at the edge"},
		{"provider", []string{"--migrations", migs, "--old", q, "--new", q, "--provider", "cloud"}, `--provider "cloud"`, "providers are a fixed list"},
		{"rules mode", []string{"--migrations", migs, "--old", q, "--new", q, "--rules", "strict"}, `--rules "strict": want one of off, warn, error`, "modes are a fixed list"},
		{"exception without reason", []string{"--migrations", noreason, "--old", q, "--new", q}, "0002_drop_x.up.sql:2: -- straddle:allow drop-in-expand has no reason", "file:line of the exception, before servers start"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"check", "--provider", "local"}, tc.args...), &stdout, &stderr)
			if got := ExitCode(err); got != ExitUsage {
				t.Fatalf("exit %d (%v), want %d: %s", got, err, ExitUsage, tc.reason)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q (%s)", err, tc.want, tc.reason)
			}
		})
	}
}
