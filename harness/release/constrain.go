package release

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
	"github.com/straddle-dev/straddle/harness/traffic"
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
var catalogQueries = map[engine.Family]struct{ checks, fk, length, refs, nullable string }{
	engine.Postgres: {
		nullable: `SELECT is_nullable::text FROM information_schema.columns
WHERE table_schema = ANY(current_schemas(false)) AND table_name = $1 AND column_name = $2`,
		refs: `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f' AND n.nspname = ANY(current_schemas(false))`,
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
		nullable: `SELECT IS_NULLABLE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?`,
		refs: `SELECT TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL`,
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
func constrain(ctx context.Context, c *sql.Conn, f engine.Family, q *workload.Query, g *Generated) ([]pendingKey, error) {
	toks, lerr := sqltext.Lex(q.SQL, sqltext.For(f))
	if lerr != nil {
		return nil, nil
	}
	cols, tables := paramColumns(toks)
	if len(cols) == 0 || len(tables) == 0 {
		return nil, nil
	}
	cq := catalogQueries[f]
	var pending []pendingKey
	checks := map[string][]string{} // table → CHECK clauses
	for _, t := range tables {
		if _, ok := checks[t]; ok {
			continue
		}
		clauses, err := queryStrings(ctx, c, cq.checks, t)
		if err != nil {
			return nil, fmt.Errorf("describe %s: checks of %s: %w", q.Name, t, err)
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
				return nil, fmt.Errorf("describe %s: foreign key of %s.%s: %w", q.Name, t, col, err)
			}
			if len(ref) == 2 {
				key, ok, err := firstKey(ctx, c, f, ref[0], ref[1])
				if err != nil {
					return nil, fmt.Errorf("describe %s: a key of %s: %w", q.Name, ref[0], err)
				}
				if !ok {
					// No row to reference yet: a later execution looks again
					// (the release's own inserts may create one). Until then a
					// nullable column gets NULL, which the key takes, as an
					// application without a parent sends (e2b's envs.cluster_id).
					pending = append(pending, pendingKey{param: p, table: ref[0], column: ref[1]})
					yes, err := queryStrings(ctx, c, cq.nullable, t, col)
					if err != nil {
						return nil, fmt.Errorf("describe %s: nullability of %s.%s: %w", q.Name, t, col, err)
					}
					if len(yes) == 1 && strings.EqualFold(yes[0], "YES") {
						g.Args[p-1] = workload.Arg{Kind: workload.ArgNull}
					}
					break
				}
				g.Args[p-1], refined = str(key), true
				break
			}
		}
		if refined {
			continue
		}
		for _, t := range tables {
			if a, ok := fromChecks(checks[t], col, f, g.Args[p-1]); ok {
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
				return nil, fmt.Errorf("describe %s: length of %s.%s: %w", q.Name, t, col, err)
			}
			if len(n) == 1 {
				if max, err := strconv.Atoi(n[0]); err == nil && max < 16 {
					g.Args[p-1] = str("g")
				}
				break
			}
		}
	}
	return pending, nil
}

// firstKey returns the first value of column in table, in key order; ok is
// false when the table has no row with one.
func firstKey(ctx context.Context, c *sql.Conn, f engine.Family, table, column string) (string, bool, error) {
	var key sql.NullString
	err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %[1]s IS NOT NULL ORDER BY 1 LIMIT 1",
		engine.QuoteIdent(f, column), engine.QuoteIdent(f, table))).Scan(&key)
	switch {
	case err == sql.ErrNoRows:
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	return key.String, key.Valid, nil
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

// fromChecks finds what CHECK clauses ask of column col, whose generated
// argument is orig: an IN list's first value, NULL for "col IS NULL OR …", or a
// value in a range — orig itself when every execution's value is in it, a fresh
// value above a lower bound ("L{{n}}") when it has none above it, so that a key
// column stays unique.
//
// Only what a clause asks of col alone is taken: a clause with OR elsewhere
// (different values for different rows: "(done IS NULL AND state NOT IN (…)) OR
// (…)") and a column inside a function call ("char_length(kind) > 0") say
// nothing a single value satisfies.
func fromChecks(clauses []string, col string, f engine.Family, orig workload.Arg) (workload.Arg, bool) {
	var nullable bool
	var lower, upper *float64
	var lowerOpen, upperOpen bool
	for _, cl := range clauses {
		toks, lerr := sqltext.Lex(cl, sqltext.For(f))
		if lerr != nil {
			continue
		}
		ors := 0
		for _, t := range toks {
			if t.Kind == sqltext.Word && strings.EqualFold(t.Text, "OR") {
				ors++
			}
		}
		for i, t := range toks {
			if !isColumn(t, col) {
				continue
			}
			if fn := callOf(toks, i); fn != "" {
				// MariaDB's JSON is LONGTEXT with CHECK (json_valid(col)).
				if strings.EqualFold(fn, "json_valid") {
					return str("{}"), true
				}
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
			if w(j) == "IS" && w(j+1) == "NULL" {
				k := j + 2
				for k < len(toks) && toks[k].Text == ")" {
					k++
				}
				if w(k) == "OR" {
					nullable = true
				}
				continue
			}
			if ors > 0 {
				continue
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
			case w(j) == "BETWEEN" && j+1 < len(toks) && toks[j+1].Kind == sqltext.Number:
				if v, err := strconv.ParseFloat(toks[j+1].Text, 64); err == nil {
					lower, lowerOpen = &v, false
				}
				if j+3 < len(toks) && w(j+2) == "AND" && toks[j+3].Kind == sqltext.Number {
					if v, err := strconv.ParseFloat(toks[j+3].Text, 64); err == nil {
						upper, upperOpen = &v, false
					}
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
	case lower != nil && upper == nil && orig.Kind == workload.ArgString && orig.Text == "{{n}}":
		// Every execution's number n ≥ 1: orig is in range when the bound is
		// below 1; else the bound's digits before n keep every value above it and
		// each one distinct.
		if *lower < 1 || *lower == 1 && !lowerOpen {
			return workload.Arg{}, false
		}
		l := math.Ceil(*lower)
		if lowerOpen && l == *lower {
			l++
		}
		return str(strconv.FormatFloat(l, 'f', -1, 64) + "{{n}}"), true
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

// callOf returns the function toks[i] is an argument of — "f(col", or
// PostgreSQL's "f((col)::text" — or "" when it is none's.
func callOf(toks []sqltext.Token, i int) string {
	k := i - 1
	for k >= 0 && toks[k].Text == "(" {
		k--
	}
	if k < 0 || k == i-1 || toks[k].Kind != sqltext.Word {
		return ""
	}
	switch strings.ToUpper(toks[k].Text) {
	case "CHECK", "AND", "OR", "NOT", "IN", "ANY", "ALL", "WHEN", "THEN", "ELSE", "CASE", "BETWEEN", "IS", "ARRAY":
		return ""
	}
	return toks[k].Text
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

// OrderWrites implements traffic.Orderer: the workload's inserts run parents
// first — an insert into a table that another insert's table references by a
// foreign key comes before it — so that the key arguments straddle generates for
// the child find a row (an application creates a user before its accounts; sqlc
// files come in name order: account.sql before user.sql). Every other query
// keeps its place, and inserts with no foreign key between their tables keep
// their order. It reads the foreign keys of the schema as it is now; the
// rollout calls it once the baseline is applied, before any traffic.
func (r *Runner) OrderWrites(ctx context.Context) error {
	cq, ok := catalogQueries[r.family]
	if !ok {
		return nil
	}
	targets := make([]string, len(r.queries))
	found := false
	for i, rq := range r.queries {
		targets[i] = insertTarget(rq.sql, r.family)
		found = found || targets[i] != ""
	}
	if !found {
		return nil
	}
	c, err := r.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read foreign keys: %w: %w", ErrConnLost, err)
	}
	defer c.Close()
	pairs, err := queryStrings(ctx, c, cq.refs)
	if err != nil {
		return fmt.Errorf("read foreign keys: %w", err)
	}
	parents := map[string][]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		child, parent := tableKey(pairs[i]), tableKey(pairs[i+1])
		if child != parent {
			parents[child] = append(parents[child], parent)
		}
	}
	// depth is the length of the longest chain of references above a table
	// (cycles cut at the number of tables).
	depth := map[string]int{}
	var walk func(t string, seen int) int
	walk = func(t string, seen int) int {
		if d, ok := depth[t]; ok {
			return d
		}
		d := 0
		if seen < len(parents)+1 {
			for _, p := range parents[t] {
				d = max(d, walk(p, seen+1)+1)
			}
		}
		depth[t] = d
		return d
	}
	var slots, inserts []int
	for i, t := range targets {
		if t != "" {
			slots = append(slots, i)
			inserts = append(inserts, i)
		}
	}
	slices.SortStableFunc(inserts, func(a, b int) int { return walk(targets[a], 0) - walk(targets[b], 0) })
	qs := slices.Clone(r.queries)
	for k, slot := range slots {
		qs[slot] = r.queries[inserts[k]]
	}
	r.queries = qs
	r.execs = executions(r.queries)
	return nil
}

// insertTarget returns the table an INSERT (or REPLACE) statement writes,
// lowercased and unquoted, without its schema; "" for any other statement.
func insertTarget(text string, f engine.Family) string {
	toks, lerr := sqltext.Lex(traffic.StripTag(text), sqltext.For(f))
	if lerr != nil {
		return ""
	}
	words := toks // comments are no tokens
	if len(words) < 3 {
		return ""
	}
	first := strings.ToUpper(words[0].Text)
	if words[0].Kind != sqltext.Word || first != "INSERT" && first != "REPLACE" {
		return ""
	}
	k := 1
	for k < len(words) && words[k].Kind == sqltext.Word && strings.ToUpper(words[k].Text) != "INTO" && k < 3 {
		k++ // INSERT IGNORE INTO, REPLACE LOW_PRIORITY INTO
	}
	if k < len(words) && strings.EqualFold(words[k].Text, "INTO") {
		k++
	} else if first == "INSERT" {
		return ""
	} else {
		k = 1
	}
	name := ""
	for k < len(words) && (words[k].Kind == sqltext.Word || words[k].Kind == sqltext.Quoted || words[k].Text == ".") {
		if words[k].Text != "." {
			name = words[k].Text
			if words[k].Kind == sqltext.Quoted {
				name = sqltext.UnquoteIdent(name)
			}
		}
		k++
	}
	return strings.ToLower(name)
}

// tableKey is a catalog's table name as insertTarget writes one: unquoted,
// lowercased, without its schema.
func tableKey(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToLower(sqltext.UnquoteIdent(s))
}
