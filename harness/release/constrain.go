package release

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
	"github.com/straddle-dev/straddle/harness/workload"
)

// Generated arguments an application would send: a value the type accepts is not
// enough when the catalog says more about the column a placeholder is compared
// with or inserted into. constrain refines them, in this order of precedence:
//
//   - a foreign key: a key that exists in the referenced table (the first, in
//     key order), so inserts do not fail on rows the generator never wrote;
//   - a CHECK with an IN list (or postgres's = ANY (ARRAY[…])): its first value;
//   - a CHECK "col IS NULL OR …": NULL, which satisfies it whatever the other
//     columns of the row are (finalized_at with a state that is not final);
//   - a CHECK range (col >= a, col > a, col BETWEEN a AND b, col <= b, col < b):
//     a value inside it;
//   - a character column shorter than the generated "gen{{n}}" can grow: "g".
//
// Unique columns already get fresh values ({{n}}) and enums their first label.

// catalogQueries are the per-family catalog queries constrain needs: the CHECK
// clauses of a table, and the table and column a column references.
var catalogQueries = map[engine.Family]struct{ checks, fk, length string }{
	engine.Postgres: {
		length: `SELECT character_maximum_length::text FROM information_schema.columns
WHERE table_schema = ANY(current_schemas(false)) AND table_name = $1 AND column_name = $2 AND character_maximum_length IS NOT NULL`,
		checks: `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND conrelid = to_regclass($1)`,
		fk: `SELECT rt.relname::text, ra.attname::text FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_class rt ON rt.oid = c.confrelid
JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
WHERE c.contype = 'f' AND c.conrelid = to_regclass($1) AND a.attname = $2 AND cardinality(c.conkey) = 1
LIMIT 1`,
	},
	engine.MySQL: {
		length: `SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ? AND CHARACTER_MAXIMUM_LENGTH IS NOT NULL`,
		checks: `SELECT cc.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS cc
JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = ? AND tc.CONSTRAINT_TYPE = 'CHECK'`,
		fk: `SELECT REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL
LIMIT 1`,
	},
}

// constrain refines g.Args from the constraints of the columns q's placeholders
// are compared with or inserted into (see above). It reads the catalog through c.
func constrain(ctx context.Context, c *sql.Conn, f engine.Family, q *workload.Query, g *Generated) error {
	toks, lerr := sqltext.Lex(q.SQL, sqltext.For(f))
	if lerr != nil {
		return nil
	}
	cols, tables := paramColumns(toks)
	if len(cols) == 0 || len(tables) == 0 {
		return nil
	}
	cq := catalogQueries[f]
	checks := map[string][]string{} // table → CHECK clauses
	for _, t := range tables {
		if _, ok := checks[t]; ok {
			continue
		}
		clauses, err := queryStrings(ctx, c, cq.checks, t)
		if err != nil {
			return fmt.Errorf("describe %s: checks of %s: %w", q.Name, t, err)
		}
		checks[t] = clauses
	}
	for p := 1; p <= len(g.Args); p++ {
		col, ok := cols[p]
		if !ok || col == limitParam {
			continue
		}
		refined := false
		for _, t := range tables {
			ref, err := queryStrings(ctx, c, cq.fk, t, col)
			if err != nil {
				return fmt.Errorf("describe %s: foreign key of %s.%s: %w", q.Name, t, col, err)
			}
			if len(ref) == 2 {
				var key sql.NullString
				err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY 1 LIMIT 1", engine.QuoteIdent(f, ref[1]), engine.QuoteIdent(f, ref[0]))).Scan(&key)
				if err == nil && key.Valid {
					g.Args[p-1], refined = str(key.String), true
					break
				}
				if err != nil && err != sql.ErrNoRows {
					return fmt.Errorf("describe %s: a key of %s: %w", q.Name, ref[0], err)
				}
			}
		}
		if refined {
			continue
		}
		for _, t := range tables {
			if a, ok := fromChecks(checks[t], col, f); ok {
				g.Args[p-1], refined = a, true
				break
			}
		}
		if refined || g.Args[p-1] != str("gen{{n}}") {
			continue
		}
		// A string too long for a short column: "gen" and a number need a dozen
		// characters; a shorter column gets one.
		for _, t := range tables {
			n, err := queryStrings(ctx, c, cq.length, t, col)
			if err != nil {
				return fmt.Errorf("describe %s: length of %s.%s: %w", q.Name, t, col, err)
			}
			if len(n) == 1 {
				if max, err := strconv.Atoi(n[0]); err == nil && max < 16 {
					g.Args[p-1] = str("g")
				}
				break
			}
		}
	}
	return nil
}

// queryStrings runs a catalog query and returns the columns of its rows, flattened.
func queryStrings(ctx context.Context, c *sql.Conn, query string, args ...any) ([]string, error) {
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for _, v := range vals {
			out = append(out, v.String)
		}
	}
	return out, rows.Err()
}

// fromChecks finds what CHECK clauses ask of column col: an IN list's first
// value, NULL for "col IS NULL OR …", or a value in a range.
func fromChecks(clauses []string, col string, f engine.Family) (workload.Arg, bool) {
	var nullable bool
	var lower, upper *float64
	var lowerOpen, upperOpen bool
	for _, cl := range clauses {
		toks, lerr := sqltext.Lex(cl, sqltext.For(f))
		if lerr != nil {
			continue
		}
		for i, t := range toks {
			if !isColumn(t, col) {
				continue
			}
			// Skip what postgres wraps a column in: ")", "::type".
			j := i + 1
			for j < len(toks) && (toks[j].Text == ")" || toks[j].Text == "::") {
				if toks[j].Text == "::" {
					j++
				}
				j++
			}
			w := func(k int) string {
				if k < len(toks) && toks[k].Kind == sqltext.Word {
					return strings.ToUpper(toks[k].Text)
				}
				return ""
			}
			switch {
			case w(j) == "IN" || j+1 < len(toks) && toks[j].Text == "=" && w(j+1) == "ANY":
				for k := j + 1; k < len(toks) && k < j+12; k++ {
					if toks[k].Kind == sqltext.String {
						return str(unquoteLiteral(toks[k].Text)), true
					}
					if toks[k].Kind == sqltext.Number {
						return str(toks[k].Text), true
					}
				}
			case w(j) == "IS" && w(j+1) == "NULL":
				k := j + 2
				for k < len(toks) && toks[k].Text == ")" {
					k++
				}
				if w(k) == "OR" {
					nullable = true
				}
			case w(j) == "BETWEEN" && j+1 < len(toks) && toks[j+1].Kind == sqltext.Number:
				if v, err := strconv.ParseFloat(toks[j+1].Text, 64); err == nil {
					lower, lowerOpen = &v, false
				}
			case j+1 < len(toks) && toks[j].Kind == sqltext.Punct && toks[j+1].Kind == sqltext.Number:
				v, err := strconv.ParseFloat(toks[j+1].Text, 64)
				if err != nil {
					continue
				}
				switch toks[j].Text {
				case ">=":
					lower, lowerOpen = &v, false
				case ">":
					lower, lowerOpen = &v, true
				case "<=":
					upper, upperOpen = &v, false
				case "<":
					upper, upperOpen = &v, true
				}
			}
		}
	}
	switch {
	case nullable:
		return workload.Arg{Kind: workload.ArgNull}, true
	case lower != nil:
		v := *lower
		if lowerOpen {
			v++
		}
		return str(strconv.FormatFloat(v, 'f', -1, 64)), true
	case upper != nil:
		v := *upper
		if upperOpen {
			v--
		}
		return str(strconv.FormatFloat(v, 'f', -1, 64)), true
	}
	return workload.Arg{}, false
}

// isColumn reports whether t names column col.
func isColumn(t sqltext.Token, col string) bool {
	switch t.Kind {
	case sqltext.Word:
		return strings.EqualFold(t.Text, col)
	case sqltext.Quoted:
		return strings.EqualFold(sqltext.UnquoteIdent(t.Text), col)
	}
	return false
}

// unquoteLiteral returns the value of a 'string' literal (E'…' and mysql's
// backslashes aside).
func unquoteLiteral(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') {
		q := string(s[0])
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	}
	return s
}
