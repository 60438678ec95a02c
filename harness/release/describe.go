package release

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/straddle-dev/straddle/harness/engine"
	_ "github.com/straddle-dev/straddle/harness/engine/driver" // error classifiers for engine.Classify
	"github.com/straddle-dev/straddle/harness/observe"
	"github.com/straddle-dev/straddle/harness/sqltext"
	"github.com/straddle-dev/straddle/harness/traffic"
	"github.com/straddle-dev/straddle/harness/workload"
)

// Generated records the arguments a runner made up for a query that has
// placeholders but no "-- args:" line (a plain sqlc query file), so reports can say
// so: "args generated from server-reported types".
type Generated struct {
	Query string
	// Types are the types of $1…$N: reported by the server for the prepared
	// statement on postgres; on mysql, whose server reports none, the type of the
	// column each placeholder is compared with or inserted into ("" when no column
	// was found).
	Types []string
	// Args are the arguments bound on every execution ({{n}} expanded each time).
	Args []workload.Arg
	// From is TypesFromServer or TypesFromColumns.
	From string
	// provisional is set when a type was guessed from another table's column
	// because a table the query names does not exist yet: the next execution
	// guesses again, until the query's own tables are there.
	provisional bool
}

// pendingKey is argument param (1-based) of a foreign key column that references
// column of table, whose table had no row yet when the arguments were
// generated: each execution looks again until it has one (Runner.pending).
type pendingKey struct {
	param         int
	table, column string
}

// Where Generated.Types came from.
const (
	TypesFromServer  = "server-reported types"
	TypesFromColumns = "types of the columns the placeholders are compared with (guessed)"
)

// Generated returns the arguments generated so far, in query order.
func (r *Runner) Generated() []Generated {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Generated
	for _, rq := range r.queries {
		if g := r.gen[rq.q.Name]; g != nil {
			out = append(out, *g)
		}
	}
	return out
}

// describer finds the types of a query's parameters and generates arguments for
// them, through one connection. text is the query as rendered for the family.
type describer func(ctx context.Context, c *sql.Conn, q *workload.Query, text string) (*Generated, []pendingKey, error)

// describers is the per-family strategy; postgres reports parameter types for a
// prepared statement, mysql does not.
var describers = map[engine.Family]describer{
	engine.Postgres: describePostgres,
	engine.MySQL:    describeMySQL,
}

// generated returns rq's generated arguments, describing the query the first time.
// The arguments are then kept for the life of the runner, the way an application's
// argument types are fixed when it is built. When describing fails with a server
// error (the query does not match the schema), it returns the event that records
// that failure and describes again on the next pass.
func (r *Runner) generated(ctx context.Context, conn *sql.Conn, rq *runQuery, where traffic.Where) (*Generated, *observe.Event, error) {
	r.mu.Lock()
	g, pending := r.gen[rq.q.Name], r.pending[rq.q.Name]
	r.mu.Unlock()
	if g != nil {
		if len(pending) > 0 {
			return r.resolveKeys(ctx, conn, rq, g, pending)
		}
		return g, nil, nil
	}
	c, done, err := r.connOr(ctx, conn)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	describe := describers[r.family]
	if describe == nil {
		return nil, nil, fmt.Errorf("query %s: no way to generate arguments on %s", rq.q.Name, r.family)
	}
	start := time.Now()
	g, pending, err = describe(ctx, c, rq.q, rq.sql)
	if err != nil {
		ev := r.event(rq, where)
		ev.Latency = time.Since(start)
		if where.Statement != nil {
			ev.Statement = where.Statement()
		}
		ev, err = r.failed(ctx, c, ev, rq, fmt.Errorf("generate arguments: %w", err))
		if err != nil {
			return nil, nil, err
		}
		return nil, &ev, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev := r.gen[rq.q.Name]; prev != nil {
		return prev, nil, nil // a concurrent pass was first
	}
	if g.provisional {
		return g, nil, nil
	}
	r.gen[rq.q.Name] = g
	if len(pending) > 0 {
		r.pending[rq.q.Name] = pending
	}
	return g, nil, nil
}

func str(s string) workload.Arg { return workload.Arg{Kind: workload.ArgString, Text: s} }

// argsByType maps a type name — postgres's pg_type.typname, mysql's
// information_schema DATA_TYPE — to the argument generated for it. Arguments are
// sent as text, which the server parses as the parameter's type, like an untyped
// literal. Numbers and strings embed {{n}} so that inserts into unique columns do
// not collide; small or constrained types get a constant.
var argsByType = map[string]workload.Arg{
	"int4": str("{{n}}"), "int8": str("{{n}}"), "int": str("{{n}}"), "integer": str("{{n}}"),
	"bigint": str("{{n}}"), "mediumint": str("{{n}}"), "oid": str("{{n}}"),
	"int2": str("1"), "smallint": str("1"), "tinyint": str("1"),
	"numeric": str("1"), "decimal": str("1"), "money": str("1"),
	"float4": str("{{n}}"), "float8": str("{{n}}"), "float": str("{{n}}"), "double": str("{{n}}"), "real": str("{{n}}"),
	"bool": str("true"), "boolean": str("true"),
	"bit": {Kind: workload.ArgInt, Text: "1"}, "year": str("2001"),
	"text": str("gen{{n}}"), "varchar": str("gen{{n}}"), "bpchar": str("gen{{n}}"), "char": str("gen{{n}}"),
	"name": str("gen{{n}}"), "citext": str("gen{{n}}"), "tinytext": str("gen{{n}}"),
	"mediumtext": str("gen{{n}}"), "longtext": str("gen{{n}}"),
	"bytea": str("gen{{n}}"), "blob": str("gen{{n}}"), "tinyblob": str("gen{{n}}"),
	"mediumblob": str("gen{{n}}"), "longblob": str("gen{{n}}"), "binary": str("gen{{n}}"), "varbinary": str("gen{{n}}"),
	"uuid": str("{{uuid}}"), "json": str("{}"), "jsonb": str("{}"),
	"date": str("2001-02-03"), "timestamp": str("2001-02-03 04:05:06"), "timestamptz": str("2001-02-03 04:05:06+00"),
	"datetime": str("2001-02-03 04:05:06"), "time": str("04:05:06"), "timetz": str("04:05:06+00"),
	"interval": str("1 day"), "inet": str("127.0.0.1"), "cidr": str("127.0.0.0/8"), "macaddr": str("08:00:2b:01:02:03"),
}

// argsByCategory covers postgres types argsByType does not name, by
// pg_type.typcategory.
var argsByCategory = map[string]workload.Arg{
	"A": str("{}"), // arrays: empty
	"N": str("1"), "S": str("gen{{n}}"), "B": str("true"), "D": str("2001-02-03 04:05:06"),
	"T": str("1 day"), "I": str("127.0.0.1"),
}

// pgTypeQuery returns a parameter type's name (of its base type for a domain), its
// category and, for an enum, its first label.
const pgTypeQuery = `SELECT COALESCE(b.typname, t.typname)::text, COALESCE(b.typcategory, t.typcategory)::text,
  COALESCE((SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = COALESCE(b.oid, t.oid) ORDER BY e.enumsortorder LIMIT 1), '')
FROM pg_type t LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype
WHERE t.oid = $1`

// describePostgres prepares the query as an unnamed statement (leaving the
// connection's statement cache alone) and reads the parameter types the server
// inferred.
func describePostgres(ctx context.Context, c *sql.Conn, q *workload.Query, text string) (*Generated, []pendingKey, error) {
	var oids []uint32
	err := c.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("describe %s: want a pgx connection, got %T", q.Name, dc)
		}
		sd, err := pc.Conn().PgConn().Prepare(ctx, "", text, nil)
		if err != nil {
			return err
		}
		oids = sd.ParamOIDs
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	g := &Generated{Query: q.Name, From: TypesFromServer}
	for i, oid := range oids {
		var name, category, label string
		if err := c.QueryRowContext(ctx, pgTypeQuery, strconv.FormatUint(uint64(oid), 10)).Scan(&name, &category, &label); err != nil {
			return nil, nil, fmt.Errorf("describe %s: type %d: %w", q.Name, oid, err)
		}
		a, ok := argsByType[name]
		switch {
		case name == "bit" || name == "varbit":
			// A bit string is sent as text; bit(n) takes exactly n bits, and the
			// parameter's type carries no length: take the column's.
			n, err := pgBitLength(ctx, c, q, i+1)
			if err != nil {
				return nil, nil, fmt.Errorf("describe %s: $%d: %w", q.Name, i+1, err)
			}
			a = str("1" + strings.Repeat("0", max(n, 1)-1))
		case label != "":
			a = str(label)
		case category == "A":
			a = argsByCategory[category]
		case !ok:
			if a, ok = argsByCategory[category]; !ok {
				a = workload.Arg{Kind: workload.ArgNull}
			}
		}
		g.Types = append(g.Types, name)
		g.Args = append(g.Args, a)
	}
	pending, err := constrain(ctx, c, engine.Postgres, q, g)
	return g, pending, err
}

// pgBitLength returns the declared length of the bit column placeholder p is
// compared with or inserted into; 1 (bit's default) when there is none.
func pgBitLength(ctx context.Context, c *sql.Conn, q *workload.Query, p int) (int, error) {
	toks, lerr := sqltext.Lex(q.SQL, sqltext.For(engine.Postgres))
	if lerr != nil {
		return 1, nil
	}
	cols, tables := paramColumns(toks)
	col, ok := cols[p]
	if !ok || col == limitParam {
		return 1, nil
	}
	rows, err := c.QueryContext(ctx, `SELECT table_name::text, COALESCE(character_maximum_length, 1) FROM information_schema.columns
WHERE table_schema = ANY(current_schemas(false)) AND column_name = $1 AND data_type IN ('bit', 'bit varying')`, col)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 1
	for rows.Next() {
		var table string
		var length int
		if err := rows.Scan(&table, &length); err != nil {
			return 0, err
		}
		n = length
		for _, t := range tables {
			if strings.EqualFold(t, table) {
				return length, rows.Close()
			}
		}
	}
	return n, rows.Err()
}

// describeMySQL guesses each placeholder's type from the column it is compared with
// (col = $1, $1 < col, col IN ($1, $2), SET col = $1) or inserted into (INSERT INTO
// t (a, b) VALUES ($1, $2)), looked up in information_schema, preferring the tables
// the query names. LIMIT and OFFSET take a number. Anything else gets the string
// '1', which MySQL converts to what the context needs.
func describeMySQL(ctx context.Context, c *sql.Conn, q *workload.Query, _ string) (*Generated, []pendingKey, error) {
	toks, lerr := sqltext.Lex(q.SQL, sqltext.For(engine.MySQL))
	if lerr != nil {
		return nil, nil, fmt.Errorf("describe %s: %s", q.Name, lerr.Msg)
	}
	cols, tables := paramColumns(toks)
	g := &Generated{Query: q.Name, From: TypesFromColumns}
	elsewhere := false // a type came from a table the query does not name
	for p := 1; p <= q.Params; p++ {
		col, ok := cols[p]
		switch {
		case ok && col == limitParam:
			g.Types = append(g.Types, "bigint")
			g.Args = append(g.Args, workload.Arg{Kind: workload.ArgInt, Text: "10"})
			continue
		case !ok:
			g.Types = append(g.Types, "")
			g.Args = append(g.Args, str("1"))
			continue
		}
		typ, colType, own, err := mysqlColumnType(ctx, c, col, tables)
		if err != nil {
			return nil, nil, fmt.Errorf("describe %s: column %s: %w", q.Name, col, err)
		}
		elsewhere = elsewhere || !own
		a, known := argsByType[typ]
		switch {
		case typ == "enum" || typ == "set":
			a = str(firstLabel(colType))
		case !known:
			a = str("1")
		}
		g.Types = append(g.Types, typ)
		g.Args = append(g.Args, a)
	}
	if elsewhere && len(tables) > 0 {
		// A table the query names may be one a later step creates (the new
		// release's table at a state before it): guess again once it is there.
		missing, err := mysqlMissingTables(ctx, c, tables)
		if err != nil {
			return nil, nil, fmt.Errorf("describe %s: %w", q.Name, err)
		}
		g.provisional = missing
	}
	pending, err := constrain(ctx, c, engine.MySQL, q, g)
	return g, pending, err
}

// mysqlMissingTables reports whether some of tables is no table or view of the
// current database.
func mysqlMissingTables(ctx context.Context, c *sql.Conn, tables []string) (bool, error) {
	for _, t := range tables {
		var n int
		if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, t).Scan(&n); err != nil {
			return false, err
		}
		if n == 0 {
			return true, nil
		}
	}
	return false, nil
}

// mysqlColumnType returns the DATA_TYPE and COLUMN_TYPE of column col of the current
// database, in one of tables if possible ("" when there is no such column); own
// says whether it is a column of one of tables.
func mysqlColumnType(ctx context.Context, c *sql.Conn, col string, tables []string) (typ, colType string, own bool, err error) {
	rows, err := c.QueryContext(ctx, `SELECT TABLE_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = ? ORDER BY TABLE_NAME`, col)
	if err != nil {
		return "", "", false, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, t, ct string
		if err := rows.Scan(&table, &t, &ct); err != nil {
			return "", "", false, err
		}
		if typ == "" {
			typ, colType = t, ct
		}
		for _, name := range tables {
			if strings.EqualFold(name, table) {
				return strings.ToLower(t), ct, true, rows.Close()
			}
		}
	}
	return strings.ToLower(typ), colType, false, rows.Err()
}

// firstLabel returns the first value of a COLUMN_TYPE like "enum('a','b')".
func firstLabel(colType string) string {
	_, rest, ok := strings.Cut(colType, "'")
	if !ok {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		if rest[i] == '\'' {
			if i+1 < len(rest) && rest[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			break
		}
		b.WriteByte(rest[i])
	}
	return b.String()
}

// limitParam marks a placeholder of LIMIT or OFFSET in paramColumns's result.
const limitParam = "\x00limit"

// paramColumns maps placeholders to the column they are compared with or inserted
// into, and lists the tables the statement names (after FROM, JOIN, INTO, UPDATE).
func paramColumns(toks []sqltext.Token) (map[int]string, []string) {
	cols := map[int]string{}
	var tables []string
	word := func(i int) string {
		if i < 0 || i >= len(toks) {
			return ""
		}
		switch t := toks[i]; t.Kind {
		case sqltext.Word:
			return t.Text
		case sqltext.Quoted:
			return t.Text[1 : len(t.Text)-1]
		}
		return ""
	}
	upper := func(i int) string {
		if i < 0 || i >= len(toks) || toks[i].Kind != sqltext.Word {
			return ""
		}
		return strings.ToUpper(toks[i].Text)
	}
	// column is the last name of a dotted chain starting at i (a.b.col).
	column := func(i int) string {
		for word(i) != "" && i+2 < len(toks) && toks[i+1].Text == "." {
			i += 2
		}
		return word(i)
	}
	isCmp := func(i int) bool {
		if i < 0 || i >= len(toks) {
			return false
		}
		switch toks[i].Text {
		case "=", "<>", "!=", "<", ">", "<=", ">=":
			return toks[i].Kind == sqltext.Punct
		}
		return upper(i) == "LIKE"
	}
	for i, t := range toks {
		switch upper(i) {
		case "FROM", "JOIN", "INTO", "UPDATE":
			if upper(i-1) == "KEY" {
				break // ON DUPLICATE KEY UPDATE
			}
			j := i + 1
			for word(j) != "" && j+1 < len(toks) && toks[j+1].Text == "." {
				j += 2 // schema.table
			}
			if w := word(j); w != "" {
				tables = append(tables, w)
			}
		}
		if t.Kind != sqltext.Param {
			continue
		}
		switch {
		case isCmp(i-1) && word(i-2) != "":
			cols[t.Param] = word(i - 2)
		case isCmp(i+1) && column(i+2) != "":
			cols[t.Param] = column(i + 2)
		case upper(i-1) == "LIMIT" || upper(i-1) == "OFFSET" || toks[max(i-1, 0)].Text == "," && upper(i-3) == "LIMIT":
			cols[t.Param] = limitParam
		default:
			// col IN ($1, $2, …)
			j := i - 1
			for j >= 0 && (toks[j].Kind == sqltext.Param || toks[j].Text == ",") {
				j--
			}
			if j >= 2 && toks[j].Text == "(" && upper(j-1) == "IN" && word(j-2) != "" {
				cols[t.Param] = word(j - 2)
			}
		}
	}
	insertColumns(toks, cols, word, upper)
	return cols, tables
}

// insertColumns maps the placeholders of INSERT INTO t (a, b) VALUES ($1, $2), (…)
// to their columns.
func insertColumns(toks []sqltext.Token, cols map[int]string, word func(int) string, upper func(int) string) {
	i := 0
	for i < len(toks) && upper(i) != "INSERT" {
		i++
	}
	for i < len(toks) && toks[i].Text != "(" {
		if upper(i) == "VALUES" || upper(i) == "SELECT" {
			return // no column list
		}
		i++
	}
	var names []string
	for i++; i < len(toks) && toks[i].Text != ")"; i++ {
		if w := word(i); w != "" {
			names = append(names, w)
		}
	}
	for i < len(toks) && upper(i) != "VALUES" {
		i++
	}
	// Each tuple: top-level items separated by commas; an item that is a lone
	// placeholder, or one cast ($1::uuid, sqlc's @id::uuid), takes the column
	// at its position.
	depth, item, start := 0, 0, 0
	for i++; i < len(toks); i++ {
		switch toks[i].Text {
		case "(":
			depth++
			if depth == 1 {
				item, start = 0, i+1
			}
			continue
		case ")", ",":
			if depth == 1 {
				lone := i == start+1 || i > start+1 && toks[start+1].Text == "::"
				if lone && toks[start].Kind == sqltext.Param && item < len(names) {
					cols[toks[start].Param] = names[item]
				}
				item, start = item+1, i+1
			}
			if toks[i].Text == ")" {
				depth--
			}
		}
		if depth == 0 && toks[i].Kind == sqltext.Word {
			return // ON DUPLICATE KEY …, RETURNING …
		}
	}
}

// resolveKeys looks for a row in the tables g's pending foreign keys reference
// and, where one is there now, binds its key from then on. What it cannot
// resolve stays as generated; a lost connection or ctx's end is an error.
func (r *Runner) resolveKeys(ctx context.Context, conn *sql.Conn, rq *runQuery, g *Generated, pending []pendingKey) (*Generated, *observe.Event, error) {
	c, done, err := r.connOr(ctx, conn)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	next := *g
	next.Args = slices.Clone(g.Args)
	var still []pendingKey
	for _, pk := range pending {
		key, ok, err := firstKey(ctx, c, r.family, pk.table, pk.column)
		if err != nil {
			return nil, nil, fmt.Errorf("query %s: a key of %s: %w", rq.q.Name, pk.table, err)
		}
		if !ok {
			still = append(still, pk)
			continue
		}
		next.Args[pk.param-1] = str(key)
	}
	if len(still) == len(pending) {
		return g, nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.gen[rq.q.Name]; cur != g {
		return cur, nil, nil // a concurrent execution resolved it first
	}
	r.gen[rq.q.Name] = &next
	r.pending[rq.q.Name] = still
	return &next, nil, nil
}

// connOr returns conn, or a connection of the pool when it is nil, and what
// gives it back. Its error is ctx's, or a lost connection.
func (r *Runner) connOr(ctx context.Context, conn *sql.Conn) (*sql.Conn, func(), error) {
	if conn != nil {
		return conn, func() {}, nil
	}
	c, err := r.db.Conn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("open connection: %w: %w", ErrConnLost, err)
	}
	return c, func() { c.Close() }, nil
}
