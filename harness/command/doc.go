// Package command runs a project's own programs against a scratch database: a
// release's test suite or binary as that release's workload at each boundary
// (Workload, a traffic.Workload), and a migration tool that applies each step
// instead of straddle (Apply, a migration.Step.Apply), for `straddle check
// --old-cmd/--new-cmd/--migrate-cmd`.
//
// Inputs: a shell command line (run with sh -c), the scratch engine.Database, and
// where the rollout is. The command's environment is the process's, plus
// DATABASE_URL and the family's client variables (PGHOST… on postgres,
// MYSQL_HOST… on mysql) pointing at the database in its current state, and
// STRADDLE_* variables saying where the rollout is. Outputs: one observe.Event per
// run of a release's command (OK, or Error with "exit status N" and the tail of
// its output), or a *migration.ApplyError for a migration command that failed.
//
// The exit status alone decides pass or fail. Output is kept only to explain a
// failure: the last OutputLimit bytes, with the database URL (which carries a
// password) redacted. A command is never cut short when a window ends: it runs to
// completion, and only cancellation of the run's context interrupts it (SIGINT to
// its process group, then SIGKILL after WaitDelay).
//
// It must not decide verdicts, render reports or parse the user's migration and
// query files.
package command
