// Package enginetest is the conformance suite every engine provider passes
// (STYLE item 5): [Run] starts a server, creates scratch databases, runs DDL and DML,
// checks that real server errors classify to the right normalized classes, checks
// that scratch databases are isolated and that dropping is idempotent, stops the
// server and proves nothing is left behind.
//
// Inputs: a *testing.T, an engine.Provider and an engine.Spec. Outputs: test
// failures; nothing else.
//
// It must not mock a database: every check runs against the real server the provider
// starts. It must not skip on its own: callers decide, before calling Run, whether the
// provider can run here (engine.Starter). Run assumes the provider has no other server
// running while it runs, so that an empty Leftovers list means this run cleaned up.
package enginetest
