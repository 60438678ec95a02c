// Package plan is the vocabulary of a rollout and its pure logic: phases, releases,
// boundaries in rollout order, windows, the policy that says which release must
// work where (shared/DESIGN.md, "Policy"), and the IDs of the phase rules that
// migration files may except (-- straddle:allow RULE: REASON).
//
// Inputs: the ordered phases of a migration set and optional policy overrides.
// Outputs: the ordered boundaries and, for each (boundary, release, window), whether a
// failure there is a violation.
//
// It does no I/O and imports no driver; every later stage may import it.
package plan
