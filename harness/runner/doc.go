// Package runner drives one rollout on one scratch database: it applies the baseline,
// then each migration step in order, and around every step runs the old and the new
// release's workloads — concurrently, during the step and after it — recording every
// execution and every step outcome as observations.
//
// Inputs: a Database, the ordered steps with their boundaries, one Workload per
// release, and a Sink. Output: events in the sink; Run returns an error only for
// environment failures (connection lost, context cancelled). A step that fails to
// apply is a finding, recorded as a migration event, and ends the rollout there.
//
// It must not decide verdicts or render reports, and it does not parse inputs: it
// gets typed steps and workloads.
package runner
