// Package report renders a verdict.Result for people and machines: text for a
// terminal, JSON (the machine contract of shared/DESIGN.md), JUnit XML for CI test
// viewers, and Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY.
//
// Inputs: a *verdict.Result and Options. Outputs: bytes on an io.Writer, nothing
// else. Every renderer is deterministic: with Options.Timings false the measured
// durations (migration time, latencies, stall waits) are left out, so the output
// of a given Result can be compared with golden files.
//
// It must not decide anything (package verdict does), open files, read the
// environment, detect terminals (the CLI sets Options.Color) or import a database
// driver.
package report
