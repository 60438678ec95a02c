package migration

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// FuzzSplit: the splitter takes any text without panicking; its errors are bad
// input at a line of the text, and its statements are non-empty and lie within it.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n",
		"CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.x := 1; RETURN NEW; END $$ LANGUAGE plpgsql;",
		"DELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END//\nDELIMITER ;\n",
		"SELECT 'it''s', \"q\", `b`, E'\\n' /* c */ -- d\n# e\n;",
		"-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n",
		"SELECT $tag$ unterminated",
		"\uFEFFSELECT 1;",
	} {
		f.Add(s)
	}
	seedFiles(f, "../../examples/projects/*/*/*.sql", "../../examples/projects/*/*.sql")
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		for _, fam := range []engine.Family{"", engine.Postgres, engine.MySQL} {
			stmts, err := SplitFor(fam, "f.sql", src)
			if err != nil {
				var ie *plan.InputError
				if !errors.As(err, &ie) || ie.Line < 1 || ie.Line > lines {
					t.Fatalf("%s: error %v is no input error at a line of the text (1..%d)", fam, err, lines)
				}
				continue
			}
			for _, st := range stmts {
				if strings.TrimSpace(st.SQL) == "" || st.Line < 1 || st.Line > lines {
					t.Fatalf("%s: statement %q at line %d of %d", fam, st.SQL, st.Line, lines)
				}
			}
		}
	})
}

// FuzzLoadFile: a migration file of any content, in any of the formats the
// markers select, loads or is bad input; it never panics.
func FuzzLoadFile(f *testing.F) {
	for _, s := range []string{
		"-- +goose Up\nCREATE TABLE t (id INT);\n-- +goose Down\nDROP TABLE t;\n",
		"-- migrate:up\nCREATE TABLE t (id INT);\n-- migrate:down\nDROP TABLE t;\n",
		"-- straddle:phase contract\nALTER TABLE t DROP COLUMN x;\n",
		"-- +goose Up\n-- +goose NO TRANSACTION\n-- +goose StatementBegin\nSELECT 1;\n",
	} {
		f.Add(s)
	}
	seedFiles(f, "../../examples/projects/*/*/*.sql")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src string) {
		p := filepath.Join(dir, "0001_x.sql")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFile(p, ""); err != nil && !errors.Is(err, plan.ErrBadInput) {
			t.Fatalf("error %v is not bad input", err)
		}
	})
}

func seedFiles(f *testing.F, patterns ...string) {
	for _, pat := range patterns {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(string(b))
			}
		}
	}
}
