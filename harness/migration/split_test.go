package migration

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
)

// lines renders statements as "line: sql" for compact wants.
func lines(stmts []Statement) []string {
	var out []string
	for _, s := range stmts {
		out = append(out, fmt.Sprintf("%d: %s", s.Line, s.SQL))
	}
	return out
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name   string
		family engine.Family
		src    string
		want   []string
		reason string
	}{
		{
			name:   "semicolons",
			src:    "SELECT 1;\nSELECT 2; SELECT 3;\n\n\nSELECT\n  4;",
			want:   []string{"1: SELECT 1", "2: SELECT 2", "2: SELECT 3", "5: SELECT\n  4"},
			reason: "a statement ends at ';' anywhere on a line, and starts at its first token's line",
		},
		{
			name:   "last statement without semicolon",
			src:    "SELECT 1;\nSELECT 2\n",
			want:   []string{"1: SELECT 1", "2: SELECT 2"},
			reason: "the end of the file ends the last statement",
		},
		{
			name:   "empty statements",
			src:    ";;\nSELECT 1;;",
			want:   []string{"2: SELECT 1"},
			reason: "stray semicolons make no statements",
		},
		{
			name:   "single quotes",
			src:    "INSERT INTO t VALUES ('a;b', 'it''s; here');\nSELECT 2;",
			want:   []string{"1: INSERT INTO t VALUES ('a;b', 'it''s; here')", "2: SELECT 2"},
			reason: "';' inside a string and doubled quotes do not end a statement",
		},
		{
			name:   "multi-line string",
			src:    "INSERT INTO t VALUES ('line 1;\nline 2');\nSELECT 2;",
			want:   []string{"1: INSERT INTO t VALUES ('line 1;\nline 2')", "3: SELECT 2"},
			reason: "line numbers keep counting inside strings",
		},
		{
			name:   "double-quoted identifier",
			src:    `CREATE TABLE "a;b" ("c""d;" int);` + "\nSELECT 2;",
			want:   []string{`1: CREATE TABLE "a;b" ("c""d;" int)`, "2: SELECT 2"},
			reason: "';' inside a quoted identifier, with a doubled quote",
		},
		{
			name:   "backticks",
			src:    "CREATE TABLE `a;b` (`c``;` int);\nSELECT 2;",
			want:   []string{"1: CREATE TABLE `a;b` (`c``;` int)", "2: SELECT 2"},
			reason: "MySQL backtick identifiers",
		},
		{
			name:   "line comments",
			src:    "-- leading; comment\nSELECT 1; -- trailing; comment\n-- only a comment;\nSELECT 2 -- before the end\n;",
			want:   []string{"2: SELECT 1", "4: SELECT 2 -- before the end"},
			reason: "comments are not statements and their ';' do not count; leading comments are dropped, inner ones kept",
		},
		{
			name:   "block comments",
			src:    "/* header;\n  more */\nSELECT /* ; */ 1;\n/* alone; */",
			want:   []string{"3: SELECT /* ; */ 1"},
			reason: "block comments span lines and hide ';'",
		},
		{
			name:   "comment only",
			src:    "-- nothing here\n/* or here */\n",
			want:   nil,
			reason: "a file of comments has no statements (Load turns that into an error)",
		},
		{
			name:   "mysql executable comment",
			src:    "/*!40101 SET NAMES utf8mb4 */;\nSELECT 1;",
			want:   []string{"1: /*!40101 SET NAMES utf8mb4 */", "2: SELECT 1"},
			reason: "MySQL runs /*! … */, so it is a statement, not a comment",
		},
		{
			name:   "hash comment at line start",
			src:    "# don't split; here\nSELECT 1;",
			want:   []string{"2: SELECT 1"},
			reason: "'# ' at the start of a line is a MySQL comment; its quote opens nothing",
		},
		{
			name:   "hash operator at line start",
			src:    "SELECT data\n#>> '{a;b}' FROM t;\nSELECT 2;",
			want:   []string{"1: SELECT data\n#>> '{a;b}' FROM t", "3: SELECT 2"},
			reason: "PostgreSQL's #>> operator starting a line is not a comment",
		},
		{
			name: "dollar quotes",
			src: "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 'x;';\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n" +
				"DO $body$ BEGIN PERFORM 1; END $body$;\nSELECT $1, a$b$ FROM t;",
			want: []string{
				"1: CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 'x;';\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql",
				"7: DO $body$ BEGIN PERFORM 1; END $body$",
				"8: SELECT $1, a$b$ FROM t",
			},
			reason: "function bodies and DO blocks are one statement; $1 and a$b$ are no dollar quotes",
		},
		{
			name:   "nested dollar quotes",
			src:    "DO $outer$ BEGIN EXECUTE $inner$ SELECT 1; $inner$; END $outer$;",
			want:   []string{"1: DO $outer$ BEGIN EXECUTE $inner$ SELECT 1; $inner$; END $outer$"},
			reason: "only the opening tag closes a dollar quote",
		},
		{
			name:   "escape string",
			family: engine.Postgres,
			src:    `SELECT E'a\';b', 'c:\';` + "\nSELECT 2;",
			want:   []string{`1: SELECT E'a\';b', 'c:\'`, "2: SELECT 2"},
			reason: `PostgreSQL: backslash escapes only in E'…'; 'c:\' is a whole string`,
		},
		{
			name:   "backslash escapes",
			src:    `INSERT INTO t VALUES ('it\'s; fine', 'c:\\');` + "\nSELECT 2;",
			want:   []string{`1: INSERT INTO t VALUES ('it\'s; fine', 'c:\\')`, "2: SELECT 2"},
			reason: "both families by default: MySQL backslash escapes",
		},
		{
			name:   "mysql double-quoted string",
			family: engine.MySQL,
			src:    `INSERT INTO t VALUES ("a\";b");` + "\nSELECT 2;",
			want:   []string{`1: INSERT INTO t VALUES ("a\";b")`, "2: SELECT 2"},
			reason: "MySQL: \"…\" is a string with backslash escapes",
		},
		{
			name:   "mysql hash comment anywhere",
			family: engine.MySQL,
			src:    "SELECT 1; # it's; here\nSELECT 2;",
			want:   []string{"1: SELECT 1", "2: SELECT 2"},
			reason: "MySQL: '#' starts a comment anywhere",
		},
		{
			name:   "postgres nested comments",
			family: engine.Postgres,
			src:    "/* a /* b; */ c; */ SELECT 1;",
			want:   []string{"1: SELECT 1"},
			reason: "PostgreSQL block comments nest",
		},
		{
			name: "trigger without delimiter",
			src: "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW\nBEGIN\n  SET NEW.a = 1;\n" +
				"  IF NEW.b IS NULL THEN SET NEW.b = CASE WHEN NEW.a THEN 2 ELSE 3 END; END IF;\nEND;\nSELECT 1;",
			want: []string{
				"1: CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW\nBEGIN\n  SET NEW.a = 1;\n  IF NEW.b IS NULL THEN SET NEW.b = CASE WHEN NEW.a THEN 2 ELSE 3 END; END IF;\nEND",
				"6: SELECT 1",
			},
			reason: "a MySQL trigger body is one statement: BEGIN … END and CASE … END nest, END IF closes no block",
		},
		{
			name: "procedure with definer and nested blocks",
			src: "CREATE DEFINER=`root`@`localhost` PROCEDURE p()\nBEGIN\n  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; END;\n" +
				"  lbl: LOOP LEAVE lbl; END LOOP;\n  CASE WHEN 1 THEN SELECT 1; END CASE;\nEND;\nSELECT 2;",
			want: []string{
				"1: CREATE DEFINER=`root`@`localhost` PROCEDURE p()\nBEGIN\n  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; END;\n  lbl: LOOP LEAVE lbl; END LOOP;\n  CASE WHEN 1 THEN SELECT 1; END CASE;\nEND",
				"7: SELECT 2",
			},
			reason: "DEFINER before PROCEDURE; a nested BEGIN block and a CASE statement inside",
		},
		{
			name:   "event body",
			src:    "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO BEGIN DELETE FROM t; DELETE FROM u; END;\nSELECT 1;",
			want:   []string{"1: CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO BEGIN DELETE FROM t; DELETE FROM u; END", "2: SELECT 1"},
			reason: "events have bodies too",
		},
		{
			name:   "postgres begin atomic",
			src:    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;",
			want:   []string{"1: CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", "2: SELECT 3"},
			reason: "SQL-standard function bodies (PostgreSQL 14+)",
		},
		{
			name:   "mariadb begin not atomic",
			src:    "BEGIN NOT ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nSELECT 3;",
			want:   []string{"1: BEGIN NOT ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND", "5: SELECT 3"},
			reason: "MariaDB's anonymous compound statement",
		},
		{
			name:   "transaction begin",
			src:    "BEGIN;\nUPDATE t SET a = 1;\nCOMMIT;\nBEGIN WORK;\nSELECT 1;\nEND;",
			want:   []string{"1: BEGIN", "2: UPDATE t SET a = 1", "3: COMMIT", "4: BEGIN WORK", "5: SELECT 1", "6: END"},
			reason: "outside a routine, BEGIN starts a transaction and is a statement by itself",
		},
		{
			name:   "begin as a column name",
			src:    "CREATE TABLE event (id int, begin date, `end` date);\nSELECT 2;",
			want:   []string{"1: CREATE TABLE event (id int, begin date, `end` date)", "2: SELECT 2"},
			reason: "a table named event is not a routine, so its begin column opens no block",
		},
		{
			name: "delimiter",
			src:  "SELECT 0;\nDELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND //\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1//\nDELIMITER ;\nSELECT 2;",
			want: []string{
				"1: SELECT 0",
				"3: CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND",
				"7: CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1",
				"9: SELECT 2",
			},
			reason: "DELIMITER lines are client commands, not statements; the custom delimiter is dropped",
		},
		{
			name:   "delimiter dollars",
			src:    "DELIMITER $$\nCREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END$$\nDELIMITER ;",
			want:   []string{"2: CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END"},
			reason: "the common DELIMITER $$ is a delimiter, not a dollar quote",
		},
		{
			name:   "parentheses",
			src:    "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;",
			want:   []string{"1: CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", "2: SELECT 1"},
			reason: "PostgreSQL rules hold several commands in parentheses",
		},
		{
			name:   "byte order mark",
			src:    "\uFEFFSELECT 1;",
			want:   []string{"1: SELECT 1"},
			reason: "editors on Windows save one; it is not SQL",
		},
		{
			name:   "crlf",
			src:    "SELECT 1;\r\n-- c\r\nSELECT 2;\r\n",
			want:   []string{"1: SELECT 1", "3: SELECT 2"},
			reason: "Windows line endings",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitFor(tt.family, "f.sql", tt.src)
			if err != nil {
				t.Fatalf("SplitFor: %v (%s)", err, tt.reason)
			}
			for _, s := range got {
				if s.File != "f.sql" {
					t.Errorf("statement at line %d has File %q, want f.sql", s.Line, s.File)
				}
			}
			if diff := cmp.Diff(tt.want, lines(got)); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
			if tt.family == "" {
				generic, err := Split("f.sql", tt.src)
				if err != nil || !cmp.Equal(got, generic) {
					t.Errorf("Split differs from SplitFor(\"\"): %v", err)
				}
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name   string
		family engine.Family
		src    string
		want   string
		reason string
	}{
		{
			name:   "unterminated string",
			src:    "SELECT 1;\nSELECT 'abc;\nSELECT 2;\n",
			want:   "f.sql:2: unterminated string literal: missing closing '",
			reason: "the error points at the opening quote's line",
		},
		{
			name:   "unterminated identifier",
			src:    "SELECT \"abc;\n",
			want:   `f.sql:1: unterminated quoted identifier: missing closing "`,
			reason: `"…" is an identifier outside MySQL`,
		},
		{
			name:   "unterminated mysql double-quoted string",
			family: engine.MySQL,
			src:    "SELECT \"abc;\n",
			want:   `f.sql:1: unterminated double-quoted string: missing closing "`,
			reason: `"…" is a string in MySQL`,
		},
		{
			name:   "unterminated backtick",
			src:    "\n\nSELECT `abc;\n",
			want:   "f.sql:3: unterminated quoted identifier: missing closing `",
			reason: "backticks too",
		},
		{
			name:   "unterminated dollar quote",
			src:    "SELECT 1;\nDO $fn$ BEGIN PERFORM 1; END $$;\n",
			want:   "f.sql:2: unterminated dollar-quoted string: missing closing $fn$",
			reason: "the closing tag must match the opening one",
		},
		{
			name:   "unterminated block comment",
			src:    "SELECT 1;\n\n/* comment\nSELECT 2;\n",
			want:   "f.sql:3: unterminated block comment: missing closing */",
			reason: "an open comment would swallow the rest of the file",
		},
		{
			name:   "unterminated nested comment",
			family: engine.Postgres,
			src:    "/* a /* b */\nSELECT 1;",
			want:   "f.sql:1: unterminated block comment: missing closing */",
			reason: "PostgreSQL comments nest, so one */ is not enough",
		},
		{
			name:   "unclosed parenthesis",
			src:    "SELECT 1;\nCREATE TABLE t (\n  a int;\nSELECT 2;",
			want:   "f.sql:2: unclosed parenthesis: this '(' has no matching ')'",
			reason: "an open parenthesis would swallow the rest of the file",
		},
		{
			name:   "unterminated trigger body",
			src:    "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW\nBEGIN\n  SET NEW.a = 1;\nSELECT 2;",
			want:   "f.sql:2: unterminated block: this BEGIN or CASE has no matching END",
			reason: "the error points at the BEGIN that never ends",
		},
		{
			name:   "empty delimiter",
			src:    "DELIMITER \nSELECT 1;",
			want:   "f.sql:1: DELIMITER needs a delimiter, e.g. DELIMITER //",
			reason: "DELIMITER with nothing after it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SplitFor(tt.family, "f.sql", tt.src)
			if err == nil {
				t.Fatalf("no error; want %q (%s)", tt.want, tt.reason)
			}
			var ie *plan.InputError
			if !errors.As(err, &ie) || !errors.Is(err, plan.ErrBadInput) {
				t.Errorf("error %T does not wrap *plan.InputError and ErrBadInput", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("%s\n(-want +got):\n%s", tt.reason, diff)
			}
		})
	}
}

func TestSplitNoTransaction(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		want   bool
		reason string
	}{
		{"plain ddl", "CREATE INDEX i ON t (a); ALTER TABLE t ADD b int;", false, "ordinary DDL runs in a transaction"},
		{"create index concurrently", "CREATE INDEX CONCURRENTLY i ON t (a);", true, "PostgreSQL refuses it in a transaction block"},
		{"drop index concurrently", "drop index concurrently i;", true, "case does not matter"},
		{"concurrently in a string", "INSERT INTO log VALUES ('CREATE INDEX CONCURRENTLY');", false, "text inside strings is not SQL"},
		{"concurrently in a comment", "-- CONCURRENTLY\nSELECT 1;", false, "nor is text inside comments"},
		{"vacuum", "VACUUM;", true, "VACUUM cannot run in a transaction"},
		{"alter system", "ALTER SYSTEM SET work_mem = '8MB';", true, "ALTER SYSTEM cannot run in a transaction"},
		{"create database", "CREATE DATABASE x;", true, "CREATE DATABASE cannot run in a transaction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := split(syntaxOf(""), "f.sql", tt.src, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("noTx = %v, want %v: %s", got, tt.want, tt.reason)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b   string
		natur  bool
		want   int
		reason string
	}{
		{a: "1.2", b: "1.10", want: -1, reason: "components compare as numbers"},
		{a: "0002", b: "2", want: 0, reason: "leading zeros do not count"},
		{a: "1", b: "1.0", want: 0, reason: "Flyway: trailing zero components do not count"},
		{a: "99999999999999999999", b: "100000000000000000000", want: -1, reason: "no overflow"},
		{a: "2_b.sql", b: "10_a.sql", natur: true, want: -1, reason: "natural order: digit runs as numbers"},
		{a: "a.sql", b: "b.sql", natur: true, want: -1, reason: "natural order: text byte by byte"},
		{a: "01_a.sql", b: "1_a.sql", natur: true, want: -1, reason: "natural order: total, byte order breaks ties"},
	}
	for _, tt := range tests {
		f := compareVersions
		if tt.natur {
			f = compareNatural
		}
		if got := f(tt.a, tt.b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d: %s", tt.a, tt.b, got, tt.want, tt.reason)
		}
		if got := f(tt.b, tt.a); got != -tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d (reversed): %s", tt.b, tt.a, got, -tt.want, tt.reason)
		}
	}
}
