package migration

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
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

// FuzzLoadNames feeds directories of migration files by name to Load: the
// readers that go by file names (golang-migrate and ory/popx's dialect and
// autocommit names, goose, dbmate, Flyway, Atlas, plain) and format detection,
// phase subdirectories and --baseline. Names are one per line of the first
// input (a phase directory may lead them: expand/0002_x.sql); every file holds
// body. An error is bad input naming the directory or a file in it, loading is
// deterministic, and a loaded set has steps, each from a distinct file of the
// directory.
func FuzzLoadNames(f *testing.F) {
	body := "CREATE TABLE t (id INT);\n"
	for _, s := range [][2]string{
		{"1_init.up.sql\n1_init.down.sql\n2_add.up.sql\n2_add.mysql.up.sql\n2_add.postgres.up.sql\n3_idx.autocommit.up.sql\n3_idx.sqlite3.up.sql", ""},
		{"V1__init.sql\nV2__add.sql\nU2__add.sql\nR__view.sql", "1"},
		{"20240101000000_init.sql\n20240102000000_add.sql", "20240101000000"},
		{"baseline/0001_init.up.sql\nexpand/0002_add.up.sql\ncontract/0003_drop.up.sql", ""},
		{"0001_a.sql\n0001_b.sql", ""},
		{"a.sql\nb.sql\nc.txt", "a"},
		{"1_x.postgres.up.sql\n1_x.cockroach.up.sql", ""},
		{"V1.1__x.sql\nV1_1__y.sql", ""},
	} {
		f.Add(s[0], body, s[1], true)
	}
	f.Add("00001_a.sql", "-- +goose Up\nCREATE TABLE t (id INT);\n-- +goose Down\nDROP TABLE t;\n", "", false)
	f.Add("20240101_a.sql", "-- migrate:up\nCREATE TABLE t (id INT);\n-- migrate:down\n", "", false)
	f.Fuzz(func(t *testing.T, names, body, baseline string, postgres bool) {
		dir := t.TempDir()
		wrote := 0
		for _, n := range strings.Split(names, "\n") {
			sub, base, ok := strings.Cut(n, "/")
			if !ok {
				sub, base = "", n
			}
			if sub != "" && sub != "baseline" && sub != "expand" && sub != "migrate" && sub != "contract" {
				continue
			}
			if base == "" || base == "." || base == ".." || len(base) > 200 || strings.ContainsAny(base, "/\x00") {
				continue
			}
			p := filepath.Join(dir, sub, base)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			wrote++
			if wrote == 8 {
				break
			}
		}
		opts := Options{Baseline: baseline}
		if postgres {
			opts.Family = engine.Postgres
		}
		set, err := Load(dir, opts)
		set2, err2 := Load(dir, opts)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || !reflect.DeepEqual(set, set2) {
			t.Fatalf("Load is not deterministic: %v, then %v", err, err2)
		}
		if err != nil {
			var ie *plan.InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(ie.File, dir) || !strings.HasPrefix(err.Error(), ie.File) {
				t.Fatalf("error %v is no input error naming the directory or a file in it", err)
			}
			return
		}
		if len(set.Steps) == 0 {
			t.Fatal("Load returned no steps and no error")
		}
		files := map[string]bool{}
		for _, s := range set.Steps {
			if !strings.HasPrefix(s.File, dir) {
				t.Fatalf("step %s from %s, outside the directory", s.Name, s.File)
			}
			if files[s.File] && set.Format != Liquibase && set.Format != Sqitch {
				t.Fatalf("file %s gives two steps", s.File)
			}
			files[s.File] = true
		}
	})
}
