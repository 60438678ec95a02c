// Package session runs one rollout of one scenario (or one `straddle check`) on one
// engine: it takes a server from the run's fleet, creates a scratch database, opens a
// long-lived pool per release, drives the runner step by step, and hands the
// recorded observations to the verdict as a verdict.RunInput.
//
// Scenario scripts and `straddle check` both go through it, so the two share one
// implementation of a rollout. Inputs: typed migration steps and workloads. Outputs:
// verdict.RunInput. It must not parse user input or render reports, and it drops the
// scratch database it made on Close, whatever happened.
package session
