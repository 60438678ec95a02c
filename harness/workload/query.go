package workload

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/plan"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// Cmd is the sqlc command suffix of a query (":one", ":many", ":exec", …). It
// decides how the query is executed: commands that return rows are read and counted,
// the others are executed and their affected rows counted.
type Cmd string

const (
	CmdNone       Cmd = "" // no suffix: inferred from the SQL, see Query.ReadsRows
	CmdOne        Cmd = ":one"
	CmdMany       Cmd = ":many"
	CmdExec       Cmd = ":exec"
	CmdExecRows   Cmd = ":execrows"
	CmdExecResult Cmd = ":execresult"
	CmdExecLastID Cmd = ":execlastid"
	CmdBatchExec  Cmd = ":batchexec"
	CmdBatchMany  Cmd = ":batchmany"
	CmdBatchOne   Cmd = ":batchone"
	CmdCopyFrom   Cmd = ":copyfrom"
)

// cmds maps every known suffix to whether it returns rows.
var cmds = map[Cmd]bool{
	CmdOne: true, CmdMany: true, CmdBatchOne: true, CmdBatchMany: true,
	CmdExec: false, CmdExecRows: false, CmdExecResult: false, CmdExecLastID: false,
	CmdBatchExec: false, CmdCopyFrom: false,
}

// cmdNames lists the suffixes for error messages.
const cmdNames = ":one, :many, :exec, :execrows, :execresult, :execlastid, :batchexec, :batchone, :batchmany or :copyfrom"

// Query is one named query of a workload, as parsed from a query file.
type Query struct {
	Name string
	Cmd  Cmd
	// SQL is the statement as written, with $1…$N placeholders and without the
	// closing semicolon.
	SQL string
	// Args holds one argument set per "-- args:" line; each execution pass runs
	// the query once per set. Nil when the file gives none.
	Args [][]Arg
	// Params is the highest $N placeholder of SQL; every argument set has exactly
	// this many values.
	Params int
	// Family restricts the query to one family; "" runs it on every family.
	Family engine.Family
	// Expect is the data check of "-- expect:" lines; nil checks nothing.
	Expect *Expect
	// File and Line locate the "-- name:" line, for error messages.
	File string
	Line int
	// Compiled is set for a query read through a sqlc config: sqlc compiles it
	// into code that sends SELECT *, t.*, RETURNING * and sqlc.embed(t) as column
	// lists of the release's own schema, so the runner applies ExpandStars against
	// that schema (the old release's baseline, the new release's first required
	// state) before sending it. Query files and generated code are sent as written.
	Compiled bool
	// NoArgs is set when the SQL has placeholders but the file gives no "-- args:"
	// line (a plain sqlc query file): the runner generates arguments from the
	// parameter types the server reports, and reports that it did (Runner.Generated).
	NoArgs bool
}

// Workload is what one release does to the database: its queries, in file order.
type Workload struct {
	Release plan.Release
	// Source is where the queries came from, as the user gave it (a file, a
	// directory or git:REV:PATH).
	Source  string
	Queries []Query
	// FreshConnections runs every pass on a new connection that is closed after
	// it, instead of the long-lived pool the runner is given. Long-lived is the
	// default because that is how applications run: their server-side prepared
	// statements outlive schema changes (PostgreSQL's 0A000 "cached plan must not
	// change result type").
	FreshConnections bool
	// Binding is how the release's driver sends arguments ("" is
	// engine.BindPrepared). The runner keeps MySQL/MariaDB statements prepared per
	// connection for BindPrepared; the pool it is given must bind as Binding says
	// (engine.BindingOpener) for the others.
	Binding engine.Binding
}

// Applies reports whether q runs on family f.
func (q *Query) Applies(f engine.Family) bool { return q.Family == "" || q.Family == f }

// ReadsRows reports whether q is executed as a query whose rows are read (":one",
// ":many", …) rather than as a statement whose affected rows are counted (":exec",
// …). Without a suffix, statements that start with SELECT, WITH, VALUES, TABLE,
// SHOW or EXPLAIN, or that have a RETURNING clause, read rows.
func (q *Query) ReadsRows() bool {
	if reads, ok := cmds[q.Cmd]; ok {
		return reads
	}
	toks, _ := lex(q.SQL, familyOrPostgres(q.Family))
	for i, t := range toks {
		if t.Kind != tokWord {
			continue
		}
		w := strings.ToUpper(t.Text)
		if i == 0 {
			switch w {
			case "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN":
				return true
			}
		}
		if w == "RETURNING" {
			return true
		}
	}
	return false
}

// For renders q for family f: the SQL to send and, for each bind parameter in the
// order the server numbers them, the 0-based index of the argument it takes. On
// PostgreSQL the SQL is unchanged and order is 0…Params-1; on MySQL each $N outside
// strings, quoted identifiers and comments becomes "?" and order repeats and
// reorders the arguments to match ($2 … $1 … $2 → [1, 0, 1]).
func (q *Query) For(f engine.Family) (sql string, order []int, err error) {
	toks, lerr := lex(q.SQL, f)
	if lerr != nil {
		return "", nil, fmt.Errorf("query %s: %s", q.Name, lerr.Msg)
	}
	d := engine.DialectOf(f)
	if d.Placeholder(1) == "$1" {
		order = make([]int, q.Params)
		for i := range order {
			order[i] = i
		}
		return q.SQL, order, nil
	}
	var b strings.Builder
	last := 0
	for _, t := range toks {
		if t.Kind != tokParam {
			continue
		}
		b.WriteString(q.SQL[last:t.Pos])
		b.WriteString(d.Placeholder(len(order) + 1))
		order = append(order, t.Param-1)
		last = t.End
	}
	b.WriteString(q.SQL[last:])
	return b.String(), order, nil
}

// familyOrPostgres picks the lexical rules for a query that runs everywhere:
// standard SQL's, which are postgres's.
func familyOrPostgres(f engine.Family) engine.Family {
	if f == "" {
		return engine.Postgres
	}
	return f
}

// ArgKind is the kind of SQL literal an argument was written as. It decides the Go
// type the driver is given.
type ArgKind string

const (
	ArgNull    ArgKind = "null"    // NULL → nil
	ArgInt     ArgKind = "int"     // 42, -7 → int64
	ArgDecimal ArgKind = "decimal" // 1.50, 2e3 → string, so no precision is lost
	ArgString  ArgKind = "string"  // 'text' → string
	ArgBool    ArgKind = "bool"    // true, false → bool
)

// Arg is one argument: a SQL literal. Text is its value without quotes (a string's
// doubled quotes undone); it may contain {{n}}, replaced by a number unique to each
// execution in the run, and {{uuid}}, a UUID made from that number.
type Arg struct {
	Kind ArgKind
	Text string
}

// Value returns the Go value to bind for the execution numbered n.
func (a Arg) Value(n int64) any {
	if a.Kind == ArgInt && a.Text == "{{n}}" {
		return n // the common case, on the load driver's hot path
	}
	s := a.Expand(n)
	switch a.Kind {
	case ArgNull:
		return nil
	case ArgInt:
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v
		}
		return s // beyond int64: let the server parse it
	case ArgBool:
		return strings.EqualFold(s, "true")
	}
	return s
}

// Expand replaces the templates in a's text for the execution numbered n.
func (a Arg) Expand(n int64) string {
	if !strings.Contains(a.Text, "{{") {
		return a.Text
	}
	s := strings.ReplaceAll(a.Text, "{{n}}", strconv.FormatInt(n, 10))
	return strings.ReplaceAll(s, "{{uuid}}", fmt.Sprintf("00000000-0000-4000-8000-%012x", uint64(n)&(1<<48-1)))
}

// String renders a as the SQL literal it was written as.
func (a Arg) String() string {
	switch a.Kind {
	case ArgNull:
		return "NULL"
	case ArgString:
		return "'" + strings.ReplaceAll(a.Text, "'", "''") + "'"
	}
	return a.Text
}

// Expect is a data check on a query's result, from "-- expect:" lines.
type Expect struct {
	// Rows checks the number of rows: returned for queries that read rows,
	// affected for the others. Op "" checks nothing.
	Rows RowCount
	// Value, when set, is what the first column of the first row must be,
	// compared as text (NULL matches only NULL).
	Value *Arg
	// Error, when set, is the class of error the query must fail with; failing
	// so is then an OK outcome, and succeeding is a mismatch.
	Error engine.Class
}

// RowCount is a check on a number of rows.
type RowCount struct {
	Op string // "=", ">=" or "<=", or "" for no check
	N  int64
}

// Holds reports whether got satisfies the check.
func (c RowCount) Holds(got int64) bool {
	switch c.Op {
	case "=":
		return got == c.N
	case ">=":
		return got >= c.N
	case "<=":
		return got <= c.N
	}
	return true
}

// String renders the expectation as written in a query file, e.g. "rows>=1,
// value='x'".
func (e *Expect) String() string {
	var parts []string
	if e.Rows.Op != "" {
		parts = append(parts, "rows"+e.Rows.Op+strconv.FormatInt(e.Rows.N, 10))
	}
	if e.Value != nil {
		parts = append(parts, "value="+e.Value.String())
	}
	if e.Error != "" {
		parts = append(parts, "error="+string(e.Error))
	}
	return strings.Join(parts, ", ")
}

// Tables returns the tables q reads (after FROM and JOIN) and writes (after
// INSERT INTO, UPDATE, DELETE FROM, REPLACE INTO, MERGE INTO), lower case, without
// schema. It reads the statement's tokens, so it is a close reading, not a parse:
// the value comparison of Probe uses it only to stay away from rows a release
// writes.
func (q *Query) Tables() (reads, writes []string) {
	toks, err := lex(q.SQL, familyOrPostgres(q.Family))
	if err != nil {
		return nil, []string{"?"}
	}
	name := func(i int) (string, int) {
		// schema.table, "quoted", `quoted`
		var s string
		for i < len(toks) {
			t := toks[i]
			switch t.Kind {
			case sqltext.Word:
				s = strings.ToLower(t.Text)
			case sqltext.Quoted:
				s = strings.ToLower(strings.Trim(t.Text, "\"`"))
			default:
				return s, i
			}
			if i+1 < len(toks) && toks[i+1].Text == "." {
				i += 2
				continue
			}
			return s, i + 1
		}
		return s, i
	}
	word := func(i int) string {
		if i >= 0 && i < len(toks) && toks[i].Kind == sqltext.Word {
			return strings.ToUpper(toks[i].Text)
		}
		return ""
	}
	add := func(list *[]string, s string) {
		if s == "" || s == "(" {
			return
		}
		for _, x := range *list {
			if x == s {
				return
			}
		}
		*list = append(*list, s)
	}
	for i := 0; i < len(toks); i++ {
		switch word(i) {
		case "FROM", "JOIN":
			if i > 0 && word(i-1) == "DELETE" {
				s, _ := name(i + 1)
				add(&writes, s)
				continue
			}
			if i+1 < len(toks) && toks[i+1].Kind != sqltext.Punct {
				s, _ := name(i + 1)
				if s != "" && s != "lateral" && s != "only" {
					add(&reads, s)
				}
			}
		case "INTO":
			if w := word(i - 1); w == "INSERT" || w == "REPLACE" || w == "MERGE" || w == "IGNORE" {
				s, _ := name(i + 1)
				add(&writes, s)
			}
		case "UPDATE":
			// ON CONFLICT … DO UPDATE SET and ON DUPLICATE KEY UPDATE write the
			// INSERT's table; FOR UPDATE locks, it does not write.
			if w := word(i - 1); w == "DO" || w == "KEY" || w == "FOR" {
				continue
			}
			s, _ := name(i + 1)
			add(&writes, s)
		}
	}
	return reads, writes
}

// systemSchemas hold the servers' own catalogs and statistics.
var systemSchemas = map[string]bool{
	"pg_catalog": true, "information_schema": true, "performance_schema": true, "mysql": true, "sys": true,
}

// volatileFuncs return another value at each call, or read the server's
// state rather than the tables: the clock, random values, sequences,
// identifiers of the session or transaction, sizes and statistics.
var volatileFuncs = map[string]bool{
	"now": true, "clock_timestamp": true, "statement_timestamp": true, "transaction_timestamp": true,
	"timeofday": true, "age": true, "current_timestamp": true, "current_time": true, "current_date": true,
	"localtime": true, "localtimestamp": true, "sysdate": true, "curdate": true, "curtime": true,
	"unix_timestamp": true, "utc_timestamp": true, "utc_date": true, "utc_time": true,
	"random": true, "rand": true, "uuid": true, "uuid_short": true, "gen_random_uuid": true,
	"uuid_generate_v1": true, "uuid_generate_v4": true, "sys_guid": true,
	"nextval": true, "currval": true, "lastval": true, "setval": true, "last_insert_id": true,
	"txid_current": true, "pg_current_xact_id": true, "pg_backend_pid": true, "connection_id": true,
	"pg_relation_size": true, "pg_total_relation_size": true, "pg_table_size": true,
	"pg_indexes_size": true, "pg_database_size": true, "pg_stat_get_numscans": true,
}

// Volatile reports whether q reads something other than its tables' rows —
// the servers' catalogs or statistics (pg_stat_*, information_schema, …),
// the clock, random values, sequences — so that its values may change from
// one state to the next with no step changing them.
func (q *Query) Volatile() bool {
	toks, err := lex(q.SQL, familyOrPostgres(q.Family))
	if err != nil {
		return true
	}
	for i, t := range toks {
		if t.Kind != sqltext.Word && t.Kind != sqltext.Quoted {
			continue
		}
		w := strings.ToLower(strings.Trim(t.Text, "\"`"))
		next := ""
		if i+1 < len(toks) {
			next = toks[i+1].Text
		}
		prev := ""
		if i > 0 {
			prev = toks[i-1].Text
		}
		switch {
		case next == "." && systemSchemas[w]:
			return true
		case t.Kind == sqltext.Word && prev != "." && volatileFuncs[w] && (next == "(" || strings.HasPrefix(w, "current_") || strings.HasPrefix(w, "local") || w == "sysdate"):
			return true
		case strings.HasPrefix(w, "pg_stat") || strings.HasPrefix(w, "pg_class") || strings.HasPrefix(w, "pg_locks") ||
			w == "pg_namespace" || w == "pg_attribute" || w == "pg_index" || w == "pg_proc" || w == "pg_database" ||
			w == "pg_settings" || w == "pg_tables" || w == "pg_indexes" || w == "pg_views" || w == "pg_sequences" ||
			w == "pg_type" || w == "pg_constraint" || w == "pg_trigger" || w == "pg_roles" || w == "pg_user":
			return true
		}
	}
	return false
}
