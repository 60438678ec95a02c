package workload

import (
	"slices"
	"strings"
)

// sqlc numbers named parameters on PostgreSQL in the order its walker visits the
// statement's tree, which follows the fields of PostgreSQL's parse nodes, not the
// text. Measured with sqlc v1.31.1 (see TestSQLCNumbering):
//
//	SELECT   target list, FROM (with JOIN … ON), WHERE, GROUP BY, HAVING, WINDOW,
//	         VALUES, ORDER BY, OFFSET, LIMIT, FOR, WITH; then the arms of a
//	         UNION/INTERSECT/EXCEPT, after the ORDER BY/LIMIT that apply to it
//	INSERT   the table and columns, VALUES or SELECT, ON CONFLICT, RETURNING, WITH
//	UPDATE   SET, WHERE, FROM, RETURNING, WITH
//	DELETE   USING, WHERE, RETURNING, WITH
//
// so "WITH x AS (… @a) SELECT … WHERE c = @b LIMIT @c OFFSET @d" numbers b, d, c,
// a. On MySQL sqlc numbers them in the order of the text. Within a clause, and
// inside expressions, the order is the text's; a subquery is visited as a unit
// where it stands.

// clauseRanks gives, per statement kind, the rank of the clause each top-level
// keyword starts.
var clauseRanks = map[string]map[string]int{
	"SELECT": {"SELECT": 0, "FROM": 1, "WHERE": 2, "GROUP": 3, "HAVING": 4, "WINDOW": 5, "VALUES": 6, "ORDER": 7, "OFFSET": 8, "LIMIT": 9, "FETCH": 9, "FOR": 10},
	"INSERT": {"INSERT": 0, "VALUES": 1, "SELECT": 1, "ON": 2, "RETURNING": 3},
	"UPDATE": {"UPDATE": 0, "SET": 1, "WHERE": 2, "FROM": 3, "RETURNING": 4},
	"DELETE": {"DELETE": 0, "USING": 1, "WHERE": 2, "RETURNING": 3},
}

// rankWith is the rank of a WITH clause: after every other clause.
const rankWith = 20

// visitKeys returns, for each token index of a parameter among toks, the key
// sqlc's walker visits it by: compare keys with slices.Compare.
func visitKeys(toks []token) map[int][]int {
	match := make([]int, len(toks)) // index of the matching parenthesis
	var stack []int
	for i, t := range toks {
		match[i] = -1
		if t.Kind != tokPunct {
			continue
		}
		switch t.Text {
		case "(":
			stack = append(stack, i)
		case ")":
			if len(stack) > 0 {
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				match[o], match[i] = i, o
			}
		}
	}
	w := &walker{toks: toks, match: match, keys: map[int][]int{}}
	w.stmt(0, len(toks), nil)
	return w.keys
}

type walker struct {
	toks  []token
	match []int
	keys  map[int][]int
}

func (w *walker) upper(i int) string {
	if i < 0 || i >= len(w.toks) || w.toks[i].Kind != tokWord {
		return ""
	}
	return strings.ToUpper(w.toks[i].Text)
}

// isParam reports whether toks[i] is a parameter occurrence: $N, ?, @ of @name,
// or the sqlc of sqlc.arg(…).
func (w *walker) isParam(i int) bool {
	t := w.toks[i]
	return t.Kind == tokParam || t.Kind == tokPunct && (t.Text == "?" || t.Text == "@") || w.upper(i) == "SQLC"
}

// expr keys the parameters of toks[lo:hi] in text order under prefix, entering
// subqueries as statements.
func (w *walker) expr(lo, hi int, prefix []int) {
	for i := lo; i < hi; i++ {
		if w.isParam(i) {
			w.keys[i] = append(slices.Clone(prefix), i)
			continue
		}
		if w.toks[i].Text == "(" && w.match[i] > i && w.match[i] <= hi {
			j := w.match[i]
			switch w.upper(i + 1) {
			case "SELECT", "WITH", "VALUES", "INSERT", "UPDATE", "DELETE":
				w.stmt(i+1, j, append(slices.Clone(prefix), i))
			default:
				w.expr(i+1, j, prefix)
			}
			i = j
		}
	}
}

// skip returns the index after the parenthesized group at i, or i+1.
func (w *walker) skip(i int) int {
	if w.toks[i].Text == "(" && w.match[i] > i {
		return w.match[i] + 1
	}
	return i + 1
}

// stmt keys the parameters of the statement toks[lo:hi].
func (w *walker) stmt(lo, hi int, prefix []int) {
	if lo >= hi {
		return
	}
	main := lo
	if w.upper(lo) == "WITH" {
		// The CTE list runs to the first top-level SELECT/INSERT/UPDATE/DELETE/VALUES.
		for main = lo + 1; main < hi; main = w.skip(main) {
			if u := w.upper(main); u == "SELECT" || u == "INSERT" || u == "UPDATE" || u == "DELETE" || u == "VALUES" {
				break
			}
		}
		w.expr(lo, main, append(slices.Clone(prefix), rankWith))
	}
	kind := w.upper(main)
	if kind == "VALUES" {
		kind = "SELECT"
	}
	ranks, ok := clauseRanks[kind]
	if !ok {
		w.expr(main, hi, prefix)
		return
	}
	if kind == "SELECT" && w.setOp(main, hi, prefix) {
		return
	}
	rank := 0
	for i := main; i < hi; {
		u := w.upper(i)
		switch {
		case kind == "INSERT" && (u == "SELECT" || u == "VALUES" || u == "WITH") && rank < ranks["VALUES"]:
			// INSERT … SELECT: the query is a statement of its own, up to ON
			// CONFLICT or RETURNING.
			end := i
			for end < hi && !(w.upper(end) == "ON" && (w.upper(end+1) == "CONFLICT" || w.upper(end+1) == "DUPLICATE")) && w.upper(end) != "RETURNING" {
				end = w.skip(end)
			}
			w.stmt(i, end, append(slices.Clone(prefix), ranks["VALUES"]))
			i, rank = end, ranks["VALUES"]
			continue
		case kind == "DELETE" && u == "FROM" && rank == 0:
			// DELETE FROM names the target.
		case u == "FROM" && w.upper(i-1) == "DISTINCT":
			// IS [NOT] DISTINCT FROM is an operator.
		default:
			if r, ok := ranks[u]; ok && (u != "ON" || w.upper(i+1) == "CONFLICT" || w.upper(i+1) == "DUPLICATE") {
				rank = r
			}
		}
		if w.toks[i].Text == "(" && w.match[i] > i {
			j := w.match[i]
			w.expr(i, j+1, append(slices.Clone(prefix), rank))
			i = j + 1
			continue
		}
		if w.isParam(i) {
			w.keys[i] = append(slices.Clone(prefix), rank, i)
		}
		i++
	}
}

// setOp keys a SELECT with UNION, INTERSECT or EXCEPT at its top level: the
// ORDER BY/LIMIT/OFFSET after the last arm first, then the arms in order. It
// reports whether there was one.
func (w *walker) setOp(lo, hi int, prefix []int) bool {
	var cuts []int // indexes of the set-operation keywords
	for i := lo; i < hi; i = w.skip(i) {
		switch w.upper(i) {
		case "UNION", "INTERSECT", "EXCEPT":
			cuts = append(cuts, i)
		}
	}
	if len(cuts) == 0 {
		return false
	}
	last := cuts[len(cuts)-1]
	tail := hi
	for i := last; i < hi; i = w.skip(i) {
		if u := w.upper(i); u == "ORDER" || u == "LIMIT" || u == "OFFSET" || u == "FETCH" || u == "FOR" {
			tail = i
			break
		}
	}
	ranks := clauseRanks["SELECT"]
	rank := 0
	for i := tail; i < hi; {
		if r, ok := ranks[w.upper(i)]; ok {
			rank = r
		}
		if w.toks[i].Text == "(" && w.match[i] > i {
			w.expr(i, w.match[i]+1, append(slices.Clone(prefix), rank))
			i = w.match[i] + 1
			continue
		}
		if w.isParam(i) {
			w.keys[i] = append(slices.Clone(prefix), rank, i)
		}
		i++
	}
	start := lo
	arms := append(cuts, tail)
	for k, end := range arms {
		from := start
		for from < end && (w.upper(from) == "ALL" || w.upper(from) == "DISTINCT") {
			from++
		}
		armPrefix := append(slices.Clone(prefix), rankWith+1+k)
		if from < end && w.toks[from].Text == "(" && w.match[from] < end {
			w.stmt(from+1, w.match[from], armPrefix)
		} else {
			w.stmt(from, end, armPrefix)
		}
		start = end + 1
	}
	return true
}
