// Package workload reads a release's queries and executes them against a database
// while its schema is being migrated.
//
// Inputs: query files in the sqlc-compatible format of shared/DESIGN.md, from a
// file, a directory of *.sql files or git:REV:PATH (Load, Parse); sqlc-generated
// Go code (the query constants of *.sql.go files, pgx CopyFrom calls) and sqlc
// configs (sqlc.yaml/yml/json, versions 1 and 2), on disk or at a git revision
// (Load, sqlcsource.go); then a *sql.DB for one release on one database
// (NewRunner). ExpandStars rewrites star projections against a live schema, as
// sqlc does for the queries of a config (Query.Compiled). Outputs: typed Query values, and one
// observe.Event per execution (Runner.Pass): OK, Error with the server's code and
// normalized class, or Mismatch when a "-- expect:" check fails.
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
// (a plain sqlc file) gets arguments generated from the parameter types the server
// reports (postgres) or from the columns the placeholders are compared with
// (mysql, whose server reports none), refined by what the catalog says of those
// columns (constrain.go: foreign keys, CHECK IN lists and ranges, "col IS NULL OR",
// lengths); Runner.Generated says which, for reports.
//
// Parsing does no I/O beyond reading the files (and running git for git:REV:PATH);
// its errors are *plan.InputError values carrying file:line. The runner keeps using
// the long-lived pool it is given, like an application, so stale server-side
// prepared statements (PostgreSQL's 0A000) show up as they do in production.
//
// It must not decide verdicts, render reports or apply migrations, and it must not
// report an environment failure (a lost connection, a cancelled context) as a query
// failure: those are returned as errors, never recorded as events.
package workload
