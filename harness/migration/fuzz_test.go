package migration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// fuzzFormats are the single-file readers FuzzParseBody drives.
var fuzzFormats = []Format{Plain, Goose, Dbmate, Flyway, Liquibase}

// FuzzParseBody feeds one migration file to each format's reader: it returns
// steps or an error naming the file, never panics, and every statement it
// returns has text and a line inside the file.
func FuzzParseBody(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/migrations/*/*.sql")
	more, _ := filepath.Glob("../../testdata/migrations/*/*/*.sql")
	for _, p := range append(paths, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b), uint8(0))
		}
	}
	for _, c := range realProjectCases {
		for _, src := range c.files {
			f.Add(src, uint8(4))
		}
	}
	f.Fuzz(func(t *testing.T, src string, which uint8) {
		format := fuzzFormats[int(which)%len(fuzzFormats)]
		lines := strings.Count(src, "\n") + 1
		var stmts []Statement
		if format == Liquibase {
			seq := 0
			cands, err := loadLiquibase("m.sql", src, syntaxOf(""), engine.Postgres, &seq)
			checkFuzzErr(t, err)
			for _, c := range cands {
				stmts = append(stmts, c.step.Statements...)
			}
		} else {
			b, err := parseBody(format, syntaxOf(""), "m.sql", src)
			checkFuzzErr(t, err)
			stmts = b.stmts
		}
		for _, s := range stmts {
			if strings.TrimSpace(s.SQL) == "" || s.Line < 1 || s.Line > lines {
				t.Fatalf("%s: statement %q at line %d of %d", format, s.SQL, s.Line, lines)
			}
		}
	})
}

// FuzzLoadDir feeds the directory readers that read more than one file: a
// sqitch plan with its deploy script, and an Atlas directory with its atlas.sum.
func FuzzLoadDir(f *testing.F) {
	for _, c := range realProjectCases {
		if p, ok := c.files["sqitch.plan"]; ok {
			f.Add(p, c.files["deploy/users.sql"], true)
		}
		if s, ok := c.files["atlas.sum"]; ok {
			f.Add(s, c.files["1_initial.down.sql"], false)
		}
	}
	f.Fuzz(func(t *testing.T, index, script string, sqitch bool) {
		dir := t.TempDir()
		files := map[string]string{"atlas.sum": index, "1_initial.down.sql": script}
		if sqitch {
			files = map[string]string{"sqitch.plan": index, "deploy/users.sql": script}
		}
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		set, err := Load(dir, Options{Family: engine.Postgres})
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if len(set.Steps) == 0 {
			t.Fatal("Load returned no steps and no error")
		}
	})
}

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if _, ok := err.(*plan.InputError); !ok {
		t.Fatalf("error %v is %T, want *plan.InputError", err, err)
	}
}
