package enginetest

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/straddle-dev/straddle/harness/engine"
	"github.com/straddle-dev/straddle/harness/engine/scratch"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// schema is the DDL every family runs unchanged: table-level constraints only,
// because MySQL and MariaDB silently ignore an inline column REFERENCES clause.
var schema = []string{
	`CREATE TABLE parent (
		id INT NOT NULL,
		name VARCHAR(50) NOT NULL,
		PRIMARY KEY (id),
		CONSTRAINT parent_name_key UNIQUE (name)
	)`,
	`CREATE TABLE child (
		id INT NOT NULL,
		parent_id INT NOT NULL,
		qty INT NOT NULL,
		note VARCHAR(10),
		PRIMARY KEY (id),
		CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id),
		CONSTRAINT child_qty_positive CHECK (qty > 0)
	)`,
}

// want is the error a statement must produce on one flavor.
type want struct {
	class engine.Class
	codes []string // any of these
}

// errorCase is a statement that must fail on a database holding parent rows 1 and 2
// and child row 1 (parent 1), and how each flavor reports it.
type errorCase struct {
	name   string
	reason string
	query  string
	pg     want
	mysql  want
	// mariadb is mysql unless set.
	mariadb *want
}

func (c errorCase) want(f engine.Flavor) want {
	switch f {
	case engine.FlavorPostgres:
		return c.pg
	case engine.FlavorMariaDB:
		if c.mariadb != nil {
			return *c.mariadb
		}
	}
	return c.mysql
}

var errorCases = []errorCase{
	{
		name:   "undefined-column",
		reason: "old code selecting a dropped or renamed column",
		query:  `SELECT nosuch FROM parent`,
		pg:     want{engine.ClassUndefinedColumn, []string{"42703"}},
		mysql:  want{engine.ClassUndefinedColumn, []string{"1054"}},
	},
	{
		name:   "undefined-table",
		reason: "old code reading a dropped or renamed table",
		query:  `SELECT id FROM nosuch`,
		pg:     want{engine.ClassUndefinedTable, []string{"42P01"}},
		mysql:  want{engine.ClassUndefinedTable, []string{"1146"}},
	},
	{
		name:   "ambiguous-column",
		reason: "a column added to a joined table makes an unqualified name ambiguous",
		query:  `SELECT id FROM parent, child`,
		pg:     want{engine.ClassAmbiguousColumn, []string{"42702"}},
		mysql:  want{engine.ClassAmbiguousColumn, []string{"1052"}},
	},
	{
		name:   "not-null-explicit",
		reason: "writing NULL into a NOT NULL column",
		query:  `INSERT INTO parent (id, name) VALUES (10, NULL)`,
		pg:     want{engine.ClassNotNull, []string{"23502"}},
		mysql:  want{engine.ClassNotNull, []string{"1048"}},
	},
	{
		name:   "not-null-omitted",
		reason: "old INSERTs omit a new NOT NULL column without default (strict mode on mysql)",
		query:  `INSERT INTO parent (id) VALUES (11)`,
		pg:     want{engine.ClassNotNull, []string{"23502"}},
		mysql:  want{engine.ClassNotNull, []string{"1364"}},
	},
	{
		name:   "unique",
		reason: "a new unique constraint rejects a value old code writes",
		query:  `INSERT INTO parent (id, name) VALUES (12, 'one')`,
		pg:     want{engine.ClassUnique, []string{"23505"}},
		mysql:  want{engine.ClassUnique, []string{"1062"}},
	},
	{
		name:   "unique-primary-key",
		reason: "primary keys report as unique violations too",
		query:  `INSERT INTO parent (id, name) VALUES (1, 'uno')`,
		pg:     want{engine.ClassUnique, []string{"23505"}},
		mysql:  want{engine.ClassUnique, []string{"1062"}},
	},
	{
		name:   "foreign-key-insert",
		reason: "a child row pointing at a missing parent",
		query:  `INSERT INTO child (id, parent_id, qty) VALUES (10, 999, 1)`,
		pg:     want{engine.ClassForeignKey, []string{"23503"}},
		mysql:  want{engine.ClassForeignKey, []string{"1452"}},
	},
	{
		name:   "foreign-key-delete",
		reason: "deleting a parent that still has children",
		query:  `DELETE FROM parent WHERE id = 1`,
		pg:     want{engine.ClassForeignKey, []string{"23503"}},
		mysql:  want{engine.ClassForeignKey, []string{"1451"}},
	},
	{
		name:    "check",
		reason:  "a CHECK constraint (enforced since MySQL 8.0.16 and MariaDB 10.2)",
		query:   `INSERT INTO child (id, parent_id, qty) VALUES (11, 1, 0)`,
		pg:      want{engine.ClassCheck, []string{"23514"}},
		mysql:   want{engine.ClassCheck, []string{"3819"}},
		mariadb: &want{engine.ClassCheck, []string{"4025"}},
	},
	{
		name:   "too-long",
		reason: "a value longer than the column (strict mode on mysql)",
		query:  `INSERT INTO child (id, parent_id, qty, note) VALUES (12, 1, 1, 'far too long for ten')`,
		pg:     want{engine.ClassOutOfRange, []string{"22001"}},
		mysql:  want{engine.ClassOutOfRange, []string{"1406"}},
	},
	{
		name:   "positional-too-many",
		reason: "positional INSERT with more values than columns; postgres calls it a syntax error",
		query:  `INSERT INTO parent VALUES (13, 'thirteen', 'extra')`,
		pg:     want{engine.ClassSyntax, []string{"42601"}},
		mysql:  want{engine.ClassColumnCount, []string{"1136"}},
	},
	{
		name:   "positional-too-few",
		reason: "old positional INSERT after ADD COLUMN: postgres fills trailing columns with defaults",
		query:  `INSERT INTO parent VALUES (14)`,
		pg:     want{engine.ClassNotNull, []string{"23502"}},
		mysql:  want{engine.ClassColumnCount, []string{"1136"}},
	},
	{
		name:   "undefined-function",
		reason: "old code calling a function or procedure a step dropped or renamed",
		query:  `SELECT nosuch_fn(1)`,
		pg:     want{engine.ClassUndefinedFunction, []string{"42883"}},
		mysql:  want{engine.ClassUndefinedFunction, []string{"1305"}},
	},
	{
		name:   "undefined-operator",
		reason: "an operator over a column whose type a step changed (PostgreSQL: integer ~~ text); MySQL converts",
		query:  `SELECT id FROM parent WHERE id LIKE CAST('1%' AS CHAR(2))`,
		pg:     want{engine.ClassUndefinedFunction, []string{"42883"}},
		mysql:  want{engine.ClassNone, nil},
	},
	{
		name:   "type-mismatch",
		reason: "old code assigning a value of its type to a column whose type a step changed (MySQL converts, strict mode rejects the value)",
		query:  `UPDATE parent SET id = CAST('a' AS CHAR(1)) WHERE id = 1`,
		pg:     want{engine.ClassTypeMismatch, []string{"42804"}},
		mysql:  want{engine.ClassInvalidValue, []string{"1366", "1292"}},
	},
	{
		name:   "syntax",
		reason: "a statement the server cannot parse",
		query:  `SELEC 1`,
		pg:     want{engine.ClassSyntax, []string{"42601"}},
		mysql:  want{engine.ClassSyntax, []string{"1064"}},
	},
}

// Run is the conformance suite. It runs as one subtest named "<provider>/<spec>",
// e.g. TestConformance/local/postgres, and fails it when p does not honour the
// engine contracts for spec. p must have no other server running meanwhile.
func Run(t *testing.T, p engine.Provider, spec engine.Spec) {
	t.Helper()
	t.Run(p.Name()+"/"+spec.String(), func(t *testing.T) {
		run(t, p, spec)
	})
}

func run(t *testing.T, p engine.Provider, spec engine.Spec) {
	ctx := t.Context()

	start := time.Now()
	srv, err := p.Start(ctx, spec)
	assert.NilError(t, err, "start %s", spec)
	t.Logf("%s %s started in %s: server version %s", p.Name(), srv.Spec(), time.Since(start).Round(time.Millisecond), srv.Version())
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = srv.Stop(context.Background())
		}
	})

	t.Run("server", func(t *testing.T) {
		checkServer(t, srv, spec)
	})

	db1 := createDatabase(ctx, t, srv, spec)
	conn1 := open(ctx, t, db1)

	t.Run("ddl-dml", func(t *testing.T) {
		ddlDML(ctx, t, conn1, engine.DialectOf(spec.Family()))
	})
	t.Run("session-holds-locks", func(t *testing.T) {
		sessionHoldsLocks(ctx, t, conn1, engine.DialectOf(spec.Family()))
	})
	t.Run("classify", func(t *testing.T) {
		for _, c := range errorCases {
			t.Run(c.name, func(t *testing.T) {
				w := c.want(spec.Flavor)
				_, err := conn1.ExecContext(ctx, c.query)
				if w.class == engine.ClassNone {
					assert.NilError(t, err, "%s: %s failed, want it to succeed here (%s)", c.name, c.query, c.reason)
					return
				}
				assert.Assert(t, err != nil, "%s: %s succeeded (%s)", c.name, c.query, c.reason)
				de := engine.Classify(err)
				assert.Assert(t, de != nil, "%s: not a server error: %v", c.query, err)
				assert.Check(t, is.Equal(de.Class, w.class), "%s: %s (%s)", c.query, de, c.reason)
				assert.Check(t, slices.Contains(w.codes, de.Code), "%s: code %s, want one of %v: %s", c.query, de.Code, w.codes, de.Message)
			})
		}
		var n int
		assert.NilError(t, conn1.QueryRowContext(ctx, `SELECT COUNT(*) FROM parent`).Scan(&n))
		assert.Equal(t, n, 2, "a failed statement changed data")
		assert.Assert(t, engine.Classify(context.Canceled) == nil, "a non-server error classified as a server error")
	})

	t.Run("isolation", func(t *testing.T) {
		db2 := createDatabase(ctx, t, srv, spec)
		assert.Assert(t, db2.Name() != db1.Name())
		conn2 := open(ctx, t, db2)
		_, err := conn2.ExecContext(ctx, `SELECT id FROM parent`)
		de := engine.Classify(err)
		assert.Assert(t, de != nil && de.Class == engine.ClassUndefinedTable,
			"table parent of %s visible in %s: %v", db1.Name(), db2.Name(), err)
		_, err = conn2.ExecContext(ctx, `CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)`)
		assert.NilError(t, err)
		_, err = conn2.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES (1, 'other')`)
		assert.NilError(t, err)
		var name string
		assert.NilError(t, conn1.QueryRowContext(ctx, `SELECT name FROM parent WHERE id = 1`).Scan(&name))
		assert.Equal(t, name, "one", "a write to %s changed %s", db2.Name(), db1.Name())

		assert.NilError(t, conn2.Close())
		assert.NilError(t, db2.Drop(ctx), "drop %s", db2.Name())
		assert.NilError(t, db2.Drop(ctx), "drop %s a second time", db2.Name())
		assertGone(ctx, t, db2)
	})

	// db3 is left for Stop to clean up, with an idle connection still open, as a run
	// interrupted mid-scenario would leave it.
	db3 := createDatabase(ctx, t, srv, spec)
	conn3 := open(ctx, t, db3)
	_, err = conn3.ExecContext(ctx, `CREATE TABLE leftover (id INT PRIMARY KEY)`)
	assert.NilError(t, err)

	assert.NilError(t, conn1.Close())
	assert.NilError(t, db1.Drop(ctx), "drop %s", db1.Name())

	t.Run("stop", func(t *testing.T) {
		stopped = true
		assert.NilError(t, srv.Stop(ctx), "stop")
		assert.NilError(t, srv.Stop(ctx), "stop a second time")
		_ = conn3.Close()

		if l, ok := p.(engine.LeftoverLister); ok {
			left, err := l.Leftovers(ctx)
			assert.NilError(t, err, "leftovers")
			assert.Check(t, is.Len(left, 0), "left behind after Stop: %v", left)
		}
		for _, db := range []engine.Database{db1, db3} {
			assertGone(ctx, t, db)
		}
	})
}

func checkServer(t *testing.T, srv engine.Server, spec engine.Spec) {
	got := srv.Spec()
	assert.Equal(t, got.Flavor, spec.Flavor, "server spec %s for %s", got, spec)
	if numeric(spec.Version) {
		assert.Equal(t, got.Version, spec.Version, "server spec %s for %s", got, spec)
	}
	v := srv.Version()
	assert.Assert(t, v != "", "empty server version")
	if numeric(spec.Version) {
		assert.Assert(t, v == spec.Version || strings.HasPrefix(v, spec.Version+"."),
			"server version %s does not match spec %s", v, spec)
	}
	if spec.Flavor == engine.FlavorMariaDB {
		assert.Assert(t, is.Contains(v, "MariaDB"), "server version %s is not MariaDB", v)
	}
}

func numeric(v string) bool {
	return v != "" && strings.Trim(v, "0123456789.") == ""
}

func createDatabase(ctx context.Context, t *testing.T, srv engine.Server, spec engine.Spec) engine.Database {
	t.Helper()
	db, err := srv.CreateDatabase(ctx)
	assert.NilError(t, err, "create database")
	assert.Assert(t, strings.HasPrefix(db.Name(), engine.DatabasePrefix), "database name %q", db.Name())
	assert.Equal(t, db.Family(), spec.Family())
	assert.Equal(t, db.ServerVersion(), srv.Version())

	// The DSN is what external commands get: it must name the family and the database.
	f, err := scratch.FamilyOfURL(db.DSN())
	assert.NilError(t, err)
	assert.Equal(t, f, spec.Family())
	assert.Assert(t, strings.Contains(db.DSN(), "/"+db.Name()), "DSN does not name database %s", db.Name())
	return db
}

// open connects to db twice: through Open, and through its DSN the way an external
// command would, checking both land in the same database.
func open(ctx context.Context, t *testing.T, db engine.Database) *sql.DB {
	t.Helper()
	conn, err := db.Open(ctx)
	assert.NilError(t, err, "open %s", db.Name())
	t.Cleanup(func() { conn.Close() })

	driver, dsn, err := scratch.DriverDSN(db.Family(), db.DSN())
	assert.NilError(t, err)
	ext, err := sql.Open(driver, dsn)
	assert.NilError(t, err)
	defer ext.Close()
	var name string
	assert.NilError(t, ext.QueryRowContext(ctx, currentDatabase(db.Family())).Scan(&name), "connect with the DSN of %s", db.Name())
	assert.Equal(t, name, db.Name())
	return conn
}

func currentDatabase(f engine.Family) string {
	if f == engine.Postgres {
		return `SELECT current_database()`
	}
	return `SELECT DATABASE()`
}

func ddlDML(ctx context.Context, t *testing.T, conn *sql.DB, d *engine.Dialect) {
	for _, q := range schema {
		_, err := conn.ExecContext(ctx, q)
		assert.NilError(t, err, "ddl: %s", q)
	}
	ins := `INSERT INTO parent (id, name) VALUES (` + d.Placeholder(1) + `, ` + d.Placeholder(2) + `)`
	for _, r := range []struct {
		id   int
		name string
	}{{1, "one"}, {2, "two"}} {
		_, err := conn.ExecContext(ctx, ins, r.id, r.name)
		assert.NilError(t, err, "insert parent %d", r.id)
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO child (id, parent_id, qty, note) VALUES (1, 1, 5, NULL)`)
	assert.NilError(t, err)
	res, err := conn.ExecContext(ctx, `UPDATE child SET qty = qty + 1 WHERE id = `+d.Placeholder(1), 1)
	assert.NilError(t, err)
	n, err := res.RowsAffected()
	assert.NilError(t, err)
	assert.Equal(t, n, int64(1))

	var (
		name string
		qty  int
		note sql.NullString
	)
	err = conn.QueryRowContext(ctx, `SELECT p.name, c.qty, c.note FROM child c JOIN parent p ON p.id = c.parent_id WHERE c.id = 1`).Scan(&name, &qty, &note)
	assert.NilError(t, err)
	assert.Equal(t, name, "one")
	assert.Equal(t, qty, 6)
	assert.Assert(t, !note.Valid)

	// The catalog names the tables, columns and keys as they were created: a
	// foreign key with its own columns and the ones it references.
	snap, err := d.ReadSchema(ctx, conn)
	assert.NilError(t, err)
	fk := "FOREIGN KEY (parent_id) REFERENCES parent (id)"
	var found []string
	for _, o := range snap {
		if o.Kind == "constraint" && o.Table == "child" {
			found = append(found, o.Name+": "+o.Detail)
		}
	}
	assert.Assert(t, slices.Contains(found, "child_parent_fk: "+fk), "constraints of child: %q", found)

	// A rolled-back transaction leaves no trace.
	tx, err := conn.BeginTx(ctx, nil)
	assert.NilError(t, err)
	_, err = tx.ExecContext(ctx, `DELETE FROM child`)
	assert.NilError(t, err)
	assert.NilError(t, tx.Rollback())
	var count int
	assert.NilError(t, conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM child`).Scan(&count))
	assert.Equal(t, count, 1)
}

// assertGone checks that db can no longer be connected to: dropped, or its server
// stopped. Either way the scratch database is not left behind.
func assertGone(ctx context.Context, t *testing.T, db engine.Database) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := db.Open(ctx)
	if err == nil {
		conn.Close()
		t.Errorf("database %s still exists", db.Name())
		return
	}
	assert.Assert(t, ctx.Err() == nil, "open %s: no answer within 30s: %v", db.Name(), err)
}

// sessionHoldsLocks checks Dialect.SessionHoldsLocks on one connection, through
// the driver as the runner asks it between a step's statements: false outside a
// transaction, true once a transaction took a lock, false again after COMMIT.
// (PostgreSQL's first query said true always over the extended protocol, and no
// state between two statements was probed there.)
func sessionHoldsLocks(ctx context.Context, t *testing.T, db *sql.DB, d *engine.Dialect) {
	c, err := db.Conn(ctx)
	assert.NilError(t, err)
	defer c.Close()
	holds := func() bool {
		var in bool
		assert.NilError(t, c.QueryRowContext(ctx, d.SessionHoldsLocks).Scan(&in))
		return in
	}
	assert.Check(t, !holds(), "idle session: no transaction")
	_, err = c.ExecContext(ctx, "UPDATE parent SET name = name WHERE id = 2")
	assert.NilError(t, err)
	assert.Check(t, !holds(), "after an autocommitted statement")
	_, err = c.ExecContext(ctx, "BEGIN")
	assert.NilError(t, err)
	_, err = c.ExecContext(ctx, "UPDATE parent SET name = name WHERE id = 2")
	assert.NilError(t, err)
	assert.Check(t, holds(), "inside a transaction that wrote a row")
	_, err = c.ExecContext(ctx, "COMMIT")
	assert.NilError(t, err)
	assert.Check(t, !holds(), "after COMMIT")
}
