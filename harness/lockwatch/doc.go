// Package lockwatch watches a migration step's locks while the releases' queries
// run: a Monitor polls the server's activity and lock views (the dialect's
// engine.LockMonitor queries) on a connection of its own and remembers, for each
// release's query (recognized by its traffic.Tag), what lock it waited for and who
// held it — the migration, another release's session, anyone else — and whom the
// holder waited for in turn. The stall sink turns an execution the step held up
// beyond the threshold into a stall event naming the step's statement (Progress),
// the lock and its holder; a step that only changes the catalog (InstantStep)
// stalls a query only through its lock queue.
//
// The rollout runner (package runner) opens the monitor, feeds Progress as it
// applies statements, and wraps its sink with StallSink. It reads only: it never
// changes the server beyond turning on better lock views where allowed.
package lockwatch
