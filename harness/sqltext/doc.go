// Package sqltext is straddle's one SQL lexer: the lexical rules of each family
// (which quotes escape with a backslash, which comments nest, where '#' starts a
// comment, dollar quoting) and the scanners built on them. Migrations use it to
// find where statements end (package migration), workloads to find placeholders,
// clauses and names in a query (package workload): both read SQL with the same
// rules, so a "$1" or ';' inside a string or comment means the same to both.
//
// It finds tokens only; it does not judge SQL — only the server can. It does no
// I/O.
package sqltext
