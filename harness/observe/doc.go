// Package observe records what happened during a rollout as append-only events and
// folds them into per-cell aggregates: one cell per (engine, boundary, window,
// release, query), with counts, a latency histogram of fixed size, and the distinct
// failures seen there.
//
// Inputs: Events from the runner, migrations and workloads through the tiny Sink
// interface. Outputs: a deterministic Snapshot that the verdict and the reports read.
//
// It must not decide verdicts (package verdict does) nor render anything. Memory
// stays bounded however long a load runs: samples go into histograms, and only the
// first occurrence of each distinct failure is kept, with a count.
package observe
