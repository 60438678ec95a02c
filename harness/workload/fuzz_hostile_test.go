package workload

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// FuzzParseInputErrors: a query file of any content parses or is bad input at file:line,
// never a panic; every query it returns renders for both families or says why not.
func FuzzParseInputErrors(f *testing.F) {
	for _, s := range []string{
		"-- name: GetUser :one\n-- args: 1\nSELECT id FROM users WHERE id = $1;\n",
		"-- name: Create :exec\n-- args: 'u{{n}}', NULL, true\nINSERT INTO u VALUES ($1, $2, $3);\n",
		"-- name: L :many\n-- engine: postgres\n-- expect: rows>=1\nSELECT 1;\n",
		"-- name: X\nSELECT $2, $1, $2;\n",
		"-- name: \n",
		"-- args: 'unterminated\n",
	} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("../../examples/projects/*/*.sql")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		qs, err := Parse("q.sql", src)
		if err != nil {
			var ie *plan.InputError
			if !errors.As(err, &ie) || ie.File != "q.sql" {
				t.Fatalf("error %v is no input error in the file", err)
			}
			return
		}
		for _, q := range qs {
			for _, fam := range []engine.Family{engine.Postgres, engine.MySQL} {
				_, _, _ = q.For(fam)
			}
		}
	})
}
