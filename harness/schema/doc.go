// Package schema is what a database's schema looks like at one state of a
// rollout, in one vocabulary for PostgreSQL and MySQL/MariaDB, and what a step
// changed in it.
//
// Inputs: the rows of the catalog queries each dialect lists
// (engine.Dialect.Catalog), four text columns each: kind, table, name, detail.
// Outputs: a Snapshot, and the Changes between two (Diff), in a stable order.
//
// It does no I/O: the runner reads the catalog; reports render the changes.
package schema
