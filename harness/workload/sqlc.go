package workload

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// sqlc's parameter forms, as sqlc (internal/sql/rewrite, internal/sql/named)
// reads them:
//
//   - positional: $N (postgres) or ? (mysql), numbered as written (? in order);
//   - named: @name, sqlc.arg(name), sqlc.arg('name'), sqlc.narg(name) and
//     sqlc.slice(name): the first occurrence of a name takes the lowest number not
//     yet used, and later occurrences reuse it; occurrences are taken in the order
//     sqlc's walker visits them, which on PostgreSQL is the order of the parse
//     tree's fields (sqlcorder.go) and on MySQL the order of the text;
//   - sqlc.embed(t) is no parameter: sqlc generates t's columns in its place.
//
// A statement may mix both, as sqlc allows since v1.10 (its end-to-end test
// mix_param_types): on PostgreSQL the $N keep their numbers and each name, in
// visit order, takes the lowest number no $N uses (after the highest where there
// is no gap); on MySQL every ? and every named occurrence takes the next number
// in the order of the text.
//
// The rewritten statement carries $1…$N only; Query.For turns them into ? on
// mysql.

// paramForm is how a parameter occurrence was written.
type paramForm int

const (
	formDollar paramForm = iota // $N
	formQMark                   // ?
	formAt                      // @name
	formFunc                    // sqlc.arg / sqlc.narg
	formSlice                   // sqlc.slice
	formEmbed                   // sqlc.embed(t)
)

// paramUse is one parameter occurrence in a statement: its span [pos, end), and
// its name for the named forms.
type paramUse struct {
	form     paramForm
	pos, end int
	name     string
	num      int  // $N's N; assigned for the other forms
	slice    bool // an IN list: sqlc.slice, or /*SLICE:name*/? in sqlc's generated mysql code
	tok      int  // index of its first token
}

// sqlcRewrite is a statement with sqlc's parameter forms replaced by $N.
type sqlcRewrite struct {
	sql    string
	slices map[int]string // parameter number → name, for sqlc.slice parameters
}

// rewriteParams rewrites the sqlc parameters of sql, lexed with the rules of f.
// qmarks says whether ? is a positional parameter (mysql) rather than an operator
// (postgres's jsonb ?, ?| and ?&). The error's pos is a byte offset into sql.
func rewriteParams(sql string, f engine.Family, qmarks bool) (sqlcRewrite, *sqltext.Error) {
	toks, lerr := lex(sql, f)
	if lerr != nil {
		return sqlcRewrite{}, lerr
	}
	uses, lerr := findParams(sql, toks, qmarks, f == engine.MySQL)
	if lerr != nil {
		return sqlcRewrite{}, lerr
	}
	out := sqlcRewrite{sql: sql}
	if len(uses) == 0 {
		return out, nil
	}
	named, dollars := false, 0
	for _, u := range uses {
		switch u.form {
		case formDollar:
			dollars = max(dollars, u.num)
		case formAt, formFunc, formSlice:
			named = true
		}
	}
	byName := map[string]int{}
	next := dollars
	if named && f == engine.Postgres {
		// sqlc's order of visit on PostgreSQL (sqlcorder.go).
		keys := visitKeys(toks)
		first := map[string][]int{}
		var names []string
		for _, u := range uses {
			if u.form != formAt && u.form != formFunc && u.form != formSlice {
				continue
			}
			k, ok := keys[u.tok]
			if !ok {
				k = []int{1 << 30, u.tok}
			}
			if prev, seen := first[u.name]; !seen || slices.Compare(k, prev) < 0 {
				if !seen {
					names = append(names, u.name)
				}
				first[u.name] = k
			}
		}
		slices.SortStableFunc(names, func(a, b string) int { return slices.Compare(first[a], first[b]) })
		// Each name takes the lowest number no $N uses (sqlc's
		// named.ParamSet.nextArgNum): `$2 … sqlc.arg(key)` makes key $1.
		used := map[int]bool{}
		for _, u := range uses {
			if u.form == formDollar {
				used[u.num] = true
			}
		}
		n := 1
		for _, name := range names {
			for used[n] {
				n++
			}
			used[n] = true
			byName[name] = n
			next = max(next, n)
		}
	}
	for i := range uses {
		u := &uses[i]
		switch u.form {
		case formQMark:
			next++
			u.num = next
		case formAt, formFunc, formSlice:
			n, ok := byName[u.name]
			if !ok {
				next++
				n = next
				byName[u.name] = n
			}
			u.num = n
		}
		if u.slice {
			if out.slices == nil {
				out.slices = map[int]string{}
			}
			out.slices[u.num] = u.name
		}
	}
	var b strings.Builder
	last := 0
	for _, u := range uses {
		if u.form == formDollar {
			continue
		}
		b.WriteString(sql[last:u.pos])
		if u.form == formEmbed {
			b.WriteString(u.name + ".*")
		} else {
			if u.pos > 0 && sqltext.IsIdentPart(sql[u.pos-1]) {
				b.WriteByte(' ') // "x=?" is fine, but "x?" must not become the name "x$1"
			}
			b.WriteString("$" + strconv.Itoa(u.num))
		}
		last = u.end
	}
	b.WriteString(sql[last:])
	out.sql = b.String()
	return out, nil
}

// atOperators are the characters that make an @ after them part of an operator
// (postgres's <@ and @@, mysql's @@system_variable), not a named parameter.
const atOperators = "<@~"

// findParams lists the parameter occurrences among toks, in order.
// On MySQL (mysqlVars) @name is a user variable, as sqlc leaves it: sqlc's
// named parameters there are sqlc.arg(name) only.
func findParams(sql string, toks []token, qmarks, mysqlVars bool) ([]paramUse, *sqltext.Error) {
	var uses []paramUse
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Kind == tokParam:
			uses = append(uses, paramUse{form: formDollar, pos: t.Pos, end: t.End, num: t.Param, tok: i})
		case t.Kind == tokPunct && t.Text == "?" && qmarks:
			if t.End < len(sql) && (sql[t.End] == '|' || sql[t.End] == '&') {
				continue // postgres jsonb ?| and ?&
			}
			u := paramUse{form: formQMark, pos: t.Pos, end: t.End, tok: i}
			// sqlc's generated mysql code writes a slice as /*SLICE:name*/? and
			// expands it at run time.
			u.name, u.slice = sliceMarker(sql[:t.Pos])
			uses = append(uses, u)
		case t.Kind == tokPunct && t.Text == "@" && !mysqlVars:
			if i+1 >= len(toks) || toks[i+1].Kind != tokWord || toks[i+1].Pos != t.End {
				continue // @ alone is an operator (postgres's absolute value)
			}
			if t.Pos > 0 && strings.IndexByte(atOperators, sql[t.Pos-1]) >= 0 {
				continue // <@, @@ (mysql system variables, text search)
			}
			next := toks[i+1]
			uses = append(uses, paramUse{form: formAt, pos: t.Pos, end: next.End, name: next.Text, tok: i})
			i++
		case t.Kind == tokWord && strings.EqualFold(t.Text, "sqlc") && i+2 < len(toks) && toks[i+1].Text == "." && toks[i+2].Kind == tokWord:
			u, n, err := sqlcCall(toks[i:])
			if err != nil {
				return nil, err
			}
			u.tok = i
			uses = append(uses, u)
			i += n - 1
		}
	}
	return uses, nil
}

// sqlcCall reads a sqlc.FUNC(name) call at the start of toks and returns it and
// the number of tokens it spans.
func sqlcCall(toks []token) (paramUse, int, *sqltext.Error) {
	fn := strings.ToLower(toks[2].Text)
	var form paramForm
	switch fn {
	case "arg", "narg":
		form = formFunc
	case "slice":
		form = formSlice
	case "embed":
		form = formEmbed
	default:
		return paramUse{}, 0, &sqltext.Error{Pos: toks[0].Pos, Msg: fmt.Sprintf("sqlc.%s is not a sqlc macro; want sqlc.arg, sqlc.narg, sqlc.slice or sqlc.embed", toks[2].Text)}
	}
	if len(toks) < 6 || toks[3].Text != "(" || toks[5].Text != ")" {
		return paramUse{}, 0, &sqltext.Error{Pos: toks[0].Pos, Msg: fmt.Sprintf("sqlc.%s takes one name: sqlc.%s(name)", fn, fn)}
	}
	arg := toks[4]
	var name string
	switch arg.Kind {
	case tokWord:
		name = arg.Text
	case tokString, tokQuoted:
		if len(arg.Text) < 2 || arg.Text[0] == 'E' || arg.Text[0] == 'e' || arg.Text[0] == '$' {
			return paramUse{}, 0, &sqltext.Error{Pos: arg.Pos, Msg: fmt.Sprintf("sqlc.%s takes a plain name or 'name'", fn)}
		}
		name = arg.Text[1 : len(arg.Text)-1]
	default:
		return paramUse{}, 0, &sqltext.Error{Pos: arg.Pos, Msg: fmt.Sprintf("sqlc.%s takes a plain name or 'name'", fn)}
	}
	if name == "" {
		return paramUse{}, 0, &sqltext.Error{Pos: arg.Pos, Msg: fmt.Sprintf("sqlc.%s needs a name", fn)}
	}
	return paramUse{form: form, pos: toks[0].Pos, end: toks[5].End, name: name, slice: form == formSlice}, 6, nil
}

// sliceMarker reports whether before ends with sqlc's "/*SLICE:name*/" marker, and
// returns the name.
func sliceMarker(before string) (string, bool) {
	rest, ok := strings.CutSuffix(before, "*/")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "/*SLICE:")
	if i < 0 {
		return "", false
	}
	name := rest[i+len("/*SLICE:"):]
	if name == "" || strings.ContainsAny(name, " \t\n*/") {
		return "", false
	}
	return name, true
}

// expandSlices renders each slice parameter of sql (numbered $1…$params) as the
// number of placeholders counts gives it — an IN list of that many values, or NULL
// for none, as sqlc's generated code sends an empty slice — and renumbers the
// placeholders after it. It returns the statement and its new number of
// placeholders.
func expandSlices(sql string, f engine.Family, params int, counts map[int]int) (string, int) {
	if len(counts) == 0 {
		return sql, params
	}
	// newNum[k] is the first new number of old parameter k.
	newNum := make([]int, params+2)
	n := 1
	for k := 1; k <= params; k++ {
		newNum[k] = n
		if c, ok := counts[k]; ok {
			n += c
		} else {
			n++
		}
	}
	toks, _ := lex(sql, f)
	var b strings.Builder
	last := 0
	for _, t := range toks {
		if t.Kind != tokParam || t.Param < 1 || t.Param > params {
			continue
		}
		b.WriteString(sql[last:t.Pos])
		c, slice := counts[t.Param]
		switch {
		case !slice:
			b.WriteString("$" + strconv.Itoa(newNum[t.Param]))
		case c == 0:
			b.WriteString("NULL")
		default:
			for j := range c {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("$" + strconv.Itoa(newNum[t.Param]+j))
			}
		}
		last = t.End
	}
	b.WriteString(sql[last:])
	return b.String(), n - 1
}
