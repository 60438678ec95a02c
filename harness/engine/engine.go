package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Label is put on every container straddle starts, so `straddle engines prune` can
// find what a crashed run left behind. Its value is the run id.
const Label = "dev.straddle.run"

// DatabasePrefix starts the name of every scratch database straddle creates. The dsn
// provider refuses to drop any database whose name does not start with it.
const DatabasePrefix = "straddle_"

// ErrNoEngine means no provider can run the requested engine on this machine; the
// message names the fixes.
var ErrNoEngine = errors.New("no engine available")

// ErrNoImage means a container provider has no image for the requested engine:
// not present and not pullable (no registry reachable). A provider that can run
// the engine otherwise (installed binaries) may stand in.
var ErrNoImage = errors.New("no image available")

// Provider starts servers. Implementations: docker, local, dsn, auto.
type Provider interface {
	// Name is the provider's name as given to --provider ("docker", "local", "dsn").
	Name() string
	// Start starts (or connects to) a server for spec and waits until it accepts
	// connections. The caller must Stop the server.
	Start(ctx context.Context, spec Spec) (Server, error)
}

// Shared is the optional capability of a Provider whose servers belong to
// someone else (dsn: an existing server). straddle then changes nothing on them
// outside its own scratch databases: no plugin installed, no setting changed.
type Shared interface {
	SharedServers() bool
}

// OwnsServers reports whether p's servers are straddle's own (started for the
// run), so that server-wide changes such as installing a lock-view plugin are
// allowed. Probe with the Shared capability, never with the provider's name.
func OwnsServers(p Provider) bool {
	s, ok := p.(Shared)
	return !ok || !s.SharedServers()
}

// Server is a running database server. Safe for concurrent use.
type Server interface {
	// Spec is the spec the server was started for, with Version filled in when the
	// provider knows it.
	Spec() Spec
	// Version is the server's own version string, e.g. "15.18" or "10.11.14-MariaDB".
	Version() string
	// CreateDatabase creates a fresh, empty scratch database named
	// DatabasePrefix+random. The caller must Drop it.
	CreateDatabase(ctx context.Context) (Database, error)
	// Stop stops the server and removes everything the provider started for it
	// (container, process, temp dir). For dsn it drops leftover scratch databases
	// this server created and closes connections.
	Stop(ctx context.Context) error
}

// Database is one scratch database on a server. Safe for concurrent use.
type Database interface {
	// Name is the database name (DatabasePrefix + random).
	Name() string
	// Family is the database's family; Dialect(Family()) gives its dialect.
	Family() Family
	// ServerVersion is the version of the server the database lives on.
	ServerVersion() string
	// DSN is a connection URL for the database (postgres://… or mysql://…). It
	// carries a password: never print it, log it or put it in a report.
	DSN() string
	// Open returns a new connection pool to the database (pgx stdlib for postgres,
	// go-sql-driver/mysql for mysql). The caller closes it.
	Open(ctx context.Context) (*sql.DB, error)
	// Drop drops the database, closing what Open handed out is the caller's job.
	Drop(ctx context.Context) error
}

// Starter is the optional capability of a Provider to say whether it can run at all
// here (daemon reachable, binaries installed) without starting anything. Probe it with
// a type assertion; absent means "try Start".
type Starter interface {
	// Available returns nil when the provider can start spec's family here, or an
	// error saying what is missing and how to fix it.
	Available(ctx context.Context, spec Spec) error
}

// LeftoverLister is the optional capability of a Provider to list what it started
// that still exists (containers, processes, temp dirs, scratch databases). The
// conformance suite uses it to prove a stopped server leaves nothing behind.
type LeftoverLister interface {
	Leftovers(ctx context.Context) ([]string, error)
}

// RunLabels are the labels and names that tie resources to the run that made them,
// so a crashed run's leftovers can be told from a live run's.
const (
	// LabelPID holds the pid of the straddle process that started a container.
	LabelPID = "dev.straddle.pid"
	// TempPattern is the os.MkdirTemp pattern of every temp dir straddle makes.
	TempPattern = "straddle-*"
)

// Watcher is the optional capability of a Server to tell whether the server process
// or container it started has exited under the run (killed, crashed, shut down by
// someone else). Its orphans may still answer on open connections (a PostgreSQL
// backend outlives a SIGKILLed postmaster until it notices), so a run that saw no
// error still certifies nothing once Exited says so.
type Watcher interface {
	// Exited returns nil while the server runs (or after Stop), else an error
	// saying how it ended.
	Exited() error
}

// Binding is how a release's driver sends a statement's arguments, as the
// application's driver configuration would: it decides what a long-lived session
// holds across a schema change, so it is part of what is tested.
type Binding string

const (
	// BindPrepared prepares each statement on the server once per connection and
	// keeps it (pgx's statement cache; on MySQL/MariaDB a Go db.Prepare, or JDBC
	// with useServerPrepStmts and cachePrepStmts). The default.
	BindPrepared Binding = "prepared"
	// BindInterpolated puts the arguments into the statement text on the client
	// and sends it as a plain query (pgx's simple protocol; go-sql-driver/mysql's
	// interpolateParams, the default of Connector/J, PDO and Python's drivers).
	BindInterpolated Binding = "interpolated"
	// BindPrepareEach prepares, executes and drops a statement for every
	// execution (database/sql with go-sql-driver/mysql's defaults; pgx's
	// describe_exec mode on PostgreSQL).
	BindPrepareEach Binding = "prepare-each"
)

// Bindings lists the bindings, for usage messages.
var Bindings = []Binding{BindPrepared, BindInterpolated, BindPrepareEach}

// ParseBinding parses a binding name; "" is BindPrepared.
func ParseBinding(s string) (Binding, error) {
	if s == "" {
		return BindPrepared, nil
	}
	for _, b := range Bindings {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("unknown binding %q: want prepared, interpolated or prepare-each", s)
}

// BindingOpener is the optional capability of a Database to open a pool whose
// driver binds arguments as b (Database.Open's pool binds them as BindPrepared,
// or prepare-each where the driver caches no statements). Absent, only Open's
// binding is available: callers answer errors.ErrUnsupported.
type BindingOpener interface {
	OpenBinding(ctx context.Context, b Binding) (*sql.DB, error)
}
