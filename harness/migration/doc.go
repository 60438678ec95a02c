// Package migration reads the new release's migrations directory into ordered,
// phased steps of SQL statements (shared/DESIGN.md, "Machine-readable contract").
//
// Inputs: a directory in one of the formats golang-migrate (VERSION_NAME.up.sql),
// goose (-- +goose Up/Down, StatementBegin/End, NO TRANSACTION), dbmate
// (-- migrate:up [transaction:false] / -- migrate:down), Flyway
// (V<version>__<description>.sql), Atlas (VERSION_NAME.sql with atlas.sum, checked
// as atlas migrate checks it; -- atlas:txmode none, -- atlas:delimiter, starting at
// the last -- atlas:checkpoint), sqitch (sqitch.plan and
// deploy/CHANGE.sql, reworked changes from deploy/CHANGE@TAG.sql), Liquibase
// formatted SQL (--liquibase formatted sql, one step per --changeset author:id;
// runInTransaction:false, dbms:, splitStatements:false, endDelimiter:) or plain
// ordered *.sql files, detected from the files unless forced; an optional
// --baseline VERSION. golang-migrate directories in ory/popx's style
// (VERSION_NAME.postgres.up.sql, .mysql., .cockroach., .sqlite3., .autocommit.)
// give each family its own file for a version, over the file for every database.
// Empty and comment-only migrations are no-op steps (no statements). Single files for
// scenario scripts go through [LoadFile].
//
// Outputs: a [Set] whose [Step]s are in apply order, each with its phase, its
// statements (SQL, file, line) and whether it must run outside a transaction;
// [Set.Refs] feeds plan.NewRollout.
//
// Phases, first match wins: a "-- straddle:phase P" line in the file's leading
// comment block (or right after the goose/dbmate up marker); the subdirectory
// baseline/, expand/, migrate/ or contract/; --baseline VERSION (that migration
// and those before it are baseline, later ones expand). A migration with none of
// these is expand, the conservative assumption: it is applied while the old
// release still runs, so the old release is required to keep working.
//
// With phase subdirectories steps are ordered by phase, then version, and a file
// at the top level must carry a header or fall under --baseline. Without them
// steps are in version order and their phases may not go backwards. Versions are
// compared as numbers per dotted component ("1.2" < "1.10", "0002" == "2"); plain
// files are ordered by natural name order ("2_x.sql" < "10_x.sql").
//
// Not supported, each an error naming the file: Flyway repeatable (R__) and
// baseline (B) migrations, goose Go migrations, subdirectories other than the four
// phase directories. Ignored: golang-migrate .down.sql, Flyway undo (U) files, the
// down sections of goose and dbmate files, goose ENVSUB (the text is sent as
// written).
//
// The statement splitter ([Split], [SplitFor]) is written here rather than
// borrowed: it must report where an unterminated quote, dollar quote, comment or
// block started (file:line), keep MySQL trigger bodies whole without DELIMITER,
// and leave "BEGIN;" alone as a statement of its own.
//
// Every error about the user's files is an *plan.InputError ("file:line: …")
// wrapping plan.ErrBadInput. The package only reads files: it opens no database
// and cannot tell valid SQL from invalid (the server does, when the runner applies
// a step). Its functions are safe for concurrent use.
package migration
