// Package traffic is the contract between the rollout runner and what drives a
// release's queries: where an execution happens (Where) and what a release's
// traffic can do (Workload, and the optional Prober, Executor and Connector).
//
// Both sides import it and neither imports the other: package workload (queries
// read from files, run through a driver) and package command (a release's own
// program) implement the interfaces; package runner drives them through a
// rollout's windows. It does no I/O.
package traffic
