package workload

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/plan"
)

const queriesDir = "../../testdata/queries"

// located lists "file:line name" for each query.
func located(qs []Query) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.File+":"+strconv.Itoa(q.Line)+" "+q.Name)
	}
	return out
}

func TestLoad(t *testing.T) {
	empty := t.TempDir()
	noQueries := filepath.Join(t.TempDir(), "none.sql")
	if err := os.WriteFile(noQueries, []byte("-- nothing here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     string
		want    []string
		wantErr string
		reason  string
	}{
		{"file", queriesDir + "/users.sql", []string{queriesDir + "/users.sql:3 GetUser", queriesDir + "/users.sql:7 CreateUser", queriesDir + "/users.sql:11 ListActive"}, "", "a query file"},
		{"directory", queriesDir + "/dir", []string{queriesDir + "/dir/01_read.sql:1 CountUsers", queriesDir + "/dir/02_write.sql:1 RenameUser"}, "", "*.sql files in name order, others ignored"},
		{"duplicate across files", queriesDir + "/dup", nil, queriesDir + "/dup/b.sql:4: query GetUser is already defined at " + queriesDir + "/dup/a.sql:1; query names must be unique in a workload", "names are unique in a workload"},
		{"missing", queriesDir + "/nope.sql", nil, queriesDir + "/nope.sql: no such file or directory", "a missing source is bad input"},
		{"empty directory", empty, nil, empty + ": no *.sql query files, sqlc-generated *.go files or sqlc config in the directory", "a directory needs query files"},
		{"no queries", noQueries, nil, noQueries + ": no queries; start each query with -- name: NAME [:cmd]", "a workload needs queries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(context.Background(), tt.src, "")
			checkLoad(t, got, err, tt.want, tt.wantErr, tt.reason)
		})
	}
}

func checkLoad(t *testing.T, got []Query, err error, want []string, wantErr, reason string) {
	t.Helper()
	if wantErr != "" {
		if err == nil {
			t.Fatalf("Load succeeded, want error %q (%s)", wantErr, reason)
		}
		if !errors.Is(err, plan.ErrBadInput) {
			t.Errorf("error %v does not wrap plan.ErrBadInput", err)
		}
		if diff := cmp.Diff(wantErr, err.Error()); diff != "" {
			t.Errorf("error mismatch (-want +got) (%s):\n%s", reason, diff)
		}
		return
	}
	if err != nil {
		t.Fatalf("Load: %v (%s)", err, reason)
	}
	if diff := cmp.Diff(want, located(got)); diff != "" {
		t.Errorf("queries mismatch (-want +got) (%s):\n%s", reason, diff)
	}
}

func TestLoadGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	gitT := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitT("init", "-q")
	write("queries/a.sql", "-- name: GetUser :one\n-- args: 1\nSELECT name FROM users WHERE id = $1;\n")
	write("queries/b.sql", "\n-- name: ListUsers :many\nSELECT name FROM users;\n")
	write("queries/notes.txt", "not queries\n")
	write("queries/sub/c.sql", "-- name: Nested\nSELECT 1;\n")
	write("bad/x.sql", "-- name: Bad :first\nSELECT 1;\n")
	write("globbed/sqlc.yaml", "version: \"2\"\nsql:\n  - engine: postgresql\n    schema: schema.sql\n    queries: \"mods/*/queries.sql\"\n    gen: {go: {package: db, out: db}}\n")
	write("globbed/mods/users/queries.sql", "-- name: GetUserGlob :one\nSELECT 1;\n")
	write("globbed/mods/teams/queries.sql", "-- name: GetTeamGlob :one\nSELECT 2;\n")
	write("globbed/mods/teams/other.sql", "-- name: NotMatched :one\nSELECT 3;\n")
	gitT("add", ".")
	gitT("commit", "-q", "-m", "v1")
	gitT("tag", "v1")
	write("queries/a.sql", "-- name: GetUserV2 :one\n-- args: 1\nSELECT full_name FROM users WHERE id = $1;\n")
	gitT("rm", "-q", "queries/b.sql")
	gitT("commit", "-q", "-am", "v2")

	sub := filepath.Join(repo, "queries")
	tests := []struct {
		name    string
		src     string
		dir     string
		want    []string
		wantErr string
		reason  string
	}{
		{"directory at tag", "git:v1:queries", repo, []string{"git:v1:queries/a.sql:1 GetUser", "git:v1:queries/b.sql:2 ListUsers"}, "", "the old release's queries without a second checkout; not recursive"},
		{"directory at HEAD", "git:HEAD:queries/", repo, []string{"git:HEAD:queries/a.sql:1 GetUserV2"}, "", "a trailing slash is fine"},
		{"file at relative revision", "git:HEAD~1:queries/a.sql", repo, []string{"git:HEAD~1:queries/a.sql:1 GetUser"}, "", "a single file"},
		{"path relative to dir", "git:v1:a.sql", sub, []string{"git:v1:a.sql:1 GetUser"}, "", "PATH is relative to repoDir, like a command-line path"},
		{"sqlc config with a pattern", "git:v1:globbed/sqlc.yaml", repo, []string{"git:v1:globbed/mods/teams/queries.sql:1 GetTeamGlob", "git:v1:globbed/mods/users/queries.sql:1 GetUserGlob"}, "",
			"queries: mods/*/queries.sql is expanded as sqlc expands it (goalert's swo/*/queries.sql), at the revision"},
		{"sqlc config with a pattern on disk", filepath.Join(repo, "globbed", "sqlc.yaml"), repo, []string{filepath.Join(repo, "globbed/mods/teams/queries.sql") + ":1 GetTeamGlob", filepath.Join(repo, "globbed/mods/users/queries.sql") + ":1 GetUserGlob"}, "",
			"and on disk"},
		{"unknown revision", "git:v9:queries", repo, nil, `git:v9:queries: unknown git revision "v9"`, "the error names the revision"},
		{"missing path", "git:v1:nope", repo, nil, "git:v1:nope: nope does not exist at revision v1", "the error names the path"},
		{"deleted file", "git:HEAD:queries/b.sql", repo, nil, "git:HEAD:queries/b.sql: queries/b.sql does not exist at revision HEAD", "files deleted since"},
		{"parse error carries the git name", "git:v1:bad", repo, nil, `git:v1:bad/x.sql:1: query Bad: unknown command ":first" (want :one, :many, :exec, :execrows, :execresult, :execlastid, :batchexec, :batchone, :batchmany or :copyfrom, or none)`, "file:line points into the revision"},
		{"malformed", "git:v1", repo, nil, "git:v1: want git:REV:PATH, e.g. git:v1.2.0:queries/", "REV and PATH are both needed"},
		{"not a repository", "git:v1:queries", t.TempDir(), nil, "", "outside a repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(context.Background(), tt.src, tt.dir)
			if tt.name == "not a repository" {
				if err == nil || !errors.Is(err, plan.ErrBadInput) || !strings.Contains(err.Error(), "is not in a git repository") {
					t.Fatalf("Load outside a repository = %v, want a bad-input error saying so", err)
				}
				return
			}
			checkLoad(t, got, err, tt.want, tt.wantErr, tt.reason)
		})
	}
}
