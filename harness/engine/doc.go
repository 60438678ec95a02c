// Package engine holds the contracts shared by every database backend: an engine
// [Spec] parsed once at the edge, a [Provider] that starts a [Server] for a spec, a
// server that hands out scratch [Database]s, and the per-family [Dialect] table that
// classifies driver errors into normalized [Class]es.
//
// Inputs: spec strings ("postgres", "postgres:16", "mysql:8.4", "mariadb:10.11").
// Outputs: typed values and interfaces that providers implement and that the runner,
// workloads and scenarios consume.
//
// It must not start anything itself, print, or reach the network: providers live in
// sub-packages (docker, local, dsn, auto). It imports the drivers only to read their
// typed errors. Differences between families are data in the dialect registry, not
// switches spread through the code.
package engine
