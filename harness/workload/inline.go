package workload

import (
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
)

// Literal renders a as a SQL literal of family f for the execution numbered n
// ({{n}} and {{uuid}} expanded): what to paste where the placeholder stood.
func (a Arg) Literal(f engine.Family, n int64) string {
	s := a.Expand(n)
	switch a.Kind {
	case ArgNull:
		return "NULL"
	case ArgString:
		s = strings.ReplaceAll(s, "'", "''")
		if sqltext.For(f).Backslash {
			s = strings.ReplaceAll(s, `\`, `\\`)
		}
		return "'" + s + "'"
	case ArgBool:
		return strings.ToUpper(s)
	}
	return s
}

// Inline returns sql with each $N placeholder replaced by the literal of args[N-1]
// for execution n: a statement a person can paste into psql or mariadb. Quotes
// and comments are lexed per family, so a "$1" inside a string stays.
func Inline(sql string, f engine.Family, args []Arg, n int64) (string, error) {
	toks, lerr := lex(sql, f)
	if lerr != nil {
		return "", lerr
	}
	var b strings.Builder
	last := 0
	for _, t := range toks {
		if t.Kind != tokParam {
			continue
		}
		if t.Param < 1 || t.Param > len(args) {
			return "", fmt.Errorf("placeholder %s has no argument (%d given)", t.Text, len(args))
		}
		b.WriteString(sql[last:t.Pos])
		b.WriteString(args[t.Param-1].Literal(f, n))
		last = t.End
	}
	b.WriteString(sql[last:])
	return b.String(), nil
}
