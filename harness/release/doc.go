// Package release executes a release's queries (package workload) against a
// database while its schema is being migrated, as the release's application
// would: a Runner is one release on one database, driven by the rollout runner
// through the traffic contract (traffic.Workload, Prober, Executor, Connector).
//
// Inputs: a workload.Workload and a *sql.DB for one release on one database
// (NewRunner). Outputs: one observe.Event per execution (Runner.Pass, Execute,
// Probe): OK, Error with the server's code and normalized class, or Mismatch
// when a "-- expect:" check fails or a probe reads other columns or values than
// before. A query with placeholders and no "-- args:" line gets arguments
// generated from the parameter types the server reports (PostgreSQL) or from the
// columns the placeholders are compared with (MySQL), refined by the catalog's
// constraints (constrain.go); Runner.Generated says which. ExpandStars expands a
// sqlc-compiled query's stars against the database's own schema.
//
// The runner keeps using the long-lived pool it is given, like an application,
// so stale server-side prepared statements (PostgreSQL's 0A000) show up as they
// do in production; on MySQL/MariaDB, statements with arguments are prepared once
// per connection and kept (engine.BindPrepared), or sent interpolated as the
// release's driver would.
//
// It must not decide verdicts, render reports or apply migrations, and it must
// not report an environment failure (a lost connection, a cancelled context) as
// a query failure: those are returned as errors (ErrConnLost), never recorded as
// events.
package release
