// Package workload reads a release's queries: what the release sends to the
// database, as typed Query values. Package release executes them.
//
// Inputs: query files in the sqlc-compatible format of shared/DESIGN.md, from a
// file, a directory of *.sql files or git:REV:PATH (Load, Parse); sqlc-generated
// Go code (the query constants of *.sql.go files, pgx CopyFrom calls) and sqlc
// configs (sqlc.yaml/yml/json, versions 1 and 2), on disk or at a git revision
// (Load, sqlcsource.go). ExpandStars rewrites star projections given a table's
// columns, as sqlc does for the queries of a config (Query.Compiled). Outputs:
// typed Query values in a Workload; Query.For renders one for a family.
//
// The format, line by line:
//
//	-- name: NAME [:one|:many|:exec|:execrows|…]   starts a query (sqlc's suffixes)
//	-- args: 1, 'user{{n}}', NULL, true, 1.5         one argument set; repeatable
//	-- engine: postgres|mysql                        only on that family (mariadb = mysql)
//	-- expect: rows=N | rows>=N | rows<=N | value=LITERAL | error=CLASS, …
//	SELECT … $1 …;                                  ends at ; at the end of a line
//
// Name lines may also be written "/* name: NAME :cmd */" or "# name: NAME :cmd",
// as sqlc reads them. Statements without a name line are schema (sqlc projects
// often point schema: and queries: at the same files) and are skipped.
// Directives go between "-- name:" and the SQL; other comments there are doc
// comments. {{n}} in an argument is a number unique to each execution in the run.
// rows counts the rows read (queries that return rows) or affected (the others);
// value compares the first column of the first row as text; error=CLASS makes that
// error class the expected outcome. Placeholders are $1…$N, or sqlc's forms — ?
// (in order), @name, sqlc.arg(name), sqlc.narg(name), sqlc.slice(name), numbered
// as sqlc numbers them (sqlc.go), with sqlc.embed(t) read as t.* — rewritten once,
// at parse time, to $1…$N; an argument for a sqlc.slice is a list "(1, 2, 3)" and
// the IN list gets that many placeholders. On MySQL $N become ? with the arguments
// reordered to match. A query with placeholders and no "-- args:"
// (a plain sqlc file) gets arguments generated at run time (package release) from the parameter types the server
// reports (postgres) or from the columns the placeholders are compared with
// (mysql, whose server reports none), refined by what the catalog says of those
// columns (foreign keys, CHECK IN lists and ranges, "col IS NULL OR",
// lengths); release.Runner.Generated says which, for reports.
//
// It does no I/O beyond reading the files (and running git for git:REV:PATH): no
// database (arch_test.go keeps it so). Its errors are *plan.InputError values
// carrying file:line.
package workload
