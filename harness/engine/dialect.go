package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/straddle-dev/straddle/harness/schema"
)

// Class is a normalized error class, the same name on every family
// (shared/patterns.md, Appendix A).
type Class string

const (
	ClassNone             Class = ""
	ClassUndefinedColumn  Class = "undefined-column"
	ClassUndefinedTable   Class = "undefined-table"
	ClassAmbiguousColumn  Class = "ambiguous-column"
	ClassColumnCount      Class = "column-count"
	ClassNotNull          Class = "not-null"
	ClassUnique           Class = "unique"
	ClassForeignKey       Class = "foreign-key"
	ClassCheck            Class = "check"
	ClassInvalidValue     Class = "invalid-value"
	ClassOutOfRange       Class = "out-of-range"
	ClassStalePlan        Class = "stale-plan"
	ClassNoConflictTarget Class = "no-conflict-target"
	ClassUndefinedObject  Class = "undefined-object"
	// ClassUndefinedFunction: a function, procedure or operator that does not
	// exist for the arguments given — dropped or renamed, or its argument's
	// column changed type (lower(integer), integer = text).
	ClassUndefinedFunction Class = "undefined-function"
	// ClassTypeMismatch: an expression of one type where the column has another
	// (PostgreSQL: "column is of type integer but expression is of type text").
	ClassTypeMismatch Class = "type-mismatch"
	// ClassWrongObjectType: an object of another kind than the statement
	// needs: COPY into a view standing in for a renamed table (PostgreSQL
	// 42809), a view where a base table is needed (MySQL 1347).
	ClassWrongObjectType Class = "wrong-object-type"
	// ClassRaised: an error the schema's own code raised (PostgreSQL RAISE
	// EXCEPTION, P0001; MySQL SIGNAL, 1644), most often a trigger rejecting a
	// write.
	ClassRaised           Class = "raised"
	ClassLockTimeout      Class = "lock-timeout"
	ClassStatementTimeout Class = "statement-timeout"
	ClassDeadlock         Class = "deadlock"
	ClassSyntax           Class = "syntax"
	ClassOther            Class = "other"
)

// Classes lists every class a scenario may name, in a stable order.
var Classes = []Class{
	ClassUndefinedColumn, ClassUndefinedTable, ClassAmbiguousColumn, ClassColumnCount,
	ClassNotNull, ClassUnique, ClassForeignKey, ClassCheck, ClassInvalidValue,
	ClassOutOfRange, ClassStalePlan, ClassNoConflictTarget, ClassUndefinedObject,
	ClassUndefinedFunction, ClassTypeMismatch, ClassWrongObjectType, ClassRaised,
	ClassLockTimeout, ClassStatementTimeout, ClassDeadlock, ClassSyntax, ClassOther,
}

// ParseClass returns the class named s, or an error listing the valid names.
func ParseClass(s string) (Class, error) {
	for _, c := range Classes {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown error class %q (want one of %v)", s, Classes)
}

// Transient reports whether c is an expected, retryable class (lock and statement
// timeouts, deadlocks, serialization failures) rather than a compatibility break.
func (c Class) Transient() bool {
	return c == ClassLockTimeout || c == ClassStatementTimeout || c == ClassDeadlock
}

// DBError is a database error reduced to what reports and verdicts need.
type DBError struct {
	Code    string // SQLSTATE on postgres, error number on mysql
	Class   Class
	Message string
	// Gone is true when the code says the server or the connection went away
	// (Dialect.Gone): an environment failure, never a finding about the SQL.
	Gone bool
	// cause is the error Classify reduced (the driver's typed error is in its
	// chain); nil for a DBError made by hand.
	cause error
}

func (e *DBError) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the error Classify reduced, so errors.As still finds the
// driver's own error (*pgconn.PgError, *mysql.MySQLError) and errors.Is what
// else its chain holds.
func (e *DBError) Unwrap() error { return e.cause }

// Dialect is everything that differs between families, as data. Get one with
// DialectOf; never switch on Family elsewhere.
type Dialect struct {
	Family Family
	// Classes maps a server error code to its normalized class.
	Classes map[string]Class
	// VersionQuery returns the server version as one text column.
	VersionQuery string
	// CreateDatabase and DropDatabase are format strings taking a quoted name.
	CreateDatabase string
	DropDatabase   string
	// Quote quotes an identifier.
	Quote func(ident string) string
	// Placeholder renders the n-th (1-based) bind parameter.
	Placeholder func(n int) string
	// DriverCachesStatements is true when the family's driver keeps a prepared
	// statement per query and connection itself (pgx's statement cache); false
	// where database/sql prepares, executes and closes one per execution
	// (go-sql-driver/mysql), so a runner keeps them for BindPrepared.
	DriverCachesStatements bool
	// LockTimeout sets the session's lock wait timeout to a number of milliseconds
	// (format string taking an int).
	LockTimeout string
	// StartingUp holds the error codes a server answers with while it is still
	// starting or recovering: worth waiting out, unlike a bad password.
	StartingUp map[string]bool
	// Gone holds the error codes that say the server or the connection is going
	// away — a shutdown, a crash, a killed connection, the database dropped under
	// the run — and GonePrefixes the code classes that do (SQLSTATE class 08,
	// connection exception). A statement that fails with one of them says nothing
	// about the SQL: the run is an environment failure (Classify sets DBError.Gone).
	Gone         map[string]bool
	GonePrefixes []string
	// TransactionalDDL is true when DDL can run inside a transaction and roll back;
	// false where every DDL statement commits on its own (MySQL/MariaDB), so traffic
	// sees each intermediate statement of a step.
	TransactionalDDL bool
	// StalePlans is true where a statement prepared before a step that changes
	// the type of what it returns fails on its session instead of being prepared
	// again (PostgreSQL: 0A000 cached plan must not change result type); MySQL and
	// MariaDB prepare it again themselves.
	StalePlans bool
	// IndexBuildBlocksWrites is true where a plain CREATE INDEX blocks writes to
	// the table for the whole build and CREATE INDEX CONCURRENTLY does not
	// (PostgreSQL); MySQL/MariaDB build indexes online by default.
	IndexBuildBlocksWrites bool
	// SessionHoldsLocks returns one boolean column: true while the session that
	// runs it is inside an explicit transaction, so the statements it ran so far
	// are not visible (or their locks not released) yet. The runner probes the
	// state between two statements of a step only when it is false.
	SessionHoldsLocks string
	// Catalog lists queries that describe the current database's schema, each
	// returning rows of four text columns: kind (schema.Kind), table, name and
	// detail, in one vocabulary for every family (package schema).
	Catalog []string
	// ImplicitNotNullDefault is true when ADD COLUMN … NOT NULL without a DEFAULT
	// fills the existing rows with the type's implicit default ('' or 0) and succeeds
	// (MySQL/MariaDB); false where it fails on a non-empty table (PostgreSQL 23502).
	ImplicitNotNullDefault bool
	// PositionalInsertPads is true when INSERT … VALUES without a column list and
	// with fewer values than the table has columns fills the trailing columns with
	// their defaults (PostgreSQL); false where it fails (MySQL 1136).
	PositionalInsertPads bool

	// Monitor is what a lock monitor reads while a step runs (lockmon.go).
	Monitor LockMonitor
}

// Capability is a yes/no fact about a family's SQL behaviour. Scenario scripts test
// capabilities with [cap:NAME], never engine names, so a new engine only needs its
// dialect data filled in.
type Capability struct {
	Name string
	Doc  string
	Has  func(*Dialect) bool
}

// Capabilities lists every capability, sorted by name.
var Capabilities = []Capability{
	{"implicit-not-null-default", "ADD COLUMN … NOT NULL without DEFAULT succeeds on a non-empty table, filling existing rows with the type's implicit default (MySQL/MariaDB); without it the ALTER fails with not-null (PostgreSQL)",
		func(d *Dialect) bool { return d.ImplicitNotNullDefault }},
	{"positional-insert-pads", "INSERT … VALUES without a column list may give fewer values than the table has columns; the rest get their defaults (PostgreSQL); without it the insert fails with column-count (MySQL/MariaDB)",
		func(d *Dialect) bool { return d.PositionalInsertPads }},
	{"stale-plans", "a statement prepared before a step that changes the type of what it returns (a column added to SELECT *, a column's type changed) fails once on each session that holds it (PostgreSQL: 0A000 cached plan must not change result type); without it the server prepares it again itself (MySQL/MariaDB)",
		func(d *Dialect) bool { return d.StalePlans }},
	{"transactional-ddl", "DDL runs inside a transaction: a multi-statement step commits at once and rolls back on failure (PostgreSQL); without it every statement commits on its own and traffic sees each intermediate state (MySQL/MariaDB)",
		func(d *Dialect) bool { return d.TransactionalDDL }},
}

// Has reports whether the family has the capability named name; the error lists
// the known names when there is none by that name.
func (d *Dialect) Has(name string) (bool, error) {
	for _, c := range Capabilities {
		if c.Name == name {
			return c.Has(d), nil
		}
	}
	names := make([]string, len(Capabilities))
	for i, c := range Capabilities {
		names[i] = c.Name
	}
	return false, fmt.Errorf("unknown capability %q (want one of %v)", name, names)
}

var dialects = map[Family]*Dialect{
	Postgres: {
		Family:  Postgres,
		Monitor: postgresMonitor,
		Classes: map[string]Class{
			"42703": ClassUndefinedColumn,
			"42P01": ClassUndefinedTable,
			"42702": ClassAmbiguousColumn,
			"42601": ClassSyntax,
			"23502": ClassNotNull,
			"23505": ClassUnique,
			"23503": ClassForeignKey,
			"23514": ClassCheck,
			"22P02": ClassInvalidValue,
			"22003": ClassOutOfRange,
			"22001": ClassOutOfRange,
			"0A000": ClassStalePlan,
			"42P10": ClassNoConflictTarget,
			"42704": ClassUndefinedObject,
			"42883": ClassUndefinedFunction,
			"42804": ClassTypeMismatch,
			"42809": ClassWrongObjectType,
			"P0001": ClassRaised,
			"55P03": ClassLockTimeout,
			"57014": ClassStatementTimeout,
			"40P01": ClassDeadlock,
			"40001": ClassDeadlock,
		},
		VersionQuery:           "SHOW server_version",
		CreateDatabase:         "CREATE DATABASE %s",
		DropDatabase:           "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		Quote:                  func(s string) string { return `"` + s + `"` },
		Placeholder:            func(n int) string { return "$" + strconv.Itoa(n) },
		DriverCachesStatements: true,
		LockTimeout:            "SET lock_timeout = %d",
		TransactionalDDL:       true,
		StalePlans:             true,
		IndexBuildBlocksWrites: true,
		// The session holds a lock besides the probe's own: a transaction
		// (BEGIN …, LOCK TABLE) is open and took some. (now() <>
		// statement_timestamp() said so always over pgx's extended protocol,
		// whose Execute message comes after the transaction began: no state
		// between statements was ever probed on PostgreSQL.)
		SessionHoldsLocks: `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype <> 'virtualxid'
  AND NOT (locktype = 'relation' AND relation = 'pg_catalog.pg_locks'::regclass))`,
		Catalog:              postgresCatalog,
		StartingUp:           map[string]bool{"57P03": true, "57P01": true, "57P02": true}, // starting up, or an init server shutting down
		PositionalInsertPads: true,
		Gone: map[string]bool{
			"57P01": true, // admin_shutdown: fast shutdown, or the postmaster died
			"57P02": true, // crash_shutdown: another backend crashed
			"57P03": true, // cannot_connect_now: starting up or shutting down
			"57P04": true, // database_dropped
			"53300": true, // too_many_connections
			"3D000": true, // invalid_catalog_name: the scratch database is gone
			"58030": true, // io_error
			"XX001": true, // data_corrupted
			"XX002": true, // index_corrupted
		},
		GonePrefixes: []string{"08"}, // connection_exception and its subclasses
	},
	MySQL: {
		Family:  MySQL,
		Monitor: mysqlMonitor,
		Classes: map[string]Class{
			"1054": ClassUndefinedColumn,
			"1146": ClassUndefinedTable,
			"1052": ClassAmbiguousColumn,
			"1136": ClassColumnCount,
			"1064": ClassSyntax,
			"1048": ClassNotNull,
			"1364": ClassNotNull,
			"1062": ClassUnique,
			"1451": ClassForeignKey,
			"1452": ClassForeignKey,
			"3819": ClassCheck,
			"4025": ClassCheck, // MariaDB: CONSTRAINT failed
			"1265": ClassInvalidValue,
			"1366": ClassInvalidValue,
			"1264": ClassOutOfRange,
			"1406": ClassOutOfRange,
			"1176": ClassUndefinedObject,
			"1305": ClassUndefinedFunction, // FUNCTION or PROCEDURE … does not exist
			"1630": ClassUndefinedFunction, // MySQL: FUNCTION … does not exist (name parsing)
			"1347": ClassWrongObjectType,   // 'db.v' is not BASE TABLE
			"1644": ClassRaised,            // SIGNAL SQLSTATE '45000' in a trigger or routine
			"1205": ClassLockTimeout,
			"3024": ClassStatementTimeout,
			"1969": ClassStatementTimeout, // MariaDB: max_statement_time exceeded
			"1213": ClassDeadlock,
		},
		VersionQuery:           "SELECT VERSION()",
		SessionHoldsLocks:      "SELECT @@in_transaction <> 0",
		Catalog:                mysqlCatalog,
		StartingUp:             map[string]bool{"1053": true}, // server shutdown in progress (an init server)
		CreateDatabase:         "CREATE DATABASE %s",
		DropDatabase:           "DROP DATABASE IF EXISTS %s",
		Quote:                  func(s string) string { return "`" + s + "`" },
		Placeholder:            func(int) string { return "?" },
		LockTimeout:            "SET SESSION lock_wait_timeout = GREATEST(1, CEIL(%d / 1000)), SESSION innodb_lock_wait_timeout = GREATEST(1, CEIL(%[1]d / 1000))",
		ImplicitNotNullDefault: true,
		Gone: map[string]bool{
			"1040": true, // ER_CON_COUNT_ERROR: too many connections
			"1049": true, // ER_BAD_DB_ERROR: the scratch database is gone
			"1053": true, // ER_SERVER_SHUTDOWN: shutdown in progress
			"1077": true, // ER_NORMAL_SHUTDOWN
			"1078": true, // ER_GOT_SIGNAL: aborting
			"1079": true, // ER_SHUTDOWN_COMPLETE
			"1080": true, // ER_FORCING_CLOSE: forcing close of thread
			"1152": true, // ER_ABORTING_CONNECTION
			"1184": true, // ER_NEW_ABORTING_CONNECTION
			"1927": true, // ER_CONNECTION_KILLED (MariaDB)
			"2002": true, // CR_CONNECTION_ERROR (client libraries, e.g. a migration command)
			"2003": true, // CR_CONN_HOST_ERROR
			"2006": true, // CR_SERVER_GONE_ERROR
			"2013": true, // CR_SERVER_LOST
			"2055": true, // CR_SERVER_LOST_EXTENDED
		},
	},
}

// DialectOf returns the dialect of a family. It panics on an unknown family, which
// can only come from a Spec that was not made by ParseSpec.
func DialectOf(f Family) *Dialect {
	d, ok := dialects[f]
	if !ok {
		panic("engine: unknown family " + string(f))
	}
	return d
}

// Classifier reads a driver's typed error: ok is false when err is not one of its
// errors. Drivers register theirs with RegisterClassifier, so this package stays free
// of driver imports (package driver registers pgx and go-sql-driver/mysql).
type Classifier func(err error) (f Family, code, message string, ok bool)

var (
	classifiersMu sync.RWMutex
	classifiers   []Classifier
)

// RegisterClassifier adds a classifier; safe for concurrent use.
func RegisterClassifier(c Classifier) {
	classifiersMu.Lock()
	defer classifiersMu.Unlock()
	classifiers = append(classifiers, c)
}

// Classify reduces a driver error to a *DBError: the server's code, its normalized
// class and message. It reads the driver's typed error, never the message text. It
// returns nil when err is not a server error (a network failure, a context
// cancellation): callers treat those as environment failures.
func Classify(err error) *DBError {
	if err == nil {
		return nil
	}
	var de *DBError
	if errors.As(err, &de) {
		return de
	}
	classifiersMu.RLock()
	defer classifiersMu.RUnlock()
	for _, c := range classifiers {
		if f, code, msg, ok := c(err); ok {
			return &DBError{Code: code, Class: classOf(f, code), Message: msg, Gone: dialects[f].gone(code), cause: err}
		}
	}
	return nil
}

// gone reports whether code says the server or the connection went away.
func (d *Dialect) gone(code string) bool {
	if d.Gone[code] {
		return true
	}
	for _, p := range d.GonePrefixes {
		if strings.HasPrefix(code, p) {
			return true
		}
	}
	return false
}

// Gone reports whether code, a server error code of family f, says the server or
// the connection went away rather than that a statement is wrong (Dialect.Gone).
func Gone(f Family, code string) bool { return DialectOf(f).gone(code) }

// ClassOf returns the normalized class of a server error code on family f.
func ClassOf(f Family, code string) Class { return classOf(f, code) }

func classOf(f Family, code string) Class {
	if c, ok := dialects[f].Classes[code]; ok {
		return c
	}
	return ClassOther
}

// postgresCatalog describes the objects of the current schema (search_path's
// first), straddle's scratch databases' "public".
var postgresCatalog = []string{
	`SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' WHEN 'S' THEN 'sequence' ELSE 'table' END,
	        CASE WHEN c.relkind = 'S' THEN '' ELSE c.relname END, CASE WHEN c.relkind = 'S' THEN c.relname ELSE '' END, ''
	   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')`,
	`SELECT 'column', c.relname, a.attname,
	        format_type(a.atttypid, a.atttypmod)
	        || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
	        || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
	                WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
	   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
	`SELECT 'index', t.relname, i.relname,
	        CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END
	        || '(' || COALESCE((SELECT string_agg(a.attname, ', ' ORDER BY k.n)
	                              FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, n)
	                              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), '') || ')'
	        || CASE WHEN x.indexprs IS NOT NULL THEN ' ' || pg_get_expr(x.indexprs, x.indrelid) ELSE '' END
	        || CASE WHEN x.indpred IS NOT NULL THEN ' WHERE ' || pg_get_expr(x.indpred, x.indrelid) ELSE '' END
	        || CASE WHEN NOT x.indisvalid THEN ' INVALID' ELSE '' END
	   FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
	   JOIN pg_namespace n ON n.oid = t.relnamespace
	  WHERE n.nspname = current_schema()`,
	`SELECT 'constraint', t.relname, co.conname,
	        CASE co.contype
	          WHEN 'p' THEN 'PRIMARY KEY'
	          WHEN 'u' THEN 'UNIQUE'
	          WHEN 'f' THEN 'FOREIGN KEY'
	          ELSE pg_get_constraintdef(co.oid) END
	        || CASE WHEN co.contype IN ('p', 'u', 'f') THEN
	             ' (' || COALESCE((SELECT string_agg(a.attname, ', ' ORDER BY k.n)
	                                 FROM unnest(co.conkey) WITH ORDINALITY k(attnum, n)
	                                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), '') || ')'
	           ELSE '' END
	        || CASE WHEN co.contype = 'f' THEN
	             ' REFERENCES ' || co.confrelid::regclass::text
	             || ' (' || COALESCE((SELECT string_agg(a.attname, ', ' ORDER BY k.n)
	                                    FROM unnest(co.confkey) WITH ORDINALITY k(attnum, n)
	                                    JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum), '') || ')'
	           ELSE '' END
	        || CASE WHEN NOT co.convalidated AND co.contype IN ('p', 'u', 'f') THEN ' NOT VALID' ELSE '' END
	   FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
	  WHERE n.nspname = current_schema()`,
	`SELECT 'trigger', t.relname, tg.tgname,
	        regexp_replace(pg_get_triggerdef(tg.oid), '^CREATE (CONSTRAINT )?TRIGGER \S+ ((BEFORE|AFTER|INSTEAD OF) .*?) ON .*$', '\2')
	   FROM pg_trigger tg JOIN pg_class t ON t.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace
	  WHERE n.nspname = current_schema() AND NOT tg.tgisinternal`,
	`SELECT 'function', '', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', ''
	   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	  WHERE n.nspname = current_schema()`,
	`SELECT 'enum', ty.typname, e.enumlabel, e.enumsortorder::text
	   FROM pg_enum e JOIN pg_type ty ON ty.oid = e.enumtypid JOIN pg_namespace n ON n.oid = ty.typnamespace
	  WHERE n.nspname = current_schema()`,
}

// mysqlCatalog describes the objects of the current database. Each query is on
// its own: information_schema's collations do not mix in a UNION.
var mysqlCatalog = []string{
	`SELECT CASE TABLE_TYPE WHEN 'VIEW' THEN 'view' WHEN 'SEQUENCE' THEN 'sequence' ELSE 'table' END,
	        IF(TABLE_TYPE = 'SEQUENCE', '', TABLE_NAME), IF(TABLE_TYPE = 'SEQUENCE', TABLE_NAME, ''), ''
	   FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`,
	`SELECT 'column', c.TABLE_NAME, c.COLUMN_NAME,
	        CONCAT(c.COLUMN_TYPE, IF(c.IS_NULLABLE = 'NO', ' NOT NULL', ''),
	               IF(c.COLUMN_DEFAULT IS NULL OR c.COLUMN_DEFAULT = 'NULL', '', CONCAT(' DEFAULT ', c.COLUMN_DEFAULT)),
	               IF(c.EXTRA LIKE '%auto_increment%', ' AUTO_INCREMENT', ''))
	   FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
	     ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
	  WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE <> 'SEQUENCE'`,
	`SELECT 'index', TABLE_NAME, INDEX_NAME,
	        CONCAT(IF(MAX(NON_UNIQUE) = 0, 'UNIQUE ', ''), '(', GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')')
	   FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
	  GROUP BY TABLE_NAME, INDEX_NAME`,
	`SELECT 'constraint', TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE
	   FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND CONSTRAINT_TYPE <> 'FOREIGN KEY'`,
	`SELECT 'constraint', TABLE_NAME, CONSTRAINT_NAME,
	        CONCAT('FOREIGN KEY (', GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ', '), ') REFERENCES ',
	               MAX(REFERENCED_TABLE_NAME), ' (', GROUP_CONCAT(REFERENCED_COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ', '), ')')
	   FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
	  GROUP BY TABLE_NAME, CONSTRAINT_NAME`,
	`SELECT 'trigger', EVENT_OBJECT_TABLE, TRIGGER_NAME, CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION)
	   FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`,
	`SELECT 'function', '', ROUTINE_NAME, ROUTINE_TYPE
	   FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()`,
}

// Queryer runs a query: a *sql.DB, *sql.Conn or *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadSchema reads the current database's schema through q with the dialect's
// Catalog queries. A dialect without them returns nil.
func (d *Dialect) ReadSchema(ctx context.Context, q Queryer) (schema.Snapshot, error) {
	if len(d.Catalog) == 0 {
		return nil, nil
	}
	var objs []schema.Object
	for _, c := range d.Catalog {
		rows, err := q.QueryContext(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("read the schema: %w", err)
		}
		for rows.Next() {
			var kind, table, name, detail sql.NullString
			if err := rows.Scan(&kind, &table, &name, &detail); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read the schema: %w", err)
			}
			objs = append(objs, schema.Object{Kind: schema.Kind(kind.String), Table: table.String, Name: name.String, Detail: detail.String})
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("read the schema: %w", err)
		}
	}
	// A view's columns are the view's business (some catalogs list them with
	// the tables'): the view itself is listed.
	views := map[string]bool{}
	for _, o := range objs {
		if o.Kind == schema.View {
			views[o.Table] = true
		}
	}
	kept := objs[:0]
	for _, o := range objs {
		if o.Kind != schema.Column || !views[o.Table] {
			kept = append(kept, o)
		}
	}
	return schema.New(kept), nil
}

// QuoteIdent quotes name as an identifier of family f: `name` on MySQL/MariaDB,
// "name" elsewhere, the quote doubled inside.
func QuoteIdent(f Family, name string) string {
	if f == MySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
