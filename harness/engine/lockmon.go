package engine

// LockMonitor is what a lock monitor queries while a migration step runs, to tell
// which session waits for a lock and who holds it: data per family, like the rest
// of the dialect. The queries only read the server's activity and lock views.
type LockMonitor struct {
	// SessionID returns the current connection's server-side id as an integer: the
	// backend pid, the thread id. It tells the migration connection apart.
	SessionID string
	// SessionNoun names such an id in reports: "pid 4242", "thread 12".
	SessionNoun string
	// KillQuery interrupts the statement another session runs (format string
	// taking its id). Where it is set, workloads run each statement without
	// handing the driver a cancellable context — go-sql-driver/mysql watches one
	// with a goroutine handoff per statement, a fifth of its CPU at load-mode
	// rates — and interrupt it with this statement when the run is cancelled. ""
	// where the driver cancels cheaply itself (pgx).
	KillQuery string
	// Activity lists the other sessions of the current database that run a
	// statement or hold a transaction open, one row each: id (integer), ms since
	// its transaction or statement began (float), whether it waits for a lock
	// (bool), what it waits for ("" when unknown), its current statement text. The
	// first query the server accepts is used.
	Activity []string
	// LockWaits list who blocks whom in the current database: waiter id, blocker
	// id, the lock waited for, and the relation it is on as OwnLocks names it (""
	// when unknown). Every query the server accepts is used on each poll; one it
	// rejects (a view it lacks or has turned off) is dropped.
	LockWaits []string
	// OwnLocks lists the relations the current session holds locks on, one name
	// per row. The runner runs it on the migration connection after each statement
	// of a step applied in a transaction, to tell which statement took the lock
	// traffic waited for. "" where DDL does not run in transactions.
	OwnLocks string
	// LockViews are statements that give the server better lock views (MariaDB's
	// metadata_lock_info plugin). Run once per server, failures ignored, and only
	// where straddle may change the server (never on a dsn server).
	LockViews []string
}

// The lock monitors of each family, as data: the dialect table (dialect.go)
// points at them.
var (
	postgresMonitor = LockMonitor{
		SessionID:   "SELECT pg_backend_pid()",
		SessionNoun: "pid",
		Activity: []string{`SELECT pid::bigint,
  COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - COALESCE(xact_start, query_start)) * 1000, 0)::float8,
  wait_event_type IS NOT DISTINCT FROM 'Lock', COALESCE(wait_event, ''), COALESCE(query, '')
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'`},
		// pg_blocking_pids names every blocker, including sessions queued ahead for
		// a conflicting lock; pg_locks says what the waiter asked for.
		LockWaits: []string{`SELECT a.pid::bigint, b.pid::bigint,
  COALESCE((SELECT l.mode || ' on ' || COALESCE(l.relation::regclass::text, l.locktype)
    FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1), ''),
  COALESCE((SELECT l.relation::regclass::text
    FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1), '')
FROM pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) AS b(pid)
WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'`},
		// User relations only (OIDs from FirstNormalObjectId on).
		OwnLocks: `SELECT DISTINCT relation::regclass::text FROM pg_locks
WHERE pid = pg_backend_pid() AND granted AND locktype = 'relation' AND relation >= 16384`,
	}
	mysqlMonitor = LockMonitor{
		SessionID:   "SELECT CONNECTION_ID()",
		SessionNoun: "thread",
		KillQuery:   "KILL QUERY %d",
		Activity: []string{
			// MariaDB: TIME_MS. The processlist STATE says "Waiting for table
			// metadata lock" whether or not any lock view is on.
			`SELECT ID, TIME_MS, COALESCE(STATE, '') LIKE 'Waiting for%lock%',
  CASE WHEN STATE LIKE 'Waiting for %' THEN SUBSTRING(STATE, 13) ELSE '' END, COALESCE(INFO, '')
FROM information_schema.PROCESSLIST
WHERE DB = DATABASE() AND ID <> CONNECTION_ID()
  AND (COMMAND <> 'Sleep' OR ID IN (SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX))`,
			// MySQL: TIME, in seconds.
			`SELECT ID, TIME * 1000, COALESCE(STATE, '') LIKE 'Waiting for%lock%',
  CASE WHEN STATE LIKE 'Waiting for %' THEN SUBSTRING(STATE, 13) ELSE '' END, COALESCE(INFO, '')
FROM information_schema.PROCESSLIST
WHERE DB = DATABASE() AND ID <> CONNECTION_ID()
  AND (COMMAND <> 'Sleep' OR ID IN (SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX))`,
		},
		LockWaits: []string{
			// InnoDB row locks (MariaDB; MySQL 5.7).
			`SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id, CONCAT('row lock on ', l.lock_table), ''
FROM information_schema.INNODB_LOCK_WAITS w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id`,
			// Metadata locks with MariaDB's metadata_lock_info plugin. It lists
			// granted locks only: whoever holds one on a table of the schema may be
			// in the way; the monitor prefers the migration, then the oldest session.
			`SELECT w.ID, h.THREAD_ID, CONCAT('metadata lock on ', h.TABLE_NAME), ''
FROM information_schema.PROCESSLIST w
JOIN information_schema.METADATA_LOCK_INFO h
  ON h.TABLE_SCHEMA = w.DB AND h.LOCK_TYPE = 'Table metadata lock' AND h.THREAD_ID <> w.ID
WHERE w.DB = DATABASE() AND w.STATE = 'Waiting for table metadata lock'`,
			// MySQL 8 with performance_schema on: row locks, then metadata locks.
			`SELECT r.PROCESSLIST_ID, b.PROCESSLIST_ID, CONCAT('row lock on ', l.OBJECT_NAME), ''
FROM performance_schema.data_lock_waits w
JOIN performance_schema.threads r ON r.THREAD_ID = w.REQUESTING_THREAD_ID
JOIN performance_schema.threads b ON b.THREAD_ID = w.BLOCKING_THREAD_ID
JOIN performance_schema.data_locks l ON l.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID`,
			`SELECT wt.PROCESSLIST_ID, ht.PROCESSLIST_ID, CONCAT('metadata lock on ', wl.OBJECT_NAME), ''
FROM performance_schema.metadata_locks wl
JOIN performance_schema.metadata_locks hl
  ON hl.OBJECT_SCHEMA = wl.OBJECT_SCHEMA AND hl.OBJECT_NAME = wl.OBJECT_NAME
  AND hl.LOCK_STATUS = 'GRANTED' AND hl.OWNER_THREAD_ID <> wl.OWNER_THREAD_ID
JOIN performance_schema.threads wt ON wt.THREAD_ID = wl.OWNER_THREAD_ID
JOIN performance_schema.threads ht ON ht.THREAD_ID = hl.OWNER_THREAD_ID
WHERE wl.LOCK_STATUS = 'PENDING' AND wl.OBJECT_SCHEMA = DATABASE()`,
		},
		LockViews: []string{"INSTALL SONAME 'metadata_lock_info'"},
	}
)
