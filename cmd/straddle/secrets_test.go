package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/local"
)

// TestSecretsNeverLeave runs failing checks through --provider dsn as users whose
// passwords are short ("pw"), long, and full of URL-special characters, with
// release and migration commands that print their whole environment
// (DATABASE_URL, PGPASSWORD) and fail, and greps every report format, stdout and
// stderr for each password as a whole value: it must appear nowhere.
func TestSecretsNeverLeave(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a database server")
	}
	bin := filepath.Join(t.TempDir(), "straddle")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	assert.NilError(t, build.Run())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p := local.New(local.Config{})
	if err := p.Available(ctx, engine.Spec{Flavor: engine.FlavorPostgres}); err != nil {
		t.Skipf("no local PostgreSQL: %v", err)
	}
	srv, err := p.Start(ctx, engine.Spec{Flavor: engine.FlavorPostgres})
	assert.NilError(t, err)
	t.Cleanup(func() { srv.Stop(context.Background()) })
	db, err := srv.CreateDatabase(ctx)
	assert.NilError(t, err)
	u, err := url.Parse(db.DSN())
	assert.NilError(t, err)
	host := u.Host
	assert.NilError(t, db.Drop(ctx))
	admin := srv.(interface{ Admin() *sql.DB }).Admin()

	proj := t.TempDir()
	for name, body := range map[string]string{
		"m/0001_base.sql": "-- straddle:phase baseline\nCREATE TABLE t (id INT);\n",
		"m/0002_add.sql":  "-- straddle:phase expand\nALTER TABLE t ADD COLUMN n INT;\n",
		"q.sql":           "-- name: Count :one\nSELECT count(*) FROM t;\n",
	} {
		path := filepath.Join(proj, name)
		assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		assert.NilError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	// Commands that print every secret they were handed, then fail.
	const leak = `env; echo "url=$DATABASE_URL secret=$PGPASSWORD"; echo "$PGPASSWORD" >&2; exit 1`

	passwords := map[string]string{
		"short":   "pw",
		"long":    "Lo9gSecret0123456789abcdefGHIJ",
		"special": `p@ss/w:rd?#&=%+ 'x`,
	}
	for kind, pw := range passwords {
		t.Run(kind, func(t *testing.T) {
			role := "straddle_sec_" + kind
			_, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE ROLE %s LOGIN SUPERUSER PASSWORD '%s'`, role, strings.ReplaceAll(pw, "'", "''")))
			assert.NilError(t, err)
			t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP ROLE IF EXISTS "+role) })
			dsn := (&url.URL{Scheme: "postgres", User: url.UserPassword(role, pw), Host: host, Path: "/postgres", RawQuery: "sslmode=disable"}).String()
			whole := regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(pw) + `($|[^A-Za-z0-9_])`)
			forms := []string{pw, url.QueryEscape(pw), url.PathEscape(pw), dsn}
			runs := map[string][]string{
				"old-cmd":     {"--old-cmd", leak, "--new", filepath.Join(proj, "q.sql")},
				"migrate-cmd": {"--migrate-cmd", leak, "--old", filepath.Join(proj, "q.sql"), "--new", filepath.Join(proj, "q.sql")},
			}
			checked := 0
			for name, extra := range runs {
				for _, format := range []string{"text", "json", "junit", "markdown"} {
					out := filepath.Join(t.TempDir(), "report."+format)
					args := append([]string{"check", "--provider", "dsn", "--dsn", dsn, "--engine", "postgres",
						"--migrations", filepath.Join(proj, "m"), "--format", format, "--out", out}, extra...)
					cmd := exec.CommandContext(ctx, bin, args...)
					var stdout, stderr strings.Builder
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err := cmd.Run()
					ee, ok := err.(*exec.ExitError)
					// A failing run: exit 1, or 2 where the old release's command
					// fails on its own baseline (a workload error); either way the
					// report is written, with the command's output in it.
					assert.Assert(t, ok && (ee.ExitCode() == 1 || ee.ExitCode() == 2), "%s %s: want a failing run (exit 1 or 2), got %v\n%s", name, format, err, stderr.String())
					report, err := os.ReadFile(out)
					assert.NilError(t, err)
					assert.Assert(t, strings.Contains(string(report), "xxxxx"), "%s %s: the report kept no redacted output, so this test proves nothing:\n%s", name, format, report)
					for where, text := range map[string]string{"report": string(report), "stdout": stdout.String(), "stderr": stderr.String()} {
						if loc := whole.FindStringIndex(text); loc != nil {
							t.Errorf("%s %s: %s holds the %s password %q: …%s…", name, format, where, kind, pw, text[max(0, loc[0]-40):min(len(text), loc[1]+40)])
						}
						for _, f := range forms[1:] {
							if len(f) > 3 && strings.Contains(text, f) {
								t.Errorf("%s %s: %s holds %q", name, format, where, f)
							}
						}
						checked++
					}
				}
			}
			t.Logf("%s password: %d outputs checked (4 formats × report, stdout, stderr × 2 commands), none holds it", kind, checked)
		})
	}
}
