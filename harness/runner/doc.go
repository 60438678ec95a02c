// Package runner drives one rollout on one scratch database: it applies the baseline,
// then each migration step in order, and around every step runs the old and the new
// release's workloads — concurrently, during the step and after it — recording every
// execution and every step outcome as observations.
//
// Inputs: a Database, the ordered steps with their boundaries, one
// traffic.Workload per release, and a Sink. Output: events in the sink; a
// Rollout's methods return an error only for environment failures (connection lost, context cancelled). A step that fails to
// apply is a finding, recorded as a migration event, and ends the rollout there.
//
// In load mode (Config.Load, load.go) each release runs with concurrent clients,
// continuously, through a before window, the step and an after window; Drive runs
// one workload that way for a while. While a step runs, a lock monitor
// (package lockwatch) polls the server's activity and lock views, and an execution the
// step held up beyond Config.MaxStall while waiting for the migration's lock is
// recorded as a stall (lockwatch.StallSink) naming the step's statement, the lock and its
// holder.
//
// It must not decide verdicts or render reports, and it does not parse inputs: it
// gets typed steps and workloads.
package runner
