package lockwatch

import (
	"slices"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/migration"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// InstantStep reports whether every statement of a step only changes metadata
// (renames, views, nullable columns without a default, triggers, functions,
// comments, …): the server does no work proportional to the data, so the step
// holds its locks for milliseconds whatever the table's size. A query held up
// for the stall threshold by such a step, while the step itself waited for
// nobody, was held up by a slow machine (every core busy), not by the step: a
// lock-queue stall (the step waiting behind a long query) is seen by the lock
// monitor and kept. The classification is conservative: a statement it does not
// know is taken as doing work.
func InstantStep(f engine.Family, stmts []migration.Statement) bool {
	if len(stmts) == 0 {
		return false
	}
	for _, st := range stmts {
		if !instantStatement(f, st.SQL) {
			return false
		}
	}
	return true
}

// instantStatement classifies one statement (see InstantStep).
func instantStatement(f engine.Family, sql string) bool {
	w := sqlWords(f, sql)
	if len(w) == 0 {
		return false
	}
	at := func(i int, s ...string) bool {
		if i+len(s) > len(w) {
			return false
		}
		for k, x := range s {
			if w[i+k] != x {
				return false
			}
		}
		return true
	}
	has := func(s string) bool { return slices.Contains(w, s) }
	i := 1
	if at(0, "CREATE", "OR", "REPLACE") {
		i = 3
	}
	switch {
	case at(0, "CREATE"):
		switch {
		case at(i, "VIEW"), at(i, "ALGORITHM"), at(i, "SQL"), at(i, "DEFINER"):
			return has("VIEW") && !has("MATERIALIZED")
		case at(i, "FUNCTION"), at(i, "PROCEDURE"), at(i, "TRIGGER"), at(i, "TYPE"), at(i, "SEQUENCE"), at(i, "SCHEMA"):
			return true
		case at(i, "TABLE"):
			return !has("AS") && !has("SELECT") && !has("LIKE")
		}
		return false
	case at(0, "DROP", "VIEW"), at(0, "DROP", "FUNCTION"), at(0, "DROP", "PROCEDURE"), at(0, "DROP", "TRIGGER"),
		at(0, "DROP", "TYPE"), at(0, "DROP", "SEQUENCE"), at(0, "COMMENT", "ON"), at(0, "RENAME", "TABLE"),
		at(0, "GRANT"), at(0, "REVOKE"), at(0, "ALTER", "VIEW"):
		return true
	case at(0, "ALTER", "TYPE"):
		// ADD VALUE, RENAME VALUE, RENAME TO: catalog only.
		return has("VALUE") || at(3, "RENAME")
	case at(0, "ALTER", "TABLE"):
		return instantAlterTable(f, w[2:])
	}
	return false
}

// instantAlterTable classifies the actions of ALTER TABLE (w starts after
// "ALTER TABLE"): each comma-separated action must be catalog only.
func instantAlterTable(f engine.Family, w []string) bool {
	for len(w) > 0 && (w[0] == "IF" || w[0] == "EXISTS" || w[0] == "ONLY") {
		w = w[1:]
	}
	if len(w) < 2 {
		return false
	}
	w = w[1:] // the table's name
	var actions [][]string
	start := 0
	for i, x := range w {
		if x == "," {
			actions = append(actions, w[start:i])
			start = i + 1
		}
	}
	actions = append(actions, w[start:])
	for _, a := range actions {
		if !instantAction(f, a) {
			return false
		}
	}
	return true
}

func instantAction(f engine.Family, a []string) bool {
	if len(a) == 0 {
		return false
	}
	has := func(s string) bool { return slices.Contains(a, s) }
	switch a[0] {
	case "RENAME":
		return true
	case "ADD":
		if len(a) > 1 && (a[1] == "CONSTRAINT" || a[1] == "INDEX" || a[1] == "KEY" || a[1] == "UNIQUE" ||
			a[1] == "PRIMARY" || a[1] == "FOREIGN" || a[1] == "CHECK" || a[1] == "FULLTEXT" || a[1] == "SPATIAL") {
			return false
		}
		// A nullable column without a default: catalog only on PostgreSQL 11+
		// and MySQL 8 / MariaDB 10.3+ (instant ADD COLUMN). On PostgreSQL 11+ a
		// constant or stable default, NOT NULL or not, is too: the default is
		// kept in the catalog, no row is rewritten or checked.
		for _, x := range []string{"REFERENCES", "CHECK", "UNIQUE", "PRIMARY", "GENERATED", "AS", "AUTO_INCREMENT", "SERIAL", "BIGSERIAL", "SMALLSERIAL", "IDENTITY", "FIRST", "AFTER"} {
			if has(x) {
				return false
			}
		}
		if !has("DEFAULT") && !has("NOT") {
			return true
		}
		if f != engine.Postgres {
			return false
		}
		i := slices.Index(a, "DEFAULT")
		return i >= 0 && i+1 < len(a) && fastDefault(a[i+1])
	case "DROP":
		// PostgreSQL only marks a dropped column; MySQL may rebuild the table.
		// Dropping a default or NOT NULL is catalog only on PostgreSQL.
		return f == engine.Postgres && !has("CONSTRAINT") && !has("PRIMARY") && !has("INDEX") && !has("KEY")
	case "ALTER":
		// ALTER [COLUMN] c SET DEFAULT …, DROP DEFAULT, DROP NOT NULL.
		return (has("DEFAULT") && (has("SET") || has("DROP")) && !has("TYPE")) ||
			(f == engine.Postgres && has("DROP") && has("NOT") && has("NULL"))
	}
	return false
}

// fastDefault reports whether a column default that starts with word w (a
// sqlWords word: "?" is a string) is one PostgreSQL 11+ stores in the catalog
// when the column is added, instead of rewriting the table: a literal, or a
// stable function of the transaction's time. Anything else (random(),
// gen_random_uuid(), nextval, clock_timestamp(), an expression it does not
// know) counts as a rewrite.
func fastDefault(w string) bool {
	switch w {
	case "?", "TRUE", "FALSE", "NULL", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME",
		"LOCALTIMESTAMP", "LOCALTIME", "NOW", "TRANSACTION_TIMESTAMP":
		return true
	}
	return w != "" && (w[0] >= '0' && w[0] <= '9' || w[0] == '-' || w[0] == '.')
}

// sqlWords returns the upper-cased words and commas of sql as family f reads it
// (sqltext), without comments and without the contents of quoted strings and
// identifiers (a quoted name is one word "?"), parentheses kept out: enough to read
// a statement's shape. A qualified name (s.t, t.c) is one word. Text left open (a
// quote, a comment) gives no words: the statement is then not known.
func sqlWords(f engine.Family, sql string) []string {
	toks, err := sqltext.Lex(sql, sqltext.For(f))
	if err != nil {
		return nil
	}
	var out []string
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Kind == sqltext.String || t.Kind == sqltext.Quoted:
			if depth == 0 {
				out = append(out, "?")
			}
		case t.Text == "(":
			depth++
		case t.Text == ")":
			depth--
		case t.Text == ",":
			if depth == 0 {
				out = append(out, ",")
			}
		case namePart(t):
			// One word of the adjacent name parts: s.t, $1, 2.5.
			j := i
			for j+1 < len(toks) && toks[j+1].Pos == toks[j].End && namePart(toks[j+1]) {
				j++
			}
			w := strings.ToUpper(sql[t.Pos:toks[j].End])
			i = j
			if depth == 0 {
				out = append(out, w)
			} else if w == "SELECT" || w == "DEFAULT" || w == "NOT" {
				out = append(out, w) // inside parentheses only what changes the verdict
			}
		}
	}
	return out
}

// namePart reports whether t is part of a word for sqlWords.
func namePart(t sqltext.Token) bool {
	switch t.Kind {
	case sqltext.Word, sqltext.Number, sqltext.Param:
		return true
	}
	return t.Text == "." || t.Text == "$"
}
