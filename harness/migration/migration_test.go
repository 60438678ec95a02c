package migration

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

const testdata = "../../testdata/migrations"

// row is a step reduced to what the tests compare; File is relative to the
// directory loaded and SQL is "line: sql".
type row struct {
	Phase   plan.Phase
	Version string
	Name    string
	File    string
	NoTx    bool
	SQL     []string
}

func rows(t *testing.T, dir string, steps []Step) []row {
	t.Helper()
	var out []row
	for _, s := range steps {
		rel, err := filepath.Rel(dir, s.File)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range s.Statements {
			if st.File != s.File {
				t.Errorf("%s: statement at line %d has File %q", s.File, st.Line, st.File)
			}
		}
		out = append(out, row{s.Phase, s.Version, s.Name, filepath.ToSlash(rel), s.NoTransaction, lines(s.Statements)})
	}
	return out
}

// writeTree makes a directory from relative path → content and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadTestdata(t *testing.T) {
	tests := []struct {
		name       string
		dir        string
		opts       Options
		wantFormat Format
		want       []row
		reason     string
	}{
		{
			name:       "golang-migrate",
			dir:        "golang-migrate",
			wantFormat: GolangMigrate,
			want: []row{
				{plan.Expand, "0001", "0001_create_users", "0001_create_users.up.sql", false, []string{"1: CREATE TABLE users (\n    id   integer PRIMARY KEY,\n    name text NOT NULL\n)"}},
				{plan.Expand, "0002", "0002_add_email", "0002_add_email.up.sql", false, []string{"2: ALTER TABLE users ADD COLUMN email text"}},
				{plan.Contract, "0010", "0010_drop_name", "0010_drop_name.up.sql", false, []string{"2: ALTER TABLE users DROP COLUMN name"}},
			},
			reason: ".down.sql ignored; untagged migrations default to expand; the header tags contract",
		},
		{
			name:       "golang-migrate with baseline",
			dir:        "golang-migrate",
			opts:       Options{Baseline: "1"},
			wantFormat: GolangMigrate,
			want: []row{
				{plan.Baseline, "0001", "0001_create_users", "0001_create_users.up.sql", false, []string{"1: CREATE TABLE users (\n    id   integer PRIMARY KEY,\n    name text NOT NULL\n)"}},
				{plan.Expand, "0002", "0002_add_email", "0002_add_email.up.sql", false, []string{"2: ALTER TABLE users ADD COLUMN email text"}},
				{plan.Contract, "0010", "0010_drop_name", "0010_drop_name.up.sql", false, []string{"2: ALTER TABLE users DROP COLUMN name"}},
			},
			reason: "--baseline 1 matches version 0001 numerically; later untagged migrations are expand",
		},
		{
			name:       "goose",
			dir:        "goose",
			opts:       Options{Baseline: "00001_create_users"},
			wantFormat: Goose,
			want: []row{
				{plan.Baseline, "00001", "00001_create_users", "00001_create_users.sql", false, []string{
					"2: CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL)",
					"3: INSERT INTO users VALUES (1, 'it''s; fine')",
				}},
				{plan.Migrate, "00002", "00002_sync_trigger", "00002_sync_trigger.sql", false, []string{
					"3: ALTER TABLE users ADD COLUMN full_name text",
					"6: CREATE FUNCTION sync_full_name() RETURNS trigger AS $$\nBEGIN\n    NEW.full_name := NEW.name;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql",
					"14: CREATE TRIGGER sync_full_name BEFORE INSERT OR UPDATE ON users\n    FOR EACH ROW EXECUTE FUNCTION sync_full_name()",
				}},
				{plan.Migrate, "00003", "00003_index_full_name", "00003_index_full_name.sql", true, []string{
					"4: CREATE INDEX CONCURRENTLY users_full_name ON users (full_name)",
				}},
			},
			reason: "only the Up section; a StatementBegin block is one statement; NO TRANSACTION; the baseline named by step name; headers after the Up marker",
		},
		{
			name:       "dbmate",
			dir:        "dbmate",
			wantFormat: Dbmate,
			want: []row{
				{plan.Expand, "20240101120000", "20240101120000_create_users", "20240101120000_create_users.sql", false, []string{
					"2: CREATE TABLE users (\n    id   integer PRIMARY KEY,\n    name text NOT NULL\n)",
				}},
				{plan.Expand, "20240102093000", "20240102093000_index_name", "20240102093000_index_name.sql", true, []string{
					"3: CREATE INDEX CONCURRENTLY users_name ON users (name)",
				}},
			},
			reason: "only the up section; transaction:false",
		},
		{
			name:       "flyway",
			dir:        "flyway",
			opts:       Options{Baseline: "1.0"},
			wantFormat: Flyway,
			want: []row{
				{plan.Baseline, "1", "V1__create_users", "V1__create_users.sql", false, []string{"1: CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL)"}},
				{plan.Expand, "1.1", "V1.1__add_email", "V1.1__add_email.sql", false, []string{"1: ALTER TABLE users ADD COLUMN email text"}},
				{plan.Expand, "1.2", "V1_2__index_email", "V1_2__index_email.sql", true, []string{"1: CREATE INDEX users_email ON users (email)"}},
				{plan.Expand, "1.10", "V1.10__add_phone", "V1.10__add_phone.sql", false, []string{"1: ALTER TABLE users ADD COLUMN phone text"}},
				{plan.Contract, "2", "V2__drop_name", "V2__drop_name.sql", false, []string{"2: ALTER TABLE users DROP COLUMN name"}},
			},
			reason: "numeric order per component (1.2 < 1.10), _ as a separator, undo files ignored, executeInTransaction=false from the .conf, baseline 1.0 = 1",
		},
		{
			name:       "plain",
			dir:        "plain",
			wantFormat: Plain,
			want: []row{
				{plan.Expand, "1", "1_users", "1_users.sql", false, []string{"1: CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL)"}},
				{plan.Expand, "2", "2_email", "2_email.sql", false, []string{"1: ALTER TABLE users ADD COLUMN email text"}},
				{plan.Expand, "10", "10_email_not_null", "10_email_not_null.sql", false, []string{
					"2: UPDATE users SET email = name || '@example.com' WHERE email IS NULL",
					"3: ALTER TABLE users ALTER COLUMN email SET NOT NULL",
				}},
			},
			reason: "natural order puts 10 after 2",
		},
		{
			name:       "sql-migrate",
			dir:        "sqlmigrate",
			wantFormat: SQLMigrate,
			want: []row{
				{plan.Expand, "20241108160105-user-favorites", "20241108160105-user-favorites", "20241108160105-user-favorites.sql", false, []string{"2: CREATE TABLE user_favorites (id bigint PRIMARY KEY, user_id bigint NOT NULL)"}},
				{plan.Expand, "20241108160105-z-fav-index", "20241108160105-z-fav-index", "20241108160105-z-fav-index.sql", true, []string{"2: CREATE INDEX CONCURRENTLY user_favorites_user ON user_favorites (user_id)"}},
				{plan.Expand, "20250101000000-fn", "20250101000000-fn", "20250101000000-fn.sql", false, []string{
					"3: CREATE FUNCTION fav_count(u bigint) RETURNS bigint AS $$\n  SELECT count(*) FROM user_favorites WHERE user_id = u;\n$$ LANGUAGE sql",
					"7: ALTER TABLE user_favorites ADD COLUMN note text",
				}},
			},
			reason: "goalert's layout (rubenv/sql-migrate): the whole name is the id, so two files of one timestamp are two migrations, ordered by name; Up notransaction; a StatementBegin block is one statement; Down sections are never applied (they were, as plain SQL)",
		},
		{
			name:       "plain up/down pairs",
			dir:        "updown",
			wantFormat: Plain,
			want: []row{
				{plan.Expand, "V0001.Initial_Schema", "V0001.Initial_Schema", "V0001.Initial_Schema.up.sql", false, []string{"1: CREATE TABLE users (id integer PRIMARY KEY)"}},
				{plan.Expand, "V0002.Email", "V0002.Email", "V0002.Email.up.sql", false, []string{"1: ALTER TABLE users ADD COLUMN email text"}},
			},
			reason: "authelia's naming: the down files roll the up files back and are not steps (they ran first, as steps, before)",
		},
		{
			name:       "phase subdirectories",
			dir:        "phased",
			wantFormat: GolangMigrate,
			want: []row{
				{plan.Baseline, "0001", "0001_create_users", "baseline/0001_create_users.up.sql", false, []string{"1: CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL)"}},
				{plan.Expand, "0002", "0002_add_full_name", "expand/0002_add_full_name.up.sql", false, []string{"1: ALTER TABLE users ADD COLUMN full_name text"}},
				{plan.Expand, "0005", "0005_index_full_name", "expand/0005_index_full_name.up.sql", false, []string{"1: CREATE INDEX users_full_name ON users (full_name)"}},
				{plan.Migrate, "0003", "0003_backfill_full_name", "migrate/0003_backfill_full_name.up.sql", false, []string{"1: UPDATE users SET full_name = name WHERE full_name IS NULL"}},
				{plan.Contract, "0004", "0004_drop_name", "contract/0004_drop_name.up.sql", false, []string{"2: ALTER TABLE users DROP COLUMN name"}},
			},
			reason: "phase first, then version: 0005 in expand/ comes before 0003 in migrate/; a header that agrees with its directory is fine",
		},
		{
			name:       "headers with baseline",
			dir:        "headers",
			opts:       Options{Baseline: "0001"},
			wantFormat: Plain,
			want: []row{
				{plan.Baseline, "0001", "0001_create_users", "0001_create_users.sql", false, []string{"1: CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL)"}},
				{plan.Expand, "0002", "0002_add_full_name", "0002_add_full_name.sql", false, []string{"1: ALTER TABLE users ADD COLUMN full_name text"}},
				{plan.Migrate, "0003", "0003_backfill", "0003_backfill.sql", false, []string{"2: UPDATE users SET full_name = name"}},
				{plan.Contract, "0004", "0004_drop_name", "0004_drop_name.sql", false, []string{"4: ALTER TABLE users DROP COLUMN name"}},
			},
			reason: "headers anywhere in the leading comment block, with or without a space after --",
		},
		{
			name:       "mysql bodies",
			dir:        "mysql",
			opts:       Options{Family: engine.MySQL},
			wantFormat: Plain,
			want: []row{
				{plan.Expand, "001", "001_users", "001_users.sql", false, []string{
					"2: CREATE TABLE users (\n    id   INT PRIMARY KEY,\n    name VARCHAR(100) NOT NULL,\n    note VARCHAR(100) DEFAULT 'it\\'s; fine'\n)",
				}},
				{plan.Expand, "002", "002_trigger", "002_trigger.sql", false, []string{
					"1: ALTER TABLE users ADD COLUMN full_name VARCHAR(200)",
					"3: CREATE TRIGGER users_full_name BEFORE INSERT ON users\nFOR EACH ROW\nBEGIN\n    IF NEW.full_name IS NULL THEN\n        SET NEW.full_name = NEW.name;\n    END IF;\nEND",
					"11: BEGIN",
					"12: UPDATE users SET full_name = name",
					"13: COMMIT",
				}},
				{plan.Expand, "003", "003_procedure", "003_procedure.sql", false, []string{
					"2: CREATE PROCEDURE backfill()\nBEGIN\n    UPDATE users SET full_name = name WHERE full_name IS NULL;\nEND",
					"7: CALL backfill()",
				}},
			},
			reason: "# comments, backslash escapes, a trigger body without DELIMITER, BEGIN; as a transaction, DELIMITER blocks",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(testdata, tt.dir)
			set, err := Load(dir, tt.opts)
			if err != nil {
				t.Fatalf("Load: %v (%s)", err, tt.reason)
			}
			if set.Format != tt.wantFormat || set.Dir != dir {
				t.Errorf("Format, Dir = %s, %s; want %s, %s", set.Format, set.Dir, tt.wantFormat, dir)
			}
			if diff := cmp.Diff(tt.want, rows(t, dir, set.Steps)); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
			if _, err := plan.NewRollout(set.Refs()); err != nil {
				t.Errorf("plan.NewRollout(Refs()): %v", err)
			}
		})
	}
}

func TestLoadTrees(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		opts       Options
		wantFormat Format
		want       []row
		reason     string
	}{
		{
			name:       "goose forced",
			files:      map[string]string{"001_a.sql": "-- +goose Up\nSELECT 1;\n"},
			opts:       Options{Format: Goose},
			wantFormat: Goose,
			want:       []row{{plan.Expand, "001", "001_a", "001_a.sql", false, []string{"2: SELECT 1"}}},
			reason:     "same as detected",
		},
		{
			name:       "plain forced over goose markers",
			files:      map[string]string{"001_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n"},
			opts:       Options{Format: Plain},
			wantFormat: Plain,
			want:       []row{{plan.Expand, "001", "001_a", "001_a.sql", false, []string{"2: SELECT 1", "4: SELECT 2"}}},
			reason:     "a forced format is not second-guessed: markers are mere comments in plain files",
		},
		{
			name: "goose blocks",
			files: map[string]string{"001_a.sql": "-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementEnd\n" +
				"-- +goose StatementBegin\n\n-- the body\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- done\n\n-- +goose StatementEnd\n"},
			wantFormat: Goose,
			want:       []row{{plan.Expand, "001", "001_a", "001_a.sql", false, []string{"7: CREATE INDEX CONCURRENTLY i ON t (a)"}}},
			reason:     "an empty block makes no statement; comment lines around a block's SQL and its final ';' are dropped; goose wraps the file in a transaction all the same (only -- +goose NO TRANSACTION says otherwise), where CONCURRENTLY fails (25001)",
		},
		{
			name: "tagged loose file beside subdirectories",
			files: map[string]string{
				"expand/0002_b.sql":   "SELECT 2;",
				"contract/0003_c.sql": "SELECT 3;",
				"0004_d.sql":          "-- straddle:phase migrate\nSELECT 4;",
			},
			wantFormat: Plain,
			want: []row{
				{plan.Expand, "0002", "0002_b", "expand/0002_b.sql", false, []string{"1: SELECT 2"}},
				{plan.Migrate, "0004", "0004_d", "0004_d.sql", false, []string{"2: SELECT 4"}},
				{plan.Contract, "0003", "0003_c", "contract/0003_c.sql", false, []string{"1: SELECT 3"}},
			},
			reason: "a top-level file with a header takes its place by phase",
		},
		{
			name: "baseline history at the top, new release in subdirectories",
			files: map[string]string{
				"0001_a.up.sql":          "SELECT 1;",
				"0001_a.down.sql":        "SELECT -1;",
				"0002_b.up.sql":          "SELECT 2;",
				"expand/0003_c.up.sql":   "SELECT 3;",
				"contract/0004_d.up.sql": "SELECT 4;",
			},
			opts:       Options{Baseline: "0002"},
			wantFormat: GolangMigrate,
			want: []row{
				{plan.Baseline, "0001", "0001_a", "0001_a.up.sql", false, []string{"1: SELECT 1"}},
				{plan.Baseline, "0002", "0002_b", "0002_b.up.sql", false, []string{"1: SELECT 2"}},
				{plan.Expand, "0003", "0003_c", "expand/0003_c.up.sql", false, []string{"1: SELECT 3"}},
				{plan.Contract, "0004", "0004_d", "contract/0004_d.up.sql", false, []string{"1: SELECT 4"}},
			},
			reason: "--baseline gives the top-level files their phase; down files are skipped wherever they are",
		},
		{
			name: "subdirectory wins over baseline",
			files: map[string]string{
				"expand/0001_a.sql":   "SELECT 1;",
				"contract/0002_b.sql": "SELECT 2;",
			},
			opts:       Options{Baseline: "0002"},
			wantFormat: Plain,
			want: []row{
				{plan.Expand, "0001", "0001_a", "expand/0001_a.sql", false, []string{"1: SELECT 1"}},
				{plan.Contract, "0002", "0002_b", "contract/0002_b.sql", false, []string{"1: SELECT 2"}},
			},
			reason: "first match wins: the subdirectory comes before --baseline",
		},
		{
			name: "header wins over baseline",
			files: map[string]string{
				"0001_a.sql": "SELECT 1;",
				"0002_b.sql": "-- straddle:phase baseline\nSELECT 2;",
				"0003_c.sql": "SELECT 3;",
			},
			opts:       Options{Baseline: "0001"},
			wantFormat: Plain,
			want: []row{
				{plan.Baseline, "0001", "0001_a", "0001_a.sql", false, []string{"1: SELECT 1"}},
				{plan.Baseline, "0002", "0002_b", "0002_b.sql", false, []string{"2: SELECT 2"}},
				{plan.Expand, "0003", "0003_c", "0003_c.sql", false, []string{"1: SELECT 3"}},
			},
			reason: "first match wins: the header comes before --baseline",
		},
		{
			name: "unnumbered plain files",
			files: map[string]string{
				"b_second.sql": "SELECT 2;",
				"a_first.sql":  "SELECT 1;",
			},
			opts:       Options{Baseline: "a_first"},
			wantFormat: Plain,
			want: []row{
				{plan.Baseline, "a_first", "a_first", "a_first.sql", false, []string{"1: SELECT 1"}},
				{plan.Expand, "b_second", "b_second", "b_second.sql", false, []string{"1: SELECT 2"}},
			},
			reason: "without a number the name is the version",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			set, err := Load(dir, tt.opts)
			if err != nil {
				t.Fatalf("Load: %v (%s)", err, tt.reason)
			}
			if set.Format != tt.wantFormat {
				t.Errorf("Format = %s, want %s", set.Format, tt.wantFormat)
			}
			if diff := cmp.Diff(tt.want, rows(t, dir, set.Steps)); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // nil: use testdata dir
		dir    string            // testdata subdirectory, when files is nil
		opts   Options
		want   string // DIR stands for the directory
		reason string
	}{
		{
			name:   "missing directory",
			dir:    "does-not-exist",
			want:   "DIR: cannot read the migrations directory: no such file or directory",
			reason: "a bad --migrations path is bad input",
		},
		{
			name:   "no sql files",
			files:  map[string]string{"README.md": "hi"},
			want:   "DIR: no migration files (*.sql) here or in its baseline/, expand/, migrate/ or contract/ subdirectories (formats: golang-migrate, goose, dbmate, flyway, atlas, sqitch, liquibase, sql-migrate, plain)",
			reason: "nothing to apply",
		},
		{
			name:   "mixed formats",
			dir:    "mixed",
			want:   "DIR: mixes migration formats: DIR/0001_create_users.up.sql is golang-migrate but DIR/0002_add_email.sql is goose; keep one format per directory",
			reason: "detection must be unambiguous",
		},
		{
			name:   "plain file among golang-migrate",
			files:  map[string]string{"0001_a.up.sql": "SELECT 1;", "seed.sql": "SELECT 2;"},
			want:   "DIR/seed.sql: not a golang-migrate migration, but DIR/0001_a.up.sql is; golang-migrate files are named VERSION_NAME.up.sql or VERSION_NAME.down.sql",
			reason: "a stray file would otherwise be silently skipped or applied",
		},
		{
			name:   "goose and dbmate in one file",
			files:  map[string]string{"1_a.sql": "-- +goose Up\n-- migrate:up\nSELECT 1;"},
			want:   "DIR/1_a.sql: has both goose (-- +goose Up) and dbmate (-- migrate:up) sections; keep one",
			reason: "ambiguous file",
		},
		{
			name:   "unknown forced format",
			files:  map[string]string{"1.sql": "SELECT 1;"},
			opts:   Options{Format: "alembic"},
			want:   `bad input: unknown migration format "alembic" (want one of golang-migrate, goose, dbmate, flyway, atlas, sqitch, liquibase, sql-migrate, plain)`,
			reason: "the error lists the valid formats",
		},
		{
			name:   "forced format that does not fit",
			files:  map[string]string{"init.sql": "SELECT 1;"},
			opts:   Options{Format: Flyway},
			want:   "DIR/init.sql: not a Flyway migration: Flyway files are named V<version>__<description>.sql",
			reason: "a forced format still checks names",
		},
		{
			name:   "flyway repeatable",
			files:  map[string]string{"V1__a.sql": "SELECT 1;", "R__views.sql": "CREATE VIEW v AS SELECT 1;"},
			want:   "DIR/R__views.sql: Flyway repeatable migrations (R__) are not supported: straddle applies each migration once, in version order; make it a versioned migration (V<version>__...) or remove it",
			reason: "repeatable migrations would otherwise be silently skipped",
		},
		{
			name:   "goose go migration",
			files:  map[string]string{"001_a.sql": "-- +goose Up\nSELECT 1;", "002_b.go": "package migrations"},
			want:   "DIR/002_b.go: goose Go migrations are not supported; straddle applies SQL migrations only",
			reason: "a Go migration cannot be applied from SQL",
		},
		{
			name:   "unknown subdirectory",
			files:  map[string]string{"expand/1_a.sql": "SELECT 1;", "contracts/2_b.sql": "SELECT 2;"},
			want:   "DIR/contracts: subdirectory holds .sql files but is not a phase directory; straddle reads DIR and its baseline/, expand/, migrate/ and contract/ subdirectories only: move the files or rename the directory",
			reason: "a misspelt phase directory must not be skipped",
		},
		{
			name:   "bad phase name",
			files:  map[string]string{"1_a.sql": "-- comment\n-- straddle:phase shrink\nSELECT 1;"},
			want:   `DIR/1_a.sql:2: unknown phase "shrink" (want baseline, expand, migrate or contract)`,
			reason: "file:line of the header",
		},
		{
			name:   "unknown directive",
			files:  map[string]string{"1_a.sql": "-- straddle:phsae expand\nSELECT 1;"},
			want:   `DIR/1_a.sql:1: unknown directive "straddle:phsae" (want -- straddle:phase expand|migrate|contract|baseline or -- straddle:allow RULE: REASON)`,
			reason: "a typo in the directive is not ignored",
		},
		{
			name:   "exception without a reason",
			files:  map[string]string{"1_a.sql": "-- straddle:phase expand\n-- straddle:allow drop-in-expand\nALTER TABLE t DROP COLUMN x;"},
			want:   "DIR/1_a.sql:2: -- straddle:allow drop-in-expand has no reason; say why the change is safe here: -- straddle:allow drop-in-expand: REASON",
			reason: "an exception nobody can review is bad input",
		},
		{
			name:   "exception with an empty reason",
			files:  map[string]string{"1_a.sql": "-- straddle:allow drop-in-expand:   \nALTER TABLE t DROP COLUMN x;"},
			want:   "DIR/1_a.sql:1: -- straddle:allow drop-in-expand has no reason; say why the change is safe here: -- straddle:allow drop-in-expand: REASON",
			reason: "blanks are no reason",
		},
		{
			name:   "exception to an unknown rule",
			files:  map[string]string{"1_a.sql": "-- straddle:allow drop-in-expnd: unused since v1.2\nALTER TABLE t DROP COLUMN x;"},
			want:   `DIR/1_a.sql:1: -- straddle:allow: unknown rule "drop-in-expnd" (did you mean drop-in-expand?); write -- straddle:allow RULE: REASON with RULE one of ` + strings.Join(plan.RuleIDs(), ", "),
			reason: "a misspelt rule would except nothing; the hint and the list say what to write",
		},
		{
			name:   "exception after SQL",
			files:  map[string]string{"1_a.sql": "ALTER TABLE t DROP COLUMN x;\n-- straddle:allow drop-in-expand: unused\n"},
			want:   "DIR/1_a.sql:2: -- straddle: directives belong in the comment block at the top of the file (or of its up section), before any SQL",
			reason: "exceptions sit in the header, like the phase",
		},
		{
			name:   "misplaced header",
			files:  map[string]string{"1_a.sql": "SELECT 1;\n-- straddle:phase contract\nSELECT 2;"},
			want:   "DIR/1_a.sql:2: -- straddle: directives belong in the comment block at the top of the file (or of its up section), before any SQL",
			reason: "a header after SQL is not silently ignored",
		},
		{
			name:   "conflicting headers",
			files:  map[string]string{"1_a.sql": "-- straddle:phase expand\n-- straddle:phase contract\nSELECT 1;"},
			want:   "DIR/1_a.sql:2: phase contract contradicts the phase expand given on line 1",
			reason: "one file, one phase",
		},
		{
			name:   "header contradicts subdirectory",
			files:  map[string]string{"expand/1_a.sql": "\n-- straddle:phase contract\nSELECT 1;"},
			want:   "DIR/expand/1_a.sql:2: phase header says contract but the file is in expand/; remove the header or move the file",
			reason: "header and directory must agree",
		},
		{
			name: "loose file beside phase subdirectories",
			files: map[string]string{
				"expand/0002_b.sql":   "SELECT 2;",
				"contract/0003_c.sql": "SELECT 3;",
				"0004_d.sql":          "SELECT 4;",
			},
			want:   "DIR/0004_d.sql: migration outside the phase subdirectories (expand/, contract/) has no phase: move it into one of them or give it a -- straddle:phase header",
			reason: "with subdirectories, a top-level file needs an explicit phase",
		},
		{
			name: "loose file after the baseline",
			files: map[string]string{
				"0001_a.sql":        "SELECT 1;",
				"expand/0002_b.sql": "SELECT 2;",
				"0003_c.sql":        "SELECT 3;",
			},
			opts:   Options{Baseline: "0001"},
			want:   "DIR/0003_c.sql: migration outside the phase subdirectories (expand/) has no phase: move it into one of them or give it a -- straddle:phase header",
			reason: "--baseline covers only the migrations up to it",
		},
		{
			name:   "baseline matches nothing",
			dir:    "golang-migrate",
			opts:   Options{Baseline: "0007"},
			want:   "DIR: --baseline 0007 matches no migration (versions run from 0001 to 0010)",
			reason: "a typo in --baseline must not make everything expand",
		},
		{
			name: "phases go backwards",
			files: map[string]string{
				"0001_a.sql": "SELECT 1;",
				"0002_b.sql": "-- straddle:phase contract\nSELECT 2;",
				"0003_c.sql": "-- straddle:phase expand\nSELECT 3;",
			},
			want:   "DIR/0003_c.sql:1: phase expand comes after 0002_b (contract, from its header on line 1) in version order; without phase subdirectories steps apply in version order and phases must not go backwards (baseline, expand, migrate, contract): renumber the migration, fix its phase, or use phase subdirectories",
			reason: "ordering by version only must be phase-monotonic",
		},
		{
			name: "untagged after contract",
			files: map[string]string{
				"0001_a.sql": "-- straddle:phase migrate\nSELECT 1;",
				"0002_b.sql": "SELECT 2;",
			},
			want:   "DIR/0002_b.sql: phase expand comes after 0001_a (migrate, from its header on line 1) in version order; without phase subdirectories steps apply in version order and phases must not go backwards (baseline, expand, migrate, contract): renumber the migration, fix its phase, or use phase subdirectories",
			reason: "the expand default also counts",
		},
		{
			name:   "duplicate versions",
			files:  map[string]string{"0002_a.up.sql": "SELECT 1;", "2_b.up.sql": "SELECT 2;"},
			want:   "DIR/2_b.up.sql: duplicate version 2: DIR/0002_a.up.sql has it too; every migration needs its own version",
			reason: "0002 and 2 are the same version",
		},
		{
			name:   "duplicate versions across subdirectories",
			files:  map[string]string{"expand/0002_a.up.sql": "SELECT 1;", "contract/0002_b.up.sql": "SELECT 2;"},
			want:   "DIR/expand/0002_a.up.sql: duplicate version 0002: DIR/contract/0002_b.up.sql has it too; every migration needs its own version",
			reason: "versions are unique across the whole directory",
		},
		{
			name:   "duplicate plain versions",
			files:  map[string]string{"1_a.sql": "SELECT 1;", "1_b.sql": "SELECT 2;"},
			opts:   Options{Format: Plain},
			want:   "DIR/1_b.sql: duplicate version 1: DIR/1_a.sql has it too; every migration needs its own version",
			reason: "plain files numbered alike are ambiguous too",
		},
		{
			name:   "duplicate flyway versions",
			files:  map[string]string{"V1__a.sql": "SELECT 1;", "V1.0__b.sql": "SELECT 2;"},
			want:   "DIR/V1__a.sql: duplicate version 1: DIR/V1.0__b.sql has it too; every migration needs its own version",
			reason: "Flyway: 1.0 is 1",
		},
		{
			name:   "unterminated quote",
			files:  map[string]string{"1_a.up.sql": "SELECT 1;\nINSERT INTO t VALUES ('x);\n"},
			want:   "DIR/1_a.up.sql:2: unterminated string literal: missing closing '",
			reason: "file:line of the opening quote",
		},
		{
			name:   "unterminated dollar quote in goose",
			files:  map[string]string{"1_a.sql": "-- +goose Up\nSELECT 1;\nDO $$ BEGIN END;\n-- +goose Down\nSELECT 2;"},
			want:   "DIR/1_a.sql:3: unterminated dollar-quoted string: missing closing $$",
			reason: "lines count from the top of the file, not of the section",
		},
		{
			name:   "unterminated comment in dbmate",
			files:  map[string]string{"1_a.sql": "-- migrate:up\nSELECT 1;\n/* open\n-- migrate:down\nSELECT 2;"},
			want:   "DIR/1_a.sql:3: unterminated block comment: missing closing */",
			reason: "the up section ends at migrate:down, so the comment is open",
		},
		{
			name:   "unterminated StatementBegin",
			files:  map[string]string{"1_a.sql": "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n"},
			want:   "DIR/1_a.sql:2: -- +goose StatementBegin has no matching -- +goose StatementEnd",
			reason: "file:line of the StatementBegin",
		},
		{
			name:   "unterminated quote inside a StatementBegin block",
			files:  map[string]string{"1_a.sql": "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\nSELECT 'x;\n-- +goose StatementEnd\n"},
			want:   "DIR/1_a.sql:4: unterminated string literal: missing closing '",
			reason: "blocks are lexed too, so an open quote is reported where it starts",
		},
		{
			name:   "StatementBegin open at Down",
			files:  map[string]string{"1_a.sql": "-- +goose Up\nSELECT 0;\n-- +goose StatementBegin\nSELECT 1;\n-- +goose Down\nSELECT 2;"},
			want:   "DIR/1_a.sql:3: -- +goose StatementBegin has no matching -- +goose StatementEnd before -- +goose Down",
			reason: "a block cannot span sections",
		},
		{
			name:   "StatementEnd without Begin",
			files:  map[string]string{"1_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n"},
			want:   "DIR/1_a.sql:3: -- +goose StatementEnd without -- +goose StatementBegin",
			reason: "stray end marker",
		},
		{
			name:   "nested StatementBegin",
			files:  map[string]string{"1_a.sql": "-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\n"},
			want:   "DIR/1_a.sql:3: -- +goose StatementBegin inside the block opened on line 2; close it with -- +goose StatementEnd first",
			reason: "blocks do not nest",
		},
		{
			name:   "goose Up twice",
			files:  map[string]string{"1_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose Up\nSELECT 2;"},
			want:   "DIR/1_a.sql:3: second -- +goose Up annotation (the first is on line 1)",
			reason: "one Up section per file",
		},
		{
			name:   "goose Down first",
			files:  map[string]string{"1_a.sql": "-- +goose Down\nSELECT 1;\n-- +goose Up\nSELECT 2;"},
			want:   "DIR/1_a.sql:1: -- +goose Down before -- +goose Up; the Up section comes first",
			reason: "goose requires Up first",
		},
		{
			name:   "SQL before goose Up",
			files:  map[string]string{"1_a.sql": "-- intro\nSELECT 0;\n-- +goose Up\nSELECT 1;"},
			want:   "DIR/1_a.sql:2: SQL before -- +goose Up belongs to no section; move it below the Up annotation",
			reason: "such SQL would be silently skipped",
		},
		{
			name:   "unknown goose annotation",
			files:  map[string]string{"1_a.sql": "-- +goose Up\n-- +goose StatementBeginn\nSELECT 1;"},
			want:   `DIR/1_a.sql:2: unknown goose annotation "-- +goose StatementBeginn" (want Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON|OFF)`,
			reason: "a typo must not turn a block into split statements",
		},
		{
			name:   "goose forced without Up",
			files:  map[string]string{"1_a.sql": "SELECT 1;"},
			opts:   Options{Format: Goose},
			want:   "DIR/1_a.sql: no -- +goose Up annotation; goose migrations need one",
			reason: "the only mandatory goose annotation",
		},
		{
			name:   "dbmate down first",
			files:  map[string]string{"1_a.sql": "-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t (a int);"},
			want:   "DIR/1_a.sql:1: -- migrate:down before -- migrate:up; the up section comes first",
			reason: "keeps sections unambiguous",
		},
		{
			name:   "dbmate up twice",
			files:  map[string]string{"1_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;"},
			want:   "DIR/1_a.sql:3: second -- migrate:up (the first is on line 1)",
			reason: "one up section per file",
		},
		{
			name:   "dbmate unknown option",
			files:  map[string]string{"1_a.sql": "-- migrate:up transaction:off\nSELECT 1;"},
			want:   `DIR/1_a.sql:1: unknown dbmate option "transaction:off" (want transaction:false or transaction:true)`,
			reason: "a misspelt option must not silently run in a transaction",
		},
		{
			name:   "SQL before dbmate up",
			files:  map[string]string{"1_a.sql": "SELECT 0;\n-- migrate:up\nSELECT 1;"},
			want:   "DIR/1_a.sql:1: SQL before -- migrate:up belongs to no section; move it below the up marker",
			reason: "such SQL would be silently skipped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(testdata, tt.dir)
			if tt.files != nil {
				dir = writeTree(t, tt.files)
			}
			_, err := Load(dir, tt.opts)
			if err == nil {
				t.Fatalf("no error; want %q (%s)", tt.want, tt.reason)
			}
			if !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("error does not wrap plan.ErrBadInput: %v", err)
			}
			var ie *plan.InputError
			if tt.opts.Format != "alembic" && !errors.As(err, &ie) {
				t.Errorf("error is %T, want *plan.InputError", err)
			}
			got := strings.ReplaceAll(err.Error(), dir, "DIR")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		src    string
		phase  plan.Phase
		want   row
		reason string
	}{
		{
			name:   "plain file, default phase",
			file:   "step.sql",
			src:    "ALTER TABLE t ADD b int;\nUPDATE t SET b = 1;",
			want:   row{plan.Expand, "step", "step", "step.sql", false, []string{"1: ALTER TABLE t ADD b int", "2: UPDATE t SET b = 1"}},
			reason: "no phase given and no header: expand",
		},
		{
			name:   "given phase",
			file:   "0003_drop.up.sql",
			src:    "ALTER TABLE t DROP a;",
			phase:  plan.Contract,
			want:   row{plan.Contract, "0003", "0003_drop", "0003_drop.up.sql", false, []string{"1: ALTER TABLE t DROP a"}},
			reason: "golang-migrate naming gives version and name",
		},
		{
			name:   "header decides",
			file:   "x.sql",
			src:    "-- straddle:phase migrate\nUPDATE t SET b = 1;",
			want:   row{plan.Migrate, "x", "x", "x.sql", false, []string{"2: UPDATE t SET b = 1"}},
			reason: "with no phase given, the header wins over the default",
		},
		{
			name:   "header agrees",
			file:   "x.sql",
			src:    "-- straddle:phase migrate\nUPDATE t SET b = 1;",
			phase:  plan.Migrate,
			want:   row{plan.Migrate, "x", "x", "x.sql", false, []string{"2: UPDATE t SET b = 1"}},
			reason: "agreeing header and phase",
		},
		{
			name:   "goose markers",
			file:   "20240101_idx.sql",
			src:    "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX i ON t (a);\n-- +goose Down\nDROP INDEX i;",
			phase:  plan.Expand,
			want:   row{plan.Expand, "20240101", "20240101_idx", "20240101_idx.sql", true, []string{"3: CREATE INDEX i ON t (a)"}},
			reason: "goose sections and NO TRANSACTION in a single file",
		},
		{
			name:   "dbmate markers",
			file:   "V2__idx.sql",
			src:    "-- migrate:up transaction:false\nCREATE INDEX i ON t (a);\n-- migrate:down\nDROP INDEX i;",
			want:   row{plan.Expand, "2", "V2__idx", "V2__idx.sql", true, []string{"2: CREATE INDEX i ON t (a)"}},
			reason: "dbmate sections in a single file, Flyway naming",
		},
		{
			name:   "concurrently",
			file:   "idx.sql",
			src:    "CREATE INDEX CONCURRENTLY i ON t (a);",
			want:   row{plan.Expand, "idx", "idx", "idx.sql", true, []string{"1: CREATE INDEX CONCURRENTLY i ON t (a)"}},
			reason: "a statement that cannot run in a transaction marks the step",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{tt.file: tt.src})
			step, err := LoadFile(filepath.Join(dir, tt.file), tt.phase)
			if err != nil {
				t.Fatalf("LoadFile: %v (%s)", err, tt.reason)
			}
			if diff := cmp.Diff([]row{tt.want}, rows(t, dir, []Step{step})); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name   string
		src    string // "" means the file does not exist
		phase  plan.Phase
		want   string // DIR stands for the directory
		reason string
	}{
		{
			name:   "missing file",
			want:   "DIR/m.sql: cannot read: no such file or directory",
			reason: "bad input, not a crash",
		},
		{
			name:   "header contradicts phase",
			src:    "-- straddle:phase contract\nSELECT 1;",
			phase:  plan.Expand,
			want:   "DIR/m.sql:1: phase header says contract but the file is applied as expand; remove the header or change one of them",
			reason: "the same rule as a header against its subdirectory",
		},
		{
			name:   "unknown phase",
			src:    "SELECT 1;",
			phase:  "cleanup",
			want:   `bad input: DIR/m.sql: unknown phase "cleanup" (want baseline, expand, migrate or contract)`,
			reason: "callers pass parsed phases, but an invalid one is still caught",
		},
		{
			name:   "unterminated StatementBegin",
			src:    "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;",
			want:   "DIR/m.sql:2: -- +goose StatementBegin has no matching -- +goose StatementEnd",
			reason: "in-file markers are honoured",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			if tt.src != "" {
				files["m.sql"] = tt.src
			}
			dir := writeTree(t, files)
			_, err := LoadFile(filepath.Join(dir, "m.sql"), tt.phase)
			if err == nil {
				t.Fatalf("no error; want %q (%s)", tt.want, tt.reason)
			}
			if !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("error does not wrap plan.ErrBadInput: %v", err)
			}
			if diff := cmp.Diff(tt.want, strings.ReplaceAll(err.Error(), dir, "DIR")); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		want   Format
		reason string
	}{
		{"golang-migrate", map[string]string{"1_a.up.sql": "SELECT 1;", "1_a.down.sql": "SELECT 2;"}, GolangMigrate, "by name"},
		{"golang-migrate down only", map[string]string{"1_a.up.sql": "SELECT 1;", "2_b.down.sql": "SELECT 2;"}, GolangMigrate, "a lone down file is still golang-migrate"},
		{"goose", map[string]string{"1_a.sql": "-- +goose up\nSELECT 1;"}, Goose, "goose annotations are case-insensitive"},
		{"dbmate", map[string]string{"1_a.sql": "-- migrate:up\nSELECT 1;"}, Dbmate, "by marker"},
		{"flyway", map[string]string{"V1__a.sql": "SELECT 1;", "V2__b.sql": "SELECT 2;"}, Flyway, "by name"},
		{"plain", map[string]string{"a.sql": "SELECT 1;", "b.sql": "SELECT 2;"}, Plain, "no markers"},
		{"plain with phases", map[string]string{"expand/a.sql": "SELECT 1;", "contract/b.sql": "SELECT 2;"}, Plain, "subdirectories are read for detection too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(writeTree(t, tt.files), Options{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if set.Format != tt.want {
				t.Errorf("Format = %s, want %s: %s", set.Format, tt.want, tt.reason)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("alembic"); !errors.Is(err, plan.ErrBadInput) {
		t.Errorf("ParseFormat(alembic) error %v does not wrap ErrBadInput", err)
	}
}

func TestRefs(t *testing.T) {
	set, err := Load(filepath.Join(testdata, "phased"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []plan.StepRef{
		{Name: "0001_create_users", Phase: plan.Baseline},
		{Name: "0002_add_full_name", Phase: plan.Expand},
		{Name: "0005_index_full_name", Phase: plan.Expand},
		{Name: "0003_backfill_full_name", Phase: plan.Migrate},
		{Name: "0004_drop_name", Phase: plan.Contract},
	}
	if diff := cmp.Diff(want, set.Refs()); diff != "" {
		t.Errorf("Refs (-want +got):\n%s", diff)
	}
}

func TestLoadAllows(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"001_a.sql": "-- straddle:phase baseline\nCREATE TABLE t (x int);\n",
		"002_b.sql": "-- straddle:phase expand\n--   straddle:allow drop-in-expand: column unused since v1.2  \n" +
			"-- straddle:allow index-not-concurrent: the table is empty: t is new\nALTER TABLE t DROP COLUMN x;\n",
		"003_c.sql": "-- straddle:phase contract\nSELECT 1;\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := Load(dir, Options{Format: Plain})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "002_b.sql")
	want := []plan.Allow{
		{Rule: plan.RuleDropInExpand, Reason: "column unused since v1.2", File: file, Line: 2},
		{Rule: plan.RuleIndexNotConcurrent, Reason: "the table is empty: t is new", File: file, Line: 3},
	}
	if diff := cmp.Diff(want, set.Steps[1].Allows); diff != "" {
		t.Errorf("allows of 002_b (-want +got), the reason is what follows the first colon, trimmed:\n%s", diff)
	}
	if len(set.Steps[0].Allows)+len(set.Steps[2].Allows) != 0 {
		t.Errorf("allows belong to their own step only: %v %v", set.Steps[0].Allows, set.Steps[2].Allows)
	}

	// goose: the exception may sit in the up section's header.
	g := filepath.Join(t.TempDir(), "004_d.sql")
	if err := os.WriteFile(g, []byte("-- +goose Up\n-- straddle:allow rename-in-expand: a view keeps the old name\nALTER TABLE t RENAME TO u;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := LoadFile(g, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Allows) != 1 || st.Allows[0].Rule != plan.RuleRenameInExpand || st.Allows[0].Line != 2 {
		t.Errorf("goose up-section allow: got %+v", st.Allows)
	}
}
