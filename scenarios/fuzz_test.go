package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/straddle-dev/straddle/harness/plan"
)

// FuzzLint: Lint reads any script without panicking, reports only bad input
// (each error a file:line of the script), and writes nothing next to the script:
// archive members stay inside its own temp dir.
func FuzzLint(f *testing.F) {
	for _, s := range []string{
		"# a scenario\nengine\nsql 'SELECT 1'\n-- q.sql --\n-- name: One :one\nSELECT 1;\n",
		"step expand m.sql\n-- m.sql --\nALTER TABLE t ADD COLUMN x INT;\n",
		"-- --\n",
		"--  --\nx\n",
		"-- ../x --\ny\n",
		"-- /abs --\ny\n",
		"[cap:transactional-ddl] sql 'SELECT 1'\n! sql 'SELECT nosuch'\n",
	} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("cookbook/*.txtar")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	outside := filepath.Join(dir, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "a", "b"), 0o755); err != nil {
		f.Fatal(err)
	}
	script := filepath.Join(outside, "a", "b", "s.txtar")
	f.Fuzz(func(t *testing.T, src []byte) {
		if err := os.WriteFile(script, src, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, err := range Lint(script) {
			var ie *plan.InputError
			if !errors.As(err, &ie) || ie.File != script {
				t.Fatalf("lint error %v is no input error in the script", err)
			}
		}
		entries, _ := os.ReadDir(outside)
		if len(entries) != 1 {
			t.Fatalf("lint wrote next to the script: %v", entries)
		}
		sub, _ := os.ReadDir(filepath.Join(outside, "a", "b"))
		if len(sub) != 1 {
			t.Fatalf("lint wrote next to the script: %v", sub)
		}
	})
}
