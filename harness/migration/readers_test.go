package migration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/enginetest"
	"github.com/straddle-dev/straddle/harness/plan"
)

// atlasDown is a file of Atlas's own test directory (ariga/atlas,
// sql/migrate/testdata/migrate) and the atlas.sum entry `atlas migrate hash`
// wrote for it; the first line is the sum of that one entry.
const (
	atlasDown    = "DROP TABLE IF EXISTS t;"
	atlasDownSum = "h1:Bt7ZZPG37gkZotLQMjydz2fedy3wWGfEKaYuPnluXU0=\n1_initial.down.sql h1:0zypK43rgPbgvVUgVJABGN25VgM1QSeU+LJDBb8cEQI=\n"
)

// realProjectCases are directories laid out as real projects keep them, per
// format, with the steps each becomes on family.
var realProjectCases = []struct {
	name       string
	files      map[string]string
	family     engine.Family
	wantFormat Format
	want       []row
	reason     string
}{{
	name: "empty and comment-only migrations",
	files: map[string]string{
		"1_a.up.sql": "CREATE TABLE t (id int);\n", "2_b.up.sql": "", "3_c.up.sql": "-- nothing for this database\n/* really */\n",
		"4_d.up.sql": "ALTER TABLE t ADD COLUMN v int;\n",
	},
	wantFormat: GolangMigrate,
	want: []row{
		{plan.Expand, "1", "1_a", "1_a.up.sql", false, []string{"1: CREATE TABLE t (id int)"}},
		{plan.Expand, "2", "2_b", "2_b.up.sql", false, nil},
		{plan.Expand, "3", "3_c", "3_c.up.sql", false, nil},
		{plan.Expand, "4", "4_d", "4_d.up.sql", false, []string{"1: ALTER TABLE t ADD COLUMN v int"}},
	},
	reason: "an identity server keeps 21 of 346 such files: they are no-op steps, listed, not an error",
}, {
	name:       "empty goose up section",
	files:      map[string]string{"1_a.sql": "-- +goose Up\n-- +goose Down\nDROP TABLE t;"},
	wantFormat: Goose,
	want:       []row{{plan.Expand, "1", "1_a", "1_a.sql", false, nil}},
	reason:     "the down section does not count; the step applies nothing",
}, {
	name: "popx per-dialect files on postgres",
	files: map[string]string{
		"20200101000001_users.up.sql":                      "CREATE TABLE users (id int);\n",
		"20200101000002_index.postgres.up.sql":             "CREATE INDEX CONCURRENTLY users_id ON users (id);\n",
		"20200101000002_index.mysql.up.sql":                "CREATE INDEX users_id ON users (id);\n",
		"20200101000002_index.cockroach.up.sql":            "CREATE INDEX users_id ON users (id);\n",
		"20200101000002_index.sqlite3.up.sql":              "CREATE INDEX users_id ON users (id);\n",
		"20200101000002_index.postgres.down.sql":           "DROP INDEX users_id;\n",
		"20200101000003_name.up.sql":                       "ALTER TABLE users ADD COLUMN name text;\n",
		"20200101000003_name.mysql.up.sql":                 "ALTER TABLE users ADD COLUMN name varchar(100);\n",
		"20200101000004_vacuum.postgres.autocommit.up.sql": "VACUUM users;\n",
		"20200101000004_vacuum.mysql.up.sql":               "",
	},
	family:     engine.Postgres,
	wantFormat: GolangMigrate,
	want: []row{
		{plan.Expand, "20200101000001", "20200101000001_users", "20200101000001_users.up.sql", false, []string{"1: CREATE TABLE users (id int)"}},
		{plan.Expand, "20200101000002", "20200101000002_index", "20200101000002_index.postgres.up.sql", true, []string{"1: CREATE INDEX CONCURRENTLY users_id ON users (id)"}},
		{plan.Expand, "20200101000003", "20200101000003_name", "20200101000003_name.up.sql", false, []string{"1: ALTER TABLE users ADD COLUMN name text"}},
		{plan.Expand, "20200101000004", "20200101000004_vacuum", "20200101000004_vacuum.postgres.autocommit.up.sql", true, []string{"1: VACUUM users"}},
	},
	reason: "popx picks the family's file over the one for every database, skips cockroach and sqlite3, and .autocommit runs outside a transaction",
}, {
	name: "popx per-dialect files on mysql",
	files: map[string]string{
		"20200101000001_users.up.sql":         "CREATE TABLE users (id int);\n",
		"20200101000002_name.up.sql":          "ALTER TABLE users ADD COLUMN name text;\n",
		"20200101000002_name.mysql.up.sql":    "ALTER TABLE users ADD COLUMN name varchar(100);\n",
		"20200101000003_noop.mysql.up.sql":    "",
		"20200101000003_noop.postgres.up.sql": "COMMENT ON TABLE users IS 'u';\n",
	},
	family:     engine.MySQL,
	wantFormat: GolangMigrate,
	want: []row{
		{plan.Expand, "20200101000001", "20200101000001_users", "20200101000001_users.up.sql", false, []string{"1: CREATE TABLE users (id int)"}},
		{plan.Expand, "20200101000002", "20200101000002_name", "20200101000002_name.mysql.up.sql", false, []string{"1: ALTER TABLE users ADD COLUMN name varchar(100)"}},
		{plan.Expand, "20200101000003", "20200101000003_noop", "20200101000003_noop.mysql.up.sql", false, nil},
	},
	reason: "the same directory on the other family; steps keep one name across families",
}, {
	name:       "golang-migrate name with a dot",
	files:      map[string]string{"1_add.users.up.sql": "CREATE TABLE users (id int);\n", "2_x.oracle.up.sql": "ALTER TABLE users ADD COLUMN v int;\n"},
	wantFormat: GolangMigrate,
	want: []row{
		{plan.Expand, "1", "1_add.users", "1_add.users.up.sql", false, []string{"1: CREATE TABLE users (id int)"}},
		{plan.Expand, "2", "2_x.oracle", "2_x.oracle.up.sql", false, []string{"1: ALTER TABLE users ADD COLUMN v int"}},
	},
	reason: "a dot that names no popx dialect is part of the name, as golang-migrate reads it",
}, {
	name: "atlas with atlas.sum and txmode",
	files: map[string]string{
		"1_initial.down.sql": atlasDown,
		"atlas.sum":          atlasDownSum,
	},
	wantFormat: Atlas,
	want:       []row{{plan.Expand, "1", "1_initial.down", "1_initial.down.sql", false, []string{"1: DROP TABLE IF EXISTS t"}}},
	reason:     "a directory atlas migrate hash wrote the sum of checks out",
}, {
	name: "golang-migrate directory with an atlas.sum of its up files",
	files: map[string]string{
		"1_users.up.sql": "CREATE TABLE users (id int);\n", "1_users.down.sql": "DROP TABLE users;\n",
		"2_email.up.sql": "ALTER TABLE users ADD COLUMN email text;\n", "2_email.down.sql": "ALTER TABLE users DROP COLUMN email;\n",
		// What atlas migrate hash writes for --dir-format golang-migrate: the
		// up files only (openmeterio/openmeter's ent migrations, 7e57a39).
		"atlas.sum": "h1:ERLbJqmxs3IvcElyRnTMsGbWV1miWwyEGBm0mp2fVTg=\n1_users.up.sql h1:pueDjvg/KHzKNL6db+Vdqg67YxtSAfK9SMR4vOY+rAQ=\n2_email.up.sql h1:4xB4wWIMJ7AVfN+p0Tr4RONTCyPI5OtMtnrHLIEMBEw=\n",
	},
	wantFormat: GolangMigrate,
	want: []row{
		{plan.Expand, "1", "1_users", "1_users.up.sql", false, []string{"1: CREATE TABLE users (id int)"}},
		{plan.Expand, "2", "2_email", "2_email.up.sql", false, []string{"1: ALTER TABLE users ADD COLUMN email text"}},
	},
	reason: "ent and atlas write golang-migrate directories with an atlas.sum: they are golang-migrate's (was refused: the down files are not in the sum)",
}, {
	name: "atlas checkpoint, txmode and delimiter",
	files: map[string]string{
		"1_a.sql":    "CREATE TABLE t (id int);\n",
		"2_b.sql":    "ALTER TABLE t ADD COLUMN v int;\n",
		"3_ckpt.sql": "-- atlas:checkpoint\n\nCREATE TABLE t (id int, v int);\n",
		"4_idx.sql":  "-- atlas:txmode none\n-- atlas:delimiter //\n\nCREATE INDEX CONCURRENTLY t_v ON t (v)//\nCOMMENT ON TABLE t IS 'a;b'//\n",
		// Written by the algorithm of atlas's sql/migrate (checked against its
		// own testdata above).
		"atlas.sum": "h1:pL6/0FQRKvPN/50wlkGwk1q9tYiyFoCl2ARpelrgKgk=\n1_a.sql h1:RyL1nDQ6LvKjltyMld6lIILdIMAYseO5LygOKjzFtaU=\n2_b.sql h1:KdhxzYeZWzRtyi0lnUDMmNDAl62r2V2WNhp6J9pLMWo=\n3_ckpt.sql h1:Ku3F1WSKqmzweOVhcNaeK3W+1NukqqUIhSr4rdLT25M=\n4_idx.sql h1:PNovZNyQ5mG4Twa8EkgJF/8qtZM5SwT4dAxHfZa4rBQ=\n",
	},
	family:     engine.Postgres,
	wantFormat: Atlas,
	want: []row{
		{plan.Expand, "3", "3_ckpt", "3_ckpt.sql", false, []string{"3: CREATE TABLE t (id int, v int)"}},
		{plan.Expand, "4", "4_idx", "4_idx.sql", true, []string{"4: CREATE INDEX CONCURRENTLY t_v ON t (v)", "5: COMMENT ON TABLE t IS 'a;b'"}},
	},
	reason: "an empty database starts at the last checkpoint, as atlas migrate does; txmode none and a custom delimiter",
}, {
	name: "sqitch plan with a reworked change",
	files: map[string]string{
		"sqitch.plan": "%syntax-version=1.0.0\n%project=flipr\n\nappschema 2013-12-30T23:19:06Z Marge <marge@example.com> # Add schema.\n" +
			"users [appschema] 2013-12-30T23:49:00Z Marge <marge@example.com> # Users.\n@v1.0.0 2013-12-31T00:00:00Z Marge <marge@example.com> # Tag.\n\n" +
			"users [users@v1.0.0] 2014-01-02T00:00:00Z Marge <marge@example.com> # Rework users.\n",
		"deploy/appschema.sql":    "-- Deploy flipr:appschema to pg\n\nBEGIN;\n\nCREATE SCHEMA flipr;\n\nCOMMIT;\n",
		"deploy/users@v1.0.0.sql": "-- Deploy flipr:users to pg\n-- requires: appschema\n\nBEGIN;\nCREATE TABLE flipr.users (nickname text);\nCOMMIT;\n",
		"deploy/users.sql":        "-- straddle:phase migrate\nBEGIN;\nALTER TABLE flipr.users ADD COLUMN twitter text;\nUPDATE flipr.users SET twitter = '';\nCOMMIT;\n",
		"revert/appschema.sql":    "DROP SCHEMA flipr;\n",
		"verify/appschema.sql":    "SELECT 1;\n",
	},
	family:     engine.Postgres,
	wantFormat: Sqitch,
	want: []row{
		{plan.Expand, "0001", "appschema", "deploy/appschema.sql", false, []string{"5: CREATE SCHEMA flipr"}},
		{plan.Expand, "0002", "users@v1.0.0", "deploy/users@v1.0.0.sql", false, []string{"5: CREATE TABLE flipr.users (nickname text)"}},
		{plan.Migrate, "0003", "users", "deploy/users.sql", false, []string{"3: ALTER TABLE flipr.users ADD COLUMN twitter text", "4: UPDATE flipr.users SET twitter = ''"}},
	},
	reason: "plan order; a reworked change deploys users@TAG first; sqitch's BEGIN/COMMIT wrapper is the step's transaction",
}, {
	name: "sqitch rework after two tags",
	files: map[string]string{
		"sqitch.plan": "%syntax-version=1.0.0\n%project=demo\n\nusers 2024-01-01T00:00:00Z Dev <dev@example.com>\ntouch_fn 2024-01-01T00:01:00Z Dev <dev@example.com>\n" +
			"@v1.0 2024-01-01T00:02:00Z Dev <dev@example.com>\nemails [users] 2024-01-02T00:00:00Z Dev <dev@example.com>\n@v1.1 2024-01-02T00:01:00Z Dev <dev@example.com>\n" +
			"touch_fn [touch_fn@v1.1] 2024-01-03T00:00:00Z Dev <dev@example.com> # rework\n",
		"deploy/users.sql":         "CREATE TABLE users (id int);\n",
		"deploy/touch_fn@v1.1.sql": "CREATE FUNCTION touch() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n",
		"deploy/emails.sql":        "CREATE TABLE emails (id int);\n",
		"deploy/touch_fn.sql":      "CREATE OR REPLACE FUNCTION touch() RETURNS int AS $$ SELECT 2 $$ LANGUAGE sql;\n",
	},
	family:     engine.Postgres,
	wantFormat: Sqitch,
	want: []row{
		{plan.Expand, "0001", "users", "deploy/users.sql", false, []string{"1: CREATE TABLE users (id int)"}},
		{plan.Expand, "0002", "touch_fn@v1.1", "deploy/touch_fn@v1.1.sql", false, []string{"1: CREATE FUNCTION touch() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql"}},
		{plan.Expand, "0003", "emails", "deploy/emails.sql", false, []string{"1: CREATE TABLE emails (id int)"}},
		{plan.Expand, "0004", "touch_fn", "deploy/touch_fn.sql", false, []string{"1: CREATE OR REPLACE FUNCTION touch() RETURNS int AS $$ SELECT 2 $$ LANGUAGE sql"}},
	},
	reason: "sqitch rework names the copy after the latest tag (touch_fn@v1.1), and sqitch tries the tags between the change and its rework latest first (chef-server's keys_update_trigger@users_email_functional_index)",
}, {
	name: "liquibase formatted SQL",
	files: map[string]string{
		"001_init.sql": "--liquibase formatted sql\n\n--changeset alice:create-users\nCREATE TABLE users (id int, name varchar(50));\n--rollback DROP TABLE users;\n\n" +
			"--changeset alice:users-index runInTransaction:false dbms:postgresql\n-- straddle:phase migrate\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n\n" +
			"--changeset bob:mysql-only dbms:mysql,mariadb\nCREATE INDEX users_name ON users (name);\n",
		"002_more.sql": "--liquibase formatted sql\n--changeset bob:fn splitStatements:false\n-- straddle:phase contract\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n",
	},
	family:     engine.Postgres,
	wantFormat: Liquibase,
	want: []row{
		{plan.Expand, "000001", "create-users", "001_init.sql", false, []string{"4: CREATE TABLE users (id int, name varchar(50))"}},
		{plan.Migrate, "000002", "users-index", "001_init.sql", true, []string{"9: CREATE INDEX CONCURRENTLY users_name ON users (name)"}},
		{plan.Contract, "000003", "fn", "002_more.sql", false, []string{"3: CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"}},
	},
	reason: "one step per changeset, files by name; runInTransaction:false, dbms filters, splitStatements:false and a phase line per changeset",
}}

func TestLoadRealProjects(t *testing.T) {
	for _, tt := range realProjectCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			set, err := Load(dir, Options{Family: tt.family})
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

// TestRealProjectsApply applies every step of each directory to a real server of
// its family (postgres for directories for every family): each step applies.
func TestRealProjectsApply(t *testing.T) {
	for _, tt := range realProjectCases {
		if tt.name == "atlas with atlas.sum and txmode" {
			continue // atlas's own test file drops a table no step created; nothing to apply
		}
		fam := tt.family
		if fam == "" {
			fam = engine.Postgres
		}
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			set, err := Load(dir, Options{Family: fam})
			if err != nil {
				t.Fatal(err)
			}
			spec := "postgres"
			if fam == engine.MySQL {
				spec = "mariadb"
			}
			db := enginetest.Open(t, enginetest.Database(t, fleet, spec))
			ctx := context.Background()
			for _, st := range set.Steps {
				for _, s := range st.Statements {
					if _, err := db.ExecContext(ctx, s.SQL); err != nil {
						t.Fatalf("%s:%d: %v", s.File, s.Line, err)
					}
				}
			}
		})
	}
}

func TestLoadRealProjectErrors(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		want   string
		reason string
	}{{
		name:   "atlas file edited",
		files:  map[string]string{"1_initial.down.sql": atlasDown + "\nDROP TABLE u;", "atlas.sum": atlasDownSum},
		want:   "DIR/1_initial.down.sql: edited since atlas.sum was written (line 2); you have a checksum error in your migration directory, as atlas migrate says: this happens when a migration file is created or edited by hand; check the file and run atlas migrate hash",
		reason: "a tampered directory is an error, as atlas migrate says",
	}, {
		name: "golang-migrate up file edited under an atlas.sum",
		files: map[string]string{
			"1_users.up.sql": "CREATE TABLE users (id bigint);\n", "1_users.down.sql": "DROP TABLE users;\n",
			"2_email.up.sql": "ALTER TABLE users ADD COLUMN email text;\n",
			"atlas.sum":      "h1:ERLbJqmxs3IvcElyRnTMsGbWV1miWwyEGBm0mp2fVTg=\n1_users.up.sql h1:pueDjvg/KHzKNL6db+Vdqg67YxtSAfK9SMR4vOY+rAQ=\n2_email.up.sql h1:4xB4wWIMJ7AVfN+p0Tr4RONTCyPI5OtMtnrHLIEMBEw=\n",
		},
		want:   "DIR/1_users.up.sql: edited since atlas.sum was written (line 2); you have a checksum error in your migration directory, as atlas migrate says: this happens when a migration file is created or edited by hand; check the file and run atlas migrate hash",
		reason: "the sum still guards the up files",
	}, {
		name:   "atlas file added",
		files:  map[string]string{"1_initial.down.sql": atlasDown, "2_more.sql": "SELECT 1;", "atlas.sum": atlasDownSum},
		want:   "DIR/2_more.sql: not in atlas.sum; you have a checksum error in your migration directory, as atlas migrate says: this happens when a migration file is created or edited by hand; check the file and run atlas migrate hash",
		reason: "a file added by hand is not in the sum",
	}, {
		name:   "atlas sum edited",
		files:  map[string]string{"1_initial.down.sql": atlasDown, "atlas.sum": strings.Replace(atlasDownSum, "0zyp", "1zyp", 1)},
		want:   "DIR/atlas.sum:1: checksum mismatch: the file's own sum does not match its entries; it was edited by hand: run atlas migrate hash",
		reason: "the first line guards the entries",
	}, {
		name:   "sqitch missing deploy script",
		files:  map[string]string{"sqitch.plan": "%project=x\n\nusers 2013-12-30T23:49:00Z Marge <m@x> # Users.\n"},
		want:   "DIR/sqitch.plan:3: change users has no deploy script DIR/deploy/users.sql",
		reason: "the plan names the change, the line says where",
	}, {
		name:   "sqitch change twice without a tag",
		files:  map[string]string{"sqitch.plan": "a 2013-12-30T23:49:00Z M <m@x>\na 2013-12-30T23:49:00Z M <m@x>\n", "deploy/a.sql": "SELECT 1;"},
		want:   "DIR/sqitch.plan:2: change a is planned twice without a tag between (first on line 1); sqitch reworks a change only after a tag",
		reason: "sqitch refuses it too",
	}, {
		name:   "liquibase changeset without id",
		files:  map[string]string{"a.sql": "--liquibase formatted sql\n--changeset alice\nSELECT 1;\n"},
		want:   "DIR/a.sql:2: --changeset alice: want author:id",
		reason: "a changeset is named author:id",
	}, {
		name:   "liquibase SQL before the first changeset",
		files:  map[string]string{"a.sql": "--liquibase formatted sql\nSELECT 1;\n--changeset a:b\nSELECT 2;\n"},
		want:   "DIR/a.sql:2: SQL before the first --changeset author:id belongs to no changeset",
		reason: "such SQL would be silently skipped",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			_, err := Load(dir, Options{Family: engine.Postgres})
			if err == nil {
				t.Fatalf("no error; want %q (%s)", tt.want, tt.reason)
			}
			var ie *plan.InputError
			if !errors.As(err, &ie) || !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("error is %T, want *plan.InputError wrapping ErrBadInput", err)
			}
			if diff := cmp.Diff(tt.want, strings.ReplaceAll(err.Error(), dir, "DIR")); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestAtlasTxMode(t *testing.T) {
	tests := []struct {
		src     string
		want    bool
		wantErr string
		reason  string
	}{
		{"-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON t (a);\n", true, "", "none runs the file outside a transaction"},
		{"-- atlas:txmode none\nCREATE INDEX CONCURRENTLY i ON t (a);\n", false, "", "without a blank line the comment belongs to the statement, as Atlas reads it"},
		{"-- atlas:txmode file\n\nSELECT 1;\n", false, "", "file is the default"},
		{"-- atlas:txmode never\n\nSELECT 1;\n", false, "f.sql:1: unknown -- atlas:txmode \"never\" (want none, file or all)", "a typo is an error"},
	}
	for _, tt := range tests {
		got, err := atlasTxMode("f.sql", tt.src)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.wantErr {
			t.Errorf("atlasTxMode(%q) = %v, %q; want %v, %q (%s)", tt.src, got, gotErr, tt.want, tt.wantErr, tt.reason)
		}
	}
}
