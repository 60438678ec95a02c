package release

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/sqltext"
	"github.com/straddle-dev/straddle/harness/workload"
)

// Querier is what ExpandStars reads the catalog through: a *sql.DB or *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Conn)(nil)
)

// columnsQuery lists a table's columns in order, per family: $1 (or the first ?)
// is the table as written in the query (schema-qualified or not).
var columnsQuery = map[engine.Family]string{
	engine.Postgres: `SELECT attname::text FROM pg_attribute
WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
	engine.MySQL: `SELECT COLUMN_NAME FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
}

// ExpandStars is workload.ExpandStars against the schema of the database db is
// connected to: the columns of each table come from its catalog. Errors are from
// the catalog queries.
func ExpandStars(ctx context.Context, db Querier, f engine.Family, qs []workload.Query) ([]workload.Query, error) {
	cache := map[string][]string{}
	return workload.ExpandStars(qs, f, func(table string) ([]string, error) {
		if cols, ok := cache[table]; ok {
			return cols, nil
		}
		var args []any
		if f == engine.MySQL {
			schema, name := "", table
			if i := strings.LastIndexByte(table, '.'); i >= 0 {
				schema, name = sqltext.UnquoteIdent(table[:i]), table[i+1:]
			}
			args = []any{schema, sqltext.UnquoteIdent(name)}
		} else {
			args = []any{table}
		}
		rows, err := db.QueryContext(ctx, columnsQuery[f], args...)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		defer rows.Close()
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return nil, fmt.Errorf("columns of %s: %w", table, err)
			}
			cols = append(cols, c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		cache[table] = cols
		return cols, nil
	})
}
