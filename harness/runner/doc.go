// Package runner drives a release's traffic in load mode: Load settings (clients,
// rate, window length), Drive to run one workload that way for a while (benchmarks,
// `straddle bench`), and Traffic, the clients a rollout starts in a before window,
// moves into the step and stops. Each client deals the release's executions out
// among the clients (traffic.Executor), holds one connection of its own for as
// long as it runs (traffic.Connector), paces itself at the rate, and records into
// the window it is in, so that an execution in flight when a step begins counts in
// the step.
//
// The rollout itself — the migration connection, the phase machine, the windows
// around each step, the probes and the stalls — is package session's.
//
// It must not decide verdicts or render reports, and it does not parse inputs: it
// gets typed workloads.
package runner
