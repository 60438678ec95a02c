package workload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
)

// FuzzParse feeds query files to the parser. Whatever it accepts must render on
// every family it applies to, with as many bind parameters as arguments on mysql.
// Seeds: the repository's query files and examples/sqlc, plus testdata/fuzz.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"../../testdata/queries/*.sql", "../../testdata/queries/*/*.sql", "../../examples/sqlc/*/query/*.sql"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b), false)
			}
		}
	}
	f.Add("/* name: A :one */\nSELECT * FROM t WHERE a = ? AND b IN (/*SLICE:ids*/?);\n", true)
	f.Add("# name: B :many\n-- args: (1, 2), 'x'\nSELECT 1 WHERE 1 IN (sqlc.slice(ids)) AND @x::text <> '' AND a @> b;\n", false)
	f.Fuzz(func(t *testing.T, src string, mysql bool) {
		fam := engine.Family("")
		if mysql {
			fam = engine.MySQL
		}
		qs, err := ParseFamily("f.sql", []byte(src), fam)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.sql") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, q := range qs {
			for _, set := range q.Args {
				if len(set) != q.Params {
					t.Fatalf("query %s: %d args for %d params", q.Name, len(set), q.Params)
				}
			}
			for _, f := range []engine.Family{engine.Postgres, engine.MySQL} {
				if !q.Applies(f) {
					continue
				}
				_, order, err := q.For(f)
				if err != nil {
					t.Fatalf("query %s parsed but does not render on %s: %v", q.Name, f, err)
				}
				for _, k := range order {
					if k < 0 || k >= q.Params {
						t.Fatalf("query %s on %s binds argument %d of %d", q.Name, f, k, q.Params)
					}
				}
			}
		}
	})
}
