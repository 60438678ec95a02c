// Package session runs one rollout of one scenario (or one `straddle check`) on one
// engine: a Session takes a server from the run's fleet, creates a scratch
// database, opens a long-lived pool per release, and applies the baseline, then
// each migration step in order on its migration connection, while the old and
// the new release's workloads run around every step — concurrently, during the
// step and after it (pass mode, or load mode's clients from package runner) —
// probing every state the releases meet, watching locks and stalls (package
// lockwatch), and recording every execution and every step outcome as
// observations, which it hands to the verdict as a verdict.RunInput.
//
// Scenario scripts and `straddle check` both go through it, so the two share one
// implementation of a rollout. Inputs: typed migration steps and workloads.
// Outputs: verdict.RunInput; its methods return an error only for environment
// failures (a connection lost, a context cancelled) or bad input. A step that
// fails to apply is a finding, recorded as a migration event, and ends the
// rollout there. It must not parse user input or render reports, and it drops the
// scratch database it made on Close, whatever happened.
package session
