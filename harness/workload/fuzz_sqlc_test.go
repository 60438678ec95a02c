package workload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// loadTwice loads src twice and fails unless both loads agree: reading a
// workload is deterministic.
func loadTwice(t *testing.T, src string) ([]Query, error) {
	t.Helper()
	qs, err := Load(context.Background(), src, "")
	qs2, err2 := Load(context.Background(), src, "")
	if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
		t.Fatalf("Load is not deterministic: %v, then %v", err, err2)
	}
	if !reflect.DeepEqual(qs, qs2) {
		t.Fatalf("Load is not deterministic: %d queries, then %d", len(qs), len(qs2))
	}
	return qs, err
}

// badInputIn checks that err is bad input naming a file (file:line: or file:),
// at a line of file when it names file itself. Errors of the file system
// outside the test's directory (a config may name any path) are let through.
func badInputIn(t *testing.T, err error, file string, lines int) {
	t.Helper()
	if strings.HasPrefix(err.Error(), "read queries: ") && !errors.Is(err, plan.ErrBadInput) {
		return
	}
	var ie *plan.InputError
	if !errors.As(err, &ie) || !errors.Is(err, plan.ErrBadInput) {
		t.Fatalf("error %v is no input error", err)
	}
	if ie.File == "" || !strings.HasPrefix(err.Error(), ie.File) {
		t.Fatalf("error %q does not start with the file it is about", err)
	}
	if ie.File == file && (ie.Line < 0 || ie.Line > lines) {
		t.Fatalf("error %q at line %d of %s's %d lines", err, ie.Line, file, lines)
	}
}

// FuzzLoadSqlcConfig feeds sqlc configs (sqlc.yaml or sqlc.json, versions 1 and
// 2) with a query file beside them to Load: errors are bad input at a file
// (and a line of the config when it is about the config), loading is
// deterministic, and every query read through a config is compiled for the
// family of its package's engine. Seeds: examples/sqlc's configs and queries.
func FuzzLoadSqlcConfig(f *testing.F) {
	q, _ := os.ReadFile("../../examples/sqlc/old/query/postgres.sql")
	for _, p := range []string{"../../examples/sqlc/old/sqlc.yaml", "../../examples/sqlc/new/sqlc.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(strings.ReplaceAll(string(b), "query/mysql.sql", "query/postgres.sql"), string(q), false)
		}
	}
	for _, s := range [][2]string{
		{"version: \"1\"\npackages:\n  - engine: mysql\n    queries: [query/]\n", "-- name: A :one\nSELECT 1 WHERE 1 = ?;\n"},
		{"version: 2\nsql:\n  - engine: postgresql\n    queries: query\n", "-- name: B :exec\nUPDATE t SET a = sqlc.arg(a) WHERE id = @id;\n"},
		{"version: \"3\"\n", ""},
		{"version: \"2\"\nsql:\n  - engine: sqlite\n    queries: q.sql\n", ""},
		{"version: \"2\"\nsql: {}\n", ""},
		{"\t- x", ""},
	} {
		f.Add(s[0], s[1], false)
	}
	f.Add(`{"version":"2","sql":[{"engine":"postgresql","queries":["query/postgres.sql"]}]}`, string(q), true)
	f.Add("{\n\"version\": 2\n}", "", true)
	f.Fuzz(func(t *testing.T, config, query string, asJSON bool) {
		dir := t.TempDir()
		name := "sqlc.yaml"
		if asJSON {
			name = "sqlc.json"
		}
		cfg := filepath.Join(dir, name)
		files := map[string]string{cfg: config, filepath.Join(dir, "query", "postgres.sql"): query, filepath.Join(dir, "q.sql"): query}
		for p, text := range files {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		qs, err := loadTwice(t, cfg)
		if err != nil {
			badInputIn(t, err, cfg, strings.Count(config, "\n")+1)
			return
		}
		for _, q := range qs {
			if q.Name == "" || !q.Compiled || (q.Family != engine.Postgres && q.Family != engine.MySQL) {
				t.Fatalf("query %q (%s:%d): read through a config, it must be compiled for one family: compiled=%v family=%q", q.Name, q.File, q.Line, q.Compiled, q.Family)
			}
		}
	})
}

// FuzzLoadGoCode feeds sqlc-generated Go code to Load: errors are bad input at
// a line of the file, loading is deterministic, and every query is named, at a
// line of the file, for a family the code implies or for both.
// Seeds: examples/sqlc's generated code.
func FuzzLoadGoCode(f *testing.F) {
	for _, glob := range []string{"../../examples/sqlc/*/db/*/*.go"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	for _, s := range []string{
		"package db\n\nconst getUser = `-- name: GetUser :one\nSELECT id FROM users WHERE id = $1\n`\n",
		"package db\n\nconst q = \"-- name: Q :exec\\nUPDATE t SET a = ? WHERE id = ?\"\n",
		"package db\n\nconst (\n\ta = `-- name: A :many\nSELECT 1`\n\tb = a\n)\n",
		"package db\nfunc (q *Queries) CopyFrom(ctx context.Context) { q.db.CopyFrom(ctx, []string{\"t\"}, []string{\"a\", \"b\"}, nil) }\n",
		"package db\n\nconst x = `-- name: ",
		"package",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p := filepath.Join(t.TempDir(), "query.sql.go")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(src, "\n") + 1
		qs, err := loadTwice(t, p)
		if err != nil {
			badInputIn(t, err, p, lines)
			return
		}
		for _, q := range qs {
			if q.Name == "" || q.File != p || q.Line < 1 || q.Line > lines {
				t.Fatalf("query %q at %s:%d of a file of %d lines", q.Name, q.File, q.Line, lines)
			}
			if q.Family != "" && q.Family != engine.Postgres && q.Family != engine.MySQL {
				t.Fatalf("query %s: family %q", q.Name, q.Family)
			}
		}
	})
}
