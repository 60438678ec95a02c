package release

import (
	"fmt"
	"strconv"
	"strings"
)

// Codes of a result that changed between two states (observe.Mismatch events of
// Probe). A query's expectations ("-- expect:") keep an empty code.
const (
	ResultColumns = "columns" // a column is gone, renamed or moved
	ResultType    = "type"    // a column's type became another kind, or narrower
	ResultValue   = "value"   // the same read returns other values
)

// shape is what a read returned at one probe.
type shape struct {
	cols  []column
	rows  [][]cellValue // the first maxShapeRows rows
	count int64
	// values is set when the values may be compared with the next probe's: the
	// arguments are fixed and no release writes the tables read.
	values bool
}

type column struct {
	name             string
	typ              string // the driver's DatabaseTypeName, upper case
	length           int64  // -1: not reported
	precision, scale int64  // -1: not reported
}

type cellValue struct {
	text string
	null bool
}

// compareResults returns the first way cur differs from prev that a client of
// prev could trip over, as a result code and a message; "" when none. A column
// only added (a SELECT * over ADD COLUMN) is not one: clients that name their
// columns never see it.
func compareResults(prev, cur *shape) (code, msg string) {
	// A column is its name and which of the columns of that name it is: a join
	// returns a.id and b.id, both "id" (sqlc.embed queries do).
	curKeys, prevKeys := columnKeys(cur.cols), columnKeys(prev.cols)
	idx := map[string]int{}
	for i, k := range curKeys {
		idx[k] = i
	}
	var gone []string
	for i, c := range prev.cols {
		if _, ok := idx[prevKeys[i]]; !ok {
			gone = append(gone, c.name)
		}
	}
	if len(gone) > 0 {
		return ResultColumns, fmt.Sprintf("%s %s no longer returned (columns now: %s; before: %s)",
			plural(len(gone), "column", "columns"), strings.Join(gone, ", "), names(cur.cols), names(prev.cols))
	}
	last := -1
	for k := range prev.cols {
		if i := idx[prevKeys[k]]; i < last {
			return ResultColumns, fmt.Sprintf("columns returned in another order: %s (before: %s)", names(cur.cols), names(prev.cols))
		} else {
			last = i
		}
	}
	for k, p := range prev.cols {
		c := cur.cols[idx[prevKeys[k]]]
		if why := typeChange(p, c); why != "" {
			return ResultType, fmt.Sprintf("column %s is %s, was %s (%s)", p.name, c.typeString(), p.typeString(), why)
		}
	}
	if !prev.values || !cur.values {
		return "", ""
	}
	if (prev.count == 0) != (cur.count == 0) || len(prev.rows) != len(cur.rows) {
		return ResultValue, fmt.Sprintf("returns %s where it returned %s", plural(int(cur.count), "row", "rows"), plural(int(prev.count), "row", "rows"))
	}
	for r := range prev.rows {
		for i, p := range prev.cols {
			j := idx[prevKeys[i]]
			a, b := prev.rows[r][i], cur.rows[r][j]
			// NULL becoming a value is a backfill filling a column, not a change
			// under a reader.
			if a.null || (!b.null && a.text == b.text) {
				continue
			}
			got := b.text
			if b.null {
				got = "NULL"
			}
			return ResultValue, fmt.Sprintf("column %s reads %s where it read %s", p.name, got, a.text)
		}
	}
	return "", ""
}

// columnKeys names each column by its name and its rank among the columns of
// that name.
func columnKeys(cs []column) []string {
	seen := map[string]int{}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name + "#" + strconv.Itoa(seen[c.name])
		seen[c.name]++
	}
	return out
}

func names(cs []column) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return strings.Join(out, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// typeKinds groups the type names drivers report (pgx: the PostgreSQL type
// name; go-sql-driver/mysql: the MySQL one) into kinds a client reads the same
// way. A type name it does not know (an enum or a domain on PostgreSQL, reported
// by OID) reads as text.
var typeKinds = map[string]string{
	"INT2": "int", "INT4": "int", "INT8": "int", "SMALLINT": "int", "INT": "int", "INTEGER": "int",
	"BIGINT": "int", "TINYINT": "int", "MEDIUMINT": "int", "UNSIGNED SMALLINT": "int",
	"UNSIGNED INT": "int", "UNSIGNED BIGINT": "int", "UNSIGNED TINYINT": "int", "UNSIGNED MEDIUMINT": "int",
	"YEAR":    "int",
	"NUMERIC": "numeric", "DECIMAL": "numeric",
	"FLOAT4": "float", "FLOAT8": "float", "FLOAT": "float", "DOUBLE": "float", "REAL": "float",
	"BOOL": "bool", "BOOLEAN": "bool",
	"DATE":      "date",
	"TIMESTAMP": "timestamp", "DATETIME": "timestamp",
	"TIMESTAMPTZ": "timestamptz",
	"TIME":        "time", "TIMETZ": "timetz", "INTERVAL": "interval",
	"JSON": "json", "JSONB": "json",
	"BYTEA": "bytes", "BLOB": "bytes", "BINARY": "bytes", "VARBINARY": "bytes", "TINYBLOB": "bytes",
	"MEDIUMBLOB": "bytes", "LONGBLOB": "bytes",
	"UUID": "uuid",
	"BIT":  "bit", "VARBIT": "bit",
	"INET": "net", "CIDR": "net", "MACADDR": "net",
}

func kindOf(typ string) string {
	if k, ok := typeKinds[typ]; ok {
		return k
	}
	return "text"
}

// typeChange says how column c's type differs from p's in a way a reader of p
// can trip over: another kind (numeric → integer, text → integer, timestamp →
// timestamptz), fewer decimal places (values rounded) or a less precise float;
// "" when it does not. A narrower type of the same kind (bigint → integer,
// varchar(100) → varchar(50)) holds only values a reader of the wider one
// already takes: it is the writers' risk (patterns.md §6: 22001, 1406), and
// widening is safe in place.
func typeChange(p, c column) string {
	if p.typ == c.typ && p.length == c.length && p.precision == c.precision && p.scale == c.scale {
		return ""
	}
	pk, ck := kindOf(p.typ), kindOf(c.typ)
	if pk != ck {
		return "another kind of type"
	}
	switch pk {
	case "numeric":
		if p.scale >= 0 && c.scale >= 0 && c.scale < p.scale {
			return "fewer decimal places"
		}
	case "float":
		if (p.typ == "FLOAT8" || p.typ == "DOUBLE") && (c.typ == "FLOAT4" || c.typ == "FLOAT" || c.typ == "REAL") {
			return "less precise"
		}
	}
	return ""
}
