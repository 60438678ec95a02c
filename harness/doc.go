// Package harness is the straddle library. It holds no code of its own: each concept
// is a sub-package, and the imports point one way along the data flow
//
//	plan → engine → observe → migration → workload → runner → verdict → report/session
//
// (a package imports only packages to its left). arch_test.go keeps it so.
package harness
