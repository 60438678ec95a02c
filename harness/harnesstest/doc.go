// Package harnesstest runs straddle's front door (harness.Check) from go test:
// Check(t, cfg) fails the test with the text report unless the upgrade is
// compatible and writes the JSON report where `go test -json` readers find it;
// Fleet(t, p) is a fleet of servers stopped when the test and all its subtests
// are done.
//
// Cleanup is registered with t.Cleanup, never left to the caller's defer: a
// test's parallel subtests (testscript's scripts among them) run after the test
// function has returned, and a deferred Stop would pull their servers away or
// leak them. Both helpers skip the test under -short: they start database
// servers. This package must not be imported by the library itself.
package harnesstest
