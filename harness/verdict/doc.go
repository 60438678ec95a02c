// Package verdict decides, from what was observed during a rollout and the policy,
// which releases broke where and whether the upgrade is compatible
// (shared/DESIGN.md, "Policy" and "Verdict").
//
// Inputs: one [RunInput] per (scenario, engine): the rollout, the policy of that
// scenario, the observe.Snapshot of the run and, when the run could not complete, the
// environment error. Outputs: a [Result] whose JSON encoding is the report contract of
// shared/DESIGN.md ("Machine-readable contract"): fields are added, never renamed or
// removed.
//
// The rules, in one place:
//   - A cell is a (boundary, release). Its status is pass (executions, no failure),
//     fail (some failure) or skip (nothing executed: the policy does not run the
//     release there, the step was not applied, or no query applied to the engine).
//   - A failure is judged in the window where it happened: Policy.Requirement for
//     During and After; a Before failure (at the boundary, before its step) is judged
//     by the previous boundary's After requirement, since that is the schema it saw.
//   - A violation is a failure in a required window whose class is not transient.
//     Lock timeouts, statement timeouts and deadlocks (engine.Class.Transient) are
//     reported, never violations: they say the step is slow, not that a release broke.
//     Stalls are violations in required windows.
//   - A migration step that failed to apply is a violation of kind "migration".
//     Steps after it are "not-run".
//   - The verdict is "incompatible" when there is any violation, else "error" when a
//     run could not complete (an environment failure certifies nothing), else
//     "compatible".
//   - Phase rules (CheckRules, rules.go) are read from each boundary's schema diff
//     and its step's statements, then settled by the run: proven by a violation
//     there, refuted by queries that exercise the object and kept working, or not
//     exercised. They never change the verdict; a proven hit is a violation already.
//
// It is a pure function: no I/O, no clock, no driver. It does not import package
// engine, whose contracts hand out *sql.DB (database/sql is off limits for the pure
// stages, see harness/arch_test.go); the transient classes are restated here and a
// test keeps them in step with engine.Class.Transient.
package verdict
