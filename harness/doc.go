// Package harness is the straddle library. It holds no code of its own: each concept
// is a sub-package, and the imports point one way along the data flow
//
//	plan → engine → observe → migration → workload → runner → verdict/command → report/session
//
// (a package imports only packages to its left; command runs a project's own
// programs as runner workloads and migration steps). arch_test.go keeps it so.
package harness
