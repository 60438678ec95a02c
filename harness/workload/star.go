package workload

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// Columns returns the columns of a table, in order, given its name as a query
// writes it (schema-qualified or not, quoted or not); none when the catalog has
// no such table. An error ends the expansion.
type Columns func(table string) ([]string, error)

// ExpandStars returns qs with each star projection — SELECT *, t.*, RETURNING * —
// replaced by the column list it stands for as columns reports the tables, the
// way sqlc writes them into the code it generates (sqlc.embed(t), read as t.*,
// too): "*" over one table becomes its column names, over several their
// qualified names (t.col), in FROM order. It is for sources that sqlc compiles
// (a sqlc config), against the release's own schema (the old release's baseline,
// the new release's state where it is first required; release.ExpandStars reads
// it from a database). A star over a subquery, a CTE, a table function, a
// NATURAL or USING join, or a table columns does not know, is left as written.
// Queries of other families than f, and without a star, are returned unchanged;
// qs is not modified. Errors are columns' errors.
func ExpandStars(qs []Query, f engine.Family, columns Columns) ([]Query, error) {
	out := make([]Query, len(qs))
	for i, q := range qs {
		out[i] = q
		if !q.Applies(f) {
			continue
		}
		text, err := expandStars(q.SQL, f, columns)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Name, err)
		}
		out[i].SQL = text
	}
	return out, nil
}

// fromTable is a table of a FROM clause: its name as written and the name the
// query refers to it by (its alias, else its name).
type fromTable struct{ name, ref string }

// starEdit replaces toks[from:to] (byte span pos..end) with text.
type starEdit struct {
	pos, end int
	text     string
}

// expandStars rewrites the star projections of sql.
func expandStars(sql string, f engine.Family, lookup func(string) ([]string, error)) (string, error) {
	toks, lerr := lex(sql, f)
	if lerr != nil {
		return sql, nil // the parser reported it; nothing to expand
	}
	if !strings.Contains(sql, "*") {
		return sql, nil
	}
	depth := make([]int, len(toks))
	d := 0
	for i, t := range toks {
		if t.Kind == tokPunct && t.Text == ")" {
			d--
		}
		depth[i] = d
		if t.Kind == tokPunct && t.Text == "(" {
			d++
		}
	}
	upper := func(i int) string {
		if i < 0 || i >= len(toks) || toks[i].Kind != tokWord {
			return ""
		}
		return strings.ToUpper(toks[i].Text)
	}
	var edits []starEdit
	for i, t := range toks {
		if t.Kind != tokPunct || t.Text != "*" {
			continue
		}
		// The clause the star is in: the nearest SELECT or RETURNING before it at
		// its depth, with only select-list tokens between.
		qualified := i >= 2 && toks[i-1].Text == "." && (toks[i-2].Kind == tokWord || toks[i-2].Kind == tokQuoted)
		prev := i - 1
		if qualified {
			prev = i - 3
			for prev >= 1 && toks[prev].Text == "." {
				prev -= 2 // schema.table.*
			}
		}
		switch {
		case prev >= 0 && (toks[prev].Text == "," || upper(prev) == "SELECT" || upper(prev) == "DISTINCT" || upper(prev) == "ALL" || upper(prev) == "RETURNING"):
		case prev >= 0 && toks[prev].Text == ")" && distinctOn(toks, depth, prev, upper):
			// SELECT DISTINCT ON (a.id) a.* …
		default:
			continue // count(*), a * b
		}
		clause := -1
		for j := i - 1; j >= 0; j-- {
			if depth[j] < depth[i] {
				break
			}
			if depth[j] == depth[i] && (upper(j) == "SELECT" || upper(j) == "RETURNING") {
				clause = j
				break
			}
		}
		if clause < 0 {
			continue
		}
		var tables []fromTable
		ok := true
		if upper(clause) == "RETURNING" {
			tables, ok = dmlTarget(toks, depth, clause, upper)
		} else {
			tables, ok = fromClause(toks, depth, clause, upper)
		}
		start := toks[i].Pos
		if qualified {
			start = toks[prev+1].Pos
			ref := sql[start:toks[i-1].Pos]
			cols, err := columnsOf(tables, ref, lookup)
			if err != nil {
				return "", err
			}
			if cols == nil {
				continue
			}
			edits = append(edits, starEdit{start, t.End, qualify(ref, cols, f)})
			continue
		}
		if !ok || len(tables) == 0 {
			continue
		}
		var parts []string
		for _, tb := range tables {
			cols, err := lookup(tb.name)
			if err != nil {
				return "", err
			}
			if len(cols) == 0 {
				parts = nil
				break
			}
			if len(tables) == 1 {
				parts = append(parts, quoteCols(cols, f)...)
			} else {
				parts = append(parts, qualify(tb.ref, cols, f))
			}
		}
		if parts != nil {
			edits = append(edits, starEdit{start, t.End, strings.Join(parts, ", ")})
		}
	}
	if len(edits) == 0 {
		return sql, nil
	}
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(sql[last:e.pos])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(sql[last:])
	return b.String(), nil
}

// columnsOf returns the columns of the table ref (an alias or a table name)
// names, or nil when it is not a plain table of the clause.
func columnsOf(tables []fromTable, ref string, lookup func(string) ([]string, error)) ([]string, error) {
	for _, tb := range tables {
		if strings.EqualFold(sqltext.UnquoteIdent(tb.ref), sqltext.UnquoteIdent(ref)) || strings.EqualFold(sqltext.UnquoteIdent(tb.name), sqltext.UnquoteIdent(ref)) {
			cols, err := lookup(tb.name)
			if err != nil || len(cols) == 0 {
				return nil, err
			}
			return cols, nil
		}
	}
	return nil, nil
}

// clauseEnd are the keywords that end a FROM clause.
var clauseEnd = map[string]bool{
	"WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true, "OFFSET": true,
	"FETCH": true, "FOR": true, "UNION": true, "INTERSECT": true, "EXCEPT": true, "WINDOW": true,
	"RETURNING": true, "ON": true, "USING": true, "INTO": true, "LOCK": true,
}

// joinWords are the keywords between two tables of a FROM clause.
var joinWords = map[string]bool{
	"JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "OUTER": true,
	"CROSS": true, "LATERAL": true, "STRAIGHT_JOIN": true,
}

// fromClause reads the tables of the FROM clause of the SELECT at toks[sel]; ok
// is false when a star over it cannot be expanded (a subquery, a function, a
// NATURAL or USING join).
func fromClause(toks []token, depth []int, sel int, upper func(int) string) ([]fromTable, bool) {
	i := sel + 1
	for ; i < len(toks); i++ {
		if depth[i] < depth[sel] {
			return nil, false
		}
		if depth[i] == depth[sel] && upper(i) == "FROM" {
			break
		}
	}
	if i >= len(toks) {
		return nil, false
	}
	var tables []fromTable
	i++
	for i < len(toks) && depth[i] >= depth[sel] {
		if depth[i] > depth[sel] {
			i++
			continue
		}
		w := upper(i)
		switch {
		case w == "NATURAL", w == "USING":
			return nil, false
		case w == "ON":
			// skip the join condition up to the next join or clause end
			i++
			for i < len(toks) && depth[i] >= depth[sel] && !(depth[i] == depth[sel] && (joinWords[upper(i)] || upper(i) == "NATURAL" || toks[i].Text == "," || clauseEnd[upper(i)] && upper(i) != "ON")) {
				i++
			}
			continue
		case clauseEnd[w] || toks[i].Text == ";":
			return tables, true
		case joinWords[w] || toks[i].Text == ",":
			i++
			continue
		}
		// A table: name[.name] [AS] [alias]; anything else (a subquery, a
		// function call) makes the star unexpandable.
		if toks[i].Kind != tokWord && toks[i].Kind != tokQuoted {
			return nil, false
		}
		start := i
		for i+2 < len(toks) && toks[i+1].Text == "." && (toks[i+2].Kind == tokWord || toks[i+2].Kind == tokQuoted) {
			i += 2
		}
		name := joinTokens(toks[start : i+1])
		i++
		if i < len(toks) && toks[i].Text == "(" {
			return nil, false // a table function
		}
		ref := name
		if upper(i) == "AS" {
			i++
		}
		if i < len(toks) && (toks[i].Kind == tokQuoted || toks[i].Kind == tokWord && !clauseEnd[upper(i)] && !joinWords[upper(i)] && upper(i) != "NATURAL") {
			ref = toks[i].Text
			i++
		}
		tables = append(tables, fromTable{name: name, ref: ref})
	}
	return tables, true
}

// dmlTarget reads the table of the INSERT INTO, UPDATE or DELETE FROM whose
// RETURNING clause is at toks[ret].
func dmlTarget(toks []token, depth []int, ret int, upper func(int) string) ([]fromTable, bool) {
	for j := 0; j < ret; j++ {
		if depth[j] != depth[ret] {
			continue
		}
		var at int
		switch upper(j) {
		case "INTO", "UPDATE":
			at = j + 1
		case "DELETE":
			if upper(j+1) != "FROM" {
				continue
			}
			at = j + 2
		default:
			continue
		}
		if upper(at) == "ONLY" {
			at++
		}
		if at >= len(toks) || toks[at].Kind != tokWord && toks[at].Kind != tokQuoted {
			return nil, false
		}
		end := at
		for end+2 < len(toks) && toks[end+1].Text == "." {
			end += 2
		}
		name := joinTokens(toks[at : end+1])
		target := fromTable{name: name, ref: name}
		if upper(j) != "UPDATE" {
			return []fromTable{target}, true
		}
		// UPDATE t [AS] alias … FROM others RETURNING *: the target's columns,
		// then those of the FROM tables, as sqlc expands it.
		k := end + 1
		if upper(k) == "AS" {
			k++
		}
		if k < len(toks) && (toks[k].Kind == tokWord && upper(k) != "SET" || toks[k].Kind == tokQuoted) {
			target.ref = toks[k].Text
		}
		more, ok := fromClause(toks, depth, j, upper)
		if !ok || len(more) == 0 {
			return []fromTable{target}, true
		}
		return append([]fromTable{target}, more...), true
	}
	return nil, false
}

func joinTokens(ts []token) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.Text)
	}
	return b.String()
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// distinctOn reports whether the ")" at close ends PostgreSQL's DISTINCT ON (…).
func distinctOn(toks []token, depth []int, close int, upper func(int) string) bool {
	for j := close - 1; j >= 0; j-- {
		if toks[j].Kind == tokPunct && toks[j].Text == "(" && depth[j] == depth[close] {
			return upper(j-1) == "ON" && upper(j-2) == "DISTINCT"
		}
	}
	return false
}

// quoteCols quotes the column names that need it: those that are no plain
// lowercase identifier, and the family's reserved words ("order", `trigger`),
// as sqlc does.
func quoteCols(cols []string, f engine.Family) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		switch {
		case plainIdent.MatchString(c) && !reserved[f][c]:
			out[i] = c
		default:
			out[i] = engine.QuoteIdent(f, c)
		}
	}
	return out
}

// qualify renders ref.col for each column.
func qualify(ref string, cols []string, f engine.Family) string {
	parts := quoteCols(cols, f)
	for i, c := range parts {
		parts[i] = ref + "." + c
	}
	return strings.Join(parts, ", ")
}

// reserved are the words a column name must be quoted as, per family: the
// reserved key words of PostgreSQL's documentation (appendix "SQL Key Words":
// reserved, and reserved that can be a function or type) and MySQL's reserved
// words (its "Keywords and Reserved Words" page, marked R), with MariaDB's own
// (offset, returning). Quoting a word that needs none is harmless.
var reserved = map[engine.Family]map[string]bool{
	engine.Postgres: words(`all analyse analyze and any array as asc asymmetric authorization binary both case cast
		check collate collation column concurrently constraint create cross current_catalog current_date
		current_role current_schema current_time current_timestamp current_user default deferrable desc
		distinct do else end except false fetch for foreign freeze from full grant group having ilike in
		initially inner intersect into is isnull join lateral leading left like limit localtime
		localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
		references returning right select session_user similar some symmetric system_user table
		tablesample then to trailing true union unique user using variadic verbose when where window with`),
	engine.MySQL: words(`accessible add all alter analyze and as asc asensitive before between bigint binary blob
		both by call cascade case change char character check collate column condition constraint
		continue convert create cross cube cume_dist current_date current_time current_timestamp
		current_user cursor database databases day_hour day_microsecond day_minute day_second dec decimal
		declare default delayed delete dense_rank desc describe deterministic distinct distinctrow div
		double drop dual each else elseif empty enclosed escaped except exists exit explain false fetch
		first_value float float4 float8 for force foreign from fulltext function generated get grant
		group grouping groups having high_priority hour_microsecond hour_minute hour_second if ignore in
		index infile inner inout insensitive insert int int1 int2 int3 int4 int8 integer intersect
		interval into io_after_gtids io_before_gtids is iterate join json_table key keys kill lag
		last_value lateral lead leading leave left like limit linear lines load localtime localtimestamp
		lock long longblob longtext loop low_priority master_bind master_ssl_verify_server_cert match
		maxvalue mediumblob mediumint mediumtext middleint minute_microsecond minute_second mod modifies
		natural not no_write_to_binlog nth_value ntile null numeric of offset on optimize
		optimizer_costs option optionally or order out outer outfile over partition percent_rank
		precision primary procedure purge range rank read reads read_write real recursive references
		regexp release rename repeat replace require resignal restrict return returning revoke right
		rlike row rows row_number schema schemas second_microsecond select sensitive separator set show
		signal smallint spatial specific sql sqlexception sqlstate sqlwarning sql_big_result
		sql_calc_found_rows sql_small_result ssl starting stored straight_join system table terminated
		then tinyblob tinyint tinytext to trailing trigger true undo union unique unlock unsigned update
		usage use using utc_date utc_time utc_timestamp values varbinary varchar varcharacter varying
		virtual when where while window with write xor year_month zerofill`),
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
