package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// exampleDir is the sqlc example project: one schema change (add a column, then
// drop the column only the old release reads), and each release as sqlc users
// keep it — query files, sqlc.yaml, and the Go code sqlc generated from them.
const exampleDir = "../../examples/sqlc"

// TestSQLCExample checks the example project from each of its three sources on
// real servers.
func TestSQLCExample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	tests := []struct {
		name   string
		src    string // per release, under old/ and new/
		engine string
		want   int
		reason string
	}{
		{"generated code on postgres", "db/{family}", "postgres", ExitCompatible, "sqlc expanded SELECT * into the columns each release names: the new release never reads bio, the old one breaks only at the contract step"},
		{"generated code on mariadb", "db/{family}", "mariadb", ExitCompatible, "the same on MariaDB"},
		{"query files on postgres", "query/{family}.sql", "postgres", ExitIncompatible, "sent literally, SELECT * meets PostgreSQL's 0A000 on a long-lived prepared statement when a column is added: right for an application that sends *"},
		{"query files on mariadb", "query/{family}.sql", "mariadb", ExitIncompatible, "MariaDB re-prepares after a schema change, but SELECT * sent literally returns one column fewer once contract drops bio: a result-columns violation for the new release, which a client reading * positionally trips over"},
		{"sqlc.yaml on postgres", "sqlc.yaml", "postgres", ExitCompatible, "the config's queries are compiled as sqlc compiles them: * becomes the column list of the release's own schema, as in the generated code"},
		{"sqlc.yaml on mariadb", "sqlc.yaml", "mariadb", ExitCompatible, "as the query files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"check", "--provider", "local", "--engine", tt.engine,
				"--migrations", filepath.Join(exampleDir, "migrations"),
				"--old", filepath.Join(exampleDir, "old", tt.src), "--new", filepath.Join(exampleDir, "new", tt.src)}
			err := Run(context.Background(), args, &stdout, &stderr)
			if got := ExitCode(err); got != tt.want {
				t.Errorf("exit %d, want %d (%s); err %v\n%s%s", got, tt.want, tt.reason, err, stdout.String(), stderr.String())
			}
		})
	}
}

// TestSQLCExampleGenerated regenerates the example's Go code with the real sqlc
// (on PATH, or $STRADDLE_SQLC) and compares it with the committed copy.
func TestSQLCExampleGenerated(t *testing.T) {
	sqlc := os.Getenv("STRADDLE_SQLC")
	if sqlc == "" {
		var err error
		if sqlc, err = exec.LookPath("sqlc"); err != nil {
			t.Skip("sqlc is not installed (go install github.com/sqlc-dev/sqlc/cmd/sqlc@latest)")
		}
	}
	for _, rel := range []string{"old", "new"} {
		src := filepath.Join(exampleDir, rel)
		tmp := t.TempDir()
		for _, f := range []string{"sqlc.yaml", "schema.sql", "query/postgres.sql", "query/mysql.sql"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(tmp, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(sqlc, "generate")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sqlc generate in %s: %v\n%s", rel, err, out)
		}
		for _, fam := range []string{"postgres", "mysql"} {
			dir := filepath.Join("db", fam)
			entries, err := os.ReadDir(filepath.Join(tmp, dir))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				got, _ := os.ReadFile(filepath.Join(tmp, dir, e.Name()))
				want, err := os.ReadFile(filepath.Join(src, dir, e.Name()))
				if err != nil {
					t.Errorf("%s/%s/%s: sqlc generates it but it is not committed", rel, dir, e.Name())
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s/%s differs from what sqlc generates; regenerate with sqlc generate in %s\n--- generated:\n%s", rel, dir, e.Name(), src, clipText(string(got)))
				}
			}
		}
	}
}

func clipText(s string) string {
	if lines := strings.SplitN(s, "\n", 30); len(lines) == 30 {
		return strings.Join(lines[:29], "\n") + "\n…"
	}
	return s
}
