package release

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/workload"
)

// copyFrom is a :copyfrom query on PostgreSQL. sqlc's pgx code sends it as
// COPY … FROM STDIN (pgx's CopyFrom), not as the INSERT its query file holds,
// and the two differ where it matters here: COPY into a view fails (42809)
// where an INSERT through an updatable view works, and COPY fires no rules.
type copyFrom struct {
	sql   string // COPY table (columns) FROM STDIN, with the query's tag
	param []int  // the placeholder ($N, 1-based) of each column, in order
}

// reCopyInsert reads INSERT INTO table (columns) VALUES (placeholders), the form
// sqlc requires of a :copyfrom query.
var reCopyInsert = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+(\S+?)\s*\(([^()]*)\)\s*VALUES\s*\(([^()]*)\)\s*;?\s*$`)

// copyOf returns how rq is copied on family, or nil where it runs as written:
// another command, another family (sqlc's MySQL :copyfrom is LOAD DATA, whose
// checks are an INSERT's), or a statement that is not sqlc's plain form. text
// is the query as rendered for the family; tag prefixes the COPY.
func copyOf(q *workload.Query, family engine.Family, text, tag string) *copyFrom {
	if q.Cmd != workload.CmdCopyFrom || family != engine.Postgres {
		return nil
	}
	m := reCopyInsert.FindStringSubmatch(text)
	if m == nil {
		return nil
	}
	cols := strings.Split(m[2], ",")
	vals := strings.Split(m[3], ",")
	if len(cols) != len(vals) {
		return nil
	}
	cf := &copyFrom{sql: strings.TrimSpace(tag + " COPY " + m[1] + " (" + strings.TrimSpace(m[2]) + ") FROM STDIN")}
	for _, v := range vals {
		v = strings.TrimSpace(v)
		n, err := strconv.Atoi(strings.TrimPrefix(v, "$"))
		if !strings.HasPrefix(v, "$") || err != nil || n < 1 {
			return nil // an expression: only an INSERT can send it
		}
		cf.param = append(cf.param, n)
	}
	return cf
}

// run copies one row, args being $1…$N, through the pgx connection under ex.
func (cf *copyFrom) run(ctx context.Context, ex execer, args []any) (result, error) {
	c, release, ok := connOf(ctx, ex)
	if !ok {
		return result{}, fmt.Errorf("copy: no connection to copy on (%T)", ex)
	}
	defer release()
	var b strings.Builder
	for i, p := range cf.param {
		if i > 0 {
			b.WriteByte('\t')
		}
		if p > len(args) {
			return result{}, fmt.Errorf("copy: $%d without an argument", p)
		}
		b.WriteString(copyText(args[p-1]))
	}
	b.WriteByte('\n')
	var rows int64
	err := c.Raw(func(dc any) error {
		pc, ok := dc.(pgxConn)
		if !ok {
			return fmt.Errorf("copy: want a pgx connection, got %T", dc)
		}
		tag, err := pc.Conn().PgConn().CopyFrom(ctx, strings.NewReader(b.String()), cf.sql)
		rows = tag.RowsAffected()
		return err
	})
	return result{rows: rows}, err
}

// copyText writes v in COPY's text format: \N for NULL, with backslash,
// tab, newline and carriage return escaped.
func copyText(v any) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case []byte:
		return `\\x` + fmt.Sprintf("%x", x)
	case string:
		return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(x)
	}
	return copyText(fmt.Sprint(v))
}
