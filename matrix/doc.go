// Package matrix is the one place where straddle multiplies runs: engines ×
// versions × inputs (scenario scripts or `straddle check` projects).
//
// Inputs: engine specs and inputs from command-line flags or from a small YAML
// matrix file (Load), then filters (--only, --skip) and a shard (--shard i/n).
// Outputs: the cells to run, each with a stable id that depends only on names
// ("scenario/rename_naive@postgres:15", "check/app@mariadb:10.11"), never on
// positions; a cost-balanced, deterministic split into shards; the GitHub Actions
// matrix for `fromJSON`; and Merge, which joins the JSON reports of a matrix's
// shards into the report of the whole matrix.
//
// It runs nothing: the CLI runs the cells. Apart from Load (which reads the matrix
// file) and Digest (which reads the inputs to identify them), it does no I/O.
package matrix
